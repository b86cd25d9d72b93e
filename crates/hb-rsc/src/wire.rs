//! The resource messages we originate, field by field in the C send order
//! (docs/protocol.md §7, §9). Only the application fields are built here; the
//! cluster layer adds `src`, `seq`, `hg`, `ts`, `ld`, `ttl`, `auth`.

use hb_proto::Message;

use crate::set::RscSet;

/// Message types of the resource protocol.
pub mod types {
    /// `t=starting`.
    pub const STARTING: &str = "starting";
    /// `t=resource`.
    pub const RESOURCE: &str = "resource";
    /// `t=ask_resources`.
    pub const ASK_RESOURCES: &str = "ask_resources";
    /// `t=ip-request`.
    pub const IP_REQUEST: &str = "ip-request";
    /// `t=ip-request-resp`.
    pub const IP_REQUEST_RESP: &str = "ip-request-resp";
    /// `t=shutdone`.
    pub const SHUTDONE: &str = "shutdone";
    /// `t=hb_takeover`.
    pub const HB_TAKEOVER: &str = "hb_takeover";
    /// `t=stonith`.
    pub const STONITH: &str = "stonith";
}

/// `t=starting`.
pub fn starting() -> Message {
    Message::from_pairs([("t", types::STARTING)])
}

/// `t=resource rsc_hold=<held> rtype=full isstable=0|1 [info=<info>]`
/// (the C `hb_send_resources_held`).
pub fn resources_held(held: RscSet, stable: bool, info: Option<&str>) -> Message {
    let mut m = Message::from_pairs([
        ("t", types::RESOURCE),
        ("rsc_hold", held.as_str()),
        ("rtype", "full"),
        ("isstable", if stable { "1" } else { "0" }),
    ]);
    if let Some(info) = info {
        m.push_str("info", info);
    }
    m
}

/// `t=resource rsc_hold=foreign info=mach_down` (what the `mach_down`
/// script sends after taking a dead node's groups).
pub fn mach_down_done() -> Message {
    Message::from_pairs([
        ("t", types::RESOURCE),
        ("rsc_hold", "foreign"),
        ("info", "mach_down"),
    ])
}

/// `t=ask_resources rsc_hold=<set> info=me|other|done`.
pub fn ask_resources(set: &str, info: &str) -> Message {
    Message::from_pairs([
        ("t", types::ASK_RESOURCES),
        ("rsc_hold", set),
        ("info", info),
    ])
}

/// `t=ip-request ipaddr=<key>`.
pub fn ip_request(key: &str) -> Message {
    Message::from_pairs([("t", types::IP_REQUEST), ("ipaddr", key)])
}

/// `t=ip-request-resp dest=<node> ipaddr=<key> weown=yes|no ok=OK`.
pub fn ip_request_resp(dest: &str, key: &str, weown: bool) -> Message {
    Message::from_pairs([
        ("t", types::IP_REQUEST_RESP),
        ("dest", dest),
        ("ipaddr", key),
        ("weown", if weown { "yes" } else { "no" }),
        ("ok", "OK"),
    ])
}

/// `t=shutdone st=dead`.
pub fn shutdone() -> Message {
    Message::from_pairs([("t", types::SHUTDONE), ("st", "dead")])
}

/// `t=stonith node=<node> result=<result>`.
pub fn stonith(node: &str, result: &str) -> Message {
    Message::from_pairs([("t", types::STONITH), ("node", node), ("result", result)])
}

/// `t=hb_takeover rsc_hold=<set>`.
pub fn hb_takeover(set: &str) -> Message {
    Message::from_pairs([("t", types::HB_TAKEOVER), ("rsc_hold", set)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(m: &Message) -> Vec<(String, String)> {
        m.fields()
            .iter()
            .map(|f| {
                let v = match &f.value {
                    hb_proto::Value::String(b) => String::from_utf8_lossy(b).into_owned(),
                    other => format!("{other:?}"),
                };
                (f.name.clone(), v)
            })
            .collect()
    }

    #[test]
    fn field_order_matches_the_c_senders() {
        let m = resources_held(RscSet::LOCAL, true, Some("req_our_resources()"));
        let names: Vec<String> = pairs(&m).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["t", "rsc_hold", "rtype", "isstable", "info"]);
        let m = ip_request_resp("a", "10.0.0.1", false);
        assert_eq!(
            pairs(&m),
            [
                ("t", "ip-request-resp"),
                ("dest", "a"),
                ("ipaddr", "10.0.0.1"),
                ("weown", "no"),
                ("ok", "OK"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert_eq!(resources_held(RscSet::NONE, false, None).len(), 4);
    }
}
