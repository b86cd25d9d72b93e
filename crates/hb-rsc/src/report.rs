//! What an operator asks at 3 a.m.: why does this node hold (or not hold) each group, and
//! how often did groups move or fail. Pure reads of the state machine, plus the counters that
//! [`ResourceManager`] keeps as operations finish (`cl_status explain`, `cl_status metrics`).

use std::fmt;

use hb_config::AutoFailback;

use crate::manager::{RState, ResourceManager, Standby};
use crate::set::RscSet;

/// Running totals of one group's operations on this node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupCounters {
    /// Starts that completed (the group runs here).
    pub starts: u64,
    /// Starts of a group whose home is another node (takeovers).
    pub takeovers: u64,
    /// Starts that failed (the group was rolled back).
    pub start_failures: u64,
    /// Stops that completed.
    pub stops: u64,
    /// Stops that failed.
    pub stop_failures: u64,
}

impl GroupCounters {
    /// Counts one finished operation.
    pub(crate) fn count(&mut self, acquire: bool, local: bool, ok: bool) {
        match (acquire, ok) {
            (true, true) => {
                self.starts += 1;
                if !local {
                    self.takeovers += 1;
                }
            }
            (true, false) => self.start_failures += 1,
            (false, true) => self.stops += 1,
            (false, false) => self.stop_failures += 1,
        }
    }
}

/// Why a group is, or is not, running on this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Cluster communication is not up yet (waiting for `initdead` or the first peer).
    WaitingForComm,
    /// We are stopping: groups are being released.
    ShuttingDown,
    /// A start or stop of a group is running, or queued.
    OperationRunning,
    /// A standby (hb_standby / hb_takeover / auto_failback hand-over) is in progress.
    StandbyInProgress,
    /// Our own group, running here.
    HomeHere,
    /// Another node's group, running here because that node is dead.
    HomeDead {
        /// The group's home node.
        home: String,
    },
    /// Another node's group, running here although its home node is back: `auto_failback on`
    /// will hand it back once both sides are stable.
    FailbackPending {
        /// The group's home node.
        home: String,
    },
    /// Another node's group, running here although its home node is back: `auto_failback
    /// off` keeps it here until `hb_standby` (here) or `hb_takeover` (there).
    StaysNoFailback {
        /// The group's home node.
        home: String,
    },
    /// Another node's group running here in legacy mode.
    HeldLegacy,
    /// Our own group, which the peer holds (after `hb_standby`, or `auto_failback off`
    /// after a failover).
    PeerHoldsOurs {
        /// The node holding it.
        peer: String,
    },
    /// Our own group, not running anywhere we know of: waiting for the peer's report, or
    /// it failed to start and was offered to the peer.
    OursNotHeld,
    /// Another node's group, run by its home node.
    HomeRunsIt {
        /// The group's home node.
        home: String,
    },
    /// Another node's group; its home node is dead and the takeover has not happened
    /// (yet): STONITH, a takeover queued, or another survivor takes it.
    HomeDeadNotTaken {
        /// The group's home node.
        home: String,
    },
    /// Another node's group whose home is neither dead nor holding it.
    ForeignNotHeld {
        /// The group's home node.
        home: String,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::WaitingForComm => f.write_str(
                "cluster communication is not up yet (waiting for the peers or initdead)",
            ),
            Reason::ShuttingDown => f.write_str("this node is shutting down: releasing its groups"),
            Reason::OperationRunning => {
                f.write_str("a resource operation is in progress (start or stop running or queued)")
            }
            Reason::StandbyInProgress => {
                f.write_str("a standby is in progress (hb_standby, hb_takeover or auto_failback)")
            }
            Reason::HomeHere => f.write_str("this is its home node"),
            Reason::HomeDead { home } => {
                write!(f, "its home node {home} is dead: this node took it over")
            }
            Reason::FailbackPending { home } => write!(
                f,
                "its home node {home} is back; auto_failback on hands it back once both are stable"
            ),
            Reason::StaysNoFailback { home } => write!(
                f,
                "taken over from {home}, which is back, but auto_failback is off: it stays here \
                 until hb_standby here or hb_takeover on {home}"
            ),
            Reason::HeldLegacy => f.write_str("held here (auto_failback legacy)"),
            Reason::PeerHoldsOurs { peer } => write!(
                f,
                "{peer} holds it (after hb_standby here or hb_takeover there, or a failover with \
                 auto_failback off); hb_takeover here brings it back"
            ),
            Reason::OursNotHeld => f.write_str(
                "nobody is known to hold it: waiting for the peer's resource report, or its start \
                 failed and it was offered to the peer",
            ),
            Reason::HomeRunsIt { home } => write!(f, "its home node {home} runs it"),
            Reason::HomeDeadNotTaken { home } => write!(
                f,
                "its home node {home} is dead; the takeover has not completed here"
            ),
            Reason::ForeignNotHeld { home } => write!(f, "its home node is {home}"),
        }
    }
}

