//! The client API socket (`<rundir>/heartbeat/register`, docs/behaviour.md §7): the
//! I/O half. The protocol itself (sign-on, apiauth, requests, delivery
//! rules) is the pure [`hb_api::ApiServer`]; this module accepts
//! connections, reads frames, queues replies without ever blocking the
//! master, and gives the server a [`ClusterView`] of the engine.

use std::collections::HashMap;
use std::io::{ErrorKind, Read};
use std::os::fd::AsFd;
use std::path::Path;

use hb_api::{
    Action, ApiConfig, ApiServer, AuthTable, ClusterView, ConnId, LinkInfo, NodeInfo, NodeType,
    PeerCred, ResourceHolding,
};
use hb_config::HaCf;
use hb_core::{Cluster, NodeKind};
use hb_proto::ipc::FrameDecoder;
use mio::net::{UnixListener, UnixStream};
use mio::{Interest, Registry, Token};

use crate::outbox::Outbox;

/// Token of the listening socket.
pub const LISTEN: Token = Token(2);
/// Tokens of client connections start here.
pub const CONN_BASE: usize = 1 << 20;

/// What the engine and configuration look like to API clients.
pub struct View<'a> {
    /// The cluster engine.
    pub core: &'a Cluster,
    /// The configuration.
    pub hacf: &'a HaCf,
    /// Resource holding (`getrsc`).
    pub resources: ResourceHolding,
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
        }
    }

    /// Creates the listening socket (stale file removed, mode 0777, as the C daemon).
    pub fn open(&mut self, path: &Path, registry: &Registry) -> std::io::Result<()> {
        let _ = std::fs::remove_file(path);
        let mut l = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o777))?;
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
        let Some(l) = self.listener.as_ref() else {
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
                },
            );
        }
        actions
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
        let mut buf = [0u8; 16384];
        let mut closed = false;
        loop {
            match c.out.writer_mut().read(&mut buf) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => c.frames.push(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        let mut payloads = Vec::new();
        let mut corrupt = false;
        loop {
            match c.frames.next_frame() {
                Ok(Some(p)) => payloads.push(p),
                Ok(None) => break,
                Err(_) => {
                    corrupt = true;
                    break;
                }
            }
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
        if let Some(mut c) = self.conns.remove(&id) {
            let _ = registry.deregister(c.out.writer_mut());
        }
    }
}
