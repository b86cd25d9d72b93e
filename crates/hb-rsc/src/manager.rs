//! [`ResourceManager`]: the public face of the state machine — inputs,
//! outputs, queries — and the per-node bookkeeping it needs.
//!
//! The protocol logic lives in sibling modules, each an `impl` block on the
//! same struct: [`crate::nice`] (startup negotiation, `resource` reports,
//! audits, auto failback), [`crate::standby`] (the three-phase standby
//! protocol), [`crate::takeover`] (node death, `mach_down`, shutdown) and
//! [`crate::jobs`] (the one-at-a-time queue of group operations that plays
//! the part of the C resource helper processes).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use hb_config::{AutoFailback, ResourceGroup};
use hb_proto::Message;

use crate::jobs::{Job, JobQueue};
use crate::set::RscSet;
use crate::wire::{self, types};
use crate::Level;

/// Identifies one [`Output::Acquire`] / [`Output::Release`]; hand it back to
/// [`ResourceManager::action_done`].
pub type OpId = u64;

/// The resource policy (`auto_failback` in ha.cf).
pub type Mode = AutoFailback;

/// RQSTDELAY: how long a starting node waits for a stable peer (ms).
pub const RQSTDELAY_MS: u64 = 10_000;
/// How long a standby requester waits for the `other` reply (ms).
pub const STANDBY_REPLY_TIMEOUT_MS: u64 = 10_000;
/// How long a running standby may take once answered (ms).
pub const STANDBY_RUN_TIMEOUT_MS: u64 = 3_600_000;
/// Retry interval of a delayed auto failback (ms).
pub const AUTO_FAILBACK_RETRY_MS: u64 = 1_000;
/// Delay before a group whose start failed is offered to the peer (ms),
/// like ResourceManager's background `sleep 30; hb_standby`.
pub const FAILED_START_STANDBY_MS: u64 = 30_000;

/// One haresources group as the state machine sees it: its key (first
/// resource, unique) and its preferred node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSpec {
    /// Group key.
    pub key: String,
    /// Preferred ("home") node, compared case-insensitively.
    pub node: String,
}

impl From<&ResourceGroup> for GroupSpec {
    fn from(g: &ResourceGroup) -> GroupSpec {
        GroupSpec {
            key: g.key().to_string(),
            node: g.node.clone(),
        }
    }
}

/// Everything [`ResourceManager::new`] needs.
#[derive(Debug, Clone)]
pub struct RscConfig {
    /// Our node name.
    pub local: String,
    /// Every configured *normal* node (ping nodes excluded), us included.
    pub nodes: Vec<String>,
    /// The haresources groups, in file order.
    pub groups: Vec<GroupSpec>,
    /// `auto_failback legacy|on|off`.
    pub mode: Mode,
}

/// What the state machine asks the daemon to do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send this message to the cluster (application fields only; the
    /// cluster layer adds the control fields and loops it back to us).
    Send(Message),
    /// Start the group with this key (`ResourceManager takegroup`); report
    /// with [`ResourceManager::action_done`].
    Acquire {
        /// Operation id.
        id: OpId,
        /// Group key.
        key: String,
    },
    /// Stop the group with this key (`ResourceManager givegroup`).
    Release {
        /// Operation id.
        id: OpId,
        /// Group key.
        key: String,
    },
    /// Log a line (C wording).
    Log(Level, String),
    /// Every group is released and `shutdone` was sent: the daemon may
    /// enter its final shutdown phases (after 1 s, like the C).
    ShutdownComplete,
    /// Reset this node with the STONITH device (in a helper process); report
    /// with [`ResourceManager::reset_done`]. Its groups wait for that.
    Reset {
        /// The node to reset.
        node: String,
    },
    /// Check the STONITH device's status (in a helper process); report with
    /// [`ResourceManager::device_check_done`].
    CheckDevice,
    /// The groups of this dead or departed node are being taken over: the
    /// C queues a synthetic `t=status st=dead` message for rc.d here
    /// ([`crate::notify::dead_node_message`]).
    TakingOver {
        /// The node.
        node: String,
    },
}

/// Argument of `hb_standby` / `hb_takeover`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandbyArg {
    /// `all` (the default).
    All,
    /// `local`.
    Local,
    /// `foreign`.
    Foreign,
    /// `failback` (= `foreign` for hb_standby; sent verbatim by hb_takeover).
    Failback,
}

