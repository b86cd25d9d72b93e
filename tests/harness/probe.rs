//! A 10 ms ICMP prober of a virtual IP that records **which MAC answered**.
//!
//! This is how failover is measured (the same method as the lab's
//! `probe.py`): a client on the LAN pings the VIP every `interval`; each echo
//! reply is received on an `AF_PACKET` socket, so its Ethernet source address
//! says which node answered. An outage is the time from a fault until the new
//! owner's first reply; a gap is the time between the last reply before and
//! the first reply after.
//!
//! The prober is one thread of the calling process that moves itself into the
//! client's network namespace (`setns` affects only the calling thread), so
//! nothing runs in or sends from the host's namespace. Every run is bounded
//! by `max_duration`; dropping the [`Probe`] stops it.
//!
//! Used by the failover benchmark (`hb-bench`), the namespace tests and the
//! demo.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sched::{setns, CloneFlags};
use nix::sys::socket::{
    recvfrom, sendto, socket, AddressFamily, LinkAddr, MsgFlags, SockFlag, SockProtocol, SockType,
    SockaddrIn,
};

/// A MAC address.
pub type Mac = [u8; 6];

/// One echo reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// When it arrived.
    pub at: Instant,
    /// Echo sequence number.
    pub seq: u16,
    /// Ethernet source address: who answered.
    pub mac: Mac,
}

