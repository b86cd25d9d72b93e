//! What the API needs to know about the cluster.
//!
//! The daemon implements [`ClusterView`] over its cluster engine; tests
//! implement it with a table. All answers are snapshots taken at the time
//! of the call, so the API never holds references into the engine.

use std::fmt;

/// Kind of a node-table entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeType {
    /// A cluster member (`node` directive or autojoin).
    Normal,
    /// A ping node (`ping`/`ping_group` directive).
    Ping,
}

impl NodeType {
    /// The wire word: `normal` or `ping`.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeType::Normal => "normal",
            NodeType::Ping => "ping",
        }
    }
}

/// One node as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// Node name, lower case as stored in the node table.
    pub name: String,
    /// Normal or ping node.
    pub node_type: NodeType,
    /// Status string (`init`, `up`, `active`, `dead`, `ping`); the view
    /// already prefers a suppressed first status message (docs/behaviour.md §7.6).
    pub status: String,
    /// `weight` (100 unless configured).
    pub weight: i32,
    /// `site` (empty unless configured).
    pub site: String,
}

/// One heartbeat link of a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// Medium name (`eth0`, `/dev/ttyS0`, the ping address for a ping node).
    pub name: String,
    /// `up` or `dead`.
    pub status: String,
}

/// What `getrsc` reports (R1 mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceHolding {
    /// We hold nothing.
    None,
    /// We hold our own resources.
    Local,
    /// We hold the other node's resources.
    Foreign,
    /// We hold everything.
    All,
    /// A takeover or release is in progress.
    Transition,
}

impl ResourceHolding {
    /// The wire word.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceHolding::None => "none",
            ResourceHolding::Local => "local",
            ResourceHolding::Foreign => "foreign",
            ResourceHolding::All => "all",
            ResourceHolding::Transition => "transition",
        }
    }
}

impl fmt::Display for ResourceHolding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Read-only view of the cluster that the daemon gives the API.
pub trait ClusterView {
    /// Our node name (lower case), e.g. `vm`.
    fn local_node(&self) -> String;
    /// `deadtime` in milliseconds.
    fn deadtime_ms(&self) -> u64;
    /// `keepalive` in milliseconds.
    fn keepalive_ms(&self) -> u64;
    /// The node table in daemon order (ha.cf order of `node`/`ping`
    /// directives, then autojoined nodes).
    fn nodes(&self) -> Vec<NodeInfo>;
    /// The links of `node` (exact table name) in daemon order, with status.
    /// A ping node's list holds its ping link (named like the node).
    fn links(&self, node: &str) -> Vec<LinkInfo>;
    /// The value of a parameter (`GetParameterValue`): `hbversion` is the
    /// bare `3.0.6`, `pacemaker` e.g. `false`, plus every ha.cf directive
    /// the daemon records. `None` when unset.
    fn parameter(&self, name: &str) -> Option<String>;
    /// The decorated version of the sign-on reply,
    /// `3.0.6 (node: 958e11be…)`.
    fn hbversion_signon(&self) -> String;
    /// `Some` in R1 (haresources) mode, `None` when resources are managed
    /// by a CRM.
    fn resource_holding(&self) -> Option<ResourceHolding>;
    /// The 16-byte uuid of a node, if known.
    fn uuid_of(&self, node: &str) -> Option<[u8; 16]>;
    /// The node name of a uuid, if known.
    fn name_of_uuid(&self, uuid: &[u8; 16]) -> Option<String>;
    /// Syslog facility code of `logfacility` (e.g. 128 for local0), 0 for
    /// `none`, -1 when there is no `logfacility` line.
    fn log_facility(&self) -> i32;
    /// Whether process `pid` exists (`kill(pid, 0)` does not fail with
    /// `ESRCH`).
    fn process_exists(&self, pid: i32) -> bool;
    /// A snapshot for the operator reports (our extension requests, see
    /// [`crate::report`]); `None` (the default) answers them like an unknown request.
    fn report(&self) -> Option<crate::report::Snapshot> {
        None
    }
}