impl StandbyArg {
    /// Parses the command-line word.
    pub fn parse(word: &str) -> Option<StandbyArg> {
        match word {
            "all" => Some(StandbyArg::All),
            "local" => Some(StandbyArg::Local),
            "foreign" => Some(StandbyArg::Foreign),
            "failback" => Some(StandbyArg::Failback),
            _ => None,
        }
    }

    fn standby_set(self) -> &'static str {
        match self {
            StandbyArg::All => "all",
            StandbyArg::Local => "local",
            StandbyArg::Foreign | StandbyArg::Failback => "foreign",
        }
    }

    fn takeover_set(self) -> &'static str {
        match self {
            StandbyArg::All => "all",
            StandbyArg::Local => "local",
            StandbyArg::Foreign => "foreign",
            StandbyArg::Failback => "failback",
        }
    }
}

/// Our own administrative commands (what `hb_standby` / `hb_takeover`
/// would write to the FIFO).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalCommand {
    /// `hb_standby <arg>`: give groups to the peer.
    Standby(StandbyArg),
    /// `hb_takeover <arg>`: ask the peer to give us groups.
    Takeover(StandbyArg),
}

/// The API `getrsc` answer (docs/behaviour.md §5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RscStatus {
    /// Stable, holding this set.
    Held(RscSet),
    /// Resource activity in progress.
    Transition,
}

impl RscStatus {
    /// `none`, `local`, `foreign`, `all` or `transition`.
    pub fn as_str(self) -> &'static str {
        match self {
            RscStatus::Held(s) => s.as_str(),
            RscStatus::Transition => "transition",
        }
    }
}

/// Startup state of the nice_failback protocol (C `hb_rsc_state`; the
/// numeric values appear in some log lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RState {
    Init = 0,
    Starting = 1,
    BothStarting = 2,
    RscRcvd = 3,
    Stable = 4,
    Shutdown = 5,
}

/// Standby protocol state (C `enum standby`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Standby {
    Not = 0,
    Me = 1,
    Other = 2,
    Done = 3,
}

/// What we know about one normal node.
#[derive(Debug, Clone)]
pub(crate) struct NodeInfo {
    pub status: String,
    /// Heard from it since its last death (C `anypacketsyet`).
    pub heard: bool,
    /// It may hold resources (C `has_resources`: false after `shutdone`).
    pub has_resources: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub key: String,
    pub node: String,
    pub local: bool,
    /// Started (or being started) here and not yet released.
    pub held: bool,
}

/// nice_failback bookkeeping (names follow the C globals).
#[derive(Debug)]
pub(crate) struct Nice {
    pub rstate: RState,
    pub i_hold: RscSet,
    pub other_holds: RscSet,
    pub other_stable: bool,
    pub takeover_in_progress: bool,
    pub rsc_needs_failback: bool,
    pub local_work_done: bool,
    pub foreign_work_done: bool,
    pub announced: bool,
    pub local_takeover_time: Option<u64>,
    pub auto_failback_at: Option<u64>,
}

impl Nice {
    fn new() -> Nice {
        Nice {
            rstate: RState::Init,
            i_hold: RscSet::NONE,
            other_holds: RscSet::NONE,
            other_stable: false,
            takeover_in_progress: false,
            rsc_needs_failback: false,
            local_work_done: false,
            foreign_work_done: false,
            announced: false,
            local_takeover_time: None,
            auto_failback_at: None,
        }
    }
}

/// The three-phase standby protocol (C `going_standby`, `standby_running`,
/// `standby_rsctype`), and the standby offers scheduled after failed starts.
#[derive(Debug)]
pub(crate) struct StandbyState {
    pub state: Standby,
    pub deadline: Option<u64>,
    pub rsctype: RscSet,
    /// When to offer which groups to the peer after a failed start.
    pub after_failed_start: Vec<(u64, RscSet)>,
}

impl StandbyState {
    fn new() -> StandbyState {
        StandbyState {
            state: Standby::Not,
            deadline: None,
            rsctype: RscSet::ALL,
            after_failed_start: Vec::new(),
        }
    }
}

/// Where a shutdown stands (C `shutdown_in_progress`, `need_shutdown`, the
/// give-up having started).
#[derive(Debug, Default)]
pub(crate) struct ShutdownState {
    pub in_progress: bool,
    pub needed: bool,
    pub giveup_started: bool,
}

