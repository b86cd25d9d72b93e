//! Field-level helpers: the lenient number parsing the C receiver applies
//! (`sscanf("%lx")`, `atoi`), the control fields every originated message gets
//! (docs/protocol.md §5.1), and builders for the protocol's own messages with their
//! exact field order (docs/protocol.md §7).

use hb_proto::{cnum, Message, Value};

/// Prefix of unsequenced message types.
pub const NOSEQ_PREFIX: &str = "NS_";

/// `t` values the engine handles itself.
pub mod types {
    /// Heartbeat / node status.
    pub const STATUS: &str = "status";
    /// Ping node status (inside our own ICMP echo).
    pub const NS_STATUS: &str = "NS_st";
    /// Acknowledgement.
    pub const ACK: &str = "NS_ackmsg";
    /// Retransmission request.
    pub const REXMIT: &str = "NS_rexmit";
    /// Retransmission refusal.
    pub const NAK: &str = "NS_nak_rexmit";
    /// Node list request.
    pub const REQNODES: &str = "reqnodes";
    /// Node list reply.
    pub const REPNODES: &str = "repnodes";
}

/// True for `NS_*` types (no `seq`, no `ld`, never retransmitted).
pub fn is_unsequenced(t: &str) -> bool {
    t.starts_with(NOSEQ_PREFIX)
}

/// Parses like C `sscanf(s, "%lx")` ([`hb_proto::cnum`]): leading blanks,
/// optional `+` and `0x`, then hex digits up to the first non-hex byte.
/// Stricter than C where C would invent a number: `None` when there is no
/// digit, a `-` sign, or a value over 64 bits.
pub fn parse_hex(s: &str) -> Option<u64> {
    let p = cnum::strtoul(s, 16);
    (p.has_digits() && !p.negative && !p.overflow).then_some(p.value)
}

/// Parses like C `atoi` ([`hb_proto::cnum`]), without cutting the result to
/// 32 bits: leading blanks, optional sign, decimal digits up to the first
/// non-digit; 0 when there is none; clamped on overflow.
pub fn parse_atoi(s: &str) -> i64 {
    cnum::atol(s)
}

/// A 16-byte binary field (`srcuuid`, `destuuid`); `None` when absent, not
/// binary, of another length, or all zeros (= unknown).
pub fn get_uuid(msg: &Message, name: &str) -> Option<[u8; 16]> {
    let b = msg.get_binary(name)?;
    let u: [u8; 16] = b.try_into().ok()?;
    if u == [0u8; 16] {
        None
    } else {
        Some(u)
    }
}

/// Who we are, for the control fields.
pub(crate) struct Originator<'a> {
    pub name: &'a str,
    pub uuid: [u8; 16],
    pub generation: u64,
    pub ttl: u64,
    pub ld: &'a str,
}

/// Adds `src, srcuuid, seq, hg, ts, ld, ttl` in that order (docs/protocol.md
/// §5.1): set in place for sequenced messages, skipped when already present
/// (and `seq`/`ld` always skipped) for `NS_*` ones. `seq` is `None` for
/// unsequenced types. The inner `auth` is the caller's business.
pub(crate) fn add_control_fields(msg: &mut Message, o: &Originator<'_>, seq: Option<u64>, ts: u64) {
    let noseq = msg.msg_type().is_some_and(is_unsequenced);
    let gen = format!("{:x}", o.generation);
    let ts = format!("{:x}", ts.max(1));
    let ttl = o.ttl.to_string();
    let seq = seq.map(|s| format!("{s:x}"));
    let fields: [(&str, Option<Value>, bool); 7] = [
        (
            "src",
            Some(Value::String(o.name.as_bytes().to_vec())),
            false,
        ),
        ("srcuuid", Some(Value::Binary(o.uuid.to_vec())), false),
        ("seq", seq.map(|s| Value::String(s.into_bytes())), true),
        ("hg", Some(Value::String(gen.into_bytes())), false),
        ("ts", Some(Value::String(ts.into_bytes())), false),
        ("ld", Some(Value::String(o.ld.as_bytes().to_vec())), true),
        ("ttl", Some(Value::String(ttl.into_bytes())), false),
    ];
    for (name, value, sequenced_only) in fields {
        if noseq && sequenced_only {
            continue;
        }
        if noseq && msg.get(name).is_some() {
            continue;
        }
        if let Some(v) = value {
            msg.set(name, v);
        }
    }
}

/// `t=status st=<st> dt=<hex> [protocol=1]`.
pub(crate) fn status_msg(st: &str, dt: u64, protocol: bool) -> Message {
    let mut m = Message::new();
    m.push_str("t", types::STATUS);
    m.push_str("st", st);
    m.push_str("dt", format!("{dt:x}"));
    if protocol {
        m.push_str("protocol", "1");
    }
    m
}

/// `t=NS_ackmsg dest=<n> ackseq=<hex>`.
pub(crate) fn ack_msg(dest: &str, ackseq: u64) -> Message {
    let mut m = Message::new();
    m.push_str("t", types::ACK);
    m.push_str("dest", dest);
    m.push_str("ackseq", format!("{ackseq:x}"));
    m
}

/// `t=NS_rexmit dest=<n> firstseq=<dec> lastseq=<dec>` (single seq, like the C).
pub(crate) fn rexmit_msg(dest: &str, seq: u64) -> Message {
    let mut m = Message::new();
    m.push_str("t", types::REXMIT);
    m.push_str("dest", dest);
    m.push_str("firstseq", seq.to_string());
    m.push_str("lastseq", seq.to_string());
    m
}

