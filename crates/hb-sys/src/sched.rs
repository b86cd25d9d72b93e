//! Soft-realtime scheduling and memory locking (docs/behaviour.md §1.5).
//!
//! Heartbeat's core processes run `SCHED_RR` and lock themselves into memory
//! so that heartbeats keep flowing when the machine is under memory or CPU
//! pressure. Before locking, each grows its stack and heap by a fixed amount
//! (MCP 32 KB / `memreserve` KB, read/write children 16/64, FIFO reader 16/8)
//! and tells malloc never to return memory, so later allocations are served
//! from already locked pages.
//!
//! [`make_realtime`] performs the steps and reports each result in a
//! [`RealtimeOutcome`], leaving the logging (with heartbeat's exact wording,
//! available from [`RealtimeOutcome::messages`]) to the caller. Helpers and
//! respawned clients go back with [`make_normal`].
//!
//! nix has no wrappers for `sched_setscheduler`, `sched_get_priority_min/max`
//! or `mallopt`, so those are called through libc.

use std::hint::black_box;

use nix::errno::Errno;
use nix::sys::mman::{mlockall, munlockall, MlockAllFlags};
use nix::sys::resource::{getrlimit, setrlimit, Resource, RLIM_INFINITY};

use crate::error::strerror;
use crate::SysError;

/// What happened to the memory lock step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemLock {
    /// `mlockall(MCL_CURRENT|MCL_FUTURE)` succeeded.
    Locked,
    /// `RLIMIT_MEMLOCK` stayed finite and the requested growth is at least
    /// half of it, so locking was skipped.
    LimitTooSmall {
        /// The soft limit in bytes after trying to raise it.
        limit_bytes: u64,
        /// (stack + heap) growth in bytes.
        requested_bytes: u64,
    },
    /// `mlockall` failed.
    Failed(Errno),
}

/// Result of [`make_realtime`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RealtimeOutcome {
    /// The `SCHED_RR` priority used, after clamping.
    pub priority: i32,
    /// Result of `sched_setscheduler(SCHED_RR)`.
    pub scheduler: Result<(), Errno>,
    /// Result of the memory-lock step.
    pub memlock: MemLock,
}

impl RealtimeOutcome {
    /// The log lines heartbeat writes for this outcome, with its wording, for
    /// process `pid`.
    pub fn messages(&self, pid: i32) -> Vec<(log::Level, String)> {
        let mut out = Vec::new();
        if let Err(e) = self.scheduler {
            out.push((
                log::Level::Error,
                format!("Unable to set scheduler parameters.: {}", strerror(e)),
            ));
        }
        match self.memlock {
            MemLock::Locked => {
                out.push((log::Level::Debug, format!("pid {pid} locked in memory.")));
            }
            MemLock::LimitTooSmall { .. } => out.push((
                log::Level::Error,
                "Cannot lock ourselves into memory:  System limits on locked-in memory are too small."
                    .to_string(),
            )),
            MemLock::Failed(e) => out.push((
                if e == Errno::ENOSYS {
                    log::Level::Warn
                } else {
                    log::Level::Error
                },
                format!("Unable to lock pid {pid} in memory: {}", strerror(e)),
            )),
        }
        out
    }
}

/// Clamps a configured priority into `[min, max]`; values ≤ 0 mean `min`.
pub fn clamp_priority(prio: i32, min: i32, max: i32) -> i32 {
    if prio <= 0 {
        min
    } else {
        prio.min(max)
    }
}

