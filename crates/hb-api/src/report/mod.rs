//! Operator reports: a [`Snapshot`] of one node's view of the cluster, rendered as the
//! Prometheus text exposition format ([`render_metrics`], `cl_status metrics` and the
//! `metrics_file`) or as plain words ([`render_explain`], [`render_explain_json`],
//! `cl_status explain`). Pure: the daemon fills a snapshot from its engine and resource
//! state; `cl_status` fills what it can from standard API queries when the daemon is
//! Heartbeat 3.0.6, and the fields it cannot know stay `None` and are said to be missing.
//!
//! Our daemon answers two extension requests (Heartbeat 3.0.6 answers them with
//! `result=badreq`): [`REQ_METRICS`] and [`REQ_EXPLAIN`] (field `format=text|json`). The
//! reply is one message per line of the rendered text, each with the line in
//! [`F_LINE`] and `result=more`, the last one `result=OK`, like `nodelist`.

use crate::view::NodeType;

/// Request type: the Prometheus text of this node.
pub const REQ_METRICS: &str = "hbrs-metrics";
/// Request type: `cl_status explain` text (`format=text`) or JSON (`format=json`).
pub const REQ_EXPLAIN: &str = "hbrs-explain";
/// Field of a reply line.
pub const F_LINE: &str = "line";
/// Field of the wanted format in [`REQ_EXPLAIN`].
pub const F_FORMAT: &str = "format";

/// Statuses a node can have, for the `heartbeat_node_status` state set.
pub const NODE_STATUSES: [&str; 5] = ["init", "up", "active", "dead", "ping"];

/// One node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSnap {
    /// Name.
    pub name: String,
    /// Normal or ping node.
    pub kind: NodeType,
    /// `init`, `up`, `active`, `dead`, `ping`.
    pub status: String,
    /// `weight` (100 unless configured), if known.
    pub weight: Option<i32>,
    /// This node.
    pub is_local: bool,
    /// Wall-clock time (s since the epoch) its status last changed, if known.
    pub status_since: Option<u64>,
    /// Seconds since its last status message, if known.
    pub last_status_age: Option<f64>,
    /// Its dead interval in seconds, if known.
    pub dead_interval: Option<f64>,
}

/// One link (a node seen through one medium).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkSnap {
    /// Node name.
    pub node: String,
    /// Medium (interface or device) name.
    pub medium: String,
    /// Up or dead.
    pub up: bool,
    /// Seconds since the last packet from the node on this medium, if known.
    pub last_packet_age: Option<f64>,
}

/// Packet and liveness counters since the daemon started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Packets {
    /// Datagrams received.
    pub received: u64,
    /// Packets sent (retransmissions included).
    pub sent: u64,
    /// Messages retransmitted on a peer's request.
    pub retransmitted: u64,
    /// Retransmission requests sent.
    pub rexmit_requested: u64,
    /// Duplicates received (the same message on another medium, typically).
    pub duplicates: u64,
    /// Late heartbeats (warntime exceeded).
    pub late_heartbeats: u64,
    /// Nodes declared dead.
    pub node_deaths: u64,
    /// Links declared dead.
    pub link_deaths: u64,
    /// Dropped packets by reason (snake_case label, count), every reason listed.
    pub dropped: Vec<(String, u64)>,
}

/// One resource group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSnap {
    /// Group key (first resource of its haresources line).
    pub key: String,
    /// Home node.
    pub home: String,
    /// Held here (None: unknown, e.g. only a set is known).
    pub held: Option<bool>,
    /// Why, in words.
    pub reason: String,
    /// Completed starts here.
    pub starts: u64,
    /// Starts of another node's group (takeovers).
    pub takeovers: u64,
    /// Failed starts.
    pub start_failures: u64,
    /// Failed stops.
    pub stop_failures: u64,
}

/// Resource management state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    /// `getrsc`: `none`, `local`, `foreign`, `all`, `transition`.
    pub rsc_hold: String,
    /// `auto_failback` mode, if known.
    pub mode: Option<String>,
    /// Resource protocol state (`stable`, ...), if known.
    pub state: Option<String>,
    /// A standby in progress, in words.
    pub standby: Option<String>,
    /// What the peer reported holding (relative to the peer), if known.
    pub peer_holds: Option<String>,
    /// Every group (empty when unknown).
    pub groups: Vec<GroupSnap>,
    /// Whether the groups' operation counters are known (our daemon) or not (derived).
    pub counted: bool,
}

/// Scheduling pauses of the master loop (a histogram in seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Pauses {
    /// (upper bound in seconds, cumulative count), ascending.
    pub buckets: Vec<(f64, u64)>,
    /// Sum of all pause lengths in seconds.
    pub sum: f64,
    /// Number of pauses.
    pub count: u64,
}

impl Pauses {
    /// No pause seen (yet), with the standard buckets.
    pub fn none() -> Pauses {
        Pauses {
            buckets: [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0]
                .into_iter()
                .map(|b| (b, 0))
                .collect(),
            sum: 0.0,
            count: 0,
        }
    }
}

/// One node's view of the cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// `heartbeat-rs` or `heartbeat` (the C daemon).
    pub implementation: String,
    /// Its version text.
    pub version: String,
    /// This node's name.
    pub local: String,
    /// Wall clock now (s since the epoch), for "since" texts.
    pub wall_now: u64,
    /// Every node, in table order.
    pub nodes: Vec<NodeSnap>,
    /// Every link of every node.
    pub links: Vec<LinkSnap>,
    /// Packet counters, if known.
    pub packets: Option<Packets>,
    /// Resources, if known (None with `-M` or a CRM).
    pub resources: Option<Resources>,
    /// Child process restarts by process title, if known.
    pub child_restarts: Option<Vec<(String, u64)>>,
    /// Connected API clients, if known.
    pub api_clients: Option<u64>,
    /// Master loop pauses, if known.
    pub pauses: Option<Pauses>,
    /// Effective timings and settings after defaults: (name, value in words).
    pub timings: Vec<(String, String)>,
    /// The last cluster events: (wall clock s, line), oldest first.
    pub events: Vec<(u64, String)>,
    /// What this snapshot could not learn, in words.
    pub unavailable: Vec<String>,
}

mod explain;
mod metrics;
#[cfg(test)]
mod tests;

pub use explain::{clock, render_explain, render_explain_json};
pub use metrics::render_metrics;
