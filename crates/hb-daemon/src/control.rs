//! The one-shot commands that talk to a running daemon through its pid file:
//! `-s` (status), `-k` (stop), `-r` (reload), and `--check-config`.

use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};

use hb_sys::pidfile::{self, PidStatus};

use crate::config_load::load_config;
use crate::paths::{local_node_name, Paths};
use crate::version::exit;

/// `heartbeat -s`.
pub fn status(paths: &Paths) -> i32 {
    match pidfile::read_status(&paths.pidfile()) {
        PidStatus::Running(pid) => {
            let uname = hb_sys::host::nodename();
            let node = local_node_name(&paths.nodeinfo(), &uname);
            println!(
                "heartbeat OK [pid {pid} et al] is running on {} [{node}]...",
                uname.to_ascii_lowercase()
            );
            exit::OK
        }
        PidStatus::Stale(_) => {
            println!("heartbeat is stopped. No process");
            exit::FAILURE
        }
        PidStatus::Absent => {
            println!("heartbeat is stopped. No process");
            exit::NOT_RUNNING
        }
    }
}

/// `heartbeat -k`: SIGTERM, then wait until the process is gone. The C
/// daemon polls once a second; we poll every 50 ms so a scripted
/// switchover is not slowed by the poll.
pub fn stop(paths: &Paths) -> i32 {
    let pid = match pidfile::read_status(&paths.pidfile()) {
        PidStatus::Running(pid) => pid,
        _ => {
            eprintln!("INFO: Heartbeat already stopped.");
            return exit::OK;
        }
    };
    let target = pid;
    if let Err(e) = kill(target, Signal::SIGTERM) {
        eprintln!("ERROR: Could not kill pid {pid} : {}", e.desc());
        return if matches!(e, nix::errno::Errno::EPERM | nix::errno::Errno::EACCES) {
            exit::EPERM
        } else {
            exit::FAILURE
        };
    }
    // The C daemon's own emergency timer is one hour; never wait longer.
    let deadline = Instant::now() + Duration::from_secs(3600);
    while Instant::now() < deadline {
        if kill(target, None).is_err() {
            return exit::OK;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("ERROR: heartbeat pid {pid} did not stop within an hour");
    exit::FAILURE
}

/// `heartbeat --check-config`.
pub fn check_config(paths: &Paths) -> i32 {
    match load_config(paths) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                eprintln!("{w}");
            }
            println!(
                "{}: configuration is valid ({} nodes, {} media, {} resource groups)",
                paths.confdir.display(),
                loaded.hacf.nodes.len(),
                loaded.hacf.media.len(),
                loaded.resources.len()
            );
            exit::OK
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("Configuration error, heartbeat not started.");
            exit::NOT_CONFIGURED
        }
    }
}

/// `heartbeat -r`: `None` when no daemon runs (then `-r` is a normal start).
pub fn reload(paths: &Paths) -> Option<i32> {
    let PidStatus::Running(pid) = pidfile::read_status(&paths.pidfile()) else {
        return None;
    };
    if let Err(errors) = load_config(paths) {
        for e in &errors {
            eprintln!("{e}");
        }
        eprintln!("Config errors: Heartbeat pid {pid} NOT restarted");
        return Some(exit::FAILURE);
    }
    eprintln!("Signalling heartbeat pid {pid} to reread config files");
    match kill(pid, Signal::SIGHUP) {
        Ok(()) => Some(exit::OK),
        Err(e) => {
            eprintln!("ERROR: Could not signal pid {pid} : {}", e.desc());
            Some(exit::EPERM)
        }
    }
}