/// Grows stack and heap, switches to `SCHED_RR` at `prio` (clamped to the
/// valid range), raises `RLIMIT_MEMLOCK` and locks all memory unless the
/// limit is too small (see [`MemLock`]). Every step is attempted even when an
/// earlier one failed, as heartbeat does.
///
/// Call it only when realtime is enabled; when it is not (`realtime off`,
/// `-l`) heartbeat logs `Request to set pid N to realtime ignored.` instead.
pub fn make_realtime(prio: i32, stack_kb: usize, heap_kb: usize) -> RealtimeOutcome {
    grow_heap(heap_kb);
    grow_stack(stack_kb);

    // nix lacks sched_get_priority_min/max and sched_setscheduler.
    // SAFETY: plain integer argument, no memory is passed.
    let min = unsafe { libc::sched_get_priority_min(libc::SCHED_RR) };
    // SAFETY: as above.
    let max = unsafe { libc::sched_get_priority_max(libc::SCHED_RR) };
    let priority = clamp_priority(prio, min.max(1), max.max(1));
    let scheduler = set_scheduler(libc::SCHED_RR, priority);

    let requested_bytes = u64::try_from(stack_kb.saturating_add(heap_kb))
        .unwrap_or(u64::MAX)
        .saturating_mul(1024);
    let memlock = match raise_memlock_limit() {
        Some(limit) if requested_bytes >= limit / 2 => MemLock::LimitTooSmall {
            limit_bytes: limit,
            requested_bytes,
        },
        _ => match lock_all() {
            Ok(()) => MemLock::Locked,
            Err(e) => MemLock::Failed(e),
        },
    };
    RealtimeOutcome {
        priority,
        scheduler,
        memlock,
    }
}

/// Locks the process into memory: `mlockall(MCL_CURRENT|MCL_FUTURE|MCL_ONFAULT)`,
/// then the code and read-only data of our own executable (`mlock`, which
/// faults them in).
///
/// Every page the process uses stays in memory, as with heartbeat's plain
/// `MCL_CURRENT|MCL_FUTURE`, and all of our code is resident before it is
/// first needed (a failover path runs for the first time in a failover);
/// but the writable pages a forked child shares with its parent are not
/// copied just to be locked (they are locked as they are, and copied only
/// when written), and address space never touched costs nothing. That is
/// most of a child's memory. Shared libraries are locked page by page as
/// they are used: the C library's code is shared by every process of the
/// machine, and making all of it resident only for us would cost
/// more memory than all of our own code. Kernels before 4.4 (no
/// `MCL_ONFAULT`) get the plain call.
fn lock_all() -> Result<(), Errno> {
    // nix has no MCL_ONFAULT.
    // SAFETY: mlockall takes only flags; it changes no memory contents.
    let r = unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE | libc::MCL_ONFAULT) };
    match Errno::result(r) {
        Ok(_) => {
            prefault_code();
            Ok(())
        }
        Err(Errno::EINVAL) => mlockall(MlockAllFlags::MCL_CURRENT | MlockAllFlags::MCL_FUTURE),
        Err(e) => Err(e),
    }
}

/// Faults in and locks every readable, non-writable mapping of our
/// executable (code, read-only data) listed in `/proc/self/maps`. Failures
/// are ignored: those pages are then locked when first used.
fn prefault_code() {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return;
    };
    let Ok(exe) = std::fs::read_link("/proc/self/exe") else {
        return;
    };
    let exe = exe.to_string_lossy();
    for (start, len) in maps.lines().filter_map(|l| code_mapping(l, &exe)) {
        // SAFETY: the range is a mapping of this process (from
        // /proc/self/maps); mlock reads nothing through the pointer, it
        // only makes the pages resident and locked.
        let _ = unsafe { libc::mlock(start as *const libc::c_void, len) };
    }
}

/// `(start, length)` of a `/proc/self/maps` line that maps the file `exe`
/// readable and not writable.
fn code_mapping(line: &str, exe: &str) -> Option<(usize, usize)> {
    let mut f = line.splitn(6, char::is_whitespace);
    let (range, perms) = (f.next()?, f.next()?.as_bytes());
    // The path is the rest of the line after the inode, left-padded; it
    // may hold spaces, and " (deleted)" once the file was replaced.
    let path = f.nth(3)?.trim_start();
    let path = path.strip_suffix(" (deleted)").unwrap_or(path);
    if perms.first() != Some(&b'r') || perms.get(1) == Some(&b'w') || path != exe {
        return None;
    }
    let (a, b) = range.split_once('-')?;
    let start = usize::from_str_radix(a, 16).ok()?;
    let end = usize::from_str_radix(b, 16).ok()?;
    (end > start).then(|| (start, end - start))
}

