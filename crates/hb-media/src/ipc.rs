//! The MCP ⇄ child channel framing (daemon.md §1.4): an 8-byte header of
//! `i32 length` and `u32 magic 0xABCD`, little-endian, then `length` bytes.
//!
//! A private minimal copy: the shared codec (`hb_proto::ipc`) was not merged
//! when this crate was written. Swap to it once it lands.

/// Magic number of every frame header.
pub const MAGIC: u32 = 0xABCD;
/// Header length in bytes.
pub const HEADER_LEN: usize = 8;
/// Largest payload accepted from the channel (heartbeat's 2 MiB message limit).
pub const MAX_FRAME: usize = 2 * 1024 * 1024;

/// Frames `payload` for the channel.
pub fn encode_frame(payload: &[u8]) -> Vec<u8> {
    let len = i32::try_from(payload.len()).unwrap_or(i32::MAX);
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&MAGIC.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// A corrupt header: the channel cannot be resynchronised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The magic number is wrong.
    #[error("bad frame magic {0:#x}")]
    BadMagic(u32),
    /// The length is negative or above [`MAX_FRAME`].
    #[error("bad frame length {0}")]
    BadLength(i32),
}

/// Reassembles frames from a byte stream fed in arbitrary pieces.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
}

impl FrameDecoder {
    /// Appends bytes read from the channel.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Takes the next complete payload, if any.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        let Some(header) = self.buf.get(..HEADER_LEN) else {
            return Ok(None);
        };
        let mut len4 = [0u8; 4];
        let mut magic4 = [0u8; 4];
        len4.copy_from_slice(&header[..4]);
        magic4.copy_from_slice(&header[4..]);
        let (len, magic) = (i32::from_le_bytes(len4), u32::from_le_bytes(magic4));
        if magic != MAGIC {
            return Err(FrameError::BadMagic(magic));
        }
        let size = usize::try_from(len)
            .ok()
            .filter(|n| *n <= MAX_FRAME)
            .ok_or(FrameError::BadLength(len))?;
        if self.buf.len() < HEADER_LEN + size {
            return Ok(None);
        }
        let payload = self.buf[HEADER_LEN..HEADER_LEN + size].to_vec();
        self.buf.drain(..HEADER_LEN + size);
        Ok(Some(payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout_is_len_then_magic_little_endian() {
        let f = encode_frame(b"abc");
        assert_eq!(&f[..8], &[3, 0, 0, 0, 0xCD, 0xAB, 0, 0]);
        assert_eq!(&f[8..], b"abc");
    }

    #[test]
    fn decodes_frames_split_at_every_byte() {
        let mut stream = encode_frame(b"first");
        stream.extend(encode_frame(b""));
        stream.extend(encode_frame(b"third one"));
        let mut d = FrameDecoder::default();
        let mut got = Vec::new();
        for b in &stream {
            d.push(std::slice::from_ref(b));
            while let Some(p) = d.next_frame().expect("valid stream") {
                got.push(p);
            }
        }
        assert_eq!(
            got,
            vec![b"first".to_vec(), Vec::new(), b"third one".to_vec()]
        );
    }

    #[test]
    fn rejects_bad_magic_and_length() {
        let mut d = FrameDecoder::default();
        d.push(&[1, 0, 0, 0, 0xCE, 0xAB, 0, 0, b'x']);
        assert_eq!(d.next_frame(), Err(FrameError::BadMagic(0xABCE)));
        let mut d = FrameDecoder::default();
        d.push(&(-1i32).to_le_bytes());
        d.push(&MAGIC.to_le_bytes());
        assert_eq!(d.next_frame(), Err(FrameError::BadLength(-1)));
    }
}
