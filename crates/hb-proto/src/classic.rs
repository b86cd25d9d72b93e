//! The classic text encoding (docs/protocol.md §3.2): serial lines, the FIFO, the
//! local IPC channels, and the input of the inner `auth` digest.
//!
//! ```text
//! frame = ">>>\n" *line "<<<\n"
//! line  = [ "(" typedigit ")" ] name "=" value "\n"   ; prefix only for types 1..4
//! ```
//!
//! Strings turn `\n` into byte 0x13; binary and compressed values are
//! base64; a nested struct at depth `d` is a whole classic frame whose
//! newlines became the byte `SPECIAL[d]`, so it fits on one line.
//!
//! The decoder is tolerant the way the C parser is where real peers rely on
//! it: lines before `>>>` (serial line noise), blank lines, and anything from
//! the end marker or a NUL on are skipped. It is strict about everything
//! that would not re-render identically, because the inner `auth` digest is
//! computed over the re-rendered text.

use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::msg::{FieldType, Message, Value};
use crate::{base64, list, MAXMSG, MAX_DEPTH};

/// Start marker line of a classic frame.
pub const START: &[u8] = b">>>\n";
/// End marker line of a classic frame.
pub const END: &[u8] = b"<<<\n";
/// Replaces `\n` inside string values.
const NL_SUB: u8 = 0x13;
/// Replaces `\n` inside a struct rendered at depth `d` (index).
const SPECIAL: [u8; MAX_DEPTH] = [
    20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 15, 16, 17, 18,
];

/// Encodes `msg` as a classic frame, `>>>\n` through `<<<\n` (no NUL).
///
/// Meaningful for valid messages ([`Message::validate`]); a string holding
/// byte 0x13 comes back as `\n`, as with the C implementation.
pub fn encode(msg: &Message) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    encode_at(msg, 0, &mut out);
    out
}

fn encode_at(msg: &Message, depth: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(START);
    render_fields(msg, depth, false, out);
    out.extend_from_slice(END);
}

/// The text the inner `auth` digest covers (docs/protocol.md §4.3): the classic
/// lines of every field not named `auth`, without the frame markers.
pub fn auth_input(msg: &Message) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    render_fields(msg, 0, true, &mut out);
    out
}

fn render_fields(msg: &Message, depth: usize, skip_auth: bool, out: &mut Vec<u8>) {
    for f in msg.fields() {
        if skip_auth && f.name == "auth" {
            continue;
        }
        let ty = f.value.field_type();
        if ty != FieldType::String {
            out.extend_from_slice(&[b'(', ty.digit(), b')']);
        }
        out.extend_from_slice(f.name.as_bytes());
        out.push(b'=');
        match &f.value {
            Value::String(v) => out.extend(v.iter().map(|&b| if b == b'\n' { NL_SUB } else { b })),
            Value::Binary(v) | Value::Compressed(v) => out.extend_from_slice(&base64::encode(v)),
            Value::List(items) => out.extend_from_slice(&list::pack(items)),
            Value::Struct(m) => {
                let mut child = Vec::new();
                encode_at(m, depth + 1, &mut child);
                let sym = SPECIAL[depth.min(MAX_DEPTH - 1)];
                out.extend(child.iter().map(|&b| if b == b'\n' { sym } else { b }));
            }
        }
        out.push(b'\n');
    }
}

/// Decodes the first classic frame in `bytes`. Inputs over [`MAXMSG`]
/// bytes are refused.
pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
    decode_limited(bytes, MAXMSG)
}

pub(crate) fn decode_limited(bytes: &[u8], limit: usize) -> Result<Message, DecodeError> {
    if bytes.len() > limit {
        return Err(DecodeError::new(
            0,
            K::TooLarge {
                len: bytes.len(),
                limit,
            },
        ));
    }
    let start = find_start(bytes).ok_or(DecodeError::new(0, K::MissingStart(">>>\\n")))?;
    // A NUL ends the message, like the C string functions the peer uses.
    let (body, nul_end) = match bytes[start..].iter().position(|&b| b == 0) {
        Some(i) => (&bytes[..start + i], true),
        None => (bytes, false),
    };
    let end = if nul_end { End::TopNul } else { End::Top };
    parse_body(body, start + START.len(), 0, 0, end).map(|(m, _)| m)
}

