//! The receive path: parse the control fields, find the sender, classify the
//! message against the sender's stream (docs/protocol.md §6.3, the C's
//! `should_drop_message`), refresh links, and dispatch.

use hb_proto::{Message, PacketError};

use crate::cluster::{Cluster, ACK_DIV, FLOWCONTROL_LIMIT, MAX_REXMIT_BATCH};
use crate::config::Millis;
use crate::event::Event;
use crate::node::NodeKind;
use crate::stats::DropReason;
use crate::wire::{self, types};

/// Gap size above which a sender's tracking is reset instead of repaired.
const LOST_RESET_THRESHOLD: u64 = FLOWCONTROL_LIMIT;

/// How far beyond both the highest generation we know of a node and the
/// wall clock in seconds a new generation may be. Generations count starts
/// (`hb_generation`) or are epoch seconds (`hbgenmethod time`, or a lost
/// generation file: docs/protocol.md §6.2), so anything beyond this is forged.
const MAX_GENERATION_AHEAD: u64 = 10_000_000;

/// Outcome of classifying one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// In sequence (or a filled gap) and addressed to us: dispatch.
    Keep,
    /// Same as the last one seen: refresh the link only.
    Duplicate,
    /// Tracked, but for another node.
    NotForUs,
    /// An old sequence number seen again.
    OldDuplicate,
    /// Fully handled during classification (NAK).
    Handled,
    /// Rejected; changes nothing.
    Reject(DropReason),
}

impl Cluster {
    /// A packet received on medium `medium` (index into the configured
    /// media). Bad packets are counted by reason and dropped; they never
    /// change any state.
    pub fn on_datagram(&mut self, now: Millis, wall_secs: u64, medium: usize, bytes: &[u8]) {
        self.advance(now, wall_secs);
        self.counters.packets_in += 1;
        match self.cfg.keys.open(bytes) {
            Ok(msg) => self.process_message(msg, Some(medium)),
            Err(e) => {
                let reason = match e {
                    PacketError::TooLarge(_) | PacketError::Malformed(_) => DropReason::Malformed,
                    PacketError::MissingTrailer
                    | PacketError::BadTrailer
                    | PacketError::UnknownKeyIndex(_)
                    | PacketError::DigestMismatch
                    | PacketError::MissingInnerAuth
                    | PacketError::BadInnerAuth => DropReason::BadAuth,
                };
                self.reject(reason);
            }
        }
        self.drain_loopback();
        self.expect_next_run();
    }

    fn reject(&mut self, reason: DropReason) {
        self.counters.count_drop(reason);
        self.emit(Event::PacketDropped { reason });
    }

    /// C `process_clustermsg`: `medium` is None for our own loopback copy.
    pub(crate) fn process_message(&mut self, msg: Message, medium: Option<usize>) {
        let (Some(t), Some(src), Some(ts)) =
            (msg.msg_type(), msg.get_str("src"), msg.get_str("ts"))
        else {
            return self.reject(DropReason::MissingField);
        };
        let t = t.to_string();
        let src = src.to_string();
        let seq = match msg.get_str("seq") {
            Some(s) => match wire::parse_hex(s) {
                Some(v) => Some(v),
                None => return self.reject(DropReason::BadSeq),
            },
            None if wire::is_unsequenced(&t) => None,
            None => return self.reject(DropReason::MissingField),
        };
        let ts = match wire::parse_hex(ts) {
            Some(v) if v != 0 => v,
            _ => return self.reject(DropReason::BadTimestamp),
        };
        let idx = wire::get_uuid(&msg, "srcuuid")
            .and_then(|u| self.lookup_uuid(&u))
            .or_else(|| self.lookup(&src));
        let Some(idx) = idx else {
            self.counters.count_drop(DropReason::UnknownNode);
            self.emit(Event::UnknownNode { name: src });
            return;
        };

        let verdict = self.classify(idx, &msg, &t, seq, ts);
        if let Verdict::Reject(reason) = verdict {
            self.counters.count_drop(reason);
            if reason != DropReason::Replay {
                self.emit(Event::PacketDropped { reason });
            }
            return;
        }
        self.nodes[idx].heard = true;
        self.learn_uuid(idx, &msg);
        match verdict {
            Verdict::Keep => self.counters.accepted += 1,
            Verdict::Duplicate => self.counters.duplicates += 1,
            Verdict::NotForUs => self.counters.not_for_us += 1,
            Verdict::OldDuplicate => self.counters.old_duplicates += 1,
            Verdict::Handled | Verdict::Reject(_) => {}
        }
        if matches!(verdict, Verdict::Keep | Verdict::Duplicate) {
            if let Some(m) = medium {
                self.refresh_link(idx, m);
            }
        }
        if verdict == Verdict::Keep {
            self.dispatch(idx, msg, &t, seq.unwrap_or(0), ts);
        }
        if !self.links_up {
            self.check_comm_isup();
        }
    }