/// The haresources-mode resource state machine of one node. Pure: no I/O,
/// no clock; feed it events, drain [`ResourceManager::poll`].
///
/// Its state is owned by concern: the node and group tables here, then
/// [`Nice`] (nice_failback), [`StandbyState`], [`ShutdownState`] and the
/// job queue ([`JobQueue`]).
#[derive(Debug)]
pub struct ResourceManager {
    pub(crate) local: String,
    pub(crate) mode: Mode,
    pub(crate) groups: Vec<Group>,
    pub(crate) nodes: BTreeMap<String, NodeInfo>,
    pub(crate) out: VecDeque<Output>,
    pub(crate) comm_up: bool,
    pub(crate) nice: Nice,
    pub(crate) standby: StandbyState,
    pub(crate) shutdown: ShutdownState,
    pub(crate) jobs: JobQueue,
    /// Started by a quick restart holding its groups (see `resume.rs`).
    pub(crate) resumed: bool,
    pub(crate) fencing: crate::fencing::Fencing,
    /// Operation counters per group (same order as `groups`), see [`crate::report`].
    pub(crate) group_stats: Vec<crate::report::GroupCounters>,
}

impl ResourceManager {
    /// `configure`: a fresh state machine (state INIT, nothing held).
    pub fn new(cfg: RscConfig) -> ResourceManager {
        let local = cfg.local.to_ascii_lowercase();
        let mut nodes: BTreeMap<String, NodeInfo> = cfg
            .nodes
            .iter()
            .map(|n| {
                (
                    n.to_ascii_lowercase(),
                    NodeInfo {
                        status: "init".to_string(),
                        heard: false,
                        has_resources: true,
                    },
                )
            })
            .collect();
        nodes.entry(local.clone()).or_insert(NodeInfo {
            status: "up".to_string(),
            heard: true,
            has_resources: true,
        });
        let groups = cfg
            .groups
            .iter()
            .map(|g| {
                let node = g.node.to_ascii_lowercase();
                Group {
                    key: g.key.clone(),
                    local: node == local,
                    node,
                    held: false,
                }
            })
            .collect();
        ResourceManager {
            local,
            mode: cfg.mode,
            groups,
            nodes,
            out: VecDeque::new(),
            comm_up: false,
            nice: Nice::new(),
            standby: StandbyState::new(),
            shutdown: ShutdownState::default(),
            jobs: JobQueue::new(),
            resumed: false,
            fencing: crate::fencing::Fencing::default(),
            group_stats: vec![Default::default(); cfg.groups.len()],
        }
    }

