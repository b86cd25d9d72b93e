//! Child processes: spawning, bounded runs, signals by PID, and reaping orphans.
//!
//! Daemons such as Heartbeat fork and let their launcher exit, so their real processes are
//! orphans.  On machines whose PID 1 does not reap (containers), orphans would stay zombies
//! forever, so the test process makes itself a *child subreaper*: orphans of everything it
//! started are re-parented to it and [`reap_orphans`] collects them.  To never steal the exit
//! status of a `std::process::Child` that some thread is still going to `wait` for, every spawn
//! goes through [`spawn`], which records the PID in a registry that the reaper skips.
//!
//! Processes are only ever signalled by PID (never by name).

use std::collections::BTreeSet;
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{mpsc, Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;

use crate::error::{Error, Result};

/// PIDs of `Child` handles that have not been waited for yet (the reaper leaves them alone).
static LIVE: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());
static SUBREAPER: Once = Once::new();

fn live() -> MutexGuard<'static, BTreeSet<u32>> {
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Marker argument that [`crate::Node::command`] puts before the node name and root.
pub(crate) const NODE_MARKER: &str = "hb-node";

/// Renders a command line for error messages; a command run inside a node is shown as
/// `[nodea] ARGS` instead of the long namespace/mount wrapper.
pub(crate) fn describe(cmd: &Command) -> String {
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if let Some(i) = args.iter().position(|a| a == NODE_MARKER) {
        if let Some(node) = args.get(i + 1) {
            let rest = args.get(i + 3..).unwrap_or_default().join(" ");
            return format!("[{node}] {rest}");
        }
    }
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in args {
        s.push(' ');
        s.push_str(&arg);
    }
    s
}

/// Describes how a process ended ("exit status 1", "killed by signal 9").
pub(crate) fn describe_status(status: &ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        (None, None) => "unknown status".to_string(),
    }
}

/// Spawns `cmd`, registering the child so that [`reap_orphans`] never reaps it.
/// Call [`forget`] once the child has been waited for.
pub(crate) fn spawn(cmd: &mut Command) -> Result<Child> {
    SUBREAPER.call_once(|| {
        // Best effort: without it orphans go to PID 1, which is still correct, only untidy.
        match nix::sys::prctl::set_child_subreaper(true) {
            // Like an init: collect exited orphans continuously, so that a dead daemon never
            // lingers as a zombie (`heartbeat -k` would wait for it forever).
            Ok(()) => {
                let _ = std::thread::Builder::new()
                    .name("hb-tests-reaper".into())
                    .spawn(|| loop {
                        reap_orphans();
                        std::thread::sleep(Duration::from_millis(50));
                    });
            }
            Err(e) => {
                eprintln!("hb-tests: cannot become child subreaper ({e}); orphans go to PID 1")
            }
        }
    });
    let mut registry = live();
    let child = cmd.spawn().map_err(|source| Error::Spawn {
        command: describe(cmd),
        source,
    })?;
    registry.insert(child.id());
    Ok(child)
}

/// Marks a spawned child as waited for.
pub(crate) fn forget(pid: u32) {
    live().remove(&pid);
}

/// Polls `child` until it exits or `timeout` expires (then it is killed). Returns its status,
/// or `None` if it had to be killed.
pub(crate) fn wait_bounded(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                forget(child.id());
                return Some(status);
            }
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            _ => {
                stop_child(child);
                return None;
            }
        }
    }
}

/// SIGKILLs a child we spawned (by its PID) and waits for it.
pub(crate) fn stop_child(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        let _ = child.kill();
    }
    let _ = child.wait();
    forget(child.id());
}

fn read_all_in_thread(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            let _ = tx.send(buf);
        });
    }
    rx
}