/// `aa:bb:cc:dd:ee:ff` → bytes.
pub fn parse_mac(text: &str) -> Option<Mac> {
    let mut mac = [0u8; 6];
    let mut parts = text.trim().split(':');
    for b in &mut mac {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// Bytes → `aa:bb:cc:dd:ee:ff`.
pub fn mac_text(mac: &Mac) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A running prober.
pub struct Probe {
    stop: Arc<AtomicBool>,
    replies: Arc<Mutex<Vec<Reply>>>,
    thread: Option<JoinHandle<Result<(), String>>>,
    /// When probing started.
    pub started: Instant,
}

fn lock(m: &Mutex<Vec<Reply>>) -> MutexGuard<'_, Vec<Reply>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Probe {
    /// Starts probing `target` every `interval` from network namespace
    /// `netns` (a name under `/run/netns`) for at most `max_duration`.
    /// The target must be in 198.18.0.0/15 (the lab range).
    pub fn start(
        netns: &str,
        target: Ipv4Addr,
        interval: Duration,
        max_duration: Duration,
    ) -> Result<Probe, String> {
        let o = target.octets();
        if o[0] != 198 || (o[1] != 18 && o[1] != 19) {
            return Err(format!("probe target {target} is outside 198.18.0.0/15"));
        }
        let ns_path = format!("/run/netns/{netns}");
        let ns = File::open(&ns_path).map_err(|e| format!("open {ns_path}: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let replies = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = {
            let stop = stop.clone();
            let replies = replies.clone();
            std::thread::Builder::new()
                .name("vip-probe".into())
                .spawn(move || {
                    let sockets = setns(ns.as_fd(), CloneFlags::CLONE_NEWNET)
                        .map_err(|e| format!("setns {ns_path}: {e}"))
                        .and_then(|()| open_sockets());
                    let (icmp, packet) = match sockets {
                        Ok(s) => {
                            let _ = tx.send(Ok(()));
                            s
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e.clone()));
                            return Err(e);
                        }
                    };
                    run(
                        &icmp,
                        &packet,
                        target,
                        interval,
                        max_duration,
                        &stop,
                        &replies,
                    );
                    Ok(())
                })
                .map_err(|e| format!("cannot start the probe thread: {e}"))?
        };
        match rx.recv_timeout(Duration::from_secs(5)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err("the probe thread did not start".into()),
        }
        Ok(Probe {
            stop,
            replies,
            thread: Some(thread),
            started: Instant::now(),
        })
    }

    /// Every reply so far, in arrival order.
    pub fn replies(&self) -> Vec<Reply> {
        lock(&self.replies).clone()
    }

    /// The first reply from `mac` at or after `t`.
    pub fn first_from(&self, mac: &Mac, t: Instant) -> Option<Reply> {
        lock(&self.replies)
            .iter()
            .find(|r| r.at >= t && r.mac == *mac)
            .copied()
    }

    /// The first reply at or after `t`, from anyone.
    pub fn first_after(&self, t: Instant) -> Option<Reply> {
        lock(&self.replies).iter().find(|r| r.at >= t).copied()
    }

    /// Waits (bounded) for the first reply from `mac` at or after `t`.
    pub fn wait_from(&self, mac: &Mac, t: Instant, timeout: Duration) -> Option<Reply> {
        let end = Instant::now() + timeout;
        loop {
            if let Some(r) = self.first_from(mac, t) {
                return Some(r);
            }
            if Instant::now() >= end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops the prober and returns every reply.
    pub fn stop(mut self) -> Vec<Reply> {
        self.halt();
        self.replies()
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.halt();
    }
}

/// What a window of replies says about one event (a fault or a command at
/// `t`, after which `new_owner` should answer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Analysis {
    /// From `t` to the new owner's first reply.
    pub outage: Duration,
    /// From the last reply before that one (or `t`) to that reply.
    pub gap: Duration,
    /// Replies from any other MAC after the new owner's first reply,
    /// until `until`.
    pub others_after: usize,
}

/// Analyses `replies` for an event at `t`; `None` if `new_owner` never
/// answered after `t` (before `until`).
pub fn analyze(replies: &[Reply], t: Instant, new_owner: &Mac, until: Instant) -> Option<Analysis> {
    let first = replies
        .iter()
        .find(|r| r.at >= t && r.at < until && r.mac == *new_owner)?;
    let last_before = replies
        .iter()
        .filter(|r| r.at < first.at)
        .map(|r| r.at)
        .next_back()
        .unwrap_or(t);
    let others_after = replies
        .iter()
        .filter(|r| r.at > first.at && r.at < until && r.mac != *new_owner)
        .count();
    Some(Analysis {
        outage: first.at.saturating_duration_since(t),
        gap: first.at.saturating_duration_since(last_before),
        others_after,
    })
}

fn open_sockets() -> Result<(OwnedFd, OwnedFd), String> {
    let icmp = socket(
        AddressFamily::Inet,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        SockProtocol::Icmp,
    )
    .map_err(|e| format!("raw ICMP socket: {e}"))?;
    let packet = socket(
        AddressFamily::Packet,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        SockProtocol::EthAll,
    )
    .map_err(|e| format!("AF_PACKET socket: {e}"))?;
    Ok((icmp, packet))
}

/// Internet checksum (RFC 1071).
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in data.chunks(2) {
        let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
        sum = sum.wrapping_add(u32::from(word));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn echo_request(ident: u16, seq: u16) -> [u8; 16] {
    let mut p = [0u8; 16];
    p[0] = 8; // echo request
    p[4..6].copy_from_slice(&ident.to_be_bytes());
    p[6..8].copy_from_slice(&seq.to_be_bytes());
    p[8..16].copy_from_slice(b"hb-probe");
    let c = checksum(&p);
    p[2..4].copy_from_slice(&c.to_be_bytes());
    p
}

/// Echo reply `(ident, seq, src mac)` from `target` in an Ethernet frame.
fn parse_reply(frame: &[u8], target: Ipv4Addr) -> Option<(u16, u16, Mac)> {
    if frame.len() < 14 + 20 + 8 || frame[12..14] != [0x08, 0x00] {
        return None;
    }
    let ip = &frame[14..];
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    if ip[9] != 1 || ip[12..16] != target.octets() || ip.len() < ihl + 8 {
        return None;
    }
    let icmp = &ip[ihl..];
    if icmp[0] != 0 {
        return None;
    }
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&frame[6..12]);
    Some((
        u16::from_be_bytes([icmp[4], icmp[5]]),
        u16::from_be_bytes([icmp[6], icmp[7]]),
        mac,
    ))
}

const PACKET_OUTGOING: u8 = 4;

fn run(
    icmp: &OwnedFd,
    packet: &OwnedFd,
    target: Ipv4Addr,
    interval: Duration,
    max_duration: Duration,
    stop: &AtomicBool,
    replies: &Mutex<Vec<Reply>>,
) {
    let ident = (std::process::id() as u16) ^ 0x4842;
    let dest = SockaddrIn::from(SocketAddrV4::new(target, 0));
    let start = Instant::now();
    let end = start + max_duration;
    let mut next_send = start;
    let mut seq: u16 = 0;
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if now >= next_send {
            seq = seq.wrapping_add(1);
            let _ = sendto(
                icmp.as_raw_fd(),
                &echo_request(ident, seq),
                &dest,
                MsgFlags::empty(),
            );
            next_send += interval;
            if next_send < now {
                next_send = now + interval; // fell behind: no burst
            }
        }
        let wait = next_send.min(end).saturating_duration_since(Instant::now());
        let ms = u16::try_from(wait.as_millis().max(1)).unwrap_or(u16::MAX);
        let mut fds = [
            PollFd::new(packet.as_fd(), PollFlags::POLLIN),
            PollFd::new(icmp.as_fd(), PollFlags::POLLIN),
        ];
        if poll(&mut fds, PollTimeout::from(ms)).unwrap_or(0) <= 0 {
            continue;
        }
        // the ICMP socket's copy of every reply is not needed: drop it
        while nix::sys::socket::recv(icmp.as_raw_fd(), &mut buf, MsgFlags::empty()).is_ok() {}
        while let Ok((n, addr)) = recvfrom::<LinkAddr>(packet.as_raw_fd(), &mut buf) {
            let at = Instant::now();
            if addr.is_some_and(|a| a.pkttype() == PACKET_OUTGOING) {
                continue;
            }
            if let Some((id, rseq, mac)) = parse_reply(&buf[..n], target) {
                if id == ident {
                    lock(replies).push(Reply { at, seq: rseq, mac });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_an_echo_request_verifies() {
        let p = echo_request(0x1234, 7);
        assert_eq!(checksum(&p), 0);
    }

    #[test]
    fn mac_round_trip() {
        let m = parse_mac("02:00:c6:12:00:0b").expect("mac");
        assert_eq!(mac_text(&m), "02:00:c6:12:00:0b");
        assert!(parse_mac("02:00").is_none());
        assert!(parse_mac("02:00:c6:12:00:0b:01").is_none());
    }

    #[test]
    fn analysis_of_a_failover() {
        let t0 = Instant::now();
        let a = [1u8; 6];
        let b = [2u8; 6];
        let at = |ms| t0 + Duration::from_millis(ms);
        let replies = [
            Reply {
                at: at(10),
                seq: 1,
                mac: a,
            },
            Reply {
                at: at(20),
                seq: 2,
                mac: a,
            },
            Reply {
                at: at(540),
                seq: 50,
                mac: b,
            },
            Reply {
                at: at(550),
                seq: 51,
                mac: b,
            },
        ];
        let r = analyze(&replies, at(25), &b, at(10_000)).expect("answered");
        assert_eq!(r.outage, Duration::from_millis(515));
        assert_eq!(r.gap, Duration::from_millis(520));
        assert_eq!(r.others_after, 0);
        assert!(analyze(&replies, at(600), &b, at(10_000)).is_none());
    }
}
