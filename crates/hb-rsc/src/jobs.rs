//! The resource work queue: what the C does in forked helpers and queued
//! rc.d scripts (`req_our_resources`, `mach_down`, `ip-request`,
//! `ip-request-resp`, `hb_takeover`, `go_standby`, the shutdown release),
//! run strictly one at a time.
//!
//! A [`Job`] is turned into [`Step`]s when it *starts* (so decisions such as
//! "do we hold this group?" see the state of that moment, like the scripts
//! do), and the steps run until one waits for a group operation. Only one
//! group operation is ever outstanding: the daemon runs it in a helper
//! process and reports back through `action_done`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::manager::{OpId, Output, ResourceManager, FAILED_START_STANDBY_MS};
use crate::set::RscSet;
use crate::wire;
use crate::Level;

/// Path printed in the `No local resources [...]` line, as the C does.
const LISTKEYS_CMD: &str = "/usr/share/heartbeat/ResourceManager listkeys";

/// The work queue's state: jobs waiting, the one running, operation ids,
/// and the legacy `ip-request`s still unanswered.
#[derive(Debug)]
pub(crate) struct JobQueue {
    pub queue: VecDeque<Job>,
    pub running: Option<Running>,
    pub next_id: OpId,
    /// Legacy `ip-request`s we sent: key -> peers that have not answered.
    pub pending_ip: BTreeMap<String, BTreeSet<String>>,
}

impl JobQueue {
    pub(crate) fn new() -> JobQueue {
        JobQueue {
            queue: VecDeque::new(),
            running: None,
            next_id: 1,
            pending_ip: BTreeMap::new(),
        }
    }
}

/// One queued piece of resource work.
#[derive(Debug, Clone)]
pub(crate) enum Job {
    /// Request our own groups (self-grant or `ip-request`).
    ReqOurResources { alone: bool },
    /// Take every group of a dead/departed node.
    MachDown { node: String },
    /// A peer asks for a group: release it if we hold it, answer.
    IpRequest { from: String, key: String },
    /// An answer to an `ip-request` (or a self-grant).
    IpRequestResp {
        from: String,
        dest: String,
        key: String,
        ok: String,
        weown: String,
    },
    /// Every peer that was asked for `key` has answered or died.
    TakeGroup { key: String },
    /// A peer's `hb_takeover`: go standby with the mapped set.
    HbTakeover { from: String, set: String },
    /// Our half of a standby: release (`giveup`) or acquire.
    GoStandby {
        giveup: bool,
        set: RscSet,
        msg_set: RscSet,
    },
    /// Shutdown: release everything, send `shutdone`.
    GiveupAll,
}

