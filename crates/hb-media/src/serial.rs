//! Serial media (docs/protocol.md §11.4): tty setup, chunked writes paced to the
//! line speed, and classic-frame reads through [`SerialFramer`].
//!
//! The tty is opened once and used by both children (as the C daemon does
//! after its fork). What goes on the wire must already be a classic frame;
//! converting a netstring packet (re-computing its inner `auth`) needs the
//! keys and therefore belongs to the caller.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::termios::{
    cfsetspeed, tcflush, tcgetattr, tcsendbreak, tcsetattr, BaudRate, ControlFlags, FlushArg,
    InputFlags, LocalFlags, OutputFlags, SetArg, SpecialCharacterIndices,
};

use crate::framer::SerialFramer;
use crate::{MediaError, MAXMSG};

/// Bytes written per chunk.
pub const CHUNK: usize = 512;
/// Time allowed for each chunk to be accepted by the tty.
pub const CHUNK_TIMEOUT: Duration = Duration::from_millis(500);

/// The termios speed for a heartbeat `baud` value.
pub fn baud_rate(baud: u32) -> Option<BaudRate> {
    Some(match baud {
        9600 => BaudRate::B9600,
        19200 => BaudRate::B19200,
        38400 => BaudRate::B38400,
        57600 => BaudRate::B57600,
        115200 => BaudRate::B115200,
        230400 => BaudRate::B230400,
        460800 => BaudRate::B460800,
        _ => return None,
    })
}

/// Pause between two chunks: the time one chunk takes on the line
/// (`512 / (baud / 8)` s, about 213 ms at 19200).
pub fn chunk_delay(baud: u32) -> Duration {
    let bytes_per_sec = f64::from((baud / 8).max(1));
    Duration::from_secs_f64(CHUNK as f64 / bytes_per_sec)
}

/// An open, configured serial line.
#[derive(Debug)]
pub struct SerialLink {
    file: File,
    device: String,
    delay: Duration,
    framer: Mutex<SerialFramer>,
    recv_timeout: Mutex<Option<Duration>>,
    send_timeout: Mutex<Duration>,
}

fn poll_timeout(d: Option<Duration>) -> PollTimeout {
    d.map_or(PollTimeout::NONE, |d| {
        PollTimeout::try_from(d).unwrap_or(PollTimeout::MAX)
    })
}

