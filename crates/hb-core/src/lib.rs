//! The Heartbeat 3 cluster engine: membership, liveness, sequencing,
//! retransmission and acknowledgements, with **no I/O**.
//!
//! # Model
//!
//! A [`Cluster`] is the state of one node's master control process as far as
//! the wire protocol is concerned (docs/protocol.md §1, §5–§8, §10). It never reads
//! a clock, a socket or a file: the daemon feeds it values and executes what
//! comes out.
//!
//! ```text
//!   time (monotonic ms, wall s) ─┐
//!   datagrams (bytes, medium) ───┼──> Cluster ──> poll_output(): Transmit(bytes)  -> every medium
//!   local messages (Message) ────┘               Deliver(Message) -> resource manager, API, rc.d
//!                                                Event(Event)     -> logs, takeover, notifications
//! ```
//!
//! * **Inputs.** [`Cluster::on_datagram`] (a packet from medium *i*),
//!   [`Cluster::on_local_message`] (FIFO / API / resource messages),
//!   [`Cluster::on_tick`] (timers). After each batch of input the daemon asks
//!   [`Cluster::next_wakeup`] and sleeps until then or until more input; it
//!   drains [`Cluster::poll_output`] after every call.
//! * **Sending.** Every originated message gets the control fields in the C
//!   order (`src, srcuuid, seq, hg, ts, ld, ttl`, then the inner `auth`;
//!   `NS_*` types get no `seq`/`ld`), is numbered with one sequence counter,
//!   kept in a 500-slot history, sealed once (netstring + trailer via
//!   [`hb_proto::KeyRing`]) and emitted as `Transmit`. Its loopback copy is
//!   then processed like a received message, so our own messages are
//!   delivered locally too; their network echoes arrive as duplicates and keep
//!   our own links up.
//! * **Receiving.** A packet is verified and decoded, its sender found by
//!   `srcuuid` then by exact `src`, and classified against that sender's
//!   stream exactly like the C `should_drop_message` (docs/protocol.md §6.3): a lower
//!   generation is a replay, a higher one in a status is a restart, a status
//!   from a dead node with the same generation is a healed partition, gaps
//!   arm retransmit-request timers (random 50..=max_rexmit_delay ms, then
//!   every max_rexmit_delay), more than 250 lost resets the stream. KEEP
//!   messages refresh the link and are dispatched (status, ACK, rexmit,
//!   reqnodes/repnodes internally; everything else as `Deliver`), DUPLICATEs
//!   only refresh the link. Rejected packets are counted by [`DropReason`]
//!   and change nothing.
//! * **Liveness.** Only status messages refresh a node. Before our links are
//!   up every node's dead interval is `initdead`, afterwards the `dt` the node
//!   advertises (`deadping` for ping nodes). Deadlines are checked exactly
//!   (dead when silent for *more* than the interval), not on the C's 250 ms
//!   grid. Links die after the same interval.
//! * **Comm up** (docs/protocol.md §8.6): once every node was heard from or is dead, ask the
//!   first live normal peer for its node list (`reqnodes`, every second) and
//!   go `active` when a `repnodes` arrives (or at once without a live peer).
//! * **Flow control** (docs/protocol.md §6.6): ACKs every tenth in-order message per peer (a
//!   random residue per peer), processes ACKs into a cluster-wide ack, and
//!   reports [`Cluster::congested`]. A peer without `protocol=1` turns it off.
//!
//! What the engine deliberately leaves to the daemon: the takeover logic and
//! the restart after a healed partition or a lost local heartbeat (it emits
//! [`Event::NodeDead`], [`Event::PartitionHealed`],
//! [`Event::LocalHeartbeatLost`]), ICMP echo construction for ping media,
//! persistence (generation, UUID, hostcache: see [`Event::NodeUuid`] and
//! [`Cluster::set_node_uuid`]), and log formatting ([`Event::log_lines`]
//! gives the C wording).
//!
//! Bounded by construction: 500 history slots, at most 499 missing sequence
//! numbers and as many retransmit timers per node, at most 50 retransmissions
//! and 50 NAKs per request. No input can make it panic.
//!
//! `hb_core::sim` (tests, or the `sim` feature) runs many engines over a simulated
//! lossy network with a virtual clock, deterministically from a seed.
#![deny(missing_docs)]

mod cluster;
pub mod config;
pub mod event;
mod history;
pub mod membership;
pub mod node;
mod node_table;
mod pause;
mod receive;
pub mod rng;
#[cfg(any(test, feature = "sim"))]
pub mod sim;
pub mod stats;
mod track;
pub mod wire;

pub use cluster::{
    Cluster, Output, SendError, ACK_DIV, FLOWCONTROL_LIMIT, MAX_REXMIT_BATCH, REQNODES_RETRY,
    STARTUP_BUMP_DURATION, STARTUP_DEADTIME_BUMP,
};
pub use config::{CoreConfig, MediumInfo, Millis};
pub use event::{Event, Level};
pub use history::HISTORY_SLOTS;
pub use node::{LinkView, NodeKind, NodeView};
pub use pause::MIN_PAUSE_THRESHOLD;
pub use stats::{Counters, DropReason};
pub use track::MAX_MISSING;

#[cfg(test)]
mod tests;
