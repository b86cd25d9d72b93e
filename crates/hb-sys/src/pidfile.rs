//! The pid file `/run/heartbeat.pid` (docs/behaviour.md §1.11).
//!
//! Format (as the C daemon and cluster-glue write it): the pid right-aligned
//! in 10 characters plus `\n`, mode 0644. A pid file only counts as "running"
//! if the process is alive **and** runs the same executable as the caller
//! (`/proc/PID/exe`), so a stale file whose pid was reused by an unrelated
//! process is recognised. Creation is atomic: write `PATH.<mypid>` with
//! `O_EXCL`, hard-link it to `PATH`, unlink the temporary; a concurrent
//! starter loses the link race instead of overwriting a live daemon's file.
//!
//! One deliberate difference: when comparing executables the ` (deleted)`
//! suffix the kernel adds after a package upgrade is ignored, so `-k` still
//! finds a daemon whose binary was replaced on disk.

use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::{getpid, Pid};

/// What a pid file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PidStatus {
    /// A live process running our executable (LSB "running").
    Running(Pid),
    /// A pid that is dead or runs something else (LSB 1, "dead, pid file
    /// exists").
    Stale(Pid),
    /// No file, or empty/garbage content (LSB 3, "stopped").
    Absent,
}

/// Why [`create`] failed.
#[derive(Debug, thiserror::Error)]
pub enum PidFileError {
    /// Another instance is running (heartbeat: `already running [pid N]`).
    #[error("already running [pid {0}]")]
    AlreadyRunning(Pid),
    /// A file operation failed.
    #[error("could not create pidfile [{path}]: {op}: {source}")]
    Io {
        /// The file the operation was applied to.
        path: PathBuf,
        /// What was attempted.
        op: &'static str,
        /// The error.
        #[source]
        source: io::Error,
    },
}

/// The file content for `pid`: right-aligned in 10 characters plus `\n`.
pub fn format_pid(pid: Pid) -> String {
    format!("{:>10}\n", pid.as_raw())
}

/// Parses pid file content; `None` for empty or garbage content.
pub fn parse_pid(content: &str) -> Option<Pid> {
    match content.trim().parse::<i32>() {
        Ok(p) if p > 0 => Some(Pid::from_raw(p)),
        _ => None,
    }
}

/// Reads `path` and classifies it (see [`PidStatus`]).
pub fn read_status(path: &Path) -> PidStatus {
    let Some(pid) = fs::read(path)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| parse_pid(&s))
    else {
        return PidStatus::Absent;
    };
    if is_our_program(pid) {
        PidStatus::Running(pid)
    } else {
        PidStatus::Stale(pid)
    }
}

/// Whether `pid` is alive and runs the same executable as this process.
pub fn is_our_program(pid: Pid) -> bool {
    let alive = matches!(kill(pid, None), Ok(()) | Err(Errno::EPERM));
    if !alive {
        return false;
    }
    match (exe_of("self"), exe_of(&pid.to_string())) {
        (Some(ours), Some(theirs)) => ours == theirs,
        _ => false,
    }
}

/// `/proc/<who>/exe` without the ` (deleted)` suffix.
fn exe_of(who: &str) -> Option<OsString> {
    let target = fs::read_link(format!("/proc/{who}/exe")).ok()?;
    let bytes = target.as_os_str().as_encoded_bytes();
    let trimmed = bytes.strip_suffix(b" (deleted)").unwrap_or(bytes);
    Some(OsString::from(
        String::from_utf8_lossy(trimmed).into_owned(),
    ))
}

/// Creates the pid file for this process with the lock protocol described in
/// the module docs. Fails with [`PidFileError::AlreadyRunning`] if the file
/// names another live instance of our program; a stale file is replaced. A
/// file naming this very process (e.g. after a restart `exec`) is rewritten.
pub fn create(path: &Path) -> Result<(), PidFileError> {
    let me = getpid();
    let io_err = |op: &'static str, p: &Path| {
        let p = p.to_path_buf();
        move |source| PidFileError::Io {
            path: p,
            op,
            source,
        }
    };
    match read_status(path) {
        PidStatus::Running(pid) if pid != me => return Err(PidFileError::AlreadyRunning(pid)),
        _ => remove_if_exists(path).map_err(io_err("remove stale file", path))?,
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{me}"));
    let tmp = PathBuf::from(tmp);
    // A leftover temporary with our pid can only be ours from an earlier run.
    remove_if_exists(&tmp).map_err(io_err("remove old temporary", &tmp))?;
    let write = || -> io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&tmp)?;
        // Independent of the umask.
        f.set_permissions(fs::Permissions::from_mode(0o644))?;
        f.write_all(format_pid(me).as_bytes())?;
        f.sync_all()
    };
    if let Err(e) = write() {
        let _ = fs::remove_file(&tmp);
        return Err(io_err("write temporary", &tmp)(e));
    }
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match read_status(path) {
            PidStatus::Running(pid) => Err(PidFileError::AlreadyRunning(pid)),
            _ => Err(io_err("link (lost a race)", path)(e)),
        },
        Err(e) => Err(io_err("link", path)(e)),
    }
}