    fn learn_uuid(&mut self, idx: usize, msg: &Message) {
        let Some(u) = wire::get_uuid(msg, "srcuuid") else {
            return;
        };
        let node = &self.nodes[idx];
        if node.uuid != u {
            let changed = node.uuid != [0; 16];
            let name = node.name.clone();
            self.set_uuid(idx, u);
            self.emit(Event::NodeUuid {
                node: name,
                uuid: u,
                changed,
            });
        }
    }

    fn refresh_link(&mut self, idx: usize, medium: usize) {
        let now = self.now;
        let node = &mut self.nodes[idx];
        let Some(link) = node.links.iter_mut().find(|l| l.medium == medium) else {
            return;
        };
        link.last_update = now;
        if !link.up {
            link.up = true;
            let e = Event::LinkStatus {
                node: node.name.clone(),
                medium: link.name.clone(),
                up: true,
            };
            self.emit(e);
        }
    }

    fn is_me(&self, name: Option<&str>) -> bool {
        name == Some(self.cfg.node_name.as_str())
    }

    /// C `should_drop_message` (docs/protocol.md §6.3).
    fn classify(
        &mut self,
        idx: usize,
        msg: &Message,
        t: &str,
        seq: Option<u64>,
        ts: u64,
    ) -> Verdict {
        let to = msg.get_str("dest");
        let to_me_by_name = to.is_none() || self.is_me(to);
        if wire::is_unsequenced(t) {
            if t.eq_ignore_ascii_case(types::NAK) {
                let Some(nseq) = msg
                    .get_str("firstseq")
                    .and_then(wire::parse_hex)
                    .filter(|&s| s > 0)
                else {
                    return Verdict::Reject(DropReason::BadNak);
                };
                if to_me_by_name {
                    self.counters.naks_received += 1;
                    let node = self.nodes[idx].name.clone();
                    self.emit(Event::IrretrievablyLost { node, seq: nseq });
                }
                self.found_missing(idx, nseq);
                return Verdict::Handled;
            }
            if t.eq_ignore_ascii_case(types::NS_STATUS) && self.stale_echo(ts) {
                return Verdict::Reject(DropReason::StaleEcho);
            }
            return if to_me_by_name {
                Verdict::Keep
            } else {
                Verdict::NotForUs
            };
        }
        let is_status = t.eq_ignore_ascii_case(types::STATUS);
        let Some(seq) = seq.filter(|&s| s > 0) else {
            return Verdict::Reject(DropReason::BadSeq);
        };
        let gen = match msg.get_str("hg") {
            Some(s) => match wire::parse_hex(s) {
                Some(g) => g,
                None => return Verdict::Reject(DropReason::BadGeneration),
            },
            None => 0,
        };
        let to_me = match wire::get_uuid(msg, "destuuid") {
            Some(u) => u == self.cfg.uuid,
            None => to_me_by_name,
        };
        let keep = if to_me {
            Verdict::Keep
        } else {
            Verdict::NotForUs
        };

        let known = self.nodes[idx].track.generation;
        if idx == self.me && (gen > self.cfg.generation || seq > self.last_seq()) {
            // Our own name with a generation or sequence number we never
            // used: only a forger holding the key sends that.
            return Verdict::Reject(DropReason::Forged);
        }
        if gen > known && gen > known.max(self.wall).saturating_add(MAX_GENERATION_AHEAD) {
            return Verdict::Reject(DropReason::Forged);
        }
        if gen < known {
            if let Some(v) = self.undo_forged_restart(idx, gen, seq) {
                return v;
            }
            let node = self.nodes[idx].name.clone();
            self.emit(Event::ReplayDropped {
                node,
                gen,
                current: known,
            });
            return Verdict::Reject(DropReason::Replay);
        }
        let mut restart = false;
        let mut healed = false;
        if is_status {
            if gen == known && gen > 0 {
                if self.nodes[idx].is_dead() {
                    if seq <= self.nodes[idx].status_seqno {
                        return Verdict::Reject(DropReason::StaleStatus);
                    }
                    // Alive again without a restart: a healed partition.
                    healed = true;
                    let node = self.nodes[idx].name.clone();
                    self.emit(Event::PartitionHealed { node });
                    self.send_local_status();
                }
            } else if gen > known {
                restart = true;
                if known > 0 && !self.nodes[idx].is_dead() {
                    let from = self.nodes[idx].track.last_seq.unwrap_or(0);
                    self.nodes[idx].track.restarted_from = Some((known, from));
                }
                if known > 0 {
                    let node = self.nodes[idx].name.clone();
                    self.emit(Event::NodeRestarted { node });
                }
                self.reset_track(idx);
                let n = &mut self.nodes[idx];
                n.rmt_lastupdate = 0;
                n.last_status = None;
                n.excused = 0;
                n.status_seqno = 0;
            }
            self.nodes[idx].track.generation = gen;
        }

        let last = self.nodes[idx].track.last_seq;
        let Some(last) = last.filter(|&l| Some(seq) != l.checked_add(1)) else {
            // First message, or exactly the next one.
            self.nodes[idx].track.last_seq = Some(seq);
            self.maybe_ack(idx, seq);
            return keep;
        };
        if seq == last {
            return Verdict::Duplicate;
        }
        if seq > last {
            let lost = seq - last - 1;
            let node = self.nodes[idx].name.clone();
            self.emit(Event::LostPackets {
                node: node.clone(),
                count: lost,
                last,
                got: seq,
            });
            if lost > LOST_RESET_THRESHOLD {
                self.reset_track(idx);
                self.nodes[idx].track.last_seq = Some(seq);
                self.nodes[idx].track.jumped_from = Some(last);
                self.emit(Event::TooManyLost { node });
                return keep;
            }
            for k in last + 1..seq {
                self.schedule_rexmit(idx, k);
                if let Some(evicted) = self.nodes[idx].track.add_missing(k) {
                    self.rexmit.cancel(idx, evicted);
                }
            }
            self.nodes[idx].track.last_seq = Some(seq);
            return keep;
        }
        if self.found_missing(idx, seq) {
            self.counters.gaps_filled += 1;
            return keep;
        }
        if let Some(from) = self.nodes[idx].track.jumped_from {
            if seq > from && seq - from <= LOST_RESET_THRESHOLD {
                // The old stream goes on right after where it was before
                // the jump: the jump was forged. Back to the real stream.
                self.counters.count_drop(DropReason::Forged);
                self.reset_track(idx);
                self.nodes[idx].track.last_seq = Some(seq);
                self.nodes[idx].track.jumped_from = None;
                return keep;
            }
        }
        if healed || restart {
            self.maybe_ack(idx, seq);
            self.nodes[idx].rmt_lastupdate = ts;
            self.reset_track(idx);
            self.nodes[idx].track.last_seq = Some(seq);
            return keep;
        }
        Verdict::OldDuplicate
    }

