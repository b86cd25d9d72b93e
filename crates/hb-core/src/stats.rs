//! Packet and protocol counters, for `cl_status`-style status views and for
//! tests that must prove something happened (or did not).

/// Why a received packet was rejected before it could affect any state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropReason {
    /// Not a parsable packet (neither netstring nor classic, or malformed).
    Malformed,
    /// Digest missing or wrong, or unknown auth index.
    BadAuth,
    /// `t`, `src` or `ts` missing, or `seq` missing on a sequenced type.
    MissingField,
    /// `seq` not a positive hex number.
    BadSeq,
    /// `ts` not a non-zero hex number.
    BadTimestamp,
    /// `hg` present but not hex.
    BadGeneration,
    /// `src`/`srcuuid` is not a configured node.
    UnknownNode,
    /// Generation lower than the one we know (replay).
    Replay,
    /// A status from a dead node that is not newer than its last one.
    StaleStatus,
    /// A NAK without a usable `firstseq`.
    BadNak,
    /// Authenticated but impossible: a generation far beyond any a restart
    /// can produce, or our own name with a generation or sequence number we
    /// never sent (a forger holding the key; docs/reliability.md, hardening).
    Forged,
    /// A ping node echo (`NS_st`) whose `ts` is older than the ping dead
    /// interval: a replayed echo, not a live answer.
    StaleEcho,
}

impl DropReason {
    /// Every reason, in counter order.
    pub const ALL: [DropReason; 12] = [
        DropReason::Malformed,
        DropReason::BadAuth,
        DropReason::MissingField,
        DropReason::BadSeq,
        DropReason::BadTimestamp,
        DropReason::BadGeneration,
        DropReason::UnknownNode,
        DropReason::Replay,
        DropReason::StaleStatus,
        DropReason::BadNak,
        DropReason::Forged,
        DropReason::StaleEcho,
    ];

    /// A short lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Malformed => "malformed",
            DropReason::BadAuth => "authentication failed",
            DropReason::MissingField => "missing field",
            DropReason::BadSeq => "bad sequence number",
            DropReason::BadTimestamp => "bad timestamp",
            DropReason::BadGeneration => "bad generation",
            DropReason::UnknownNode => "unknown node",
            DropReason::Replay => "replay (old generation)",
            DropReason::StaleStatus => "stale status",
            DropReason::BadNak => "bad nak",
            DropReason::Forged => "forged (impossible generation or sequence)",
            DropReason::StaleEcho => "stale ping echo",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Running totals since the engine started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Datagrams handed to [`crate::Cluster::on_datagram`].
    pub packets_in: u64,
    /// Accepted and dispatched (KEEP).
    pub accepted: u64,
    /// Already seen (same seq again, typically via another medium).
    pub duplicates: u64,
    /// Old sequence numbers seen again (dropped silently, like the C).
    pub old_duplicates: u64,
    /// Tracked but addressed to another node.
    pub not_for_us: u64,
    dropped: [u64; DropReason::ALL.len()],
    /// Packets we transmitted (every Transmit output, retransmissions included).
    pub packets_out: u64,
    /// `NS_rexmit` requests we sent.
    pub rexmit_requested: u64,
    /// Messages we retransmitted on request.
    pub rexmit_served: u64,
    /// `NS_nak_rexmit` we sent.
    pub naks_sent: u64,
    /// `NS_nak_rexmit` addressed to us.
    pub naks_received: u64,
    /// `NS_ackmsg` we sent.
    pub acks_sent: u64,
    /// Late heartbeats (warntime or deadtime exceeded).
    pub late_heartbeats: u64,
    /// Nodes declared dead (each death once).
    pub node_deaths: u64,
    /// Links declared dead (each up -> dead transition once).
    pub link_deaths: u64,
    /// Messages that filled a gap.
    pub gaps_filled: u64,
    /// `NS_rexmit` requests addressed to us.
    pub rexmit_requests_received: u64,
    /// Own protocol messages that could not be built (should stay 0).
    pub send_failures: u64,
}

impl Counters {
    /// Packets rejected for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason.index()]
    }

    /// All rejected packets.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().sum()
    }

    pub(crate) fn count_drop(&mut self, reason: DropReason) {
        self.dropped[reason.index()] += 1;
    }
}
