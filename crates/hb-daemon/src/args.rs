//! The `heartbeat` command-line options (docs/behaviour.md §2), as data: parsed by
//! [`crate::cli`], read by [`crate::startup`].

use std::path::PathBuf;

use clap::{ArgAction, Parser};

use crate::paths::Paths;

/// `heartbeat` options.
#[derive(Debug, Parser)]
#[command(
    name = "heartbeat",
    about = "Heartbeat 3 high-availability daemon (drop-in replacement for Linux-HA heartbeat 3.0.6)",
    disable_version_flag = true
)]
pub struct Args {
    /// Increase the debug level (repeatable).
    #[arg(short = 'd', action = ArgAction::Count)]
    pub debug: u8,
    /// Print the directives that have defaults, as a table, and exit.
    #[arg(short = 'D')]
    pub defaults: bool,
    /// With -D: print the table in wiki markup.
    #[arg(short = 'W')]
    pub wiki: bool,
    /// Stop the running daemon and wait until it is gone.
    #[arg(short = 'k')]
    pub kill: bool,
    /// Do not manage resources (haresources ignored).
    #[arg(short = 'M')]
    pub no_resources: bool,
    /// Validate the configuration and tell the running daemon to reread it (a changed ha.cf is
    /// applied by a re-exec that keeps the resources).
    #[arg(short = 'r')]
    pub reload: bool,
    /// Internal: this is the re-exec'd image of a quick restart (same pid, resources kept).
    #[arg(short = 'R')]
    pub restarted: bool,
    /// Internal, with -R: resources currently held (none, local, foreign, all).
    #[arg(short = 'C', value_name = "Current-resource-state")]
    pub current_resources: Option<String>,
    /// Report whether the daemon is running (exit 0 running, 1 stale pid file, 3 stopped).
    #[arg(short = 's')]
    pub status: bool,
    /// Print the configuration after validating it.
    #[arg(short = 'v')]
    pub verbose: bool,
    /// Do not use realtime scheduling or lock memory.
    #[arg(short = 'l')]
    pub no_realtime: bool,
    /// Print the version and exit.
    #[arg(short = 'V')]
    pub version: bool,
    /// Stay in the foreground.
    #[arg(short = 'f')]
    pub foreground: bool,
    /// Validate ha.cf, authkeys and haresources; print every error as FILE:LINE: message; exit 0 or 6.
    #[arg(long)]
    pub check_config: bool,
    /// Write corosync.conf, authkey, cib.xml, pcs-commands.sh, crm-commands.txt and
    /// MIGRATION.txt for moving this cluster to Corosync 3 + Pacemaker 2 into OUTDIR, and exit.
    #[arg(long, value_name = "OUTDIR")]
    pub export_pacemaker: Option<PathBuf>,
    /// With --export-pacemaker: a node's address on a heartbeat interface (repeatable).
    #[arg(
        long = "addr",
        value_name = "NODE:IFACE=IP",
        requires = "export_pacemaker"
    )]
    pub addr: Vec<String>,
    /// Configuration directory.
    #[arg(long, value_name = "DIR", default_value = "/etc/ha.d")]
    pub confdir: PathBuf,
    /// State directory (FIFO, generation, uuid).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/heartbeat")]
    pub statedir: PathBuf,
    /// Run directory (pid file, heartbeat/register API socket).
    #[arg(long, value_name = "DIR", default_value = "/run")]
    pub rundir: PathBuf,
}

impl Args {
    /// The paths these options select.
    pub fn paths(&self) -> Paths {
        Paths {
            confdir: self.confdir.clone(),
            statedir: self.statedir.clone(),
            rundir: self.rundir.clone(),
        }
    }
}
