//! Heartbeat 3 wire protocol, free of I/O.
//!
//! * [`msg`]: the message data model (an ordered list of typed fields).
//! * [`netstring`]: the encoding of UDP datagrams (docs/protocol.md §3.1).
//! * [`classic`]: the text encoding of serial lines, the FIFO, local IPC and
//!   the inner-auth digest (docs/protocol.md §3.2).
//! * [`auth`]: digests, the key ring, signing ([`auth::KeyRing::seal`]) and
//!   verifying ([`auth::KeyRing::open`]) packets (docs/protocol.md §4).
//! * [`compress`]: inflating whole-message compressed packets (docs/protocol.md §3.4).
//! * [`ipc`]: the length + magic framing of local channels (docs/behaviour.md §7.2).
//! * [`decode_any`]: a local payload in either encoding.
//!
//! Nothing in this crate opens a socket, reads a clock or touches a file:
//! bytes and times go in as values, so everything here can be unit-tested,
//! fuzzed and simulated. No decoder panics, whatever the input: malformed
//! bytes come back as a typed [`DecodeError`].
#![deny(missing_docs)]

pub mod auth;
pub mod base64;
pub mod classic;
pub mod cnum;
pub mod compress;
pub mod error;
pub mod ipc;
pub mod level;
mod list;
pub mod msg;
pub mod netstring;

pub use auth::{KeyRing, Method, PacketError};
pub use error::{DecodeError, DecodeErrorKind};
pub use level::Level;
pub use msg::{Field, FieldType, InvalidMessage, Message, Value};

/// Largest encoded message (`MAXMSG`, docs/protocol.md §3.3); also the largest
/// IPC payload.
pub const MAXMSG: usize = 262_144;
/// Largest decompressed message (`MAXUNCOMPRESSED`, docs/protocol.md §3.3).
pub const MAX_UNCOMPRESSED: usize = 2 * 1024 * 1024;
/// Deepest nesting of struct fields (top level = 0).
pub const MAX_DEPTH: usize = 16;

/// Decodes a local, unauthenticated payload (FIFO line, IPC message,
/// decompressed data) in either encoding: netstring when it starts with
/// `###\n`, classic otherwise; trailing bytes such as a NUL are ignored and
/// a compressed wrapper is inflated.
pub fn decode_any(bytes: &[u8]) -> Result<Message, DecodeError> {
    let msg = if bytes.starts_with(netstring::START) {
        netstring::decode(bytes)?
    } else {
        classic::decode(bytes)?
    };
    compress::expand(msg)
}
