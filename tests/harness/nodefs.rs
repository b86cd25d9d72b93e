//! The private file tree of one node, bind-mounted over the host's paths inside the node.
//!
//! Inside a node these paths are replaced (see [`PRIVATE_DIRS`]): `/etc/ha.d` (a copy of the
//! packaged scripts: harc, rc.d, resource.d, shellfuncs; never the host's cluster config),
//! `/var/lib/heartbeat` (the directory skeleton only, same modes and owners, so
//! `cores/root` exists), `/var/log`, `/run` (which `/var/run` points to) and `/tmp`.  So every
//! daemon runs with its default paths yet nodes never share a pid file, FIFO, socket or log.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::error::{io_err, Error, Result};
use crate::lan::HaDir;
use crate::prereq::hacluster_ids;
use crate::proc::run_ok;

/// Host paths that each node sees as its own (relative to `/`), bind-mounted in this order.
pub(crate) const PRIVATE_DIRS: &[&str] = &[
    "etc/ha.d",
    "var/lib/heartbeat",
    "var/log",
    "run",
    "tmp",
    STONITH_EXTERNAL,
];

/// Where cluster-glue's `external` STONITH plugin looks for its sub-plugins: private per node
/// (a copy of the host's) so a test can install a fencing plugin in one node only. Mounted only
/// when the host has the directory (cluster-glue installed).
pub(crate) const STONITH_EXTERNAL: &str = "usr/lib/stonith/plugins/external";

/// Config files that must never leak from the host's /etc/ha.d into a node.
const HOST_CONFIG: &[&str] = &["ha.cf", "authkeys", "haresources"];

fn mkdir(path: &Path, mode: u32) -> Result<()> {
    std::fs::create_dir_all(path).map_err(io_err("create directory", path))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(io_err("chmod", path))
}

fn chown(path: &Path, uid: u32, gid: u32) -> Result<()> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(io_err("chown", path))
}

/// Maps an absolute path inside a node (e.g. `/run/ttyHB`) to the host path under `root`, if it
/// lies in one of the node's private directories.
pub(crate) fn host_path(root: &Path, inside: &str) -> Option<PathBuf> {
    let rel = inside.strip_prefix('/')?;
    let rel = rel
        .strip_prefix("var/run/")
        .map(|r| format!("run/{r}"))
        .unwrap_or(rel.to_string());
    PRIVATE_DIRS
        .iter()
        .any(|dir| rel == *dir || rel.starts_with(&format!("{dir}/")))
        .then(|| root.join(rel))
}

/// Creates a fresh node tree under `root`, its `/etc/ha.d` a copy of the host's or of a
/// given tree (see [`HaDir`]).
pub(crate) fn create(root: &Path, source: &HaDir) -> Result<()> {
    mkdir(root, 0o755)?;
    mkdir(&root.join("etc"), 0o755)?;
    mkdir(&root.join("var/lib"), 0o755)?;
    mkdir(&root.join("var/log"), 0o755)?;
    let ha_d = root.join("etc/ha.d");
    let from = match source {
        HaDir::Host => Path::new("/etc/ha.d"),
        HaDir::Tree(tree) => tree.as_path(),
    };
    run_ok(
        Command::new("cp").arg("-a").arg(from).arg(&ha_d),
        Duration::from_secs(30),
    )?;
    // A tree from a checkout cloned with umask 077 would be 0700.
    std::fs::set_permissions(&ha_d, std::fs::Permissions::from_mode(0o755))
        .map_err(io_err("chmod", &ha_d))?;
    for name in HOST_CONFIG {
        let path = ha_d.join(name);
        if path.exists() {
            std::fs::remove_file(&path).map_err(io_err("remove", path))?;
        }
    }
    let plugins = root.join(STONITH_EXTERNAL);
    mkdir(&plugins, 0o755)?;
    let host_plugins = Path::new("/").join(STONITH_EXTERNAL);
    if host_plugins.is_dir() {
        run_ok(
            Command::new("cp")
                .arg("-a")
                .arg(format!("{}/.", host_plugins.display()))
                .arg(&plugins),
            Duration::from_secs(30),
        )?;
    }
    let state = Path::new("/var/lib/heartbeat");
    if matches!(source, HaDir::Host) || state.is_dir() {
        copy_dir_skeleton(state, &root.join("var/lib/heartbeat"))?;
    } else {
        // No heartbeat package on this host: the skeleton our daemon uses.
        mkdir(&root.join("var/lib/heartbeat"), 0o755)?;
        mkdir(&root.join("var/lib/heartbeat/cores"), 0o755)?;
        mkdir(&root.join("var/lib/heartbeat/cores/root"), 0o700)?;
    }
    mkdir(&root.join("run"), 0o755)?;
    mkdir(&root.join("tmp"), 0o1777)?;
    reset_volatile(root)
}

