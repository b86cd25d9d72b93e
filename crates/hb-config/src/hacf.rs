//! The typed, defaulted `ha.cf` (docs/behaviour.md §3).
//!
//! [`HaCf`] holds every directive as a typed field with the built-in default
//! already applied, plus the parameter table (docs/behaviour.md §3.5) that the API `getparm`
//! request and the `HA_<name>` environment of child processes expose.
//! It is built by [`parse_hacf`] (module `build`).

use std::path::{Path, PathBuf};

use crate::apiauth::ApiAuth;
use crate::error::{ConfigError, Warning};
use crate::media::Medium;
use crate::respawn::Respawn;
use crate::stonith::{Stonith, StonithHost};
use crate::system::SystemLookup;

/// `auto_failback` (docs/behaviour.md §5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoFailback {
    /// nice_failback mode, resources move back to their preferred node.
    On,
    /// nice_failback mode, resources stay where they are.
    Off,
    /// The old mode (default, deprecated).
    Legacy,
}

impl AutoFailback {
    /// Whether this is one of the nice_failback modes (`on`/`off`).
    pub fn nice_failback(self) -> bool {
        !matches!(self, AutoFailback::Legacy)
    }
}

/// `msgfmt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsgFmt {
    /// `classic` (default).
    Classic,
    /// `netstring`.
    Netstring,
}

/// `hbgenmethod`: how the generation number is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenMethod {
    /// Stored in `/var/lib/heartbeat/hb_generation` (default).
    File,
    /// From the clock.
    Time,
}

/// `autojoin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Autojoin {
    /// `none` (default; the only value allowed in haresources mode).
    None,
    /// `other`.
    Other,
    /// `any`.
    Any,
}

/// `uuidfrom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UuidFrom {
    /// `file` (default).
    File,
    /// `nodename`.
    Nodename,
}

/// Kind of a node table entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A cluster node (`node` directive).
    Normal,
    /// A ping node (`ping`, `ping6`, `ping_group`).
    Ping,
}

/// One entry of the node table, in ha.cf order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeEntry {
    /// Lower-cased name.
    pub name: String,
    /// Cluster or ping node.
    pub kind: NodeKind,
}

/// The parsed, validated and defaulted `ha.cf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaCf {
    /// Cluster nodes, lower-cased, in ha.cf order.
    pub nodes: Vec<String>,
    /// Ping node names (lower-cased), in ha.cf order.
    pub ping_nodes: Vec<String>,
    /// The whole node table (cluster and ping nodes) in ha.cf order, as the
    /// C daemon builds it; at most 100 entries.
    pub node_table: Vec<NodeEntry>,
    /// The media, in ha.cf order.
    pub media: Vec<Medium>,
    /// ha.cf line of each medium (same index as `media`).
    pub media_lines: Vec<usize>,
    /// `keepalive` in ms (default 1000).
    pub keepalive_ms: u64,
    /// `deadtime` in ms (default 30000).
    pub deadtime_ms: u64,
    /// `warntime` in ms (default deadtime/2).
    pub warntime_ms: u64,
    /// `initdead` in ms (default derived from deadtime, docs/behaviour.md §3.3).
    pub initdead_ms: u64,
    /// `deadping` in ms (default deadtime).
    pub deadping_ms: u64,
    /// `udpport` (default `ha-cluster/udp` from /etc/services, else 694).
    pub udpport: u16,
    /// `baud` (default 19200).
    pub baud: u32,
    /// `auto_failback` (default legacy).
    pub auto_failback: AutoFailback,
    /// `watchdog` device.
    pub watchdog: Option<PathBuf>,
    /// `realtime` (default true).
    pub realtime: bool,
    /// `rtprio` (none: the daemon uses 1).
    pub rtprio: Option<i32>,
    /// `hopfudge` (default 1).
    pub hopfudge: u32,
    /// `max_rexmit_delay` in ms (default 250).
    pub max_rexmit_delay_ms: u64,
    /// `logfile` as written (`/dev/null` = off).
    pub logfile: Option<PathBuf>,
    /// `debugfile` as written (`/dev/null` = off).
    pub debugfile: Option<PathBuf>,
    /// `metrics_file` (heartbeat-rs only): the Prometheus text file the daemon rewrites
    /// every few seconds.
    pub metrics_file: Option<PathBuf>,
    /// `logfacility` name as written (`none` included).
    pub logfacility: Option<String>,
    /// Its syslog facility code; 0 (`none`, `kern`) means no syslog.
    pub logfacility_code: Option<i32>,
    /// Whether the logging daemon is used (explicit `use_logd`, or implied
    /// because no logging at all is configured).
    pub use_logd: bool,
    /// `conn_logd_time` in ms (default 60 s).
    pub conn_logd_time_ms: u64,
    /// `log_badpack` (default true).
    pub log_badpack: bool,
    /// `syslogmsgfmt` (default true).
    pub syslogmsgfmt: bool,
    /// `coredumps` (default true).
    pub coredumps: bool,
    /// `coreroot` (default `/var/lib/heartbeat/cores`).
    pub coreroot: PathBuf,
    /// `debug` level (default 0, or the `-d` count: see [`HaCf::apply_debug_flag`]).
    pub debug: u32,
    /// Whether `debug` was set in ha.cf.
    pub debug_from_file: bool,
    /// `msgfmt` (default classic).
    pub msgfmt: MsgFmt,
    /// `hbgenmethod` (default file).
    pub hbgenmethod: GenMethod,
    /// `cluster` (default `linux-ha`; `quorum_server` also sets it).
    pub cluster: String,
    /// `quorum_server`.
    pub quorum_server: Option<String>,
    /// `autojoin` (default none).
    pub autojoin: Autojoin,
    /// `uuidfrom` (default file).
    pub uuidfrom: UuidFrom,
    /// `compression` module (default zlib).
    pub compression: String,
    /// `compression_threshold` in KiB (default 2).
    pub compression_threshold_kb: u32,
    /// `traditional_compression` (default false).
    pub traditional_compression: bool,
    /// `memreserve` in KiB (default 6500).
    pub memreserve_kb: u32,
    /// `use_apphbd` (default false).
    pub use_apphbd: bool,
    /// `pacemaker`/`crm` value as written (default `false`; only off values
    /// are accepted by this implementation).
    pub pacemaker: String,
    /// `crm_daemon_dir`.
    pub crm_daemon_dir: Option<String>,
    /// `crmd_spawns_pengine`.
    pub crmd_spawns_pengine: Option<bool>,
    /// `record_config_changes` (default true).
    pub record_config_changes: bool,
    /// `record_pengine_inputs` (default true).
    pub record_pengine_inputs: bool,
    /// `enable_config_writes` (default true).
    pub enable_config_writes: bool,
    /// `respawn` and `failfast` clients in ha.cf order.
    pub respawn: Vec<Respawn>,
    /// API authorisation: configured entries in ha.cf order, then the
    /// built-in entries (docs/behaviour.md §7.5) for clients not configured.
    pub apiauth: Vec<ApiAuth>,
    /// `env NAME=value` settings in order, name as written; they are exported
    /// as `HA_<NAME>` (see [`HaCf::env_vars`]).
    pub env: Vec<(String, String)>,
    /// `stonith` lines.
    pub stonith: Vec<Stonith>,
    /// `stonith_host` lines.
    pub stonith_host: Vec<StonithHost>,
    /// The parameter table (docs/behaviour.md §3.5): name → raw value, each name once, in
    /// order of first assignment, last assignment wins.
    pub params: Vec<(String, String)>,
}

