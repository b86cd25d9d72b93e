//! A deterministic in-memory cluster for [`ResourceManager`]s: a message
//! bus that delivers every message to every running node (the sender
//! included, as the cluster layer does), group operations that complete
//! after a fixed delay, a 200 ms tick, and an invariant checked whenever a
//! group may become active: no group is ever active on two nodes.

use std::collections::{BTreeSet, VecDeque};

use hb_proto::Message;
use hb_rsc::{GroupSpec, Level, LocalCommand, Mode, OpId, Output, ResourceManager, RscConfig};

pub const TICK_MS: u64 = 200;
pub const OP_DELAY_MS: u64 = 300;
pub const DEADTIME_MS: u64 = 3_000;

pub struct Node {
    pub name: String,
    pub rm: ResourceManager,
    pub running: bool,
    /// Groups possibly active here: from Acquire until its Release completes.
    pub active: BTreeSet<String>,
    /// The one outstanding operation: (due, id, key, acquire).
    pub op: Option<(u64, OpId, String, bool)>,
    pub logs: Vec<(Level, String)>,
    pub sent: Vec<Message>,
    pub shutdown_complete: bool,
    /// Acquire keys that should fail.
    pub failing: BTreeSet<String>,
}

pub struct Sim {
    pub now: u64,
    pub mode: Mode,
    pub nodes: Vec<Node>,
    groups: Vec<GroupSpec>,
    bus: VecDeque<(usize, Message)>,
    next_tick: u64,
    /// (due, observer, dead node)
    deaths: Vec<(u64, usize, String)>,
}

pub fn group(key: &str, node: &str) -> GroupSpec {
    GroupSpec {
        key: key.to_string(),
        node: node.to_string(),
    }
}

fn text(m: &Message, f: &str) -> String {
    m.get_str(f).unwrap_or("").to_string()
}

