//! The engine: state, public API, the send path and the timers.
//! The receive path lives in `receive.rs`.

use std::collections::{HashMap, VecDeque};

use hb_proto::{InvalidMessage, KeyRing, Message, Value, MAXMSG};

use crate::config::{CoreConfig, Millis};
use crate::event::Event;
use crate::history::History;
use crate::node::{status, LinkView, Node, NodeKind, NodeView};
use crate::node_table::{make_node, seal_with};
use crate::pause::PauseWatch;
use crate::rng::Rng;
use crate::stats::Counters;
use crate::track::RexmitTimers;
use crate::wire::{self, Originator};
mod resume;

/// Extra `dt` advertised during the first seconds after start (docs/protocol.md §8.1).
pub const STARTUP_DEADTIME_BUMP: Millis = 2000;
/// How long the startup bump lasts.
pub const STARTUP_BUMP_DURATION: Millis = 5000;
/// Interval between `reqnodes` retries.
pub const REQNODES_RETRY: Millis = 1000;
/// Unacknowledged messages before API clients should be paused.
pub const FLOWCONTROL_LIMIT: u64 = 250;
/// ACK divisor (`ACK_MSG_DIV`).
pub const ACK_DIV: u64 = 10;
/// Most retransmissions (and NAKs) sent for one request.
pub const MAX_REXMIT_BATCH: usize = 50;
/// Longest status value kept (`STATUSLENG` - 1).
const MAX_STATUS_LEN: usize = 31;
/// Longest `ld` value sent (the C reads 63 bytes of /proc/loadavg).
const MAX_LD_LEN: usize = 63;

/// What the engine asks the daemon to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A sealed packet, to be written unchanged to every medium. (Ping media
    /// only look at status packets, to time their ICMP echoes.)
    Transmit(Vec<u8>),
    /// An accepted message for local consumers (resource manager, API
    /// clients, rc.d scripts): addressed to us or broadcast, including our own
    /// messages (looped back). Protocol-internal types (`NS_ackmsg`,
    /// `NS_rexmit`, `NS_nak_rexmit`, `reqnodes`, `repnodes`) are not
    /// delivered; a `status`/`NS_st` is delivered only when it changes a
    /// peer's status (the C's KEEPIT vs NOCHANGE).
    Deliver(Message),
    /// Something happened; see [`Event`].
    Event(Event),
}

/// Why a local message could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Every cluster message needs a type.
    #[error("message has no string `t` (type) field")]
    MissingType,
    /// The message would not survive encoding.
    #[error("message cannot be encoded: {0}")]
    Invalid(#[from] InvalidMessage),
    /// Larger than a peer accepts.
    #[error("encoded message is {0} bytes, above the {MAXMSG}-byte limit")]
    TooLarge(usize),
}

/// The cluster engine of one node. See the crate documentation.
pub struct Cluster {
    pub(crate) cfg: CoreConfig,
    pub(crate) nodes: Vec<Node>,
    pub(crate) me: usize,
    pub(crate) by_name: HashMap<String, usize>,
    pub(crate) by_uuid: HashMap<[u8; 16], usize>,
    /// Nodes removed with `delnode` (their slots stay; docs/behaviour.md §12).
    pub(crate) deleted: std::collections::HashSet<usize>,
    /// Weights and sites set with `setweight` / `setsite` (docs/behaviour.md §12).
    pub(crate) weights: HashMap<String, i32>,
    pub(crate) sites: HashMap<String, String>,
    pub(crate) now: Millis,
    pub(crate) wall: u64,
    /// Last sequence number we assigned.
    seq: u64,
    pub(crate) hist: History,
    /// Cluster-wide acknowledged sequence number (docs/protocol.md §6.6).
    pub(crate) cluster_ack: u64,
    pub(crate) rexmit: RexmitTimers,
    pub(crate) rng: Rng,
    out: VecDeque<Output>,
    /// Which transmits are the engine's own (see [`Cluster::last_transmit_urgent`]).
    urgency: crate::track::Urgency,
    loopq: VecDeque<Message>,
    draining: bool,
    pub(crate) flow_control: bool,
    pub(crate) links_up: bool,
    comm_up: bool,
    pub(crate) reqnodes_reply: bool,
    reqnodes_retry: Option<(Millis, usize)>,
    next_status: Millis,
    adv_deadtime: Millis,
    deadtime_bumps: u32,
    startup_pop_at: Option<Millis>,
    pub(crate) local_lost: bool,
    local_status: String,
    ld: String,
    pub(crate) counters: Counters,
    /// Pause-aware failure detection (`pause.rs`).
    pub(crate) pause: PauseWatch,
}

