//! A delaying UDP relay: the harness's stand-in for `netem delay 50ms 20ms`, which this kernel
//! lacks.
//!
//! The relay owns one UDP socket in a namespace of the Lan (normally the client, 198.18.0.50)
//! bound to the heartbeat port. Two nodes configured with `ucast eth0 <relay address>` send
//! their heartbeats to it; each datagram from one node is queued and sent on to the other after
//! a delay drawn uniformly from `base ± jitter` (so, like netem with jitter, packets may be
//! reordered). Datagrams from anyone else are dropped. The queue is bounded, the thread stops
//! when the relay is stopped or dropped, and in any case after its maximum lifetime.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{SocketAddr, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::netns_io::udp_socket_in;

/// Most datagrams waiting in the relay at once; more are dropped (and counted).
pub const MAX_QUEUED: usize = 10_000;

/// The delay distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delay {
    /// Mean one-way delay.
    pub base: Duration,
    /// Maximum deviation from the mean (uniform).
    pub jitter: Duration,
    /// Seed of the jitter generator (deterministic runs).
    pub seed: u64,
}

/// What the relay did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RelayStats {
    /// Datagrams forwarded to the other node.
    pub forwarded: u64,
    /// Datagrams from an address that is neither node.
    pub strangers: u64,
    /// Datagrams dropped because the queue was full.
    pub overflow: u64,
    /// Smallest and largest delay actually applied (send time − receive time).
    pub min_delay: Option<Duration>,
    /// See `min_delay`.
    pub max_delay: Option<Duration>,
    /// Datagrams that overtook an earlier one from the same sender.
    pub reordered: u64,
}

/// A running relay between two nodes.
pub struct DelayRelay {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<RelayStats>>,
}

impl DelayRelay {
    /// Starts a relay bound to `listen` inside `netns` between nodes `a` and `b` (their
    /// heartbeat addresses). It stops by itself after `lifetime`.
    pub fn start(
        netns: &str,
        listen: SocketAddrV4,
        a: SocketAddrV4,
        b: SocketAddrV4,
        delay: Delay,
        lifetime: Duration,
    ) -> Result<DelayRelay> {
        if delay.jitter > delay.base {
            return Err(Error::Invalid(format!(
                "jitter {:?} larger than the base delay {:?}",
                delay.jitter, delay.base
            )));
        }
        let sock = udp_socket_in(netns, listen)?;
        sock.set_read_timeout(Some(Duration::from_millis(5)))
            .map_err(|e| Error::Invalid(format!("relay socket timeout: {e}")))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || relay_loop(&sock, a, b, delay, lifetime, &flag));
        Ok(DelayRelay {
            stop,
            handle: Some(handle),
        })
    }

    /// Stops the relay and returns its statistics.
    pub fn stop(mut self) -> RelayStats {
        self.halt()
    }

    fn halt(&mut self) -> RelayStats {
        self.stop.store(true, Ordering::Relaxed);
        self.handle
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for DelayRelay {
    fn drop(&mut self) {
        let _ = self.halt();
    }
}

/// xorshift64*: enough for jitter, deterministic from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `base - jitter ..= base + jitter`.
    fn delay(&mut self, d: &Delay) -> Duration {
        let j = d.jitter.as_micros() as u64;
        let span = 2 * j + 1;
        let off = self.next() % span;
        (d.base + Duration::from_micros(off)).saturating_sub(d.jitter)
    }
}

struct Pending {
    due: Instant,
    received: Instant,
    order: u64,
    to: SocketAddrV4,
    bytes: Vec<u8>,
}

impl PartialEq for Pending {
    fn eq(&self, o: &Self) -> bool {
        (self.due, self.order) == (o.due, o.order)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Pending {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.due, self.order).cmp(&(o.due, o.order))
    }
}

fn relay_loop(
    sock: &UdpSocket,
    a: SocketAddrV4,
    b: SocketAddrV4,
    delay: Delay,
    lifetime: Duration,
    stop: &AtomicBool,
) -> RelayStats {
    let start = Instant::now();
    let mut rng = Rng(delay.seed | 1);
    let mut queue: BinaryHeap<Reverse<Pending>> = BinaryHeap::new();
    let mut stats = RelayStats::default();
    let mut order = 0u64;
    // Highest receive order already sent, per destination (reordering count).
    let mut last_sent = [0u64; 2];
    let mut buf = vec![0u8; 65_536];
    while !stop.load(Ordering::Relaxed) && start.elapsed() < lifetime {
        let now = Instant::now();
        while queue.peek().is_some_and(|Reverse(p)| p.due <= now) {
            let Some(Reverse(p)) = queue.pop() else { break };
            let _ = sock.send_to(&p.bytes, p.to);
            stats.forwarded += 1;
            let applied = now.saturating_duration_since(p.received);
            stats.min_delay = Some(stats.min_delay.map_or(applied, |m| m.min(applied)));
            stats.max_delay = Some(stats.max_delay.map_or(applied, |m| m.max(applied)));
            let slot = usize::from(p.to == b);
            if p.order < last_sent[slot] {
                stats.reordered += 1;
            }
            last_sent[slot] = last_sent[slot].max(p.order);
        }
        let wait = queue
            .peek()
            .map_or(Duration::from_millis(5), |Reverse(p)| {
                p.due.saturating_duration_since(now)
            })
            .clamp(Duration::from_micros(200), Duration::from_millis(5));
        let _ = sock.set_read_timeout(Some(wait));
        let (n, from) = match sock.recv_from(&mut buf) {
            Ok(r) => r,
            Err(_) => continue,
        };
        let received = Instant::now();
        let to = match from {
            SocketAddr::V4(f) if *f.ip() == *a.ip() => b,
            SocketAddr::V4(f) if *f.ip() == *b.ip() => a,
            _ => {
                stats.strangers += 1;
                continue;
            }
        };
        if queue.len() >= MAX_QUEUED {
            stats.overflow += 1;
            continue;
        }
        order += 1;
        queue.push(Reverse(Pending {
            due: received + rng.delay(&delay),
            received,
            order,
            to,
            bytes: buf[..n].to_vec(),
        }));
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_bounds_and_varies() {
        let d = Delay {
            base: Duration::from_millis(50),
            jitter: Duration::from_millis(20),
            seed: 42,
        };
        let mut rng = Rng(d.seed);
        let v: Vec<Duration> = (0..1000).map(|_| rng.delay(&d)).collect();
        assert!(v
            .iter()
            .all(|x| *x >= Duration::from_millis(30) && *x <= Duration::from_millis(70)));
        let lo = v.iter().filter(|x| **x < Duration::from_millis(40)).count();
        let hi = v.iter().filter(|x| **x > Duration::from_millis(60)).count();
        assert!(lo > 100 && hi > 100, "not spread: {lo} low, {hi} high");
    }
}
