//! Small wire helpers: reply encoding, the C number-scanning rules the
//! daemon applies to request fields, and the `cl_log_message` dump format.

use hb_proto::{classic, cnum, netstring, Message, Value};

/// `t` of requests.
pub const T_APIREQ: &str = "hbapi-req";
/// `t` of replies.
pub const T_APIRESP: &str = "hbapi-resp";
/// `t` of client join/leave announcements.
pub const T_APICLISTAT: &str = "hbapi-clstat";
/// `t` of a remote client-status query.
pub const T_QCSTATUS: &str = "query-cstatus";
/// `t`/`subt` of a client-status answer.
pub const T_RCSTATUS: &str = "respond-cstatus";
/// Successful result.
pub const API_OK: &str = "OK";
/// More replies follow (`nodelist`, `iflist`).
pub const API_MORE: &str = "ok/more";
/// Failed request.
pub const API_BADREQ: &str = "badreq";

/// Encodes a message for a client: classic text plus one NUL (what the C
/// daemon sends), or the netstring form when `netstring` is set.
pub fn encode_payload(msg: &Message, netstring: bool) -> Vec<u8> {
    if netstring {
        netstring::encode(msg)
    } else {
        let mut out = classic::encode(msg);
        out.push(0);
        out
    }
}

/// `sscanf(s, "%ld")`: the value, or `None` without a digit
/// ([`hb_proto::cnum`] has the C rules).
pub fn scan_dec(s: &str) -> Option<i64> {
    cnum::scan_long(s)
}

/// C `atoi(s)`: 0 for anything unparsable, the `long` cut to `int` as glibc
/// does.
pub fn atoi(s: &str) -> i32 {
    cnum::atoi(s)
}

/// `sscanf(s, "%x")` into an unsigned int.
pub fn scan_hex(s: &str) -> Option<u32> {
    cnum::scan_hex_u32(s)
}

/// The lines `cl_log_message` writes for a message: a header, then one
/// `MSG[i] : [name=value]` line per field (binary shown as its length).
pub fn dump(msg: &Message) -> Vec<String> {
    let mut out = vec![format!("MSG: Dumping message with {} fields", msg.len())];
    for (i, f) in msg.fields().iter().enumerate() {
        let v = match &f.value {
            Value::String(b) => String::from_utf8_lossy(b).into_owned(),
            Value::Binary(b) => format!("<binary, {} bytes>", b.len()),
            Value::Struct(m) => format!("<struct, {} fields>", m.len()),
            Value::List(l) => format!("<list, {} items>", l.len()),
            Value::Compressed(b) => format!("<compressed, {} bytes>", b.len()),
        };
        out.push(format!("MSG[{i}] : [{}={v}]", f.name));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_rules_follow_sscanf() {
        assert_eq!(scan_dec(" 42abc"), Some(42));
        assert_eq!(scan_dec("-7"), Some(-7));
        assert_eq!(scan_dec("x1"), None);
        assert_eq!(scan_dec(""), None);
        assert_eq!(scan_dec("99999999999999999999999"), Some(i64::MAX));
        assert_eq!(atoi("2860"), 2860);
        assert_eq!(atoi("ipfail"), 0);
        // glibc: (int) strtol(...) keeps the low 32 bits.
        assert_eq!(atoi("99999999999"), 1_215_752_191);
        assert_eq!(scan_hex("1388"), Some(0x1388));
        assert_eq!(scan_hex("0x3f"), Some(0x3f));
        assert_eq!(scan_hex("0xg"), Some(0));
        assert_eq!(scan_hex("g"), None);
        assert_eq!(scan_hex("1ffffffff"), Some(0xffff_ffff));
    }

    #[test]
    fn payload_has_trailing_nul() {
        let m = Message::from_pairs([("t", "x")]);
        assert_eq!(encode_payload(&m, false), b">>>\nt=x\n<<<\n\0".to_vec());
        assert!(encode_payload(&m, true).starts_with(b"###\n"));
    }

    #[test]
    fn dump_lists_fields() {
        let m = Message::from_pairs([("t", "hbapi-req"), ("reqtype", "x")]);
        assert_eq!(
            dump(&m),
            vec![
                "MSG: Dumping message with 2 fields".to_string(),
                "MSG[0] : [t=hbapi-req]".to_string(),
                "MSG[1] : [reqtype=x]".to_string()
            ]
        );
    }
}
