//! Process file descriptors (`pidfd_open`, `pidfd_send_signal`, Linux ≥ 5.3):
//! a handle on one process that never refers to another one, even after the
//! pid is reused. Used to deliver an API client's `setsignal` signal only to
//! the process that connected (docs/reliability.md, hardening).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::signal::Signal;

use crate::SysError;

/// An open handle on one process.
#[derive(Debug)]
pub struct PidFd {
    fd: OwnedFd,
    pid: i32,
}

impl PidFd {
    /// A handle on the process `pid` as it is now.
    pub fn open(pid: i32) -> Result<PidFd, SysError> {
        // nix has no pidfd wrappers.
        // SAFETY: pidfd_open takes a pid and a flags word and returns a new
        // descriptor or -1; no memory is passed.
        let r = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if r < 0 {
            return Err(SysError::Call {
                call: "pidfd_open",
                source: Errno::last(),
            });
        }
        let raw = i32::try_from(r).map_err(|_| SysError::Call {
            call: "pidfd_open",
            source: Errno::EBADF,
        })?;
        // SAFETY: `raw` is a descriptor the kernel just returned to us and
        // nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(PidFd { fd, pid })
    }

    /// The pid the handle was opened for.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Sends `sig` to that process; `ESRCH` once it has exited, whatever
    /// process now has its pid.
    pub fn send_signal(&self, sig: Signal) -> Result<(), SysError> {
        // SAFETY: pidfd_send_signal with a valid descriptor, a signal number,
        // a null siginfo (the kernel fills in a SI_USER one) and flags 0.
        let r = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.fd.as_raw_fd(),
                sig as libc::c_int,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        if r < 0 {
            Err(SysError::Call {
                call: "pidfd_send_signal",
                source: Errno::last(),
            })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_reach_the_process_and_never_a_successor() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let pid = i32::try_from(child.id()).expect("pid");
        let fd = PidFd::open(pid).expect("pidfd_open");
        assert_eq!(fd.pid(), pid);
        fd.send_signal(Signal::SIGTERM).expect("signal");
        let st = child.wait().expect("wait");
        assert!(!st.success());
        // Reaped: the handle now refers to nothing, not to a pid successor.
        let err = fd.send_signal(Signal::SIGTERM).unwrap_err();
        assert!(err.to_string().contains("ESRCH"), "{err}");
    }
}
