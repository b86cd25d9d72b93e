//! Framing of the local IPC channels (docs/behaviour.md §1.4, §7.2): the MCP ⇄ child
//! socketpairs and the API socket.
//!
//! Each message is an 8-byte header — payload length as `i32` and the magic
//! `0xABCD` as `u32`, both little-endian (host order on the platforms we
//! build for) — followed by the payload. A wrong magic means the stream is
//! out of step; the peer must drop the connection, so [`FrameDecoder`]
//! reports it and stays failed.

use crate::MAXMSG;
use thiserror::Error;

/// The magic number of every frame header.
pub const MAGIC: u32 = 0xABCD;
/// Header size in bytes.
pub const HEADER_LEN: usize = 8;
/// Largest payload accepted.
pub const MAX_PAYLOAD: usize = MAXMSG;

/// Why an IPC stream is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum FrameError {
    /// The header's magic is not 0xABCD: the stream is corrupt.
    #[error("IPC frame magic {0:#x} is not 0xabcd: channel out of step, drop it")]
    BadMagic(u32),
    /// A negative length.
    #[error("IPC frame with negative length {0}")]
    NegativeLength(i32),
    /// A length above [`MAX_PAYLOAD`].
    #[error("IPC frame of {0} bytes exceeds the {max} byte limit", max = MAX_PAYLOAD)]
    TooLarge(usize),
}

/// Header plus payload. Payloads over `i32::MAX` bytes cannot be framed;
/// callers keep to [`MAX_PAYLOAD`].
pub fn encode_frame(payload: &[u8]) -> Vec<u8> {
    let len = i32::try_from(payload.len()).unwrap_or(i32::MAX);
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Splits a byte stream into frame payloads, however the reads cut it.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    failed: Option<FrameError>,
}

impl FrameDecoder {
    /// An empty decoder.
    pub fn new() -> FrameDecoder {
        FrameDecoder::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed.is_none() {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// Bytes buffered but not yet returned as a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete payload, `Ok(None)` when more bytes are needed. After
    /// an error every call returns the same error.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let Some(header) = self.buf.get(..HEADER_LEN) else {
            return Ok(None);
        };
        let len = i32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let magic = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let check = if magic != MAGIC {
            Err(FrameError::BadMagic(magic))
        } else {
            match usize::try_from(len) {
                Err(_) => Err(FrameError::NegativeLength(len)),
                Ok(n) if n > MAX_PAYLOAD => Err(FrameError::TooLarge(n)),
                Ok(n) => Ok(n),
            }
        };
        let len = match check {
            Ok(n) => n,
            Err(e) => {
                self.failed = Some(e);
                self.buf = Vec::new();
                return Err(e);
            }
        };
        if self.buf.len() < HEADER_LEN + len {
            return Ok(None);
        }
        let payload = self.buf[HEADER_LEN..HEADER_LEN + len].to_vec();
        self.buf.drain(..HEADER_LEN + len);
        Ok(Some(payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout() {
        assert_eq!(
            encode_frame(b"ab"),
            [2, 0, 0, 0, 0xcd, 0xab, 0, 0, b'a', b'b']
        );
    }

    #[test]
    fn reassembles_across_reads_and_splits_batches() {
        let mut stream = encode_frame(b"first");
        stream.extend(encode_frame(b""));
        stream.extend(encode_frame(&[7u8; 1000]));
        let mut d = FrameDecoder::new();
        let mut got = Vec::new();
        for chunk in stream.chunks(3) {
            d.push(chunk);
            while let Some(p) = d.next_frame().unwrap() {
                got.push(p);
            }
        }
        assert_eq!(got, vec![b"first".to_vec(), vec![], vec![7u8; 1000]]);
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn rejects_corrupt_headers_for_good() {
        let mut d = FrameDecoder::new();
        d.push(&[1, 0, 0, 0, 0xcd, 0xab, 0, 1, 0]);
        assert_eq!(d.next_frame(), Err(FrameError::BadMagic(0x0100_abcd)));
        d.push(&encode_frame(b"x"));
        assert_eq!(d.next_frame(), Err(FrameError::BadMagic(0x0100_abcd)));

        let mut d = FrameDecoder::new();
        d.push(&(-1i32).to_le_bytes());
        d.push(&MAGIC.to_le_bytes());
        assert_eq!(d.next_frame(), Err(FrameError::NegativeLength(-1)));

        let mut d = FrameDecoder::new();
        d.push(&(MAX_PAYLOAD as i32 + 1).to_le_bytes());
        d.push(&MAGIC.to_le_bytes());
        assert_eq!(d.next_frame(), Err(FrameError::TooLarge(MAX_PAYLOAD + 1)));

        let mut d = FrameDecoder::new();
        d.push(&(MAX_PAYLOAD as i32).to_le_bytes());
        d.push(&MAGIC.to_le_bytes());
        assert_eq!(d.next_frame(), Ok(None), "exactly MAXMSG is allowed");
    }
}
