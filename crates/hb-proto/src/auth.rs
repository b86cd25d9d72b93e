//! Packet authentication (docs/protocol.md §4): crc, HMAC-MD5 and HMAC-SHA1
//! digests, the key ring from `authkeys`, signing and verifying packets.
//!
//! Two digests protect a message. The *trailer* (docs/protocol.md §4.4) covers the raw
//! netstring body of a UDP datagram and is what a C receiver checks there.
//! The inner `auth` field (docs/protocol.md §4.3) covers the classic rendering of the other
//! fields and is checked for classic input (serial line, classic datagram).
//! [`KeyRing::seal`] produces a datagram; [`KeyRing::open`] accepts either
//! form and reproduces the C receiver's quirks, so both kinds of node accept
//! exactly the same packets.

use crate::error::DecodeError;
use crate::msg::{Message, Value};
use crate::{classic, compress, netstring, MAXMSG};
use md5::Md5;
use sha1::{Digest, Sha1};
use thiserror::Error;

/// A digest method named in `authkeys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// CRC-32 (polynomial 0x04C11DB7, not reflected, init 0, final xor); no key.
    Crc,
    /// HMAC-MD5.
    Md5,
    /// HMAC-SHA1.
    Sha1,
}

impl Method {
    /// The method for its `authkeys` name (`crc`, `md5`, `sha1`; case-sensitive
    /// like the C plugin loader).
    pub fn from_name(name: &str) -> Option<Method> {
        match name {
            "crc" => Some(Method::Crc),
            "md5" => Some(Method::Md5),
            "sha1" => Some(Method::Sha1),
            _ => None,
        }
    }

    /// The `authkeys` name of the method.
    pub fn name(self) -> &'static str {
        match self {
            Method::Crc => "crc",
            Method::Md5 => "md5",
            Method::Sha1 => "sha1",
        }
    }

    /// Whether `authkeys` must give a key for this method.
    pub fn needs_key(self) -> bool {
        !matches!(self, Method::Crc)
    }
}

/// Number of `authkeys` slots (indices 0..=15).
pub const AUTH_SLOTS: usize = 16;

/// The digest of `data` as lowercase hex text: HMAC for md5/sha1, CRC-32
/// (key ignored) without leading zeros for crc (docs/protocol.md §4.2).
pub fn digest(method: Method, key: &[u8], data: &[u8]) -> String {
    match method {
        Method::Crc => format!("{:x}", crc32(data)),
        Method::Md5 => hex(&hmac::<Md5>(key, data)),
        Method::Sha1 => hex(&hmac::<Sha1>(key, data)),
    }
}

/// The CRC-32 of docs/protocol.md §4.2: polynomial 0x04C11DB7, MSB first, initial
/// value 0, final complement, no length suffix.
pub fn crc32(data: &[u8]) -> u32 {
    let crc = data.iter().fold(0u32, |crc, &b| {
        (crc << 8) ^ CRC_TABLE[(((crc >> 24) as u8) ^ b) as usize]
    });
    !crc
}

static CRC_TABLE: [u32; 256] = crc_table();

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 0x8000_0000 != 0 {
                (c << 1) ^ 0x04C1_1DB7
            } else {
                c << 1
            };
            bit += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

