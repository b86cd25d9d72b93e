//! DRBD's outdate-peer daemon (`dopd`) and its client
//! (`drbd-peer-outdater`): every decision, message and exit code, free of
//! I/O. The wire-level contract is the one of the C programs Debian ships
//! with Heartbeat 3.0.6 (documented in dopd(8)), so a mixed pair — our dopd
//! on one node, the C one on the other — outdates each other.
//!
//! The conversation, for resource `r0` on node A whose peer is B:
//!
//! 1. DRBD on A runs its `fence-peer` handler, `drbd-peer-outdater -t 5`,
//!    with `DRBD_RESOURCE=r0` and `DRBD_PEER=b` in the environment.
//! 2. drbd-peer-outdater connects to A's dopd on [`SOCKET`] (cluster-glue IPC
//!    framing, docs/behaviour.md §7.2) and sends
//!    `t=outdater src=drbd-peer-outdater outdater_peer=b outdater_res=r0`.
//! 3. A's dopd checks B in the node walk (a `normal` node, not `dead`, not
//!    A itself); if B is unusable it answers `dop_value=5` at once.
//!    Otherwise it remembers the client for `r0` and sends the API node
//!    message `t=start_outdate src=a dop_res=r0` to dopd on B.
//! 4. B's dopd runs `drbdadm outdate r0` and maps its exit status
//!    ([`outdate_rc`]) to a fence-peer code, sent back as
//!    `t=outdate_rc dop_value=<rc> dop_res=r0 src=b`.
//! 5. A's dopd forwards it to the waiting client as
//!    `t=outdater_rc src=a dop_value=<rc>`; drbd-peer-outdater exits with
//!    that value. No answer within `-t` seconds: exit 5.

use crate::client::NodeEntry;
use crate::error::ClientError;
use crate::getopt::{getopt, Event};
use hb_proto::{cnum, Message};
use std::collections::BTreeMap;

/// The local IPC socket dopd listens on (Debian's build: `/run`).
pub const SOCKET: &str = "/run/heartbeat/dopd/outdater";
/// The API client name dopd signs on with (`apiauth dopd …`).
pub const CLIENT_ID: &str = "dopd";
/// drbd-peer-outdater's name: its `src` field and its log entity.
pub const OUTDATER_NAME: &str = "drbd-peer-outdater";
/// drbd-peer-outdater's timeout without `-t`, in seconds.
pub const DEFAULT_TIMEOUT_S: u64 = 60;

/// IPC request type (drbd-peer-outdater → dopd).
pub const T_OUTDATER: &str = "outdater";
/// IPC answer type (dopd → drbd-peer-outdater).
pub const T_OUTDATER_RC: &str = "outdater_rc";
/// Cluster message asking the peer's dopd to outdate.
pub const T_START_OUTDATE: &str = "start_outdate";
/// Cluster message carrying the peer's result.
pub const T_OUTDATE_RC: &str = "outdate_rc";
/// Field: the DRBD peer's node name (IPC request).
pub const F_OUTDATER_PEER: &str = "outdater_peer";
/// Field: the DRBD resource (IPC request).
pub const F_OUTDATER_RES: &str = "outdater_res";
/// Field: the fence-peer code (answers).
pub const F_DOPD_VALUE: &str = "dop_value";
/// Field: the DRBD resource (cluster messages).
pub const F_DOPD_RES: &str = "dop_res";

/// Exit codes of a DRBD `fence-peer` handler (drbd.conf(5)) and the two
/// extra ones dopd uses.
pub mod rc {
    /// Bad command line (LSB generic error).
    pub const USAGE: i32 = 1;
    /// The peer's disk is inconsistent anyway.
    pub const INCONSISTENT: i32 = 3;
    /// The peer's disk is now outdated: success.
    pub const OUTDATED: i32 = 4;
    /// The peer is down or unreachable.
    pub const UNREACHABLE: i32 = 5;
    /// The peer is primary and cannot be outdated.
    pub const PRIMARY: i32 = 6;
    /// Anything else ("officially undefined").
    pub const UNDEFINED: i32 = 20;
    /// Another drbd-peer-outdater already waits for this resource.
    pub const BUSY: i32 = 21;
}