/// Runs `cmd` to completion with captured output, killing it after `timeout`.
///
/// If the command leaves a background process holding its stdout open, the output collected so
/// far is abandoned after a short grace period instead of blocking the test.
pub(crate) fn run_bounded(cmd: &mut Command, timeout: Duration) -> Result<Output> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn(cmd)?;
    let out_rx = read_all_in_thread(child.stdout.take());
    let err_rx = read_all_in_thread(child.stderr.take());
    let status = wait_bounded(&mut child, timeout).ok_or_else(|| Error::CommandTimeout {
        command: describe(cmd),
        timeout,
    })?;
    let grace = Duration::from_secs(2);
    Ok(Output {
        status,
        stdout: out_rx.recv_timeout(grace).unwrap_or_default(),
        stderr: err_rx.recv_timeout(grace).unwrap_or_default(),
    })
}

/// Like [`run_bounded`], but a non-zero exit is an error carrying stderr.
pub(crate) fn run_ok(cmd: &mut Command, timeout: Duration) -> Result<Output> {
    let out = run_bounded(cmd, timeout)?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(Error::CommandFailed {
            command: describe(cmd),
            status: describe_status(&out.status),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

/// Sends `signal` to `pid`; a process that is already gone is not an error.
pub(crate) fn signal(pid: u32, signal: Signal) {
    if let Ok(raw) = i32::try_from(pid) {
        let _ = kill(Pid::from_raw(raw), signal);
    }
}

/// Fields of `/proc/PID/stat` the harness needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProcStat {
    /// One-letter state (`R`, `S`, `Z`, ...).
    pub state: char,
    /// Parent PID.
    pub ppid: u32,
}

/// Reads `/proc/PID/stat`; `None` if the process is gone or the file is malformed.
pub(crate) fn proc_stat(pid: u32) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may itself contain spaces or ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some(ProcStat { state, ppid })
}

/// Every PID currently listed in `/proc`.
pub(crate) fn all_pids() -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// Live (non-zombie) processes whose network namespace has inode `netns_ino`.
pub(crate) fn pids_in_netns(netns_ino: u64) -> Vec<u32> {
    let want = format!("net:[{netns_ino}]");
    all_pids()
        .into_iter()
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/ns/net"))
                .map(|target| target.as_os_str() == want.as_str())
                .unwrap_or(false)
        })
        .filter(|pid| proc_stat(*pid).is_some_and(|s| s.state != 'Z'))
        .collect()
}

/// SIGKILLs every process of a network namespace, repeating (bounded) for processes forked
/// meanwhile. Returns the PIDs that survived.
pub(crate) fn kill_netns(netns_ino: u64) -> Vec<u32> {
    for _ in 0..20 {
        let pids = pids_in_netns(netns_ino);
        if pids.is_empty() {
            break;
        }
        for pid in pids {
            signal(pid, Signal::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(20));
        reap_orphans();
    }
    reap_orphans();
    pids_in_netns(netns_ino)
}

/// Reaps zombie children of this process that no `Child` handle owns (daemons re-parented to
/// us as subreaper).
pub(crate) fn reap_orphans() {
    let registry = live();
    let me = std::process::id();
    for pid in all_pids() {
        if registry.contains(&pid) {
            continue;
        }
        let Some(stat) = proc_stat(pid) else { continue };
        if stat.ppid == me && stat.state == 'Z' {
            if let Ok(raw) = i32::try_from(pid) {
                let _ = waitpid(Pid::from_raw(raw), Some(WaitPidFlag::WNOHANG));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_of_self_names_our_parent() {
        let stat = proc_stat(std::process::id()).expect("own /proc entry");
        assert_eq!(stat.ppid, std::os::unix::process::parent_id());
        assert_ne!(stat.state, 'Z');
    }

    #[test]
    fn run_bounded_kills_a_command_that_overruns() {
        let started = Instant::now();
        let err = run_bounded(Command::new("sleep").arg("5"), Duration::from_millis(200));
        assert!(matches!(err, Err(Error::CommandTimeout { .. })), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn run_ok_reports_stderr_of_a_failure() {
        let err = run_ok(
            Command::new("sh").args(["-c", "echo boom >&2; exit 3"]),
            Duration::from_secs(5),
        )
        .expect_err("exit 3 must fail");
        let text = err.to_string();
        assert!(
            text.contains("exit status 3") && text.contains("boom"),
            "{text}"
        );
    }
}
