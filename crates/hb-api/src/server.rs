//! [`ApiServer`]: the table of API clients and every decision about them.
//!
//! The server never touches a socket. Each entry point returns the
//! [`Action`]s the daemon must perform, in order: replies to frame and
//! write (`hb_proto::ipc::encode_frame`), connections to close, messages to
//! send to the cluster, signals to send, lines to log.
//!
//! Clients are kept newest first, like the C list, because that order
//! decides who receives a message addressed by `to_id` when ids collide
//! and in which order broadcast copies go out.

use crate::auth::{AuthTable, PeerCred};
use crate::requests::{self, Context, Effect, DEBUG_TREATMENTS};
use crate::view::ClusterView;
use crate::wire::{self, API_BADREQ, API_OK, T_APICLISTAT, T_APIREQ, T_APIRESP, T_QCSTATUS};
use hb_proto::Message;
use log::Level;
use thiserror::Error;

mod signon;

/// The daemon's handle of a connection (e.g. its mio token number).
pub type ConnId = u64;

/// Treatment bits of a delivered message (docs/behaviour.md §7.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Treatment {
    /// 0x01: ordinary delivery.
    KeepIt = 0x01,
    /// 0x02: repeated status.
    NoChange = 0x02,
    /// 0x04: dropped packet.
    DropIt = 0x04,
    /// 0x08: duplicate packet.
    Duplicate = 0x08,
    /// 0x10: a client's API message.
    ApiCall = 0x10,
    /// 0x20: protocol packet.
    Protocol = 0x20,
}

/// Tunables of the API server.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Who may sign on (docs/behaviour.md §7.5).
    pub auth: AuthTable,
    /// uid of the daemon: may set debug filters besides root.
    pub daemon_uid: u32,
    /// Most connections at once; further ones are refused at accept.
    pub max_clients: usize,
    /// Default per-client send queue length, in messages (C: 64).
    pub default_queue_len: usize,
    /// Send netstring payloads instead of classic text (`msgfmt netstring`).
    pub netstring: bool,
}

impl ApiConfig {
    /// Defaults: 64-message queues, 256 connections, classic text.
    pub fn new(auth: AuthTable, daemon_uid: u32) -> ApiConfig {
        ApiConfig {
            auth,
            daemon_uid,
            max_clients: 256,
            default_queue_len: 64,
            netstring: false,
        }
    }
}

/// What the daemon must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Frame `payload` and write it to `conn` (queue it if the socket is
    /// full; report the queue with [`ApiServer::backlog`]).
    Reply {
        /// Connection.
        conn: ConnId,
        /// Encoded message (classic text + NUL by default).
        payload: Vec<u8>,
    },
    /// Close `conn` after writing what is already queued for it; the
    /// server has forgotten it.
    Close {
        /// Connection.
        conn: ConnId,
    },
    /// Send this message to the cluster like any message of our own
    /// (adds `src`, `seq`, …, honours `dest`), **and** process the local
    /// copy right away, i.e. call [`ApiServer::deliver`] with it before
    /// doing the following actions (that is how a new named client gets
    /// its own join message before its sign-on reply).
    SendToCluster(Message),
    /// `kill(pid, signal)` after a message was queued to a client that
    /// asked for a signal (`setsignal`).
    Signal {
        /// Connection.
        conn: ConnId,
        /// Client pid.
        pid: i32,
        /// Signal number (never 0).
        signal: i32,
    },
    /// A log line.
    Log {
        /// Severity.
        level: Level,
        /// Text, in the C daemon's wording.
        text: String,
    },
}

/// Why a connection was refused at accept.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConnectError {
    /// The client table is full.
    #[error("too many API clients ({0}); refusing connection — raise the limit or find the leaking client")]
    TooManyClients(usize),
    /// The daemon reused a live connection id.
    #[error("API connection id {0} is already in use (daemon bug)")]
    DuplicateConn(ConnId),
}

/// A registered client.
#[derive(Debug, Clone)]
struct Registration {
    id: String,
    pid: i32,
    casual: bool,
    uid: u32,
}