    /// A packet of the generation the node had before a restart we adopted
    /// while it was alive, continuing that stream (a new sequence number
    /// just after where it stood): the "restart" was one forged status.
    /// Go back to the old generation and stream (docs/reliability.md,
    /// hardening). A late packet of a really restarted node has an old
    /// sequence number and stays a replay.
    fn undo_forged_restart(&mut self, idx: usize, gen: u64, seq: u64) -> Option<Verdict> {
        let (old_gen, from) = self.nodes[idx].track.restarted_from?;
        if gen != old_gen || seq <= from || seq - from > LOST_RESET_THRESHOLD {
            return None;
        }
        self.counters.count_drop(DropReason::Forged);
        self.reset_track(idx);
        let n = &mut self.nodes[idx];
        n.track.generation = old_gen;
        n.track.last_seq = Some(seq);
        n.track.restarted_from = None;
        n.status_seqno = 0;
        n.rmt_lastupdate = 0;
        Some(Verdict::Keep)
    }

    /// A ping node's echo carries the `ts` (wall seconds) of the status
    /// it answers, and only we sign those (docs/protocol.md §11.5): one older
    /// than the ping dead interval (plus slack for clock steps) is a
    /// recorded echo played back, which 3.0.6 would take as a live ping
    /// node forever.
    fn stale_echo(&self, ts: u64) -> bool {
        let window = self.cfg.deadping / 1000 + 10;
        ts.saturating_add(window) < self.wall
    }

