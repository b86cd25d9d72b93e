//! The client API socket (`<rundir>/heartbeat/register`, docs/behaviour.md §7): the
//! I/O half. The protocol itself (sign-on, apiauth, requests, delivery
//! rules) is the pure [`hb_api::ApiServer`]; this module accepts
//! connections, reads frames, queues replies without ever blocking the
//! master, and gives the server a [`ClusterView`] of the engine.

use std::collections::{BTreeSet, HashMap};
use std::io::{ErrorKind, Read};
use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

use hb_api::{
    Action, ApiConfig, ApiServer, AuthTable, ClusterView, ConnId, LinkInfo, NodeInfo, NodeType,
    PeerCred, ResourceHolding,
};
use hb_config::HaCf;
use hb_core::{Cluster, NodeKind};
use hb_proto::ipc::{FrameDecoder, FrameError, HEADER_LEN, MAX_PAYLOAD};
use mio::net::{UnixListener, UnixStream};
use mio::{Interest, Registry, Token};

use crate::outbox::Outbox;

/// Token of the listening socket.
pub const LISTEN: Token = Token(2);
/// Tokens of client connections start here.
pub const CONN_BASE: usize = 1 << 20;

/// A connection that has not signed on after this long is closed (the real
/// clients sign on in their first message; 3.0.6 keeps such a connection
/// forever).
pub const SIGNON_TIMEOUT: Duration = Duration::from_secs(5);
/// Most connections one uid may hold. At the cap, the uid's oldest
/// connection that has not signed on makes room for the new one; when all
/// of them are signed on, the new one is refused.
pub const MAX_CONNS_PER_UID: usize = 64;
/// Bytes read from one connection per wake-up of the master: a client
/// writing as fast as it can cannot keep the master from its heartbeats.
pub const READ_BUDGET: usize = 64 * 1024;

/// What the engine and configuration look like to API clients.
pub struct View<'a> {
    /// The cluster engine.
    pub core: &'a Cluster,
    /// The configuration.
    pub hacf: &'a HaCf,
    /// Resource holding (`getrsc`).
    pub resources: ResourceHolding,
    /// What the operator reports need besides (None: answer them like Heartbeat 3.0.6).
    pub report: Option<crate::report::Sources<'a>>,
}

impl ClusterView for View<'_> {
    fn local_node(&self) -> String {
        self.core.node_name().to_string()
    }
    fn deadtime_ms(&self) -> u64 {
        self.hacf.deadtime_ms
    }
    fn keepalive_ms(&self) -> u64 {
        self.hacf.keepalive_ms
    }
    fn nodes(&self) -> Vec<NodeInfo> {
        let views = self.core.nodes();
        // The C table is in ha.cf order of `node` and `ping` lines together;
        // nodes added at run time (hb_addnode) follow.
        let info = |v: &hb_core::NodeView| NodeInfo {
            name: v.name.clone(),
            node_type: if v.kind == NodeKind::Ping {
                NodeType::Ping
            } else {
                NodeType::Normal
            },
            status: v.status.clone(),
            weight: self.core.node_weight(&v.name),
            site: self.core.node_site(&v.name).to_string(),
        };
        let mut out: Vec<NodeInfo> = Vec::with_capacity(views.len());
        for entry in &self.hacf.node_table {
            if let Some(v) = views.iter().find(|v| v.name == entry.name) {
                out.push(info(v));
            }
        }
        for v in &views {
            if !self.hacf.node_table.iter().any(|e| e.name == v.name) {
                out.push(info(v));
            }
        }
        out
    }
    fn links(&self, node: &str) -> Vec<LinkInfo> {
        self.core
            .links()
            .into_iter()
            .filter(|l| l.node == node)
            .map(|l| LinkInfo {
                name: l.medium,
                status: if l.up { "up" } else { "dead" }.to_string(),
            })
            .collect()
    }
    fn parameter(&self, name: &str) -> Option<String> {
        self.hacf.param(name).map(str::to_string)
    }
    fn hbversion_signon(&self) -> String {
        format!(
            "{} (node: heartbeat-rs {})",
            crate::version::HB_VERSION,
            env!("CARGO_PKG_VERSION")
        )
    }
    fn resource_holding(&self) -> Option<ResourceHolding> {
        Some(self.resources)
    }
    fn uuid_of(&self, node: &str) -> Option<[u8; 16]> {
        self.core
            .nodes()
            .into_iter()
            .find(|n| n.name == node)
            .and_then(|n| n.uuid)
    }
    fn name_of_uuid(&self, uuid: &[u8; 16]) -> Option<String> {
        self.core
            .nodes()
            .into_iter()
            .find(|n| n.uuid.as_ref() == Some(uuid))
            .map(|n| n.name)
    }
    fn log_facility(&self) -> i32 {
        self.hacf.logfacility_code.unwrap_or(-1)
    }
    fn report(&self) -> Option<hb_api::report::Snapshot> {
        let src = self.report.as_ref()?;
        Some(crate::report::snapshot(
            self.core,
            self.hacf,
            src,
            self.resources.as_str(),
        ))
    }
    fn process_exists(&self, pid: i32) -> bool {
        !matches!(
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
            Err(nix::errno::Errno::ESRCH)
        )
    }
}

