//! The netstring encoding (docs/protocol.md §3.1): what every UDP datagram and
//! ICMP payload carries.
//!
//! ```text
//! body  = "###\n" *field "%%%\n"
//! field = declen ":" "(" typedigit ")" name "=" value ","
//! ```
//!
//! [`encode`] always writes the `(t)` prefix (a C peer asserts on its
//! absence) and never a trailer: signing is [`crate::auth::KeyRing::seal`]'s
//! job. [`decode`] reads one body and ignores whatever follows `%%%\n` (the
//! trailer, a NUL appended by a reader). Values are kept as raw bytes, so
//! `encode(&decode(body)?) == body` for every body a real node sends.

use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::list;
use crate::msg::{FieldType, Message, Value};
use crate::{MAXMSG, MAX_DEPTH};

/// Start marker of a netstring body.
pub const START: &[u8] = b"###\n";
/// End marker of a netstring body.
pub const END: &[u8] = b"%%%\n";

/// Encodes `msg` as a netstring body (no trailer).
///
/// The output is only meaningful for a valid message
/// ([`Message::validate`]); an invalid one yields bytes that [`decode`]
/// rejects.
pub fn encode(msg: &Message) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    encode_into(msg, &mut out);
    out
}

fn encode_into(msg: &Message, out: &mut Vec<u8>) {
    out.extend_from_slice(START);
    for f in msg.fields() {
        let nested;
        let packed;
        let value: &[u8] = match &f.value {
            Value::String(v) | Value::Binary(v) | Value::Compressed(v) => v,
            Value::Struct(m) => {
                nested = encode(m);
                &nested
            }
            Value::List(items) => {
                packed = list::pack(items);
                &packed
            }
        };
        let len = 3 + f.name.len() + 1 + value.len();
        out.extend_from_slice(len.to_string().as_bytes());
        out.extend_from_slice(b":(");
        out.push(f.value.field_type().digit());
        out.push(b')');
        out.extend_from_slice(f.name.as_bytes());
        out.push(b'=');
        out.extend_from_slice(value);
        out.push(b',');
    }
    out.extend_from_slice(END);
}

/// Decodes the netstring body at the start of `bytes`; bytes after the
/// `%%%\n` end marker are ignored. Inputs over [`MAXMSG`] bytes are refused.
pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
    decode_prefix(bytes).map(|(m, _)| m)
}

/// Like [`decode`], also returning the length of the body (up to and
/// including `%%%\n`): the bytes a trailer digest covers.
pub fn decode_prefix(bytes: &[u8]) -> Result<(Message, usize), DecodeError> {
    decode_limited(bytes, MAXMSG)
}

/// [`decode_prefix`] with an explicit size limit (decompressed messages may
/// be larger than `MAXMSG`).
pub(crate) fn decode_limited(bytes: &[u8], limit: usize) -> Result<(Message, usize), DecodeError> {
    if bytes.len() > limit {
        return Err(DecodeError::new(
            0,
            K::TooLarge {
                len: bytes.len(),
                limit,
            },
        ));
    }
    decode_at(bytes, 0, 0)
}

/// Parses one body from `bytes` (which sits at `base` in the caller's
/// buffer, for error offsets) at nesting `depth`.
fn decode_at(bytes: &[u8], base: usize, depth: usize) -> Result<(Message, usize), DecodeError> {
    if !bytes.starts_with(START) {
        return Err(DecodeError::new(base, K::MissingStart("###\\n")));
    }
    let mut msg = Message::new();
    let mut pos = START.len();
    loop {
        if bytes[pos..].starts_with(END) {
            return Ok((msg, pos + END.len()));
        }
        if pos >= bytes.len() {
            return Err(DecodeError::new(base + pos, K::MissingEnd("%%%\\n")));
        }
        let (data, next) = peel(bytes, pos).map_err(|e| e.shifted(base))?;
        parse_field(&bytes[data.clone()], base + data.start, depth, &mut msg)?;
        pos = next;
    }
}

fn parse_field(f: &[u8], base: usize, depth: usize, msg: &mut Message) -> Result<(), DecodeError> {
    if f.len() < 3 || f[0] != b'(' || f[2] != b')' {
        return Err(DecodeError::new(base, K::ExpectedTypePrefix));
    }
    let ty = FieldType::from_digit(f[1]).ok_or(DecodeError::new(base + 1, K::UnknownType(f[1])))?;
    let rest = &f[3..];
    let eq = rest
        .iter()
        .position(|&b| b == b'=')
        .ok_or(DecodeError::new(base + 3, K::ExpectedEquals))?;
    let name = crate::msg::check_name(&rest[..eq]).map_err(|k| DecodeError::new(base + 3, k))?;
    let vstart = base + 3 + eq + 1;
    let raw = &rest[eq + 1..];
    let value = match ty {
        FieldType::String => {
            if let Some(i) = raw.iter().position(|&b| b == 0) {
                return Err(DecodeError::new(vstart + i, K::NulInString));
            }
            Value::String(raw.to_vec())
        }
        FieldType::Binary => Value::Binary(raw.to_vec()),
        FieldType::Compressed => Value::Compressed(raw.to_vec()),
        FieldType::List => {
            Value::List(list::unpack(raw).map_err(|o| DecodeError::new(vstart + o, K::BadList))?)
        }
        FieldType::Struct => {
            if depth + 1 > MAX_DEPTH {
                return Err(DecodeError::new(vstart, K::TooDeep { max: MAX_DEPTH }));
            }
            let (child, used) = decode_at(raw, vstart, depth + 1)?;
            if used != raw.len() {
                return Err(DecodeError::new(vstart + used, K::TrailingBytes));
            }
            Value::Struct(child)
        }
    };
    msg.push(name, value);
    Ok(())
}