    /// C `is_lost_packet`: removes `seq` from the missing list (cancelling its
    /// timer); when it was the first gap, ACKs up to the new first gap (docs/protocol.md §6.6).
    fn found_missing(&mut self, idx: usize, seq: u64) -> bool {
        let track = &mut self.nodes[idx].track;
        let old_first = track.first_missing();
        if !track.missing.remove(&seq) {
            return false;
        }
        let now_complete = track.missing.is_empty();
        let new_first = track.first_missing();
        let last = track.last_seq.unwrap_or(0);
        let trigger = track.ack_trigger;
        self.rexmit.cancel(idx, seq);
        if now_complete {
            let node = self.nodes[idx].name.clone();
            self.emit(Event::NoPacketsMissing { node });
        }
        if self.flow_control && seq == old_first {
            let upto = if new_first == 0 { last } else { new_first - 1 };
            if upto >= trigger {
                let ack = upto - (upto - trigger) % ACK_DIV;
                if ack >= old_first {
                    self.maybe_ack(idx, ack);
                }
            }
        }
        true
    }

    /// C `send_ack_if_needed`.
    fn maybe_ack(&mut self, idx: usize, seq: u64) {
        if !self.flow_control {
            return;
        }
        let track = &self.nodes[idx].track;
        let first = track.first_missing();
        if (first != 0 && seq > first) || seq % ACK_DIV != track.ack_trigger {
            return;
        }
        let name = self.nodes[idx].name.clone();
        self.send_internal(wire::ack_msg(&name, seq));
        self.counters.acks_sent += 1;
    }

    fn dispatch(&mut self, idx: usize, msg: Message, t: &str, seq: u64, ts: u64) {
        match t {
            types::STATUS | types::NS_STATUS => self.handle_status(idx, msg, seq, ts),
            types::REXMIT => {
                if idx != self.me {
                    self.serve_rexmit(idx, &msg);
                }
            }
            types::ACK => {
                if self.flow_control {
                    self.handle_ack(idx, &msg);
                }
            }
            types::REQNODES => self.handle_reqnodes(idx),
            types::REPNODES => self.handle_repnodes(idx, &msg),
            _ => self.deliver(msg),
        }
    }