/// Offset of the first `>>>\n` that begins a line.
fn find_start(bytes: &[u8]) -> Option<usize> {
    let mut pos = 0;
    loop {
        if bytes[pos..].starts_with(START) {
            return Some(pos);
        }
        pos += bytes[pos..].iter().position(|&b| b == b'\n')? + 1;
    }
}

/// How a message may end.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    /// Nested struct: exactly `<<<\n`.
    Nested,
    /// Top level: `<<<\n`, or `<<<` at the end of the input.
    Top,
    /// Top level cut at a NUL: also the end of the input, even mid-line.
    TopNul,
}

/// Parses lines of `b` from `pos` up to the end marker; returns the message
/// and the offset just past the end marker. `base` maps offsets in `b` to the
/// caller's buffer.
fn parse_body(
    b: &[u8],
    mut pos: usize,
    base: usize,
    depth: usize,
    end: End,
) -> Result<(Message, usize), DecodeError> {
    let lenient_end = end == End::TopNul;
    let mut msg = Message::new();
    loop {
        let rest = &b[pos..];
        if rest.is_empty() {
            if lenient_end {
                return Ok((msg, pos));
            }
            return Err(DecodeError::new(base + pos, K::MissingEnd("<<<\\n")));
        }
        if rest[0] == b'\n' {
            pos += 1;
            continue;
        }
        if rest.starts_with(END) {
            return Ok((msg, pos + END.len()));
        }
        if end != End::Nested && rest == b"<<<" {
            return Ok((msg, b.len()));
        }
        let line_len = match rest.iter().position(|&c| c == b'\n') {
            Some(n) => n,
            None if lenient_end => rest.len(),
            None => return Err(DecodeError::new(base + b.len(), K::MissingEnd("<<<\\n"))),
        };
        parse_line(&rest[..line_len], base + pos, depth, &mut msg)?;
        pos += line_len;
    }
}

