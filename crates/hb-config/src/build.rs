//! Stage two of ha.cf parsing: raw directives to [`HaCf`], then the
//! whole-file checks of docs/behaviour.md §3.4.
//!
//! Directives take effect in file order, as in the C daemon: each UDP
//! plugin (bcast, ucast, ucast6) reads `udpport` when its first medium is
//! created and the serial plugin reads `baud` then, so a later `udpport` or
//! `baud` does not change those media. 3.0.6 accepts that order with a note;
//! we accept it with a warning that names the value the media keep
//! (docs/behaviour.md §3.1). Every value is validated and every error is
//! collected; the whole-file checks run only when the lines themselves were
//! all valid (as in the C daemon, which stops after a bad line set).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::apiauth::{self, ApiAuth};
use crate::directives::{self, Class};
use crate::error::{ConfigError, ConfigErrorKind as K, Warning};
use crate::hacf::{AutoFailback, Autojoin, GenMethod, HaCf, MsgFmt, NodeEntry, NodeKind, UuidFrom};
use crate::lexer::{lex, RawDirective};
use crate::media::Medium;
use crate::media_args;
use crate::respawn;
use crate::stonith;
use crate::system::SystemLookup;
use crate::value::{atoi, facility_code, parse_bool, parse_time_ms};

mod checks;
mod plugins;

/// Node table size of the C daemon (cluster plus ping nodes).
pub const MAX_NODES: usize = 100;
/// Media limit of the C daemon.
pub const MAX_MEDIA: usize = 64;
/// Default UDP port when `/etc/services` has no `ha-cluster/udp`.
pub const DEFAULT_UDPPORT: u16 = 694;
/// Service name looked up for the default port.
pub const SERVICE_NAME: &str = "ha-cluster";
/// Default `coreroot`.
pub const DEFAULT_COREROOT: &str = "/var/lib/heartbeat/cores";

const TIME_POS: &str = "a time > 0 (seconds, or with ms/us unit: 2, 1.5, 500ms)";
const TIME_NONNEG: &str = "a time >= 0 (seconds, or with ms/us unit: 30, 1.5, 500ms)";
const BAUDS: &[u32] = &[9600, 19200, 38400, 57600, 115200, 230400, 460800];

pub(crate) fn build(
    text: &str,
    path: &Path,
    local_node: &str,
    sys: &dyn SystemLookup,
) -> Result<(HaCf, Vec<Warning>), Vec<ConfigError>> {
    let mut b = Builder::new(path, sys);
    for raw in lex(text) {
        b.directive(&raw);
    }
    if !b.errors.is_empty() {
        return Err(b.errors);
    }
    b.add_builtin_apiauth();
    b.post_parse(local_node);
    if b.errors.is_empty() {
        Ok((b.cfg, b.warnings))
    } else {
        Err(b.errors)
    }
}

/// Initial values: the built-in defaults, so that a directive that is
/// absent leaves exactly what its default string means.
fn initial(udpport: u16) -> HaCf {
    HaCf {
        nodes: Vec::new(),
        ping_nodes: Vec::new(),
        node_table: Vec::new(),
        media: Vec::new(),
        media_lines: Vec::new(),
        keepalive_ms: 1000,
        deadtime_ms: 30_000,
        warntime_ms: 0,
        initdead_ms: 0,
        deadping_ms: 0,
        udpport,
        baud: 19200,
        auto_failback: AutoFailback::Legacy,
        watchdog: None,
        realtime: true,
        rtprio: None,
        hopfudge: 1,
        max_rexmit_delay_ms: 250,
        logfile: None,
        debugfile: None,
        metrics_file: None,
        logfacility: None,
        logfacility_code: None,
        use_logd: false,
        conn_logd_time_ms: 60_000,
        log_badpack: true,
        syslogmsgfmt: true,
        coredumps: true,
        coreroot: PathBuf::from(DEFAULT_COREROOT),
        debug: 0,
        debug_from_file: false,
        msgfmt: MsgFmt::Classic,
        hbgenmethod: GenMethod::File,
        cluster: "linux-ha".into(),
        quorum_server: None,
        autojoin: Autojoin::None,
        uuidfrom: UuidFrom::File,
        compression: "zlib".into(),
        compression_threshold_kb: 2,
        traditional_compression: false,
        memreserve_kb: 6500,
        use_apphbd: false,
        pacemaker: "false".into(),
        crm_daemon_dir: None,
        crmd_spawns_pengine: None,
        record_config_changes: true,
        record_pengine_inputs: true,
        enable_config_writes: true,
        respawn: Vec::new(),
        apiauth: Vec::new(),
        env: Vec::new(),
        stonith: Vec::new(),
        stonith_host: Vec::new(),
        params: Vec::new(),
    }
}

