//! The `ping`, `ping6` and `ping_group` media (docs/protocol.md §11.5–11.7).
//!
//! A ping medium never carries cluster traffic. For every `status` packet
//! the node sends, the write child sends an ICMP echo request to the ping
//! host(s) whose payload is the packet we want to hear back — a sealed
//! `t=NS_st st=ping info=<ping|ping_group> src=<node> ts=<ts>` — and the
//! read child hands the echoed payload of each matching reply to the master,
//! which feeds it to the engine like any packet from that medium. The ping
//! node's status is therefore `ping` while the host answers and `dead` after
//! `deadping` without answers; nothing crosses between cluster nodes.
//!
//! This module opens the raw socket and holds the pure ICMP codec (echo
//! request construction with the Internet checksum, reply parsing, the
//! 128-slot duplicate window of ping groups); [`crate::ping_child`] holds
//! the two child loops and the payload logic.
//!
//! Like the C plugins, the ICMP identifier is the master's PID & 0xFFFF
//! (taken when the medium is opened, in the master), written in host byte
//! order; the sequence number is a counter in network order.
//!
//! Deliberate difference: replies are accepted only from the configured
//! address(es) for `ping` too (the C checks the source only for
//! `ping_group`). Every ping medium of a node has its own raw socket, and a
//! raw socket sees every echo reply of the namespace with our identifier, so
//! without the check one host's replies would also arrive on the other ping
//! media.

use std::net::{IpAddr, ToSocketAddrs};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use hb_config::Medium;
use nix::sys::socket::{
    self, AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, SockaddrIn, SockaddrIn6,
    SockaddrStorage,
};

use crate::MediaError;

/// ICMP echo request type (IPv4).
pub const ICMP_ECHO: u8 = 8;
/// ICMP echo reply type (IPv4).
pub const ICMP_ECHOREPLY: u8 = 0;
/// ICMPv6 echo request type.
pub const ICMP6_ECHO_REQUEST: u8 = 128;
/// ICMPv6 echo reply type.
pub const ICMP6_ECHO_REPLY: u8 = 129;
/// Length of the ICMP echo header (type, code, checksum, id, sequence).
pub const ICMP_HDR_LEN: usize = 8;
/// Slots of the ping group duplicate window (C: `NSLOT`).
pub const GROUP_WINDOW: usize = 128;

/// Which of the three ping media this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingKind {
    /// `ping <host>`: ICMP over IPv4.
    Ping,
    /// `ping6 <host>`: ICMPv6.
    Ping6,
    /// `ping_group <name> <host>...`: any member's reply counts.
    Group,
}

impl PingKind {
    /// The `info` field of the echo payload (the C plugin's name).
    pub fn info(self) -> &'static str {
        match self {
            PingKind::Ping | PingKind::Ping6 => "ping",
            PingKind::Group => "ping_group",
        }
    }

    fn v6(self) -> bool {
        self == PingKind::Ping6
    }
}

/// An opened ping medium: its raw socket and destinations.
#[derive(Debug)]
pub struct PingMedium {
    medium: Medium,
    label: String,
    kind: PingKind,
    /// Ping node name: the host as written, or the group name.
    node: String,
    hosts: Vec<IpAddr>,
    ident: u16,
    sock: OwnedFd,
}

/// Opens a `ping`, `ping6` or `ping_group` medium: resolves the host(s) and
/// creates the raw ICMP socket (needs `CAP_NET_RAW`), non-blocking and
/// close-on-exec. Other media are refused with [`MediaError::Unsupported`].
pub fn open_ping(medium: &Medium) -> Result<PingMedium, MediaError> {
    let label = format!("{} {}", medium.kind(), medium.name());
    let (kind, node, hosts) = match medium {
        Medium::Ping { host } => (
            PingKind::Ping,
            host.clone(),
            vec![resolve(&label, host, false)?],
        ),
        Medium::Ping6 { host } => (
            PingKind::Ping6,
            host.clone(),
            vec![resolve(&label, host, true)?],
        ),
        Medium::PingGroup { name, hosts } => {
            let v4: Vec<IpAddr> = hosts.iter().copied().filter(IpAddr::is_ipv4).collect();
            if v4.is_empty() {
                return Err(MediaError::NoIpv4Peer {
                    medium: label,
                    peer: name.clone(),
                });
            }
            (PingKind::Group, name.clone(), v4)
        }
        other => {
            return Err(MediaError::Unsupported { kind: other.kind() });
        }
    };
    let (family, proto) = if kind.v6() {
        (AddressFamily::Inet6, SockProtocol::IcmpV6)
    } else {
        (AddressFamily::Inet, SockProtocol::Icmp)
    };
    let sock = socket::socket(
        family,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        proto,
    )
    .map_err(|e| MediaError::Socket {
        medium: label.clone(),
        source: e.into(),
    })?;
    Ok(PingMedium {
        medium: medium.clone(),
        label,
        kind,
        node,
        hosts,
        ident: (std::process::id() & 0xFFFF) as u16,
        sock,
    })
}