/// `drbdadm`'s exit status for "disk is inconsistent".
const DRBDADM_INCONSISTENT: i32 = 5;
/// `drbdadm`'s exit status for "device is primary".
const DRBDADM_PRIMARY: i32 = 17;

/// Priority of a log line (mapped onto the daemon logger by the binaries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `debug:`
    Debug,
    /// `info:`
    Info,
    /// `WARN:`
    Warn,
    /// `ERROR:`
    Error,
}

/// The command dopd runs, as the C program logs it.
pub fn outdate_command(resource: &str) -> String {
    format!("drbdadm outdate {resource}")
}

/// drbd-peer-outdater's request.
pub fn request_message(peer: &str, resource: &str) -> Message {
    Message::from_pairs([
        ("t", T_OUTDATER),
        ("src", OUTDATER_NAME),
        (F_OUTDATER_PEER, peer),
        (F_OUTDATER_RES, resource),
    ])
}

/// dopd's answer to drbd-peer-outdater.
pub fn client_answer(me: &str, value: &str) -> Message {
    Message::from_pairs([("t", T_OUTDATER_RC), ("src", me), (F_DOPD_VALUE, value)])
}

/// The node message asking the peer's dopd to outdate `resource`.
pub fn start_outdate_message(me: &str, resource: &str) -> Message {
    Message::from_pairs([("t", T_START_OUTDATE), ("src", me), (F_DOPD_RES, resource)])
}

/// The node message carrying the result back.
pub fn outdate_rc_message(me: &str, resource: &str, code: i32) -> Message {
    let code = code.to_string();
    Message::from_pairs([
        ("t", T_OUTDATE_RC),
        (F_DOPD_VALUE, code.as_str()),
        (F_DOPD_RES, resource),
        ("src", me),
    ])
}

/// Why dopd's answer to drbd-peer-outdater carries no usable exit code; the
/// messages are the ones the C client logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The answer has no `dop_value` field.
    #[error("answer without dop_value from server")]
    NoValue,
    /// `dop_value` is not a whole base-10 `int`.
    #[error("unknown message: {0} from server")]
    Unknown(String),
}

/// drbd-peer-outdater's exit code for dopd's answer: `dop_value` read as C
/// `strtol` base 10 that must consume the whole string and fit an `int`;
/// anything else (missing, trailing junk, overflow) is an [`AnswerError`],
/// which the client logs and exits [`rc::UNDEFINED`] for. An empty value
/// reads as 0, as in C.
pub fn answer_code(msg: &Message) -> Result<i32, AnswerError> {
    let v = msg.get_str(F_DOPD_VALUE).ok_or(AnswerError::NoValue)?;
    strtol_whole(v).ok_or_else(|| AnswerError::Unknown(v.to_string()))
}

/// C `strtol(s, &end, 10)` with `*end == '\0'` and no `ERANGE` on `int`
/// ([`hb_proto::cnum`]). With no digit strtol consumes nothing, so only the
/// empty string passes (as 0).
fn strtol_whole(s: &str) -> Option<i32> {
    let p = cnum::strtol(s, 10);
    if p.overflow || p.len != s.len() {
        return None;
    }
    i32::try_from(p.value).ok()
}

/// How the `drbdadm outdate` command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandStatus {
    /// Exited with this status.
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
    /// Could not be started (the reason).
    NotRun(String),
}

/// The fence-peer code for a `drbdadm outdate` result, and the line the C
/// dopd logs for an unexpected one: 0 → 4 outdated, 5 → 3 inconsistent,
/// 17 → 6 primary, anything else (including a signal or a command that did
/// not start) → 20. It never answers 5: the peer was reached.
pub fn outdate_rc(status: &CommandStatus, command: &str) -> (i32, Option<String>) {
    match status {
        CommandStatus::Exited(0) => (rc::OUTDATED, None),
        CommandStatus::Exited(DRBDADM_INCONSISTENT) => (rc::INCONSISTENT, None),
        CommandStatus::Exited(DRBDADM_PRIMARY) => (rc::PRIMARY, None),
        CommandStatus::Exited(n) => (
            rc::UNDEFINED,
            Some(format!("unknown exit code from {command}: {n}")),
        ),
        CommandStatus::Signaled(s) => (
            rc::UNDEFINED,
            Some(format!("killed by signal {s}: {command}")),
        ),
        CommandStatus::NotRun(why) => (rc::UNDEFINED, Some(format!("cannot run {command}: {why}"))),
    }
}

