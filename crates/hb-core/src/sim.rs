//! Deterministic cluster simulation: N engines, a virtual clock and a
//! simulated network carrying the real sealed bytes.
//!
//! Everything is driven by one seeded PRNG, so a run is a pure function of
//! its [`SimConfig`] and the calls made on the [`Sim`]: a failing scenario can
//! be replayed exactly. Each directed pair of nodes has [`LinkParams`] (loss,
//! delay, jitter, duplication); jitter also reorders packets. Partitions cut
//! groups apart. A node's own packets come back to it on every medium
//! without delay or loss, like broadcast loopback. Ping media are emulated:
//! every status a node sends produces an `NS_st` echo from each reachable
//! ping host.
//!
//! Available in this crate's tests and, with the `sim` feature, to other
//! crates' tests.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use hb_proto::{KeyRing, Message};

use crate::cluster::{Cluster, Output};
use crate::config::{CoreConfig, MediumInfo, Millis};
use crate::event::Event;
use crate::rng::Rng;

/// Behaviour of one directed link between two nodes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkParams {
    /// Probability that a packet is lost.
    pub loss: f64,
    /// Fixed one-way delay.
    pub delay: Millis,
    /// Extra random delay, uniform in `0..=jitter` (reorders packets).
    pub jitter: Millis,
    /// Probability that a packet is delivered twice.
    pub dup: f64,
}

impl Default for LinkParams {
    /// A clean 1 ms link.
    fn default() -> LinkParams {
        LinkParams {
            loss: 0.0,
            delay: 1,
            jitter: 0,
            dup: 0.0,
        }
    }
}

/// Cluster-wide simulation settings.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Number of normal nodes (named `node0`, `node1`, ...).
    pub nodes: usize,
    /// Names of the (non-ping) media every node has.
    pub media: Vec<String>,
    /// Ping nodes every node configures (each gets a ping medium).
    pub ping_nodes: Vec<String>,
    /// keepalive (ms).
    pub keepalive: Millis,
    /// deadtime (ms).
    pub deadtime: Millis,
    /// warntime (ms).
    pub warntime: Millis,
    /// initdead (ms).
    pub initdead: Millis,
    /// max_rexmit_delay (ms).
    pub max_rexmit_delay: Millis,
    /// Keys shared by every node.
    pub keys: KeyRing,
    /// Seed of the simulation (network and engines).
    pub seed: u64,
    /// Wall clock (unix seconds) at virtual time 0.
    pub wall_base: u64,
}

impl SimConfig {
    /// `nodes` nodes on one medium `eth0`, keepalive 100 ms, deadtime 1 s,
    /// warntime 500 ms, initdead 2 s, max_rexmit_delay 250 ms.
    pub fn new(nodes: usize, keys: KeyRing, seed: u64) -> SimConfig {
        SimConfig {
            nodes,
            media: vec!["eth0".to_string()],
            ping_nodes: Vec::new(),
            keepalive: 100,
            deadtime: 1000,
            warntime: 500,
            initdead: 2000,
            max_rexmit_delay: 250,
            keys,
            seed,
            wall_base: 1_700_000_000,
        }
    }
}

/// One simulated node and everything it produced.
pub struct SimNode {
    /// Node name.
    pub name: String,
    /// Generation of the current (or last) run.
    pub generation: u64,
    /// The engine; None while crashed or not started.
    pub engine: Option<Cluster>,
    /// Every event, with the virtual time it was produced.
    pub events: Vec<(Millis, Event)>,
    /// Every delivered message.
    pub delivered: Vec<(Millis, Message)>,
    /// Packets transmitted (count).
    pub transmitted: u64,
    /// Packets transmitted, when [`Sim::record_packets`] is on.
    pub sent: Vec<(Millis, Vec<u8>)>,
    cfg: CoreConfig,
    wake: Millis,
}

/// A packet on its way to `dst` over `medium`.
struct InFlight {
    dst: usize,
    medium: usize,
    bytes: Rc<Vec<u8>>,
}

/// The simulation.
pub struct Sim {
    /// Virtual time now.
    pub now: Millis,
    /// The nodes.
    pub nodes: Vec<SimNode>,
    cfg: SimConfig,
    default_link: LinkParams,
    links: HashMap<(usize, usize), LinkParams>,
    group: Option<Vec<usize>>,
    unreachable_ping: HashSet<String>,
    /// Packets in flight, bucketed by delivery time (FIFO within a bucket).
    queue: BTreeMap<Millis, Vec<InFlight>>,
    /// Nodes whose wake-up time must be recomputed.
    dirty: Vec<bool>,
    rng: Rng,
    /// Packets delivered to engines.
    pub delivered_packets: u64,
    /// Packets dropped by the network (loss or partition).
    pub lost_packets: u64,
    /// Keep a copy of every transmitted packet in [`SimNode::sent`].
    pub record_packets: bool,
    /// A paused node does not run before this time (its packets wait).
    paused_until: Vec<Millis>,
}

