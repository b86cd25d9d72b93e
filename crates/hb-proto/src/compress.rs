//! Whole-message compression (docs/protocol.md §3.4), both directions.
//!
//! A sender whose encoded message is too large — in "traditional" mode
//! larger than `compression_threshold`, otherwise at least `MAXMSG` —
//! replaces it by a message of two fields: the compressed encoding in a
//! binary `_compressed_payload` field and the algorithm name in
//! `_compression_algorithm`. The compressed bytes are the message's classic
//! encoding with its terminating NUL (netstring when it holds nested
//! messages or the sender uses `msgfmt netstring`). Receivers inflate it
//! after authentication and parse the result (classic or netstring, no
//! trailer, no second auth check). The algorithms are the two modules 3.0.6
//! ships: `zlib` (RFC 1950 stream) and `bz2` (bzip2, block size 1, work
//! factor 30).

use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::msg::{Message, Value};
use crate::{classic, netstring, MAXMSG, MAX_UNCOMPRESSED};
use std::io::{Read, Write};

/// Name of the binary field holding the compressed message.
pub const PAYLOAD_FIELD: &str = "_compressed_payload";
/// Name of the string field naming the algorithm.
pub const ALGORITHM_FIELD: &str = "_compression_algorithm";

/// A compression module (ha.cf `compression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `zlib` (the default).
    Zlib,
    /// `bz2`.
    Bz2,
}

impl Algorithm {
    /// The module for an ha.cf / wire name.
    pub fn from_name(name: &[u8]) -> Option<Algorithm> {
        match name {
            b"zlib" => Some(Algorithm::Zlib),
            b"bz2" => Some(Algorithm::Bz2),
            _ => None,
        }
    }

    /// The name written in `_compression_algorithm` and ha.cf.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Zlib => "zlib",
            Algorithm::Bz2 => "bz2",
        }
    }

    /// Compresses `data` (cannot fail for in-memory buffers).
    pub fn compress(self, data: &[u8]) -> Vec<u8> {
        match self {
            Algorithm::Zlib => {
                let mut e =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
                let _ = e.write_all(data);
                e.finish().unwrap_or_default()
            }
            Algorithm::Bz2 => {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(1));
                let _ = e.write_all(data);
                e.finish().unwrap_or_default()
            }
        }
    }

    /// Inflates `data`, refusing more than [`MAX_UNCOMPRESSED`] bytes.
    pub fn decompress(self, data: &[u8]) -> Result<Vec<u8>, DecodeError> {
        let mut out = Vec::new();
        let limit = MAX_UNCOMPRESSED as u64 + 1;
        let read = match self {
            Algorithm::Zlib => flate2::read::ZlibDecoder::new(data)
                .take(limit)
                .read_to_end(&mut out),
            Algorithm::Bz2 => bzip2::read::BzDecoder::new(data)
                .take(limit)
                .read_to_end(&mut out),
        };
        read.map_err(|_| DecodeError::new(0, K::BadCompressedData))?;
        if out.len() > MAX_UNCOMPRESSED {
            return Err(DecodeError::new(
                0,
                K::DecompressedTooLarge {
                    limit: MAX_UNCOMPRESSED,
                },
            ));
        }
        Ok(out)
    }
}

/// When a sender compresses (ha.cf `compression`, `compression_threshold`,
/// `traditional_compression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The module.
    pub algorithm: Algorithm,
    /// `compression_threshold` in bytes (ha.cf gives KiB; default 2 KiB).
    pub threshold: usize,
    /// `traditional_compression`: compress every message whose encoding
    /// exceeds the threshold (otherwise only those of `MAXMSG` or more).
    pub traditional: bool,
    /// The sender's `msgfmt` is netstring (the size compared and the
    /// encoding compressed are then the netstring form).
    pub netstring: bool,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            algorithm: Algorithm::Zlib,
            threshold: 2 * 1024,
            traditional: false,
            netstring: false,
        }
    }
}

impl Policy {
    /// The encoding whose size decides and which is compressed: netstring
    /// when configured or when the message nests messages, else classic
    /// with its terminating NUL.
    fn wire_form(&self, msg: &Message) -> Vec<u8> {
        let nested = msg
            .fields()
            .iter()
            .any(|f| matches!(f.value, Value::Struct(_)));
        if self.netstring || nested {
            netstring::encode(msg)
        } else {
            let mut out = classic::encode(msg);
            out.push(0);
            out
        }
    }

    /// The compressed wrapper that replaces `msg` on the wire, or `None`
    /// when `msg` goes out as it is.
    pub fn wrap(&self, msg: &Message) -> Option<Message> {
        let form = self.wire_form(msg);
        let needed = if self.traditional {
            form.len() > self.threshold
        } else {
            form.len() >= MAXMSG
        };
        if !needed || form.len() > MAX_UNCOMPRESSED {
            return None;
        }
        let mut wrapper = Message::new();
        wrapper.push(PAYLOAD_FIELD, Value::Binary(self.algorithm.compress(&form)));
        wrapper.push_str(ALGORITHM_FIELD, self.algorithm.name());
        Some(wrapper)
    }
}

