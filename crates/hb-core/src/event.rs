//! Things the engine reports to the daemon, and how the C daemon words them.
//!
//! Events are facts ("node X is dead"), not commands; the daemon decides what
//! to run (rc.d notifications, takeover, API client notifications, restarts).
//! [`Event::log_lines`] reproduces the exact wording of Heartbeat 3.0.6
//! (docs/behaviour.md §13.3) so that operators' log scrapers keep working.

use crate::stats::DropReason;

/// A log priority (defined in `hb-proto` so the logging crate and the
/// tools share it without depending on the engine).
pub use hb_proto::Level;

/// Something that happened inside the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Our own status changed (`up` at start, `active` at comm up).
    LocalStatus {
        /// New local status.
        status: String,
    },
    /// A peer's (or ping node's) status changed, from an accepted status message.
    NodeStatus {
        /// Node name.
        node: String,
        /// Previous status.
        old: String,
        /// New status (as sent, e.g. `up`, `active`, `init`, `ping`).
        new: String,
    },
    /// A link (node, medium) went up or dead.
    LinkStatus {
        /// Node name.
        node: String,
        /// Link (medium) name.
        medium: String,
        /// True = up, false = dead.
        up: bool,
    },
    /// A peer or ping node was declared dead (its status is now `dead`).
    /// The daemon runs the takeover logic (docs/protocol.md §9.6).
    NodeDead {
        /// Node name.
        node: String,
    },
    /// Our own looped-back heartbeat was missing for our deadtime: the C daemon
    /// gives up its resources and restarts itself.
    LocalHeartbeatLost,
    /// Our own status message came back through the loopback (tickle the
    /// watchdog). Not logged.
    LocalHeartbeat,
    /// A peer came back with a higher generation.
    NodeRestarted {
        /// Node name.
        node: String,
    },
    /// The gap between two status messages of a node exceeded warntime (or
    /// deadtime: then the node has just been marked dead and revived).
    LateHeartbeat {
        /// Node name.
        node: String,
        /// Gap in ms.
        interval_ms: Millis,
        /// The gap exceeded our deadtime.
        beyond_deadtime: bool,
    },
    /// Communication is up (docs/protocol.md §8.6): our status is now `active`.
    CommUp,
    /// A node we had declared dead sent a newer status without restarting.
    /// We have re-sent our status; the C daemon gives up all resources and
    /// restarts 2 s later (docs/protocol.md §6.7).
    PartitionHealed {
        /// Node name.
        node: String,
    },
    /// A gap in a node's sequence numbers.
    LostPackets {
        /// Node name.
        node: String,
        /// Number of missing messages.
        count: u64,
        /// Last sequence number seen before the gap.
        last: u64,
        /// The sequence number that revealed the gap.
        got: u64,
    },
    /// More than 250 messages lost from one node: its tracking was reset.
    TooManyLost {
        /// Node name.
        node: String,
    },
    /// Every gap of a node has been filled.
    NoPacketsMissing {
        /// Node name.
        node: String,
    },
    /// A node told us (NAK) it cannot retransmit a message.
    IrretrievablyLost {
        /// Node name.
        node: String,
        /// Lost sequence number.
        seq: u64,
    },
    /// We could not serve a retransmission request (a NAK was sent).
    CannotRexmit {
        /// Requesting node.
        node: String,
        /// Requested sequence number.
        seq: u64,
        /// NAK reason (`seqno too low` / `seqno not found`).
        reason: &'static str,
    },
    /// A retransmission request asked for a sequence number we never sent.
    RexmitTooHigh {
        /// Requested sequence number.
        seq: u64,
        /// Our highest sequence number.
        max: u64,
    },
    /// A normal node's status lacked `protocol`: ACKs and reqnodes are off
    /// until restart (docs/protocol.md §6.6).
    FlowControlDisabled,
    /// We learned (or a node changed) its UUID; the daemon may update the
    /// hostcache.
    NodeUuid {
        /// Node name.
        node: String,
        /// The UUID.
        uuid: [u8; 16],
        /// True when it replaced a different, known UUID.
        changed: bool,
    },
    /// A `repnodes` reply listed a different set of normal nodes than ours.
    /// The C daemon would add/remove nodes at run time; we keep ha.cf's list.
    NodeListMismatch {
        /// The node that sent the list.
        from: String,
        /// Nodes in the reply that we do not know.
        unknown_here: Vec<String>,
        /// Our normal nodes missing from the reply.
        missing_there: Vec<String>,
    },
    /// A packet from an unconfigured node was dropped.
    UnknownNode {
        /// The `src` it claimed.
        name: String,
    },
    /// A sequenced message with a generation lower than the one we know.
    ReplayDropped {
        /// Node name.
        node: String,
        /// Generation in the message.
        gen: u64,
        /// Generation we know.
        current: u64,
    },
    /// Any other packet rejection (decode, auth, missing fields...).
    PacketDropped {
        /// Why.
        reason: DropReason,
    },
}