/// A parsed drbd-peer-outdater command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutdaterArgs {
    /// The DRBD peer, lower-cased.
    pub peer: String,
    /// The DRBD resource.
    pub resource: String,
    /// How long to wait for dopd's answer, seconds (0: do not wait).
    pub timeout_s: u64,
    /// Number of `-V`.
    pub verbose: u32,
}

/// What drbd-peer-outdater's command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutdaterCli {
    /// Outdate the peer.
    Run(OutdaterArgs),
    /// `-h`: usage on stdout, exit 0.
    Help,
    /// Bad usage: these messages and the usage on stderr, exit
    /// [`rc::USAGE`].
    Usage(Vec<String>),
}

/// drbd-peer-outdater's options `-h -V -t <s> -p <peer> -r <resource>`
/// (GNU getopt, later options win). The peer and the resource fall back to
/// `DRBD_PEER` and `DRBD_RESOURCE`, which drbdadm sets for handlers; newer
/// drbdadm versions set `DRBD_PEERS` (a space-separated list) instead of
/// `DRBD_PEER`, which is used when it names exactly one node. `-t` is read
/// like C `atoi` (a negative or unreadable value is 0).
pub fn parse_outdater_args(args: &[String], env: &dyn Fn(&str) -> Option<String>) -> OutdaterCli {
    let parsed = getopt(args, "hVt:p:r:");
    let mut errors = Vec::new();
    let (mut peer, mut resource) = (None, None);
    let mut timeout_s = DEFAULT_TIMEOUT_S;
    let mut verbose = 0;
    for ev in parsed.events {
        match ev {
            Event::Opt('h', _) => return OutdaterCli::Help,
            Event::Opt('V', _) => verbose += 1,
            Event::Opt('p', v) => peer = v,
            Event::Opt('r', v) => resource = v,
            Event::Opt('t', v) => timeout_s = atoi_secs(v.as_deref().unwrap_or("")),
            Event::Opt(c, _) => errors.push(format!("unexpected option -{c}")),
            Event::Error(e) => errors.push(e),
        }
    }
    let peer = peer.or_else(|| env("DRBD_PEER")).or_else(|| {
        let list = env("DRBD_PEERS")?;
        let mut names = list.split_whitespace();
        let first = names.next()?.to_string();
        names.next().is_none().then_some(first)
    });
    if peer.is_none() {
        errors.push("no DRBD peer: give -p <peer> or set DRBD_PEER".to_string());
    }
    let resource = resource.or_else(|| env("DRBD_RESOURCE"));
    if resource.is_none() {
        errors.push("no DRBD resource: give -r <resource> or set DRBD_RESOURCE".to_string());
    }
    match (peer, resource) {
        (Some(peer), Some(resource)) if errors.is_empty() => OutdaterCli::Run(OutdaterArgs {
            peer: peer.to_ascii_lowercase(),
            resource,
            timeout_s,
            verbose,
        }),
        _ => OutdaterCli::Usage(errors),
    }
}

/// `-t` seconds: C `atoi`-style ([`hb_proto::cnum`]); a negative value is 0.
fn atoi_secs(s: &str) -> u64 {
    u64::try_from(cnum::atol(s)).unwrap_or(0)
}

/// drbd-peer-outdater's usage text.
pub fn outdater_usage(cmd: &str) -> String {
    format!(
        "usage: {cmd} -r <resource> -p <peer> [-t <seconds>] [-V]\n\
         \t-p <peer>\tthe DRBD peer node (default: $DRBD_PEER)\n\
         \t-r <resource>\tthe DRBD resource (default: $DRBD_RESOURCE)\n\
         \t-t <seconds>\thow long to wait for dopd (default: {DEFAULT_TIMEOUT_S})\n\
         \t-V\t\tmore log output\n\n\
         DRBD runs it as its fence-peer handler, with DRBD_PEER and DRBD_RESOURCE set.\n\
         Exit codes: 3 peer inconsistent, 4 peer outdated, 5 peer unreachable,\n\
         6 peer primary, 20 other error, 21 another request for the resource is running.\n"
    )
}

