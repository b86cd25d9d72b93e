//! A bounded, non-blocking outgoing frame queue for one child channel.
//!
//! The master must never block on a child (docs/behaviour.md §1.4): a write child
//! stuck on a dead medium must not stall heartbeats on the others. Whole
//! frames are queued and written as far as the socket takes them; when the
//! queue is full, new frames are dropped whole (never cut), so the stream
//! stays well framed.
//!
//! Two classes of frames (docs/reliability.md, hardening): *urgent* ones —
//! the engine's heartbeats, ACKs, retransmission requests and
//! retransmissions — go ahead of every queued *bulk* frame (client and
//! resource messages; only a frame already partly written stays first) and
//! have their own limit, so client traffic can neither delay nor push them
//! out. The master pauses API clients long before the bulk limit is
//! reached ([`PAUSE_AT`]).

use std::collections::VecDeque;
use std::io::{ErrorKind, Write};

/// Queue limit per channel and class.
pub const MAX_PENDING: usize = 1 << 20;
/// Bulk bytes queued on a channel above which the master stops reading
/// from API clients (docs/behaviour.md §7.9 pausing, applied to local congestion).
pub const PAUSE_AT: usize = 256 * 1024;
/// Bulk bytes below which paused clients are resumed.
pub const RESUME_AT: usize = 64 * 1024;

#[derive(Debug)]
struct Queued {
    bytes: Vec<u8>,
    urgent: bool,
}

/// Outgoing queue over any non-blocking writer.
#[derive(Debug)]
pub struct Outbox<W: Write> {
    writer: W,
    queue: VecDeque<Queued>,
    /// Bytes of the front frame already written.
    written: usize,
    bulk_bytes: usize,
    urgent_bytes: usize,
    /// Frames dropped because the queue was full.
    pub dropped: u64,
    /// Urgent frames dropped because even their own limit was reached (a
    /// channel that takes nothing at all).
    pub dropped_urgent: u64,
    /// The channel failed (peer gone); nothing more is written.
    pub broken: bool,
}

impl<W: Write> Outbox<W> {
    /// Wraps a non-blocking writer.
    pub fn new(writer: W) -> Outbox<W> {
        Outbox {
            writer,
            queue: VecDeque::new(),
            written: 0,
            bulk_bytes: 0,
            urgent_bytes: 0,
            dropped: 0,
            dropped_urgent: 0,
            broken: false,
        }
    }

    /// The wrapped writer (for event registration).
    pub fn writer_mut(&mut self) -> &mut W {
        &mut self.writer
    }

    /// Queues one whole bulk frame and writes what the channel accepts now.
    pub fn push(&mut self, frame: &[u8]) {
        if self.broken {
            return;
        }
        if self.bulk_bytes + frame.len() > MAX_PENDING {
            self.dropped += 1;
            return;
        }
        self.bulk_bytes += frame.len();
        self.queue.push_back(Queued {
            bytes: frame.to_vec(),
            urgent: false,
        });
        self.flush();
    }

    /// Queues one whole urgent frame ahead of every bulk frame not yet
    /// started, after the urgent ones already queued; writes what the
    /// channel accepts now.
    pub fn push_urgent(&mut self, frame: &[u8]) {
        if self.broken {
            return;
        }
        if self.urgent_bytes + frame.len() > MAX_PENDING {
            self.dropped_urgent += 1;
            return;
        }
        let started = usize::from(self.written > 0 && !self.queue.is_empty());
        let at = started
            + self
                .queue
                .iter()
                .skip(started)
                .take_while(|q| q.urgent)
                .count();
        self.urgent_bytes += frame.len();
        self.queue.insert(
            at,
            Queued {
                bytes: frame.to_vec(),
                urgent: true,
            },
        );
        self.flush();
    }

    /// Writes queued bytes until the channel would block.
    pub fn flush(&mut self) {
        while !self.broken {
            let Some(front) = self.queue.front() else {
                return;
            };
            match self.writer.write(&front.bytes[self.written..]) {
                Ok(0) => self.broken = true,
                Ok(n) => {
                    self.written += n;
                    if self.written >= front.bytes.len() {
                        let len = front.bytes.len();
                        if front.urgent {
                            self.urgent_bytes -= len;
                        } else {
                            self.bulk_bytes -= len;
                        }
                        self.queue.pop_front();
                        self.written = 0;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => self.broken = true,
            }
        }
    }

    /// Frames not yet completely written.
    pub fn frames_pending(&self) -> usize {
        self.queue.len()
    }

    /// Bytes still queued.
    pub fn pending(&self) -> usize {
        self.bulk_bytes + self.urgent_bytes - self.written
    }

    /// Bulk bytes queued (what decides pausing API clients).
    pub fn bulk_pending(&self) -> usize {
        self.bulk_bytes
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

    #[test]
    fn urgent_frames_overtake_bulk_and_are_never_pushed_out_by_it() {
        let mut o = Outbox::new(Tight {
            got: vec![],
            room: 2,
        });
        o.push(b"BULK1");
        o.push(b"BULK2");
        // BULK1 is partly written: it stays first; the heartbeat comes next.
        o.push_urgent(b"hb1");
        o.push_urgent(b"hb2");
        o.writer_mut().room = 1000;
        o.flush();
        assert_eq!(o.writer_mut().got, b"BULK1hb1hb2BULK2");
        // A full bulk queue drops bulk frames, never urgent ones.
        o.writer_mut().room = 0;
        o.push(&vec![1u8; MAX_PENDING]);
        o.push(b"more bulk");
        assert_eq!(o.dropped, 1);
        o.push_urgent(b"hb3");
        assert_eq!(o.dropped_urgent, 0);
        assert_eq!(o.bulk_pending(), MAX_PENDING);
        o.writer_mut().room = 3;
        o.flush();
        assert!(o.writer_mut().got.ends_with(b"hb3"), "urgent first");
    }
}
