//! A paced UDP packet flood from a socket the test opened (see [`crate::netns_io`]).
//!
//! Used by the hostile-input scenarios: forged, replayed, truncated, bit-flipped and garbage
//! datagrams at a fixed rate to a node's heartbeat port. The flood is paced in 10 ms slots so
//! its rate is what the test asked for (not whatever the machine can do), and it always stops
//! after its duration (at most [`MAX_FLOOD`]).

use std::net::{SocketAddrV4, UdpSocket};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Longest flood the harness agrees to send.
pub const MAX_FLOOD: Duration = Duration::from_secs(60);
const SLOT: Duration = Duration::from_millis(10);

/// What a flood did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FloodReport {
    /// Datagrams handed to the kernel.
    pub sent: u64,
    /// `send_to` failures (e.g. ICMP port unreachable reported back, full buffers).
    pub errors: u64,
    /// How long the flood ran.
    pub elapsed: Duration,
}

/// A flood running on its own thread.
pub struct Flood {
    handle: JoinHandle<FloodReport>,
}

impl Flood {
    /// Sends `payloads` round-robin to `target` at `rate` datagrams per second for `duration`.
    pub fn start(
        sock: UdpSocket,
        target: SocketAddrV4,
        payloads: Vec<Vec<u8>>,
        rate: u32,
        duration: Duration,
    ) -> Result<Flood> {
        if payloads.is_empty() || rate == 0 {
            return Err(Error::Invalid("a flood needs payloads and a rate".into()));
        }
        let duration = duration.min(MAX_FLOOD);
        let handle = std::thread::spawn(move || run(&sock, target, &payloads, rate, duration));
        Ok(Flood { handle })
    }

    /// Whether the flood is over.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Waits for the end of the flood (at most its duration).
    pub fn join(self) -> Result<FloodReport> {
        self.handle
            .join()
            .map_err(|_| Error::Invalid("flood thread panicked".into()))
    }
}

fn run(
    sock: &UdpSocket,
    target: SocketAddrV4,
    payloads: &[Vec<u8>],
    rate: u32,
    duration: Duration,
) -> FloodReport {
    let start = Instant::now();
    let mut report = FloodReport::default();
    let mut next = 0usize;
    let mut slot = 0u64;
    while start.elapsed() < duration {
        slot += 1;
        // Total due by the end of this slot, so rounding never accumulates.
        let due = u64::from(rate) * slot * SLOT.as_millis() as u64 / 1000;
        while report.sent + report.errors < due {
            let p = &payloads[next % payloads.len()];
            next += 1;
            match sock.send_to(p, target) {
                Ok(_) => report.sent += 1,
                Err(_) => report.errors += 1,
            }
        }
        let slot_end = start + SLOT * u32::try_from(slot).unwrap_or(u32::MAX);
        if let Some(wait) = slot_end.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    report.elapsed = start.elapsed();
    report
}
