//! Resource management in haresources ("R1") mode: who runs which
//! haresources group, and how a group is started or stopped.
//!
//! # Two halves
//!
//! * [`ResourceManager`] — a **pure** state machine (no I/O, no clock:
//!   times are milliseconds handed in by the caller). The daemon feeds it
//!   events — [`comm_up`](ResourceManager::comm_up),
//!   [`node_status`](ResourceManager::node_status),
//!   [`node_dead`](ResourceManager::node_dead),
//!   [`message`](ResourceManager::message) (every resource message, our
//!   own looped back included), [`local_command`](ResourceManager::local_command),
//!   [`action_done`](ResourceManager::action_done),
//!   [`shutdown_requested`](ResourceManager::shutdown_requested),
//!   [`tick`](ResourceManager::tick) — and drains
//!   [`poll`](ResourceManager::poll) for [`Output`]s: messages to send,
//!   one group operation at a time (`Acquire`/`Release`), log lines in the
//!   C wording, and `ShutdownComplete`.
//! * the `hb-rsc-runner` crate — the blocking script runner with the
//!   semantics of Debian's `/usr/share/heartbeat/ResourceManager`
//!   (`takegroup`, `givegroup`, `status`), meant to run in a helper process
//!   forked by the daemon so that the master loop never blocks.
//!   `IPaddr`/`IPaddr2` resources take a native fast path
//!   (`hb_rsc_runner::native_ip`: netlink and gratuitous ARP in-process,
//!   about 1 ms instead of the shell agent's 130 ms) unless
//!   `hb_rsc_runner::ScriptEnv::native_ip` is off. It is a crate of its own
//!   so that this one stays free of I/O (it depends on no OS crate).
//!
//! # The model (docs/protocol.md §9, docs/behaviour.md §5, §12.1)
//!
//! Every group has a home node (first word of its haresources line). Seen
//! from a node, its groups are `local`, the others `foreign`; ownership is
//! exchanged as a 2-bit [`RscSet`]. The C daemon keeps ownership as exactly
//! that bit set; we keep it too (it is what goes on the wire and what
//! `cl_status rscstatus` prints) and additionally track every group.
//!
//! * **legacy** (`auto_failback legacy`): at comm up a node asks for each
//!   of its groups with `ip-request`; the holder releases it and answers
//!   `ip-request-resp … weown=yes`, after which the requester starts it.
//!   Alone, it grants itself (`ip-request-resp dest=<self>`).
//! * **nice_failback** (`on`/`off`): a starting node says `starting`; the
//!   others answer with `resource rsc_hold=… isstable=…`. Once the peer is
//!   stable, take our unclaimed groups; if nothing becomes stable within
//!   RQSTDELAY (10 s, e.g. both nodes starting), take only our own.
//!   Moving groups between live nodes uses the three-phase standby
//!   protocol (`ask_resources info=me|other|done`), driven by
//!   `hb_standby`, `hb_takeover` (mapped to a standby of the peer) and,
//!   with `auto_failback on`, automatically when the home node is back.
//! * **node death**: `stonith node=X result=n_stnth|unneeded`, then
//!   `mach_down X` takes X's groups. **Shutdown**: report `none`, release
//!   everything right to left, send `shutdone`; peers take over at once.
//!
//! The C runs this work in forked helpers and queued rc.d scripts; here it
//! is one FIFO of jobs (module `jobs`) with at most one group
//! operation outstanding — the C's "one resource helper at a time" rule,
//! applied to all of it.
//!
//! # Using it from the daemon
//!
//! Build [`RscConfig`] from ha.cf and haresources ([`GroupSpec`] converts
//! from `hb_config::ResourceGroup`); call `node_dead` when the membership
//! engine declares a normal node dead (also before comm up), `comm_up`
//! once, `message` for every resource-protocol message (`starting`,
//! `resource`, `ask_resources`, `ip-request`, `ip-request-resp`,
//! `shutdone`, `hb_takeover`, `stonith`), `tick` every second (or at
//! [`ResourceManager::next_deadline`]). For `Acquire`/`Release`, fork a
//! helper that calls `hb_rsc_runner::run_group` on the group with that key,
//! log its lines, and report `action_done(id, result.ok, now)`. Call
//! `shutdown_requested` once comm is up; on `ShutdownComplete` start the
//! final shutdown phases.
//!
//! # Deliberate differences from Heartbeat 3.0.6
//!
//! * At comm up, a nice_failback node whose peers are all dead or still
//!   starting (status `up`) goes STABLE and takes its groups at once; a
//!   peer of unknown status (heard, but no status yet) or an active one is
//!   asked first (`starting`). When both nodes are starting
//!   (BOTHSTARTING), each takes its own groups at once instead of waiting
//!   RQSTDELAY: a starting peer holds nothing. RQSTDELAY remains the
//!   fallback when a peer answers but never gets stable.
//! * Legacy `ip-request`: the requester starts the group only when every
//!   peer it asked has answered (or died), so with three nodes a quick
//!   `weown=no` cannot overtake the holder's release.
//! * With more than two normal nodes only one survivor (first by name)
//!   runs `mach_down` for a dead node. nice_failback stays, as in the C, a
//!   two-node protocol (one "other node" state); use legacy with more.
//! * Our own full `resource` reports, when they come back, do not
//!   overwrite our holdings (they can be stale echoes).
//! * Every script call has a timeout that kills its process group; a stop
//!   whose script cannot be found is not retried.
//! * `IPaddr`/`IPaddr2` are handled natively (same arguments and effect;
//!   the first gratuitous ARP goes out at once, the repeats in the
//!   background); the daemon can force the scripts.
//! * No acquisition starts once a shutdown is in progress.
//! * A group whose start failed is offered to the peer 30 s later with
//!   `hb_standby local|foreign` by the group's home node (the script
//!   decides by the failed resource's name, which rarely matches).
//! * STONITH: [`Output::Reset`] / [`ResourceManager::reset_done`] (module
//!   `fencing`): a dead node that may hold groups is reset first, its groups
//!   are taken only after the reset succeeded, a failing device is retried
//!   every 5 s.
//! * `-R` restarts that keep resources: [`ResourceManager::resume`] (module
//!   `resume`) starts STABLE with the held groups and sends one stable
//!   `resource` message at comm up instead of `starting`.
#![deny(missing_docs)]