impl Cluster {
    /// Starts the engine at `now`: queues the startup status messages
    /// (`st=init` with `dt` = deadtime + 2000, then `st=up` twice, docs/protocol.md §8.1).
    pub fn new(cfg: CoreConfig, now: Millis, wall_secs: u64) -> Cluster {
        let mut rng = Rng::new(cfg.seed);
        let mut cfg = cfg;
        cfg.node_name = cfg.node_name.to_ascii_lowercase();
        if cfg.node_name.is_empty() {
            // hb-config rejects this; the engine must still not index an empty table.
            cfg.node_name = "localhost".to_string();
        }
        let me_name = cfg.node_name.clone();
        let mut nodes: Vec<Node> = Vec::new();
        let mut by_name = HashMap::new();
        let mut add = |name: &str, kind: NodeKind, nodes: &mut Vec<Node>, rng: &mut Rng| {
            let name = name.to_ascii_lowercase();
            if name.is_empty() || by_name.contains_key(&name) {
                return;
            }
            by_name.insert(name.clone(), nodes.len());
            nodes.push(make_node(&cfg, name, kind, now, rng));
        };
        for n in &cfg.nodes {
            add(n, NodeKind::Normal, &mut nodes, &mut rng);
        }
        // The daemon refuses to start when we are not a configured node; the
        // engine stays total and adds us.
        add(&me_name, NodeKind::Normal, &mut nodes, &mut rng);
        for n in &cfg.ping_nodes {
            add(n, NodeKind::Ping, &mut nodes, &mut rng);
        }
        let me = by_name.get(&me_name).copied().unwrap_or(0);
        if let Some(node) = nodes.get_mut(me) {
            node.uuid = cfg.uuid;
        }
        let mut by_uuid = HashMap::new();
        by_uuid.insert(cfg.uuid, me);
        let deadtime = cfg.deadtime;
        let keepalive = cfg.keepalive.max(1);
        let mut c = Cluster {
            cfg,
            nodes,
            me,
            by_name,
            by_uuid,
            deleted: std::collections::HashSet::new(),
            weights: HashMap::new(),
            sites: HashMap::new(),
            now,
            wall: wall_secs,
            seq: 0,
            hist: History::new(),
            cluster_ack: 0,
            rexmit: RexmitTimers::default(),
            rng,
            out: VecDeque::new(),
            urgency: Default::default(),
            loopq: VecDeque::new(),
            draining: false,
            flow_control: true,
            links_up: false,
            comm_up: false,
            reqnodes_reply: false,
            reqnodes_retry: None,
            next_status: now.saturating_add(keepalive),
            adv_deadtime: deadtime,
            deadtime_bumps: 0,
            startup_pop_at: Some(now.saturating_add(STARTUP_BUMP_DURATION)),
            local_lost: false,
            local_status: status::INIT.to_string(),
            ld: "n/a".to_string(),
            counters: Counters::default(),
            pause: PauseWatch::default(),
        };
        c.bump_deadtime(STARTUP_DEADTIME_BUMP);
        c.set_local_status(status::UP);
        c.send_local_status();
        c.drain_loopback();
        c
    }

    // ----- public inputs -------------------------------------------------