/// Removes the pid file (only done before a full-restart exec).
pub fn remove(path: &Path) -> io::Result<()> {
    remove_if_exists(path)
}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fork::fork_child;
    use crate::testutil::{wait_code, TempDir, FORK_LOCK};
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn format_matches_c() {
        assert_eq!(format_pid(Pid::from_raw(1467)), "      1467\n");
        assert_eq!(format_pid(Pid::from_raw(1467)).len(), 11);
        assert_eq!(parse_pid("      1467\n"), Some(Pid::from_raw(1467)));
        assert_eq!(parse_pid(""), None);
        assert_eq!(parse_pid("abc\n"), None);
        assert_eq!(parse_pid("-5\n"), None);
        assert_eq!(parse_pid("0\n"), None);
    }

    #[test]
    fn create_writes_c_format_0644_and_no_temporary() {
        let d = TempDir::new("pid");
        let p = d.path().join("heartbeat.pid");
        create(&p).expect("create");
        let bytes = fs::read(&p).expect("read");
        assert_eq!(bytes, format!("{:>10}\n", std::process::id()).as_bytes());
        assert_eq!(bytes.len(), 11);
        assert_eq!(fs::metadata(&p).expect("stat").mode() & 0o7777, 0o644);
        let entries: Vec<_> = fs::read_dir(d.path()).expect("ls").collect();
        assert_eq!(entries.len(), 1, "temporary left behind");
        assert_eq!(read_status(&p), PidStatus::Running(getpid()));
        // Our own pid does not block a re-create.
        create(&p).expect("re-create");
    }

    #[test]
    fn absent_garbage_and_stale() {
        let d = TempDir::new("pid2");
        let p = d.path().join("hb.pid");
        assert_eq!(read_status(&p), PidStatus::Absent);
        fs::write(&p, "garbage\n").expect("write");
        assert_eq!(read_status(&p), PidStatus::Absent);
        fs::write(&p, "").expect("write");
        assert_eq!(read_status(&p), PidStatus::Absent);

        // A reaped child's pid: dead.
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let dead = fork_child(|| 0).expect("fork");
        assert_eq!(wait_code(dead), 0);
        fs::write(&p, format_pid(dead)).expect("write");
        assert_eq!(read_status(&p), PidStatus::Stale(dead));
        create(&p).expect("replace stale");
        assert_eq!(read_status(&p), PidStatus::Running(getpid()));
    }

    #[test]
    fn live_process_of_other_program_is_stale() {
        let d = TempDir::new("pid3");
        let p = d.path().join("hb.pid");
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let mut sleeper = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let pid = Pid::from_raw(i32::try_from(sleeper.id()).expect("pid"));
        fs::write(&p, format_pid(pid)).expect("write");
        let st = read_status(&p);
        let _ = sleeper.kill();
        let _ = sleeper.wait();
        assert_eq!(st, PidStatus::Stale(pid));
    }

    #[test]
    fn live_instance_of_our_program_blocks_create() {
        let d = TempDir::new("pid4");
        let p = d.path().join("hb.pid");
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        // A forked child runs the same executable; it waits for EOF on a pipe.
        let (r, w) = crate::testutil::pipe().expect("pipe");
        let w_fd = w.as_raw_fd();
        let child = fork_child(move || {
            let _ = nix::unistd::close(w_fd);
            let mut b = [0u8; 1];
            let _ = nix::unistd::read(r.as_raw_fd(), &mut b);
            0
        })
        .expect("fork");
        fs::write(&p, format_pid(child)).expect("write");
        let st = read_status(&p);
        let res = create(&p);
        let content = fs::read(&p).expect("read");
        drop(w);
        assert_eq!(wait_code(child), 0);
        assert_eq!(st, PidStatus::Running(child));
        assert!(matches!(res, Err(PidFileError::AlreadyRunning(pid)) if pid == child));
        assert_eq!(
            content,
            format_pid(child).as_bytes(),
            "file must be untouched"
        );
        assert_eq!(
            PidFileError::AlreadyRunning(child).to_string(),
            format!("already running [pid {child}]")
        );
    }
}