mod fencing;
pub(crate) mod jobs;
mod manager;
mod nice;
pub mod notify;
pub mod report;
mod resume;
mod set;
mod standby;
mod takeover;
pub mod wire;

pub use fencing::{ResetOutcome, STONITH_CHECK_INTERVAL_MS, STONITH_RETRY_MS};
pub use manager::{
    GroupSpec, LocalCommand, Mode, OpId, Output, ResourceManager, RscConfig, RscStatus, StandbyArg,
    AUTO_FAILBACK_RETRY_MS, FAILED_START_STANDBY_MS, RQSTDELAY_MS, STANDBY_REPLY_TIMEOUT_MS,
    STANDBY_RUN_TIMEOUT_MS,
};
pub use set::RscSet;

/// Severity of a log line (the C levels used by resource management).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `debug`.
    Debug,
    /// `info`.
    Info,
    /// `WARN`.
    Warn,
    /// `ERROR`.
    Error,
    /// `CRIT`.
    Crit,
}

/// The log priority a resource manager level is written at (one mapping for
/// the daemon and the `ResourceManager` tool).
impl From<Level> for hb_proto::Level {
    fn from(l: Level) -> hb_proto::Level {
        match l {
            Level::Debug => hb_proto::Level::Debug,
            Level::Info => hb_proto::Level::Info,
            Level::Warn => hb_proto::Level::Warn,
            Level::Error => hb_proto::Level::Error,
            Level::Crit => hb_proto::Level::Crit,
        }
    }
}