    /// A message from a local source (FIFO, API client, resource manager):
    /// adds the control fields (docs/protocol.md §5.1), numbers it, stores it in the history,
    /// processes it locally (loopback) and transmits it.
    pub fn on_local_message(
        &mut self,
        now: Millis,
        wall_secs: u64,
        msg: Message,
    ) -> Result<(), SendError> {
        self.advance(now, wall_secs);
        let r = self.send_cluster_msg(msg);
        self.drain_loopback();
        self.expect_next_run();
        r
    }

    /// Timers: dead-node and dead-link checks, keepalive, retransmit
    /// requests, reqnodes retries, the end of the startup `dt` bump.
    /// Call it when [`Cluster::next_wakeup`] is reached (calling it more
    /// often is harmless). Feed pending input before ticking.
    pub fn on_tick(&mut self, now: Millis, wall_secs: u64) {
        self.advance(now, wall_secs);
        self.check_timeouts();
        if self.startup_pop_at.is_some_and(|t| self.now >= t) {
            self.startup_pop_at = None;
            self.unbump_deadtime();
        }
        if self.now >= self.next_status {
            self.send_local_status();
            self.next_status = self.now.saturating_add(self.cfg.keepalive.max(1));
        }
        while let Some((node, seq)) = self.rexmit.pop_due(self.now) {
            self.fire_rexmit(node, seq);
        }
        if let Some((at, start)) = self.reqnodes_retry {
            if self.now >= at {
                self.send_reqnodes(start);
            }
        }
        if !self.links_up {
            self.check_comm_isup();
        }
        self.drain_loopback();
        self.expect_next_run();
    }

    /// The earliest time at which [`Cluster::on_tick`] has work to do.
    pub fn next_wakeup(&self) -> Millis {
        let mut t = self.next_status;
        let mut consider = |x: Millis| t = t.min(x);
        if let Some(p) = self.startup_pop_at {
            consider(p);
        }
        if let Some(d) = self.rexmit.next_due() {
            consider(d);
        }
        if let Some((at, _)) = self.reqnodes_retry {
            consider(at);
        }
        // Deaths held back by a pause's grace are looked at again at its end.
        let not_before = self.pause.grace_end(self.now).unwrap_or(0);
        let mut consider_death = |x: Millis| t = t.min(x.max(not_before));
        for (i, n) in self.nodes.iter().enumerate() {
            let interval = self.dead_interval_of(n);
            let skip = n.is_dead() || (i == self.me && self.local_lost);
            if !skip {
                match n.last_status {
                    Some(last) => consider_death(last.saturating_add(interval).saturating_add(1)),
                    None => consider_death(self.now),
                }
            }
            if i != self.me {
                for l in n.links.iter().filter(|l| l.up) {
                    consider_death(l.last_update.saturating_add(interval).saturating_add(1));
                }
            }
        }
        t
    }

    /// The next thing for the daemon to do, in order.
    pub fn poll_output(&mut self) -> Option<Output> {
        let out = self.out.pop_front();
        if matches!(out, Some(Output::Transmit(_))) {
            self.urgency.last = self.urgency.queue.pop_front().unwrap_or(false);
        }
        out
    }

    /// Whether the last polled `Transmit` is the engine's own traffic (heartbeat, ACK,
    /// retransmission request or NAK, retransmission), not an `on_local_message` one: the
    /// daemon never lets client traffic delay or push it out.
    pub fn last_transmit_urgent(&self) -> bool {
        self.urgency.last
    }

    /// Sets the `ld` field (first line of `/proc/loadavg`; default `n/a`).
    pub fn set_loadavg(&mut self, ld: &str) {
        let line = ld.lines().next().unwrap_or("").trim_end();
        let mut end = line.len().min(MAX_LD_LEN);
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        self.ld = if line.is_empty() {
            "n/a".to_string()
        } else {
            line[..end].to_string()
        };
    }

    /// Replaces the keys (SIGHUP re-read of authkeys).
    pub fn set_keys(&mut self, keys: KeyRing) {
        self.cfg.keys = keys;
    }