/// One group, explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupReport {
    /// Group key (its first resource).
    pub key: String,
    /// Home node (first word of its haresources line).
    pub home: String,
    /// Running (or being started) here.
    pub held: bool,
    /// Why.
    pub reason: Reason,
    /// Its operation counters on this node.
    pub counters: GroupCounters,
}

/// The resource state as words, for `cl_status explain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RscReport {
    /// `auto_failback` mode (`on`, `off`, `legacy`).
    pub mode: &'static str,
    /// The startup state of the nice_failback protocol (`stable`, `starting`, ...).
    pub state: &'static str,
    /// A standby in progress, in words (None: none).
    pub standby: Option<&'static str>,
    /// What the peer says it holds (relative to the peer), nice_failback only.
    pub peer_holds: Option<&'static str>,
    /// Every group, in haresources order.
    pub groups: Vec<GroupReport>,
}

impl ResourceManager {
    /// Operation counters of every group, in haresources order: (key, home node, counters).
    pub fn group_counters(&self) -> Vec<(String, String, GroupCounters)> {
        self.groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                (
                    g.key.clone(),
                    g.node.clone(),
                    self.group_stats.get(i).copied().unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Why each group is or is not held here.
    pub fn report(&self) -> RscReport {
        let busy = self.jobs.running.is_some() || !self.jobs.queue.is_empty();
        let standby = match self.standby.state {
            Standby::Not => self
                .standby
                .deadline
                .map(|_| "waiting for the peer's reply"),
            Standby::Me => Some("this node is giving groups to the peer"),
            Standby::Other => Some("the peer is giving groups to this node"),
            Standby::Done => Some("finishing a hand-over"),
        };
        let status_of = |node: &str| self.nodes.get(node).map(|n| n.status.as_str());
        let groups = self
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let home_status = status_of(&g.node);
                let home_dead = home_status == Some("dead");
                let reason = if !self.comm_up {
                    Reason::WaitingForComm
                } else if self.shutdown.in_progress {
                    Reason::ShuttingDown
                } else if g.held {
                    if g.local {
                        Reason::HomeHere
                    } else if home_dead {
                        Reason::HomeDead {
                            home: g.node.clone(),
                        }
                    } else if !self.nice() {
                        Reason::HeldLegacy
                    } else if standby.is_some() {
                        Reason::StandbyInProgress
                    } else if self.mode == AutoFailback::On {
                        Reason::FailbackPending {
                            home: g.node.clone(),
                        }
                    } else {
                        Reason::StaysNoFailback {
                            home: g.node.clone(),
                        }
                    }
                } else if busy {
                    Reason::OperationRunning
                } else if standby.is_some() {
                    Reason::StandbyInProgress
                } else if g.local {
                    // The peer's set speaks for the peer: our groups are its "foreign".
                    match self.peer_name() {
                        Some(peer) if self.nice.other_holds.intersects(RscSet::FOREIGN) => {
                            Reason::PeerHoldsOurs { peer }
                        }
                        _ => Reason::OursNotHeld,
                    }
                } else if home_dead {
                    Reason::HomeDeadNotTaken {
                        home: g.node.clone(),
                    }
                } else if home_status == Some("active") {
                    Reason::HomeRunsIt {
                        home: g.node.clone(),
                    }
                } else {
                    Reason::ForeignNotHeld {
                        home: g.node.clone(),
                    }
                };
                GroupReport {
                    key: g.key.clone(),
                    home: g.node.clone(),
                    held: g.held,
                    reason,
                    counters: self.group_stats.get(i).copied().unwrap_or_default(),
                }
            })
            .collect();
        RscReport {
            mode: match self.mode {
                AutoFailback::On => "on",
                AutoFailback::Off => "off",
                AutoFailback::Legacy => "legacy",
            },
            state: match self.nice.rstate {
                RState::Init => "init",
                RState::Starting => "starting",
                RState::BothStarting => "both starting",
                RState::RscRcvd => "resource report received",
                RState::Stable => "stable",
                RState::Shutdown => "shutting down",
            },
            standby,
            peer_holds: self.nice().then(|| self.nice.other_holds.as_str()),
            groups,
        }
    }

    /// The one other normal node (nice_failback is a two-node protocol).
    fn peer_name(&self) -> Option<String> {
        self.nodes.keys().find(|n| **n != self.local).cloned()
    }
}