/// Identifies one drbd-peer-outdater connection to dopd.
pub type ConnId = u64;

/// What dopd must do after an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write a log line.
    Log(Level, String),
    /// Answer a drbd-peer-outdater connection (`t=outdater_rc`).
    Answer {
        /// The connection.
        conn: ConnId,
        /// The message to send.
        msg: Message,
    },
    /// Send an API node message to dopd on `node`.
    Send {
        /// Destination node.
        node: String,
        /// The message.
        msg: Message,
    },
    /// Run `drbdadm outdate <resource>`, then call
    /// [`Dopd::outdate_finished`] with this job and the result.
    Outdate(OutdateJob),
}

/// A `start_outdate` to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutdateJob {
    /// The DRBD resource.
    pub resource: String,
    /// The node that asked (where the answer goes).
    pub origin: String,
}

/// dopd's state: which connection waits for which resource.
#[derive(Debug, Clone)]
pub struct Dopd {
    me: String,
    waiting: BTreeMap<String, ConnId>,
}

fn log(level: Level, text: impl Into<String>) -> Action {
    Action::Log(level, text.into())
}

impl Dopd {
    /// dopd on node `me` (the name from the sign-on reply).
    pub fn new(me: &str) -> Dopd {
        Dopd {
            me: me.to_string(),
            waiting: BTreeMap::new(),
        }
    }

    /// Our node name.
    pub fn me(&self) -> &str {
        &self.me
    }

    /// The connection waiting for `resource`, if any.
    pub fn waiting_for(&self, resource: &str) -> Option<ConnId> {
        self.waiting.get(resource).copied()
    }

    fn answer(&self, conn: ConnId, value: &str) -> Action {
        Action::Answer {
            conn,
            msg: client_answer(&self.me, value),
        }
    }

    /// Whether `peer` can be asked: not us, listed, `normal`, not `dead`.
    /// `walk` is the API node walk (an `Err` is its reason).
    fn peer_usable(
        &self,
        peer: &str,
        walk: &mut dyn FnMut() -> Result<Vec<NodeEntry>, ClientError>,
        out: &mut Vec<Action>,
    ) -> bool {
        if peer.eq_ignore_ascii_case(&self.me) {
            out.push(log(Level::Warn, format!("drbd peer node {peer} is me!")));
            return false;
        }
        out.push(log(Level::Debug, "Starting node walk"));
        let nodes = match walk() {
            Ok(n) => n,
            Err(why) => {
                out.push(log(Level::Warn, "Cannot start node walk"));
                out.push(log(Level::Warn, format!("REASON: {why}")));
                return false;
            }
        };
        let mut found = false;
        if let Some(n) = nodes.iter().find(|n| n.name.eq_ignore_ascii_case(peer)) {
            let status = n.status.as_deref().unwrap_or("");
            if n.node_type.as_deref() != Some("normal") {
                out.push(log(
                    Level::Warn,
                    format!(
                        "Cluster node: {}: status: {status} is not a normal node",
                        n.name
                    ),
                ));
            } else if status == "dead" {
                out.push(log(
                    Level::Warn,
                    format!("Cluster node: {}: status: {status}", n.name),
                ));
            } else {
                out.push(log(
                    Level::Debug,
                    format!("node {} found with status {status}", n.name),
                ));
                found = true;
            }
        }
        if !found {
            out.push(log(Level::Warn, format!("drbd peer {peer} was not found")));
        }
        found
    }

