//! `coredumps` and `coreroot` (docs/behaviour.md §3.3): where the daemon's
//! working directory is and whether it may leave a core file there.
//!
//! As in 3.0.6: the working directory is `<coreroot>/root` (the directory of
//! the user the daemon runs as); `coredumps on` (the default) lifts the core
//! size limit and warns when the kernel's core file naming would let a second
//! dump overwrite the first; `coredumps off` sets the limit to 0.

use std::path::{Path, PathBuf};

use nix::sys::resource::{setrlimit, Resource, RLIM_INFINITY};

use crate::hb_log;
use crate::logging::Prio;
use crate::paths::Paths;

/// The directory the daemon works in: `<coreroot>/root`, or `coreroot`
/// itself when it has no `root` subdirectory.
pub fn working_dir(hacf: &hb_config::HaCf, paths: &Paths) -> PathBuf {
    if hacf.coreroot == Path::new(hb_config::DEFAULT_COREROOT) {
        // The default, relative to the (test-overridable) state directory.
        return paths.cores_root();
    }
    let root = hacf.coreroot.join("root");
    if root.is_dir() {
        root
    } else {
        hacf.coreroot.clone()
    }
}

/// Applies `coredumps` and `coreroot`: changes the working directory and
/// the core size limit, logging what 3.0.6 logs.
pub fn apply(hacf: &hb_config::HaCf, paths: &Paths) {
    let dir = working_dir(hacf, paths);
    if let Err(e) = std::env::set_current_dir(&dir) {
        hb_log!(
            Prio::Warn,
            "Cannot change directory to {} ({e}): core dumps would be written elsewhere",
            dir.display()
        );
    }
    let limit = if hacf.coredumps { RLIM_INFINITY } else { 0 };
    if let Err(e) = setrlimit(Resource::RLIMIT_CORE, limit, limit) {
        hb_log!(Prio::Warn, "Cannot set the core file size limit: {e}");
    }
    if !hacf.coredumps {
        return;
    }
    let read = |p: &str| std::fs::read_to_string(p).map(|s| s.trim().to_string());
    let pattern_default = read("/proc/sys/kernel/core_pattern").is_ok_and(|p| p == "core");
    let uses_pid = read("/proc/sys/kernel/core_uses_pid").is_ok_and(|p| p != "0");
    if pattern_default && !uses_pid {
        hb_log!(
            Prio::Warn,
            "Core dumps could be lost if multiple dumps occur."
        );
        hb_log!(
            Prio::Warn,
            "Consider setting non-default value in /proc/sys/kernel/core_pattern (or equivalent) for maximum supportability"
        );
        hb_log!(
            Prio::Warn,
            "Consider setting /proc/sys/kernel/core_uses_pid (or equivalent) to 1 for maximum supportability"
        );
    }
}
