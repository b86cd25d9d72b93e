//! One error type for everything a medium can fail at.
//!
//! Every variant names the medium (`"<type> <name>"`, the same words the
//! process titles and the C daemon's logs use) and the thing that failed, so
//! an operator can act on the message alone.

use std::io;
use std::net::SocketAddr;

/// What went wrong while opening or driving a medium.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The configured interface is not known to the kernel.
    #[error("{medium}: interface {iface:?} does not exist")]
    NoSuchInterface {
        /// Medium label, e.g. `ucast eth1`.
        medium: String,
        /// Interface name as configured.
        iface: String,
    },
    /// The interface exists but has no IPv4 address (mcast needs one).
    #[error("{medium}: interface {iface} has no IPv4 address")]
    NoIpv4Address {
        /// Medium label.
        medium: String,
        /// Interface name.
        iface: String,
    },
    /// The interface has no IPv4 broadcast address (bcast needs one).
    #[error("{medium}: interface {iface} has no IPv4 broadcast address")]
    NoBroadcastAddress {
        /// Medium label.
        medium: String,
        /// Interface name.
        iface: String,
    },
    /// The interface list could not be read.
    #[error("{medium}: cannot list interface addresses: {source}")]
    InterfaceList {
        /// Medium label.
        medium: String,
        /// Cause.
        source: nix::Error,
    },
    /// The ucast peer name did not resolve.
    #[error("{medium}: cannot resolve peer {peer:?}: {source}")]
    Resolve {
        /// Medium label.
        medium: String,
        /// Peer as configured.
        peer: String,
        /// Cause.
        source: io::Error,
    },
    /// The ucast peer resolved, but to no IPv4 address.
    #[error("{medium}: peer {peer:?} has no IPv4 address")]
    NoIpv4Peer {
        /// Medium label.
        medium: String,
        /// Peer as configured.
        peer: String,
    },
    /// The ucast6 peer is not a numeric IPv6 address.
    #[error(
        "{medium}: bad IPv6 peer address {peer:?} (want a numeric address, optionally with %scope)"
    )]
    BadIpv6Peer {
        /// Medium label.
        medium: String,
        /// Peer as configured.
        peer: String,
    },
    /// A link-local ucast6 peer names a scope other than the medium's interface.
    #[error("{medium}: scope of peer {peer:?} does not match interface {iface}")]
    ScopeMismatch {
        /// Medium label.
        medium: String,
        /// Peer as configured.
        peer: String,
        /// Interface of the medium.
        iface: String,
    },
    /// `socket(2)` failed.
    #[error("{medium}: cannot create socket: {source}")]
    Socket {
        /// Medium label.
        medium: String,
        /// Cause.
        source: io::Error,
    },
    /// A socket option the medium requires could not be set.
    #[error("{medium}: cannot set {option}: {source}")]
    SetOption {
        /// Medium label.
        medium: String,
        /// Option, e.g. `SO_BINDTODEVICE eth1`.
        option: String,
        /// Cause.
        source: io::Error,
    },
    /// The receive socket could not be bound (after the retries).
    #[error("{medium}: cannot bind {addr}: {source}")]
    Bind {
        /// Medium label.
        medium: String,
        /// Address the socket was to be bound to.
        addr: SocketAddr,
        /// Cause of the last attempt.
        source: io::Error,
    },
    /// Sending one packet failed (or timed out).
    #[error("{medium}: cannot send to {dest}: {source}")]
    Send {
        /// Medium label.
        medium: String,
        /// Destination (address or tty path).
        dest: String,
        /// Cause.
        source: io::Error,
    },
    /// Receiving failed.
    #[error("{medium}: cannot receive: {source}")]
    Recv {
        /// Medium label.
        medium: String,
        /// Cause.
        source: io::Error,
    },
    /// Changing the blocking mode or a timeout failed.
    #[error("{medium}: cannot change socket mode: {source}")]
    Mode {
        /// Medium label.
        medium: String,
        /// Cause.
        source: io::Error,
    },
    /// The tty could not be opened or set up.
    #[error("{medium}: cannot {action} tty {device}: {source}")]
    Tty {
        /// Medium label.
        medium: String,
        /// Device path.
        device: String,
        /// What was being done (`open`, `set attributes of`, ...).
        action: &'static str,
        /// Cause.
        source: io::Error,
    },
    /// The configured baud rate is not one heartbeat supports.
    #[error("{medium}: unsupported baud rate {baud} (use 9600, 19200, 38400, 57600, 115200, 230400 or 460800)")]
    BadBaud {
        /// Medium label.
        medium: String,
        /// Configured rate.
        baud: u32,
    },
    /// A packet handed to a serial medium is not a classic `>>>` frame.
    #[error("{medium}: serial media carry classic frames (\">>>\\n...<<<\\n\") only; convert netstring packets before sending")]
    NotClassicFrame {
        /// Medium label.
        medium: String,
    },
    /// The serial line delivered a frame larger than the receive limit.
    #[error("{medium}: received frame exceeds {max} bytes")]
    FrameTooLarge {
        /// Medium label.
        medium: String,
        /// Limit in bytes.
        max: usize,
    },
    /// The medium was handed to the wrong opener: ping media are opened
    /// with `open_ping`, every other medium with `open`.
    #[error("{kind} media are not opened by this function (ping media: open_ping; others: open)")]
    Unsupported {
        /// Medium type.
        kind: &'static str,
    },
}

impl MediaError {
    /// The OS error behind this failure, if there is one.
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            MediaError::Resolve { source, .. }
            | MediaError::Socket { source, .. }
            | MediaError::SetOption { source, .. }
            | MediaError::Bind { source, .. }
            | MediaError::Send { source, .. }
            | MediaError::Recv { source, .. }
            | MediaError::Mode { source, .. }
            | MediaError::Tty { source, .. } => Some(source),
            _ => None,
        }
    }
}
