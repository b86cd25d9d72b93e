//! Staging: copies of our binaries where every node and every unprivileged user can run them.
//!
//! A node has a private `/tmp` and `/run`, and the unprivileged users the tests run commands as
//! (`hacluster`, `nobody`) cannot enter a checkout under a 0700 home directory.  So nothing a
//! node runs is taken from the checkout: [`crate::Daemon::ours`] copies our binaries
//! (`heartbeat`, `cl_status`, `hb_standby`, `hb_takeover`, `ipfail`, `dopd`, ...) into a staging
//! directory under the harness's base directory (`/var/tmp/hb-tests`, see [`base_dir`]) whose
//! every component is 0755, and hands out the staged paths.  Copies, not symlinks: a symlink
//! would still resolve into the private checkout.
//!
//! The staging directory is unique per test process (`stage-<pid>`), so several checkouts and
//! several test binaries run at once; one left by a process that no longer exists is removed
//! by the next one.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::error::{io_err, Error, Result};

/// Our binaries that tests and the demo run; every one that exists next to `heartbeat` is
/// staged (the tools are found as the daemon's siblings). A new binary that runs inside a
/// node belongs here.
pub const STAGED_BINARIES: &[&str] = &[
    "heartbeat",
    "cl_status",
    "hb_standby",
    "hb_takeover",
    "ipfail",
    "dopd",
    "drbd-peer-outdater",
];

/// Name prefix of per-process staging directories in [`base_dir`].
const STAGE_PREFIX: &str = "stage-";

/// Where per-test trees and staged binaries live on the host (`$HB_TESTS_DIR`, default
/// `/var/tmp/hb-tests`). Not under /run or /tmp, which nodes replace with their own.
pub fn base_dir() -> PathBuf {
    std::env::var_os("HB_TESTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/var/tmp/hb-tests".into())
}

/// Creates `dir` (and its parents) and makes `dir` itself 0755, whatever the umask.
pub(crate) fn public_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io_err("create directory", dir))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
        .map_err(io_err("chmod", dir))
}

/// The base directory, created 0755 (so unprivileged users inside nodes can traverse it).
pub(crate) fn public_base_dir() -> Result<PathBuf> {
    let base = base_dir();
    public_dir(&base)?;
    Ok(base)
}

/// Checks that every directory from `/` down to `path`'s parent lets anybody traverse it, so
/// an unprivileged user can reach `path`; names the first one that does not.
pub fn check_reachable(path: &Path) -> Result<()> {
    let mut dir = PathBuf::from("/");
    let parent = path.parent().unwrap_or(Path::new("/"));
    for part in parent.components().skip(1) {
        dir.push(part);
        let mode = std::fs::metadata(&dir)
            .map_err(io_err("stat", &dir))?
            .permissions()
            .mode();
        if mode & 0o001 == 0 {
            return Err(Error::Invalid(format!(
                "{} is not reachable by other users: {} has mode {:o}",
                path.display(),
                dir.display(),
                mode & 0o7777
            )));
        }
    }
    Ok(())
}

/// Copies every [`STAGED_BINARIES`] file found in `from_dir` into `to_dir` (0755 directory,
/// 0755 files, written to a temporary name and renamed so a running copy is never truncated).
/// Fails if `heartbeat` itself is missing.
pub fn stage_binaries(from_dir: &Path, to_dir: &Path) -> Result<()> {
    public_dir(to_dir)?;
    if !from_dir.join("heartbeat").is_file() {
        return Err(Error::Invalid(format!(
            "our heartbeat binary {} does not exist: run `cargo build --workspace --all-targets`",
            from_dir.join("heartbeat").display()
        )));
    }
    for name in STAGED_BINARIES {
        let from = from_dir.join(name);
        if !from.is_file() {
            continue;
        }
        let to = to_dir.join(name);
        let tmp = to_dir.join(format!(".{name}.tmp"));
        std::fs::copy(&from, &tmp).map_err(io_err("copy to", &tmp))?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
            .map_err(io_err("chmod", &tmp))?;
        std::fs::rename(&tmp, &to).map_err(io_err("rename to", &to))?;
    }
    check_reachable(&to_dir.join("heartbeat"))
}

/// The staging directory of this process, filled once from `built_dir` (later calls return
/// the same directory, whatever `built_dir`).
pub fn process_stage(built_dir: &Path) -> Result<PathBuf> {
    static STAGE: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();
    STAGE
        .get_or_init(|| {
            let base = public_base_dir().map_err(|e| e.to_string())?;
            remove_stale_stages(&base);
            let dir = base.join(format!("{STAGE_PREFIX}{}", std::process::id()));
            stage_binaries(built_dir, &dir.join("bin")).map_err(|e| e.to_string())?;
            Ok(dir.join("bin"))
        })
        .clone()
        .map_err(Error::Invalid)
}

/// Removes this process's staging directory (a program that ends on its own, like the demo;
/// test processes leave theirs to the next one's clean-up).
pub fn remove_process_stage() {
    let dir = base_dir().join(format!("{STAGE_PREFIX}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(dir);
}

/// Removes `stage-<pid>` directories of processes that no longer exist.
fn remove_stale_stages(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.strip_prefix(STAGE_PREFIX))
            .and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_directory_is_named() {
        let dir = std::env::temp_dir().join(format!("hbt-stage-test-{}", std::process::id()));
        let private = dir.join("private");
        std::fs::create_dir_all(&private).expect("mkdir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let err = check_reachable(&private.join("x")).expect_err("0700 is not reachable");
        assert!(err.to_string().contains("has mode 700"), "{err}");
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let reachable = check_reachable(&private.join("x"));
        let _ = std::fs::remove_dir_all(&dir);
        reachable.expect("0755 everywhere");
    }
}
