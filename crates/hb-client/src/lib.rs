//! Client side of the Heartbeat API socket (docs/behaviour.md §7), the equivalent
//! of Debian's `libhbclient`, plus the `cl_status` tool built on it.
//!
//! * [`client`]: [`Client`], a signed-on connection: requests with reply
//!   matching (unrelated asynchronous messages are queued, docs/behaviour.md
//!   §7.10), node and link walks, client status queries with a timeout,
//!   parameters, resources, cluster messages, asynchronous receive, sign-off.
//! * [`error`]: typed errors whose `Display` is the text libhbclient
//!   reports, so tools print the same `REASON:` lines.
//! * [`cl_status`]: the whole `cl_status` command (docs/behaviour.md §8) as a library
//!   function, so that it can be tested without a process.
//! * [`report`]: `cl_status metrics` and `cl_status explain` (heartbeat-rs's extension
//!   requests, or what the standard queries tell about Heartbeat 3.0.6).
//! * [`dopd`]: DRBD's outdate-peer daemon and `drbd-peer-outdater`, their
//!   messages, state and exit codes (the binaries are in `bin/`).
//! * [`getopt`]: GNU `getopt` (argument permutation and messages), which
//!   `cl_status` option parsing depends on.
//!
//! Uses plain blocking `std::os::unix::net::UnixStream` with read
//! timeouts, `hb_proto::ipc` framing and `hb_proto::classic` encoding.

pub mod cl_status;
pub mod client;
pub mod dopd;
pub mod error;
pub mod getopt;
pub mod report;

pub use client::{
    ipc_frame, socket_path, Client, LinkEntry, NodeEntry, SignOnInfo, SignOnOptions, DEFAULT_SOCKET,
};
pub use error::{ClientError, SignOnError};