/// Waits until `fd` is ready for `events`; false on timeout.
fn wait(fd: BorrowedFd<'_>, events: PollFlags, timeout: Option<Duration>) -> io::Result<bool> {
    loop {
        let mut fds = [PollFd::new(fd, events)];
        match poll(&mut fds, poll_timeout(timeout)) {
            Ok(0) => return Ok(false),
            Ok(_) => return Ok(true),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

impl SerialLink {
    /// Opens and sets up the tty (docs/protocol.md §11.4 line setup), flushes it and sends a
    /// break so the other end flushes too.
    pub fn open(label: &str, device: &str, baud: u32) -> Result<Self, MediaError> {
        let speed = baud_rate(baud).ok_or_else(|| MediaError::BadBaud {
            medium: label.to_owned(),
            baud,
        })?;
        let tty_err = |action: &'static str| {
            move |source: io::Error| MediaError::Tty {
                medium: label.to_owned(),
                device: device.to_owned(),
                action,
                source,
            }
        };
        // Raw termios, not the `serialport` crate: of this line setup
        // (docs/protocol.md §11.4) serialport sets only the speed, CS8, no
        // parity and CRTSCTS; it cannot set INPCK, ISTRIP, IGNCR, BRKINT,
        // VMIN/VTIME or send the timed break, it flocks the device, and
        // handing its descriptor to the poll loops below would need `unsafe`
        // (docs/architecture.md, "Crates considered and not used").
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(OFlag::O_NOCTTY.bits())
            .open(device)
            .map_err(tty_err("open"))?;
        let mut t = tcgetattr(&file).map_err(|e| tty_err("get attributes of")(e.into()))?;
        t.input_flags &= !(InputFlags::IGNBRK
            | InputFlags::from_bits_retain(libc::IUCLC)
            | InputFlags::IXANY
            | InputFlags::IXOFF
            | InputFlags::IXON
            | InputFlags::ICRNL
            | InputFlags::PARMRK);
        t.input_flags |=
            InputFlags::INPCK | InputFlags::ISTRIP | InputFlags::IGNCR | InputFlags::BRKINT;
        t.output_flags &= !OutputFlags::OPOST;
        t.control_flags &= !(ControlFlags::CSIZE | ControlFlags::PARENB);
        t.control_flags |=
            ControlFlags::CS8 | ControlFlags::CREAD | ControlFlags::CLOCAL | ControlFlags::CRTSCTS;
        t.local_flags &= !(LocalFlags::ICANON | LocalFlags::ECHO | LocalFlags::ISIG);
        t.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
        t.control_chars[SpecialCharacterIndices::VTIME as usize] = 1;
        cfsetspeed(&mut t, speed).map_err(|e| tty_err("set the speed of")(e.into()))?;
        tcsetattr(&file, SetArg::TCSANOW, &t)
            .map_err(|e| tty_err("set attributes of")(e.into()))?;
        tcflush(&file, FlushArg::TCIOFLUSH).map_err(|e| tty_err("flush")(e.into()))?;
        if let Err(e) = tcsendbreak(&file, 0) {
            log::warn!("{label}: cannot send break on {device}: {e}");
        }
        Ok(SerialLink {
            file,
            device: device.to_owned(),
            delay: chunk_delay(baud),
            framer: Mutex::new(SerialFramer::new(MAXMSG)),
            recv_timeout: Mutex::new(None),
            send_timeout: Mutex::new(CHUNK_TIMEOUT),
        })
    }

    /// The tty (read and write side are the same descriptor).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }

    /// Writes one classic frame in paced chunks.
    pub fn send(&self, label: &str, frame: &[u8]) -> Result<(), MediaError> {
        if !frame.starts_with(b">>>") {
            return Err(MediaError::NotClassicFrame {
                medium: label.to_owned(),
            });
        }
        // As in C, the frame is a C string: a NUL ends it.
        let end = frame.iter().position(|&b| b == 0).unwrap_or(frame.len());
        let timeout = *self.send_timeout.lock().unwrap_or_else(|p| p.into_inner());
        let send_err = |source: io::Error| MediaError::Send {
            medium: label.to_owned(),
            dest: self.device.clone(),
            source,
        };
        let mut chunks = frame[..end].chunks(CHUNK).peekable();
        while let Some(chunk) = chunks.next() {
            if let Err(e) = self.write_chunk(chunk, timeout) {
                // Drop what is queued so the next frame starts clean.
                let _ = tcflush(&self.file, FlushArg::TCIOFLUSH);
                return Err(send_err(e));
            }
            if chunks.peek().is_some() {
                thread::sleep(self.delay);
            }
        }
        Ok(())
    }

    fn write_chunk(&self, mut chunk: &[u8], timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        while !chunk.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if !wait(self.file.as_fd(), PollFlags::POLLOUT, Some(left))? {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "tty write timeout"));
            }
            match (&self.file).write(chunk) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => chunk = &chunk[n..],
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads until one whole frame is available and copies it into `buf`.
    pub fn recv(&self, label: &str, buf: &mut [u8]) -> Result<usize, MediaError> {
        let recv_err = |source: io::Error| MediaError::Recv {
            medium: label.to_owned(),
            source,
        };
        let timeout = *self.recv_timeout.lock().unwrap_or_else(|p| p.into_inner());
        let mut framer = self.framer.lock().unwrap_or_else(|p| p.into_inner());
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if let Some(frame) = framer.pop_frame() {
                let max = buf.len();
                let dst = buf
                    .get_mut(..frame.len())
                    .ok_or(MediaError::FrameTooLarge {
                        medium: label.to_owned(),
                        max,
                    })?;
                dst.copy_from_slice(&frame);
                return Ok(frame.len());
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if !wait(self.file.as_fd(), PollFlags::POLLIN, left).map_err(recv_err)? {
                return Err(recv_err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no frame before the timeout",
                )));
            }
            let mut chunk = [0u8; CHUNK];
            match (&self.file).read(&mut chunk) {
                Ok(0) => return Err(recv_err(io::ErrorKind::UnexpectedEof.into())),
                Ok(n) => framer.push(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(recv_err(e)),
            }
            if framer.take_dropped() > 0 {
                return Err(MediaError::FrameTooLarge {
                    medium: label.to_owned(),
                    max: MAXMSG,
                });
            }
        }
    }

    /// True if a complete frame is already buffered (poll would not report it).
    pub fn has_buffered(&self) -> bool {
        self.framer.lock().map(|f| f.has_frame()).unwrap_or(false)
    }

    /// Receive timeout (`None` = wait forever).
    pub fn set_recv_timeout(&self, t: Option<Duration>) {
        *self.recv_timeout.lock().unwrap_or_else(|p| p.into_inner()) = t;
    }

    /// Per-chunk write timeout (`None` restores the 500 ms default).
    pub fn set_send_timeout(&self, t: Option<Duration>) {
        *self.send_timeout.lock().unwrap_or_else(|p| p.into_inner()) = t.unwrap_or(CHUNK_TIMEOUT);
    }

    /// Sets or clears `O_NONBLOCK` on the tty (nix 0.29's `fcntl` takes a raw fd).
    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        let flags = OFlag::from_bits_retain(fcntl(self.file.as_raw_fd(), FcntlArg::F_GETFL)?);
        let flags = if on {
            flags | OFlag::O_NONBLOCK
        } else {
            flags & !OFlag::O_NONBLOCK
        };
        fcntl(self.file.as_raw_fd(), FcntlArg::F_SETFL(flags))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_delay_matches_line_speed() {
        let d = chunk_delay(19200);
        assert!((d.as_secs_f64() - 0.213_333).abs() < 0.001, "{d:?}");
        assert!((chunk_delay(115200).as_secs_f64() - 512.0 / 14400.0).abs() < 1e-6);
    }

    #[test]
    fn only_heartbeat_baud_rates_are_accepted() {
        for b in [9600, 19200, 38400, 57600, 115200, 230400, 460800] {
            assert!(baud_rate(b).is_some(), "{b}");
        }
        assert!(baud_rate(4800).is_none());
        assert!(baud_rate(0).is_none());
    }
}
