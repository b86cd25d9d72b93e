//! Heartbeat media as configured in `ha.cf` (docs/behaviour.md §1.1, docs/protocol.md §11).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One medium: one write child and one read child each, one link name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Medium {
    /// `bcast <if>`: UDP broadcast on the interface, port `udpport`.
    Bcast {
        /// Interface name.
        iface: String,
        /// UDP port (from `udpport`, fixed when the line was read).
        port: u16,
    },
    /// `mcast <if> <group> <port> <ttl> <loop>`.
    Mcast {
        /// Interface name.
        iface: String,
        /// Multicast group (224.0.0.0/4).
        group: Ipv4Addr,
        /// UDP port.
        port: u16,
        /// Multicast TTL, 0..=4.
        ttl: u8,
        /// Multicast loopback.
        loopback: bool,
    },
    /// `ucast <if> <peer>`: unicast to one peer (address or host name).
    Ucast {
        /// Interface name.
        iface: String,
        /// Peer as written (address or host name).
        peer: String,
        /// UDP port (from `udpport`).
        port: u16,
    },
    /// `mcast6 <if> <group> <port> <hops> <loop>`.
    Mcast6 {
        /// Interface name.
        iface: String,
        /// IPv6 multicast group.
        group: Ipv6Addr,
        /// UDP port.
        port: u16,
        /// Hop limit, 0..=4.
        hops: u8,
        /// Multicast loopback.
        loopback: bool,
    },
    /// `ucast6 <if> <peer>`.
    Ucast6 {
        /// Interface name.
        iface: String,
        /// Peer as written.
        peer: String,
        /// UDP port.
        port: u16,
    },
    /// `serial <device>` with the `baud` in force when the line was read.
    Serial {
        /// Device path.
        device: String,
        /// Baud rate.
        baud: u32,
    },
    /// `ping <host>`: one ping node.
    Ping {
        /// Host as written (lower-cased in the node table).
        host: String,
    },
    /// `ping6 <host>`.
    Ping6 {
        /// Host as written.
        host: String,
    },
    /// `ping_group <name> <host>...`: one ping node answered by any member.
    PingGroup {
        /// Group (node) name.
        name: String,
        /// Member addresses.
        hosts: Vec<IpAddr>,
    },
}

impl Medium {
    /// The medium type as shown in process titles (`bcast`, `ucast`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Medium::Bcast { .. } => "bcast",
            Medium::Mcast { .. } => "mcast",
            Medium::Ucast { .. } => "ucast",
            Medium::Mcast6 { .. } => "mcast6",
            Medium::Ucast6 { .. } => "ucast6",
            Medium::Serial { .. } => "serial",
            Medium::Ping { .. } => "ping",
            Medium::Ping6 { .. } => "ping6",
            Medium::PingGroup { .. } => "ping_group",
        }
    }

    /// The medium (link) name: interface, device path, host or group name.
    /// This is what `ps` titles, link status and `cl_status listhblinks` show.
    pub fn name(&self) -> &str {
        match self {
            Medium::Bcast { iface, .. }
            | Medium::Mcast { iface, .. }
            | Medium::Ucast { iface, .. }
            | Medium::Mcast6 { iface, .. }
            | Medium::Ucast6 { iface, .. } => iface,
            Medium::Serial { device, .. } => device,
            Medium::Ping { host } | Medium::Ping6 { host } => host,
            Medium::PingGroup { name, .. } => name,
        }
    }

    /// True for the ping media, whose "link" is a ping node rather than a
    /// path to the other cluster nodes.
    pub fn is_ping(&self) -> bool {
        matches!(
            self,
            Medium::Ping { .. } | Medium::Ping6 { .. } | Medium::PingGroup { .. }
        )
    }
}
