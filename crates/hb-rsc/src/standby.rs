//! The three-phase standby protocol (docs/protocol.md §9.7, docs/behaviour.md §12.1).
//!
//! S (going standby) sends `ask_resources info=me`; T answers `other`; S
//! releases and sends `done`; T acquires the complement and sends `done`;
//! both report `resource … isstable=1`. Every node also processes its own
//! messages, which is how S learns its release finished. The set in every
//! `ask_resources` is from S's point of view.

use hb_proto::Message;

use crate::jobs::Job;
use crate::manager::{
    RState, ResourceManager, Standby, STANDBY_REPLY_TIMEOUT_MS, STANDBY_RUN_TIMEOUT_MS,
};
use crate::set::RscSet;
use crate::wire;
use crate::Level;

impl ResourceManager {
    /// Cancels a standby whose timer ran out (checked on every message and
    /// every tick).
    pub(crate) fn check_standby_timeout(&mut self, now: u64) {
        if self.standby.deadline.is_some_and(|d| now >= d) {
            self.standby.deadline = None;
            self.nice.other_stable = true;
            self.standby.state = Standby::Not;
            self.log(
                Level::Warn,
                "No reply to standby request.  Standby request cancelled.",
            );
        }
    }

    /// `t=ask_resources` (the C `ask_for_resources`).
    pub(crate) fn ask_for_resources(
        &mut self,
        msg: &Message,
        from: &str,
        from_self: bool,
        now: u64,
    ) {
        if !self.nice() {
            self.log(
                Level::Info,
                "Standby mode only implemented when nice_failback on",
            );
            return;
        }
        if self.nice.rstate == RState::Shutdown {
            self.log(Level::Debug, "standby message ignored during shutdown");
            return;
        }
        let rtype = match msg.get_str("rsc_hold") {
            Some(text) => self.decode_set(text),
            None => RscSet::ALL,
        };
        let (Some(info), false) = (msg.get_str("info"), from.is_empty()) else {
            self.log(Level::Error, "Received standby message without info/from");
            return;
        };
        let info = info.to_string();
        let is = |word: &str| info.eq_ignore_ascii_case(word);

        if let Some(deadline) = self.standby.deadline {
            if now < deadline && is("me") {
                let secs = (deadline - now).div_ceil(1000);
                self.log(
                    Level::Warn,
                    format!(
                        "Standby in progress- new request from {from} ignored [{secs} seconds left]"
                    ),
                );
                return;
            }
        }

        let orig = self.standby.state;
        let mut ignored = false;
        match self.standby.state {
            Standby::Not => {
                if !self.nice.other_stable {
                    self.log(
                        Level::Warn,
                        format!(
                            "standby message [{info}] from {from} ignored.  Other side is in flux."
                        ),
                    );
                    return;
                }
                if self.nice.rstate != RState::Stable {
                    self.log(
                        Level::Warn,
                        format!("standby message [{info}] from {from} ignored.  local resources in flux."),
                    );
                    return;
                }
                self.standby.rsctype = rtype;
                if is("me") {
                    self.nice.other_stable = false;
                    self.log(Level::Info, format!("{from} wants to go standby [{rtype}]"));
                    if from_self {
                        self.standby.deadline = Some(now.saturating_add(STANDBY_REPLY_TIMEOUT_MS));
                        self.standby.state = Standby::Me;
                    } else {
                        self.standby.state = Standby::Other;
                        self.emit_send(wire::ask_resources(rtype.as_str(), "other"));
                        self.standby.deadline = Some(now.saturating_add(STANDBY_RUN_TIMEOUT_MS));
                    }
                } else {
                    ignored = true;
                }
            }
            Standby::Me => {
                if !from_self {
                    self.standby.rsctype = rtype;
                    self.standby.deadline = Some(now.saturating_add(STANDBY_RUN_TIMEOUT_MS));
                    if is("other") {
                        self.log(
                            Level::Info,
                            format!("standby: {from} can take our {rtype} resources"),
                        );
                        self.go_standby(Standby::Me, rtype);
                    } else {
                        ignored = true;
                    }
                } else if info == "done" {
                    self.log(
                        Level::Info,
                        format!("Local standby process completed [{rtype}]."),
                    );
                    self.standby.state = Standby::Done;
                    self.nice.i_hold = self.nice.i_hold.minus(self.standby.rsctype);
                    self.standby.deadline = Some(now.saturating_add(STANDBY_RUN_TIMEOUT_MS));
                } else {
                    ignored = true;
                }
            }
            Standby::Other => {
                self.standby.rsctype = rtype;
                if is("done") {
                    self.standby.deadline = Some(now.saturating_add(STANDBY_RUN_TIMEOUT_MS));
                    if !from_self {
                        self.log(
                            Level::Info,
                            format!("standby: acquire [{rtype}] resources from {from}"),
                        );
                        self.go_standby(Standby::Other, rtype);
                        self.standby.state = Standby::Done;
                    } else {
                        ignored = true;
                    }
                } else if !from_self || !is("other") {
                    ignored = true;
                }
            }
            Standby::Done => {
                self.standby.rsctype = rtype;
                if info == "done" {
                    self.standby.deadline = None;
                    self.standby.state = Standby::Not;
                    if from_self {
                        self.log(
                            Level::Info,
                            format!("Standby resource acquisition done [{rtype}]."),
                        );
                        if self.auto_failback() {
                            self.nice.local_work_done = true;
                            self.announce_takeover("auto_failback");
                        }
                        // what the acquirer gained, in its own terms
                        self.nice.i_hold = self.nice.i_hold.union(rtype.swapped());
                    } else {
                        self.log(
                            Level::Info,
                            format!("Other node completed standby takeover of {rtype} resources."),
                        );
                    }
                    self.send_resources_held(true, None);
                } else {
                    ignored = true;
                }
            }
        }
        if ignored {
            self.log(
                Level::Error,
                format!(
                    "Ignored standby message '{info}' from {from} in state {}",
                    orig as u8
                ),
            );
        }
    }

    /// Starts our side of a standby: `who` = [`Standby::Me`] gives up the
    /// set (S), [`Standby::Other`] acquires the complement (T). The state
    /// changes the C makes before forking its helper happen now; the group
    /// work is queued.
    pub(crate) fn go_standby(&mut self, who: Standby, set: RscSet) {
        if who == Standby::Me {
            self.nice.other_stable = false;
            self.nice.i_hold = self.nice.i_hold.minus(set);
            self.send_resources_held(false, Some("standby"));
        }
        self.enqueue(Job::GoStandby {
            giveup: who == Standby::Me,
            set,
            msg_set: self.standby.rsctype,
        });
    }
}
