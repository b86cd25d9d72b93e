//! Wording of process-exit log lines (cluster-glue proctrack, docs/behaviour.md §1.6):
//! `Managed HBREAD process 7800 killed by signal 9 [SIGKILL - Kill, unblockable].`

use nix::sys::wait::WaitStatus;

use crate::logging::Prio;

/// Name and description of a signal as heartbeat prints them.
pub fn signal_words(sig: i32) -> (&'static str, &'static str) {
    match sig {
        1 => ("SIGHUP", "Hangup"),
        2 => ("SIGINT", "Interrupt"),
        3 => ("SIGQUIT", "Quit"),
        4 => ("SIGILL", "Illegal instruction"),
        5 => ("SIGTRAP", "Trace trap"),
        6 => ("SIGABRT", "Abort"),
        7 => ("SIGBUS", "BUS error"),
        8 => ("SIGFPE", "Floating-point exception"),
        9 => ("SIGKILL", "Kill, unblockable"),
        10 => ("SIGUSR1", "User-defined signal 1"),
        11 => ("SIGSEGV", "Segmentation violation"),
        12 => ("SIGUSR2", "User-defined signal 2"),
        13 => ("SIGPIPE", "Broken pipe"),
        14 => ("SIGALRM", "Alarm clock"),
        15 => ("SIGTERM", "Termination"),
        _ => ("signal", "unknown"),
    }
}

/// The log line for a managed process that ended, or `None` for a status
/// that is not an exit (stop/continue).
pub fn describe(name: &str, status: WaitStatus) -> Option<(Prio, String)> {
    match status {
        WaitStatus::Exited(pid, code) => Some((
            if code == 0 { Prio::Info } else { Prio::Warn },
            format!("Managed {name} process {pid} exited with return code {code}."),
        )),
        WaitStatus::Signaled(pid, sig, core) => {
            let n = sig as i32;
            if core {
                Some((
                    Prio::Error,
                    format!("Managed {name} process {pid} dumped core"),
                ))
            } else {
                let (s, d) = signal_words(n);
                Some((
                    Prio::Warn,
                    format!("Managed {name} process {pid} killed by signal {n} [{s} - {d}]."),
                ))
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::signal::Signal;
    use nix::unistd::Pid;

    #[test]
    fn wording_matches_the_c_daemon() {
        let (p, t) = describe(
            "HBREAD",
            WaitStatus::Signaled(Pid::from_raw(7800), Signal::SIGKILL, false),
        )
        .unwrap();
        assert_eq!(p, Prio::Warn);
        assert_eq!(
            t,
            "Managed HBREAD process 7800 killed by signal 9 [SIGKILL - Kill, unblockable]."
        );
        let (p, t) = describe(
            "/usr/libexec/heartbeat/ipfail",
            WaitStatus::Exited(Pid::from_raw(5), 0),
        )
        .unwrap();
        assert_eq!(p, Prio::Info);
        assert_eq!(
            t,
            "Managed /usr/libexec/heartbeat/ipfail process 5 exited with return code 0."
        );
    }
}
