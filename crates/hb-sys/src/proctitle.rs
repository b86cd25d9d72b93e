//! Process titles as `ps` shows them: `heartbeat: master control process`,
//! `heartbeat: FIFO reader`, `heartbeat: write: ucast eth1`, …
//!
//! `ps -o args` and `/proc/PID/cmdline` show the memory that held the
//! program's argument strings, so heartbeat (through cluster-glue's
//! `set_proc_title`) writes each title over that memory and zero-fills the
//! rest. The argument strings are followed in memory by the environment
//! strings, and titles may run on into that area, so the environment is first
//! copied elsewhere (docs/behaviour.md §1.1). `prctl(PR_SET_NAME)` is deliberately
//! *not* used: it changes `/proc/PID/comm`, which must stay `heartbeat`
//! because `ResourceManager` falls back to killing every process whose comm is `heartbeat`, matching on
//! comm. Writing the argument area leaves comm untouched.
//!
//! How the area is found: the kernel publishes its bounds in
//! `/proc/self/stat` (fields `arg_start`, `arg_end`, `env_start`, `env_end`),
//! so no pointer needs to be captured before `main`. [`init`] reads them and
//! moves the environment to the heap (`clearenv` + `setenv` of copies), after
//! which [`std::env`] keeps working; [`set`] writes titles.
//!
//! Caveat: the standard library reads the *original* argument memory each
//! time [`std::env::args`] is called, so collect the arguments before the
//! first [`set`]. [`init`] and [`set`] must run while the process is
//! single-threaded (they rewrite the environment and shared memory).

use std::sync::{Mutex, OnceLock};

use nix::errno::Errno;

use crate::SysError;

/// The argument (+ environment) string area of this process.
#[derive(Debug, Clone, Copy)]
struct Area {
    start: usize,
    len: usize,
}

static AREA: OnceLock<Area> = OnceLock::new();
static WRITE_LOCK: Mutex<()> = Mutex::new(());

/// Bounds parsed from `/proc/self/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bounds {
    arg_start: usize,
    arg_end: usize,
    env_start: usize,
    env_end: usize,
}

/// Parses fields 48–51 of a `/proc/PID/stat` line (see proc(5)). The command
/// name (field 2) may contain spaces and parentheses, so counting starts after
/// the last `)`.
fn parse_stat(stat: &str) -> Option<Bounds> {
    let tail = &stat[stat.rfind(')')? + 1..];
    // Field 3 (state) is the first token of the tail: field N is index N - 3.
    let fields: Vec<&str> = tail.split_whitespace().collect();
    let get = |n: usize| fields.get(n - 3)?.parse::<usize>().ok();
    Some(Bounds {
        arg_start: get(48)?,
        arg_end: get(49)?,
        env_start: get(50)?,
        env_end: get(51)?,
    })
}

/// The writable area for titles: the argument strings, plus the environment
/// strings when they follow directly (as the kernel lays them out at exec).
fn area_of(b: Bounds) -> Option<Area> {
    if b.arg_start == 0 || b.arg_end <= b.arg_start {
        return None;
    }
    let end = if b.env_start == b.arg_end && b.env_end > b.env_start {
        b.env_end
    } else {
        b.arg_end
    };
    Some(Area {
        start: b.arg_start,
        len: end - b.arg_start,
    })
}

/// Prepares titles: finds the argument area and moves the environment out of
/// it. Call once, early in `main`, while single-threaded. Calling it again is
/// a no-op.
///
/// On error nothing has changed and [`set`] stays a no-op; the caller may log
/// and carry on (titles are cosmetic).
pub fn init() -> Result<(), SysError> {
    if AREA.get().is_some() {
        return Ok(());
    }
    let path = std::path::Path::new("/proc/self/stat");
    let stat = std::fs::read_to_string(path).map_err(SysError::path_io("read", path))?;
    let area = parse_stat(&stat)
        .and_then(area_of)
        .ok_or(SysError::InvalidArgument {
            what: "/proc/self/stat",
            reason: "no usable arg_start/arg_end/env_start/env_end fields".into(),
        })?;
    move_environment()?;
    // Cannot fail: checked `get()` above and callers are single-threaded.
    let _ = AREA.set(area);
    Ok(())
}

/// Replaces every environment string with a heap copy, so that nothing
/// points into the area titles will overwrite.
fn move_environment() -> Result<(), SysError> {
    let vars: Vec<_> = std::env::vars_os().collect();
    // SAFETY: `clearenv` is unsafe only because other threads might read the
    // environment concurrently; `init` is documented to run single-threaded.
    unsafe { nix::env::clearenv() }.map_err(|_| SysError::Call {
        call: "clearenv",
        source: Errno::EINVAL,
    })?;
    for (k, v) in vars {
        // `set_var` panics on names that are empty or contain `=`/NUL; such
        // odd entries cannot be set again and are dropped.
        let kb = k.as_encoded_bytes();
        if kb.is_empty() || kb.contains(&b'=') || kb.contains(&0) {
            continue;
        }
        std::env::set_var(&k, &v);
    }
    Ok(())
}

/// Longest title [`set`] writes in full (area length − 2, as cluster-glue
/// does), or `None` before a successful [`init`].
pub fn max_len() -> Option<usize> {
    AREA.get().map(|a| a.len.saturating_sub(2))
}