/// Resolves a ping host to its first address of the wanted family.
fn resolve(label: &str, host: &str, v6: bool) -> Result<IpAddr, MediaError> {
    if let Ok(a) = host.parse::<IpAddr>() {
        if a.is_ipv6() == v6 {
            return Ok(a);
        }
    }
    let addrs = (host, 0)
        .to_socket_addrs()
        .map_err(|source| MediaError::Resolve {
            medium: label.to_owned(),
            peer: host.to_owned(),
            source,
        })?;
    addrs
        .map(|a| a.ip())
        .find(|a| a.is_ipv6() == v6)
        .ok_or_else(|| MediaError::NoIpv4Peer {
            medium: label.to_owned(),
            peer: host.to_owned(),
        })
}

impl PingMedium {
    /// The medium this was opened for.
    pub fn medium(&self) -> &Medium {
        &self.medium
    }

    /// `"<type> <name>"`, e.g. `ping 198.18.0.1`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Which ping medium.
    pub fn kind(&self) -> PingKind {
        self.kind
    }

    /// The ping node's name (`src` of the echo payload).
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The addresses pinged.
    pub fn hosts(&self) -> &[IpAddr] {
        &self.hosts
    }

    /// The ICMP identifier (the opener's PID & 0xFFFF).
    pub fn ident(&self) -> u16 {
        self.ident
    }

    /// The C plugin's start line.
    pub fn describe(&self) -> &'static str {
        match self.kind {
            PingKind::Group => "ping group heartbeat started.",
            PingKind::Ping | PingKind::Ping6 => "ping heartbeat started.",
        }
    }

    /// The raw socket (to wait on, and to keep across the fork).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }

    /// Sends one echo request with `payload` to every host; fails only if
    /// no host could be sent to (the last error).
    pub fn send_echo(&self, seq: u16, payload: &[u8]) -> Result<(), MediaError> {
        let pkt = echo_request(self.kind.v6(), self.ident, seq, payload);
        let mut last = None;
        let mut sent = false;
        for host in &self.hosts {
            let r = match host {
                IpAddr::V4(a) => socket::sendto(
                    self.fd_raw(),
                    &pkt,
                    &SockaddrIn::from(std::net::SocketAddrV4::new(*a, 0)),
                    MsgFlags::MSG_DONTWAIT,
                ),
                IpAddr::V6(a) => socket::sendto(
                    self.fd_raw(),
                    &pkt,
                    &SockaddrIn6::from(std::net::SocketAddrV6::new(*a, 0, 0, 0)),
                    MsgFlags::MSG_DONTWAIT,
                ),
            };
            match r {
                Ok(n) if n == pkt.len() => sent = true,
                Ok(n) => {
                    last = Some(MediaError::Send {
                        medium: self.label.clone(),
                        dest: host.to_string(),
                        source: std::io::Error::new(
                            std::io::ErrorKind::WriteZero,
                            format!("sent {n} of {} bytes", pkt.len()),
                        ),
                    })
                }
                Err(e) => {
                    last = Some(MediaError::Send {
                        medium: self.label.clone(),
                        dest: host.to_string(),
                        source: e.into(),
                    })
                }
            }
        }
        match (sent, last) {
            (false, Some(e)) => Err(e),
            _ => Ok(()),
        }
    }

    /// Receives one datagram without blocking: `Ok(None)` when nothing is
    /// queued, else its length and source address.
    pub fn recv_raw(&self, buf: &mut [u8]) -> Result<Option<(usize, Option<IpAddr>)>, MediaError> {
        match socket::recvfrom::<SockaddrStorage>(self.fd_raw(), buf) {
            Ok((n, from)) => Ok(Some((n, from.and_then(|s| source_ip(&s))))),
            Err(nix::errno::Errno::EAGAIN) => Ok(None),
            Err(e) => Err(MediaError::Recv {
                medium: self.label.clone(),
                source: e.into(),
            }),
        }
    }

    /// Is `from` one of the hosts we ping?
    pub fn is_member(&self, from: IpAddr) -> bool {
        self.hosts.contains(&from)
    }

    /// Parses a datagram received on this medium's socket (IPv4 raw
    /// sockets deliver the IP header, ICMPv6 ones do not).
    pub fn parse<'a>(&self, datagram: &'a [u8]) -> Option<EchoReply<'a>> {
        parse_reply(self.kind.v6(), datagram, self.ident)
    }

    fn fd_raw(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.sock.as_raw_fd()
    }
}

