//! The nice_failback resource-report protocol (`auto_failback on|off`):
//! startup negotiation with `starting` / `resource` (docs/protocol.md §9.4), the
//! peer's holdings and stability, the RQSTDELAY fallback, the audits of
//! docs/behaviour.md §5.5.3 and auto failback (§9.8).
//!
//! Two safety rules carry the whole design (they are the C's): take every
//! unclaimed group once the peer says it is stable, or — when nobody gets
//! stable within RQSTDELAY — take only our own unclaimed groups.

use hb_proto::Message;

use crate::manager::{RState, ResourceManager, Standby, AUTO_FAILBACK_RETRY_MS, RQSTDELAY_MS};
use crate::set::RscSet;
use crate::wire::{self, types};
use crate::Level;

impl ResourceManager {
    /// `resource` report of our holdings (`hb_send_resources_held`);
    /// nothing in legacy mode.
    pub(crate) fn send_resources_held(&mut self, stable: bool, info: Option<&str>) {
        if self.nice() {
            self.emit_send(wire::resources_held(self.nice.i_hold, stable, info));
        }
    }

    /// `Initial resource acquisition complete (<reason>)`, once, when both
    /// the local and the foreign part of startup are done.
    pub(crate) fn announce_takeover(&mut self, reason: &str) {
        if self.nice.announced || !self.nice.local_work_done || !self.nice.foreign_work_done {
            return;
        }
        self.nice.announced = true;
        self.log(
            Level::Info,
            format!("Initial resource acquisition complete ({reason})"),
        );
    }

    /// RQSTDELAY expired without a stable peer (or we are alone): go
    /// STABLE and take our own unclaimed groups.
    pub(crate) fn go_stable_by_timer(&mut self, _now: u64) {
        self.nice.rstate = RState::Stable;
        self.req_our_resources(false);
        self.log(Level::Info, "local resource transition completed.");
        self.send_resources_held(true, None);
        self.audit_resources();
    }

    /// `starting`, `resource` and (when comm is up) `shutdone` handling of
    /// the C `process_resources`.
    pub(crate) fn process_resources(&mut self, t: &str, msg: &Message, from_self: bool, now: u64) {
        if !self.nice() {
            return;
        }
        let mut new_state = self.nice.rstate;

        if t == types::STARTING && !from_self {
            let mut both_starting = false;
            match self.nice.rstate {
                RState::RscRcvd | RState::Stable | RState::Shutdown => {}
                RState::Starting => {
                    new_state = RState::BothStarting;
                    self.nice.foreign_work_done = true;
                    self.announce_takeover("HB_R_BOTHSTARTING");
                    both_starting = true;
                }
                other => {
                    self.log(
                        Level::Error,
                        format!("Received 'starting' message in state {}", other as u8),
                    );
                    return;
                }
            }
            self.nice.other_stable = false;
            if self.nice.takeover_in_progress {
                self.log(Level::Warn, "T_STARTING received during takeover.");
            }
            let stable = self.nice.rstate == RState::Stable;
            self.send_resources_held(stable, None);
            if both_starting {
                // Deliberate difference: the C waits RQSTDELAY here, then
                // takes its own groups. A peer that says `starting` is at
                // its comm up and holds nothing, so our own groups can be
                // taken now (theirs are left to them).
                self.log(
                    Level::Info,
                    "Both nodes starting: acquiring local resources without waiting.",
                );
                self.go_stable_by_timer(now);
                new_state = RState::Stable;
            }
        }

        if t == types::RESOURCE {
            let Some(text) = msg.get_str("rsc_hold") else {
                self.log(Level::Error, "resource message without rsc_hold field.");
                return;
            };
            let n = self.decode_set(text);
            let full = msg.get_str("rtype") == Some("full");
            match self.nice.rstate {
                RState::BothStarting | RState::Starting => {
                    new_state = RState::RscRcvd;
                    if !self.auto_failback() {
                        self.nice.foreign_work_done = true;
                        self.announce_takeover("T_RESOURCES");
                    }
                }
                RState::RscRcvd | RState::Stable | RState::Shutdown => {}
                RState::Init => {
                    self.log(Level::Error, "resource message received in state 0");
                    return;
                }
            }
            if !from_self {
                self.nice.other_holds = self.nice.other_holds.updated(full, n);
                match msg.get_str("isstable") {
                    Some("1") if !self.nice.other_stable => {
                        self.log(Level::Info, "remote resource transition completed.");
                        self.nice.other_stable = true;
                        let stable = self.nice.rstate == RState::Stable;
                        self.send_resources_held(stable, None);
                        self.perform_auto_failback(now);
                    }
                    Some("1") => {}
                    Some(_) => self.nice.other_stable = false,
                    None => {}
                }
                if !matches!(self.nice.rstate, RState::Stable | RState::Shutdown)
                    && self.nice.other_stable
                {
                    self.log(Level::Info, "remote resource transition completed.");
                    self.req_our_resources(false);
                    new_state = RState::Stable;
                    self.send_resources_held(true, None);
                    self.perform_auto_failback(now);
                    self.nice.foreign_work_done = true;
                    if !self.auto_failback() && self.nice.other_holds.intersects(RscSet::FOREIGN) {
                        self.nice.local_work_done = true;
                    }
                    self.announce_takeover("T_RESOURCES(them)");
                }
            } else {
                // Our own full reports only echo what we already know, and
                // an echo can be stale (a report of `none` sent before
                // req_our_resources came back after it); the C overwrites
                // its holdings with it — harmless there only because its
                // helpers are slow. Partial reports (mach_down) still add.
                if !full {
                    self.nice.i_hold = self.nice.i_hold.updated(false, n);
                }
                if self.nice.i_hold.intersects(RscSet::LOCAL) {
                    self.nice.local_work_done = true;
                    self.announce_takeover("T_RESOURCES(us)");
                }
                match msg.get_str("info") {
                    Some("mach_down") => {
                        self.log(Level::Info, "mach_down takeover complete.");
                        self.nice.takeover_in_progress = false;
                        self.nice.i_hold = self.nice.i_hold.union(RscSet::FOREIGN);
                        self.nice.rsc_needs_failback = true;
                        self.nice.other_stable = true;
                        self.nice.foreign_work_done = true;
                        self.announce_takeover("mach_down");
                    }
                    Some("shutdown") => new_state = RState::Shutdown,
                    _ => {}
                }
            }
        }

        if t == types::SHUTDONE {
            if !from_self {
                self.nice.other_stable = true;
                self.nice.other_holds = RscSet::NONE;
                if self.nice.i_hold != RscSet::ALL && !self.shutdown.in_progress {
                    // The C names the set as the leaving node would; the
                    // groups actually missing are also taken by mach_down
                    // and req_our_resources right after.
                    let rtype = match self.nice.i_hold {
                        RscSet::FOREIGN => RscSet::LOCAL,
                        RscSet::LOCAL => RscSet::FOREIGN,
                        _ => RscSet::ALL,
                    };
                    self.standby.state = Standby::Done;
                    self.go_standby(Standby::Other, rtype);
                }
            } else {
                new_state = RState::Shutdown;
                self.nice.i_hold = RscSet::NONE;
            }
        }

        self.nice.rstate = new_state;
        if self.nice.rstate == RState::RscRcvd && self.nice.local_takeover_time.is_none() {
            self.nice.local_takeover_time = Some(now.saturating_add(RQSTDELAY_MS));
        }
        self.audit_resources();
    }

