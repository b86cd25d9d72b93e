//! Errors of the client library.
//!
//! The `Display` text of each error is what libhbclient leaves in its error
//! buffer for the same failure (what `cl_status` prints after `REASON:`),
//! so compatible tools can print it unchanged. The typed variants carry the
//! detail a program needs to react.

use std::io;
use std::path::PathBuf;
use thiserror::Error;

/// Why a sign-on failed.
#[derive(Debug, Error)]
pub enum SignOnError {
    /// No daemon listening (socket missing, refused, no permission).
    #[error("hb_api_signon: Can't initiate connection to heartbeat")]
    Connect {
        /// Socket path tried.
        path: PathBuf,
        /// The connect error.
        source: io::Error,
    },
    /// Writing the request failed.
    #[error("can't send message to IPC: {0}")]
    Send(io::Error),
    /// The daemon closed the connection or did not answer in time without
    /// a usable reply.
    #[error("")]
    NoReply,
    /// The daemon answered but refused us (`result=badreq`, `info=`
    /// reason). `deadtime_ms` is non-zero when the reply carried the
    /// cluster timings, which tells "running but refusing" from "stopped".
    #[error("{}", .reason.as_deref().unwrap_or(""))]
    Refused {
        /// The `info` field.
        reason: Option<String>,
        /// `deadtime` of the reply, 0 when absent.
        deadtime_ms: u64,
    },
    /// A reply without the fields every daemon sends (`deadtime`,
    /// `keepalive`, `node`).
    #[error("{0}")]
    BadReply(String),
}

impl SignOnError {
    /// libhbclient's `get_deadtime()` after this failure: 0 unless the
    /// daemon answered with timings.
    pub fn deadtime_ms(&self) -> u64 {
        match self {
            SignOnError::Refused { deadtime_ms, .. } => *deadtime_ms,
            _ => 0,
        }
    }
}

/// Why a request on a signed-on connection failed.
#[derive(Debug, Error)]
pub enum ClientError {
    /// Writing to the socket failed.
    #[error("Can't send message to IPC Channel: {0}")]
    Send(io::Error),
    /// Reading failed or the daemon closed the connection.
    #[error("")]
    Disconnected,
    /// No answer within the timeout.
    #[error("No timely response.")]
    Timeout,
    /// The daemon answered `result=badreq` (with its `info`, if any).
    /// libhbclient reports the `info` only for `getrsc` and `iflist`;
    /// `quiet` marks the requests whose failure it reports with no text.
    #[error("{}", bad_text(.info, *.quiet))]
    BadRequest {
        /// Request type.
        reqtype: String,
        /// `info` reason (`EINVAL`, …).
        info: Option<String>,
        /// Display nothing, like libhbclient for this request.
        quiet: bool,
    },
    /// A reply the library cannot use; the text says what was wrong.
    #[error("{0}")]
    Protocol(String),
    /// Casual clients may not send cluster messages (the daemon would
    /// drop the connection).
    #[error("casual clients cannot send cluster messages; sign on with a client id")]
    NotNamed,
    /// The message cannot be encoded.
    #[error("invalid message: {0}")]
    Invalid(#[from] hb_proto::InvalidMessage),
}

fn bad_text(info: &Option<String>, quiet: bool) -> &str {
    match info {
        Some(i) if !quiet => i,
        _ => "",
    }
}