/// Back to `SCHED_OTHER` and unlocked memory (helpers, respawned clients,
/// docs/behaviour.md §1.2). Unlocking cannot meaningfully fail; a scheduler error is
/// returned (heartbeat logs `unable to (re)set scheduler parameters.`).
pub fn make_normal() -> Result<(), SysError> {
    let _ = munlockall();
    set_scheduler(libc::SCHED_OTHER, 0).map_err(SysError::call("sched_setscheduler(SCHED_OTHER)"))
}

/// The calling process's scheduling policy (`libc::SCHED_*`).
pub fn current_policy() -> Result<i32, SysError> {
    // nix lacks sched_getscheduler.
    // SAFETY: pid 0 = the caller; no memory is passed.
    let p = unsafe { libc::sched_getscheduler(0) };
    Errno::result(p).map_err(SysError::call("sched_getscheduler"))
}

fn set_scheduler(policy: i32, priority: i32) -> Result<(), Errno> {
    let param = libc::sched_param {
        sched_priority: priority,
    };
    // SAFETY: `param` is a valid, initialised sched_param that outlives the
    // call; pid 0 means the calling process.
    let r = unsafe { libc::sched_setscheduler(0, policy, &param) };
    Errno::result(r).map(drop)
}

/// Tries to make `RLIMIT_MEMLOCK` unlimited, else raises the soft limit to
/// the hard one. Returns the resulting soft limit, `None` if unlimited (or
/// unreadable, in which case locking is simply attempted).
fn raise_memlock_limit() -> Option<u64> {
    if setrlimit(Resource::RLIMIT_MEMLOCK, RLIM_INFINITY, RLIM_INFINITY).is_err() {
        if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_MEMLOCK) {
            let _ = setrlimit(Resource::RLIMIT_MEMLOCK, hard, hard);
        }
    }
    match getrlimit(Resource::RLIMIT_MEMLOCK) {
        Ok((soft, _)) if soft != RLIM_INFINITY => Some(soft),
        _ => None,
    }
}

/// Grows the heap by `kb` KB in 1 KB chunks, with malloc told never to use
/// mmap for allocations nor to give freed memory back, so the pages stay in
/// the (soon locked) heap.
fn grow_heap(kb: usize) {
    if kb == 0 {
        return;
    }
    // nix lacks mallopt.
    // SAFETY: mallopt takes two integers and only changes malloc tunables.
    unsafe { libc::mallopt(libc::M_MMAP_MAX, 0) };
    // SAFETY: as above.
    unsafe { libc::mallopt(libc::M_TRIM_THRESHOLD, -1) };
    let mut chunks: Vec<Vec<u8>> = Vec::with_capacity(kb);
    for _ in 0..kb {
        let mut c = Vec::with_capacity(1024);
        c.resize(1024, 0xa5u8);
        chunks.push(black_box(c));
    }
    drop(black_box(chunks));
}

