//! Export a haresources cluster to Corosync 3 + Pacemaker 2.
//!
//! `heartbeat --export-pacemaker OUTDIR` reads `ha.cf`, `authkeys` and
//! `haresources` with the daemon's own parser (`hb-config`) and hands the
//! result to [`export`], which builds one [`Cluster`] model and renders it
//! five ways: `corosync.conf`, `cib.xml`, `pcs-commands.sh`,
//! `crm-commands.txt` and `MIGRATION.txt`. Because every text comes from the
//! same model, the pcs and crm shell commands configure exactly what
//! `cib.xml` holds.
//!
//! The crate does no I/O: the few facts about the host it needs (which
//! resource agents are installed, a cluster-glue plugin's parameter names,
//! this host's node name and interface addresses, name resolution) are
//! asked through [`Host`]. The caller generates the Corosync key and writes
//! the files.
#![deny(missing_docs)]

mod agents;
mod cib;
mod commands;
mod corosync;
pub mod error;
mod model;
mod report;
mod xml;

pub use error::ExportError;
pub use model::{
    AddrOverride, Cluster, Fence, Group, Link, NodeSpec, Op, PingClone, Primitive, Status,
    StickinessPlan,
};
pub use report::{Item, ReportSection};

use std::net::IpAddr;
use std::path::Path;

use hb_config::{AuthKeys, HaCf, ResourceGroup};

/// The files written into the output directory, in the order written.
pub const FILES: &[&str] = &[
    "corosync.conf",
    "authkey",
    "cib.xml",
    "pcs-commands.sh",
    "crm-commands.txt",
    "MIGRATION.txt",
];

/// Size of the Corosync key the caller must generate (what `corosync-keygen`
/// writes by default).
pub const COROSYNC_KEY_BYTES: usize = 256;

/// What the export knows about the configuration files.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// Parsed ha.cf.
    pub hacf: &'a HaCf,
    /// Parsed authkeys.
    pub authkeys: &'a AuthKeys,
    /// Parsed haresources.
    pub resources: &'a [ResourceGroup],
    /// Path of ha.cf (for FILE:LINE in the report).
    pub hacf_path: &'a Path,
    /// Text of ha.cf (each directive is reported with its line).
    pub hacf_text: &'a str,
    /// Path of authkeys.
    pub authkeys_path: &'a Path,
    /// Text of authkeys.
    pub authkeys_text: &'a str,
    /// Path of haresources.
    pub haresources_path: &'a Path,
    /// `--addr NODE:IFACE=IP` flags.
    pub addrs: &'a [AddrOverride],
}

/// Questions about the host the export asks (answered by the CLI).
pub trait Host {
    /// This machine's node name if it is one of the cluster nodes.
    fn local_node(&self) -> Option<String>;
    /// Addresses configured on a local interface.
    fn interface_addrs(&self, iface: &str) -> Vec<IpAddr>;
    /// Addresses a host name resolves to.
    fn resolve(&self, name: &str) -> Vec<IpAddr>;
    /// Whether `ocf:PROVIDER:AGENT` is installed.
    fn ocf_agent(&self, provider: &str, agent: &str) -> bool;
    /// Whether an LSB init script `/etc/init.d/NAME` exists.
    fn lsb_script(&self, name: &str) -> bool;
    /// Whether a systemd unit `NAME.service` exists.
    fn systemd_unit(&self, name: &str) -> bool;
    /// Whether `/etc/ha.d/resource.d/NAME` exists (a heartbeat resource script).
    fn heartbeat_script(&self, name: &str) -> bool;
    /// The event hooks in `/etc/ha.d/rc.d/` (full paths).
    fn rc_hooks(&self) -> Vec<std::path::PathBuf>;
    /// Parameter names of a cluster-glue STONITH plugin (`stonith -t TYPE -n`),
    /// `None` when the plugin is not installed.
    fn stonith_params(&self, plugin: &str) -> Option<Vec<String>>;
}

/// The five rendered texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// The model they were rendered from.
    pub cluster: Cluster,
    /// `corosync.conf`, the same for every node.
    pub corosync_conf: String,
    /// `cib.xml`: a whole CIB with an empty status section.
    pub cib_xml: String,
    /// `pcs-commands.sh`.
    pub pcs_commands: String,
    /// `crm-commands.txt`.
    pub crm_commands: String,
    /// `MIGRATION.txt`.
    pub migration: String,
}

/// Build the model and render every text.
pub fn export(src: &Source<'_>, host: &dyn Host) -> Result<Export, Vec<ExportError>> {
    let cluster = model::build(src, host)?;
    Ok(Export {
        corosync_conf: corosync::render(&cluster),
        cib_xml: cib::render(&cluster),
        pcs_commands: commands::pcs(&cluster),
        crm_commands: commands::crm(&cluster),
        migration: report::render(&cluster),
        cluster,
    })
}

#[cfg(test)]
mod tests;
