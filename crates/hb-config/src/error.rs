//! Errors and warnings of the three configuration files.
//!
//! The C daemon fails silently on many bad values ("Heartbeat not started:
//! configuration error." and nothing else). Every error here instead names
//! the file, the line, what was found and what is expected, so an operator
//! can fix the file without reading source code. Parsers collect *all*
//! errors of a file, like the C daemon does, instead of stopping at the
//! first one.

use std::fmt;
use std::path::PathBuf;

/// One configuration error: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file the error is in (as given to the parser).
    pub file: PathBuf,
    /// 1-based line number, when the error belongs to one line.
    pub line: Option<usize>,
    /// What is wrong.
    pub kind: ConfigErrorKind,
}

impl ConfigError {
    /// An error at `line` of `file`.
    pub fn at(file: impl Into<PathBuf>, line: usize, kind: ConfigErrorKind) -> ConfigError {
        ConfigError {
            file: file.into(),
            line: Some(line),
            kind,
        }
    }

    /// An error about `file` as a whole.
    pub fn file(file: impl Into<PathBuf>, kind: ConfigErrorKind) -> ConfigError {
        ConfigError {
            file: file.into(),
            line: None,
            kind,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.kind),
            None => write!(f, "{}: {}", self.file.display(), self.kind),
        }
    }
}

impl std::error::Error for ConfigError {}

/// A message the C daemon logs at WARN (or an ERROR it does not count as a
/// failure) while reading the configuration. The caller decides where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file the warning is about.
    pub file: PathBuf,
    /// 1-based line number, when the warning belongs to one line.
    pub line: Option<usize>,
    /// The text, worded like the C daemon's message where there is one.
    pub text: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.text),
            None => write!(f, "{}: {}", self.file.display(), self.text),
        }
    }
}