fn source_ip(s: &SockaddrStorage) -> Option<IpAddr> {
    if let Some(v4) = s.as_sockaddr_in() {
        return Some(IpAddr::V4(v4.ip()));
    }
    s.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
}

/// The Internet checksum (RFC 1071) of `data`.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(u16::from_be_bytes([*last, 0]));
    }
    while sum > 0xFFFF {
        sum = (sum >> 16) + (sum & 0xFFFF);
    }
    !(sum as u16)
}

/// An ICMP (or ICMPv6) echo request. The identifier is written in host
/// byte order (as the C plugins do), the sequence in network order. For
/// ICMPv6 the checksum is left 0: the kernel fills it in.
pub fn echo_request(v6: bool, ident: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut pkt = Vec::with_capacity(ICMP_HDR_LEN + payload.len());
    pkt.push(if v6 { ICMP6_ECHO_REQUEST } else { ICMP_ECHO });
    pkt.push(0);
    pkt.extend_from_slice(&[0, 0]);
    pkt.extend_from_slice(&ident.to_ne_bytes());
    pkt.extend_from_slice(&seq.to_be_bytes());
    pkt.extend_from_slice(payload);
    if !v6 {
        let sum = checksum(&pkt);
        pkt[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    pkt
}

/// One echo reply of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EchoReply<'a> {
    /// Its sequence number.
    pub seq: u16,
    /// The echoed data (our sealed payload).
    pub payload: &'a [u8],
}

/// Parses a received datagram: `Some` only for an echo reply carrying our
/// identifier. IPv4 datagrams start with the IP header (its length taken
/// from the IHL field); ICMPv6 ones with the ICMP header.
pub fn parse_reply(v6: bool, datagram: &[u8], ident: u16) -> Option<EchoReply<'_>> {
    let icmp = if v6 {
        datagram
    } else {
        let first = *datagram.first()?;
        if first >> 4 != 4 {
            return None;
        }
        datagram.get(usize::from(first & 0x0F) * 4..)?
    };
    let hdr = icmp.get(..ICMP_HDR_LEN)?;
    let want = if v6 { ICMP6_ECHO_REPLY } else { ICMP_ECHOREPLY };
    if hdr[0] != want || hdr[1] != 0 || u16::from_ne_bytes([hdr[4], hdr[5]]) != ident {
        return None;
    }
    Some(EchoReply {
        seq: u16::from_be_bytes([hdr[6], hdr[7]]),
        payload: &icmp[ICMP_HDR_LEN..],
    })
}

/// The duplicate filter of ping groups: several members answer the same
/// request; the first reply per sequence number in a 128-slot window
/// (indexed by sequence modulo 128) is kept.
#[derive(Debug, Clone)]
pub struct SeqWindow {
    slots: [Option<u16>; GROUP_WINDOW],
}

impl Default for SeqWindow {
    fn default() -> Self {
        SeqWindow {
            slots: [None; GROUP_WINDOW],
        }
    }
}

