//! Forking the daemon's children, and the first steps every child takes.
//!
//! Heartbeat's master control process forks its FIFO reader, one write and
//! one read child per medium, short-lived helpers and respawned clients
//! (docs/behaviour.md §1.1–§1.2). In Rust, running our own code in a forked child is
//! only sound if the parent had a single thread when it forked: another
//! thread could have held a lock (allocator, stdio, logger) that the child
//! would then wait on forever. The daemon therefore never starts threads, and
//! [`fork_child`] documents that requirement instead of trying to enforce it.
//!
//! The child checklist of docs/style.md §3 is covered by [`set_parent_death_signal`]
//! (so a child does not outlive a killed master) and [`close_fds_except`]
//! (so a child holds only the descriptors of its own role).

use std::os::fd::RawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};

use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::unistd::{fork, getppid, ForkResult, Pid};

use crate::SysError;

/// Exit status of a child whose body panicked (BSD `EX_SOFTWARE`).
pub const EXIT_PANIC: i32 = 70;

/// Forks; the child runs `f` and leaves with `_exit(f())`, the parent gets the
/// child's pid.
///
/// The child never returns into the caller's code and never runs `atexit`
/// handlers or destructors of the parent's objects; a panic in `f` ends the
/// child with [`EXIT_PANIC`].
///
/// **The calling process must be single-threaded.** After `fork` only the
/// calling thread exists in the child; if any other thread held a lock at that
/// moment, `f` may deadlock on it. The heartbeat processes that fork never
/// start threads. (Tests that fork serialise on a lock for the same reason.)
pub fn fork_child(f: impl FnOnce() -> i32) -> Result<Pid, SysError> {
    // SAFETY: the caller guarantees the process is single-threaded (documented
    // above), so the child may run arbitrary code; the child never returns
    // from this function, it ends in `_exit`.
    match unsafe { fork() }.map_err(SysError::call("fork"))? {
        ForkResult::Parent { child } => Ok(child),
        ForkResult::Child => {
            let code = catch_unwind(AssertUnwindSafe(f)).unwrap_or(EXIT_PANIC);
            exit_now(code)
        }
    }
}

/// Ends the calling process at once with `code`, without running `atexit`
/// handlers or flushing stdio buffers: the right exit for a forked child,
/// whose buffers and handlers belong to its parent.
pub fn exit_now(code: i32) -> ! {
    // nix has no `_exit` wrapper, so libc is called directly.
    // SAFETY: `_exit` takes a plain integer and never returns; skipping
    // destructors is the intended effect.
    unsafe { libc::_exit(code) }
}

/// Asks the kernel to send `sig` to the calling process when its parent dies
/// (`PR_SET_PDEATHSIG`), and checks the parent is still `expected_parent`.
///
/// The check closes the race where the parent died between `fork` and this
/// call: then the signal would never come, and `Err(ESRCH)` is returned so
/// the child can exit instead. Pass `None` to skip the check.
pub fn set_parent_death_signal(sig: Signal, expected_parent: Option<Pid>) -> Result<(), SysError> {
    nix::sys::prctl::set_pdeathsig(sig).map_err(SysError::call("prctl(PR_SET_PDEATHSIG)"))?;
    match expected_parent {
        Some(parent) if getppid() != parent => Err(SysError::Call {
            call: "getppid (parent already exited)",
            source: Errno::ESRCH,
        }),
        _ => Ok(()),
    }
}

/// Closes every open descriptor numbered 3 or above that is not in `keep`.
///
/// Standard input, output and error (0, 1, 2) are left alone; redirect them
/// explicitly (see [`crate::exec`]). Meant for a freshly forked child: any
/// `File`/`OwnedFd` the child still owns for a closed descriptor becomes
/// stale, so the child should exec or `_exit` rather than drop such objects.
///
/// Open descriptors are listed from `/proc/self/fd`; if that is unreadable,
/// every number below the `RLIMIT_NOFILE` soft limit (at most 65536) is tried.
pub fn close_fds_except(keep: &[RawFd]) {
    for fd in open_fds() {
        if fd > 2 && !keep.contains(&fd) {
            // EBADF (e.g. the directory handle used for listing) is harmless.
            let _ = nix::unistd::close(fd);
        }
    }
}

/// The descriptors open in this process (best effort, see [`close_fds_except`]).
fn open_fds() -> Vec<RawFd> {
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        let fds: Vec<RawFd> = dir
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
            .collect();
        if !fds.is_empty() {
            return fds;
        }
    }
    let limit = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map(|(soft, _)| soft.min(65536))
        .unwrap_or(1024);
    (0..RawFd::try_from(limit).unwrap_or(1024)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{wait_code, FORK_LOCK};
    use nix::unistd::getpid;
    use std::os::fd::AsRawFd;

    #[test]
    fn child_exit_code_reaches_parent() {
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let pid = fork_child(|| 42).expect("fork");
        assert_eq!(wait_code(pid), 42);
    }

    #[test]
    fn child_panic_exits_with_ex_software() {
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let pid = fork_child(|| panic!("boom in child")).expect("fork");
        assert_eq!(wait_code(pid), EXIT_PANIC);
    }

    #[test]
    fn parent_death_signal_reaches_grandchild() {
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        // The middle process forks a grandchild that sets PDEATHSIG=SIGTERM,
        // writes "k" into a pipe and sleeps 10 s; the middle exits at once.
        // The grandchild must then die of SIGTERM: EOF on the pipe (every
        // write end closed) well before 10 s proves it.
        let (r, w) = crate::testutil::pipe().expect("pipe");
        let middle = fork_child(move || {
            let me = getpid();
            let Ok((ready_r, ready_w)) = crate::testutil::pipe() else {
                return 2;
            };
            let grandchild = fork_child(move || {
                if set_parent_death_signal(Signal::SIGTERM, Some(me)).is_err() {
                    return 3;
                }
                let _ = nix::unistd::write(&w, b"k");
                let _ = nix::unistd::write(&ready_w, b"r");
                std::thread::sleep(std::time::Duration::from_secs(10));
                4
            });
            // Exit only once the grandchild is armed.
            let mut b = [0u8; 1];
            let _ = nix::unistd::read(ready_r.as_raw_fd(), &mut b);
            i32::from(grandchild.is_err())
        })
        .expect("fork");
        assert_eq!(wait_code(middle), 0);
        let start = std::time::Instant::now();
        let mut got = Vec::new();
        let mut buf = [0u8; 8];
        loop {
            let n = nix::unistd::read(r.as_raw_fd(), &mut buf).expect("read");
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"k");
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn close_fds_except_keeps_only_listed() {
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let a = std::fs::File::open("/dev/null").expect("open");
        let b = std::fs::File::open("/dev/null").expect("open");
        let (af, bf) = (a.as_raw_fd(), b.as_raw_fd());
        let pid = fork_child(move || {
            use nix::fcntl::{fcntl, FcntlArg};
            close_fds_except(&[bf]);
            std::mem::forget(a);
            std::mem::forget(b);
            // Probe before opening anything (a new fd would reuse af's number).
            if fcntl(bf, FcntlArg::F_GETFD).is_err() {
                return 1;
            }
            if fcntl(af, FcntlArg::F_GETFD) != Err(Errno::EBADF) {
                return 2;
            }
            // Nothing else above 2 survives: the listing shows bf and the
            // listing's own handle only.
            if open_fds().iter().filter(|&&f| f > 2).count() != 2 {
                return 3;
            }
            0
        })
        .expect("fork");
        assert_eq!(wait_code(pid), 0);
    }
}