    /// Preloads a node's UUID (from the hostcache), so that messages to it
    /// carry its `destuuid` before we heard from it. Unknown names and the
    /// all-zero UUID are ignored.
    pub fn set_node_uuid(&mut self, node: &str, uuid: [u8; 16]) {
        if uuid == [0; 16] {
            return;
        }
        if let Some(i) = self.lookup(node) {
            if i != self.me {
                self.set_uuid(i, uuid);
            }
        }
    }

    /// Temporarily advertises `dt` = deadtime + `increment` (the C raises it
    /// while forking clients and during a shutdown for restart); sends a
    /// status when the advertised value grows. Pair with
    /// [`Cluster::pop_deadtime`].
    pub fn add_deadtime(&mut self, now: Millis, wall_secs: u64, increment: Millis) {
        self.advance(now, wall_secs);
        self.bump_deadtime(increment);
        self.drain_loopback();
    }

    /// Undoes one [`Cluster::add_deadtime`]; after the last one the normal
    /// deadtime is advertised again (a status is sent).
    pub fn pop_deadtime(&mut self, now: Millis, wall_secs: u64) {
        self.advance(now, wall_secs);
        self.unbump_deadtime();
        self.drain_loopback();
    }

    // ----- read-only views ----------------------------------------------

    /// Our node name.
    pub fn node_name(&self) -> &str {
        &self.cfg.node_name
    }

    /// Our local status (`init`, `up`, `active`).
    pub fn local_status(&self) -> &str {
        &self.local_status
    }

    /// True once communication is up (docs/protocol.md §8.6): our status is `active`.
    pub fn comm_up(&self) -> bool {
        self.comm_up
    }

    /// True once every node was heard from or declared dead (the C's
    /// `COMM_LINKSUP`): from then on peers' own `dt` is their dead interval.
    pub fn links_up(&self) -> bool {
        self.links_up
    }

    /// False after a peer without `protocol` was seen (docs/protocol.md §6.6).
    pub fn flow_control(&self) -> bool {
        self.flow_control
    }