/// HMAC (RFC 2104) over a hash with a 64-byte block, which MD5 and SHA-1
/// both have.
fn hmac<D: Digest>(key: &[u8], data: &[u8]) -> Vec<u8> {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        let h = D::digest(key);
        k[..h.len()].copy_from_slice(&h);
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = D::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(data);
    let inner = inner.finalize();
    let mut outer = D::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Why a key ring cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthError {
    /// An index outside 0..=15.
    #[error("authkeys index {0} out of range (0..15)")]
    IndexOutOfRange(u8),
    /// The same index given twice.
    #[error("authkeys index {0} defined twice")]
    DuplicateIndex(u8),
    /// The active (`auth N`) index has no method.
    #[error("auth {0} selected but no key with index {0} is defined")]
    ActiveMissing(u8),
    /// md5/sha1 without a key.
    #[error("authkeys index {0}: {1} needs a key")]
    MissingKey(u8, &'static str),
}

/// Why a received packet was dropped. [`PacketError::reason`] gives a short
/// stable label for counters.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PacketError {
    /// Larger than [`MAXMSG`].
    #[error("packet of {0} bytes exceeds the {max} byte limit", max = MAXMSG)]
    TooLarge(usize),
    /// Not a parseable message (also: bad compressed payload).
    #[error(transparent)]
    Malformed(#[from] DecodeError),
    /// Netstring body without the mandatory trailer.
    #[error("netstring packet without an authentication trailer")]
    MissingTrailer,
    /// Trailer present but not `<len>:<index> <digest>,`.
    #[error("garbled authentication trailer")]
    BadTrailer,
    /// The packet names an index with no method in our authkeys.
    #[error("packet signed with authkeys index {0}, which is not configured here")]
    UnknownKeyIndex(u8),
    /// The digest does not match: wrong key, or a modified packet.
    #[error("authentication failed: digest mismatch (different authkeys or corrupted packet)")]
    DigestMismatch,
    /// Classic input without an `auth` field.
    #[error("classic message without an auth field")]
    MissingInnerAuth,
    /// Classic input whose `auth` field is not `<index> <digest>`.
    #[error("classic message with a garbled auth field")]
    BadInnerAuth,
}

impl PacketError {
    /// A short, stable, lowercase label (for drop counters and logs).
    pub fn reason(&self) -> &'static str {
        match self {
            PacketError::TooLarge(_) => "too_large",
            PacketError::Malformed(_) => "malformed",
            PacketError::MissingTrailer => "missing_trailer",
            PacketError::BadTrailer => "bad_trailer",
            PacketError::UnknownKeyIndex(_) => "unknown_key_index",
            PacketError::DigestMismatch => "digest_mismatch",
            PacketError::MissingInnerAuth => "missing_inner_auth",
            PacketError::BadInnerAuth => "bad_inner_auth",
        }
    }
}

/// The `authkeys` of a node: up to 16 `(method, key)` slots and the active
/// index used for signing.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyRing {
    active: u8,
    slots: [Option<(Method, Vec<u8>)>; AUTH_SLOTS],
}

impl std::fmt::Debug for KeyRing {
    // Keys are secrets: never let them reach a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let slots: Vec<(usize, &str)> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|(m, _)| (i, m.name())))
            .collect();
        f.debug_struct("KeyRing")
            .field("active", &self.active)
            .field("slots", &slots)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// A key ring from `(index, method, key)` entries; `active` must be one
    /// of them. A crc entry's key is ignored (and dropped).
    pub fn new(active: u8, keys: Vec<(u8, Method, Vec<u8>)>) -> Result<KeyRing, AuthError> {
        let mut slots: [Option<(Method, Vec<u8>)>; AUTH_SLOTS] = Default::default();
        for (index, method, key) in keys {
            let slot = slots
                .get_mut(usize::from(index))
                .ok_or(AuthError::IndexOutOfRange(index))?;
            if slot.is_some() {
                return Err(AuthError::DuplicateIndex(index));
            }
            if method.needs_key() && key.is_empty() {
                return Err(AuthError::MissingKey(index, method.name()));
            }
            let key = if method.needs_key() { key } else { Vec::new() };
            *slot = Some((method, key));
        }
        if usize::from(active) >= AUTH_SLOTS {
            return Err(AuthError::IndexOutOfRange(active));
        }
        if slots[usize::from(active)].is_none() {
            return Err(AuthError::ActiveMissing(active));
        }
        Ok(KeyRing { active, slots })
    }

    /// The index used for signing (`auth N`).
    pub fn active(&self) -> u8 {
        self.active
    }

    /// The method configured at `index`, if any.
    pub fn method(&self, index: u8) -> Option<Method> {
        self.slot(index).map(|(m, _)| *m)
    }

    fn slot(&self, index: u8) -> Option<&(Method, Vec<u8>)> {
        self.slots.get(usize::from(index))?.as_ref()
    }

    fn active_slot(&self) -> &(Method, Vec<u8>) {
        // `new` guarantees the active slot exists; the fallback keeps this
        // total without a panic path.
        const NONE: &(Method, Vec<u8>) = &(Method::Crc, Vec::new());
        self.slot(self.active).unwrap_or(NONE)
    }