/// Everything that can be wrong in `ha.cf`, `authkeys` or `haresources`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigErrorKind {
    // ----- files -------------------------------------------------------
    /// The file could not be read.
    #[error("cannot read file: {reason}")]
    Io {
        /// The operating system's reason.
        reason: String,
    },

    // ----- ha.cf: directives and values ---------------------------------
    /// The first word of the line is not a directive Heartbeat knows.
    #[error("unknown directive `{name}`{}", unknown_hint(name))]
    UnknownDirective {
        /// The word found.
        name: String,
    },
    /// The directive was given without a value.
    #[error("`{directive}` needs {expected}")]
    MissingValue {
        /// Directive name.
        directive: String,
        /// What should follow it.
        expected: &'static str,
    },
    /// A time value that `cl_get_msec` rejects (or one out of range).
    #[error("`{directive}`: invalid time `{value}`: expected {expected}")]
    BadTime {
        /// Directive name.
        directive: String,
        /// The value as written.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// Not one of the boolean words.
    #[error(
        "`{directive}`: invalid boolean `{value}`: expected true/on/yes/y/1 or false/off/no/n/0"
    )]
    BadBool {
        /// Directive name.
        directive: String,
        /// The value as written.
        value: String,
    },
    /// An integer out of the accepted range.
    #[error("`{directive}`: invalid value `{value}`: expected {expected}")]
    BadNumber {
        /// Directive name.
        directive: String,
        /// The value as written.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// A word that is not one of the accepted keywords.
    #[error("`{directive}`: invalid value `{value}`: expected {expected}")]
    BadChoice {
        /// Directive name.
        directive: String,
        /// The value as written.
        value: String,
        /// The accepted words.
        expected: &'static str,
    },
    /// A directive that may be given only once was repeated.
    #[error(
        "`{directive}` given more than once (first on line {first_line}); it may appear only once"
    )]
    Repeated {
        /// Directive name.
        directive: String,
        /// Where it was first given.
        first_line: usize,
    },
    /// `crm_daemon_dir`/`crmd_spawns_pengine` after `pacemaker`.
    #[error("`{directive}` must come before the `pacemaker` directive (line {pacemaker_line})")]
    MustPrecedePacemaker {
        /// Directive name.
        directive: String,
        /// Line of the `pacemaker` directive.
        pacemaker_line: usize,
    },
    /// A path that must name an existing directory.
    #[error("`{directive}`: invalid directory `{value}`: expected an existing directory")]
    BadDirectory {
        /// Directive name.
        directive: String,
        /// The value as written.
        value: String,
    },
    /// A value the C daemon accepts only with software we do not provide.
    #[error("`{directive} {value}` is not supported: {reason}")]
    Unsupported {
        /// Directive name.
        directive: String,
        /// The value as written.
        value: String,
        /// Why, and what to use instead.
        reason: &'static str,
    },
    /// A bad medium line.
    #[error("`{directive}`: {problem}")]
    BadMedium {
        /// Medium directive (`mcast`, `ucast6`, ...).
        directive: String,
        /// What is wrong.
        problem: MediumProblem,
    },
    /// More than 64 media.
    #[error("too many media specified (more than {max})")]
    TooManyMedia {
        /// The limit.
        max: usize,
    },
    /// `env` token without `NAME=`.
    #[error("`env`: invalid setting `{value}`: expected NAME=value")]
    BadEnv {
        /// The token as written.
        value: String,
    },
    /// A bad `apiauth` line.
    #[error("invalid apiauth directive [{line}]: {problem} (syntax: apiauth client [uid=uidlist] [gid=gidlist], comma-separated names or numbers, at least one list)")]
    BadApiauth {
        /// The rest of the line after `apiauth`.
        line: String,
        /// What is wrong.
        problem: ApiauthProblem,
    },
    /// A bad `respawn`/`failfast` line.
    #[error("`{directive}`: {problem}")]
    BadRespawn {
        /// `respawn` or `failfast`.
        directive: String,
        /// What is wrong.
        problem: RespawnProblem,
    },
    /// A bad `stonith`/`stonith_host` line.
    #[error("`{directive}`: {problem}")]
    BadStonith {
        /// `stonith` or `stonith_host`.
        directive: String,
        /// What is wrong.
        problem: StonithProblem,
    },

    // ----- ha.cf: whole-file checks (docs/behaviour.md §3.4) ----------------------
    /// No medium at all.
    #[error("no heartbeat media defined: add at least one bcast, mcast, ucast or serial line")]
    NoMedia,
    /// No `node` line.
    #[error("no nodes defined: add `node <name>` lines for every cluster node")]
    NoNodes,
    /// The local node is not declared.
    #[error("current node [{node}] not in configuration: cluster nodes are named by `uname -n` and must be declared with a `node` directive")]
    LocalNodeMissing {
        /// Local node name (lower case).
        node: String,
    },
    /// deadtime ≤ 2×keepalive.
    #[error("dead time [{deadtime_ms} ms] is too small compared to keepalive [{keepalive_ms} ms]: deadtime must be more than twice keepalive")]
    DeadtimeTooSmall {
        /// deadtime in ms.
        deadtime_ms: u64,
        /// keepalive in ms.
        keepalive_ms: u64,
    },
    /// initdead < deadtime.
    #[error("initial dead time [{initdead_ms} ms] is smaller than deadtime [{deadtime_ms} ms]")]
    InitdeadTooSmall {
        /// initdead in ms.
        initdead_ms: u64,
        /// deadtime in ms.
        deadtime_ms: u64,
    },
    /// deadping ≤ 2×keepalive.
    #[error("ping dead time [{deadping_ms} ms] is too small compared to keepalive [{keepalive_ms} ms]: deadping must be more than twice keepalive")]
    DeadpingTooSmall {
        /// deadping in ms.
        deadping_ms: u64,
        /// keepalive in ms.
        keepalive_ms: u64,
    },
    /// `use_logd off` and no logfile/debugfile/logfacility.
    #[error("no log entry found in ha.cf and use_logd is set to off: configure logfile, debugfile or logfacility, or enable use_logd")]
    NoLogging,
    /// autojoin other/any in haresources mode.
    #[error("R1 style resource management conflicts with autojoin {value}: unset autojoin (or set it to none)")]
    AutojoinConflict {
        /// The autojoin value.
        value: String,
    },

    // ----- authkeys --------------------------------------------------------
    /// A line starting with `a` that is not `auth <n>`.
    #[error("invalid auth line [{text}]: expected `auth <n>` with n in 0..15")]
    BadAuthLine {
        /// The line.
        text: String,
    },
    /// A line that is neither a comment, `auth <n>` nor `<n> <method> [key]`.
    #[error("auth line [{text}] is invalid: expected `<n> <method> [<key>]`")]
    BadKeyLine {
        /// The line.
        text: String,
    },
    /// Key index outside 0..15.
    #[error("invalid authnum [{index}]: expected 0..15")]
    AuthIndexRange {
        /// The index as read.
        index: i64,
    },
    /// Not crc, md5 or sha1.
    #[error("invalid authtype [{name}]: expected crc, md5 or sha1")]
    UnknownAuthMethod {
        /// The method as written.
        name: String,
    },
    /// `crc` with a key.
    #[error("auth method [{method}] doesn't use a key: remove the key")]
    KeyNotUsed {
        /// Method name.
        method: String,
    },
    /// md5/sha1 without a key.
    #[error("auth method [{method}] requires a key")]
    KeyRequired {
        /// Method name.
        method: String,
    },
    /// No `auth` line at all.
    #[error("missing auth directive: add `auth <n>` before the key line it selects")]
    MissingAuth,
    /// `auth n` but no key line `n` after it.
    #[error(
        "auth key [{index}] not found: no `{index} <method> [<key>]` line follows `auth {index}`"
    )]
    AuthKeyNotFound {
        /// The selected index.
        index: i64,
    },
    /// `auth n` comes after the key line `n` it selects.
    #[error("`auth {index}` must precede its key line (key {index} is on line {key_line})")]
    AuthAfterKey {
        /// The selected index.
        index: i64,
        /// Line of the key.
        key_line: usize,
    },
    /// authkeys readable by group or others.
    #[error("bad permissions {mode:04o} on keyfile: it must not be readable by group or others, 600 recommended")]
    BadPermissions {
        /// The file mode (permission bits).
        mode: u32,
    },
    /// authkeys writable by group or others (not checked by the C daemon).
    #[error("bad permissions {mode:04o} on keyfile: it must not be writable by group or others (anyone who can write it chooses the cluster's keys), 600 recommended")]
    WritableKeyfile {
        /// The file mode (permission bits).
        mode: u32,
    },
    /// authkeys owned by someone other than root or the reading user.
    #[error("keyfile is owned by uid {owner}: it must be owned by root (or uid {euid}, which reads it), since its owner can change the keys; chown root authkeys")]
    KeyfileOwner {
        /// The file's owner.
        owner: u32,
        /// The effective uid of the reader.
        euid: u32,
    },

    // ----- haresources -------------------------------------------------------
    /// First word of a haresources line is not a configured node.
    #[error("bad node name [{name}]: expected one of the ha.cf nodes: {}", known.join(", "))]
    BadNodeName {
        /// The word found.
        name: String,
        /// The configured node names.
        known: Vec<String>,
    },
}