/// Reads one netstring `declen ":" data ","` at `pos`; returns the data range
/// and the position after the comma. Offsets in errors are relative to
/// `bytes`.
pub(crate) fn peel(
    bytes: &[u8],
    pos: usize,
) -> Result<(std::ops::Range<usize>, usize), DecodeError> {
    let digits = bytes[pos..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 {
        return Err(DecodeError::new(pos, K::ExpectedLength));
    }
    // Ten digits already exceed any size we accept.
    if digits > 9 {
        return Err(DecodeError::new(pos, K::LengthOverflow));
    }
    // Senders never write leading zeros; refusing them keeps
    // `encode(decode(x)) == x` for everything we accept.
    if digits > 1 && bytes[pos] == b'0' {
        return Err(DecodeError::new(pos, K::LeadingZero));
    }
    let mut len = 0usize;
    for &d in &bytes[pos..pos + digits] {
        len = len * 10 + usize::from(d - b'0');
    }
    let colon = pos + digits;
    if bytes.get(colon) != Some(&b':') {
        return Err(DecodeError::new(colon, K::ExpectedColon));
    }
    let start = colon + 1;
    let end = start + len;
    if end >= bytes.len() {
        return Err(DecodeError::new(start, K::LengthOverrun));
    }
    if bytes[end] != b',' {
        return Err(DecodeError::new(end, K::ExpectedComma));
    }
    Ok((start..end, end + 1))
}

impl DecodeError {
    pub(crate) fn shifted(mut self, base: usize) -> DecodeError {
        self.offset += base;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_type_prefix_and_lengths() {
        let mut m = Message::from_pairs([("t", "status"), ("info", "")]);
        m.push("u", Value::Binary(vec![b'\n', 0]));
        assert_eq!(
            encode(&m),
            b"###\n11:(0)t=status,8:(0)info=,7:(1)u=\n\0,%%%\n".to_vec()
        );
    }

    #[test]
    fn nested_struct_and_list_round_trip() {
        let mut inner = Message::from_pairs([("a", "1")]);
        inner.push("l", Value::List(vec![b"x".to_vec(), b"yz".to_vec()]));
        let mut m = Message::from_pairs([("t", "x")]);
        m.push("s", Value::Struct(inner));
        m.push("c", Value::Compressed(vec![1, 2, 3]));
        let enc = encode(&m);
        let expect: &[u8] = b"(2)s=###\n6:(0)a=1,14:(3)l=1:x,2:yz,,%%%\n,";
        assert!(
            enc.windows(expect.len()).any(|w| w == expect),
            "{}",
            String::from_utf8_lossy(&enc)
        );
        let mut with_tail = enc.clone();
        with_tail.extend_from_slice(b"34:1 abc,\0");
        assert_eq!(decode(&with_tail), Ok(m));
        assert_eq!(decode_prefix(&with_tail).map(|(_, n)| n), Ok(enc.len()));
    }

    #[test]
    fn typed_errors_with_offsets() {
        let e = |b: &[u8]| decode(b).unwrap_err();
        assert_eq!(e(b"##\n"), DecodeError::new(0, K::MissingStart("###\\n")));
        assert_eq!(e(b"###\n"), DecodeError::new(4, K::MissingEnd("%%%\\n")));
        assert_eq!(e(b"###\nx"), DecodeError::new(4, K::ExpectedLength));
        assert_eq!(e(b"###\n5;"), DecodeError::new(5, K::ExpectedColon));
        assert_eq!(
            e(b"###\n50:(0)a=b,%%%\n"),
            DecodeError::new(7, K::LengthOverrun)
        );
        assert_eq!(
            e(b"###\n4:(0)a=b,%%%\n"),
            DecodeError::new(10, K::ExpectedComma)
        );
        assert_eq!(
            e(b"###\n3:a=b,%%%\n"),
            DecodeError::new(6, K::ExpectedTypePrefix)
        );
        assert_eq!(
            e(b"###\n6:(7)a=b,%%%\n"),
            DecodeError::new(7, K::UnknownType(b'7'))
        );
        assert_eq!(e(b"###\n5:(0)=b,%%%\n"), DecodeError::new(9, K::EmptyName));
        assert_eq!(e(b"###\n5:(0)ab=,%%%\n").kind, K::ExpectedComma);
        assert_eq!(
            e(b"###\n5:(0)ab,%%%\n"),
            DecodeError::new(9, K::ExpectedEquals)
        );
        assert_eq!(
            e(b"###\n7:(0)a=\0b,%%%\n"),
            DecodeError::new(11, K::NulInString)
        );
        assert_eq!(
            e(b"###\n99999999999:"),
            DecodeError::new(4, K::LengthOverflow)
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let mut m = Message::from_pairs([("a", "b")]);
        for _ in 0..MAX_DEPTH {
            let mut outer = Message::new();
            outer.push("s", Value::Struct(m));
            m = outer;
        }
        assert_eq!(decode(&encode(&m)), Ok(m.clone()));
        let mut too_deep = Message::new();
        too_deep.push("s", Value::Struct(m));
        assert_eq!(
            decode(&encode(&too_deep)).unwrap_err().kind,
            K::TooDeep { max: MAX_DEPTH }
        );
    }
}
