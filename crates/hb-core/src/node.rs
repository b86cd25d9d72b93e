//! The node table: one entry per configured node (ourselves, peers, ping
//! nodes) with its status, liveness timer, links and stream tracking.

use crate::config::Millis;
use crate::track::Track;

/// Status names used by the engine (compared case-insensitively on input).
pub mod status {
    /// Never heard of, or the peer said so.
    pub const INIT: &str = "init";
    /// Alive, its comm not yet up.
    pub const UP: &str = "up";
    /// Fully operational.
    pub const ACTIVE: &str = "active";
    /// A ping node that answers.
    pub const PING: &str = "ping";
    /// Declared dead.
    pub const DEAD: &str = "dead";
}

/// Kind of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// A cluster member (`node` line).
    Normal,
    /// A `ping` / `ping_group` pseudo-node.
    Ping,
}

impl NodeKind {
    /// The type string of the API (`normal` / `ping`).
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Normal => "normal",
            NodeKind::Ping => "ping",
        }
    }
}

/// One link: the view of a node through one medium.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    /// Index into the configured media.
    pub medium: usize,
    /// Link name (the medium's name).
    pub name: String,
    pub up: bool,
    /// Last KEEP/DUPLICATE packet from the node on this medium.
    pub last_update: Millis,
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub name: String,
    pub kind: NodeKind,
    /// All zeros = not known yet.
    pub uuid: [u8; 16],
    pub status: String,
    /// Dead interval after comm-up: the node's advertised `dt`.
    pub dead_interval: Millis,
    /// Local time of the last accepted status (None = "expired", forces the
    /// dead check, like the C's zeroed `local_lastupdate`).
    pub last_status: Option<Millis>,
    /// How far pauses of ours moved `last_status` forward since it was set
    /// (`pause.rs`): added back when a late heartbeat is reported, so the
    /// log shows the interval as it happened.
    pub excused: Millis,
    /// `ts` of its last status (remote wall clock).
    pub rmt_lastupdate: u64,
    /// `seq` of its last status.
    pub status_seqno: u64,
    /// Any acceptable packet since start / since its death (comm-up check).
    pub heard: bool,
    pub track: Track,
    pub links: Vec<Link>,
}

impl Node {
    pub fn is_dead(&self) -> bool {
        self.status.eq_ignore_ascii_case(status::DEAD)
    }

    pub fn is_up_or_active(&self) -> bool {
        self.status.eq_ignore_ascii_case(status::UP)
            || self.status.eq_ignore_ascii_case(status::ACTIVE)
    }
}

/// A read-only view of one node, for the API server and status tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeView {
    /// Node name.
    pub name: String,
    /// Normal or ping.
    pub kind: NodeKind,
    /// Current status (`init`, `up`, `active`, `ping`, `dead`).
    pub status: String,
    /// Known UUID (None = not learned yet).
    pub uuid: Option<[u8; 16]>,
    /// Dead interval in use after comm-up (the node's advertised `dt`).
    pub dead_interval: Millis,
    /// Its generation as last seen (0 = unknown).
    pub generation: u64,
    /// Is this us?
    pub is_local: bool,
    /// Local monotonic time of its last accepted status message (None: none since start or
    /// since its death).
    pub last_status: Option<Millis>,
}

/// A read-only view of one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkView {
    /// Node name.
    pub node: String,
    /// Link (medium) name.
    pub medium: String,
    /// Index of the medium in the configuration.
    pub medium_index: usize,
    /// True when up.
    pub up: bool,
    /// Local monotonic time of the last packet from the node on this medium (the engine's
    /// start while none arrived).
    pub last_packet: Millis,
}
