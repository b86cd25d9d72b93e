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
    /// Our `heartbeat` binary, staged: found in this workspace's target directory
    /// (`$HB_OURS_HEARTBEAT` if set, else `heartbeat` next to the test executable's `deps/`
    /// directory, i.e. `target/debug/heartbeat`) and copied with its sibling tools (cl_status,
    /// hb_standby, hb_takeover, ipfail) into this process's staging directory, which every
    /// node and unprivileged user can reach (see [`crate::stage`]). Fails if it has not been
    /// built.
    pub fn ours() -> Result<Daemon> {
        let built = Daemon::built()?;
        let dir = built.parent().unwrap_or(Path::new("/"));
        Ok(Daemon::Ours(
            crate::stage::process_stage(dir)?.join("heartbeat"),
        ))
    }

    /// Our binaries staged into `dir` (0755, e.g. a demo cluster that outlives this process).
    pub fn ours_staged_in(dir: &Path) -> Result<Daemon> {
        let built = Daemon::built()?;
        crate::stage::stage_binaries(built.parent().unwrap_or(Path::new("/")), dir)?;
        Ok(Daemon::Ours(dir.join("heartbeat")))
    }

    /// Where our `heartbeat` was built (not staged; see [`Daemon::ours`]).
    pub fn built() -> Result<PathBuf> {
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
            Ok(path)
        } else {
            Err(Error::Invalid(format!(
                "our heartbeat binary {} does not exist: run \
                 `cargo build --workspace --all-targets` (or set HB_OURS_HEARTBEAT)",
                path.display()
            )))
        }
    }

    /// Our tool `name` (`cl_status`, `hb_standby`, `ipfail`, ...) next to the staged daemon.
    /// Fails for [`Daemon::Real`] or when the tool was not built.
    pub fn tool(&self, name: &str) -> Result<PathBuf> {
        match self {
            Daemon::Real => Err(Error::Invalid(format!(
                "{name}: only our daemon has staged tools"
            ))),
            Daemon::Ours(path) => {
                let tool = path.with_file_name(name);
                if tool.is_file() {
                    Ok(tool)
                } else {
                    Err(Error::Invalid(format!(
                        "our {name} ({}) was not built: run `cargo build --workspace --all-targets`",
                        tool.display()
                    )))
                }
            }
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