fn unknown_hint(name: &str) -> &'static str {
    match name {
        "normalpoll" | "hbaping" | "tipc" | "rds" | "openais" => {
            ": not supported by Heartbeat 3.0.6 as packaged by Debian"
        }
        _ => ": not a ha.cf directive (directives are case-sensitive)",
    }
}

/// What is wrong with a medium line (docs/protocol.md §11).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediumProblem {
    /// No interface/device given.
    #[error("missing interface name")]
    MissingInterface,
    /// The interface does not exist on this host.
    #[error("device [{name}] is invalid or not set up properly")]
    NoSuchInterface {
        /// Interface name.
        name: String,
    },
    /// A `serial` device that does not exist.
    #[error("nonexistent serial port [{device}]")]
    NoSuchSerialPort {
        /// Device path as written.
        device: String,
    },
    /// ucast/ucast6 without a peer.
    #[error("[{iface}] missing target IP address/hostname")]
    MissingPeer {
        /// Interface name.
        iface: String,
    },
    /// mcast/mcast6 without a group.
    #[error("[{iface}] missing multicast group")]
    MissingGroup {
        /// Interface name.
        iface: String,
    },
    /// IPv4 group not in 224.0.0.0/4.
    #[error("[{iface}] bad multicast group [{value}]: expected an IPv4 address in 224.0.0.0-239.255.255.255")]
    BadMcastGroup {
        /// Interface name.
        iface: String,
        /// The value as written.
        value: String,
    },
    /// IPv6 group not a usable multicast address.
    #[error("[{iface}] bad multicast group [{value}]: expected an IPv6 multicast address of link, admin, site or organization scope")]
    BadMcast6Group {
        /// Interface name.
        iface: String,
        /// The value as written.
        value: String,
    },
    /// ucast6 peer not a usable IPv6 unicast address.
    #[error("[{iface}] bad address [{value}]: expected an IPv6 unicast address (not multicast, ::, or ::1)")]
    BadUcast6Addr {
        /// Interface name.
        iface: String,
        /// The value as written.
        value: String,
    },
    /// Missing port.
    #[error("[{iface}] missing port")]
    MissingPort {
        /// Interface name.
        iface: String,
    },
    /// Bad port.
    #[error("[{iface}] bad port [{value}]: expected 1..65535")]
    BadPort {
        /// Interface name.
        iface: String,
        /// The value as written.
        value: String,
    },
    /// Missing ttl/hops.
    #[error("[{iface}] missing ttl")]
    MissingTtl {
        /// Interface name.
        iface: String,
    },
    /// ttl/hops outside 0..4.
    #[error("[{iface}] bad ttl [{value}]: expected 0..4")]
    BadTtl {
        /// Interface name.
        iface: String,
        /// The value as written.
        value: String,
    },
    /// Missing loop flag.
    #[error("[{iface}] missing loop")]
    MissingLoop {
        /// Interface name.
        iface: String,
    },
    /// loop not 0/1.
    #[error("[{iface}] bad loop [{value}]: expected 0 or 1")]
    BadLoop {
        /// Interface name.
        iface: String,
        /// The value as written.
        value: String,
    },
    /// ping_group without a name.
    #[error("missing group name: expected `ping_group <name> <host>...`")]
    MissingGroupName,
    /// ping_group without hosts.
    #[error("group [{name}] has no hosts: expected `ping_group <name> <host>...`")]
    NoGroupHosts {
        /// Group name.
        name: String,
    },
    /// ping_group member neither an IPv4 address nor a resolvable name.
    #[error(
        "group [{name}]: unknown host [{host}]: expected an IPv4 address or a resolvable host name"
    )]
    BadGroupHost {
        /// Group name.
        name: String,
        /// The host as written.
        host: String,
    },
}

