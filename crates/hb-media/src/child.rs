//! The bodies of the per-medium write and read children (daemon.md §1.4).
//!
//! * write child: takes framed packets from the master and sends each on the
//!   medium, bounded by the `keepalive` interval. A timed-out send throws
//!   away what the master has queued meanwhile (stale heartbeats are worse
//!   than none); repeated failures are reported with the C daemon's exact log
//!   lines, then suppressed.
//! * read child: receives packets, frames them unparsed and hands them to the
//!   master; it stops when the channel to the master breaks, or after 10000
//!   consecutive failed reads (exit status 10).
//!
//! Both return the process exit status instead of exiting, so the caller
//! (which owns the process) decides.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::ipc::{encode_frame, FrameDecoder};
use crate::{MediaError, MediumSockets, MAXMSG};

/// Exit status for "generic failure" (LSB), used by both loops.
pub const EXIT_GENERIC: i32 = 1;
/// Exit status of a read child after too many failed reads in a row.
pub const EXIT_READ_FAILURES: i32 = 10;
/// Consecutive failed reads that end a read child.
pub const MAX_FAILED_READS: u32 = 10_000;
/// Consecutive write failures after which error messages are suppressed.
pub const SUPPRESS_AFTER: u32 = 10;
/// Consecutive write failures after which the counters restart (and the
/// child exits if the medium is gone: `EBADF`/`ENODEV`).
pub const GIVE_UP_AFTER: u32 = 1000;

/// One change to a medium's counters, reported by the loops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatDelta {
    /// A packet went out.
    Sent {
        /// Its length.
        bytes: usize,
    },
    /// A send failed or timed out.
    WriteFailed,
    /// Queued packets thrown away after a write timeout.
    Discarded {
        /// How many.
        count: usize,
    },
    /// A packet came in and was passed to the master.
    Received {
        /// Its length.
        bytes: usize,
    },
    /// A receive failed (or returned nothing).
    ReadFailed,
}

/// The C library's text for an OS error (what `cl_perror` appends).
fn strerror(e: Option<&io::Error>) -> String {
    match e {
        Some(e) => match e.raw_os_error() {
            Some(code) => Errno::from_raw(code).desc().to_owned(),
            None => e.to_string(),
        },
        None => "Unknown error".to_owned(),
    }
}

fn is_timeout(e: &MediaError) -> bool {
    e.io_error().is_some_and(|e| {
        matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
        )
    })
}

