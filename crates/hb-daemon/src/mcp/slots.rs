//! What the master keeps per child channel, the shutdown phases, and the
//! loop's poll tokens and periods: plain data shared by the master's
//! concern modules.

use std::io::{ErrorKind, Read};

use hb_config::Medium;
use hb_proto::ipc::FrameDecoder;
use mio::net::UnixStream;
use mio::Token;
use nix::unistd::Pid;

use crate::outbox::Outbox;
use crate::respawn;

/// How long a FIFO reader or write child may stay silent before it counts
/// as hung: never less than the node's deadtime nor 10 s.
pub(super) fn hung_after(deadtime_ms: u64) -> u64 {
    deadtime_ms.max(10_000)
}

pub(super) const SIGNALS: Token = Token(0);
pub(super) const FIFO: Token = Token(1);
pub(super) const MEDIUM_BASE: usize = 100;
/// How often API clients whose process vanished are dropped (docs/behaviour.md §1.8).
pub(super) const API_AUDIT_MS: u64 = 9_000;
/// Between the last resource released (shutdone sent) and stopping the
/// children, so the shutdone reaches the peers (the C waits 1 s too).
pub(super) const FINAL_PHASE_DELAY_MS: u64 = 1_000;

/// How long a respawned client gets to exit on SIGTERM at shutdown before
/// it is killed (the C daemon waits forever).
pub(super) const CLIENT_STOP_GRACE_MS: u64 = 5_000;
/// Retry period for a medium whose restart failed (docs/behaviour.md §1.6).
pub(super) const MEDIUM_RETRY_MS: u64 = 10_000;

pub(super) fn reader_token(i: usize) -> Token {
    Token(MEDIUM_BASE + 2 * i)
}
pub(super) fn writer_token(i: usize) -> Token {
    Token(MEDIUM_BASE + 2 * i + 1)
}

/// Inbound channel from a child: the stream and its frame decoder.
pub(super) struct Inbound {
    pub(super) stream: UnixStream,
    frames: FrameDecoder,
    /// Read buffer, kept: zeroing 64 KiB on the stack at every wake-up
    /// was a visible part of the master's idle CPU.
    buf: Vec<u8>,
}

impl Inbound {
    pub(super) fn new(stream: UnixStream) -> Inbound {
        Inbound {
            stream,
            frames: FrameDecoder::new(),
            buf: vec![0u8; 65536],
        }
    }

    /// Reads everything available (edge-triggered) and returns whole
    /// frames; `Err` when the channel is closed or corrupt.
    pub(super) fn drain(&mut self) -> Result<Vec<Vec<u8>>, ()> {
        let buf = &mut self.buf;
        let mut closed = false;
        loop {
            match self.stream.read(buf) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => self.frames.push(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        let mut out = Vec::new();
        loop {
            match self.frames.next_frame() {
                Ok(Some(f)) => out.push(f),
                Ok(None) => break,
                Err(_) => return Err(()),
            }
        }
        if closed && out.is_empty() {
            return Err(());
        }
        Ok(out)
    }
}

/// One medium's pair of children and their channels.
pub(super) struct MediumSlot {
    pub(super) spec: Medium,
    pub(super) writer: Option<Pid>,
    pub(super) reader: Option<Pid>,
    pub(super) outbox: Option<Outbox<UnixStream>>,
    /// The write channel is registered for WRITABLE (frames wait).
    pub(super) write_armed: bool,
    pub(super) inbound: Option<Inbound>,
    /// When to retry a failed restart.
    pub(super) retry_at: Option<u64>,
    /// Its children were stopped to pick up new keys (not a failure).
    pub(super) rekeying: bool,
}

/// A `respawn`/`failfast` client.
pub(super) struct ClientSlot {
    pub(super) spec: hb_config::Respawn,
    pub(super) state: respawn::Client,
}

/// Where a graceful shutdown stands (docs/behaviour.md §1.9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shutdown {
    Running,
    /// SIGTERM arrived before comm up: acted on at comm up.
    Deferred,
    /// Giving up resources (docs/behaviour.md §1.9.1 steps 4–5).
    Releasing,
    /// Stopping respawned clients, last line first; `next` counts down.
    Clients {
        next: usize,
        deadline: u64,
    },
    /// Core children were told to stop.
    Core,
}

/// Progress of a requested quick restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum QuickRestart {
    /// Waiting for comm up or for resource activity to settle; check again then.
    Delayed(u64),
    /// The longer deadtime was advertised; stop the children then.
    Stopping(u64),
}

impl QuickRestart {
    /// When the master's loop must call `Master::quick_restart_tick`.
    pub(super) fn due(self) -> u64 {
        match self {
            QuickRestart::Delayed(t) | QuickRestart::Stopping(t) => t,
        }
    }
}