struct Builder<'a> {
    path: &'a Path,
    sys: &'a dyn SystemLookup,
    cfg: HaCf,
    errors: Vec<ConfigError>,
    warnings: Vec<Warning>,
    /// First line of directives that may be given only once.
    once: BTreeMap<&'static str, usize>,
    /// First medium that uses `udpport` (type, line).
    port_medium: Option<(&'static str, usize)>,
    /// The port each UDP plugin took at its first medium: 3.0.6's bcast,
    /// ucast and ucast6 plugins read `udpport` once, when their first medium
    /// is created, and keep it for all their media.
    plugin_ports: BTreeMap<&'static str, u16>,
    /// First serial medium line.
    serial_line: Option<usize>,
    /// Line of each node's first declaration (duplicate detection).
    node_lines: BTreeMap<String, usize>,
    warntime: Option<u64>,
    initdead: Option<u64>,
    deadping: Option<u64>,
    use_logd: Option<bool>,
    /// Whether auto_failback on/off was selected (C `nice_failback`).
    nice_failback: bool,
    pacemaker_line: Option<usize>,
}

impl<'a> Builder<'a> {
    fn new(path: &'a Path, sys: &'a dyn SystemLookup) -> Builder<'a> {
        let port = sys
            .udp_service_port(SERVICE_NAME)
            .unwrap_or(DEFAULT_UDPPORT);
        Builder {
            path,
            sys,
            cfg: initial(port),
            errors: Vec::new(),
            warnings: Vec::new(),
            once: BTreeMap::new(),
            port_medium: None,
            plugin_ports: BTreeMap::new(),
            serial_line: None,
            node_lines: BTreeMap::new(),
            warntime: None,
            initdead: None,
            deadping: None,
            use_logd: None,
            nice_failback: false,
            pacemaker_line: None,
        }
    }

    fn error(&mut self, line: usize, kind: K) {
        self.errors.push(ConfigError::at(self.path, line, kind));
    }

    fn file_error(&mut self, kind: K) {
        self.errors.push(ConfigError::file(self.path, kind));
    }

    fn warn(&mut self, line: Option<usize>, text: impl Into<String>) {
        self.warnings.push(Warning {
            file: self.path.to_path_buf(),
            line,
            text: text.into(),
        });
    }

    // ----- stage two: one directive -------------------------------------

    fn directive(&mut self, raw: &RawDirective) {
        let mut key = raw.key.as_str();
        if key == "udp" {
            self.warn(Some(raw.line), "directive 'udp' replaced by 'bcast'");
            key = "bcast";
        }
        let Some(dir) = directives::lookup(key) else {
            self.error(
                raw.line,
                K::UnknownDirective {
                    name: key.to_string(),
                },
            );
            return;
        };
        if raw.args.is_empty() && matches!(dir.class, Class::Option | Class::TokenMedium) {
            self.warn(
                Some(raw.line),
                format!("directive '{key}' has no value; ignored"),
            );
            return;
        }
        let errors_before = self.errors.len();
        self.apply(dir, raw);
        if self.errors.len() == errors_before {
            if let Some(reason) = directives::no_effect(dir.name) {
                self.warn(
                    Some(raw.line),
                    format!("directive '{key}' is accepted but has no effect: {reason}"),
                );
            }
        }
    }

    fn apply(&mut self, dir: &'static directives::Directive, raw: &RawDirective) {
        match dir.class {
            Class::Option => {
                for token in &raw.args {
                    if let Err(kind) = self.option(dir.name, token, raw.line) {
                        self.error(raw.line, kind);
                    } else if dir.record {
                        self.cfg.set_param(dir.name, token);
                    } else if dir.name == "crm" {
                        self.cfg.set_param("pacemaker", token);
                    }
                }
            }
            Class::TokenMedium => {
                for token in &raw.args {
                    if let Some(problem) = self.token_medium_problem(dir.name, token) {
                        self.error(
                            raw.line,
                            K::BadMedium {
                                directive: dir.name.to_string(),
                                problem,
                            },
                        );
                        continue;
                    }
                    let medium = self.token_medium(dir.name, token, raw.line);
                    self.add_medium(medium, raw.line);
                }
            }
            Class::LineMedium => self.line_medium(dir.name, &raw.args, raw.line),
            Class::WholeLine => {
                let rest = raw.args.first().map_or("", String::as_str);
                self.whole_line(dir.name, rest, raw.line);
            }
        }
    }

    /// Apply one option token. `Ok` means accepted (and recorded by the caller
    /// when the directive records its value).
    fn option(&mut self, name: &'static str, v: &str, line: usize) -> Result<(), K> {
        let d = || name.to_string();
        let val = || v.to_string();
        let bad_time = |expected| K::BadTime {
            directive: d(),
            value: val(),
            expected,
        };
        let bad_bool = || K::BadBool {
            directive: d(),
            value: val(),
        };
        let bad_num = |expected| K::BadNumber {
            directive: d(),
            value: val(),
            expected,
        };
        let bad_choice = |expected| K::BadChoice {
            directive: d(),
            value: val(),
            expected,
        };
        let boolean = || parse_bool(v).ok_or_else(bad_bool);
        match name {
            "cluster" => self.cfg.cluster = val(),
            "quorum_server" => {
                self.cfg.cluster = val();
                self.cfg.quorum_server = Some(val());
            }
            "node" => self.add_node(v, NodeKind::Normal, line),
            "hopfudge" => {
                self.cfg.hopfudge = u32::try_from(atoi(v))
                    .ok()
                    .filter(|h| *h < 256)
                    .ok_or_else(|| bad_num("an integer 0..255"))?;
            }
            "keepalive" => {
                self.cfg.keepalive_ms = parse_time_ms(v)
                    .filter(|t| *t > 0)
                    .ok_or_else(|| bad_time(TIME_POS))?;
            }
            "deadtime" => {
                self.cfg.deadtime_ms = parse_time_ms(v).ok_or_else(|| bad_time(TIME_NONNEG))?
            }
            "deadping" => {
                self.deadping = Some(parse_time_ms(v).ok_or_else(|| bad_time(TIME_NONNEG))?)
            }
            "initdead" => {
                self.initdead = Some(parse_time_ms(v).ok_or_else(|| bad_time(TIME_NONNEG))?)
            }
            "warntime" => {
                self.warntime = Some(
                    parse_time_ms(v)
                        .filter(|t| *t > 0)
                        .ok_or_else(|| bad_time(TIME_POS))?,
                );
            }
            "watchdog" => {
                self.once_only(name, line)?;
                self.cfg.watchdog = Some(PathBuf::from(v));
            }
            "baud" => {
                self.once_only(name, line)?;
                let rate = u32::try_from(atoi(v))
                    .ok()
                    .filter(|r| BAUDS.contains(r))
                    .ok_or_else(|| {
                        bad_choice("one of 9600, 19200, 38400, 57600, 115200, 230400, 460800")
                    })?;
                if let Some(medium_line) = self.serial_line {
                    self.warn(
                        Some(line),
                        format!(
                            "baudrate setting must precede media statements: the serial \
                             media (first on line {medium_line}) keep {} baud, as in 3.0.6",
                            self.cfg.baud
                        ),
                    );
                } else {
                    self.cfg.baud = rate;
                }
            }
            "udpport" => {
                let port = u16::try_from(atoi(v))
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| bad_num("a port number 1..65535"))?;
                if let Some((medium, medium_line)) = self.port_medium {
                    let kept = self.plugin_port(medium);
                    self.warn(
                        Some(line),
                        format!(
                            "udpport setting must precede media statements: the {medium} \
                             medium on line {medium_line} and every later medium of its type \
                             keep port {kept}, as in 3.0.6"
                        ),
                    );
                }
                if let Some(svc) = self
                    .sys
                    .udp_service_name(port)
                    .filter(|s| s != SERVICE_NAME)
                {
                    self.warn(
                        Some(line),
                        format!("udp port {v} reserved for service \"{svc}\"."),
                    );
                }
                self.cfg.udpport = port;
            }
            "logfacility" => {
                let code = facility_code(v).ok_or_else(|| {
                    bad_choice(
                        "a syslog facility (auth, authpriv, cron, daemon, ftp, kern, lpr, mail, \
                         news, security, syslog, user, uucp, local0..local7) or none",
                    )
                })?;
                self.cfg.logfacility = Some(val());
                self.cfg.logfacility_code = Some(code);
            }
            "logfile" => self.cfg.logfile = Some(PathBuf::from(v)),
            "debugfile" => self.cfg.debugfile = Some(PathBuf::from(v)),
            "metrics_file" => {
                if !v.starts_with('/') {
                    return Err(bad_choice(
                        "an absolute path, e.g. /var/lib/prometheus/node-exporter/heartbeat.prom",
                    ));
                }
                self.cfg.metrics_file = Some(PathBuf::from(v));
            }
            "nice_failback" => {
                boolean()?;
                self.warn(
                    Some(line),
                    "nice_failback flag is obsolete. Use auto_failback {on, off, legacy} instead.",
                );
                if self.nice_failback {
                    self.warn(
                        Some(line),
                        format!("'nice_failback {v}' has been changed to 'auto_failback off'"),
                    );
                    self.cfg.auto_failback = AutoFailback::Off;
                } else {
                    self.warn(
                        Some(line),
                        format!(
                            "nice_failback {v} has been strictly interpreted as 'auto_failback legacy'; \
                             consider converting to 'auto_failback on' (then you can use ipfail and hb_standby)"
                        ),
                    );
                    self.cfg.auto_failback = AutoFailback::Legacy;
                }
            }
            "auto_failback" => {
                let mode = match parse_bool(v) {
                    Some(true) => AutoFailback::On,
                    Some(false) => AutoFailback::Off,
                    None if v.eq_ignore_ascii_case("legacy") => AutoFailback::Legacy,
                    None => return Err(bad_choice("on, off (or another boolean word) or legacy")),
                };
                self.nice_failback = mode.nice_failback();
                self.cfg.auto_failback = mode;
            }
            "rtprio" => {
                let prio = atoi(v);
                self.cfg.rtprio = Some(
                    i32::try_from(prio)
                        .ok()
                        .filter(|p| (1..=99).contains(p))
                        .ok_or_else(|| bad_num("a realtime priority 1..99"))?,
                );
            }
            "hbgenmethod" => {
                self.cfg.hbgenmethod = match v {
                    "file" => GenMethod::File,
                    "time" => GenMethod::Time,
                    _ => return Err(bad_choice("file or time")),
                }
            }
            "realtime" => self.cfg.realtime = boolean()?,
            "debug" => {
                self.cfg.debug = u32::try_from(atoi(v))
                    .ok()
                    .filter(|l| *l < 256)
                    .ok_or_else(|| bad_num("an integer 0..255"))?;
                self.cfg.debug_from_file = true;
            }
            "msgfmt" => {
                self.cfg.msgfmt = match v {
                    "classic" => MsgFmt::Classic,
                    "netstring" => MsgFmt::Netstring,
                    _ => return Err(bad_choice("classic or netstring")),
                }
            }
            "use_logd" => self.use_logd = Some(boolean()?),
            "conn_logd_time" => {
                self.cfg.conn_logd_time_ms = parse_time_ms(v)
                    .filter(|t| *t > 0)
                    .ok_or_else(|| bad_time(TIME_POS))?;
            }
            "use_apphbd" => self.cfg.use_apphbd = boolean()?,
            "log_badpack" => self.cfg.log_badpack = boolean()?,
            "syslogmsgfmt" => self.cfg.syslogmsgfmt = boolean()?,
            "coredumps" => self.cfg.coredumps = boolean()?,
            "coreroot" => {
                if !self.sys.is_dir(v) {
                    return Err(K::BadDirectory {
                        directive: d(),
                        value: val(),
                    });
                }
                self.cfg.coreroot = PathBuf::from(v);
            }
            "crm_daemon_dir" | "crmd_spawns_pengine" => {
                if let Some(pacemaker_line) = self.pacemaker_line {
                    return Err(K::MustPrecedePacemaker {
                        directive: d(),
                        pacemaker_line,
                    });
                }
                if name == "crm_daemon_dir" {
                    self.cfg.crm_daemon_dir = Some(val());
                } else {
                    self.cfg.crmd_spawns_pengine = Some(boolean()?);
                }
            }
            "pacemaker" | "crm" => {
                self.once_only("pacemaker", line)?;
                let lower = v.to_ascii_lowercase();
                let on = match lower.as_str() {
                    "minimal" | "manual" | "respawn" | "valgrind" | "ccm-only" => true,
                    _ => parse_bool(v).ok_or_else(|| {
                        bad_choice("a boolean, minimal, manual, respawn, valgrind or ccm-only")
                    })?,
                };
                if on {
                    return Err(K::Unsupported {
                        directive: d(),
                        value: val(),
                        reason: "this heartbeat manages resources from haresources only; \
                                 remove the directive or set it to false",
                    });
                }
                self.cfg.pacemaker = val();
                self.pacemaker_line = Some(line);
            }
            "autojoin" => {
                self.cfg.autojoin = match lower(v).as_str() {
                    "none" => Autojoin::None,
                    "other" => Autojoin::Other,
                    "any" => Autojoin::Any,
                    _ => return Err(bad_choice("none, other or any")),
                }
            }
            "uuidfrom" => {
                self.cfg.uuidfrom = match v {
                    "file" => UuidFrom::File,
                    "nodename" => UuidFrom::Nodename,
                    _ => return Err(bad_choice("file or nodename")),
                }
            }
            "compression" => {
                if v != "zlib" && v != "bz2" {
                    return Err(bad_choice(
                        "zlib or bz2 (the compression modules 3.0.6 ships)",
                    ));
                }
                self.cfg.compression = val();
            }
            "compression_threshold" => {
                self.cfg.compression_threshold_kb =
                    positive_u32(v).ok_or_else(|| bad_num("an integer > 0 (KiB)"))?;
            }
            "traditional_compression" => self.cfg.traditional_compression = boolean()?,
            "env" => match v.split_once('=') {
                Some((n, value)) if !n.is_empty() => {
                    self.cfg.env.push((n.to_string(), value.to_string()))
                }
                _ => return Err(K::BadEnv { value: val() }),
            },
            "max_rexmit_delay" => {
                self.cfg.max_rexmit_delay_ms = u64::from(
                    positive_u32(v).ok_or_else(|| bad_num("an integer > 0 (milliseconds)"))?,
                );
            }
            "record_config_changes" => self.cfg.record_config_changes = boolean()?,
            "record_pengine_inputs" => self.cfg.record_pengine_inputs = boolean()?,
            "enable_config_writes" => self.cfg.enable_config_writes = boolean()?,
            "memreserve" => {
                self.cfg.memreserve_kb =
                    positive_u32(v).ok_or_else(|| bad_num("an integer > 0 (KiB)"))?;
            }
            _ => return Err(K::UnknownDirective { name: d() }),
        }
        Ok(())
    }

    fn once_only(&mut self, name: &'static str, line: usize) -> Result<(), K> {
        match self.once.get(name) {
            Some(&first_line) => Err(K::Repeated {
                directive: name.to_string(),
                first_line,
            }),
            None => {
                self.once.insert(name, line);
                Ok(())
            }
        }
    }

    fn add_node(&mut self, name: &str, kind: NodeKind, line: usize) {
        let lower = name.to_ascii_lowercase();
        if let Some(&first) = self.node_lines.get(&lower) {
            self.warn(
                Some(line),
                format!("node [{lower}] already declared on line {first}; duplicate ignored"),
            );
            return;
        }
        if self.cfg.node_table.len() >= MAX_NODES {
            self.warn(
                Some(line),
                format!("node table full ({MAX_NODES} entries); node [{lower}] ignored"),
            );
            return;
        }
        self.node_lines.insert(lower.clone(), line);
        match kind {
            NodeKind::Normal => self.cfg.nodes.push(lower.clone()),
            NodeKind::Ping => self.cfg.ping_nodes.push(lower.clone()),
        }
        self.cfg.node_table.push(NodeEntry { name: lower, kind });
    }

    // ----- media ----------------------------------------------------------

    fn token_medium(&mut self, name: &str, token: &str, line: usize) -> Medium {
        match name {
            "bcast" => {
                self.port_medium.get_or_insert(("bcast", line));
                Medium::Bcast {
                    iface: token.to_string(),
                    port: self.plugin_port("bcast"),
                }
            }
            "serial" => {
                self.serial_line.get_or_insert(line);
                Medium::Serial {
                    device: token.to_string(),
                    baud: self.cfg.baud,
                }
            }
            "ping6" => {
                self.add_node(token, NodeKind::Ping, line);
                Medium::Ping6 {
                    host: token.to_string(),
                }
            }
            _ => {
                self.add_node(token, NodeKind::Ping, line);
                Medium::Ping {
                    host: token.to_string(),
                }
            }
        }
    }

    fn line_medium(&mut self, name: &str, args: &[String], line: usize) {
        let parsed = match name {
            "ucast" => media_args::ucast(args, self.plugin_port("ucast")),
            "ucast6" => media_args::ucast6(args, self.plugin_port("ucast6"), self.sys),
            "mcast" => media_args::mcast(args, self.sys),
            "mcast6" => media_args::mcast6(args, self.sys),
            _ => media_args::ping_group(args, self.sys),
        };
        let expected_words = match name {
            "ucast" | "ucast6" => Some(2),
            "mcast" | "mcast6" => Some(5),
            _ => None,
        };
        match parsed {
            Ok(Some(medium)) => {
                if let Some(n) = expected_words.filter(|n| args.len() > *n) {
                    self.warn(
                        Some(line),
                        format!(
                            "{name}: words after the first {n} ignored: {}",
                            args[n..].join(" ")
                        ),
                    );
                }
                match &medium {
                    Medium::Ucast { .. } => {
                        self.port_medium.get_or_insert(("ucast", line));
                    }
                    Medium::Ucast6 { .. } => {
                        self.port_medium.get_or_insert(("ucast6", line));
                    }
                    Medium::PingGroup { name: group, .. } => {
                        let group = group.clone();
                        self.add_node(&group, NodeKind::Ping, line);
                    }
                    _ => {}
                }
                self.add_medium(medium, line);
            }
            Ok(None) => self.warn(
                Some(line),
                format!("'{name}' without arguments configures nothing"),
            ),
            Err(problem) => self.error(
                line,
                K::BadMedium {
                    directive: name.to_string(),
                    problem,
                },
            ),
        }
    }

    fn add_medium(&mut self, medium: Medium, line: usize) {
        if self.cfg.media.len() >= MAX_MEDIA {
            self.error(line, K::TooManyMedia { max: MAX_MEDIA });
            return;
        }
        self.cfg.media.push(medium);
        self.cfg.media_lines.push(line);
    }

    // ----- whole-line directives -------------------------------------------

    fn whole_line(&mut self, name: &str, rest: &str, line: usize) {
        let d = name.to_string();
        match name {
            "apiauth" => match apiauth::parse(rest, self.sys) {
                Ok(entry) => {
                    if self.cfg.apiauth.iter().any(|a| a.client == entry.client) {
                        let problem = crate::error::ApiauthProblem::DuplicateClient {
                            client: entry.client,
                        };
                        self.error(
                            line,
                            K::BadApiauth {
                                line: rest.trim().to_string(),
                                problem,
                            },
                        );
                    } else {
                        self.cfg.apiauth.push(entry);
                    }
                }
                Err(problem) => self.error(
                    line,
                    K::BadApiauth {
                        line: rest.trim().to_string(),
                        problem,
                    },
                ),
            },
            "respawn" | "failfast" => {
                match respawn::parse(rest, name == "failfast", line, self.sys) {
                    Ok(r) => self.cfg.respawn.push(r),
                    Err(problem) => self.error(
                        line,
                        K::BadRespawn {
                            directive: d,
                            problem,
                        },
                    ),
                }
            }
            "stonith" => match stonith::parse_stonith(rest, line) {
                Ok(s) => self.cfg.stonith.push(s),
                Err(problem) => self.error(
                    line,
                    K::BadStonith {
                        directive: d,
                        problem,
                    },
                ),
            },
            _ => match stonith::parse_stonith_host(rest, line) {
                Ok(s) => self.cfg.stonith_host.push(s),
                Err(problem) => self.error(
                    line,
                    K::BadStonith {
                        directive: d,
                        problem,
                    },
                ),
            },
        }
    }

    /// Built-in API authorisation for well-known clients not configured.
    /// Entries whose user/group does not exist on this host are skipped, as
    /// the C daemon ignores their failure.
    fn add_builtin_apiauth(&mut self) {
        for (client, spec) in apiauth::BUILTIN {
            if self.cfg.apiauth.iter().any(|a| a.client == *client) {
                continue;
            }
            if let Ok(entry) = apiauth::parse(&format!("{client} {spec}"), self.sys) {
                self.cfg.apiauth.push(ApiAuth {
                    builtin: true,
                    ..entry
                });
            }
        }
    }
}

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

fn positive_u32(v: &str) -> Option<u32> {
    u32::try_from(atoi(v)).ok().filter(|n| *n > 0)
}

#[cfg(test)]
#[path = "build_tests.rs"]
mod tests;
