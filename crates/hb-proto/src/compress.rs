//! Whole-message compression on receive (docs/protocol.md §3.4).
//!
//! A sender whose message would exceed `MAXMSG` (or, in "traditional" mode,
//! a threshold) replaces it by a message carrying the compressed encoding in
//! a binary `_compressed_payload` field and the algorithm name in
//! `_compression_algorithm`. Receivers inflate it after authentication and
//! parse the result (classic or netstring, no trailer, no second auth check).
//! We never compress on send. Only zlib is supported; bz2 is reported as an
//! unsupported algorithm.

use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::msg::Message;
use crate::{classic, netstring, MAX_UNCOMPRESSED};
use std::io::Read;

/// Name of the binary field holding the compressed message.
pub const PAYLOAD_FIELD: &str = "_compressed_payload";
/// Name of the string field naming the algorithm.
pub const ALGORITHM_FIELD: &str = "_compression_algorithm";

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
    let crate::Value::String(algorithm) = algorithm else {
        return Err(err(K::MissingCompressionAlgorithm));
    };
    if algorithm != b"zlib" {
        return Err(err(K::UnsupportedCompression(
            String::from_utf8_lossy(algorithm).into_owned(),
        )));
    }
    let inflated = inflate(payload)?;
    decode_uncompressed(&inflated)
}

/// Inflates a zlib stream, refusing more than [`MAX_UNCOMPRESSED`] bytes.
fn inflate(data: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    let limit = MAX_UNCOMPRESSED as u64 + 1;
    flate2::read::ZlibDecoder::new(data)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|_| DecodeError::new(0, K::BadCompressedData))?;
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
    fn reports_unsupported_corrupt_and_oversized() {
        let kind = |m| expand(m).unwrap_err().kind;
        assert_eq!(
            kind(wrapper(vec![1], "bz2")),
            K::UnsupportedCompression("bz2".into())
        );
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