    /// C `HBDoMsg_T_STATUS`: liveness, status changes, `dt`.
    fn handle_status(&mut self, idx: usize, msg: Message, seq: u64, ts: u64) {
        let Some(st) = msg.get_str("st") else {
            return;
        };
        let st = Cluster::clip_status(st);
        {
            let n = &self.nodes[idx];
            if ts < n.rmt_lastupdate && seq < n.status_seqno {
                return; // older than what we have
            }
        }
        if self.nodes[idx].kind == NodeKind::Normal
            && self.flow_control
            && !msg.get_str("protocol").is_some_and(|p| {
                p.trim_start()
                    .starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+')
            })
        {
            self.flow_control = false;
            self.emit(Event::FlowControlDisabled);
        }
        if let Some(last) = self.nodes[idx].last_status {
            // The interval as it happened is reported; whether it kills
            // is judged without the time we did not run (`pause.rs`).
            let gap = self.now.saturating_sub(last);
            let seen = gap.saturating_add(self.nodes[idx].excused);
            let node = self.nodes[idx].name.clone();
            if seen > self.cfg.deadtime {
                self.counters.late_heartbeats += 1;
                self.emit(Event::LateHeartbeat {
                    node,
                    interval_ms: seen,
                    beyond_deadtime: true,
                });
                // 3.0.6: our timeout check was starved; it was dead after all.
                // Unless we were the one paused: then the gap is ours.
                if idx != self.me
                    && gap > self.cfg.deadtime
                    && !self.nodes[idx].is_dead()
                    && !self.pause.in_grace(self.now)
                {
                    self.mark_node_dead(idx);
                }
            } else if seen > self.cfg.warntime {
                self.counters.late_heartbeats += 1;
                self.emit(Event::LateHeartbeat {
                    node,
                    interval_ms: seen,
                    beyond_deadtime: false,
                });
            }
        }
        if idx != self.me && !self.nodes[idx].status.eq_ignore_ascii_case(&st) {
            let n = &mut self.nodes[idx];
            let old = std::mem::replace(&mut n.status, st.clone());
            let node = n.name.clone();
            self.emit(Event::NodeStatus { node, old, new: st });
            self.deliver(msg.clone());
        }
        if let Some(dt) = msg.get_str("dt").and_then(wire::parse_hex) {
            self.nodes[idx].dead_interval = dt;
        }
        if idx == self.me {
            self.local_lost = false;
            self.emit(Event::LocalHeartbeat);
        }
        let now = self.now;
        let n = &mut self.nodes[idx];
        n.rmt_lastupdate = ts;
        n.last_status = Some(now);
        n.excused = 0;
        n.status_seqno = seq;
    }

    /// C `process_rexmit` (docs/protocol.md §6.5): retransmit from the history or NAK.
    fn serve_rexmit(&mut self, idx: usize, msg: &Message) {
        self.counters.rexmit_requests_received += 1;
        let first = msg.get_str("firstseq").map_or(0, wire::parse_atoi);
        let last = msg.get_str("lastseq").map_or(0, wire::parse_atoi);
        if first <= 0 || last <= 0 || first > last {
            return;
        }
        let (first, last) = (first.unsigned_abs(), last.unsigned_abs());
        let requester = self.nodes[idx].name.clone();
        let acked = self.nodes[idx].track.ackseq;
        let window = self.cfg.max_rexmit_delay.saturating_sub(10);
        let mut sent = 0usize;
        let mut naks = 0usize;
        let mut s = first.max(acked.saturating_add(1));
        while s <= last {
            if s <= self.hist.lowseq {
                self.nak(&requester, s, "seqno too low");
                naks += 1;
            } else if s > self.hist.hiseq {
                let max = self.hist.hiseq;
                self.emit(Event::RexmitTooHigh { seq: s, max });
                break;
            } else {
                let now = self.now;
                match self
                    .hist
                    .get_mut(s)
                    .and_then(|slot| slot.msg().map(|m| (slot, m)))
                {
                    None => {
                        self.nak(&requester, s, "seqno not found");
                        naks += 1;
                    }
                    Some((slot, msg)) => {
                        let recent = slot
                            .last_rexmit
                            .is_some_and(|t| now.saturating_sub(t) < window);
                        if !recent {
                            sent += 1;
                            if sent > MAX_REXMIT_BATCH {
                                return;
                            }
                            slot.last_rexmit = Some(now);
                            let bytes = crate::node_table::seal_with(
                                &self.cfg.keys,
                                &self.cfg.compression,
                                &msg,
                            );
                            self.counters.rexmit_served += 1;
                            self.transmit(bytes, true);
                        }
                    }
                }
            }
            if naks >= MAX_REXMIT_BATCH {
                return;
            }
            s += 1;
        }
    }

