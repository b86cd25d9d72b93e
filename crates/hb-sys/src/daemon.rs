//! Daemonising and the emergency reboot.

use nix::unistd::{fork, ForkResult};

use crate::SysError;

/// Forks; the parent gets `true` (it should exit 0 at once, leaving the
/// child to run the daemon), the child gets `false`.
///
/// Call it while single-threaded.
pub fn daemonize() -> Result<bool, SysError> {
    // SAFETY: the caller is single-threaded (documented above), so the child
    // may run arbitrary code after the fork.
    match unsafe { fork() }.map_err(SysError::call("fork"))? {
        ForkResult::Parent { .. } => Ok(true),
        ForkResult::Child => Ok(false),
    }
}

/// Reboots the machine at once, the way a `failfast` client's death
/// demands (docs/behaviour.md §10): sync, then `reboot(RB_AUTOBOOT)`. Returns only
/// if the reboot was refused.
pub fn reboot_now() -> SysError {
    nix::unistd::sync();
    match nix::sys::reboot::reboot(nix::sys::reboot::RebootMode::RB_AUTOBOOT) {
        Err(e) => SysError::Call {
            call: "reboot",
            source: e,
        },
        Ok(never) => match never {},
    }
}