/// Blocks until the decoder yields a frame; `Ok(None)` at end of stream.
fn next_frame<R: Read>(dec: &mut FrameDecoder, from: &mut R) -> io::Result<Option<Vec<u8>>> {
    let mut buf = [0u8; 8192];
    loop {
        if let Some(f) = dec
            .next_frame()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
        {
            return Ok(Some(f));
        }
        match from.read(&mut buf) {
            Ok(0) => return Ok(None),
            Ok(n) => dec.push(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Drops every frame already buffered or readable right now; returns how many.
fn discard_queued<R: Read + AsFd>(dec: &mut FrameDecoder, from: &mut R) -> usize {
    let mut count = 0;
    let mut buf = [0u8; 8192];
    loop {
        while let Ok(Some(_)) = dec.next_frame() {
            count += 1;
        }
        let mut fds = [PollFd::new(from.as_fd(), PollFlags::POLLIN)];
        let readable = matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
            && fds[0]
                .revents()
                .is_some_and(|r| r.contains(PollFlags::POLLIN));
        if !readable {
            return count;
        }
        match from.read(&mut buf) {
            Ok(n) if n > 0 => dec.push(&buf[..n]),
            _ => return count,
        }
    }
}

/// Failure bookkeeping of the write child.
#[derive(Debug, Default)]
struct WriteFailures {
    count: u32,
    suppress: bool,
    flushed_while_suppressed: usize,
}

/// Runs a write child: every frame from the master is sent on `sock`, each
/// send bounded by `write_timeout` (heartbeat uses `keepalive`). Returns the
/// exit status: [`EXIT_GENERIC`] when the master's channel closes or breaks,
/// or when the medium has been failing with `EBADF`/`ENODEV` for
/// [`GIVE_UP_AFTER`] packets.
pub fn write_child_loop<R, F>(
    sock: &MediumSockets,
    mut from_master: R,
    write_timeout: Duration,
    mut stats: F,
) -> i32
where
    R: Read + AsFd,
    F: FnMut(StatDelta),
{
    let label = sock.label().to_owned();
    if let Err(e) = sock.set_send_timeout(Some(write_timeout)) {
        log::error!("{e}");
    }
    let mut dec = FrameDecoder::default();
    let mut fails = WriteFailures::default();
    loop {
        let packet = match next_frame(&mut dec, &mut from_master) {
            Ok(Some(p)) => p,
            Ok(None) => {
                log::error!("write process exiting: channel to the master closed");
                return EXIT_GENERIC;
            }
            Err(e) => {
                log::error!("write process exiting: channel to the master failed: {e}");
                return EXIT_GENERIC;
            }
        };
        match sock.send(&packet) {
            Ok(()) => {
                stats(StatDelta::Sent {
                    bytes: packet.len(),
                });
                fails.count = 0;
                fails.suppress = false;
                report_suppressed(&label, &mut fails);
            }
            Err(e) => {
                stats(StatDelta::WriteFailed);
                if is_timeout(&e) {
                    if !fails.suppress {
                        log::error!("Write timeout on {label}.: Interrupted system call");
                    }
                    let flushed = discard_queued(&mut dec, &mut from_master);
                    if flushed > 0 {
                        stats(StatDelta::Discarded { count: flushed });
                    }
                    if flushed > 0 && !fails.suppress {
                        log::warn!("{flushed} messages discarded due to write errors on {label}");
                    } else {
                        fails.flushed_while_suppressed += flushed;
                    }
                } else if !fails.suppress {
                    log::error!(
                        "write_child: write failure on {label}.: {}",
                        strerror(e.io_error())
                    );
                }
                if fails.count == SUPPRESS_AFTER {
                    log::warn!("Temporarily Suppressing write error messages");
                    log::warn!("Is a cable unplugged on {label}?");
                    fails.suppress = true;
                } else if fails.count >= GIVE_UP_AFTER {
                    report_suppressed(&label, &mut fails);
                    fails.count = 0;
                    fails.suppress = false;
                    let errno = e.io_error().and_then(io::Error::raw_os_error);
                    if errno == Some(Errno::EBADF as i32) || errno == Some(Errno::ENODEV as i32) {
                        log::error!(
                            "write_child: Exiting due to persistent errors: {}",
                            strerror(e.io_error())
                        );
                        return EXIT_GENERIC;
                    }
                }
                fails.count += 1;
            }
        }
    }
}

fn report_suppressed(label: &str, fails: &mut WriteFailures) {
    let n = std::mem::take(&mut fails.flushed_while_suppressed);
    if n > 0 {
        log::warn!("write_child: {n} {label} messages discarded while suppressed.");
    }
}

/// What woke the read child up.
enum Wake {
    Packet,
    ChannelGone,
    Nothing,
}

fn wait_readable(sock: &MediumSockets, master: &impl AsFd) -> Wake {
    if sock.has_buffered() {
        return Wake::Packet;
    }
    let mut fds = [
        PollFd::new(sock.recv_fd(), PollFlags::POLLIN),
        PollFd::new(master.as_fd(), PollFlags::empty()),
    ];
    match poll(&mut fds, PollTimeout::NONE) {
        Ok(_) => {
            let gone = PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL;
            if fds[1].revents().is_some_and(|r| r.intersects(gone)) {
                Wake::ChannelGone
            } else if fds[0].revents().is_some_and(|r| !r.is_empty()) {
                Wake::Packet
            } else {
                Wake::Nothing
            }
        }
        Err(_) => Wake::Nothing,
    }
}

/// Runs a read child: every packet received on `sock` is framed and written
/// to the master. Returns [`EXIT_GENERIC`] when the channel to the master
/// breaks (`read_child channel status: 3 - returning.`) and
/// [`EXIT_READ_FAILURES`] after [`MAX_FAILED_READS`] failed reads in a row.
/// `sock` should be in blocking mode.
pub fn read_child_loop<W, F>(sock: &MediumSockets, mut to_master: W, mut stats: F) -> i32
where
    W: Write + AsFd,
    F: FnMut(StatDelta),
{
    const IPC_DISCONNECT: i32 = 3;
    let mut buf = vec![0u8; MAXMSG];
    let mut failed = 0u32;
    loop {
        match wait_readable(sock, &to_master) {
            Wake::ChannelGone => {
                log::error!("read_child channel status: {IPC_DISCONNECT} - returning.");
                return EXIT_GENERIC;
            }
            Wake::Nothing => continue,
            Wake::Packet => {}
        }
        match sock.recv(&mut buf) {
            Ok(n) if n > 0 => {
                failed = 0;
                stats(StatDelta::Received { bytes: n });
                if let Err(e) = to_master.write_all(&encode_frame(&buf[..n])) {
                    log::error!("read_child send: {e}");
                    log::error!("read_child channel status: {IPC_DISCONNECT} - returning.");
                    return EXIT_GENERIC;
                }
            }
            other => {
                stats(StatDelta::ReadFailed);
                if let Err(e) = &other {
                    if !is_timeout(e) {
                        log::error!("{e}");
                    }
                }
                failed += 1;
                if failed > MAX_FAILED_READS {
                    let err = other.err();
                    log::error!(
                        "{MAX_FAILED_READS} NULL vf->read() returns in a row. Exiting.: {}",
                        strerror(err.as_ref().and_then(MediaError::io_error))
                    );
                    return EXIT_READ_FAILURES;
                }
            }
        }
    }
}