#[derive(Debug, Clone)]
struct Client {
    conn: ConnId,
    peer: PeerCred,
    reg: Option<Registration>,
    generation: u64,
    mask: u32,
    signal: i32,
    queue_len: usize,
    failures: u32,
}

/// Reads in a row that yield no message before a client is dropped.
const MAX_BAD_READS: u32 = 10;

/// The API client table.
#[derive(Debug)]
pub struct ApiServer {
    cfg: ApiConfig,
    /// Oldest first; iterate in reverse for the C order.
    clients: Vec<Client>,
    generation: u64,
}

fn log(level: Level, text: impl Into<String>) -> Action {
    Action::Log {
        level,
        text: text.into(),
    }
}

impl ApiServer {
    /// An empty table.
    pub fn new(cfg: ApiConfig) -> ApiServer {
        ApiServer {
            cfg,
            clients: Vec::new(),
            generation: 0,
        }
    }

    /// Replaces the authorization table (ha.cf reread).
    pub fn set_auth(&mut self, auth: AuthTable) {
        self.cfg.auth = auth;
    }

    /// Number of connections (signed on or not).
    pub fn connection_count(&self) -> usize {
        self.clients.len()
    }

    /// Whether the connection `conn` has signed on.
    pub fn conn_signed_on(&self, conn: ConnId) -> bool {
        self.index(conn)
            .is_some_and(|i| self.clients[i].reg.is_some())
    }

    /// Forgets connection `conn` if it never signed on (nobody knew it, so
    /// there is no leave message); the daemon closes the socket.
    pub fn forget_unsigned(&mut self, conn: ConnId) {
        if let Some(i) = self.index(conn).filter(|&i| self.clients[i].reg.is_none()) {
            self.clients.remove(i);
        }
    }

    /// Whether a client with this id is signed on.
    pub fn client_online(&self, id: &str) -> bool {
        self.find(Some(id), None).is_some()
    }

    /// Ids of the signed-on clients, newest first.
    pub fn client_ids(&self) -> Vec<String> {
        self.clients
            .iter()
            .rev()
            .filter_map(|c| c.reg.as_ref().map(|r| r.id.clone()))
            .collect()
    }

    /// A new connection with its `SO_PEERCRED` values. It must sign on
    /// with its first message.
    pub fn connect(&mut self, conn: ConnId, peer: PeerCred) -> Result<(), ConnectError> {
        if self.index(conn).is_some() {
            return Err(ConnectError::DuplicateConn(conn));
        }
        if self.clients.len() >= self.cfg.max_clients {
            return Err(ConnectError::TooManyClients(self.cfg.max_clients));
        }
        self.clients.push(Client {
            conn,
            peer,
            reg: None,
            generation: 0,
            mask: Treatment::KeepIt as u32,
            signal: 0,
            queue_len: self.cfg.default_queue_len,
            failures: 0,
        });
        Ok(())
    }

    /// The connection ended: EOF (`reason` `EOF`), a write error
    /// (`sendfail`), … The connection is already gone, so no `Close` and no
    /// reply; a named client's leave still goes to the cluster.
    pub fn disconnect(
        &mut self,
        conn: ConnId,
        reason: &str,
        view: &dyn ClusterView,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        if let Some(i) = self.index(conn) {
            self.remove(i, reason, false, view, &mut out);
        }
        out
    }

    /// The daemon's write queue for `conn` now holds `queued` frames. A
    /// client whose queue exceeds its limit (64 unless `set_sendqlen`) is
    /// dropped with reason `sendfail`.
    pub fn backlog(&mut self, conn: ConnId, queued: usize, view: &dyn ClusterView) -> Vec<Action> {
        let mut out = Vec::new();
        if let Some(i) = self.index(conn) {
            if queued > self.clients[i].queue_len {
                out.push(log(
                    Level::Warn,
                    format!(
                        "API client on connection {conn}: {queued} messages queued (limit {}), removing it",
                        self.clients[i].queue_len
                    ),
                ));
                self.remove(i, "sendfail", true, view, &mut out);
            }
        }
        out
    }

