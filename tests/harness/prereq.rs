//! Prerequisites: root, the programs the harness drives, the accounts the real daemon needs.
//!
//! A missing prerequisite is a test *failure* (never a silent skip) whose message names the
//! Debian package to install, so a newcomer knows what to do.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Path of Debian's real Heartbeat 3.0.6 daemon.
pub const REAL_HEARTBEAT: &str = "/usr/libexec/heartbeat/heartbeat";
/// Path of Debian's real `cl_status`.
pub const REAL_CL_STATUS: &str = "/usr/bin/cl_status";

/// Programs (name in PATH or absolute path) and the package that provides each.
const PROGRAMS: &[(&str, &str)] = &[
    ("ip", "iproute2"),
    ("unshare", "util-linux"),
    ("setsid", "util-linux"),
    ("mount", "mount"),
    ("cp", "coreutils"),
    ("sh", "dash"),
    ("nft", "nftables"),
    ("socat", "socat"),
    (REAL_HEARTBEAT, "heartbeat"),
    (REAL_CL_STATUS, "heartbeat"),
    ("/etc/ha.d/shellfuncs", "heartbeat"),
    (
        "/usr/lib/ocf/resource.d/heartbeat/IPaddr2",
        "resource-agents",
    ),
];

/// The search path used for the harness's own commands (independent of the caller's PATH).
pub(crate) const CLEAN_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Finds `program`: an absolute path must name an existing file; a bare name is looked up in
/// [`CLEAN_PATH`] and must be executable.
pub(crate) fn find_program(program: &str) -> Option<PathBuf> {
    if program.starts_with('/') {
        let p = PathBuf::from(program);
        return p.is_file().then_some(p);
    }
    let executable = |p: &Path| {
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    CLEAN_PATH
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|p| executable(p))
}

/// Fails unless the process runs as root.
pub fn require_root() -> Result<()> {
    if hb_testutil::is_root() {
        Ok(())
    } else {
        Err(Error::NotRoot)
    }
}

/// Fails unless `program` exists, naming `package` in the error.
pub fn require_program(program: &str, package: &'static str) -> Result<PathBuf> {
    find_program(program).ok_or(Error::MissingProgram {
        program: program.to_string(),
        package,
    })
}

/// Checks everything a cluster test needs: root, programs, the hacluster/haclient accounts.
pub fn check_prerequisites() -> Result<()> {
    require_root()?;
    for (program, package) in PROGRAMS {
        require_program(program, package)?;
    }
    hacluster_ids()?;
    Ok(())
}

/// Programs a cluster of our daemon only needs (the demo): no Heartbeat package, no
/// resource-agents, no socat or nftables.
const DEMO_PROGRAMS: &[(&str, &str)] = &[
    ("ip", "iproute2"),
    ("unshare", "util-linux"),
    ("setsid", "util-linux"),
    ("mount", "mount"),
    ("cp", "coreutils"),
    ("sh", "dash"),
];

/// Checks what a cluster of our daemon only needs (see [`crate::HaDir::Tree`]): root and
/// [`DEMO_PROGRAMS`]; the `hacluster` account is used when it exists.
pub fn check_demo_prerequisites() -> Result<()> {
    require_root()?;
    for (program, package) in DEMO_PROGRAMS {
        require_program(program, package)?;
    }
    Ok(())
}

/// uid of `hacluster` and gid of `haclient` (created by the heartbeat package).
pub(crate) fn hacluster_ids() -> Result<(u32, u32)> {
    let user = nix::unistd::User::from_name("hacluster")
        .ok()
        .flatten()
        .ok_or(Error::MissingAccount {
            kind: "user",
            name: "hacluster",
        })?;
    let group = nix::unistd::Group::from_name("haclient")
        .ok()
        .flatten()
        .ok_or(Error::MissingAccount {
            kind: "group",
            name: "haclient",
        })?;
    Ok((user.uid.as_raw(), group.gid.as_raw()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sh_and_rejects_nonsense() {
        assert!(find_program("sh").is_some());
        let err = require_program("no-such-program-hbt", "some-package").expect_err("missing");
        assert!(
            err.to_string().contains("apt-get install some-package"),
            "{err}"
        );
    }
}
