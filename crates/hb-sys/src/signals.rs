//! Signals as events: block them and read them from a `signalfd`.
//!
//! Heartbeat's handlers only set flags that the main loop then acts upon
//! (docs/behaviour.md §1.10). With a signalfd the main loop gets the same effect
//! without handlers: the signals are blocked, so they stay pending, and the
//! fd becomes readable; register [`SignalFd`]'s raw fd with mio (`SourceFd`)
//! and call [`SignalFd::read_all`] when it is ready.
//!
//! The signal mask is per thread and inherited across `fork` and `exec`, so
//! children that need default signal behaviour call [`unblock_all`], and
//! [`crate::exec::spawn_script`] gives scripts an empty mask.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{self, SfdFlags};

use crate::SysError;

/// Upper bound of signals returned by one [`SignalFd::read_all`] call, so a
/// signal storm cannot starve the rest of the main loop.
const MAX_PER_READ: usize = 256;

/// A non-blocking, close-on-exec signalfd for a set of blocked signals.
#[derive(Debug)]
pub struct SignalFd {
    fd: signalfd::SignalFd,
    signals: Vec<Signal>,
}

impl SignalFd {
    /// Blocks `signals` in the calling thread and returns a signalfd that
    /// reports them. Call it in the main thread before any thread is started
    /// (threads inherit the mask of their creator).
    pub fn block(signals: &[Signal]) -> Result<SignalFd, SysError> {
        let mut set = SigSet::empty();
        for &s in signals {
            set.add(s);
        }
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
            .map_err(SysError::call("sigprocmask(SIG_BLOCK)"))?;
        let fd =
            signalfd::SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
                .map_err(SysError::call("signalfd"))?;
        Ok(SignalFd {
            fd,
            signals: signals.to_vec(),
        })
    }

    /// The signals this fd reports.
    pub fn signals(&self) -> &[Signal] {
        &self.signals
    }

    /// Reads every pending signal (at most 256 per call) without blocking,
    /// in arrival order. Standard signals coalesce: two SIGCHLDs that arrive
    /// before a read appear once, so SIGCHLD handling must reap in a loop.
    pub fn read_all(&self) -> Vec<Signal> {
        let mut out = Vec::new();
        while out.len() < MAX_PER_READ {
            match self.fd.read_signal() {
                Ok(Some(info)) => match i32::try_from(info.ssi_signo).map(Signal::try_from) {
                    Ok(Ok(sig)) => out.push(sig),
                    _ => log::warn!("signalfd reported unknown signal {}", info.ssi_signo),
                },
                Ok(None) => break,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => {
                    log::warn!("reading signalfd failed: {e}");
                    break;
                }
            }
        }
        out
    }
}

impl AsFd for SignalFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for SignalFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_fd().as_raw_fd()
    }
}

/// Unblocks every signal in the calling thread (for children and before
/// exec, so they do not inherit the master's blocked set).
pub fn unblock_all() -> Result<(), SysError> {
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
        .map_err(SysError::call("sigprocmask(SIG_SETMASK)"))
}

/// Sets `signals` to be ignored (heartbeat ignores SIGPIPE, SIGTTOU, SIGTTIN
/// and SIGINT, docs/behaviour.md §1.10).
pub fn ignore(signals: &[Signal]) -> Result<(), SysError> {
    set_disposition(signals, SigHandler::SigIgn)
}

/// Restores the default action of `signals` (e.g. SIGTERM in a respawned
/// client).
pub fn set_default(signals: &[Signal]) -> Result<(), SysError> {
    set_disposition(signals, SigHandler::SigDfl)
}

fn set_disposition(signals: &[Signal], handler: SigHandler) -> Result<(), SysError> {
    let action = SigAction::new(handler, SaFlags::empty(), SigSet::empty());
    for &s in signals {
        // SAFETY: SIG_IGN and SIG_DFL are not Rust functions, so installing
        // them cannot run code in signal context; that is the only hazard
        // `sigaction` is unsafe for.
        unsafe { sigaction(s, &action) }.map_err(SysError::call("sigaction"))?;
    }
    Ok(())
}