/// The project's packaged `harc` and rc.d hooks (`packaging/ha.d`), which our daemon runs.
fn packaged_ha_d() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/ha.d")
}

/// Installs the packaged `harc` and `rc.d/*` into the node's `/etc/ha.d` (what our package
/// ships), replacing only files that are still the host's copies or missing: a hook a test
/// wrote stays.
pub(crate) fn install_packaged_hooks(root: &Path) -> Result<()> {
    let src = packaged_ha_d();
    let mut files = vec![PathBuf::from("harc")];
    let rcd = src.join("rc.d");
    for entry in std::fs::read_dir(&rcd).map_err(io_err("read directory", &rcd))? {
        let entry = entry.map_err(io_err("read directory", &rcd))?;
        files.push(Path::new("rc.d").join(entry.file_name()));
    }
    for rel in files {
        let dest = root.join("etc/ha.d").join(&rel);
        let host = Path::new("/etc/ha.d").join(&rel);
        let untouched = match (std::fs::read(&dest), std::fs::read(&host)) {
            (Err(_), _) => true,
            (Ok(d), Ok(h)) => d == h,
            (Ok(_), Err(_)) => false,
        };
        if untouched {
            let text =
                std::fs::read_to_string(src.join(&rel)).map_err(io_err("read", src.join(&rel)))?;
            write_file(&dest, &text, 0o755)?;
        }
    }
    Ok(())
}

/// Recreates directories (not files: never hb_uuid or caches) with the same mode and owner.
fn copy_dir_skeleton(from: &Path, to: &Path) -> Result<()> {
    let meta = std::fs::metadata(from).map_err(io_err("stat", from))?;
    mkdir(to, meta.mode() & 0o7777)?;
    chown(to, meta.uid(), meta.gid())?;
    for entry in std::fs::read_dir(from).map_err(io_err("read directory", from))? {
        let entry = entry.map_err(io_err("read directory", from))?;
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            copy_dir_skeleton(&entry.path(), &to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

/// Empties the node's `/run` and `/tmp` (as a reboot would) and recreates the skeleton the
/// daemons and resource agents expect: `/run/lock`, `/run/resource-agents`, and
/// `/run/heartbeat` (0750 hacluster:haclient).
pub(crate) fn reset_volatile(root: &Path) -> Result<()> {
    for dir in ["run", "tmp"] {
        let dir = root.join(dir);
        for entry in std::fs::read_dir(&dir).map_err(io_err("read directory", &dir))? {
            let path = entry.map_err(io_err("read directory", &dir))?.path();
            let is_dir = path.symlink_metadata().map(|m| m.is_dir()).unwrap_or(false);
            let removed = if is_dir {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.map_err(io_err("remove", &path))?;
        }
    }
    let run = root.join("run");
    mkdir(&run.join("lock"), 0o1777)?;
    mkdir(&run.join("resource-agents"), 0o1755)?;
    // A cluster of our daemon only runs without the hacluster account (no heartbeat
    // package): the API directory then belongs to root.
    let (uid, gid) = hacluster_ids().unwrap_or((0, 0));
    for sub in [
        "heartbeat",
        "heartbeat/ccm",
        "heartbeat/crm",
        "heartbeat/dopd",
    ] {
        let dir = run.join(sub);
        mkdir(&dir, 0o750)?;
        chown(&dir, uid, gid)?;
    }
    Ok(())
}

/// Writes `contents` to `path` with `mode` (the mode is set before any content is written).
pub(crate) fn write_file(path: &Path, contents: &str, mode: u32) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(io_err("create", path))?;
    file.write_all(contents.as_bytes())
        .map_err(io_err("write", path))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(io_err("chmod", path))
}

/// Reads a text file, empty if it does not exist (a log not written yet).
pub(crate) fn read_text(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// The last `n` lines of `text`.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Guards against typos in paths handed to [`host_path`].
pub(crate) fn host_path_or_err(root: &Path, inside: &str) -> Result<PathBuf> {
    host_path(root, inside).ok_or_else(|| {
        Error::Invalid(format!(
            "{inside} is not in a node-private directory (/{})",
            PRIVATE_DIRS.join(", /")
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_private_paths_only() {
        let root = Path::new("/r");
        assert_eq!(
            host_path(root, "/run/ttyHB"),
            Some(PathBuf::from("/r/run/ttyHB"))
        );
        assert_eq!(
            host_path(root, "/var/run/heartbeat.pid"),
            Some(PathBuf::from("/r/run/heartbeat.pid"))
        );
        assert_eq!(
            host_path(root, "/etc/ha.d/ha.cf"),
            Some(PathBuf::from("/r/etc/ha.d/ha.cf"))
        );
        assert_eq!(host_path(root, "/etc/passwd"), None);
        assert_eq!(host_path(root, "/running"), None);
        assert_eq!(host_path(root, "relative"), None);
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }
}