/// `t=NS_nak_rexmit firstseq=<hex> dest=<n> info=<reason>`.
pub(crate) fn nak_msg(dest: &str, seq: u64, reason: &str) -> Message {
    let mut m = Message::new();
    m.push_str("t", types::NAK);
    m.push_str("firstseq", format!("{seq:x}"));
    m.push_str("dest", dest);
    m.push_str("info", reason);
    m
}

/// `t=reqnodes dest=<n>`.
pub(crate) fn reqnodes_msg(dest: &str) -> Message {
    let mut m = Message::new();
    m.push_str("t", types::REQNODES);
    m.push_str("dest", dest);
    m
}

/// `dest=<n> t=repnodes nodelist=<...> delnodelist=<...>` (the C adds `dest`
/// before `t` here).
pub(crate) fn repnodes_msg(dest: &str, nodes: &[&str], deleted: &[&str]) -> Message {
    let list = |names: &[&str]| -> String {
        if names.is_empty() {
            return " ".to_string();
        }
        names.iter().map(|n| format!("{n} ")).collect()
    };
    let mut m = Message::new();
    m.push_str("dest", dest);
    m.push_str("t", types::REPNODES);
    m.push_str("nodelist", list(nodes));
    m.push_str("delnodelist", list(deleted));
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_parsing_follows_sscanf() {
        assert_eq!(parse_hex("1a"), Some(26));
        assert_eq!(parse_hex("  1A"), Some(26));
        assert_eq!(parse_hex("0x10"), Some(16));
        assert_eq!(parse_hex("ff zz"), Some(255));
        assert_eq!(parse_hex("7530"), Some(0x7530));
        assert_eq!(parse_hex(""), None);
        assert_eq!(parse_hex("zz"), None);
        assert_eq!(parse_hex("-1"), None);
        assert_eq!(parse_hex("1ffffffffffffffff"), None);
    }

    #[test]
    fn atoi_parsing_follows_libc() {
        assert_eq!(parse_atoi("26"), 26);
        assert_eq!(parse_atoi(" 12abc"), 12);
        assert_eq!(parse_atoi("1a"), 1);
        assert_eq!(parse_atoi("-5"), -5);
        assert_eq!(parse_atoi("x"), 0);
        assert_eq!(parse_atoi("99999999999999999999999"), i64::MAX);
    }

    fn names(m: &Message) -> Vec<&str> {
        m.fields().iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn control_fields_order_and_ns_rules() {
        let o = Originator {
            name: "node1",
            uuid: [7; 16],
            generation: 0x4d2,
            ttl: 3,
            ld: "0.00 0.01 0.05 1/123 4567",
        };
        let mut st = status_msg("active", 0x7530, true);
        add_control_fields(&mut st, &o, Some(0x1a), 0x65a1_b2c3);
        assert_eq!(
            names(&st),
            ["t", "st", "dt", "protocol", "src", "srcuuid", "seq", "hg", "ts", "ld", "ttl"]
        );
        assert_eq!(st.get_str("dt"), Some("7530"));
        assert_eq!(st.get_str("seq"), Some("1a"));
        assert_eq!(st.get_str("hg"), Some("4d2"));
        assert_eq!(st.get_str("ts"), Some("65a1b2c3"));
        assert_eq!(st.get_str("ttl"), Some("3"));

        let mut ack = ack_msg("node2", 0x1a);
        ack.push("destuuid", Value::Binary(vec![0; 16]));
        add_control_fields(&mut ack, &o, None, 0x65a1_b2c3);
        assert_eq!(
            names(&ack),
            ["t", "dest", "ackseq", "destuuid", "src", "srcuuid", "hg", "ts", "ttl"]
        );

        // NS_ messages keep a src that is already there (ping echo payloads).
        let mut ns = Message::from_pairs([("t", "NS_st"), ("src", "pinghost")]);
        add_control_fields(&mut ns, &o, None, 5);
        assert_eq!(ns.get_str("src"), Some("pinghost"));
        // Sequenced messages get every field overwritten in place.
        let mut m = Message::from_pairs([("t", "x"), ("src", "evil"), ("seq", "99")]);
        add_control_fields(&mut m, &o, Some(3), 5);
        assert_eq!(
            names(&m),
            ["t", "src", "seq", "srcuuid", "hg", "ts", "ld", "ttl"]
        );
        assert_eq!(m.get_str("src"), Some("node1"));
        assert_eq!(m.get_str("seq"), Some("3"));
    }

    #[test]
    fn protocol_message_formats() {
        let r = rexmit_msg("nodeb", 26);
        assert_eq!(names(&r), ["t", "dest", "firstseq", "lastseq"]);
        assert_eq!(r.get_str("firstseq"), Some("26"));
        let n = nak_msg("nodeb", 26, "seqno not found");
        assert_eq!(names(&n), ["t", "firstseq", "dest", "info"]);
        assert_eq!(n.get_str("firstseq"), Some("1a"));
        let rep = repnodes_msg("nodeb", &["nodea", "nodeb"], &[]);
        assert_eq!(names(&rep), ["dest", "t", "nodelist", "delnodelist"]);
        assert_eq!(rep.get_str("nodelist"), Some("nodea nodeb "));
        assert_eq!(rep.get_str("delnodelist"), Some(" "));
        let st = status_msg("up", 32000, false);
        assert_eq!(names(&st), ["t", "st", "dt"]);
        assert_eq!(get_uuid(&st, "srcuuid"), None);
    }
}