/// Touches `kb` KB of stack below the current frame.
fn grow_stack(kb: usize) {
    #[inline(never)]
    fn hog(kb: usize) -> u8 {
        let buf = black_box([kb as u8; 1024]);
        if kb == 0 {
            buf[1023]
        } else {
            hog(kb - 1).wrapping_add(black_box(buf[0]))
        }
    }
    black_box(hog(kb.min(1024)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fork::fork_child;
    use crate::testutil::{wait_code, FORK_LOCK};

    #[test]
    fn code_mappings_are_read_only_file_mappings() {
        let exe = "/usr/sbin/heart beat";
        let f = |l: &str| code_mapping(l, exe);
        assert_eq!(
            f("55d0c0a00000-55d0c0b00000 r-xp 00001000 fd:01 123                        /usr/sbin/heart beat"),
            Some((0x55d0c0a00000, 0x100000))
        );
        assert!(f("7f00-8f00 r--p 00000000 fd:01 123 /usr/sbin/heart beat (deleted)").is_some());
        assert_eq!(
            f("7f00-8f00 r-xp 00000000 fd:01 9 /usr/lib/libc.so.6"),
            None,
            "a shared library is locked as it is used"
        );
        assert_eq!(
            f("7f00-8f00 rw-p 00000000 fd:01 123 /usr/sbin/heart beat"),
            None
        );
        assert_eq!(
            f("7f00-8f00 ---p 00000000 fd:01 123 /usr/sbin/heart beat"),
            None
        );
        assert_eq!(f("7f00-8f00 rw-p 00000000 00:00 0 [heap]"), None);
        assert_eq!(f("7f00-8f00 r-xp 00000000 00:00 0 [vdso]"), None);
        assert_eq!(f("7f00-8f00 rw-p 00000000 00:00 0"), None, "anonymous");
    }

    #[test]
    fn priority_clamping() {
        assert_eq!(clamp_priority(0, 1, 99), 1);
        assert_eq!(clamp_priority(-5, 1, 99), 1);
        assert_eq!(clamp_priority(50, 1, 99), 50);
        assert_eq!(clamp_priority(500, 1, 99), 99);
    }

    fn vm_locked_kb() -> Option<u64> {
        let s = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = s.lines().find(|l| l.starts_with("VmLck:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    #[test]
    fn messages_use_heartbeat_wording() {
        let o = RealtimeOutcome {
            priority: 1,
            scheduler: Err(Errno::EPERM),
            memlock: MemLock::LimitTooSmall {
                limit_bytes: 65536,
                requested_bytes: 6532 * 1024,
            },
        };
        let m = o.messages(7);
        assert_eq!(
            m,
            vec![
                (
                    log::Level::Error,
                    "Unable to set scheduler parameters.: Operation not permitted".to_string()
                ),
                (
                    log::Level::Error,
                    "Cannot lock ourselves into memory:  System limits on locked-in memory are too small."
                        .to_string()
                ),
            ]
        );
        let f = RealtimeOutcome {
            priority: 1,
            scheduler: Ok(()),
            memlock: MemLock::Failed(Errno::ENOMEM),
        };
        assert_eq!(
            f.messages(42),
            vec![(
                log::Level::Error,
                "Unable to lock pid 42 in memory: Cannot allocate memory".to_string()
            )]
        );
    }

    /// As root: RR at the clamped priority, memory locked; then back to normal.
    #[test]
    fn realtime_then_normal_in_child() {
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let pid = fork_child(|| {
            let o = make_realtime(500, 16, 64);
            if o.priority != 99 {
                return 10;
            }
            if nix::unistd::geteuid().is_root() {
                if o.scheduler.is_err() {
                    return 11;
                }
                if current_policy().ok() != Some(libc::SCHED_RR) {
                    return 12;
                }
                if o.memlock != MemLock::Locked || vm_locked_kb().unwrap_or(0) == 0 {
                    return 13;
                }
            }
            if make_normal().is_err() {
                return 14;
            }
            if current_policy().ok() != Some(libc::SCHED_OTHER) || vm_locked_kb() != Some(0) {
                return 15;
            }
            0
        })
        .expect("fork");
        assert_eq!(wait_code(pid), 0);
    }

    /// As an unprivileged user with a 64 KB hard limit, a 40 KB growth is
    /// "too small" (≥ half the limit): no lock, and SCHED_RR is refused.
    #[test]
    fn small_memlock_limit_skips_locking() {
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        if !nix::unistd::geteuid().is_root() {
            return; // needs root to switch to nobody; CI runs as root
        }
        let pid = fork_child(|| {
            if setrlimit(Resource::RLIMIT_MEMLOCK, 65536, 65536).is_err() {
                return 10;
            }
            let nobody = nix::unistd::Uid::from_raw(65534);
            if nix::unistd::setgid(nix::unistd::Gid::from_raw(65534)).is_err()
                || nix::unistd::setuid(nobody).is_err()
            {
                return 11;
            }
            let o = make_realtime(1, 16, 24);
            if o.memlock
                != (MemLock::LimitTooSmall {
                    limit_bytes: 65536,
                    requested_bytes: 40 * 1024,
                })
            {
                return 12;
            }
            if o.scheduler.is_ok() || vm_locked_kb() != Some(0) {
                return 13;
            }
            0
        })
        .expect("fork");
        assert_eq!(wait_code(pid), 0);
    }
}