impl Job {
    /// The C helper name; some names carry meaning when the job ends.
    fn name(&self) -> &'static str {
        match self {
            Job::ReqOurResources { alone: true } => "req_our_resources",
            Job::ReqOurResources { alone: false } => "req_our_resources(ask)",
            Job::MachDown { .. } => "status",
            Job::IpRequest { .. } => "ip-request",
            Job::IpRequestResp { .. } | Job::TakeGroup { .. } => "ip-request-resp",
            Job::HbTakeover { .. } => "hb_takeover",
            Job::GoStandby { .. } => "go_standby",
            Job::GiveupAll => "hb_giveup_resources",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Step {
    Acquire(usize),
    Release(usize),
    Out(Output),
    ReqOurResourcesEnd { count: usize },
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Waiting {
    id: OpId,
    group: usize,
    acquire: bool,
}

#[derive(Debug)]
pub(crate) struct Running {
    name: &'static str,
    steps: VecDeque<Step>,
    waiting: Option<Waiting>,
}

impl ResourceManager {
    pub(crate) fn enqueue(&mut self, job: Job) {
        self.jobs.queue.push_back(job);
    }

    /// Runs queued work until it has to wait for a group operation.
    pub(crate) fn pump(&mut self) {
        loop {
            if let Some(running) = self.jobs.running.as_mut() {
                if running.waiting.is_some() {
                    return;
                }
                match running.steps.pop_front() {
                    Some(step) => self.exec(step),
                    None => {
                        let name = running.name;
                        self.jobs.running = None;
                        self.job_finished(name);
                    }
                }
            } else if let Some(job) = self.jobs.queue.pop_front() {
                let name = job.name();
                let steps = self.plan(job);
                self.jobs.running = Some(Running {
                    name,
                    steps,
                    waiting: None,
                });
            } else {
                return;
            }
        }
    }

    /// The daemon finished group operation `id`.
    pub(crate) fn op_finished(&mut self, id: OpId, ok: bool, now: u64) {
        let waiting = self.jobs.running.as_ref().and_then(|r| r.waiting);
        let Some(w) = waiting.filter(|w| w.id == id) else {
            self.log(
                Level::Error,
                format!("Completion of unknown resource operation {id} ignored."),
            );
            return;
        };
        if let Some(r) = self.jobs.running.as_mut() {
            r.waiting = None;
        }
        let Some(group) = self.groups.get_mut(w.group) else {
            return;
        };
        let key = group.key.clone();
        let local = group.local;
        if let Some(stats) = self.group_stats.get_mut(w.group) {
            stats.count(w.acquire, local, ok);
        }
        let Some(group) = self.groups.get_mut(w.group) else {
            return;
        };
        if w.acquire {
            if !ok {
                // the runner rolled the group back; like ResourceManager,
                // offer it to the other node a little later
                group.held = false;
                let set = if local {
                    RscSet::LOCAL
                } else {
                    RscSet::FOREIGN
                };
                self.standby
                    .after_failed_start
                    .push((now.saturating_add(FAILED_START_STANDBY_MS), set));
                self.log(
                    Level::Error,
                    format!("Resource group {key} failed to start; it will be offered to the other node."),
                );
            }
        } else {
            group.held = false;
            if !ok {
                self.log(
                    Level::Error,
                    format!("Resource group {key} did not stop cleanly."),
                );
            }
        }
    }

    fn exec(&mut self, step: Step) {
        match step {
            Step::Out(o) => self.out.push_back(o),
            Step::Acquire(idx) => {
                let Some(g) = self.groups.get(idx) else {
                    return;
                };
                if g.held {
                    return;
                }
                if self.shutdown.in_progress {
                    let text = format!(
                        "Not acquiring resource group {}: shutdown in progress.",
                        g.key
                    );
                    self.log(Level::Info, text);
                    return;
                }
                let key = g.key.clone();
                if let Some(g) = self.groups.get_mut(idx) {
                    g.held = true;
                }
                self.start_op(idx, key, true);
            }
            Step::Release(idx) => {
                let Some(g) = self.groups.get(idx) else {
                    return;
                };
                let key = g.key.clone();
                self.start_op(idx, key, false);
            }
            Step::ReqOurResourcesEnd { count } => {
                if count == 0 {
                    let text = format!(
                        "No local resources [{LISTKEYS_CMD} {}] to acquire.",
                        self.local
                    );
                    self.log(Level::Info, text);
                } else {
                    self.log(Level::Info, "Local Resource acquisition completed.");
                }
                self.send_resources_held(true, Some("req_our_resources()"));
            }
        }
    }

    fn start_op(&mut self, group: usize, key: String, acquire: bool) {
        let id = self.jobs.next_id;
        self.jobs.next_id += 1;
        self.out.push_back(if acquire {
            Output::Acquire { id, key }
        } else {
            Output::Release { id, key }
        });
        if let Some(r) = self.jobs.running.as_mut() {
            r.waiting = Some(Waiting { id, group, acquire });
        }
    }

    /// What the C does when a resource helper exits.
    fn job_finished(&mut self, name: &str) {
        if name == "req_our_resources" || name == "ip-request-resp" {
            self.nice.local_work_done = true;
            self.announce_takeover(name);
        } else if !self.nice() && name == "status" && self.dead_count() > 0 {
            self.nice.foreign_work_done = true;
            self.announce_takeover(name);
        }
        self.shutdown_if_needed();
    }

    fn group_index(&self, key: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.key == key)
    }

    /// After a peer died: requests nobody else has to answer are granted.
    pub(crate) fn release_answered_requests(&mut self) {
        let done: Vec<String> = self
            .jobs
            .pending_ip
            .iter()
            .filter(|(_, waiting)| waiting.is_empty())
            .map(|(k, _)| k.clone())
            .collect();
        for key in done {
            self.jobs.pending_ip.remove(&key);
            self.enqueue(Job::TakeGroup { key });
        }
    }

    fn plan(&mut self, job: Job) -> VecDeque<Step> {
        let mut steps = VecDeque::new();
        let log = |level, text: String| Step::Out(Output::Log(level, text));
        let send = |m| Step::Out(Output::Send(m));
        match job {
            Job::ReqOurResources { alone } => {
                let peers = self.active_peers();
                let self_grant = self.nice() || alone || peers.is_empty();
                let mut count = 0;
                for g in self.groups.iter().filter(|g| g.local) {
                    count += 1;
                    if g.held {
                        continue;
                    }
                    if self_grant {
                        steps.push_back(send(wire::ip_request_resp(&self.local, &g.key, true)));
                    } else {
                        self.jobs.pending_ip.insert(g.key.clone(), peers.clone());
                        steps.push_back(send(wire::ip_request(&g.key)));
                    }
                }
                steps.push_back(Step::ReqOurResourcesEnd { count });
            }
            Job::MachDown { node } => {
                if node == self.local {
                    return steps;
                }
                if let Some(taker) = self.designated_taker(&node) {
                    if taker != self.local {
                        steps.push_back(log(
                            Level::Info,
                            format!("Resource groups of {node} are taken over by {taker}."),
                        ));
                        return steps;
                    }
                }
                for (idx, g) in self.groups.iter().enumerate() {
                    if g.node == node {
                        steps.push_back(log(
                            Level::Info,
                            format!("Taking over resource group {}", g.key),
                        ));
                        steps.push_back(Step::Acquire(idx));
                    }
                }
                if self.nice() {
                    steps.push_back(send(wire::mach_down_done()));
                }
                steps.push_back(log(
                    Level::Info,
                    format!("mach_down takeover complete for node {node}."),
                ));
            }
            Job::IpRequest { from, key } => match self.group_index(&key) {
                Some(idx) if self.groups[idx].held => {
                    steps.push_back(Step::Release(idx));
                    steps.push_back(send(wire::ip_request_resp(&from, &key, true)));
                }
                _ => steps.push_back(send(wire::ip_request_resp(&from, &key, false))),
            },
            Job::IpRequestResp {
                from,
                dest,
                key,
                ok,
                weown,
            } => {
                if dest != self.local {
                    return steps;
                }
                steps.push_back(log(
                    Level::Info,
                    format!("received ip-request-resp {key} {ok} {weown}"),
                ));
                if ok != "OK" {
                    return steps;
                }
                if from == self.local {
                    self.jobs.pending_ip.remove(&key);
                } else if let Some(waiting) = self.jobs.pending_ip.get_mut(&key) {
                    waiting.remove(&from);
                    if !waiting.is_empty() {
                        return steps;
                    }
                    self.jobs.pending_ip.remove(&key);
                }
                if let Some(idx) = self.group_index(&key) {
                    steps.push_back(Step::Acquire(idx));
                }
            }
            Job::TakeGroup { key } => {
                if let Some(idx) = self.group_index(&key) {
                    steps.push_back(Step::Acquire(idx));
                }
            }
            Job::HbTakeover { from, set } => {
                if from == self.local {
                    return steps;
                }
                let mapped = match set.as_str() {
                    "local" => "foreign",
                    "foreign" => "local",
                    _ => "all",
                };
                steps.push_back(log(Level::Info, format!("Going standby [{mapped}].")));
                steps.push_back(send(wire::ask_resources(mapped, "me")));
            }
            Job::GoStandby {
                giveup,
                set,
                msg_set,
            } => {
                let action = if giveup { "give up" } else { "acquire" };
                let act = match set {
                    RscSet::ALL => RscSet::ALL,
                    RscSet::LOCAL if giveup => RscSet::LOCAL,
                    RscSet::FOREIGN if giveup => RscSet::FOREIGN,
                    RscSet::LOCAL | RscSet::FOREIGN => set.swapped(),
                    _ => {
                        steps.push_back(log(Level::Error, format!("no resources to {action}")));
                        return steps;
                    }
                };
                steps.push_back(log(
                    Level::Info,
                    format!("{action} {act} HA resources (standby)."),
                ));
                for (idx, g) in self.groups.iter().enumerate() {
                    let member = act == RscSet::ALL || (g.local == (act == RscSet::LOCAL));
                    if member {
                        steps.push_back(if giveup {
                            Step::Release(idx)
                        } else {
                            Step::Acquire(idx)
                        });
                    }
                }
                let what = if giveup { "release" } else { "acquisition" };
                steps.push_back(log(
                    Level::Info,
                    format!("{act} HA resource {what} completed (standby)."),
                ));
                steps.push_back(send(wire::ask_resources(msg_set.as_str(), "done")));
            }
            Job::GiveupAll => {
                steps.push_back(log(Level::Info, "Giving up all HA resources.".into()));
                steps.extend((0..self.groups.len()).map(Step::Release));
                steps.push_back(log(Level::Info, "All HA resources relinquished.".into()));
                steps.push_back(send(wire::shutdone()));
                steps.push_back(Step::Out(Output::ShutdownComplete));
            }
        }
        steps
    }

    /// With more than two normal nodes every survivor would run `mach_down`
    /// and start the same groups (haresources mode is a two-node design).
    /// We let exactly one take over: the first by name among the active
    /// nodes (us included). `None` for a two-node cluster (always us).
    fn designated_taker(&self, dead: &str) -> Option<String> {
        if self.nodes.len() <= 2 {
            return None;
        }
        let mut alive = self.active_peers();
        alive.insert(self.local.clone());
        alive.remove(dead);
        alive.into_iter().next()
    }
}