    fn sign(&self, data: &[u8]) -> String {
        let (method, key) = self.active_slot();
        format!("{} {}", self.active, digest(*method, key, data))
    }

    /// Sets the inner `auth` field (docs/protocol.md §4.3) to `"<N> <digest>"`
    /// over the classic rendering of every other field: replaces the first
    /// existing `auth` field in place, or appends one at the end.
    pub fn add_inner_auth(&self, msg: &mut Message) {
        let value = self.sign(&classic::auth_input(msg));
        msg.set_str("auth", value);
    }

    /// A ready-to-send datagram: the netstring body of `msg` followed by its
    /// trailer (docs/protocol.md §4.4). Does not add the inner `auth` field (call
    /// [`KeyRing::add_inner_auth`] first, as a C node does).
    pub fn seal(&self, msg: &Message) -> Vec<u8> {
        let mut out = netstring::encode(msg);
        let trailer = self.sign(&out);
        out.extend_from_slice(trailer.len().to_string().as_bytes());
        out.push(b':');
        out.extend_from_slice(trailer.as_bytes());
        out.push(b',');
        out
    }

    /// Verifies and decodes a received packet (docs/protocol.md §4.5).
    ///
    /// The `"<index> <digest>"` text of a trailer or inner `auth` field must
    /// be exactly as a sender writes it (one space, nothing after the
    /// digest).
    ///
    /// * Netstring (`###\n`): the trailer is mandatory and is checked with
    ///   the method of the index it names but the key of *our active*
    ///   entry (the C receiver's quirk); the inner `auth` field is neither
    ///   required nor checked.
    /// * Classic (`>>>\n`, possibly after noise lines): the **last** `auth`
    ///   field is checked over the re-rendered fields, with the method and
    ///   key of the index it names.
    ///
    /// Bytes after the trailer or frame (e.g. a NUL) are ignored. A
    /// whole-message compressed packet is inflated after verification.
    pub fn open(&self, packet: &[u8]) -> Result<Message, PacketError> {
        if packet.len() > MAXMSG {
            return Err(PacketError::TooLarge(packet.len()));
        }
        let msg = if packet.starts_with(netstring::START) {
            self.open_netstring(packet)?
        } else {
            self.open_classic(packet)?
        };
        Ok(compress::expand(msg)?)
    }

    fn open_netstring(&self, packet: &[u8]) -> Result<Message, PacketError> {
        let (msg, body_len) = netstring::decode_prefix(packet)?;
        let rest = &packet[body_len..];
        if rest.iter().all(|&b| b == 0) {
            return Err(PacketError::MissingTrailer);
        }
        let (range, _) = netstring::peel(rest, 0).map_err(|_| PacketError::BadTrailer)?;
        let (index, token) = parse_auth_value(&rest[range]).ok_or(PacketError::BadTrailer)?;
        let index = u8::try_from(index).map_err(|_| PacketError::BadTrailer)?;
        let (method, _) = self
            .slot(index)
            .ok_or(PacketError::UnknownKeyIndex(index))?;
        let (_, key) = self.active_slot();
        if !ct_eq(digest(*method, key, &packet[..body_len]).as_bytes(), token) {
            return Err(PacketError::DigestMismatch);
        }
        Ok(msg)
    }

    fn open_classic(&self, packet: &[u8]) -> Result<Message, PacketError> {
        let msg = classic::decode(packet)?;
        let auth = msg
            .fields()
            .iter()
            .rev()
            .find(|f| f.name == "auth")
            .ok_or(PacketError::MissingInnerAuth)?;
        let Value::String(value) = &auth.value else {
            return Err(PacketError::BadInnerAuth);
        };
        let (index, token) = parse_auth_value(value).ok_or(PacketError::BadInnerAuth)?;
        let index = u8::try_from(index).map_err(|_| PacketError::BadInnerAuth)?;
        let (method, key) = self
            .slot(index)
            .ok_or(PacketError::UnknownKeyIndex(index))?;
        if !ct_eq(
            digest(*method, key, &classic::auth_input(&msg)).as_bytes(),
            token,
        ) {
            return Err(PacketError::DigestMismatch);
        }
        Ok(msg)
    }
}

