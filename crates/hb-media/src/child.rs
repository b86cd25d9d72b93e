//! The bodies of the per-medium write and read children (docs/behaviour.md §1.4).
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
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::{MediaError, MediumSockets, MAXMSG};
use hb_proto::ipc::{encode_frame, FrameDecoder};

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
pub(crate) fn strerror(e: Option<&io::Error>) -> String {
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
pub(crate) fn next_frame<R: Read>(
    dec: &mut FrameDecoder,
    from: &mut R,
) -> io::Result<Option<Vec<u8>>> {
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

/// The next packet from the master for a write child; `None` (logged) when
/// the channel is closed or broken and the child must exit.
pub(crate) fn next_packet<R: Read>(dec: &mut FrameDecoder, from: &mut R) -> Option<Vec<u8>> {
    match next_frame(dec, from) {
        Ok(Some(p)) => Some(p),
        Ok(None) => {
            log::error!("write process exiting: channel to the master closed");
            None
        }
        Err(e) => {
            log::error!("write process exiting: channel to the master failed: {e}");
            None
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

/// A log line the write child emits: level and text.
type Line = (log::Level, String);

/// What one failed send was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The send timed out (C: interrupted by the `keepalive` alarm).
    pub(crate) timeout: bool,
    /// Queued frames thrown away because of the timeout.
    pub(crate) flushed: usize,
    /// OS error number, if any.
    pub(crate) errno: Option<i32>,
    /// Its text, as `strerror` gives it.
    pub(crate) text: String,
}

/// Failure bookkeeping of the write child, separated from the I/O so the
/// C daemon's exact sequence of messages can be unit-tested.
#[derive(Debug, Default)]
pub(crate) struct WriteFailures {
    count: u32,
    suppress: bool,
    flushed_while_suppressed: usize,
}

impl WriteFailures {
    fn report_suppressed(&mut self, label: &str, out: &mut Vec<Line>) {
        let n = std::mem::take(&mut self.flushed_while_suppressed);
        if n > 0 {
            out.push((
                log::Level::Warn,
                format!("write_child: {n} {label} messages discarded while suppressed."),
            ));
        }
    }

    /// A send succeeded: the lines to log.
    pub(crate) fn success(&mut self, label: &str) -> Vec<Line> {
        let mut out = Vec::new();
        self.count = 0;
        self.suppress = false;
        self.report_suppressed(label, &mut out);
        out
    }

    /// A send failed: the lines to log, and whether the child must exit.
    pub(crate) fn failure(&mut self, label: &str, f: &Failure) -> (Vec<Line>, bool) {
        use log::Level::{Error, Warn};
        let mut out = Vec::new();
        let mut exit = false;
        if f.timeout {
            if !self.suppress {
                out.push((
                    Error,
                    format!("Write timeout on {label}.: Interrupted system call"),
                ));
            }
            if f.flushed > 0 && !self.suppress {
                out.push((
                    Warn,
                    format!(
                        "{} messages discarded due to write errors on {label}",
                        f.flushed
                    ),
                ));
            } else {
                self.flushed_while_suppressed += f.flushed;
            }
        } else if !self.suppress {
            out.push((
                Error,
                format!("write_child: write failure on {label}.: {}", f.text),
            ));
        }
        if self.count == SUPPRESS_AFTER {
            out.push((
                Warn,
                "Temporarily Suppressing write error messages".to_owned(),
            ));
            out.push((Warn, format!("Is a cable unplugged on {label}?")));
            self.suppress = true;
        } else if self.count >= GIVE_UP_AFTER {
            self.report_suppressed(label, &mut out);
            self.count = 0;
            self.suppress = false;
            if f.errno == Some(Errno::EBADF as i32) || f.errno == Some(Errno::ENODEV as i32) {
                out.push((
                    Error,
                    format!("write_child: Exiting due to persistent errors: {}", f.text),
                ));
                exit = true;
            }
        }
        self.count += 1;
        (out, exit)
    }
}

pub(crate) fn emit(lines: Vec<Line>) {
    for (level, text) in lines {
        log::log!(level, "{text}");
    }
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
        let Some(packet) = next_packet(&mut dec, &mut from_master) else {
            return EXIT_GENERIC;
        };
        match sock.send(&packet) {
            Ok(()) => {
                stats(StatDelta::Sent {
                    bytes: packet.len(),
                });
                emit(fails.success(&label));
            }
            Err(e) => {
                stats(StatDelta::WriteFailed);
                let timeout = is_timeout(&e);
                let flushed = if timeout {
                    discard_queued(&mut dec, &mut from_master)
                } else {
                    0
                };
                if flushed > 0 {
                    stats(StatDelta::Discarded { count: flushed });
                }
                let failure = Failure {
                    timeout,
                    flushed,
                    errno: e.io_error().and_then(io::Error::raw_os_error),
                    text: strerror(e.io_error()),
                };
                let (lines, exit) = fails.failure(&label, &failure);
                emit(lines);
                if exit {
                    return EXIT_GENERIC;
                }
            }
        }
    }
}

/// What waiting for input found.
pub(crate) enum Wake {
    /// The medium has something to read.
    Packet,
    /// The channel to the master is closed: the master is gone.
    ChannelGone,
    /// Woken for nothing (a signal): wait again.
    Nothing,
    /// Waiting itself failed (logged).
    Failed,
}

/// Waits until `fd` is readable or the master's channel hangs up.
pub(crate) fn wait_for_input(fd: BorrowedFd<'_>, master: &impl AsFd, label: &str) -> Wake {
    let mut fds = [
        PollFd::new(fd, PollFlags::POLLIN),
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
        Err(Errno::EINTR) => Wake::Nothing,
        Err(e) => {
            log::error!("{label}: cannot wait for packets: {}", e.desc());
            Wake::Failed
        }
    }
}

fn wait_readable(sock: &MediumSockets, master: &impl AsFd) -> Wake {
    if sock.has_buffered() {
        return Wake::Packet;
    }
    wait_for_input(sock.recv_fd(), master, sock.label())
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
    let mut echoes = crate::echo::EchoFilter::new(match sock.medium() {
        crate::Medium::Serial { .. } => Vec::new(),
        _ => crate::iface::local_ipv4(),
    });
    loop {
        match wait_readable(sock, &to_master) {
            Wake::ChannelGone => {
                log::error!("read_child channel status: {IPC_DISCONNECT} - returning.");
                return EXIT_GENERIC;
            }
            Wake::Nothing => continue,
            Wake::Packet => {}
            Wake::Failed => {
                stats(StatDelta::ReadFailed);
                failed += 1;
                if failed > MAX_FAILED_READS {
                    log::error!("{MAX_FAILED_READS} NULL vf->read() returns in a row. Exiting.");
                    return EXIT_READ_FAILURES;
                }
                continue;
            }
        }
        match sock.recv_from(&mut buf) {
            // An empty UDP datagram is something that arrived, not a failed
            // read: a flood of them must not make the child give up.
            Ok((0, _)) if !matches!(sock.medium(), crate::Medium::Serial { .. }) => {
                failed = 0;
            }
            Ok((n, src)) if n > 0 => {
                failed = 0;
                stats(StatDelta::Received { bytes: n });
                if let Err(e) = to_master.write_all(&encode_frame(&buf[..n])) {
                    log::error!("read_child send: {e}");
                    log::error!("read_child channel status: {IPC_DISCONNECT} - returning.");
                    return EXIT_GENERIC;
                }
                // The first echo of our own went up (own link up); the
                // kernel drops the rest (crate::echo).
                if let Some(own) = echoes.own_source(src) {
                    match sock.drop_datagrams_from(own) {
                        Ok(()) => log::debug!(
                            "{}: own datagrams from {own} are dropped by the kernel from now on",
                            sock.label()
                        ),
                        Err(e) => log::debug!("{}: cannot filter own datagrams: {e}", sock.label()),
                    }
                }
            }
            other => {
                stats(StatDelta::ReadFailed);
                let other = other.map(|(n, _)| n);
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

#[cfg(test)]
mod tests {
    use super::*;
    use log::Level::{Error, Warn};

    fn failure(timeout: bool, flushed: usize, errno: Option<Errno>) -> Failure {
        Failure {
            timeout,
            flushed,
            errno: errno.map(|e| e as i32),
            text: errno.map_or("Unknown error".into(), |e| e.desc().to_owned()),
        }
    }

    #[test]
    fn timeout_logs_the_c_wording_and_counts_discards() {
        let mut f = WriteFailures::default();
        let (lines, exit) = f.failure("ucast eth1", &failure(true, 3, None));
        assert!(!exit);
        assert_eq!(
            lines,
            vec![
                (
                    Error,
                    "Write timeout on ucast eth1.: Interrupted system call".to_owned()
                ),
                (
                    Warn,
                    "3 messages discarded due to write errors on ucast eth1".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn eleventh_failure_suppresses_and_success_reports_suppressed_discards() {
        let unreach = (
            Error,
            "write_child: write failure on bcast eth0.: Network is unreachable".to_owned(),
        );
        let mut f = WriteFailures::default();
        for _ in 0..10 {
            let (lines, _) = f.failure("bcast eth0", &failure(false, 0, Some(Errno::ENETUNREACH)));
            assert_eq!(lines, vec![unreach.clone()]);
        }
        let (lines, _) = f.failure("bcast eth0", &failure(false, 0, Some(Errno::ENETUNREACH)));
        assert_eq!(
            lines,
            vec![
                unreach,
                (
                    Warn,
                    "Temporarily Suppressing write error messages".to_owned()
                ),
                (Warn, "Is a cable unplugged on bcast eth0?".to_owned()),
            ]
        );
        let (lines, _) = f.failure("bcast eth0", &failure(true, 4, None));
        assert!(lines.is_empty(), "suppressed: {lines:?}");
        assert_eq!(
            f.success("bcast eth0"),
            vec![(
                Warn,
                "write_child: 4 bcast eth0 messages discarded while suppressed.".to_owned()
            )]
        );
        let (lines, _) = f.failure("bcast eth0", &failure(false, 0, Some(Errno::EIO)));
        assert_eq!(
            lines.len(),
            1,
            "messages are back after a success: {lines:?}"
        );
    }

    #[test]
    fn persistent_ebadf_or_enodev_ends_the_child_other_errors_do_not() {
        let exits = |errno| {
            let mut f = WriteFailures::default();
            (0..=GIVE_UP_AFTER + 5)
                .filter(|_| {
                    f.failure("serial /dev/ttyS0", &failure(false, 0, Some(errno)))
                        .1
                })
                .count()
        };
        assert_eq!(exits(Errno::ENODEV), 1);
        assert_eq!(exits(Errno::EBADF), 1);
        assert_eq!(exits(Errno::EIO), 0);
        let mut f = WriteFailures::default();
        let first_exit = (1..=GIVE_UP_AFTER + 5)
            .find(|_| f.failure("x", &failure(false, 0, Some(Errno::ENODEV))).1);
        assert_eq!(first_exit, Some(GIVE_UP_AFTER + 1));
    }
}