struct Conn {
    out: Outbox<UnixStream>,
    frames: FrameDecoder,
    uid: u32,
    /// The pid that connected (`SO_PEERCRED`) and a handle on that very
    /// process, for `setsignal` (a pid number alone may be reused).
    pid: i32,
    pidfd: Option<hb_sys::pidfd::PidFd>,
    opened: Instant,
    /// `setsignal` for another pid than the one that connected was logged.
    warned_signal: bool,
}

/// Counters of the API socket's limits (exported as they are).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApiLimitCounters {
    /// Connections closed for not signing on within [`SIGNON_TIMEOUT`].
    pub signon_timeouts: u64,
    /// Unsigned connections closed to make room under [`MAX_CONNS_PER_UID`].
    pub uid_evictions: u64,
    /// Connections refused: their uid held [`MAX_CONNS_PER_UID`] signed-on ones.
    pub uid_refusals: u64,
    /// Connections closed for a frame above the size limit or a corrupt stream.
    pub bad_streams: u64,
    /// Wake-ups that hit [`READ_BUDGET`] and left bytes for the next one.
    pub read_budget_hits: u64,
}

/// The listening socket and every client connection.
pub struct Endpoint {
    listener: Option<UnixListener>,
    conns: HashMap<ConnId, Conn>,
    next_id: ConnId,
    /// Connections refused since the last one accepted (a flood is logged
    /// once when it starts and once when it ends, not once per connection).
    refused: u64,
    /// The protocol logic.
    pub server: ApiServer,
    /// Connections with bytes left to read (their read budget ran out, or
    /// they became readable while clients were paused).
    pending_reads: BTreeSet<ConnId>,
    /// Clients are paused (docs/behaviour.md §7.9): nothing is read from them.
    paused: bool,
    /// Times clients were paused (exported as it is).
    pub pauses: u64,
    /// Counters of the limits.
    pub limits: ApiLimitCounters,
}

/// The apiauth table from ha.cf (which already carries the built-ins).
pub fn auth_table(hacf: &HaCf) -> AuthTable {
    let mut t = AuthTable::new();
    for a in &hacf.apiauth {
        t.set(&a.client, a.uids.clone(), a.gids.clone());
    }
    t
}

impl Endpoint {
    /// An endpoint with no socket yet (it opens at comm up).
    pub fn new(hacf: &HaCf) -> Endpoint {
        let mut cfg = ApiConfig::new(auth_table(hacf), nix::unistd::geteuid().as_raw());
        cfg.netstring = hacf.msgfmt == hb_config::MsgFmt::Netstring;
        Endpoint {
            listener: None,
            conns: HashMap::new(),
            next_id: 1,
            refused: 0,
            server: ApiServer::new(cfg),
            pending_reads: BTreeSet::new(),
            paused: false,
            pauses: 0,
            limits: ApiLimitCounters::default(),
        }
    }

