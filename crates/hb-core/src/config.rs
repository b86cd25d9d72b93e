//! What the engine needs to know about the cluster, already parsed and
//! defaulted by the daemon (hb-config does the ha.cf work).

use hb_proto::auth::KeyRing;

/// Monotonic milliseconds. The daemon feeds `CLOCK_MONOTONIC`; the simulator
/// feeds its virtual clock. The engine never reads a clock itself.
pub type Millis = u64;

/// One configured medium, in ha.cf order. The index of a medium in
/// [`CoreConfig::media`] is the `medium` argument of
/// [`crate::Cluster::on_datagram`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediumInfo {
    /// Link name: the interface (`eth0`) for bcast/mcast/ucast, the device
    /// path for serial, the host (or group name) for ping/ping_group.
    pub name: String,
    /// A ping or ping_group medium: it carries only our own ICMP echoes and is
    /// the single link of the ping node with the same name.
    pub is_ping: bool,
}

/// Engine configuration. All times are milliseconds.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Our node name, lowercased.
    pub node_name: String,
    /// Our persistent UUID (`/var/lib/heartbeat/hb_uuid`).
    pub uuid: [u8; 16],
    /// Our generation (`hg`), already incremented and persisted for this start.
    pub generation: u64,
    /// Normal nodes, lowercased, ha.cf order, ourselves included.
    pub nodes: Vec<String>,
    /// Ping node names (ha.cf order, lowercased). Each should have a ping
    /// medium of the same name in `media`.
    pub ping_nodes: Vec<String>,
    /// Media in ha.cf order.
    pub media: Vec<MediumInfo>,
    /// `keepalive`: interval between our status messages.
    pub keepalive: Millis,
    /// `deadtime`: what we advertise as `dt`.
    pub deadtime: Millis,
    /// `warntime`: a status gap above this logs "Late heartbeat".
    pub warntime: Millis,
    /// `initdead`: dead interval for every node until our links are up.
    pub initdead: Millis,
    /// `deadping`: dead interval of ping nodes.
    pub deadping: Millis,
    /// `max_rexmit_delay` (default 250).
    pub max_rexmit_delay: Millis,
    /// `hopfudge` (default 1); `ttl` = hopfudge + number of nodes.
    pub hopfudge: u32,
    /// Keys from `authkeys`, used to sign and verify packets.
    pub keys: KeyRing,
    /// Add the inner classic `auth` field (ha.cf `msgfmt classic`, the default).
    pub inner_auth: bool,
    /// Seed for retransmit jitter and the per-peer ACK trigger.
    pub seed: u64,
    /// When and how outgoing messages are compressed (ha.cf `compression`,
    /// `compression_threshold`, `traditional_compression`; docs/protocol.md §3.4).
    pub compression: hb_proto::compress::Policy,
}

impl CoreConfig {
    /// A configuration with the protocol defaults of docs/protocol.md §12 for
    /// everything but identity, membership, media and keys: keepalive 1 s,
    /// deadtime 30 s, warntime 15 s, initdead 30 s, deadping 30 s,
    /// max_rexmit_delay 250 ms, hopfudge 1, inner auth on.
    pub fn with_defaults(
        node_name: &str,
        uuid: [u8; 16],
        generation: u64,
        nodes: Vec<String>,
        media: Vec<MediumInfo>,
        keys: KeyRing,
    ) -> CoreConfig {
        CoreConfig {
            node_name: node_name.to_ascii_lowercase(),
            uuid,
            generation,
            nodes,
            ping_nodes: Vec::new(),
            media,
            keepalive: 1000,
            deadtime: 30_000,
            warntime: 15_000,
            initdead: 30_000,
            deadping: 30_000,
            max_rexmit_delay: 250,
            hopfudge: 1,
            keys,
            inner_auth: true,
            compression: hb_proto::compress::Policy::default(),
            seed: generation
                ^ u64::from_le_bytes([
                    uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7],
                ]),
        }
    }
}
