//! Per-sender receive tracking (docs/protocol.md §6.3) and the retransmit-request
//! timers (docs/protocol.md §6.4).
//!
//! Both are bounded: a node has at most [`MAX_MISSING`] missing sequence
//! numbers (the lowest is forgotten when more arrive, and its timer with it),
//! and every timer belongs to exactly one missing sequence number.

use std::collections::{BTreeSet, HashMap};

use crate::config::Millis;

/// Size of a node's missing list (`MAXMISSING`).
pub const MAX_MISSING: usize = 500;

/// What we know about one sender's message stream.
#[derive(Debug, Clone, Default)]
pub(crate) struct Track {
    /// The sender's generation (`hg`), 0 = not known yet.
    pub generation: u64,
    /// Highest sequence number seen (None after a reset).
    pub last_seq: Option<u64>,
    /// Sequence numbers we are still waiting for.
    pub missing: BTreeSet<u64>,
    /// What that node acknowledged of *our* stream.
    pub ackseq: u64,
    /// ACK every message whose `seq % 10` equals this (0..=9).
    pub ack_trigger: u64,
    /// Where the stream was before its last jump too large to repair (the
    /// position was reset to the new sequence number): a later packet just
    /// above it shows the jump was one forged packet, and we go back.
    pub jumped_from: Option<u64>,
    /// Generation and position before the last restart adopted while the
    /// node was alive: a later packet continuing that stream shows the
    /// "restart" was one forged status, and we go back.
    pub restarted_from: Option<(u64, u64)>,
}

impl Track {
    /// The lowest missing sequence number, 0 when there is no gap.
    pub fn first_missing(&self) -> u64 {
        self.missing.first().copied().unwrap_or(0)
    }

    /// Records `seq` as missing; returns a sequence number that had to be
    /// forgotten to stay within bounds.
    pub fn add_missing(&mut self, seq: u64) -> Option<u64> {
        let mut evicted = None;
        if self.missing.len() >= MAX_MISSING - 1 && !self.missing.contains(&seq) {
            evicted = self.missing.pop_first();
        }
        self.missing.insert(seq);
        evicted
    }

    /// Forgets the stream position (restart, death, too many losses). The
    /// generation is kept. The caller cancels the node's timers.
    pub fn reset(&mut self) {
        self.missing.clear();
        self.last_seq = None;
        self.ackseq = 0;
    }
}

/// Which of the engine's transmits are its own protocol traffic (heartbeats,
/// ACKs, retransmission requests, NAKs, retransmissions).
#[derive(Debug, Clone, Default)]
pub(crate) struct Urgency {
    /// One entry per queued `Output::Transmit`, in order.
    pub queue: std::collections::VecDeque<bool>,
    /// The entry of the `Transmit` polled last.
    pub last: bool,
    /// Set while the engine sends one of its own messages.
    pub sending: bool,
}

/// Pending retransmit requests, keyed by (node index, seq).
#[derive(Debug, Clone, Default)]
pub(crate) struct RexmitTimers {
    by_due: BTreeSet<(Millis, usize, u64)>,
    by_key: HashMap<(usize, u64), Millis>,
}

impl RexmitTimers {
    /// (Re)arms the timer of `(node, seq)` to fire at `due`.
    pub fn arm(&mut self, node: usize, seq: u64, due: Millis) {
        if let Some(old) = self.by_key.insert((node, seq), due) {
            self.by_due.remove(&(old, node, seq));
        }
        self.by_due.insert((due, node, seq));
    }

    /// Cancels one timer (no-op when absent).
    pub fn cancel(&mut self, node: usize, seq: u64) {
        if let Some(due) = self.by_key.remove(&(node, seq)) {
            self.by_due.remove(&(due, node, seq));
        }
    }

    /// Cancels every timer of `node`.
    pub fn cancel_node(&mut self, node: usize) {
        let keys: Vec<(usize, u64)> = self
            .by_key
            .keys()
            .filter(|(n, _)| *n == node)
            .copied()
            .collect();
        for (n, s) in keys {
            self.cancel(n, s);
        }
    }

    /// When the earliest timer fires.
    pub fn next_due(&self) -> Option<Millis> {
        self.by_due.first().map(|(due, _, _)| *due)
    }

    /// Removes and returns one timer that is due at `now`.
    pub fn pop_due(&mut self, now: Millis) -> Option<(usize, u64)> {
        let &(due, node, seq) = self.by_due.first()?;
        if due > now {
            return None;
        }
        self.by_due.remove(&(due, node, seq));
        self.by_key.remove(&(node, seq));
        Some((node, seq))
    }

    /// Number of armed timers.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_list_is_bounded_and_evicts_lowest() {
        let mut t = Track::default();
        for s in 1..MAX_MISSING as u64 {
            assert_eq!(t.add_missing(s), None);
        }
        assert_eq!(t.add_missing(10_000), Some(1));
        assert_eq!(t.missing.len(), MAX_MISSING - 1);
        assert_eq!(t.first_missing(), 2);
        t.reset();
        assert_eq!(t.first_missing(), 0);
        assert_eq!(t.last_seq, None);
    }

    #[test]
    fn timers_fire_in_order_and_rearm_replaces() {
        let mut r = RexmitTimers::default();
        r.arm(1, 5, 100);
        r.arm(2, 6, 50);
        r.arm(1, 5, 300);
        assert_eq!(r.len(), 2);
        assert_eq!(r.next_due(), Some(50));
        assert_eq!(r.pop_due(49), None);
        assert_eq!(r.pop_due(50), Some((2, 6)));
        assert_eq!(r.pop_due(299), None);
        r.arm(1, 7, 10);
        r.cancel_node(1);
        assert_eq!(r.len(), 0);
        assert_eq!(r.next_due(), None);
    }
}
