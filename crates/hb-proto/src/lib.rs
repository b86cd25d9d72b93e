//! Heartbeat 3 wire protocol, free of I/O.
//!
//! * [`msg`]: the message data model (an ordered list of typed fields).
//! * [`auth`]: digests, key rings, signing and verifying packets.
//!
//! Nothing in this crate opens a socket, reads a clock or touches a file:
//! bytes and times go in as values, so everything here can be unit-tested,
//! fuzzed and simulated.
#![deny(missing_docs)]

pub mod auth;
pub mod msg;

pub use msg::{Field, FieldType, Message, Value};