fn parse_line(
    line: &[u8],
    base: usize,
    depth: usize,
    msg: &mut Message,
) -> Result<(), DecodeError> {
    let eq = line
        .iter()
        .position(|&c| c == b'=')
        .ok_or(DecodeError::new(base, K::ExpectedEquals))?;
    let (mut ty, mut name_at) = (FieldType::String, 0);
    if line[0] == b'(' {
        if eq < 3 || line[2] != b')' {
            return Err(DecodeError::new(base, K::ExpectedTypePrefix));
        }
        ty = match FieldType::from_digit(line[1]) {
            Some(FieldType::String) => return Err(DecodeError::new(base + 1, K::StringTypePrefix)),
            Some(t) => t,
            None => return Err(DecodeError::new(base + 1, K::UnknownType(line[1]))),
        };
        name_at = 3;
    }
    let name = crate::msg::check_name(&line[name_at..eq])
        .map_err(|k| DecodeError::new(base + name_at, k))?;
    let vbase = base + eq + 1;
    let raw = &line[eq + 1..];
    let value = match ty {
        FieldType::String => {
            if let Some(i) = raw.iter().position(|&c| c == 0) {
                return Err(DecodeError::new(vbase + i, K::NulInString));
            }
            Value::String(
                raw.iter()
                    .map(|&c| if c == NL_SUB { b'\n' } else { c })
                    .collect(),
            )
        }
        FieldType::Binary => {
            Value::Binary(base64::decode(raw).ok_or(DecodeError::new(vbase, K::BadBase64))?)
        }
        FieldType::Compressed => {
            Value::Compressed(base64::decode(raw).ok_or(DecodeError::new(vbase, K::BadBase64))?)
        }
        FieldType::List => {
            Value::List(list::unpack(raw).map_err(|o| DecodeError::new(vbase + o, K::BadList))?)
        }
        FieldType::Struct => {
            if depth + 1 > MAX_DEPTH {
                return Err(DecodeError::new(vbase, K::TooDeep { max: MAX_DEPTH }));
            }
            let sym = SPECIAL[depth];
            let child: Vec<u8> = raw
                .iter()
                .map(|&c| if c == sym { b'\n' } else { c })
                .collect();
            if !child.starts_with(START) {
                return Err(DecodeError::new(vbase, K::MissingStart(">>>\\n")));
            }
            let (m, used) = parse_body(&child, START.len(), vbase, depth + 1, End::Nested)?;
            if used != child.len() {
                return Err(DecodeError::new(vbase + used, K::TrailingBytes));
            }
            Value::Struct(m)
        }
    };
    msg.push(name, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status() -> Message {
        let mut m = Message::from_pairs([("t", "status"), ("info", "two\nlines")]);
        m.push("u", Value::Binary(vec![0xff, b'\n']));
        m
    }

    #[test]
    fn encodes_prefixes_escapes_and_base64() {
        assert_eq!(
            encode(&status()),
            b">>>\nt=status\ninfo=two\x13lines\n(1)u=/wo=\n<<<\n".to_vec()
        );
    }

    #[test]
    fn tolerant_decoding() {
        let m = status();
        let mut noisy = b"garbage\nmore>>>\n\n".to_vec();
        noisy.extend_from_slice(&encode(&m));
        noisy.push(0);
        noisy.extend_from_slice(b"junk");
        assert_eq!(decode(&noisy), Ok(m.clone()));
        assert_eq!(
            decode(b">>>\nt=status\n\n\ninfo=two\x13lines\n(1)u=/wo=\n<<<"),
            Ok(m.clone())
        );
        assert_eq!(
            decode(b">>>\nt=status\ninfo=two\x13lines\n(1)u=/wo=\0<<<\n"),
            Ok(m)
        );
    }

    #[test]
    fn nested_structs_use_depth_bytes() {
        let mut inner = Message::from_pairs([("a", "x\ny")]);
        let mut innermost = Message::new();
        innermost.push("l", Value::List(vec![b"p".to_vec()]));
        inner.push("s", Value::Struct(innermost));
        let mut m = Message::from_pairs([("t", "x")]);
        m.push("s", Value::Struct(inner));
        let enc = encode(&m);
        assert_eq!(
            enc,
            b">>>\nt=x\n(2)s=>>>\x14a=x\x13y\x14(2)s=>>>\x15(3)l=1:p,\x15<<<\x15\x14<<<\x14\n<<<\n"
                .to_vec()
        );
        assert_eq!(decode(&enc), Ok(m));
    }

    #[test]
    fn typed_errors() {
        let e = |b: &[u8]| decode(b).unwrap_err();
        assert_eq!(e(b"t=x\n"), DecodeError::new(0, K::MissingStart(">>>\\n")));
        assert_eq!(
            e(b">>>\nt=x\n"),
            DecodeError::new(8, K::MissingEnd("<<<\\n"))
        );
        assert_eq!(e(b">>>\nt\n<<<\n"), DecodeError::new(4, K::ExpectedEquals));
        assert_eq!(
            e(b">>>\n(0)t=x\n<<<\n"),
            DecodeError::new(5, K::StringTypePrefix)
        );
        assert_eq!(
            e(b">>>\n(9)t=x\n<<<\n"),
            DecodeError::new(5, K::UnknownType(b'9'))
        );
        assert_eq!(
            e(b">>>\n(1t=x\n<<<\n"),
            DecodeError::new(4, K::ExpectedTypePrefix)
        );
        assert_eq!(e(b">>>\n(1)=x\n<<<\n"), DecodeError::new(7, K::EmptyName));
        assert_eq!(e(b">>>\n(1)u=x\n<<<\n"), DecodeError::new(9, K::BadBase64));
        assert_eq!(
            e(b">>>\n(2)s=x\n<<<\n"),
            DecodeError::new(9, K::MissingStart(">>>\\n"))
        );
        assert_eq!(
            e(b">>>\n(2)s=>>>\x14<<<\x14x\n<<<\n"),
            DecodeError::new(17, K::TrailingBytes)
        );
    }

    #[test]
    fn auth_input_skips_auth_fields_and_markers() {
        let mut m = Message::from_pairs([("t", "x"), ("auth", "1 abc"), ("n", "1")]);
        m.push("auth", Value::String(b"2 def".to_vec()));
        assert_eq!(auth_input(&m), b"t=x\nn=1\n");
    }
}
