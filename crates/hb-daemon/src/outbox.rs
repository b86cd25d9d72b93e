//! A bounded, non-blocking outgoing byte queue for one child channel.
//!
//! The master must never block on a child (docs/behaviour.md §1.4): a write child
//! stuck on a dead medium must not stall heartbeats on the others. Whole
//! frames are queued and written as far as the socket takes them; when the
//! queue is full, new frames are dropped whole (never cut), so the stream
//! stays well framed.

use std::collections::VecDeque;
use std::io::{ErrorKind, Write};

/// Queue limit per channel.
pub const MAX_PENDING: usize = 1 << 20;

/// Outgoing queue over any non-blocking writer.
#[derive(Debug)]
pub struct Outbox<W: Write> {
    writer: W,
    pending: VecDeque<u8>,
    /// Bytes still to write of each queued frame, oldest first.
    frames: VecDeque<usize>,
    /// Frames dropped because the queue was full.
    pub dropped: u64,
    /// The channel failed (peer gone); nothing more is written.
    pub broken: bool,
}

impl<W: Write> Outbox<W> {
    /// Wraps a non-blocking writer.
    pub fn new(writer: W) -> Outbox<W> {
        Outbox {
            writer,
            pending: VecDeque::new(),
            frames: VecDeque::new(),
            dropped: 0,
            broken: false,
        }
    }

    /// The wrapped writer (for event registration).
    pub fn writer_mut(&mut self) -> &mut W {
        &mut self.writer
    }

    /// Queues one whole frame and writes what the channel accepts now.
    pub fn push(&mut self, frame: &[u8]) {
        if self.broken {
            return;
        }
        if self.pending.len() + frame.len() > MAX_PENDING {
            self.dropped += 1;
            return;
        }
        self.pending.extend(frame);
        self.frames.push_back(frame.len());
        self.flush();
    }

    /// Writes queued bytes until the channel would block.
    pub fn flush(&mut self) {
        while !self.pending.is_empty() && !self.broken {
            let (a, _) = self.pending.as_slices();
            match self.writer.write(a) {
                Ok(0) => self.broken = true,
                Ok(n) => {
                    self.pending.drain(..n);
                    self.consume_frames(n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => self.broken = true,
            }
        }
    }

    fn consume_frames(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.frames.front_mut() else {
                return;
            };
            if *front > n {
                *front -= n;
                return;
            }
            n -= *front;
            self.frames.pop_front();
        }
    }

    /// Frames not yet completely written.
    pub fn frames_pending(&self) -> usize {
        self.frames.len()
    }

    /// Bytes still queued.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Accepts `room` bytes, then would block.
    struct Tight {
        got: Vec<u8>,
        room: usize,
    }
    impl Write for Tight {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if self.room == 0 {
                return Err(ErrorKind::WouldBlock.into());
            }
            let n = b.len().min(self.room);
            self.room -= n;
            self.got.extend_from_slice(&b[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn partial_writes_resume_and_full_queue_drops_whole_frames() {
        let mut o = Outbox::new(Tight {
            got: vec![],
            room: 3,
        });
        o.push(b"abcdef");
        assert_eq!(o.writer_mut().got, b"abc");
        assert_eq!(o.pending(), 3);
        assert_eq!(o.frames_pending(), 1);
        o.writer_mut().room = 100;
        o.flush();
        assert_eq!(o.writer_mut().got, b"abcdef");
        assert_eq!(o.frames_pending(), 0);
        o.writer_mut().room = 0;
        let big = vec![7u8; MAX_PENDING];
        o.push(&big);
        o.push(b"x");
        assert_eq!(o.dropped, 1);
        assert_eq!(o.pending(), MAX_PENDING);
    }
}
