//! Heartbeat configuration files: `ha.cf`, `authkeys`, `haresources`.
#![deny(missing_docs)]

pub mod media;

pub use media::Medium;