    fn nak(&mut self, requester: &str, seq: u64, reason: &'static str) {
        self.emit(Event::CannotRexmit {
            node: requester.to_string(),
            seq,
            reason,
        });
        self.counters.naks_sent += 1;
        self.send_internal(wire::nak_msg(requester, seq, reason));
    }

    /// C `HBDoMsg_T_ACKMSG` (docs/protocol.md §6.6, sender side).
    fn handle_ack(&mut self, idx: usize, msg: &Message) {
        if !self.is_me(msg.get_str("dest")) {
            return;
        }
        let Some(ackseq) = msg.get_str("ackseq").and_then(wire::parse_hex) else {
            return;
        };
        let prev = self.nodes[idx].track.ackseq;
        if ackseq == prev || ackseq <= self.cluster_ack || ackseq > self.hist.hiseq || ackseq < prev
        {
            return;
        }
        self.nodes[idx].track.ackseq = ackseq;
        let min = self
            .nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Normal && !n.is_dead())
            .map(|n| n.track.ackseq)
            .min();
        let Some(min) = min else {
            return;
        };
        let mut new_ack = self.cluster_ack;
        if self.live_count() < 2 {
            if self.hist.hiseq.saturating_sub(new_ack) >= FLOWCONTROL_LIMIT {
                new_ack = self.hist.hiseq - (FLOWCONTROL_LIMIT - 1);
            }
        } else if min > 0 {
            new_ack = min;
        }
        self.cluster_ack = self.cluster_ack.max(new_ack);
    }

    /// Answers `reqnodes` with every normal node (docs/protocol.md §8.6 step 3).
    fn handle_reqnodes(&mut self, idx: usize) {
        if idx == self.me {
            return;
        }
        let requester = self.nodes[idx].name.clone();
        let names: Vec<String> = self
            .nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Normal)
            .map(|n| n.name.clone())
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        self.send_internal(wire::repnodes_msg(&requester, &refs, &[]));
    }

    /// A `repnodes` addressed to us: compare lists, then comm up.
    fn handle_repnodes(&mut self, idx: usize, msg: &Message) {
        if idx == self.me {
            return;
        }
        if let Some(list) = msg.get_str("nodelist") {
            let theirs: Vec<String> = list.split_whitespace().map(|s| s.to_string()).collect();
            let ours: Vec<String> = self
                .nodes
                .iter()
                .enumerate()
                .filter(|(i, n)| n.kind == NodeKind::Normal && !self.deleted.contains(i))
                .map(|(_, n)| n)
                .map(|n| n.name.clone())
                .collect();
            let unknown_here: Vec<String> = theirs
                .iter()
                .filter(|n| !ours.contains(n))
                .cloned()
                .collect();
            let missing_there: Vec<String> = ours
                .iter()
                .filter(|n| !theirs.contains(n))
                .cloned()
                .collect();
            if !unknown_here.is_empty() || !missing_there.is_empty() {
                let from = self.nodes[idx].name.clone();
                self.emit(Event::NodeListMismatch {
                    from,
                    unknown_here,
                    missing_there,
                });
            }
        }
        if msg.get("nodelist").is_some() || msg.get("delnodelist").is_some() {
            self.stop_reqnodes();
        }
        self.comm_now_up();
    }
}
