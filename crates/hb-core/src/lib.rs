//! hb-core (docs written below)
#![deny(missing_docs)]

mod cluster;
pub mod config;
pub mod event;
mod history;
pub mod node;
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
pub use stats::{Counters, DropReason};
pub use track::MAX_MISSING;

#[cfg(test)]
mod tests;