    /// Creates the listening socket (stale file removed, mode 0777, as the C
    /// daemon). The directory is owned by hacluster, so nothing here follows
    /// a name: the old entry is unlinked (a symlink itself, not its target),
    /// and the socket gets its mode from the umask at `bind` instead of a
    /// `chmod` by path, which a planted symlink would redirect to any file
    /// (docs/reliability.md, hardening).
    pub fn open(&mut self, path: &Path, registry: &Registry) -> std::io::Result<()> {
        let _ = std::fs::remove_file(path);
        let mut l = {
            use nix::sys::stat::{umask, Mode};
            // The master is single-threaded: nothing else creates files
            // while the umask is open.
            let old = umask(Mode::empty());
            let r = UnixListener::bind(path);
            umask(old);
            r?
        };
        registry.register(&mut l, LISTEN, Interest::READABLE)?;
        self.listener = Some(l);
        Ok(())
    }

    /// Whether the socket is open.
    pub fn is_open(&self) -> bool {
        self.listener.is_some()
    }

    /// Number of connected clients.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// Accepts every pending connection.
    pub fn accept(&mut self, registry: &Registry) -> Vec<Action> {
        let mut actions = Vec::new();
        let Some(l) = self.listener.take() else {
            return actions;
        };
        loop {
            let (mut stream, _) = match l.accept() {
                Ok(s) => s,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let cred = match nix::sys::socket::getsockopt(
                &stream.as_fd(),
                nix::sys::socket::sockopt::PeerCredentials,
            ) {
                Ok(c) => PeerCred {
                    pid: c.pid(),
                    uid: c.uid(),
                    gid: c.gid(),
                },
                Err(_) => continue,
            };
            if !self.room_for_uid(cred.uid, &mut actions) {
                continue;
            }
            let id = self.next_id;
            self.next_id += 1;
            if let Err(e) = self.server.connect(id, cred) {
                if self.refused == 0 {
                    actions.push(Action::Log {
                        level: log::Level::Warn,
                        text: format!("API connection refused: {e}"),
                    });
                }
                self.refused += 1;
                continue;
            }
            if self.refused > 0 {
                actions.push(Action::Log {
                    level: log::Level::Warn,
                    text: format!(
                        "API connections accepted again after {} refused",
                        std::mem::take(&mut self.refused)
                    ),
                });
            }
            let token = Token(CONN_BASE + usize::try_from(id).unwrap_or(0));
            if registry
                .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
                .is_err()
            {
                continue;
            }
            self.conns.insert(
                id,
                Conn {
                    out: Outbox::new(stream),
                    frames: FrameDecoder::new(),
                    uid: cred.uid,
                    pid: cred.pid,
                    pidfd: hb_sys::pidfd::PidFd::open(cred.pid).ok(),
                    opened: Instant::now(),
                    warned_signal: false,
                },
            );
        }
        self.listener = Some(l);
        actions
    }

    /// Makes room for one more connection of `uid` under
    /// [`MAX_CONNS_PER_UID`]: closes its oldest connection that has not
    /// signed on, or says no when all of them have.
    fn room_for_uid(&mut self, uid: u32, actions: &mut Vec<Action>) -> bool {
        let mut mine: Vec<(Instant, ConnId)> = self
            .conns
            .iter()
            .filter(|(_, c)| c.uid == uid)
            .map(|(id, c)| (c.opened, *id))
            .collect();
        if mine.len() < MAX_CONNS_PER_UID {
            return true;
        }
        mine.sort_unstable();
        let victim = mine
            .iter()
            .map(|(_, id)| *id)
            .find(|id| !self.server.conn_signed_on(*id));
        match victim {
            Some(id) => {
                self.limits.uid_evictions += 1;
                if self.limits.uid_evictions % 1000 == 1 {
                    actions.push(Action::Log {
                        level: log::Level::Warn,
                        text: format!(
                            "API: uid {uid} holds {MAX_CONNS_PER_UID} connections: closing its oldest one that never signed on ({} so far)",
                            self.limits.uid_evictions
                        ),
                    });
                }
                actions.push(Action::Close { conn: id });
                self.drop_unsigned(id);
                true
            }
            None => {
                self.limits.uid_refusals += 1;
                if self.limits.uid_refusals % 1000 == 1 {
                    actions.push(Action::Log {
                        level: log::Level::Warn,
                        text: format!(
                            "API connection of uid {uid} refused: it already has {MAX_CONNS_PER_UID} signed-on clients ({} refused so far)",
                            self.limits.uid_refusals
                        ),
                    });
                }
                false
            }
        }
    }

    /// Forgets a connection that never signed on in the server (no leave
    /// message: nobody knew it); the caller closes the socket.
    fn drop_unsigned(&mut self, id: ConnId) {
        self.pending_reads.remove(&id);
        self.server.forget_unsigned(id);
    }

    /// Closes connections that have not signed on within
    /// [`SIGNON_TIMEOUT`]. Cheap; call it from the master's timers.
    pub fn expire_unsigned(&mut self) -> Vec<Action> {
        if self.paused {
            // Nothing is read while paused: nobody can sign on then.
            return Vec::new();
        }
        let now = Instant::now();
        let expired: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(id, c)| {
                now.duration_since(c.opened) > SIGNON_TIMEOUT && !self.server.conn_signed_on(**id)
            })
            .map(|(id, _)| *id)
            .collect();
        let mut actions = Vec::new();
        if !expired.is_empty() {
            let before = self.limits.signon_timeouts;
            self.limits.signon_timeouts += expired.len() as u64;
            if before == 0 || (before + 1..=self.limits.signon_timeouts).any(u64::is_power_of_two) {
                actions.push(Action::Log {
                    level: log::Level::Warn,
                    text: format!(
                        "API: closed {} connection(s) that did not sign on within {} s ({} so far)",
                        expired.len(),
                        SIGNON_TIMEOUT.as_secs(),
                        self.limits.signon_timeouts
                    ),
                });
            }
        }
        for id in expired {
            self.drop_unsigned(id);
            actions.push(Action::Close { conn: id });
        }
        actions
    }