/// `t k=v k=v` rendering of a message without the control field `src`.
pub fn render(m: &Message) -> String {
    m.fields()
        .iter()
        .filter(|f| f.name != "src")
        .map(|f| match &f.value {
            hb_proto::Value::String(v) => format!("{}={}", f.name, String::from_utf8_lossy(v)),
            other => format!("{}={other:?}", f.name),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Sim {
    pub fn new(mode: Mode, names: &[&str], groups: Vec<GroupSpec>) -> Sim {
        let nodes = names
            .iter()
            .map(|n| Node {
                name: n.to_string(),
                rm: Self::fresh(mode, n, names, &groups),
                running: false,
                active: BTreeSet::new(),
                op: None,
                logs: Vec::new(),
                sent: Vec::new(),
                shutdown_complete: false,
                failing: BTreeSet::new(),
            })
            .collect();
        Sim {
            now: 1_000,
            mode,
            nodes,
            groups,
            bus: VecDeque::new(),
            next_tick: 1_000,
            deaths: Vec::new(),
        }
    }

    fn fresh(mode: Mode, name: &str, names: &[&str], groups: &[GroupSpec]) -> ResourceManager {
        ResourceManager::new(RscConfig {
            local: name.to_string(),
            nodes: names.iter().map(|s| s.to_string()).collect(),
            groups: groups.to_vec(),
            mode,
        })
    }

    pub fn idx(&self, name: &str) -> usize {
        self.nodes
            .iter()
            .position(|n| n.name == name)
            .unwrap_or_else(|| panic!("no node {name}"))
    }

    /// Starts node `name` after `initdead`: nodes not running are declared
    /// dead first (as the membership engine does before comm up), then comm
    /// comes up with the running nodes as the active ones.
    pub fn start(&mut self, name: &str) {
        let i = self.reset(name);
        for peer in self.running_except(name) {
            self.nodes[i].rm.node_status(&peer, "active");
        }
        let absent: Vec<String> = self
            .nodes
            .iter()
            .filter(|n| !n.running)
            .map(|n| n.name.clone())
            .collect();
        for dead in absent {
            let now = self.now;
            self.nodes[i].rm.node_status(&dead, "dead");
            self.nodes[i].rm.node_dead(&dead, now);
            self.drain(i);
        }
        let active = self.running_except(name);
        self.comm_up(i, &active);
    }

    /// Two nodes booting within `initdead` of each other: `first` reaches
    /// comm up while `second` is merely `up`, then `second` comes up with
    /// `first` active.
    pub fn boot_pair(&mut self, first: &str, second: &str) {
        let i = self.reset(first);
        let j = self.reset(second);
        self.nodes[i].rm.node_status(second, "up");
        self.nodes[j].rm.node_status(first, "up");
        let active = self.running_except(first);
        let active: Vec<String> = active.into_iter().filter(|n| n != second).collect();
        self.comm_up(i, &active);
        let active = self.running_except(second);
        self.comm_up(j, &active);
    }

    fn reset(&mut self, name: &str) -> usize {
        let i = self.idx(name);
        let all: Vec<String> = self.nodes.iter().map(|n| n.name.clone()).collect();
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        self.nodes[i].rm = Self::fresh(self.mode, name, &refs, &self.groups);
        self.nodes[i].running = true;
        self.nodes[i].shutdown_complete = false;
        self.deaths.retain(|(_, _, dead)| dead != name);
        i
    }

    fn running_except(&self, name: &str) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|n| n.running && n.name != name)
            .map(|n| n.name.clone())
            .collect()
    }

    /// Starts several nodes that all see each other as active at comm up
    /// (the C's "both starting" situation); no message moves until every
    /// one of them has sent `starting`.
    pub fn start_together(&mut self, names: &[&str]) {
        for name in names {
            self.reset(name);
        }
        for name in names {
            let i = self.idx(name);
            let others: Vec<String> = names
                .iter()
                .filter(|n| *n != name)
                .map(|s| s.to_string())
                .collect();
            for o in &others {
                self.nodes[i].rm.node_status(o, "active");
            }
            let now = self.now;
            self.nodes[i].rm.comm_up(now, &others);
            self.drain(i);
        }
        self.settle();
    }

    fn comm_up(&mut self, i: usize, active: &[String]) {
        let name = self.nodes[i].name.clone();
        for j in 0..self.nodes.len() {
            if j != i && self.nodes[j].running {
                self.nodes[j].rm.node_status(&name, "up");
                self.nodes[j].rm.node_status(&name, "active");
            }
        }
        for a in active {
            self.nodes[i].rm.node_status(a, "active");
        }
        let now = self.now;
        self.nodes[i].rm.comm_up(now, active);
        self.drain(i);
        self.settle();
    }

    /// Power failure: the node and everything on it stops at once; the
    /// others declare it dead after DEADTIME_MS.
    pub fn crash(&mut self, name: &str) {
        let i = self.idx(name);
        self.nodes[i].running = false;
        self.nodes[i].active.clear();
        self.nodes[i].op = None;
        self.schedule_death(i);
    }

    fn schedule_death(&mut self, i: usize) {
        let name = self.nodes[i].name.clone();
        for j in 0..self.nodes.len() {
            if j != i && self.nodes[j].running {
                self.deaths.push((self.now + DEADTIME_MS, j, name.clone()));
            }
        }
    }

    /// Graceful stop: shutdown request, run until ShutdownComplete, the
    /// process exits 1 s later, the peers notice after DEADTIME_MS.
    pub fn stop(&mut self, name: &str) {
        let i = self.idx(name);
        let now = self.now;
        self.nodes[i].rm.shutdown_requested(now);
        self.drain(i);
        let limit = self.now + 120_000;
        while !self.nodes[i].shutdown_complete {
            assert!(self.now < limit, "{name} never completed its shutdown");
            self.step();
        }
        self.run_for(1_000);
        assert!(
            self.nodes[i].active.is_empty(),
            "{name} exits with active groups {:?}",
            self.nodes[i].active
        );
        self.nodes[i].running = false;
        self.schedule_death(i);
    }

    pub fn command(&mut self, name: &str, cmd: LocalCommand) {
        let i = self.idx(name);
        let now = self.now;
        self.nodes[i].rm.local_command(cmd, now);
        self.drain(i);
        self.settle();
    }

    /// Collects node `i`'s outputs.
    fn drain(&mut self, i: usize) {
        while let Some(o) = self.nodes[i].rm.poll() {
            let node = &mut self.nodes[i];
            match o {
                Output::Send(mut m) => {
                    m.push_str("src", &node.name);
                    node.sent.push(m.clone());
                    self.bus.push_back((i, m));
                }
                Output::Acquire { id, key } => {
                    assert!(
                        node.op.is_none(),
                        "{}: two group operations at once",
                        node.name
                    );
                    node.active.insert(key.clone());
                    node.op = Some((self.now + OP_DELAY_MS, id, key.clone(), true));
                    self.check_invariant(&key);
                }
                Output::Release { id, key } => {
                    assert!(
                        node.op.is_none(),
                        "{}: two group operations at once",
                        node.name
                    );
                    node.op = Some((self.now + OP_DELAY_MS, id, key, false));
                }
                Output::Log(level, text) => node.logs.push((level, text)),
                Output::ShutdownComplete => node.shutdown_complete = true,
                // the simulated nodes have no STONITH device
                Output::Reset { .. } | Output::CheckDevice | Output::TakingOver { .. } => {}
            }
        }
    }

    fn check_invariant(&self, key: &str) {
        let holders: Vec<&str> = self
            .nodes
            .iter()
            .filter(|n| n.active.contains(key))
            .map(|n| n.name.as_str())
            .collect();
        assert!(
            holders.len() <= 1,
            "t={} group {key} active on {holders:?}",
            self.now
        );
    }

    /// Delivers every queued message (bounded).
    fn settle(&mut self) {
        let mut budget = 10_000;
        while let Some((from, msg)) = self.bus.pop_front() {
            budget -= 1;
            assert!(budget > 0, "message storm");
            for j in 0..self.nodes.len() {
                if !self.nodes[j].running && j != from {
                    continue;
                }
                if !self.nodes[j].running {
                    continue;
                }
                let now = self.now;
                self.nodes[j].rm.message(&msg, j == from, now);
                self.drain(j);
            }
        }
    }

    /// Advances to the next event (op completion, death notice or tick).
    pub fn step(&mut self) {
        self.settle();
        let next_op = self
            .nodes
            .iter()
            .filter(|n| n.running)
            .filter_map(|n| n.op.as_ref().map(|o| o.0))
            .min();
        let next_death = self.deaths.iter().map(|d| d.0).min();
        let next = [Some(self.next_tick), next_op, next_death]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(self.next_tick);
        self.now = next.max(self.now);
        for i in 0..self.nodes.len() {
            let due = matches!(self.nodes[i].op, Some((t, ..)) if t <= self.now);
            if due && self.nodes[i].running {
                if let Some((_, id, key, acquire)) = self.nodes[i].op.take() {
                    let ok = !(acquire && self.nodes[i].failing.contains(&key));
                    if !acquire || !ok {
                        self.nodes[i].active.remove(&key);
                    }
                    let now = self.now;
                    self.nodes[i].rm.action_done(id, ok, now);
                    self.drain(i);
                    self.settle();
                }
            }
        }
        let due: Vec<(u64, usize, String)> = self
            .deaths
            .iter()
            .filter(|d| d.0 <= self.now)
            .cloned()
            .collect();
        self.deaths.retain(|d| d.0 > self.now);
        for (_, j, dead) in due {
            if self.nodes[j].running {
                let now = self.now;
                self.nodes[j].rm.node_status(&dead, "dead");
                self.nodes[j].rm.node_dead(&dead, now);
                self.drain(j);
                self.settle();
            }
        }
        if self.now >= self.next_tick {
            self.next_tick = self.now + TICK_MS;
            for i in 0..self.nodes.len() {
                if self.nodes[i].running {
                    let now = self.now;
                    self.nodes[i].rm.tick(now);
                    self.drain(i);
                }
            }
            self.settle();
        }
    }

    pub fn run_for(&mut self, ms: u64) {
        let end = self.now + ms;
        while self.now < end {
            self.step();
        }
    }

    /// Runs until every running node is idle and stable (or `max_ms`).
    pub fn run_until_quiet(&mut self, max_ms: u64) {
        let end = self.now + max_ms;
        loop {
            self.step();
            let quiet =
                self.bus.is_empty()
                    && self.deaths.is_empty()
                    && self.nodes.iter().filter(|n| n.running).all(|n| {
                        n.op.is_none() && n.rm.is_stable() && n.rm.next_deadline().is_none()
                    });
            if quiet || self.now >= end {
                // a little more, so pending retries (1 s) get their chance
                self.run_for(2 * TICK_MS);
                return;
            }
        }
    }

    pub fn holds(&self, name: &str) -> Vec<String> {
        self.nodes[self.idx(name)].active.iter().cloned().collect()
    }

    pub fn logged(&self, name: &str, needle: &str) -> bool {
        self.nodes[self.idx(name)]
            .logs
            .iter()
            .any(|(_, l)| l.contains(needle))
    }

    pub fn sent_rendered(&self, name: &str) -> Vec<String> {
        self.nodes[self.idx(name)].sent.iter().map(render).collect()
    }

    pub fn sent_types(&self, name: &str) -> Vec<String> {
        self.nodes[self.idx(name)]
            .sent
            .iter()
            .map(|m| text(m, "t"))
            .collect()
    }

    pub fn clear_records(&mut self) {
        for n in &mut self.nodes {
            n.logs.clear();
            n.sent.clear();
        }
    }

    pub fn errors(&self, name: &str) -> Vec<String> {
        self.nodes[self.idx(name)]
            .logs
            .iter()
            .filter(|(l, _)| *l >= Level::Error)
            .map(|(_, t)| t.clone())
            .collect()
    }
}