    /// The 9-second audit: clients whose process is gone are removed
    /// (`died-audit`).
    pub fn audit(&mut self, view: &dyn ClusterView) -> Vec<Action> {
        let mut out = Vec::new();
        let dead: Vec<ConnId> = self
            .clients
            .iter()
            .rev()
            .filter(|c| c.reg.as_ref().is_some_and(|r| !view.process_exists(r.pid)))
            .map(|c| c.conn)
            .collect();
        for conn in dead {
            if let Some(i) = self.index(conn) {
                let pid = self.clients[i].reg.as_ref().map_or(0, |r| r.pid);
                out.push(log(
                    Level::Info,
                    format!("api_audit_clients: client {pid} died"),
                ));
                self.remove(i, "died-audit", true, view, &mut out);
            }
        }
        out
    }

    /// One complete frame payload from `conn`.
    pub fn input(&mut self, conn: ConnId, payload: &[u8], view: &dyn ClusterView) -> Vec<Action> {
        let mut out = Vec::new();
        let Some(i) = self.index(conn) else {
            out.push(log(
                Level::Error,
                format!("API input from unknown connection {conn}"),
            ));
            return out;
        };
        if payload.len() > hb_proto::MAXMSG {
            out.push(log(
                Level::Error,
                format!(
                    "API message of {} bytes from connection {conn} exceeds {} bytes",
                    payload.len(),
                    hb_proto::MAXMSG
                ),
            ));
            self.remove(i, "msgtoobig", true, view, &mut out);
            return out;
        }
        let msg = match hb_proto::decode_any(payload) {
            Ok(m) => m,
            Err(e) => {
                let c = &mut self.clients[i];
                c.failures += 1;
                let pid = c.reg.as_ref().map_or(0, |r| r.pid);
                out.push(log(
                    Level::Info,
                    format!("No message from pid {pid} (undecodable: {e})"),
                ));
                if c.failures >= MAX_BAD_READS {
                    out.push(log(Level::Error, format!("Removing client pid {pid}")));
                    self.remove(i, "noinput", true, view, &mut out);
                }
                return out;
            }
        };
        self.clients[i].failures = 0;
        // Debug clients watching API calls see every client message.
        self.route(&msg, Treatment::ApiCall as u32, view, &mut out);
        let Some(i) = self.index(conn) else {
            return out;
        };
        if self.clients[i].reg.is_none() {
            self.register(i, &msg, view, &mut out);
        } else {
            self.request(i, msg, view, &mut out);
        }
        // A request from a vanished process removes its client.
        if let Some(i) = self.index(conn) {
            if let Some(pid) = self.clients[i].reg.as_ref().map(|r| r.pid) {
                if !view.process_exists(pid) {
                    self.remove(i, "died", true, view, &mut out);
                }
            }
        }
        out
    }

    /// A message the cluster layer delivers locally (KEEPIT treatment).
    pub fn deliver(&mut self, msg: &Message, view: &dyn ClusterView) -> Vec<Action> {
        self.deliver_as(msg, Treatment::KeepIt, view)
    }

    /// A message with an explicit treatment (NOCHANGE for repeated status,
    /// DROPIT/DUPLICATE/PROTOCOL for debug clients).
    pub fn deliver_as(
        &mut self,
        msg: &Message,
        treatment: Treatment,
        view: &dyn ClusterView,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        if let Some(dest) = msg.get_str("dest") {
            if !dest.eq_ignore_ascii_case(&view.local_node()) {
                return out;
            }
        }
        self.route(msg, treatment as u32, view, &mut out);
        out
    }

    /// The daemon's handler for `query-cstatus` (answer with a
    /// `respond-cstatus` to the cluster) and `respond-cstatus` (deliver to
    /// the asking client). Other types are simply delivered.
    pub fn on_cluster_message(&mut self, msg: &Message, view: &dyn ClusterView) -> Vec<Action> {
        if msg.msg_type() != Some(T_QCSTATUS) {
            return self.deliver(msg, view);
        }
        let mut out = Vec::new();
        if let Some(dest) = msg.get_str("dest") {
            if !dest.eq_ignore_ascii_case(&view.local_node()) {
                return out;
            }
        }
        let (Some(cn), Some(from_id), Some(src)) = (
            msg.get_str("cn"),
            msg.get_str("from_id"),
            msg.get_str("src"),
        ) else {
            out.push(log(Level::Error, "HBDoMsg_T_QCSTATUS ha_msg_value failed"));
            return out;
        };
        let st = if self.client_online(cn) {
            "online"
        } else {
            "offline"
        };
        let answer = Message::from_pairs([
            ("t", wire::T_RCSTATUS),
            ("dest", src),
            ("result", API_OK),
            ("cn", cn),
            ("to_id", from_id),
            ("cs", st),
        ]);
        out.push(Action::SendToCluster(answer));
        out
    }