    /// Whether some connection still has bytes to read (its budget ran out):
    /// the master then polls without waiting and calls
    /// [`Endpoint::take_pending_reads`]. Never while clients are paused.
    pub fn has_pending_reads(&self) -> bool {
        !self.paused && !self.pending_reads.is_empty()
    }

    /// Connections whose reading was cut short (nothing while paused).
    pub fn take_pending_reads(&mut self) -> Vec<ConnId> {
        if self.paused {
            return Vec::new();
        }
        std::mem::take(&mut self.pending_reads)
            .into_iter()
            .collect()
    }

    /// Whether clients are paused.
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Pauses or resumes reading from every client. Connections that
    /// became readable meanwhile are read at once after resuming.
    pub fn set_paused(&mut self, paused: bool) {
        if paused && !self.paused {
            self.pauses += 1;
        }
        if !paused && self.paused {
            // Edge-triggered: any of them may have bytes waiting.
            self.pending_reads.extend(self.conns.keys().copied());
        }
        self.paused = paused;
    }

    /// Delivers an API client's `setsignal` signal: only to the process that
    /// connected (through the pidfd taken at accept, so never to a process
    /// that reused its pid), and only when the pid the client signed on with
    /// is that process. Returns a line to log when the signal is refused.
    pub fn signal(&mut self, id: ConnId, pid: i32, signal: i32) -> Option<String> {
        let c = self.conns.get_mut(&id)?;
        let sig = nix::sys::signal::Signal::try_from(signal).ok()?;
        if c.pid != pid {
            if !std::mem::replace(&mut c.warned_signal, true) {
                return Some(format!(
                    "API client on connection {id} signed on as pid {pid} but connected as pid {}: its setsignal signal is not sent",
                    c.pid
                ));
            }
            return None;
        }
        let _ = c.pidfd.as_ref()?.send_signal(sig);
        None
    }

    /// The connection of a token, if it is one of ours.
    pub fn conn_of(token: Token) -> Option<ConnId> {
        token.0.checked_sub(CONN_BASE).map(|i| i as ConnId)
    }