impl Sim {
    /// A simulation of `cfg.nodes` nodes, none started yet.
    pub fn new(cfg: SimConfig) -> Sim {
        let names: Vec<String> = (0..cfg.nodes).map(|i| format!("node{i}")).collect();
        let mut media: Vec<MediumInfo> = cfg
            .media
            .iter()
            .map(|m| MediumInfo {
                name: m.clone(),
                is_ping: false,
            })
            .collect();
        media.extend(cfg.ping_nodes.iter().map(|p| MediumInfo {
            name: p.clone(),
            is_ping: true,
        }));
        let mut rng = Rng::new(cfg.seed);
        let nodes = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let mut uuid = [0u8; 16];
                uuid[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
                uuid[8..].copy_from_slice(&(i as u64 + 1).to_le_bytes());
                let generation = 1000 + i as u64;
                let core = CoreConfig {
                    node_name: name.clone(),
                    uuid,
                    generation,
                    nodes: names.clone(),
                    ping_nodes: cfg.ping_nodes.clone(),
                    media: media.clone(),
                    keepalive: cfg.keepalive,
                    deadtime: cfg.deadtime,
                    warntime: cfg.warntime,
                    initdead: cfg.initdead,
                    deadping: cfg.deadtime,
                    max_rexmit_delay: cfg.max_rexmit_delay,
                    hopfudge: 1,
                    keys: cfg.keys.clone(),
                    inner_auth: true,
                    compression: hb_proto::compress::Policy::default(),
                    seed: rng.next_u64(),
                };
                SimNode {
                    name: name.clone(),
                    generation,
                    engine: None,
                    events: Vec::new(),
                    delivered: Vec::new(),
                    transmitted: 0,
                    sent: Vec::new(),
                    cfg: core,
                    wake: Millis::MAX,
                }
            })
            .collect();
        let nodes_n = cfg.nodes;
        Sim {
            now: 0,
            nodes,
            default_link: LinkParams::default(),
            links: HashMap::new(),
            group: None,
            unreachable_ping: HashSet::new(),
            queue: BTreeMap::new(),
            dirty: vec![false; cfg.nodes],
            rng,
            cfg,
            delivered_packets: 0,
            lost_packets: 0,
            record_packets: false,
            paused_until: vec![0; nodes_n],
        }
    }

    fn wall(&self) -> u64 {
        self.cfg.wall_base + self.now / 1000
    }

    /// The configuration node `i` starts with (modifiable before `start`).
    pub fn core_config_mut(&mut self, i: usize) -> &mut CoreConfig {
        &mut self.nodes[i].cfg
    }

    /// Starts (or restarts, with generation + 1) node `i` now.
    pub fn start(&mut self, i: usize) {
        let wall = self.wall();
        let node = &mut self.nodes[i];
        if node.engine.is_some() || !node.events.is_empty() {
            node.generation += 1;
        }
        node.cfg.generation = node.generation;
        node.cfg.seed = node.cfg.seed.wrapping_add(1);
        node.engine = Some(Cluster::new(node.cfg.clone(), self.now, wall));
        self.drain(i);
    }

    /// A quick restart of node `i` (docs/behaviour.md §1.9.3): a new engine
    /// with the same generation continuing the old one's message stream.
    pub fn resume(&mut self, i: usize) {
        let wall = self.wall();
        let node = &mut self.nodes[i];
        let last = node.engine.as_ref().map_or(0, Cluster::last_seq);
        node.cfg.generation = node.generation;
        node.cfg.seed = node.cfg.seed.wrapping_add(1);
        let mut engine = Cluster::new(node.cfg.clone(), self.now, wall);
        engine.resume_stream(last);
        node.engine = Some(engine);
        self.drain(i);
    }

    /// Starts every node now.
    pub fn start_all(&mut self) {
        for i in 0..self.nodes.len() {
            self.start(i);
        }
    }

    /// Stops node `i` abruptly (packets to it are lost from now on).
    pub fn crash(&mut self, i: usize) {
        self.nodes[i].engine = None;
        self.dirty[i] = true;
    }

    /// Pauses node `i` for `d` ms from now, as a stopped process or a
    /// stalled machine: it neither runs its timers nor reads; packets sent
    /// to it wait (as in socket buffers) and are read when it resumes.
    pub fn pause(&mut self, i: usize, d: Millis) {
        self.paused_until[i] = self.paused_until[i].max(self.now + d);
        self.dirty[i] = true;
    }

    fn is_paused(&self, i: usize) -> bool {
        self.paused_until[i] > self.now
    }

    /// Sets the default parameters of every link without an override.
    pub fn set_default_link(&mut self, p: LinkParams) {
        self.default_link = p;
    }

    /// Overrides the directed link `from -> to`.
    pub fn set_link(&mut self, from: usize, to: usize, p: LinkParams) {
        self.links.insert((from, to), p);
    }

    /// Splits the cluster: nodes in different groups cannot talk. Nodes not
    /// listed form one more group.
    pub fn partition(&mut self, groups: &[&[usize]]) {
        let mut g = vec![groups.len(); self.nodes.len()];
        for (gi, members) in groups.iter().enumerate() {
            for &m in members.iter() {
                if let Some(slot) = g.get_mut(m) {
                    *slot = gi;
                }
            }
        }
        self.group = Some(g);
    }

    /// Removes the partition.
    pub fn heal(&mut self) {
        self.group = None;
    }

    /// Makes a ping host (un)reachable.
    pub fn set_ping_reachable(&mut self, host: &str, reachable: bool) {
        if reachable {
            self.unreachable_ping.remove(host);
        } else {
            self.unreachable_ping.insert(host.to_string());
        }
    }

    /// Delivers arbitrary bytes to node `dst` on `medium` after `delay`.
    pub fn inject(&mut self, dst: usize, medium: usize, bytes: Vec<u8>, delay: Millis) {
        self.enqueue(dst, medium, Rc::new(bytes), self.now + delay);
    }

    /// The engine of node `i`, if running.
    pub fn engine(&self, i: usize) -> Option<&Cluster> {
        self.nodes[i].engine.as_ref()
    }

    /// The engine of node `i`, if running (for local messages etc.; call
    /// [`Sim::flush`] afterwards).
    pub fn engine_mut(&mut self, i: usize) -> Option<&mut Cluster> {
        self.nodes[i].engine.as_mut()
    }

    /// Collects outputs of node `i` after direct engine calls.
    pub fn flush(&mut self, i: usize) {
        self.drain(i);
    }

    /// Sends a local message from node `i` now.
    pub fn send_local(&mut self, i: usize, msg: Message) {
        let (now, wall) = (self.now, self.wall());
        if let Some(e) = self.nodes[i].engine.as_mut() {
            // Test messages are well-formed; an error is visible in counters.
            let _ = e.on_local_message(now, wall, msg);
        }
        self.drain(i);
    }

    /// Runs for `d` ms of virtual time.
    pub fn run_for(&mut self, d: Millis) {
        self.run_until(self.now + d);
    }

    /// Runs until virtual time `end`.
    pub fn run_until(&mut self, end: Millis) {
        let mut spins = 0u32;
        loop {
            self.refresh_wakes();
            let next_pkt = self.queue.keys().next().copied();
            let next_tick = self
                .nodes
                .iter()
                .zip(&self.paused_until)
                .map(|(n, p)| n.wake.max(*p))
                .min();
            let t = match (next_pkt, next_tick) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) => Millis::MAX,
            };
            if t > end {
                self.now = end;
                return;
            }
            if t <= self.now {
                spins += 1;
                assert!(
                    spins < 1_000_000,
                    "simulation makes no progress at {}",
                    self.now
                );
            } else {
                spins = 0;
            }
            self.now = self.now.max(t);
            let wall = self.wall();
            // Deliver everything due now, including packets sent meanwhile
            // with zero delay (own loopback).
            while let Some(entry) = self.queue.first_entry() {
                if *entry.key() > self.now {
                    break;
                }
                for p in entry.remove() {
                    if self.is_paused(p.dst) {
                        // Read 1 ms after the node runs again: its timers
                        // fire first, the worst case for a daemon whose
                        // read children have not forwarded the backlog yet.
                        let at = self.paused_until[p.dst] + 1;
                        self.queue.entry(at).or_default().push(p);
                        continue;
                    }
                    if let Some(e) = self.nodes[p.dst].engine.as_mut() {
                        self.delivered_packets += 1;
                        e.on_datagram(self.now, wall, p.medium, &p.bytes);
                        self.drain(p.dst);
                    }
                }
            }
            self.refresh_wakes();
            for i in 0..self.nodes.len() {
                if self.nodes[i].wake <= self.now && !self.is_paused(i) {
                    if let Some(e) = self.nodes[i].engine.as_mut() {
                        e.on_tick(self.now, wall);
                    }
                    self.drain(i);
                }
            }
        }
    }

    fn refresh_wakes(&mut self) {
        for i in 0..self.nodes.len() {
            if std::mem::take(&mut self.dirty[i]) {
                let node = &mut self.nodes[i];
                node.wake = node
                    .engine
                    .as_ref()
                    .map_or(Millis::MAX, Cluster::next_wakeup);
            }
        }
    }

    fn drain(&mut self, i: usize) {
        let now = self.now;
        let record = self.record_packets;
        let mut sends = Vec::new();
        {
            let node = &mut self.nodes[i];
            let Some(e) = node.engine.as_mut() else {
                node.wake = Millis::MAX;
                return;
            };
            while let Some(o) = e.poll_output() {
                match o {
                    Output::Transmit(b) => {
                        node.transmitted += 1;
                        if record {
                            node.sent.push((now, b.clone()));
                        }
                        sends.push(b);
                    }
                    Output::Deliver(m) => node.delivered.push((now, m)),
                    Output::Event(ev) => node.events.push((now, ev)),
                }
            }
        }
        self.dirty[i] = true;
        for b in sends {
            self.route(i, b);
        }
    }

    fn enqueue(&mut self, dst: usize, medium: usize, bytes: Rc<Vec<u8>>, at: Millis) {
        self.queue
            .entry(at)
            .or_default()
            .push(InFlight { dst, medium, bytes });
    }

    fn route(&mut self, src: usize, bytes: Vec<u8>) {
        let bytes = Rc::new(bytes);
        let media = self.cfg.media.len();
        for m in 0..media {
            for dst in 0..self.nodes.len() {
                if dst == src {
                    self.enqueue(dst, m, bytes.clone(), self.now);
                    continue;
                }
                if let Some(g) = &self.group {
                    if g.get(src) != g.get(dst) {
                        self.lost_packets += 1;
                        continue;
                    }
                }
                let p = self
                    .links
                    .get(&(src, dst))
                    .copied()
                    .unwrap_or(self.default_link);
                if self.rng.chance(p.loss) {
                    self.lost_packets += 1;
                    continue;
                }
                let copies = if self.rng.chance(p.dup) { 2 } else { 1 };
                for _ in 0..copies {
                    let at = self.now + p.delay + self.rng.range(0, p.jitter);
                    self.enqueue(dst, m, bytes.clone(), at);
                }
            }
        }
        if !self.cfg.ping_nodes.is_empty() {
            self.ping_echo(src, &bytes);
        }
    }

    /// Emulates the ping media: a status packet triggers an echo carrying
    /// `t=NS_st st=ping info=ping src=<host> ts=<ts>` from every reachable host.
    fn ping_echo(&mut self, src: usize, bytes: &[u8]) {
        let Ok(msg) = self.cfg.keys.open(bytes) else {
            return;
        };
        if msg.msg_type() != Some("status") {
            return;
        }
        let ts = msg.get_str("ts").unwrap_or("1").to_string();
        let hosts = self.cfg.ping_nodes.clone();
        for (k, host) in hosts.iter().enumerate() {
            if self.unreachable_ping.contains(host) {
                continue;
            }
            let mut echo = Message::new();
            echo.push_str("t", "NS_st");
            echo.push_str("st", "ping");
            echo.push_str("info", "ping");
            echo.push_str("src", host);
            echo.push_str("ts", &ts);
            self.cfg.keys.add_inner_auth(&mut echo);
            let sealed = self.cfg.keys.seal(&echo);
            let medium = self.cfg.media.len() + k;
            self.enqueue(src, medium, Rc::new(sealed), self.now + 1);
        }
    }

    // ----- assertions helpers ---------------------------------------------

    /// Indices of running nodes.
    pub fn running(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].engine.is_some())
            .collect()
    }

    /// Every running node has comm up and sees every other running node `active`.
    pub fn converged(&self) -> bool {
        let running = self.running();
        running.iter().all(|&i| {
            let Some(e) = self.engine(i) else {
                return false;
            };
            e.comm_up()
                && running
                    .iter()
                    .filter(|&&j| j != i)
                    .all(|&j| e.node_status(&self.nodes[j].name) == Some("active"))
        })
    }

    /// Runs in `step` increments until [`Sim::converged`] or `deadline`;
    /// returns the time of convergence.
    pub fn run_until_converged(&mut self, step: Millis, deadline: Millis) -> Option<Millis> {
        while self.now < deadline {
            if self.converged() {
                return Some(self.now);
            }
            self.run_for(step.min(deadline - self.now).max(1));
        }
        self.converged().then_some(self.now)
    }

    /// Events of node `i` matching `f`, with their times.
    pub fn events_of<'a>(
        &'a self,
        i: usize,
        f: impl Fn(&Event) -> bool + 'a,
    ) -> impl Iterator<Item = &'a (Millis, Event)> + 'a {
        self.nodes[i].events.iter().filter(move |(_, e)| f(e))
    }
}