/// Sets the title shown by `ps -o args` and `/proc/PID/cmdline`.
///
/// The title is truncated to [`max_len`] bytes and the rest of the area is
/// zero-filled. Does nothing if [`init`] has not succeeded.
pub fn set(title: &str) {
    let Some(area) = AREA.get().copied() else {
        log::debug!("process title not initialised; not setting {title:?}");
        return;
    };
    let _guard = WRITE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let n = title.len().min(area.len.saturating_sub(2));
    let base = area.start as *mut u8;
    // SAFETY: [start, start+len) is this process's argument/environment string
    // area as reported by the kernel; it is mapped and writable (it lies on
    // the initial stack), nothing in Rust holds a reference into it, and
    // `init` moved the environment out of it. `n <= len`, the title is a
    // separate allocation, and WRITE_LOCK serialises writers.
    unsafe { std::ptr::copy_nonoverlapping(title.as_ptr(), base, n) };
    // SAFETY: same area; `n + (len - n) == len` keeps the write inside it.
    unsafe { std::ptr::write_bytes(base.wrapping_add(n), 0, area.len - n) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fork::fork_child;
    use crate::testutil::{wait_code, FORK_LOCK};
    use std::os::fd::AsRawFd;

    #[test]
    fn parse_stat_handles_odd_comm() {
        // 52 fields; comm with spaces and a ')' inside.
        let mut s = String::from("123 (a) b) c) S");
        for n in 4..=52 {
            s.push_str(&format!(" {}", n * 1000));
        }
        let b = parse_stat(&s).expect("parse");
        assert_eq!(
            b,
            Bounds {
                arg_start: 48000,
                arg_end: 49000,
                env_start: 50000,
                env_end: 51000
            }
        );
        assert!(parse_stat("1 (x) S 2 3").is_none());
    }

    #[test]
    fn area_joins_env_only_when_contiguous() {
        let b = Bounds {
            arg_start: 100,
            arg_end: 120,
            env_start: 120,
            env_end: 200,
        };
        assert_eq!(area_of(b).map(|a| (a.start, a.len)), Some((100, 100)));
        let gap = Bounds {
            env_start: 130,
            ..b
        };
        assert_eq!(area_of(gap).map(|a| a.len), Some(20));
        let bad = Bounds { arg_end: 90, ..b };
        assert!(area_of(bad).is_none());
    }

    fn read(path: &str) -> Vec<u8> {
        std::fs::read(path).unwrap_or_default()
    }

    fn trim_nuls(mut v: Vec<u8>) -> Vec<u8> {
        while v.last() == Some(&0) {
            v.pop();
        }
        v
    }

    /// Child sets a title; the parent checks /proc/CHILD/cmdline and comm the
    /// way `ps` reads them; the child checks its own environment.
    #[test]
    fn title_shows_in_cmdline_comm_unchanged_env_kept() {
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let title = "heartbeat: master control process";
        // The forked child is a copy of *this thread*, whose comm (the test
        // harness names its threads) is what the child starts with.
        let comm_before = read("/proc/thread-self/comm");
        let path_before = std::env::var_os("PATH");
        let (ready_r, ready_w) = crate::testutil::pipe().expect("pipe");
        let (done_r, done_w) = crate::testutil::pipe().expect("pipe");
        let done_w_fd = done_w.as_raw_fd();
        let pid = fork_child(move || {
            // Close the child's copy of the write end so EOF can arrive.
            let _ = nix::unistd::close(done_w_fd);
            if init().is_err() {
                return 10;
            }
            set(title);
            let _ = nix::unistd::write(&ready_w, b"r");
            let mut b = [0u8; 1];
            let _ = nix::unistd::read(done_r.as_raw_fd(), &mut b);
            if std::env::var_os("PATH") != path_before {
                return 11;
            }
            std::env::set_var("HB_SYS_TEST", "after");
            if std::env::var("HB_SYS_TEST").ok().as_deref() != Some("after") {
                return 12;
            }
            0
        })
        .expect("fork");
        // (ready_w and done_r were moved into the closure, which the parent
        // has dropped, closing its copies.)
        let mut b = [0u8; 1];
        assert_eq!(nix::unistd::read(ready_r.as_raw_fd(), &mut b), Ok(1));
        let cmdline = read(&format!("/proc/{pid}/cmdline"));
        let comm = read(&format!("/proc/{pid}/comm"));
        drop(done_w);
        assert_eq!(wait_code(pid), 0);
        assert_eq!(trim_nuls(cmdline.clone()), title.as_bytes(), "{cmdline:?}");
        assert!(!comm.is_empty());
        assert_eq!(comm, comm_before);
    }

    #[test]
    fn long_title_truncated_and_short_title_leaves_no_residue() {
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let pid = fork_child(|| {
            if init().is_err() {
                return 10;
            }
            let Some(max) = max_len() else { return 11 };
            let long = "x".repeat(max + 100);
            set(&long);
            let c = trim_nuls(read("/proc/self/cmdline"));
            if c.len() != max || c.iter().any(|&b| b != b'x') {
                return 12;
            }
            set("heartbeat: FIFO reader");
            if trim_nuls(read("/proc/self/cmdline")) != b"heartbeat: FIFO reader" {
                return 13;
            }
            0
        })
        .expect("fork");
        assert_eq!(wait_code(pid), 0);
    }

    #[test]
    fn set_before_init_is_noop() {
        // The test process itself never calls init(), so this must not touch
        // its argument memory.
        let before = read("/proc/self/cmdline");
        assert!(AREA.get().is_none());
        assert_eq!(max_len(), None);
        set("heartbeat: should not appear");
        assert_eq!(read("/proc/self/cmdline"), before);
    }
}
