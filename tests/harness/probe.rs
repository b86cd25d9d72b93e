//! A client's view of a virtual IP: ICMP echo every few milliseconds from the client
//! namespace, each reply stamped with the MAC address the client's ARP table holds for the
//! VIP at that moment — which node answered.
//!
//! The prober is a thread that enters the client's network namespace (`setns` affects only
//! the calling thread) and uses a raw ICMP socket, so a 10 ms interval is really 10 ms, not
//! the cost of spawning `ping`.

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::error::{Error, Result};

/// One echo reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// When it arrived.
    pub at: Instant,
    /// The VIP's MAC in the client's ARP table then (`None` if not resolved).
    pub mac: Option<String>,
}

/// A running prober; stop it to get the replies.
pub struct Prober {
    stop: Arc<AtomicBool>,
    replies: Arc<Mutex<Vec<Reply>>>,
    thread: Option<JoinHandle<()>>,
    target: Ipv4Addr,
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in data.chunks(2) {
        let word = u16::from_be_bytes([chunk[0], *chunk.get(1).unwrap_or(&0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn echo_request(id: u16, seq: u16) -> Vec<u8> {
    let mut p = vec![8, 0, 0, 0];
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(b"hb-tests probe");
    let c = checksum(&p);
    p[2..4].copy_from_slice(&c.to_be_bytes());
    p
}

/// The MAC the calling thread's namespace has for `ip` (`/proc/thread-self/net/arp`).
fn arp_mac(ip: Ipv4Addr) -> Option<String> {
    let table = std::fs::read_to_string("/proc/thread-self/net/arp").ok()?;
    table.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.first() == Some(&ip.to_string().as_str()) && f.get(3) != Some(&"00:00:00:00:00:00"))
            .then(|| f.get(3).map(|m| m.to_string()))
            .flatten()
    })
}

impl Prober {
    /// Starts probing `target` every `interval` from network namespace `netns` (a name under
    /// /run/netns). Stops by itself after `limit`.
    pub fn start(
        netns: &str,
        target: Ipv4Addr,
        interval: Duration,
        limit: Duration,
    ) -> Result<Prober> {
        let ns = std::fs::File::open(format!("/run/netns/{netns}"))
            .map_err(|e| Error::Invalid(format!("open netns {netns}: {e}")))?;
        let stop = Arc::new(AtomicBool::new(false));
        let replies = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<std::result::Result<(), String>>();
        let (s, r) = (stop.clone(), replies.clone());
        let thread = std::thread::spawn(move || {
            let setup = || -> std::result::Result<Socket, String> {
                nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)
                    .map_err(|e| format!("setns: {e}"))?;
                let sock = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))
                    .map_err(|e| format!("raw ICMP socket: {e}"))?;
                sock.set_read_timeout(Some(Duration::from_millis(2)))
                    .map_err(|e| e.to_string())?;
                Ok(sock)
            };
            let mut sock = match setup() {
                Ok(sock) => {
                    let _ = ready_tx.send(Ok(()));
                    sock
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let id = (std::process::id() & 0xffff) as u16;
            let dest = SockAddr::from(SocketAddrV4::new(target, 0));
            let end = Instant::now() + limit;
            let mut next_send = Instant::now();
            let mut seq: u16 = 0;
            let mut buf = [0u8; 1500];
            while !s.load(Ordering::Relaxed) && Instant::now() < end {
                if Instant::now() >= next_send {
                    seq = seq.wrapping_add(1);
                    let _ = sock.send_to(&echo_request(id, seq), &dest);
                    next_send += interval;
                }
                if let Ok(n) = sock.read(&mut buf) {
                    // IPv4 header, then ICMP: type 0 = echo reply, with our identifier.
                    let ihl = usize::from(buf[0] & 0x0f) * 4;
                    let from = Ipv4Addr::new(buf[12], buf[13], buf[14], buf[15]);
                    if n >= ihl + 8
                        && buf[ihl] == 0
                        && from == target
                        && buf[ihl + 4..ihl + 6] == id.to_be_bytes()
                    {
                        let reply = Reply {
                            at: Instant::now(),
                            mac: arp_mac(target),
                        };
                        if let Ok(mut v) = r.lock() {
                            v.push(reply);
                        }
                    }
                }
            }
        });
        match ready_rx.recv_timeout(Duration::from_secs(5)) {
            Ok(Ok(())) => Ok(Prober {
                stop,
                replies,
                thread: Some(thread),
                target,
            }),
            Ok(Err(e)) => Err(Error::Invalid(format!("prober: {e}"))),
            Err(_) => Err(Error::Invalid("prober did not start".into())),
        }
    }

    /// Replies so far.
    pub fn replies(&self) -> Vec<Reply> {
        self.replies.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// The first reply at or after `t` answered by `mac` (any MAC when `None`).
    pub fn first_reply_after(&self, t: Instant, mac: Option<&str>) -> Option<Reply> {
        self.replies()
            .into_iter()
            .find(|r| r.at >= t && mac.map_or(true, |m| r.mac.as_deref() == Some(m)))
    }

    /// The probed address.
    pub fn target(&self) -> Ipv4Addr {
        self.target
    }

    /// Stops the thread and returns every reply.
    pub fn stop(mut self) -> Vec<Reply> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.replies()
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_request_checksum_verifies() {
        let p = echo_request(0x1234, 7);
        assert_eq!(checksum(&p), 0, "a packet with its checksum sums to zero");
        assert_eq!(&p[4..8], &[0x12, 0x34, 0, 7]);
    }
}