    /// Wire text to set; unknown text is `none` with the C error line.
    pub(crate) fn decode_set(&mut self, text: &str) -> RscSet {
        RscSet::parse(text).unwrap_or_else(|| {
            self.log(
                Level::Error,
                format!("encode_resources: bad resource type [{text}]"),
            );
            RscSet::NONE
        })
    }

    /// ERROR lines when ownership looks duplicated or orphaned.
    pub(crate) fn audit_resources(&mut self) {
        if !self.nice() {
            return;
        }
        if self.nice.i_hold.intersects(RscSet::LOCAL)
            && self.nice.other_holds.intersects(RscSet::FOREIGN)
        {
            self.log(Level::Error, "Both machines own our resources!");
        }
        if self.nice.other_holds.intersects(RscSet::LOCAL)
            && self.nice.i_hold.intersects(RscSet::FOREIGN)
        {
            self.log(Level::Error, "Both machines own foreign resources!");
        }
        if self.is_stable() && !self.shutdown.in_progress && self.nice.rstate != RState::Shutdown {
            if !self.nice.i_hold.intersects(RscSet::LOCAL)
                && !self.nice.other_holds.intersects(RscSet::FOREIGN)
            {
                self.log(Level::Error, "No one owns our local resources!");
            }
            if !self.nice.other_holds.intersects(RscSet::LOCAL)
                && !self.nice.i_hold.intersects(RscSet::FOREIGN)
            {
                self.log(Level::Error, "No one owns foreign resources!");
            }
        }
    }

    /// Give the peer its groups back (standby with `foreign`) once we are
    /// stable, not in a standby and the peer is stable; else retry in 1 s.
    pub(crate) fn perform_auto_failback(&mut self, now: u64) {
        if self.shutdown.in_progress
            || !self.nice.i_hold.intersects(RscSet::FOREIGN)
            || !self.nice.rsc_needs_failback
            || !self.auto_failback()
        {
            self.nice.rsc_needs_failback = false;
            return;
        }
        if self.standby.state != Standby::Not
            || !self.nice.other_stable
            || self.nice.rstate != RState::Stable
        {
            self.log(Level::Debug, "Auto failback delayed.");
            self.nice.auto_failback_at = Some(now.saturating_add(AUTO_FAILBACK_RETRY_MS));
            return;
        }
        self.log(Level::Debug, "Auto failback triggered.");
        self.standby.rsctype = RscSet::FOREIGN;
        self.emit_send(wire::ask_resources("foreign", "me"));
        self.nice.rsc_needs_failback = false;
    }
}
