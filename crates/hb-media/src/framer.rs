//! Classic-frame reassembly for serial lines (docs/protocol.md §11.4).
//!
//! A serial line is a byte stream without any delimiter but the text of the
//! classic encoding itself: the receiver splits it into `\n`-terminated
//! lines, skips lines until one starting with `>>>`, then collects lines
//! until one starting with `<<<`. The frame handed on is the collected lines,
//! each followed by `\n` (so it is `>>>\n...<<<\n` for a clean line).
//! As in C, a NUL byte ends a line's content (the rest of the line is lost)
//! and a `>>>` line inside a frame is ordinary content.

use std::collections::VecDeque;

const START: &[u8] = b">>>";
const END: &[u8] = b"<<<";

/// Turns line bytes into frames; pure, so it can be tested without a tty.
#[derive(Debug)]
pub struct SerialFramer {
    max: usize,
    line: Vec<u8>,
    line_too_long: bool,
    frame: Vec<u8>,
    in_frame: bool,
    ready: VecDeque<Vec<u8>>,
    dropped: usize,
}

impl SerialFramer {
    /// A framer that drops frames (and lines) longer than `max` bytes.
    pub fn new(max: usize) -> Self {
        SerialFramer {
            max,
            line: Vec::new(),
            line_too_long: false,
            frame: Vec::new(),
            in_frame: false,
            ready: VecDeque::new(),
            dropped: 0,
        }
    }

    /// Feeds bytes read from the line.
    pub fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                self.end_line();
            } else if self.line.len() < self.max {
                self.line.push(b);
            } else {
                self.line_too_long = true;
            }
        }
    }

    /// The next complete frame, oldest first.
    pub fn pop_frame(&mut self) -> Option<Vec<u8>> {
        self.ready.pop_front()
    }

    /// True if a complete frame is waiting.
    pub fn has_frame(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Number of frames dropped for exceeding the limit since the last call.
    pub fn take_dropped(&mut self) -> usize {
        std::mem::take(&mut self.dropped)
    }

    fn end_line(&mut self) {
        let mut line = std::mem::take(&mut self.line);
        let too_long = std::mem::take(&mut self.line_too_long);
        if let Some(nul) = line.iter().position(|&b| b == 0) {
            line.truncate(nul);
        }
        if !self.in_frame {
            if line.starts_with(START) && !too_long {
                self.in_frame = true;
                self.frame.clear();
                self.frame.extend_from_slice(&line);
                self.frame.push(b'\n');
            }
            return;
        }
        if too_long || self.frame.len() + line.len() + 1 > self.max {
            self.in_frame = false;
            self.frame.clear();
            self.dropped += 1;
            return;
        }
        self.frame.extend_from_slice(&line);
        self.frame.push(b'\n');
        if line.starts_with(END) {
            self.in_frame = false;
            self.ready.push_back(std::mem::take(&mut self.frame));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(f: &mut SerialFramer) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| f.pop_frame()).collect()
    }

    #[test]
    fn skips_noise_and_reassembles_split_frames() {
        let mut f = SerialFramer::new(1024);
        let stream = b"garbage\nmore<<<\n>>>\nt=status\nst=active\n<<<\nnoise\n>>>\nt=x\n<<<\n";
        for chunk in stream.chunks(3) {
            f.push(chunk);
        }
        assert_eq!(
            frames(&mut f),
            vec![
                b">>>\nt=status\nst=active\n<<<\n".to_vec(),
                b">>>\nt=x\n<<<\n".to_vec()
            ]
        );
    }

    #[test]
    fn incomplete_frame_is_held_back() {
        let mut f = SerialFramer::new(1024);
        f.push(b">>>\nt=status\n<<");
        assert!(!f.has_frame());
        f.push(b"<\n");
        assert_eq!(f.pop_frame(), Some(b">>>\nt=status\n<<<\n".to_vec()));
    }

    #[test]
    fn start_and_end_lines_are_kept_verbatim_and_nul_cuts_a_line() {
        let mut f = SerialFramer::new(1024);
        f.push(b">>>junk\na=b\0hidden\n>>>\n<<<tail\n");
        assert_eq!(
            f.pop_frame(),
            Some(b">>>junk\na=b\n>>>\n<<<tail\n".to_vec())
        );
    }

    #[test]
    fn oversize_frame_is_dropped_and_counted_then_recovers() {
        let mut f = SerialFramer::new(16);
        f.push(b">>>\n0123456789abcdef\n<<<\n>>>\nk=v\n<<<\n");
        assert_eq!(f.take_dropped(), 1);
        assert_eq!(frames(&mut f), vec![b">>>\nk=v\n<<<\n".to_vec()]);
        assert_eq!(f.take_dropped(), 0);
    }
}