/// What is wrong with an `apiauth` line (docs/behaviour.md §7.5).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiauthProblem {
    /// Nothing after `apiauth`.
    #[error("missing client name")]
    MissingClient,
    /// Client id longer than the API allows.
    #[error("client name [{client}] too long (at most {max} characters)")]
    ClientTooLong {
        /// The client id.
        client: String,
        /// Longest allowed.
        max: usize,
    },
    /// Neither uid= nor gid=.
    #[error("one of uid= or gid= must be given")]
    NoLists,
    /// uid= given twice.
    #[error("duplicate uid list")]
    DuplicateUidList,
    /// gid= given twice.
    #[error("duplicate gid list")]
    DuplicateGidList,
    /// A word that is not uid=/gid=.
    #[error("missing uid or gid at [{word}]")]
    UnexpectedWord {
        /// The word found.
        word: String,
    },
    /// Unknown user name.
    #[error("invalid user id name [{name}]")]
    UnknownUser {
        /// The name.
        name: String,
    },
    /// Unknown group name.
    #[error("invalid group name [{name}]")]
    UnknownGroup {
        /// The name.
        name: String,
    },
    /// Client configured twice.
    #[error("duplicate apiauth directive for API client {client}")]
    DuplicateClient {
        /// The client id.
        client: String,
    },
}

/// What is wrong with a `respawn`/`failfast` line (docs/behaviour.md §10).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RespawnProblem {
    /// Nothing after the directive.
    #[error("missing user and command: expected `<user> /absolute/command [args...]`")]
    MissingUser,
    /// User name of 64 characters or more.
    #[error("user name specified for client child is too long (at most 63 characters)")]
    UserTooLong,
    /// User unknown to the system.
    #[error("invalid uid [{user}] specified for client child: no such user")]
    UnknownUser {
        /// The user name.
        user: String,
    },
    /// Command missing.
    #[error("missing command after user [{user}]: expected an absolute path")]
    MissingCommand {
        /// The user name.
        user: String,
    },
    /// Command not starting with `/`.
    #[error("client child command [{command}] is not full pathname")]
    NotAbsolute {
        /// The command.
        command: String,
    },
    /// First word not executable.
    #[error("client child command [{path}] is not executable")]
    NotExecutable {
        /// The program path.
        path: String,
    },
}

/// What is wrong with a `stonith`/`stonith_host` line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StonithProblem {
    /// `stonith_host` without host.
    #[error("no stonith hostname argument given")]
    MissingHost,
    /// No device type.
    #[error("no stonith type given")]
    MissingType,
    /// `stonith <type>` without the config file.
    #[error("invalid stonith config file []: expected `stonith <type> <configfile>`")]
    MissingConfigFile,
    /// cluster-glue does not know the device type.
    #[error(
        "Invalid Stonith type [{stonith_type}]: `stonith -L` lists the installed device types"
    )]
    UnknownType {
        /// The type as written.
        stonith_type: String,
    },
    /// Fewer parameters than the device type has configuration names.
    #[error("Invalid Stonith configuration parameter {detail}")]
    BadParameters {
        /// `[<parameters as written>]: <what the type expects>`.
        detail: String,
    },
    /// The configuration file of a `stonith` line cannot be read.
    #[error("Invalid Stonith config file {detail}")]
    BadConfigFile {
        /// `[<path>]: <why it cannot be used>`.
        detail: String,
    },
    /// cluster-glue's `stonith` command is missing.
    #[error("cannot check the device: {command} is missing (install cluster-glue)")]
    NoStonithCommand {
        /// The command path.
        command: String,
    },
}