    /// The next output, if any. Drain it after every input.
    pub fn poll(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Communication is up (docs/behaviour.md §1.8.1). `active` names the normal
    /// nodes whose status is `active` now (we need not be among them).
    ///
    /// nice_failback: sends `starting`. Improvement over the C: when no
    /// other normal node is active we are alone, so nobody can answer or
    /// hold our groups — we go STABLE and acquire them at once instead of
    /// waiting RQSTDELAY. Legacy: requests our groups (`ip-request`, or a
    /// self-grant when alone).
    pub fn comm_up(&mut self, now: u64, active: &[String]) {
        if self.comm_up {
            return;
        }
        self.comm_up = true;
        for n in active {
            self.set_status(n, "active");
        }
        self.set_status(&self.local.clone(), "active");
        if self.resumed {
            self.comm_up_resumed();
            self.after_input(now);
            return;
        }
        if self.shutdown.giveup_started {
            self.pump();
            return;
        }
        if self.dead_count() == 0 {
            self.nice.foreign_work_done = true;
        }
        self.fencing_comm_up();
        if self.nice() {
            self.emit_send(wire::starting());
            self.nice.rstate = RState::Starting;
            // Alone when every peer is dead or itself starting (`up`: it
            // holds nothing before its comm up). A peer that was heard but
            // whose status is unknown (`init`: e.g. only an ack arrived so
            // far) may be a running node holding our groups: ask first.
            if self.peers_maybe_holding() == 0 {
                self.log(
                    Level::Info,
                    "No other active node: acquiring local resources without waiting.",
                );
                self.go_stable_by_timer(now);
            }
        } else {
            self.req_our_resources(false);
        }
        self.after_input(now);
    }

    /// Status of another node changed (from the membership engine):
    /// `init`, `up`, `active`, `dead`, … A `dead` here only records the
    /// status; call [`ResourceManager::node_dead`] for the takeover.
    pub fn node_status(&mut self, node: &str, status: &str) {
        let node = node.to_ascii_lowercase();
        if let Some(info) = self.nodes.get_mut(&node) {
            if info.status == "dead" && status != "dead" {
                // a dead node that speaks again has restarted
                info.has_resources = true;
            }
            if status != "dead" {
                info.heard = true;
            }
            info.status = status.to_string();
        }
    }

    /// A message of the resource protocol arrived (ours looped back too,
    /// with `from_self`). Other types are ignored.
    pub fn message(&mut self, msg: &Message, from_self: bool, now: u64) {
        self.check_standby_timeout(now);
        let Some(t) = msg.msg_type() else {
            return;
        };
        let from = msg
            .get_str("src")
            .map(str::to_ascii_lowercase)
            .unwrap_or_else(|| {
                if from_self {
                    self.local.clone()
                } else {
                    String::new()
                }
            });
        if !from_self {
            if let Some(info) = self.nodes.get_mut(&from) {
                info.heard = true;
            }
        }
        match t {
            types::SHUTDONE => self.on_shutdone(&from, from_self, now),
            _ if !self.comm_up => {}
            types::STARTING | types::RESOURCE => self.process_resources(t, msg, from_self, now),
            types::ASK_RESOURCES => self.ask_for_resources(msg, &from, from_self, now),
            types::IP_REQUEST if !from_self => {
                if let Some(key) = msg.get_str("ipaddr") {
                    self.enqueue(Job::IpRequest {
                        from,
                        key: key.to_string(),
                    });
                }
            }
            types::IP_REQUEST_RESP if !self.shutdown.in_progress => {
                self.enqueue(Job::IpRequestResp {
                    from,
                    dest: msg.get_str("dest").unwrap_or("").to_ascii_lowercase(),
                    key: msg.get_str("ipaddr").unwrap_or("").to_string(),
                    ok: msg.get_str("ok").unwrap_or("").to_string(),
                    weown: msg.get_str("weown").unwrap_or("").to_string(),
                });
            }
            types::HB_TAKEOVER => self.enqueue(Job::HbTakeover {
                from,
                set: msg.get_str("rsc_hold").unwrap_or("").to_string(),
            }),
            _ => {}
        }
        self.after_input(now);
    }

    /// Our own `hb_standby` / `hb_takeover`: sends the message those
    /// scripts write to the FIFO; the protocol continues when it comes back.
    pub fn local_command(&mut self, cmd: LocalCommand, now: u64) {
        match cmd {
            LocalCommand::Standby(arg) => self.request_standby(arg.standby_set()),
            LocalCommand::Takeover(arg) => self.emit_send(wire::hb_takeover(arg.takeover_set())),
        }
        self.after_input(now);
    }

    /// The group operation `id` finished (`ok` = the whole group reached
    /// the wanted state; a failed start has already been rolled back).
    pub fn action_done(&mut self, id: OpId, ok: bool, now: u64) {
        self.op_finished(id, ok, now);
        self.after_input(now);
    }

    /// Graceful shutdown requested (after the daemon's own checks). Waits
    /// until resource activity settles, then releases everything and sends
    /// `shutdone`; [`Output::ShutdownComplete`] follows.
    pub fn shutdown_requested(&mut self, now: u64) {
        self.shutdown.in_progress = true;
        self.giveup_resources();
        self.after_input(now);
    }

    /// Timers: RQSTDELAY fallback, standby timeouts, auto-failback retry,
    /// delayed standby after a failed start. Call at least every second
    /// (or at [`ResourceManager::next_deadline`]).
    pub fn tick(&mut self, now: u64) {
        self.check_standby_timeout(now);
        self.fencing_tick(now);
        if self.nice()
            && self.nice.rstate == RState::RscRcvd
            && self.nice.local_takeover_time.is_some_and(|t| now > t)
        {
            self.go_stable_by_timer(now);
        }
        if self.nice.auto_failback_at.is_some_and(|t| now >= t) {
            self.nice.auto_failback_at = None;
            self.perform_auto_failback(now);
        }
        let (due, later): (Vec<_>, Vec<_>) = self
            .standby
            .after_failed_start
            .drain(..)
            .partition(|(t, _)| now >= *t);
        self.standby.after_failed_start = later;
        for (_, set) in due {
            self.request_standby(set.as_str());
        }
        self.after_input(now);
    }

    /// The earliest time at which [`ResourceManager::tick`] has work.
    pub fn next_deadline(&self) -> Option<u64> {
        let rq = (self.nice() && self.nice.rstate == RState::RscRcvd)
            .then_some(self.nice.local_takeover_time.map(|t| t.saturating_add(1)))
            .flatten();
        [
            rq,
            self.standby.deadline,
            self.nice.auto_failback_at,
            self.fencing_deadline(),
        ]
        .into_iter()
        .chain(
            self.standby
                .after_failed_start
                .iter()
                .map(|(t, _)| Some(*t)),
        )
        .flatten()
        .min()
    }

    /// The API `getrsc` answer. Legacy mode never updates the held set
    /// (like the C), so it says `none` or `transition`.
    pub fn rsc_hold(&self) -> RscStatus {
        if self.is_stable() {
            RscStatus::Held(self.nice.i_hold)
        } else {
            RscStatus::Transition
        }
    }

    /// Keys of the groups started (or being started) here, in file order.
    pub fn held_groups(&self) -> Vec<&str> {
        self.groups
            .iter()
            .filter(|g| g.held)
            .map(|g| g.key.as_str())
            .collect()
    }

    /// No resource activity: the C `hb_rsc_isstable`.
    pub fn is_stable(&self) -> bool {
        let idle = self.jobs.running.is_none() && self.jobs.queue.is_empty();
        if !self.nice() {
            return idle;
        }
        if self.shutdown.in_progress && self.nice.rstate == RState::Init {
            return true;
        }
        self.nice.other_stable
            && !self.nice.takeover_in_progress
            && self.standby.state == Standby::Not
            && self.standby.deadline.is_none()
            && idle
            && matches!(
                self.nice.rstate,
                RState::Stable | RState::Shutdown | RState::Init
            )
    }

    // ---- helpers shared by the protocol modules ----

    pub(crate) fn nice(&self) -> bool {
        self.mode.nice_failback()
    }

    pub(crate) fn auto_failback(&self) -> bool {
        self.mode == AutoFailback::On
    }

    pub(crate) fn log(&mut self, level: Level, text: impl Into<String>) {
        self.out.push_back(Output::Log(level, text.into()));
    }

    pub(crate) fn emit_send(&mut self, msg: Message) {
        self.out.push_back(Output::Send(msg));
    }

    pub(crate) fn set_status(&mut self, node: &str, status: &str) {
        if let Some(info) = self.nodes.get_mut(&node.to_ascii_lowercase()) {
            info.status = status.to_string();
        }
    }

    /// Normal nodes whose status is `dead`.
    pub(crate) fn dead_count(&self) -> usize {
        self.nodes.values().filter(|n| n.status == "dead").count()
    }

    /// Normal peers that may hold groups: neither dead nor starting (`up`).
    pub(crate) fn peers_maybe_holding(&self) -> usize {
        self.nodes
            .iter()
            .filter(|(name, n)| n.status != "dead" && n.status != "up" && **name != self.local)
            .count()
    }

    /// Active normal nodes, counting us even before our status is active.
    pub(crate) fn up_count(&self) -> usize {
        let active = self
            .nodes
            .iter()
            .filter(|(name, n)| n.status == "active" && **name != self.local)
            .count();
        active + 1
    }

    /// Active normal peers (not us), sorted.
    pub(crate) fn active_peers(&self) -> BTreeSet<String> {
        self.nodes
            .iter()
            .filter(|(name, n)| n.status == "active" && **name != self.local)
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// `hb_standby <set>`: `Going standby [<set>].` + `ask_resources … me`.
    pub(crate) fn request_standby(&mut self, set: &str) {
        self.log(Level::Info, format!("Going standby [{set}]."));
        self.emit_send(wire::ask_resources(set, "me"));
    }

    /// Common tail of every input: audits happen where the C does them;
    /// here we retry a delayed shutdown and run queued jobs.
    pub(crate) fn after_input(&mut self, _now: u64) {
        self.shutdown_if_needed();
        self.pump();
    }
}