    // ----------------------------------------------------------------

    fn index(&self, conn: ConnId) -> Option<usize> {
        self.clients.iter().position(|c| c.conn == conn)
    }

    /// `find_client`: newest first, by pid or by id, signed-on clients only.
    fn find(&self, id: Option<&str>, pid: Option<i32>) -> Option<usize> {
        (0..self.clients.len()).rev().find(|&i| {
            self.clients[i]
                .reg
                .as_ref()
                .is_some_and(|r| pid.is_some_and(|p| p == r.pid) || id.is_some_and(|s| s == r.id))
        })
    }

    fn send(&self, i: usize, msg: &Message, out: &mut Vec<Action>) {
        let c = &self.clients[i];
        out.push(Action::Reply {
            conn: c.conn,
            payload: wire::encode_payload(msg, self.cfg.netstring),
        });
        if let (Some(r), true) = (&c.reg, c.signal != 0) {
            out.push(Action::Signal {
                conn: c.conn,
                pid: r.pid,
                signal: c.signal,
            });
        }
    }

    /// Delivery to every client whose mask has `bits`, or only to the one
    /// named by `to_id`.
    fn route(&mut self, msg: &Message, bits: u32, view: &dyn ClusterView, out: &mut Vec<Action>) {
        let to_id = msg.get_str("to_id");
        let targets: Vec<ConnId> = self
            .clients
            .iter()
            .rev()
            .filter(|c| c.reg.is_some())
            .filter(|c| to_id.map_or(true, |t| c.reg.as_ref().is_some_and(|r| r.id == t)))
            .take(if to_id.is_some() { 1 } else { usize::MAX })
            .filter(|c| c.mask & bits != 0)
            .map(|c| c.conn)
            .collect();
        for conn in targets {
            let Some(i) = self.index(conn) else { continue };
            self.send(i, msg, out);
            let pid = self.clients[i].reg.as_ref().map_or(0, |r| r.pid);
            if !view.process_exists(pid) {
                self.remove(i, "died", true, view, out);
            }
        }
    }

    /// Removes client `i`. A named client's leave goes to itself (when
    /// `connected`) and to the cluster.
    fn remove(
        &mut self,
        i: usize,
        reason: &str,
        connected: bool,
        view: &dyn ClusterView,
        out: &mut Vec<Action>,
    ) {
        let c = self.clients.remove(i);
        if let Some(r) = c.reg.as_ref().filter(|r| !r.casual) {
            let leave = clstat(r, "leave", reason, c.generation, view);
            if connected {
                out.push(Action::Reply {
                    conn: c.conn,
                    payload: wire::encode_payload(&leave, self.cfg.netstring),
                });
            }
            out.push(Action::SendToCluster(leave));
        }
        if connected {
            out.push(Action::Close { conn: c.conn });
        }
    }