impl SeqWindow {
    /// True the first time `seq` is seen (within the window), false for a
    /// duplicate.
    pub fn first(&mut self, seq: u16) -> bool {
        let slot = &mut self.slots[usize::from(seq) % GROUP_WINDOW];
        if *slot == Some(seq) {
            return false;
        }
        *slot = Some(seq);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_rfc1071_example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2; checksum = !ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), !0xddf2);
        // A packet with its checksum filled in sums to zero.
        let pkt = echo_request(false, 0x1234, 7, b"hello");
        assert_eq!(checksum(&pkt), 0);
        // Odd length pads with a zero byte.
        assert_eq!(checksum(&[0xff]), !0xff00);
    }

    #[test]
    fn echo_request_layout() {
        let pkt = echo_request(false, 0xABCD, 0x0102, b"xyz");
        assert_eq!(pkt[0], ICMP_ECHO);
        assert_eq!(pkt[1], 0);
        assert_eq!(&pkt[4..6], &0xABCDu16.to_ne_bytes());
        assert_eq!(&pkt[6..8], &[1, 2]);
        assert_eq!(&pkt[8..], b"xyz");
        let v6 = echo_request(true, 1, 2, b"p");
        assert_eq!((v6[0], v6[2], v6[3]), (ICMP6_ECHO_REQUEST, 0, 0));
    }

    fn ipv4_reply(ident: u16, seq: u16, payload: &[u8], ihl: u8) -> Vec<u8> {
        let mut req = echo_request(false, ident, seq, payload);
        req[0] = ICMP_ECHOREPLY;
        let mut ip = vec![0u8; usize::from(ihl) * 4];
        ip[0] = 0x40 | ihl;
        ip.extend_from_slice(&req);
        ip
    }

    #[test]
    fn parses_our_replies_only() {
        let d = ipv4_reply(42, 9, b"payload", 5);
        assert_eq!(
            parse_reply(false, &d, 42),
            Some(EchoReply {
                seq: 9,
                payload: b"payload"
            })
        );
        // IP options: header length from IHL.
        let d = ipv4_reply(42, 10, b"p2", 7);
        assert_eq!(
            parse_reply(false, &d, 42).map(|r| r.payload),
            Some(&b"p2"[..])
        );
        // Another process's identifier, a request, junk, truncation.
        assert_eq!(parse_reply(false, &ipv4_reply(43, 9, b"x", 5), 42), None);
        let mut req = vec![0x45u8; 1];
        req.extend_from_slice(&[0; 19]);
        req.extend_from_slice(&echo_request(false, 42, 1, b"x"));
        assert_eq!(parse_reply(false, &req, 42), None);
        assert_eq!(parse_reply(false, &[0x45, 0, 0], 42), None);
        assert_eq!(parse_reply(false, &[], 42), None);
        assert_eq!(parse_reply(false, &[0x60; 40], 42), None);
        // ICMPv6: no IP header.
        let mut r6 = echo_request(true, 42, 3, b"six");
        r6[0] = ICMP6_ECHO_REPLY;
        assert_eq!(parse_reply(true, &r6, 42).map(|r| r.seq), Some(3));
        assert_eq!(parse_reply(true, &r6[..7], 42), None);
    }

    #[test]
    fn group_window_drops_duplicates_and_wraps() {
        let mut w = SeqWindow::default();
        assert!(w.first(0));
        assert!(!w.first(0));
        assert!(w.first(1));
        // 128 later reuses slot 0 and is new.
        assert!(w.first(128));
        assert!(!w.first(128));
        // The old 0 is no longer remembered.
        assert!(w.first(0));
        assert!(w.first(u16::MAX));
        assert!(!w.first(u16::MAX));
    }

    #[test]
    fn non_ping_media_are_refused_and_bad_hosts_fail_cleanly() {
        let e = open_ping(&Medium::Bcast {
            iface: "eth0".into(),
            port: 694,
        })
        .expect_err("bcast");
        assert!(
            matches!(e, MediaError::Unsupported { kind: "bcast" }),
            "{e}"
        );
        let e = resolve("ping x", "no-such-host.invalid", false).expect_err("bad host");
        assert!(
            matches!(
                e,
                MediaError::Resolve { .. } | MediaError::NoIpv4Peer { .. }
            ),
            "{e}"
        );
        assert_eq!(
            resolve("ping x", "198.18.0.1", false).expect("numeric"),
            "198.18.0.1".parse::<IpAddr>().expect("ip")
        );
        assert!(resolve("ping6 x", "198.18.0.1", true).is_err());
    }
}
