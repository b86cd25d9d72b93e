//! Making node table entries (at start and for `addnode`) and sealing
//! outgoing datagrams with the compression policy.

use hb_proto::{KeyRing, Message};

use crate::cluster::ACK_DIV;
use crate::config::{CoreConfig, Millis};
use crate::node::{status, Link, Node, NodeKind};
use crate::rng::Rng;
use crate::track::Track;

fn new_link(medium: usize, name: &str, now: Millis) -> Link {
    Link {
        medium,
        name: name.to_string(),
        up: false,
        last_update: now,
    }
}

/// A fresh node table entry: status `init`, one link per medium of its kind.
pub(crate) fn make_node(
    cfg: &CoreConfig,
    name: String,
    kind: NodeKind,
    now: Millis,
    rng: &mut Rng,
) -> Node {
    let links = match kind {
        NodeKind::Normal => cfg
            .media
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.is_ping)
            .map(|(i, m)| new_link(i, &m.name, now))
            .collect(),
        NodeKind::Ping => cfg
            .media
            .iter()
            .enumerate()
            .filter(|(_, m)| m.is_ping && m.name.eq_ignore_ascii_case(&name))
            .map(|(i, _)| new_link(i, &name, now))
            .take(1)
            .collect(),
    };
    Node {
        dead_interval: match kind {
            NodeKind::Normal => cfg.deadtime,
            NodeKind::Ping => cfg.deadping,
        },
        name,
        kind,
        uuid: [0; 16],
        status: status::INIT.to_string(),
        last_status: Some(now),
        excused: 0,
        rmt_lastupdate: 0,
        status_seqno: 0,
        heard: false,
        track: Track {
            ack_trigger: rng.range(0, ACK_DIV - 1),
            ..Track::default()
        },
        links,
    }
}

/// `msg` sealed as it is, or its compressed wrapper sealed when `policy`
/// asks for it (docs/protocol.md §3.4).
pub(crate) fn seal_with(
    keys: &KeyRing,
    policy: &hb_proto::compress::Policy,
    msg: &Message,
) -> Vec<u8> {
    match policy.wrap(msg) {
        Some(wrapper) => keys.seal(&wrapper),
        None => keys.seal(msg),
    }
}
