//! hb-media: opens and drives heartbeat's media (docs/protocol.md §10–11,
//! docs/behaviour.md §1.4).
//!
//! Bytes in, bytes out: this crate never parses a message. [`open`] builds
//! the sockets of one `ha.cf` medium with the exact options of the C
//! plugins ([`plan`] lists them per medium, testable without a network);
//! [`MediumSockets`] sends and receives whole packets; [`write_child_loop`]
//! and [`read_child_loop`] are the bodies of the two processes each medium
//! gets. Ping media ([`open_ping`], [`ping_write_loop`],
//! [`ping_read_loop`]) are the exception to "never parses a message": they
//! must recognise `status` packets and build and authenticate the ICMP echo
//! payload, so they take the node's `hb_proto::KeyRing`.
#![deny(missing_docs)]

mod child;
pub mod echo;
mod error;
mod framer;
pub mod iface;
pub mod ping;
mod ping_child;
pub mod plan;
mod serial;
mod sockets;
mod udp;

pub use child::{
    read_child_loop, write_child_loop, StatDelta, EXIT_GENERIC, EXIT_READ_FAILURES, GIVE_UP_AFTER,
    MAX_FAILED_READS, SUPPRESS_AFTER,
};
pub use error::MediaError;
pub use framer::SerialFramer;
pub use hb_config::Medium;
pub use ping::{open_ping, PingKind, PingMedium};
pub use ping_child::{check_echo, echo_payload, ping_read_loop, ping_write_loop};
pub use plan::Retry;
pub use serial::{baud_rate, chunk_delay, CHUNK, CHUNK_TIMEOUT};
pub use sockets::{
    open, open_with, MediumSockets, OpenOptions, BIND_RETRY_LONG, BIND_RETRY_SHORT,
    IFACE_ADDR_RETRY,
};

/// Receive buffer size of every medium (heartbeat's `MAXMSG`).
pub const MAXMSG: usize = 262_144;
