//! Where the daemon keeps its files (docs/behaviour.md §0, §14.1).
//!
//! Defaults are Debian's paths; `--confdir`, `--statedir` and `--rundir`
//! move them so tests and the demo run without touching the system.

use std::path::{Path, PathBuf};

/// Every path the daemon uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// `/etc/ha.d`: ha.cf, authkeys, haresources, harc, rc.d, resource.d.
    pub confdir: PathBuf,
    /// `/var/lib/heartbeat`: FIFO, hb_generation, hb_uuid, cores.
    pub statedir: PathBuf,
    /// `/run`: `heartbeat.pid` and `heartbeat/register`.
    pub rundir: PathBuf,
}

impl Default for Paths {
    fn default() -> Paths {
        Paths {
            confdir: PathBuf::from("/etc/ha.d"),
            statedir: PathBuf::from("/var/lib/heartbeat"),
            rundir: PathBuf::from("/run"),
        }
    }
}

impl Paths {
    /// `ha.cf`.
    pub fn hacf(&self) -> PathBuf {
        self.confdir.join("ha.cf")
    }
    /// `authkeys`.
    pub fn authkeys(&self) -> PathBuf {
        self.confdir.join("authkeys")
    }
    /// `haresources`.
    pub fn haresources(&self) -> PathBuf {
        self.confdir.join("haresources")
    }
    /// `nodeinfo` (optional node-name override).
    pub fn nodeinfo(&self) -> PathBuf {
        self.confdir.join("nodeinfo")
    }
    /// `harc`, the rc.d dispatcher.
    pub fn harc(&self) -> PathBuf {
        self.confdir.join("harc")
    }
    /// `rc.d/`.
    pub fn rcd(&self) -> PathBuf {
        self.confdir.join("rc.d")
    }
    /// `resource.d/`.
    pub fn resourced(&self) -> PathBuf {
        self.confdir.join("resource.d")
    }
    /// The FIFO scripts write messages to.
    pub fn fifo(&self) -> PathBuf {
        self.statedir.join("fifo")
    }
    /// The generation counter.
    pub fn generation(&self) -> PathBuf {
        self.statedir.join("hb_generation")
    }
    /// Nodes deleted with `hb_delnode` (docs/behaviour.md §14.4).
    pub fn delhostcache(&self) -> PathBuf {
        self.statedir.join("delhostcache")
    }
    /// The node UUID.
    pub fn uuid(&self) -> PathBuf {
        self.statedir.join("hb_uuid")
    }
    /// Working directory of the core processes.
    pub fn cores_root(&self) -> PathBuf {
        self.statedir.join("cores").join("root")
    }
    /// The pid file.
    pub fn pidfile(&self) -> PathBuf {
        self.rundir.join("heartbeat.pid")
    }
    /// The directory holding the API socket.
    pub fn api_dir(&self) -> PathBuf {
        self.rundir.join("heartbeat")
    }
    /// The API socket.
    pub fn api_socket(&self) -> PathBuf {
        self.api_dir().join("register")
    }
    /// Scratch directory for resource scripts, recreated at each start.
    pub fn rsctmp(&self) -> PathBuf {
        self.api_dir().join("rsctmp")
    }
}

/// The local node name: the first line of `nodeinfo` if present, else
/// `uname -n`; lower-cased with ASCII rules (docs/protocol.md §10).
pub fn local_node_name(nodeinfo: &Path, uname: &str) -> String {
    let from_file = std::fs::read_to_string(nodeinfo)
        .ok()
        .and_then(|t| t.lines().next().map(|l| l.trim().to_string()))
        .filter(|l| !l.is_empty());
    from_file
        .unwrap_or_else(|| uname.to_string())
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodeinfo_overrides_uname_and_everything_is_lowercased() {
        let p = std::env::temp_dir().join(format!("hb-nodeinfo-{}", std::process::id()));
        let _ = std::fs::remove_file(&p);
        assert_eq!(local_node_name(&p, "NodeA"), "nodea");
        std::fs::write(&p, "Other-Name\nignored\n").unwrap();
        assert_eq!(local_node_name(&p, "NodeA"), "other-name");
        let _ = std::fs::remove_file(&p);
    }

    #[test]
    fn default_paths_are_debians() {
        let p = Paths::default();
        assert_eq!(p.fifo(), Path::new("/var/lib/heartbeat/fifo"));
        assert_eq!(p.api_socket(), Path::new("/run/heartbeat/register"));
        assert_eq!(p.pidfile(), Path::new("/run/heartbeat.pid"));
    }
}
