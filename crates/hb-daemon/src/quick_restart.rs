//! The quick restart (docs/behaviour.md §1.9.3): SIGHUP or `heartbeat -r`
//! with a changed, valid ha.cf makes the daemon stop its clients and core
//! children — keeping its resources — and exec itself with `-R -C <held>`.
//! The new image keeps the pid and the pid file, starts with the new
//! configuration and resumes the held groups without releasing or
//! acquiring anything (docs/behaviour.md §2.1 `-R`, `-C`).
//!
//! Unlike the C image, which takes the next generation number (so peers log
//! `Heartbeat restart on node <us>`, reset their sequence tracking for us and
//! see our status go `up`, then `active`), the new image keeps the
//! generation, continues the old image's sequence numbers and stays
//! `active` ([`STREAM_VAR`], `hb_core::Cluster::resume_stream`): peers see
//! one unbroken stream. The old image also advertises a longer deadtime
//! just before it stops, as a margin for the short gap.

use std::ffi::{OsStr, OsString};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hb_sys::pidfile::{self, PidStatus};

use crate::hb_log;
use crate::logging::Prio;
use crate::version::exit;

static REQUESTED: OnceLock<Request> = OnceLock::new();

/// What the old image hands to the new one besides the message stream.
#[derive(Debug, Clone)]
pub struct Request {
    /// The `-C` value: the groups held here.
    pub held: String,
    /// What the peer holds ([`PEER_RSC_VAR`]).
    pub peer: String,
    /// systemd's `$NOTIFY_SOCKET`, if the daemon was started with one: the
    /// new image is still the service's main process and says `READY=1`.
    pub notify_socket: Option<String>,
}
static STREAM: OnceLock<(u64, u64)> = OnceLock::new();

/// Carries the old image's generation and last sequence number to the new
/// one (`<generation>:<seq>`); removed from the environment at once, so no
/// child inherits it.
pub const STREAM_VAR: &str = "HEARTBEAT_RESUME_STREAM";

/// Carries what the old image knew the peer to hold (nice_failback:
/// `none`, `local`, `foreign`, `all`, the peer's `local` being its own
/// groups), so the new image need not ask; removed like [`STREAM_VAR`].
pub const PEER_RSC_VAR: &str = "HEARTBEAT_RESUME_PEER_RSC";

/// How much longer than the deadtime the stopping image asks its peers to
/// wait for it (the new image advertises the same for its first seconds).
pub const DEADTIME_MARGIN_MS: u64 = 2_000;

/// Records that the master's shutdown ends in a quick restart.
pub fn request(request: Request) {
    let _ = REQUESTED.set(request);
}

/// The resource set (`none`, `local`, `foreign`, `all`) of a requested
/// quick restart.
pub fn requested() -> Option<&'static str> {
    REQUESTED.get().map(|r| r.held.as_str())
}

/// In the re-exec'd image: what the peer holds, taken (and removed) from
/// the environment.
pub fn take_peer_rsc(restarted: bool) -> Option<String> {
    let text = std::env::var(PEER_RSC_VAR).ok();
    std::env::remove_var(PEER_RSC_VAR);
    text.filter(|_| restarted)
}

/// Records where the old image's message stream ends: its generation and
/// the last sequence number it sent (call when its write children stop).
pub fn set_stream(generation: u64, last_seq: u64) {
    let _ = STREAM.set((generation, last_seq));
}

/// In the re-exec'd image: the stream to continue, taken (and removed)
/// from the environment. `None` for a normal start.
pub fn take_stream(restarted: bool) -> Option<(u64, u64)> {
    let text = std::env::var(STREAM_VAR).ok();
    std::env::remove_var(STREAM_VAR);
    if !restarted {
        return None;
    }
    let parsed = parse_stream(text.as_deref()?);
    if parsed.is_none() {
        hb_log!(
            Prio::Warn,
            "restart: unreadable {STREAM_VAR}: starting a new generation (peers will log a restart)."
        );
    }
    parsed
}

fn parse_stream(text: &str) -> Option<(u64, u64)> {
    let (g, s) = text.split_once(':')?;
    Some((g.parse().ok()?, s.parse().ok()?))
}

/// The new image's command line: the original options (directories,
/// `-d`, `-l`, `-M`, ...) without `-r`, `-R` and `-C <state>`, then
/// `-R -C <held>`. (The C image drops every other option; keeping them
/// keeps the node's directories and debug level.)
pub fn exec_args(original: &[OsString], held: &str) -> Vec<OsString> {
    let mut out = Vec::with_capacity(original.len() + 3);
    let mut rest = original.iter();
    while let Some(a) = rest.next() {
        let s = a.to_string_lossy();
        match s.as_ref() {
            "-r" | "-R" => {}
            "-C" => {
                rest.next();
            }
            _ if s.starts_with("-C") && !s.starts_with("--") => {}
            _ => out.push(a.clone()),
        }
    }
    out.extend(["-R", "-C", held].map(OsString::from));
    out
}