    /// Every node, in table order (normal nodes in ha.cf order, then ping nodes).
    pub fn nodes(&self) -> Vec<NodeView> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.deleted.contains(i))
            .map(|(i, n)| NodeView {
                name: n.name.clone(),
                kind: n.kind,
                status: n.status.clone(),
                uuid: (n.uuid != [0; 16]).then_some(n.uuid),
                dead_interval: n.dead_interval,
                generation: n.track.generation,
                is_local: i == self.me,
                last_status: n.last_status,
            })
            .collect()
    }

    /// Status of one node.
    pub fn node_status(&self, name: &str) -> Option<&str> {
        let i = self.lookup(name)?;
        Some(&self.nodes[i].status)
    }

    /// Every link of every node.
    pub fn links(&self) -> Vec<LinkView> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.deleted.contains(i))
            .flat_map(|(_, n)| {
                n.links.iter().map(move |l| LinkView {
                    node: n.name.clone(),
                    medium: l.name.clone(),
                    medium_index: l.medium,
                    up: l.up,
                    last_packet: l.last_update,
                })
            })
            .collect()
    }

    /// Whether the link (node, medium name) is up; None when there is no such link.
    pub fn link_up(&self, node: &str, medium: &str) -> Option<bool> {
        let i = self.lookup(node)?;
        self.nodes[i]
            .links
            .iter()
            .find(|l| l.name == medium)
            .map(|l| l.up)
    }

    /// Counters since start.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Highest sequence number we sent (0 = none).
    pub fn last_seq(&self) -> u64 {
        self.seq
    }

    /// Sequence numbers we still miss from `node` (None = unknown node).
    pub fn missing_count(&self, node: &str) -> Option<usize> {
        let i = self.lookup(node)?;
        Some(self.nodes[i].track.missing.len())
    }

    /// Armed retransmit-request timers, all nodes together.
    pub fn pending_rexmit_requests(&self) -> usize {
        self.rexmit.len()
    }

    /// Cluster-wide acknowledged sequence number of our stream.
    pub fn cluster_ack(&self) -> u64 {
        self.cluster_ack
    }

    /// True when more than 250 of our messages are unacknowledged while at
    /// least two nodes are alive: the daemon should pause API clients (docs/protocol.md §6.6).
    pub fn congested(&self) -> bool {
        self.flow_control
            && self.hist.hiseq.saturating_sub(self.cluster_ack) > FLOWCONTROL_LIMIT
            && self.live_count() >= 2
    }

    /// The `dt` we currently advertise.
    pub fn advertised_deadtime(&self) -> Millis {
        self.adv_deadtime
    }

    /// The configuration in use.
    pub fn config(&self) -> &CoreConfig {
        &self.cfg
    }

    // ----- internals shared with receive.rs -------------------------------

    pub(crate) fn advance(&mut self, now: Millis, wall_secs: u64) {
        // A monotonic clock never goes back; if the caller's does, hold still.
        self.now = self.now.max(now);
        self.wall = wall_secs;
        self.check_pause();
    }

    pub(crate) fn emit(&mut self, e: Event) {
        self.out.push_back(Output::Event(e));
    }

    pub(crate) fn deliver(&mut self, m: Message) {
        self.out.push_back(Output::Deliver(m));
    }

    pub(crate) fn transmit(&mut self, bytes: Vec<u8>, urgent: bool) {
        self.counters.packets_out += 1;
        self.out.push_back(Output::Transmit(bytes));
        self.urgency.queue.push_back(urgent);
    }

    pub(crate) fn lookup(&self, name: &str) -> Option<usize> {
        self.by_name
            .get(name)
            .copied()
            .filter(|i| !self.deleted.contains(i))
    }

    pub(crate) fn lookup_uuid(&self, uuid: &[u8; 16]) -> Option<usize> {
        self.by_uuid.get(uuid).copied()
    }

    /// Records node `i`'s UUID in the table and the reverse index.
    pub(crate) fn set_uuid(&mut self, i: usize, uuid: [u8; 16]) {
        let old = std::mem::replace(&mut self.nodes[i].uuid, uuid);
        if self.by_uuid.get(&old) == Some(&i) {
            self.by_uuid.remove(&old);
        }
        self.by_uuid.insert(uuid, i);
    }

    /// The dead interval that applies to `n` now (docs/protocol.md §8.2).
    pub(crate) fn dead_interval_of(&self, n: &Node) -> Millis {
        if self.links_up {
            n.dead_interval
        } else {
            self.cfg.initdead
        }
    }

    /// Ourselves plus the normal peers whose status is up or active.
    pub(crate) fn live_count(&self) -> usize {
        1 + self
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, n)| *i != self.me && n.kind == NodeKind::Normal && n.is_up_or_active())
            .count()
    }

    /// The datagram for `msg`: sealed as it is, or its compressed wrapper
    /// sealed when the compression policy asks for it (docs/protocol.md §3.4).
    pub(crate) fn seal_out(&self, msg: &Message) -> Vec<u8> {
        seal_with(&self.cfg.keys, &self.cfg.compression, msg)
    }

    /// Sends a message originated here (C `send_cluster_msg`). The loopback
    /// copy is queued and processed by `drain_loopback` once the current
    /// input has been handled, so processing never re-enters itself.
    pub(crate) fn send_cluster_msg(&mut self, mut msg: Message) -> Result<(), SendError> {
        let t = msg.msg_type().ok_or(SendError::MissingType)?.to_string();
        self.fill_destination(&mut msg);
        let seq = (!wire::is_unsequenced(&t)).then_some(self.seq + 1);
        let origin = Originator {
            name: &self.cfg.node_name,
            uuid: self.cfg.uuid,
            generation: self.cfg.generation,
            ttl: u64::from(self.cfg.hopfudge) + self.nodes.len() as u64,
            ld: &self.ld,
        };
        wire::add_control_fields(&mut msg, &origin, seq, self.wall);
        if self.cfg.inner_auth {
            msg.remove("auth");
            self.cfg.keys.add_inner_auth(&mut msg);
        }
        msg.validate()?;
        let bytes = self.seal_out(&msg);
        if bytes.len() >= MAXMSG {
            return Err(SendError::TooLarge(bytes.len()));
        }
        if let Some(seq) = seq {
            self.seq = seq;
            self.hist.add(seq, &msg);
            if self.flow_control
                && self.hist.hiseq.saturating_sub(self.cluster_ack) > FLOWCONTROL_LIMIT
                && self.live_count() < 2
            {
                self.cluster_ack = self.hist.hiseq - (FLOWCONTROL_LIMIT - 1);
            }
        }
        self.transmit(bytes, self.urgency.sending);
        self.loopq.push_back(msg);
        Ok(())
    }

    /// Sends one of our own protocol messages (cannot fail in practice;
    /// a failure is counted and otherwise ignored).
    pub(crate) fn send_internal(&mut self, msg: Message) {
        self.urgency.sending = true;
        if self.send_cluster_msg(msg).is_err() {
            self.counters.send_failures += 1;
        }
        self.urgency.sending = false;
    }

    /// docs/protocol.md §5.1 step 1: `dest` → `destuuid` (zeros when unknown), or the reverse.
    fn fill_destination(&mut self, msg: &mut Message) {
        if let Some(dest) = msg.get_str("dest") {
            if let Some(i) = self.lookup(dest) {
                let uuid = self.nodes[i].uuid;
                msg.set("destuuid", Value::Binary(uuid.to_vec()));
            }
        } else if let Some(u) = wire::get_uuid(msg, "destuuid") {
            if let Some(i) = self.lookup_uuid(&u) {
                let name = self.nodes[i].name.clone();
                msg.set_str("dest", name);
            }
        }
    }

    pub(crate) fn drain_loopback(&mut self) {
        if self.draining {
            return;
        }
        self.draining = true;
        while let Some(m) = self.loopq.pop_front() {
            self.process_message(m, None);
        }
        self.draining = false;
    }

    pub(crate) fn send_local_status(&mut self) {
        let m = wire::status_msg(&self.local_status, self.adv_deadtime, self.flow_control);
        self.send_internal(m);
    }

    fn set_local_status(&mut self, st: &str) {
        if self.local_status == st {
            return;
        }
        self.local_status = st.to_string();
        if let Some(n) = self.nodes.get_mut(self.me) {
            n.status = st.to_string();
        }
        self.send_local_status();
        self.emit(Event::LocalStatus {
            status: st.to_string(),
        });
    }

    fn bump_deadtime(&mut self, increment: Millis) {
        let wanted = self.cfg.deadtime.saturating_add(increment);
        self.deadtime_bumps = self.deadtime_bumps.saturating_add(1);
        if self.adv_deadtime < wanted {
            self.adv_deadtime = wanted;
            self.send_local_status();
        }
    }

    fn unbump_deadtime(&mut self) {
        self.deadtime_bumps = self.deadtime_bumps.saturating_sub(1);
        if self.deadtime_bumps == 0 {
            self.adv_deadtime = self.cfg.deadtime;
            self.send_local_status();
        }
    }

    /// Forgets a node's stream position and cancels its retransmit timers.
    pub(crate) fn reset_track(&mut self, i: usize) {
        self.nodes[i].track.reset();
        self.rexmit.cancel_node(i);
    }

    pub(crate) fn mark_node_dead(&mut self, i: usize) {
        if i == self.me {
            if !self.local_lost {
                self.local_lost = true;
                self.emit(Event::LocalHeartbeatLost);
            }
            return;
        }
        let node = &mut self.nodes[i];
        node.status = status::DEAD.to_string();
        node.rmt_lastupdate = 0;
        node.heard = false;
        let name = node.name.clone();
        self.reset_track(i);
        self.counters.node_deaths += 1;
        self.emit(Event::NodeDead { node: name });
    }

    fn check_timeouts(&mut self) {
        if self.pause.in_grace(self.now) {
            // Just back from a pause: take in what arrived meanwhile first.
            return;
        }
        for i in 0..self.nodes.len() {
            let n = &self.nodes[i];
            if n.is_dead() || (i == self.me && self.local_lost) {
                continue;
            }
            let interval = self.dead_interval_of(n);
            let expired = match n.last_status {
                None => true,
                Some(last) => self.now.saturating_sub(last) > interval,
            };
            if expired {
                self.mark_node_dead(i);
            }
        }
        for i in 0..self.nodes.len() {
            if i == self.me {
                continue;
            }
            let interval = self.dead_interval_of(&self.nodes[i]);
            let now = self.now;
            let mut changed = Vec::new();
            for l in self.nodes[i].links.iter_mut() {
                if l.up && now.saturating_sub(l.last_update) > interval {
                    l.up = false;
                    changed.push(l.name.clone());
                }
            }
            for medium in changed {
                self.counters.link_deaths += 1;
                let node = self.nodes[i].name.clone();
                self.emit(Event::LinkStatus {
                    node,
                    medium,
                    up: false,
                });
            }
        }
    }

    /// Schedules the first retransmit request for `(node, seq)` (docs/protocol.md §6.4).
    pub(crate) fn schedule_rexmit(&mut self, node: usize, seq: u64) {
        let max = self.cfg.max_rexmit_delay;
        let lo = if max < 100 { 0 } else { 50 };
        let delay = self.rng.range(lo, max);
        self.rexmit.arm(node, seq, self.now.saturating_add(delay));
    }

    fn fire_rexmit(&mut self, i: usize, seq: u64) {
        // No point asking a node that is not up (the timer then lapses).
        if !self.nodes[i].is_up_or_active() {
            return;
        }
        let name = self.nodes[i].name.clone();
        self.send_internal(wire::rexmit_msg(&name, seq));
        self.counters.rexmit_requested += 1;
        let again = self.now.saturating_add(self.cfg.max_rexmit_delay.max(1));
        self.rexmit.arm(i, seq, again);
    }

    /// docs/protocol.md §8.6 step 1.
    pub(crate) fn check_comm_isup(&mut self) {
        if self.links_up {
            return;
        }
        if self.nodes.iter().all(|n| n.heard || n.is_dead()) {
            self.links_up = true;
            if self.flow_control {
                self.send_reqnodes(0);
            } else {
                self.comm_now_up();
            }
        }
    }

    /// Asks the first live normal peer from `start` on for the node list;
    /// retried every second until answered.
    fn send_reqnodes(&mut self, start: usize) {
        self.reqnodes_retry = None;
        if self.reqnodes_reply {
            return;
        }
        let start = if start >= self.nodes.len() { 0 } else { start };
        let target = (start..self.nodes.len()).find(|&i| {
            let n = &self.nodes[i];
            i != self.me && n.kind == NodeKind::Normal && !n.is_dead()
        });
        match target {
            None => {
                self.reqnodes_reply = true;
                self.comm_now_up();
            }
            Some(i) => {
                let name = self.nodes[i].name.clone();
                self.send_internal(wire::reqnodes_msg(&name));
                self.reqnodes_retry = Some((self.now.saturating_add(REQNODES_RETRY), i));
            }
        }
    }

    pub(crate) fn stop_reqnodes(&mut self) {
        self.reqnodes_reply = true;
        self.reqnodes_retry = None;
    }

    pub(crate) fn comm_now_up(&mut self) {
        if self.comm_up {
            return;
        }
        self.comm_up = true;
        self.emit(Event::CommUp);
        self.set_local_status(status::ACTIVE);
    }

    /// Truncates a received status value to what the C keeps.
    pub(crate) fn clip_status(st: &str) -> String {
        let mut end = st.len().min(MAX_STATUS_LEN);
        while !st.is_char_boundary(end) {
            end -= 1;
        }
        st[..end].to_string()
    }
}