    /// A request from drbd-peer-outdater on connection `conn`. An unusable
    /// peer is answered 5 at once; a second connection for a resource that
    /// is already being outdated is answered 21; a repeated request on the
    /// same connection is ignored.
    pub fn on_request(
        &mut self,
        conn: ConnId,
        msg: &Message,
        walk: &mut dyn FnMut() -> Result<Vec<NodeEntry>, ClientError>,
    ) -> Vec<Action> {
        let peer = msg.get_str(F_OUTDATER_PEER);
        let resource = msg.get_str(F_OUTDATER_RES);
        let mut out = vec![log(
            Level::Debug,
            format!(
                "Got message from ({}). (peer: {}, res :{})",
                msg.get_str("src").unwrap_or(""),
                peer.unwrap_or(""),
                resource.unwrap_or("")
            ),
        )];
        let (Some(peer), Some(resource)) = (peer, resource) else {
            out.push(log(
                Level::Warn,
                format!("request without {F_OUTDATER_PEER} or {F_OUTDATER_RES}: ignored"),
            ));
            out.push(self.answer(conn, &rc::UNDEFINED.to_string()));
            return out;
        };
        if !self.peer_usable(peer, walk, &mut out) {
            // Peer dead or not a cluster node: "peer could not be reached".
            out.push(self.answer(conn, &rc::UNREACHABLE.to_string()));
            return out;
        }
        match self.waiting.get(resource) {
            None => {
                self.waiting.insert(resource.to_string(), conn);
                out.push(log(
                    Level::Info,
                    format!(
                        "sending start_outdate message to the other node {} -> {peer}",
                        self.me
                    ),
                ));
                out.push(log(
                    Level::Debug,
                    format!("sending [start_outdate res: {resource}] to node: {peer}"),
                ));
                out.push(Action::Send {
                    node: peer.to_string(),
                    msg: start_outdate_message(&self.me, resource),
                });
            }
            Some(&c) if c != conn => {
                out.push(log(
                    Level::Debug,
                    format!("one client with {resource} already connected"),
                ));
                out.push(self.answer(conn, &rc::BUSY.to_string()));
            }
            Some(_) => {}
        }
        out
    }

    /// A drbd-peer-outdater connection closed: forget what it waited for.
    pub fn on_disconnect(&mut self, conn: ConnId) {
        self.waiting.retain(|_, c| *c != conn);
    }

    /// A message from the cluster (the API). `start_outdate` asks for an
    /// outdate job; `outdate_rc` is forwarded to the connection waiting for
    /// its resource. Everything else is ignored.
    pub fn on_cluster_message(&mut self, msg: &Message) -> Vec<Action> {
        match msg.msg_type() {
            Some(T_START_OUTDATE) => {
                let (Some(resource), Some(origin)) = (msg.get_str(F_DOPD_RES), msg.get_str("src"))
                else {
                    return vec![log(
                        Level::Warn,
                        format!("{T_START_OUTDATE} without {F_DOPD_RES} or src: ignored"),
                    )];
                };
                vec![
                    log(
                        Level::Debug,
                        format!("msg_start_outdate: command: {}", outdate_command(resource)),
                    ),
                    Action::Outdate(OutdateJob {
                        resource: resource.to_string(),
                        origin: origin.to_string(),
                    }),
                ]
            }
            Some(T_OUTDATE_RC) => {
                let resource = msg.get_str(F_DOPD_RES).unwrap_or("");
                let value = msg.get_str(F_DOPD_VALUE);
                let mut out = vec![log(
                    Level::Debug,
                    format!("msg_outdate_rc: {resource} {}", value.unwrap_or("")),
                )];
                if let Some(conn) = self.waiting_for(resource) {
                    let value = value.map_or_else(|| rc::UNDEFINED.to_string(), str::to_string);
                    out.push(self.answer(conn, &value));
                }
                out
            }
            _ => Vec::new(),
        }
    }

    /// `drbdadm outdate` of `job` ended with `status`: the answer to the
    /// node that asked.
    pub fn outdate_finished(&self, job: &OutdateJob, status: &CommandStatus) -> Vec<Action> {
        let command = outdate_command(&job.resource);
        let (code, note) = outdate_rc(status, &command);
        let mut out = Vec::new();
        if let Some(n) = note {
            out.push(log(Level::Info, n));
        }
        let raw = match status {
            CommandStatus::Exited(n) => *n,
            _ => -1,
        };
        out.push(log(
            Level::Debug,
            format!(
                "msg_start_outdate: {}, command rc: {raw}, rc: {code}",
                job.origin
            ),
        ));
        out.push(log(
            Level::Info,
            format!("sending return code: {code}, {} -> {}", self.me, job.origin),
        ));
        out.push(Action::Send {
            node: job.origin.clone(),
            msg: outdate_rc_message(&self.me, &job.resource, code),
        });
        out
    }
}

#[cfg(test)]
mod tests;
