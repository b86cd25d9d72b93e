//! Why an export cannot be written.

use std::path::PathBuf;

/// An export error; every variant says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// A `--addr` flag is not `NODE:IFACE=IP`.
    #[error("--addr {text}: expected NODE:IFACE=IP (for example nodea:eth0=192.0.2.10)")]
    BadAddrFlag {
        /// The flag's value.
        text: String,
    },
    /// A `--addr` flag names a node that ha.cf does not list.
    #[error("--addr {text}: {node} is not a node of ha.cf (nodes: {known})")]
    AddrUnknownNode {
        /// The flag's value.
        text: String,
        /// Node named.
        node: String,
        /// The ha.cf nodes.
        known: String,
    },
    /// A `--addr` flag names an interface that carries no heartbeat medium.
    #[error("--addr {text}: {iface} carries no heartbeat medium in ha.cf (links: {links})")]
    AddrUnknownInterface {
        /// The flag's value.
        text: String,
        /// Interface named.
        iface: String,
        /// The interfaces that become links.
        links: String,
    },
    /// No address is known for a node on one link.
    #[error(
        "no address for node {node} on link {link} ({iface}): not in a ucast line, not this host, \
         and {hint}; give --addr {node}:{iface}=IP"
    )]
    MissingAddress {
        /// Node.
        node: String,
        /// knet link number.
        link: u8,
        /// Heartbeat interface of the link.
        iface: String,
        /// Why name resolution did not help.
        hint: String,
    },
    /// ha.cf has no network medium (serial only): knet has no serial transport.
    #[error(
        "{file}: no bcast, mcast or ucast medium: Corosync's knet transport needs at least one \
         network interface (serial links cannot be exported)"
    )]
    NoNetworkMedium {
        /// ha.cf path.
        file: PathBuf,
    },
}
