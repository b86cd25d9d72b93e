//! Restarting the daemon in place (docs/behaviour.md §1.9.4): after a healed
//! partition or a lost local heartbeat, Heartbeat gives up its resources,
//! waits until its peers have noticed its death, and execs itself again —
//! a new generation, a fresh negotiation, exactly one owner per group.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::sync::OnceLock;
use std::time::Duration;

static ARGS: OnceLock<Vec<OsString>> = OnceLock::new();

/// Remembers the command line; call first thing in `main` (process titles
/// later overwrite the memory `std::env::args` reads).
pub fn remember_args() {
    let _ = ARGS.set(std::env::args_os().collect());
}

/// The command line remembered by [`remember_args`].
pub fn original_args() -> &'static [OsString] {
    ARGS.get().map_or(&[], Vec::as_slice)
}

/// How long to stay down before the new image starts: long enough for every
/// peer to declare us dead (the C daemon sleeps `ceil(deadtime) + 1` s).
pub fn pause_before_exec(deadtime_ms: u64) -> Duration {
    Duration::from_secs(deadtime_ms.div_ceil(1000) + 1)
}

/// Replaces this process with a fresh start of the same binary and
/// arguments. Returns only if the exec failed.
pub fn exec_self() -> std::io::Error {
    let _ = hb_sys::signals::unblock_all();
    let args = ARGS.get().cloned().unwrap_or_default();
    let exe = std::env::current_exe().unwrap_or_else(|_| "/usr/libexec/heartbeat/heartbeat".into());
    let mut cmd = std::process::Command::new(exe);
    if let Some((argv0, rest)) = args.split_first() {
        cmd.arg0(argv0).args(rest);
    }
    cmd.exec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_outlasts_the_deadtime() {
        assert_eq!(pause_before_exec(30_000), Duration::from_secs(31));
        assert_eq!(pause_before_exec(500), Duration::from_secs(2));
        assert_eq!(pause_before_exec(1_001), Duration::from_secs(3));
    }
}