/// Whether `msg` is a whole-message compressed wrapper.
pub fn is_compressed(msg: &Message) -> bool {
    msg.get_binary(PAYLOAD_FIELD).is_some()
}

/// Returns `msg` itself, or, for a compressed wrapper, the inflated and
/// re-parsed message it carries (at most [`MAX_UNCOMPRESSED`] bytes).
pub fn expand(msg: Message) -> Result<Message, DecodeError> {
    let Some(payload) = msg.get_binary(PAYLOAD_FIELD) else {
        return Ok(msg);
    };
    let err = |k| DecodeError::new(0, k);
    let algorithm = msg
        .get(ALGORITHM_FIELD)
        .ok_or(err(K::MissingCompressionAlgorithm))?;
    let Value::String(algorithm) = algorithm else {
        return Err(err(K::MissingCompressionAlgorithm));
    };
    let Some(algo) = Algorithm::from_name(algorithm) else {
        return Err(err(K::UnsupportedCompression(
            String::from_utf8_lossy(algorithm).into_owned(),
        )));
    };
    let inflated = algo.decompress(payload)?;
    decode_uncompressed(&inflated)
}

/// Parses an inflated payload: netstring or classic, trailing NUL allowed.
fn decode_uncompressed(bytes: &[u8]) -> Result<Message, DecodeError> {
    if bytes.starts_with(netstring::START) {
        netstring::decode_limited(bytes, MAX_UNCOMPRESSED).map(|(m, _)| m)
    } else {
        classic::decode_limited(bytes, MAX_UNCOMPRESSED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Value;
    use flate2::{write::ZlibEncoder, Compression};
    use std::io::Write;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn wrapper(payload: Vec<u8>, algorithm: &str) -> Message {
        let mut m = Message::new();
        m.push(PAYLOAD_FIELD, Value::Binary(payload));
        m.push_str(ALGORITHM_FIELD, algorithm);
        m
    }

    #[test]
    fn inflates_classic_and_netstring_payloads() {
        let inner = Message::from_pairs([("t", "big"), ("x", "y")]);
        let mut classic_nul = classic::encode(&inner);
        classic_nul.push(0);
        assert_eq!(
            expand(wrapper(zlib(&classic_nul), "zlib")),
            Ok(inner.clone())
        );
        let ns = netstring::encode(&inner);
        assert_eq!(expand(wrapper(zlib(&ns), "zlib")), Ok(inner.clone()));
        assert_eq!(expand(inner.clone()), Ok(inner));
    }

    #[test]
    fn both_algorithms_round_trip_above_the_threshold_only() {
        let mut big = Message::from_pairs([("t", "big")]);
        big.push_str("data", "x".repeat(5000));
        let small = Message::from_pairs([("t", "small")]);
        for algorithm in [Algorithm::Zlib, Algorithm::Bz2] {
            let traditional = Policy {
                algorithm,
                traditional: true,
                ..Policy::default()
            };
            let w = traditional.wrap(&big).expect("5000 bytes > 2 KiB");
            assert_eq!(
                w.get(ALGORITHM_FIELD),
                Some(&Value::String(algorithm.name().into()))
            );
            assert!(w.get_binary(PAYLOAD_FIELD).unwrap().len() < 500);
            assert_eq!(expand(w), Ok(big.clone()));
            assert_eq!(traditional.wrap(&small), None);
            // Not traditional: only MAXMSG or more is compressed.
            let default = Policy {
                algorithm,
                ..Policy::default()
            };
            assert_eq!(default.wrap(&big), None);
        }
    }

    #[test]
    fn bz2_stream_is_bzip2_with_block_size_1() {
        let data = Algorithm::Bz2.compress(b"hello");
        assert!(data.starts_with(b"BZh1"));
        assert_eq!(Algorithm::Bz2.decompress(&data), Ok(b"hello".to_vec()));
    }

    #[test]
    fn reports_unsupported_corrupt_and_oversized() {
        let kind = |m| expand(m).unwrap_err().kind;
        assert_eq!(
            kind(wrapper(vec![1], "lzo")),
            K::UnsupportedCompression("lzo".into())
        );
        assert_eq!(kind(wrapper(vec![1], "bz2")), K::BadCompressedData);
        assert_eq!(kind(wrapper(vec![1, 2, 3], "zlib")), K::BadCompressedData);
        let mut no_alg = Message::new();
        no_alg.push(PAYLOAD_FIELD, Value::Binary(vec![]));
        assert_eq!(kind(no_alg), K::MissingCompressionAlgorithm);
        let bomb = zlib(&vec![b'a'; MAX_UNCOMPRESSED + 10]);
        assert_eq!(
            kind(wrapper(bomb, "zlib")),
            K::DecompressedTooLarge {
                limit: MAX_UNCOMPRESSED
            }
        );
    }
}