/// Compares a computed digest with a received one in time that depends only
/// on the lengths (public: fixed per method), never on where they differ, so
/// the response time of a node cannot guide a forger byte by byte.
pub fn ct_eq(expected: &[u8], received: &[u8]) -> bool {
    if expected.len() != received.len() {
        return false;
    }
    let diff = expected
        .iter()
        .zip(received)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    // Keep the optimiser from turning the fold into an early exit.
    std::hint::black_box(diff) == 0
}

/// Parses `"<index> <token>"` exactly as a sender writes it (`"%d %s"`):
/// decimal index without leading zeros, one space, a non-empty token without
/// blanks, nothing else. The C receiver's `sscanf` would also take other
/// blanks or trailing words; no real sender produces those, and refusing
/// them means no byte of an accepted trailer can have been altered.
fn parse_auth_value(v: &[u8]) -> Option<(u32, &[u8])> {
    let digits = v.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 9 || (digits > 1 && v[0] == b'0') {
        return None;
    }
    let index = std::str::from_utf8(&v[..digits]).ok()?.parse().ok()?;
    let token = v[digits..].strip_prefix(b" ")?;
    if token.is_empty() || token.iter().any(|b| b.is_ascii_whitespace() || *b == 0) {
        return None;
    }
    Some((index, token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_check_values() {
        assert_eq!(digest(Method::Crc, b"", b"123456789"), "765e7680");
        assert_eq!(digest(Method::Crc, b"ignored", b""), "ffffffff");
        // Leading zeros are dropped (C "%lx").
        let small = (0u32..100_000)
            .map(|i| i.to_string())
            .find(|s| crc32(s.as_bytes()) < 0x1000_0000)
            .expect("some short input has a CRC below 0x10000000");
        let d = digest(Method::Crc, b"", small.as_bytes());
        assert!(d.len() < 8 && !d.starts_with('0'), "{d}");
        assert_eq!(u32::from_str_radix(&d, 16), Ok(crc32(small.as_bytes())));
    }

    #[test]
    fn hmac_rfc2202_vectors() {
        assert_eq!(
            digest(Method::Md5, b"Jefe", b"what do ya want for nothing?"),
            "750c783e6ab0b503eaa86e310a5db738"
        );
        assert_eq!(
            digest(Method::Sha1, b"Jefe", b"what do ya want for nothing?"),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        // Keys longer than the block are hashed first (RFC 2202 cases 6).
        let key = [0xaau8; 80];
        let data = b"Test Using Larger Than Block-Size Key - Hash Key First";
        assert_eq!(
            digest(Method::Md5, &key, data),
            "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"
        );
        assert_eq!(
            digest(Method::Sha1, &key, data),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112"
        );
    }

    #[test]
    fn key_ring_validation() {
        let k = |v: Vec<(u8, Method, Vec<u8>)>, a| KeyRing::new(a, v);
        assert_eq!(
            k(vec![(16, Method::Crc, vec![])], 16),
            Err(AuthError::IndexOutOfRange(16))
        );
        assert_eq!(
            k(vec![(1, Method::Crc, vec![])], 2),
            Err(AuthError::ActiveMissing(2))
        );
        assert_eq!(
            k(vec![(1, Method::Md5, vec![])], 1),
            Err(AuthError::MissingKey(1, "md5"))
        );
        assert_eq!(
            k(vec![(1, Method::Crc, vec![]), (1, Method::Crc, vec![])], 1),
            Err(AuthError::DuplicateIndex(1))
        );
        let ring = k(
            vec![
                (3, Method::Sha1, b"secret".to_vec()),
                (1, Method::Crc, vec![]),
            ],
            3,
        )
        .unwrap();
        assert_eq!(ring.active(), 3);
        assert_eq!(ring.method(1), Some(Method::Crc));
        assert_eq!(ring.method(2), None);
        assert!(!format!("{ring:?}").contains("secret"));
    }

    fn two_key_ring(active: u8) -> KeyRing {
        KeyRing::new(
            active,
            vec![
                (1, Method::Sha1, b"k1".to_vec()),
                (2, Method::Md5, b"k2".to_vec()),
            ],
        )
        .unwrap()
    }

    #[test]
    fn netstring_uses_own_active_key_classic_uses_received_index() {
        let receiver = two_key_ring(1);
        let sender = two_key_ring(2);
        let mut m = Message::from_pairs([("t", "status"), ("src", "b")]);
        sender.add_inner_auth(&mut m);
        // Netstring: method md5 (index 2) but key of our active entry (k1).
        assert_eq!(
            receiver.open(&sender.seal(&m)),
            Err(PacketError::DigestMismatch)
        );
        let quirk = KeyRing::new(2, vec![(2, Method::Md5, b"k1".to_vec())]).unwrap();
        assert_eq!(receiver.open(&quirk.seal(&m)), Ok(m.clone()));
        // Classic: method and key of the received index.
        assert_eq!(receiver.open(&classic::encode(&m)), Ok(m.clone()));
        // An index we do not have.
        let stranger = KeyRing::new(9, vec![(9, Method::Crc, vec![])]).unwrap();
        let mut s = m.clone();
        stranger.add_inner_auth(&mut s);
        assert_eq!(
            receiver.open(&stranger.seal(&s)),
            Err(PacketError::UnknownKeyIndex(9))
        );
        assert_eq!(
            receiver.open(&classic::encode(&s)),
            Err(PacketError::UnknownKeyIndex(9))
        );
        // Classic input must carry an inner auth; netstring need not.
        let bare = Message::from_pairs([("t", "status")]);
        assert_eq!(
            receiver.open(&classic::encode(&bare)),
            Err(PacketError::MissingInnerAuth)
        );
        assert_eq!(receiver.open(&receiver.seal(&bare)), Ok(bare.clone()));
        let mut garbled = bare.clone();
        garbled.push_str("auth", "1");
        assert_eq!(
            receiver.open(&classic::encode(&garbled)),
            Err(PacketError::BadInnerAuth)
        );
        // The last auth field counts.
        let mut twice = m.clone();
        twice.push_str("auth", "1 0000");
        assert_eq!(
            receiver.open(&classic::encode(&twice)),
            Err(PacketError::DigestMismatch)
        );
    }

    #[test]
    fn open_inflates_compressed_packets_after_verification() {
        use std::io::Write;
        let ring = two_key_ring(1);
        let inner = Message::from_pairs([("t", "big"), ("x", "y")]);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&classic::encode(&inner)).unwrap();
        let mut wrapper = Message::new();
        wrapper.push(compress::PAYLOAD_FIELD, Value::Binary(z.finish().unwrap()));
        wrapper.push_str(compress::ALGORITHM_FIELD, "zlib");
        assert_eq!(ring.open(&ring.seal(&wrapper)), Ok(inner));
        wrapper.set_str(compress::ALGORITHM_FIELD, "lzo");
        let err = ring.open(&ring.seal(&wrapper)).unwrap_err();
        assert!(matches!(
            err,
            PacketError::Malformed(DecodeError {
                kind: crate::DecodeErrorKind::UnsupportedCompression(_),
                ..
            })
        ));
        assert_eq!(err.reason(), "malformed");
        assert_eq!(
            ring.open(&vec![b'#'; MAXMSG + 1]),
            Err(PacketError::TooLarge(MAXMSG + 1))
        );
    }

    #[test]
    fn constant_time_compare() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(ct_eq(b"", b""));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"xbc"));
        assert!(!ct_eq(b"abc", b"ab"));
    }

    #[test]
    fn auth_value_parsing_is_exact() {
        assert_eq!(parse_auth_value(b"1 abc"), Some((1, &b"abc"[..])));
        assert_eq!(parse_auth_value(b"15 abc"), Some((15, &b"abc"[..])));
        for bad in [
            &b"1"[..],
            b"x abc",
            b"1 ",
            b" 1 abc",
            b"1  abc",
            b"1\nabc",
            b"1\tabc",
            b"01 abc",
            b"1 abc def",
            b"1 abc\n",
        ] {
            assert_eq!(
                parse_auth_value(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