use crate::config::Millis;

const SPLIT_BRAIN_URL: &str = "http://linux-ha.org/wiki/Split_Brain";
const HEAVY_LOAD_URL: &str = "http://linux-ha.org/wiki/FAQ#Heavy_Load";
const NO_LOCAL_HB_URL: &str = "http://linux-ha.org/wiki/FAQ#No_Local_Heartbeat";

impl Event {
    /// The first (main) log line of this event, if it is logged at all.
    pub fn log_line(&self) -> Option<(Level, String)> {
        self.log_lines().into_iter().next()
    }

    /// Every log line the C daemon prints for this event, in order.
    pub fn log_lines(&self) -> Vec<(Level, String)> {
        use Level::*;
        let one = |l: Level, s: String| vec![(l, s)];
        match self {
            Event::LocalStatus { status } => {
                one(Info, format!("Local status now set to: '{status}'"))
            }
            Event::NodeStatus { node, new, .. } => {
                one(Info, format!("Status update for node {node}: status {new}"))
            }
            Event::LinkStatus { node, medium, up } => one(
                Info,
                format!("Link {node}:{medium} {}.", if *up { "up" } else { "dead" }),
            ),
            Event::NodeDead { node } => one(Warn, format!("node {node}: is dead")),
            Event::LocalHeartbeatLost => vec![
                (Error, "No local heartbeat. Forcing restart.".to_string()),
                (Info, format!("See URL: {NO_LOCAL_HB_URL}")),
            ],
            Event::LocalHeartbeat => Vec::new(),
            Event::NodeRestarted { node } => one(Info, format!("Heartbeat restart on node {node}")),
            Event::LateHeartbeat {
                node,
                interval_ms,
                beyond_deadtime,
            } => {
                if *beyond_deadtime {
                    one(
                        Crit,
                        format!("Late heartbeat: Node {node}: interval {interval_ms} ms (> deadtime)"),
                    )
                } else {
                    one(
                        Warn,
                        format!("Late heartbeat: Node {node}: interval {interval_ms} ms"),
                    )
                }
            }
            Event::CommUp => one(Info, "Comm_now_up(): updating status to active".to_string()),
            Event::PartitionHealed { node } => vec![
                (Crit, format!("Cluster node {node} returning after partition.")),
                (
                    Info,
                    format!("For information on cluster partitions, See URL: {SPLIT_BRAIN_URL}"),
                ),
                (Warn, "Deadtime value may be too small.".to_string()),
                (Info, "See FAQ for information on tuning deadtime.".to_string()),
                (Info, format!("URL: {HEAVY_LOAD_URL}")),
            ],
            Event::LostPackets {
                node,
                count,
                last,
                got,
            } => one(
                Warn,
                format!("{count} lost packet(s) for [{node}] [{last}:{got}]"),
            ),
            Event::TooManyLost { .. } => one(Error, "lost a lot of packets!".to_string()),
            Event::NoPacketsMissing { node } => one(Info, format!("No pkts missing from {node}!")),
            Event::IrretrievablyLost { node, seq } => one(
                Error,
                format!("Irretrievably lost packet: node {node} seq {seq}"),
            ),
            Event::CannotRexmit { node, seq, reason } => {
                one(Error, format!("Cannot rexmit pkt {seq} for {node}: {reason}"))
            }
            Event::RexmitTooHigh { seq, max } => one(
                Warn,
                format!("Rexmit of seq {seq} requested. {max} is max."),
            ),
            Event::FlowControlDisabled => one(
                Info,
                "flow control disabled due to different version heartbeat".to_string(),
            ),
            Event::NodeUuid {
                node,
                uuid,
                changed,
            } => {
                if *changed {
                    one(
                        Info,
                        format!("node {node} changed its uuid to {}", unparse_uuid(uuid)),
                    )
                } else {
                    one(Debug, format!("learned uuid {} of node {node}", unparse_uuid(uuid)))
                }
            }
            Event::NodeListMismatch {
                from,
                unknown_here,
                missing_there,
            } => one(
                Warn,
                format!(
                    "Node list from {from} differs from ha.cf (unknown here: [{}], missing there: [{}]); keeping ha.cf's list",
                    unknown_here.join(" "),
                    missing_there.join(" ")
                ),
            ),
            Event::UnknownNode { name } => one(
                Error,
                format!("process_status_message: bad node [{name}] in message"),
            ),
            Event::ReplayDropped { node, gen, current } => one(
                Error,
                format!(
                    "should_drop_message: attempted replay attack [{node}]? [gen = {gen}, curgen = {current}]"
                ),
            ),
            Event::PacketDropped { reason } => {
                one(Debug, format!("dropped a packet: {}", reason.as_str()))
            }
        }
    }
}