    /// Reads a connection's frames (edge-triggered: until it would block)
    /// and feeds them to the server. Returns its actions.
    pub fn readable(&mut self, id: ConnId, view: &dyn ClusterView) -> Vec<Action> {
        let Some(c) = self.conns.get_mut(&id) else {
            return Vec::new();
        };
        c.out.flush();
        if self.paused {
            self.pending_reads.insert(id);
            return Vec::new();
        }
        let mut buf = [0u8; 16384];
        let mut closed = false;
        let mut corrupt = false;
        let mut payloads = Vec::new();
        let mut budget = READ_BUDGET;
        self.pending_reads.remove(&id);
        // Edge-triggered: read until it would block, but at most the budget
        // per wake-up; cut frames after every read so a bad or oversized
        // header ends the connection before anything more is buffered.
        loop {
            if budget == 0 {
                self.pending_reads.insert(id);
                self.limits.read_budget_hits += 1;
                break;
            }
            let want = buf.len().min(budget);
            match c.out.writer_mut().read(&mut buf[..want]) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => {
                    budget -= n;
                    c.frames.push(&buf[..n]);
                    match drain_frames(&mut c.frames, &mut payloads) {
                        Ok(()) => {}
                        Err(_) => {
                            corrupt = true;
                            break;
                        }
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        if corrupt {
            self.limits.bad_streams += 1;
            self.pending_reads.remove(&id);
        }
        let mut actions = Vec::new();
        for p in payloads {
            actions.extend(self.server.input(id, &p, view));
        }
        if corrupt || closed {
            actions.extend(self.server.disconnect(
                id,
                if corrupt { "badmsg" } else { "EOF" },
                view,
            ));
            actions.push(Action::Close { conn: id });
        }
        actions
    }

    /// Queues a reply; reports the queue to the server (a client that does
    /// not read is dropped once its queue is full).
    pub fn reply(&mut self, id: ConnId, payload: &[u8], view: &dyn ClusterView) -> Vec<Action> {
        let Some(c) = self.conns.get_mut(&id) else {
            return Vec::new();
        };
        c.out.push(&hb_proto::ipc::encode_frame(payload));
        let queued = c.out.frames_pending();
        if c.out.broken {
            let mut a = self.server.disconnect(id, "sendfail", view);
            a.push(Action::Close { conn: id });
            return a;
        }
        self.server.backlog(id, queued, view)
    }

    /// Drops a connection.
    pub fn close(&mut self, id: ConnId, registry: &Registry) {
        self.pending_reads.remove(&id);
        if let Some(mut c) = self.conns.remove(&id) {
            let _ = registry.deregister(c.out.writer_mut());
        }
    }
}

/// Moves every complete frame into `payloads`. Fails on a corrupt stream,
/// on a header announcing more than [`MAX_PAYLOAD`], and when more bytes are
/// buffered than one frame can have (checked after every read, so a client
/// cannot make the master buffer more than one frame).
fn drain_frames(frames: &mut FrameDecoder, payloads: &mut Vec<Vec<u8>>) -> Result<(), FrameError> {
    while let Some(p) = frames.next_frame()? {
        payloads.push(p);
    }
    if frames.buffered() > HEADER_LEN + MAX_PAYLOAD {
        return Err(FrameError::TooLarge(frames.buffered()));
    }
    Ok(())
}

/// A log value a client chose (a name, a reason, a message field), made
/// safe for one log line: control characters, including newlines that
/// would start a forged line, become `\xNN`; backslashes are doubled.
pub fn escape_log(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() || c == '\\') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let mut b = [0u8; 4];
                for byte in c.encode_utf8(&mut b).bytes() {
                    out.push_str(&format!("\\x{byte:02x}"));
                }
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_values_cannot_forge_lines() {
        assert_eq!(escape_log("ipfail"), "ipfail");
        assert_eq!(
            escape_log("x\nheartbeat[1]: CRIT: forged\r\u{1b}[0m"),
            "x\\x0aheartbeat[1]: CRIT: forged\\x0d\\x1b[0m"
        );
        assert_eq!(escape_log("a\\b"), "a\\\\b");
    }

    #[test]
    fn oversized_headers_and_overfull_buffers_end_the_stream() {
        let mut f = FrameDecoder::new();
        let mut out = Vec::new();
        let mut big = ((MAX_PAYLOAD + 1) as i32).to_le_bytes().to_vec();
        big.extend_from_slice(&0xABCDu32.to_le_bytes());
        f.push(&big);
        assert!(drain_frames(&mut f, &mut out).is_err());
        let mut f = FrameDecoder::new();
        f.push(&hb_proto::ipc::encode_frame(b"t=x\n"));
        assert!(drain_frames(&mut f, &mut out).is_ok());
        assert_eq!(out, vec![b"t=x\n".to_vec()]);
    }
}
