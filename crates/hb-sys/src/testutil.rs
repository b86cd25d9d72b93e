//! Helpers shared by the fork-based unit tests.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

/// Serialises the tests that fork or spawn processes, so no test of this
/// crate holds a lock (std's environment lock is held during every
/// `Command::spawn`) while another one forks, and no pipe of one test leaks
/// into another test's child.
pub static FORK_LOCK: Mutex<()> = Mutex::new(());

/// A close-on-exec pipe (test pipes must not leak into spawned programs).
pub fn pipe() -> nix::Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
}

/// Waits for `pid` and returns its exit code; a signal death gives
/// `128 + signal`.
pub fn wait_code(pid: Pid) -> i32 {
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return code,
            Ok(WaitStatus::Signaled(_, sig, _)) => return 128 + sig as i32,
            Ok(_) => continue,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => panic!("waitpid({pid}): {e}"),
        }
    }
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        // Not env::temp_dir(): it takes std's environment lock, which a
        // forked child could inherit in the locked state.
        let p = Path::new("/tmp").join(format!("hb-sys-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