/// A UUID in the usual `8-4-4-4-12` lowercase hex form.
pub fn unparse_uuid(u: &[u8; 16]) -> String {
    let mut s = String::with_capacity(36);
    for (i, b) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(e: Event) -> (Level, String) {
        e.log_line().unwrap_or((Level::Debug, String::new()))
    }

    #[test]
    fn wording_matches_the_c_daemon() {
        let n = || "nodeb".to_string();
        assert_eq!(
            line(Event::LinkStatus {
                node: n(),
                medium: "eth0".into(),
                up: true
            }),
            (Level::Info, "Link nodeb:eth0 up.".into())
        );
        assert_eq!(
            line(Event::LinkStatus {
                node: n(),
                medium: "eth0".into(),
                up: false
            }),
            (Level::Info, "Link nodeb:eth0 dead.".into())
        );
        assert_eq!(
            line(Event::NodeStatus {
                node: n(),
                old: "up".into(),
                new: "active".into()
            }),
            (
                Level::Info,
                "Status update for node nodeb: status active".into()
            )
        );
        assert_eq!(
            line(Event::NodeDead { node: n() }),
            (Level::Warn, "node nodeb: is dead".into())
        );
        assert_eq!(
            line(Event::LateHeartbeat {
                node: n(),
                interval_ms: 2100,
                beyond_deadtime: false
            }),
            (
                Level::Warn,
                "Late heartbeat: Node nodeb: interval 2100 ms".into()
            )
        );
        assert_eq!(
            line(Event::CommUp),
            (
                Level::Info,
                "Comm_now_up(): updating status to active".into()
            )
        );
        assert_eq!(
            line(Event::NodeRestarted { node: n() }),
            (Level::Info, "Heartbeat restart on node nodeb".into())
        );
        assert_eq!(
            line(Event::PartitionHealed { node: n() }),
            (
                Level::Crit,
                "Cluster node nodeb returning after partition.".into()
            )
        );
        assert_eq!(
            line(Event::LocalStatus {
                status: "active".into()
            }),
            (Level::Info, "Local status now set to: 'active'".into())
        );
        assert_eq!(
            Event::LocalHeartbeatLost.log_lines(),
            vec![
                (
                    Level::Error,
                    "No local heartbeat. Forcing restart.".to_string()
                ),
                (
                    Level::Info,
                    "See URL: http://linux-ha.org/wiki/FAQ#No_Local_Heartbeat".to_string()
                ),
            ]
        );
        assert_eq!(
            line(Event::NoPacketsMissing { node: n() }),
            (Level::Info, "No pkts missing from nodeb!".into())
        );
        assert_eq!(Event::LocalHeartbeat.log_line(), None);
        assert_eq!(
            unparse_uuid(&[
                0x41, 0x24, 0x38, 0x1d, 0x48, 0x8c, 0x42, 0x8d, 0xa8, 7, 0x84, 0xf, 0x77, 0xa,
                0x98, 0x2b
            ]),
            "4124381d-488c-428d-a807-840f770a982b"
        );
    }
}
