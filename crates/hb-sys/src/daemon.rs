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

/// Environment variable the test harness sets for every process of a test
/// node: while it is set, [`reboot_now`] refuses to act in the kernel's
/// initial PID namespace (where `reboot(2)` would reboot the machine the
/// tests run on). In a child PID namespace `reboot(2)` only ends that
/// namespace's init, which is what the tests observe.
pub const REFUSE_HOST_REBOOT_ENV: &str = "HB_TESTS_REFUSE_HOST_REBOOT";

/// Inode of the kernel's initial PID namespace (`PROC_PID_INIT_INO`, fixed
/// in Linux): `readlink /proc/self/ns/pid` is `pid:[4026531836]` there.
const INITIAL_PID_NS: &str = "pid:[4026531836]";

/// Whether this process runs in a PID namespace other than the initial one
/// (`None` when that cannot be read).
pub fn in_child_pid_namespace() -> Option<bool> {
    let link = std::fs::read_link("/proc/self/ns/pid").ok()?;
    Some(link.to_string_lossy() != INITIAL_PID_NS)
}

/// The test guard: with the variable set, only a process known to be in a
/// child PID namespace may reboot.
fn guard_refuses(env_set: bool, in_child_ns: Option<bool>) -> bool {
    env_set && in_child_ns != Some(true)
}

/// Reboots the machine the way cluster-glue's `cl_reboot` does (failfast,
/// docs/behaviour.md §10; a failed stop, §5.3): `sync`, wait `delay`, then
/// `reboot(RB_AUTOBOOT)` without further sync. Returns only if the reboot
/// was refused (by the kernel, or by the test guard
/// [`REFUSE_HOST_REBOOT_ENV`]).
pub fn reboot_now(delay: std::time::Duration) -> SysError {
    if guard_refuses(
        std::env::var_os(REFUSE_HOST_REBOOT_ENV).is_some(),
        in_child_pid_namespace(),
    ) {
        return SysError::InvalidArgument {
            what: "reboot",
            reason: format!(
                "{REFUSE_HOST_REBOOT_ENV} is set and this process is in the initial PID namespace"
            ),
        };
    }
    nix::unistd::sync();
    std::thread::sleep(delay);
    match nix::sys::reboot::reboot(nix::sys::reboot::RebootMode::RB_AUTOBOOT) {
        Err(e) => SysError::Call {
            call: "reboot",
            source: e,
        },
        Ok(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // reboot_now itself is never called by a unit test: its effect is only
    // observed in the namespace tests, from a node's own PID namespace.
    #[test]
    fn the_test_guard_allows_only_child_namespaces() {
        assert!(guard_refuses(true, Some(false)));
        assert!(guard_refuses(true, None));
        assert!(!guard_refuses(true, Some(true)));
        assert!(!guard_refuses(false, Some(false)));
    }

    #[test]
    fn the_namespace_of_this_process_is_readable() {
        assert!(in_child_pid_namespace().is_some());
    }
}