/// Every catchable signal back to its default action. A disposition of
/// `SIG_IGN` survives `exec` (handlers do not), so without this a script or
/// client started by the master would begin with SIGPIPE, SIGINT, SIGTTOU
/// and SIGTTIN ignored (docs/behaviour.md §1.10). Async-signal-safe: only
/// `sigaction` calls.
pub fn default_all() {
    // The kernel's `struct sigaction` (handler, flags, restorer, mask) all
    // zero: SIG_DFL, no flags, empty mask. The raw system call also reaches
    // the real-time signals glibc reserves for itself (32, 33), which its
    // `sigaction` refuses but which an ancestor may have left ignored.
    let dfl = [0u64; 4];
    for sig in 1..=64 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: rt_sigaction with a valid pointer to a zeroed kernel
        // sigaction (SIG_DFL installs no code to run in signal context), no
        // old-action pointer, and the kernel's sigset size (8 bytes).
        let _ = unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                dfl.as_ptr(),
                std::ptr::null_mut::<u64>(),
                8usize,
            )
        };
    }
}

/// Whether `sig` is blocked in the calling thread.
pub fn is_blocked(sig: Signal) -> Result<bool, SysError> {
    SigSet::thread_get_mask()
        .map(|m| m.contains(sig))
        .map_err(SysError::call("pthread_sigmask"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fork::fork_child;
    use crate::testutil::{wait_code, FORK_LOCK};
    use nix::sys::signal::raise;

    fn sig_ign_mask() -> String {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("SigIgn:\t"))
            .unwrap_or("?")
            .to_string()
    }

    #[test]
    fn default_all_clears_every_ignored_signal() {
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let pid = fork_child(|| {
            if ignore(&[Signal::SIGPIPE, Signal::SIGINT]).is_err()
                || sig_ign_mask() == "0000000000000000"
            {
                return 10;
            }
            default_all();
            if sig_ign_mask() != "0000000000000000" {
                return 11;
            }
            0
        })
        .expect("fork");
        assert_eq!(wait_code(pid), 0);
    }

    #[test]
    fn blocked_signals_arrive_through_the_fd() {
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let pid = fork_child(|| {
            let Ok(sfd) = SignalFd::block(&[Signal::SIGUSR1, Signal::SIGHUP]) else {
                return 10;
            };
            if sfd.read_all() != Vec::<Signal>::new() {
                return 11;
            }
            // Blocked: raising must not kill us (default action of both is
            // to terminate).
            if raise(Signal::SIGUSR1).is_err() || raise(Signal::SIGHUP).is_err() {
                return 12;
            }
            let mut got = sfd.read_all();
            got.sort_by_key(|s| *s as i32);
            if got != [Signal::SIGHUP, Signal::SIGUSR1] {
                return 13;
            }
            if sfd.read_all() != Vec::<Signal>::new() {
                return 14;
            }
            if !matches!(is_blocked(Signal::SIGUSR1), Ok(true)) {
                return 15;
            }
            if unblock_all().is_err() || !matches!(is_blocked(Signal::SIGUSR1), Ok(false)) {
                return 16;
            }
            0
        })
        .expect("fork");
        assert_eq!(wait_code(pid), 0);
    }

    #[test]
    fn ignore_and_default() {
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let pid = fork_child(|| {
            if ignore(&[Signal::SIGUSR2]).is_err() || raise(Signal::SIGUSR2).is_err() {
                return 10;
            }
            // Still alive: ignored. Now the default action must kill us.
            if set_default(&[Signal::SIGUSR2]).is_err() {
                return 11;
            }
            let _ = raise(Signal::SIGUSR2);
            12
        })
        .expect("fork");
        assert_eq!(wait_code(pid), 128 + Signal::SIGUSR2 as i32);
    }
}
