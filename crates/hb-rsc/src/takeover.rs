//! Taking groups: our own at startup (`req_our_resources`), a dead or
//! departing node's (`mach_down`, docs/protocol.md §9.6, §9.9), and giving all
//! of ours up at shutdown.

use crate::jobs::Job;
use crate::manager::{RState, ResourceManager, Standby};
use crate::set::RscSet;
use crate::wire;
use crate::Level;

impl ResourceManager {
    /// Normal node `node` was declared dead (the C
    /// `hb_rsc_recover_dead_resources`): decide whether a reset is needed,
    /// send `stonith`, take its groups. A needed reset goes through the
    /// STONITH device when one is configured ([`Output::Reset`](crate::Output::Reset); the takeover
    /// waits for [`ResourceManager::reset_done`]), otherwise it is reported
    /// as `n_stnth` and the takeover proceeds.
    pub fn node_dead(&mut self, node: &str, now: u64) {
        let node = node.to_ascii_lowercase();
        if node == self.local || !self.nodes.contains_key(&node) {
            return;
        }
        self.set_status(&node, "dead");
        for waiting in self.jobs.pending_ip.values_mut() {
            waiting.remove(&node);
        }
        self.release_answered_requests();
        self.recover_dead_resources(&node);
        if let Some(info) = self.nodes.get_mut(&node) {
            info.heard = false;
        }
        self.after_input(now);
    }

    fn recover_dead_resources(&mut self, node: &str) {
        if self.standby.state != Standby::Not {
            self.log(Level::Info, "Cancelling pending standby operation");
            self.standby.state = Standby::Not;
            self.standby.deadline = None;
            if !self.nice.other_stable && self.nice.i_hold == RscSet::ALL {
                self.nice.other_stable = true;
            }
        }
        if self.shutdown.in_progress {
            match self.nice.rstate {
                RState::Shutdown | RState::Stable => {}
                _ => self.giveup_resources(),
            }
            return;
        }
        self.nice.rsc_needs_failback = true;
        let (heard, has_resources) = self
            .nodes
            .get(node)
            .map_or((false, true), |n| (n.heard, n.has_resources));
        let need_stonith = !(heard
            && if self.nice() {
                self.nice.other_holds == RscSet::NONE
            } else {
                !has_resources
            });
        if need_stonith {
            if self.start_reset(node) {
                // the takeover follows a successful reset (reset_done)
                return;
            }
            self.emit_send(wire::stonith(node, "n_stnth"));
            self.log(Level::Warn, "No STONITH device configured.");
            self.log(Level::Warn, "Shared disks are not protected.");
            self.takeover_from_node(node);
        } else {
            self.log(Level::Info, format!("Dead node {node} gave up resources."));
            self.emit_send(wire::stonith(node, "unneeded"));
            if self.nice() {
                if self.nice.i_hold == RscSet::ALL {
                    self.nice.other_stable = true;
                    return;
                }
                if !self.nice.i_hold.intersects(RscSet::LOCAL) {
                    self.req_our_resources(true);
                }
                if !self.nice.i_hold.intersects(RscSet::FOREIGN) {
                    self.takeover_from_node(node);
                }
            } else {
                self.takeover_from_node(node);
            }
        }
    }

    /// `shutdone` from a peer (or ourselves).
    pub(crate) fn on_shutdone(&mut self, from: &str, from_self: bool, now: u64) {
        if self.comm_up {
            let none = hb_proto::Message::new();
            self.process_resources(wire::types::SHUTDONE, &none, from_self, now);
        }
        if from_self || from.is_empty() {
            return;
        }
        if let Some(info) = self.nodes.get_mut(from) {
            info.has_resources = false;
        }
        self.nice.other_stable = false;
        self.nice.other_holds = RscSet::NONE;
        self.log(
            Level::Info,
            format!("Received shutdown notice from '{from}'."),
        );
        self.takeover_from_node(from);
    }

    /// Queue `mach_down <node>` and make sure we hold our own groups.
    pub(crate) fn takeover_from_node(&mut self, node: &str) {
        if !self.nodes.contains_key(node) {
            return;
        }
        if self.shutdown.in_progress {
            self.log(
                Level::Info,
                "Resource takeover cancelled - shutdown in progress.",
            );
            return;
        }
        self.log(
            Level::Info,
            format!("Resources being acquired from {node}."),
        );
        self.out.push_back(crate::Output::TakingOver {
            node: node.to_string(),
        });
        self.enqueue(Job::MachDown {
            node: node.to_string(),
        });
        if self.nice() {
            // noted now so that no interim report lets the peer believe
            // it may take its groups while mach_down is still working
            self.nice.i_hold = self.nice.i_hold.union(RscSet::FOREIGN);
            self.nice.other_holds = RscSet::NONE;
            self.nice.other_stable = true;
            self.nice.takeover_in_progress = true;
        }
        self.req_our_resources(true);
        if let Some(info) = self.nodes.get_mut(node) {
            info.heard = true;
        }
    }

    /// Acquire our own groups (`req_our_resources`): with nice_failback
    /// only if neither we nor the peer hold them (unless `anyway`).
    pub(crate) fn req_our_resources(&mut self, anyway: bool) {
        if self.shutdown.in_progress {
            return;
        }
        if self.nice() {
            if (self.nice.other_holds.intersects(RscSet::FOREIGN)
                || self.nice.i_hold.intersects(RscSet::LOCAL))
                && !anyway
                && self.standby.state == Standby::Not
            {
                self.log(Level::Info, "Local Resource acquisition completed. (none)");
                return;
            }
            self.nice.i_hold = self.nice.i_hold.union(RscSet::LOCAL);
        }
        let alone = self.up_count() < 2;
        self.enqueue(Job::ReqOurResources { alone });
    }

    /// First step of a graceful shutdown (`hb_giveup_resources`): wait for
    /// stability, then report `none`, release everything, send `shutdone`.
    pub(crate) fn giveup_resources(&mut self) {
        if !self.is_stable() {
            if !self.shutdown.needed {
                self.log(
                    Level::Warn,
                    "Shutdown delayed until current resource activity finishes.",
                );
                self.shutdown.needed = true;
            }
            return;
        }
        self.shutdown.needed = false;
        self.shutdown.in_progress = true;
        if self.shutdown.giveup_started {
            self.log(Level::Info, "Heartbeat shutdown already underway.");
            return;
        }
        self.shutdown.giveup_started = true;
        self.nice.i_hold = RscSet::NONE;
        self.nice.rstate = RState::Shutdown;
        self.send_resources_held(false, Some("shutdown"));
        self.enqueue(Job::GiveupAll);
    }

    /// Retries a delayed shutdown.
    pub(crate) fn shutdown_if_needed(&mut self) {
        if self.shutdown.needed {
            self.giveup_resources();
        }
    }
}