impl HaCf {
    /// A parameter value (`getparm`), if recorded.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Record a parameter (last assignment wins).
    pub fn set_param(&mut self, name: &str, value: &str) {
        match self.params.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = value.to_string(),
            None => self.params.push((name.to_string(), value.to_string())),
        }
    }

    /// The `HA_<name>=value` environment the parameter table exports.
    pub fn param_env(&self) -> Vec<(String, String)> {
        self.params
            .iter()
            .map(|(n, v)| (format!("HA_{n}"), v.clone()))
            .collect()
    }

    /// The `HA_<NAME>=value` variables of the `env` directives.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        self.env
            .iter()
            .map(|(n, v)| (format!("HA_{n}"), v.clone()))
            .collect()
    }

    /// The API authorisation entry for a client id, if any.
    pub fn apiauth_for(&self, client: &str) -> Option<&ApiAuth> {
        self.apiauth.iter().find(|a| a.client == client)
    }

    /// Whether `name` (any case) is in the node table, and as what.
    pub fn node_kind(&self, name: &str) -> Option<NodeKind> {
        let lower = name.to_ascii_lowercase();
        self.node_table
            .iter()
            .find(|n| n.name == lower)
            .map(|n| n.kind)
    }

    /// Whether syslog logging is on (a facility other than `none`/`kern`).
    pub fn syslog_enabled(&self) -> bool {
        self.logfacility_code.is_some_and(|c| c > 0)
    }

    /// Apply the command line's `-d` count the way the C daemon does: it is
    /// the `debug` default when ha.cf has no `debug` directive.
    pub fn apply_debug_flag(&mut self, count: u32) {
        if !self.debug_from_file {
            self.debug = count;
            self.set_param("debug", &count.to_string());
        }
    }
}

/// Parse and validate `ha.cf` text.
///
/// `path` is only used in messages. `local_node` is this machine's node name
/// (`uname -n`, compared case-insensitively). Returns every error found.
pub fn parse_hacf(
    text: &str,
    path: &Path,
    local_node: &str,
    sys: &dyn SystemLookup,
) -> Result<(HaCf, Vec<Warning>), Vec<ConfigError>> {
    crate::build::build(text, path, local_node, sys)
}