    /// docs/behaviour.md §7.6/§7.8: a message from a signed-on client.
    fn request(
        &mut self,
        i: usize,
        mut msg: Message,
        view: &dyn ClusterView,
        out: &mut Vec<Action>,
    ) {
        let Some(reg) = self.clients[i].reg.clone() else {
            return;
        };
        let Some(msgtype) = msg.msg_type().map(str::to_string) else {
            out.push(log(Level::Error, "api_process_request: bad message type"));
            return;
        };
        if msgtype != T_APIREQ {
            if reg.casual {
                out.push(log(
                    Level::Info,
                    "api_process_request: general message from casual client!",
                ));
                self.remove(i, "badclient", true, view, out);
                return;
            }
            msg.set_str("from_id", &reg.id);
            msg.set_str("to_id", &reg.id);
            msg.set_str("client_gen", self.clients[i].generation.to_string());
            out.push(Action::SendToCluster(msg));
            return;
        }
        let from_id = msg.get_str("from_id");
        let cpid = msg.get_str("pid");
        let Some(reqtype) = msg
            .get_str("reqtype")
            .filter(|_| from_id.is_some() || cpid.is_some())
        else {
            out.push(log(
                Level::Error,
                "api_process_request: no fromid/pid/reqtype in message.",
            ));
            return;
        };
        let Some(found) = self.find(from_id, cpid.map(wire::atoi)) else {
            out.push(log(
                Level::Error,
                "api_process_request: msg from non-client",
            ));
            return;
        };
        if found != i {
            let other = &self.clients[found];
            let other_reg = other.reg.as_ref();
            out.push(log(Level::Error, "Client mismatch! (impersonation?)"));
            out.push(log(
                Level::Info,
                format!(
                    "pids ({} vs {}), Client IDs ({} vs {})",
                    other_reg.map_or(0, |r| r.pid),
                    reg.pid,
                    other_reg.map_or("", |r| r.id.as_str()),
                    reg.id
                ),
            ));
            return;
        }
        let resp = Message::from_pairs([("t", T_APIRESP), ("reqtype", reqtype)]);
        let online = |id: &str| self.client_online(id);
        let cx = Context {
            view,
            client_uid: reg.uid,
            client_mask: self.clients[i].mask,
            daemon_uid: self.cfg.daemon_uid,
            client_online: &online,
        };
        match requests::handle(reqtype, &msg, resp, &cx) {
            Ok(o) => {
                out.extend(o.logs.into_iter().map(|(l, t)| log(l, t)));
                for r in &o.replies {
                    self.send(i, r, out);
                }
                self.apply(i, o.effect, &reg, view, out);
            }
            Err(bad) => {
                if bad.unknown {
                    out.push(log(Level::Error, "Unknown API request"));
                }
                out.push(log(
                    Level::Error,
                    format!("api_process_request: bad request [{reqtype}]"),
                ));
                out.extend(wire::dump(&msg).into_iter().map(|l| log(Level::Error, l)));
                let mut resp = bad.resp;
                resp.push_str("result", API_BADREQ);
                if let Some(info) = bad.info {
                    resp.push_str("info", info);
                }
                self.send(i, &resp, out);
            }
        }
    }

    fn apply(
        &mut self,
        i: usize,
        effect: Effect,
        reg: &Registration,
        view: &dyn ClusterView,
        out: &mut Vec<Action>,
    ) {
        match effect {
            Effect::None => {}
            Effect::SignOff => self.remove(i, "signoff", true, view, out),
            Effect::Filter(mask) => {
                let c = &mut self.clients[i];
                if mask & DEBUG_TREATMENTS != 0 && c.mask & DEBUG_TREATMENTS == 0 {
                    out.push(log(
                        Level::Debug,
                        format!("client {} now receives debug treatments", reg.id),
                    ));
                }
                c.mask = mask;
            }
            Effect::Signal(s) => self.clients[i].signal = s,
            Effect::SendQueueLen(n) => {
                out.push(log(
                    Level::Info,
                    format!(
                        "the send queue length from heartbeat to client {} is set to {n}",
                        reg.id
                    ),
                ));
                self.clients[i].queue_len = n;
            }
            Effect::Cluster(m) => out.push(Action::SendToCluster(m)),
        }
    }
}

/// `t=hbapi-clstat` join/leave of a named client.
fn clstat(
    r: &Registration,
    st: &str,
    info: &str,
    generation: u64,
    view: &dyn ClusterView,
) -> Message {
    let node = view.local_node();
    let gen = generation.to_string();
    Message::from_pairs([
        ("t", T_APICLISTAT),
        ("st", st),
        ("from_id", r.id.as_str()),
        ("to_id", r.id.as_str()),
        ("src", node.as_str()),
        ("info", info),
        ("client_gen", gen.as_str()),
    ])
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