/// Checks run by the re-exec'd image (`-R`): the pid file must name this
/// very process, else the exec did not come from a running daemon.
/// Returns the exit code on failure (docs/behaviour.md §2.1).
pub fn check_restarted_image(pidfile_path: &Path) -> Result<(), i32> {
    let me = nix::unistd::Pid::this();
    match pidfile::read_status(pidfile_path) {
        PidStatus::Running(pid) if pid == me => Ok(()),
        PidStatus::Running(pid) => {
            eprintln!("ERROR: Heartbeat already running [pid {pid}].");
            Err(exit::FAILURE)
        }
        _ => {
            eprintln!("ERROR: heartbeat is not running.");
            Err(exit::NOT_CONFIGURED)
        }
    }
}

/// The executable the new image runs: this one, or the file now at its
/// path when it was replaced meanwhile (a package upgrade: the kernel then
/// names ours `<path> (deleted)`), like the C which always execs
/// `/usr/libexec/heartbeat/heartbeat`.
pub fn exe_path() -> PathBuf {
    live_path(std::env::current_exe().unwrap_or_else(|_| "/usr/libexec/heartbeat/heartbeat".into()))
}

fn live_path(exe: PathBuf) -> PathBuf {
    match exe.to_str().and_then(|s| s.strip_suffix(" (deleted)")) {
        Some(path) => PathBuf::from(path),
        None => exe,
    }
}

/// Whether [`exe_path`] can be exec'd (checked before anything is stopped:
/// a failed exec would leave the resources up without a daemon).
pub fn exe_usable() -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let path = exe_path();
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => Ok(path),
        Ok(_) => Err(format!("{} is not an executable file", path.display())),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Execs the new image resuming `held`; returns only if the exec failed
/// (the caller then exits: the resources stay up, the peers take over
/// after the deadtime as for any death).
pub fn exec(held: &str) -> std::io::Error {
    hb_log!(Prio::Info, "Heartbeat restart triggered.");
    hb_log!(Prio::Info, "Restarting heartbeat.");
    hb_log!(Prio::Info, "Performing heartbeat restart exec.");
    hb_log!(Prio::Info, "Current resources: -R -C {held}");
    let _ = hb_sys::signals::unblock_all();
    let args = exec_args(crate::restart::original_args(), held);
    let mut cmd = std::process::Command::new(exe_path());
    match args.split_first() {
        Some((argv0, rest)) => cmd.arg0(argv0).args(rest),
        None => cmd.arg0(OsStr::new("heartbeat")),
    };
    if let Some((generation, seq)) = STREAM.get() {
        cmd.env(STREAM_VAR, format!("{generation}:{seq}"));
    }
    if let Some(r) = REQUESTED.get() {
        cmd.env(PEER_RSC_VAR, &r.peer);
        if let Some(sock) = &r.notify_socket {
            cmd.env("NOTIFY_SOCKET", sock);
        }
    }
    // Nothing of this image's descriptors may leak into the new one (the C
    // closes every descriptor from 3 up the same way).
    hb_sys::fork::close_fds_except(&[]);
    cmd.exec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn a_replaced_binary_is_exec_d_from_its_path() {
        assert_eq!(
            live_path("/usr/libexec/heartbeat/heartbeat (deleted)".into()),
            PathBuf::from("/usr/libexec/heartbeat/heartbeat")
        );
        assert_eq!(
            live_path("/x/heartbeat".into()),
            PathBuf::from("/x/heartbeat")
        );
    }

    #[test]
    fn the_stream_text_round_trips() {
        assert_eq!(parse_stream("1234:98765"), Some((1234, 98765)));
        assert_eq!(parse_stream("1234"), None);
        assert_eq!(parse_stream("x:1"), None);
    }

    #[test]
    fn the_new_image_keeps_the_options_and_resumes_the_held_set() {
        assert_eq!(
            exec_args(&os(&["heartbeat", "-f", "--confdir", "/x"]), "local"),
            os(&["heartbeat", "-f", "--confdir", "/x", "-R", "-C", "local"])
        );
        assert_eq!(
            exec_args(&os(&["heartbeat", "-R", "-C", "all", "-d"]), "none"),
            os(&["heartbeat", "-d", "-R", "-C", "none"])
        );
        assert_eq!(
            exec_args(&os(&["heartbeat", "-r", "-Cforeign"]), "foreign"),
            os(&["heartbeat", "-R", "-C", "foreign"])
        );
    }
}
