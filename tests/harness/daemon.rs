//! Which Heartbeat implementation a node runs.
//!
//! A cluster test is written once and run with any mix of daemons: the real Debian 3.0.6 C
//! daemon and ours must be started, stopped (`heartbeat -k`) and observed the same way, with
//! the same default paths (`/etc/ha.d`, `/run/heartbeat.pid`, `/var/log/ha-log`, ...).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::prereq::REAL_HEARTBEAT;

/// A Heartbeat daemon binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Daemon {
    /// Debian's real Heartbeat 3.0.6 (`/usr/libexec/heartbeat/heartbeat`).
    Real,
    /// Our implementation, at this host path.
    Ours(PathBuf),
}

impl Daemon {
    /// Our `heartbeat` binary from this workspace's target directory: `$HB_OURS_HEARTBEAT` if
    /// set, else `heartbeat` next to the test executable's `deps/` directory
    /// (`target/debug/heartbeat`). Fails if it has not been built.
    pub fn ours() -> Result<Daemon> {
        let path = match std::env::var_os("HB_OURS_HEARTBEAT") {
            Some(p) => PathBuf::from(p),
            None => {
                let exe = std::env::current_exe().map_err(|e| {
                    Error::Invalid(format!("cannot locate the test executable: {e}"))
                })?;
                // A test: target/debug/deps/cluster-HASH -> target/debug/heartbeat;
                // a binary of this crate (hb-demo): target/debug/hb-demo -> its sibling.
                let dir = exe.parent().ok_or_else(|| {
                    Error::Invalid(format!("unexpected test path {}", exe.display()))
                })?;
                let sibling = dir.join("heartbeat");
                if sibling.is_file() {
                    sibling
                } else {
                    dir.parent().unwrap_or(dir).join("heartbeat")
                }
            }
        };
        if path.is_file() {
            Ok(Daemon::Ours(path))
        } else {
            Err(Error::Invalid(format!(
                "our heartbeat binary {} does not exist: run \
                 `cargo build --workspace --all-targets` (or set HB_OURS_HEARTBEAT)",
                path.display()
            )))
        }
    }

    /// Host path of the executable.
    pub fn binary(&self) -> &Path {
        match self {
            Daemon::Real => Path::new(REAL_HEARTBEAT),
            Daemon::Ours(path) => path,
        }
    }

    /// Short label for logs and messages.
    pub fn label(&self) -> String {
        match self {
            Daemon::Real => "real heartbeat 3.0.6".into(),
            Daemon::Ours(path) => format!("ours ({})", path.display()),
        }
    }
}
