//! Stand-in commands: a script installed in a node-private directory that heads the `PATH` of
//! the daemon (and so of every process it starts: resource scripts, respawned clients), for a
//! tool this machine cannot run for real (e.g. `drbdadm` without a DRBD kernel module). A test
//! that uses one must say so; the stand-in should record what it was asked to do, so the test
//! asserts on the call instead of trusting it.
//!
//! [`Node::reset`] empties `/run`, which removes the stand-ins: install them again after it.

use std::os::unix::fs::PermissionsExt;

use crate::daemon::Daemon;
use crate::error::{io_err, Error, Result};
use crate::node::Node;
use crate::nodefs;
use crate::prereq::CLEAN_PATH;

/// The node-private directory holding stand-ins (inside the node).
pub const STAND_IN_DIR: &str = "/run/stand-in";

impl Node {
    /// Installs `script` as the command `name` in [`STAND_IN_DIR`] (0755, readable by every
    /// user: respawned clients run as `hacluster`).
    pub fn install_stand_in(&self, name: &str, script: &str) -> Result<()> {
        if name.is_empty() || name.contains('/') {
            return Err(Error::Invalid(format!("bad stand-in name {name:?}")));
        }
        let dir = self.host_path(STAND_IN_DIR)?;
        std::fs::create_dir_all(&dir).map_err(io_err("create directory", &dir))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
            .map_err(io_err("chmod", &dir))?;
        nodefs::write_file(&dir.join(name), script, 0o755)
    }

    /// Starts `daemon` with [`STAND_IN_DIR`] first in its `PATH`, so the stand-ins shadow the
    /// real commands for the daemon and everything it starts.
    pub fn start_with_stand_ins(&self, daemon: Daemon) -> Result<()> {
        let path = format!("PATH={STAND_IN_DIR}:{CLEAN_PATH}");
        self.start_wrapped(daemon, &["env", &path])
    }
}
