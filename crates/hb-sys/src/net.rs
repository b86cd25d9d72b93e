//! IPv4 address takeover without helper programs: adding and removing an
//! address over rtnetlink, listing addresses and links, and gratuitous ARP.
//!
//! This is the native fast path behind the `IPaddr`/`IPaddr2` resources
//! (issue 5): the shell agents spend ≈ 100–150 ms forking `ip`, `findif`
//! and `send_arp`; a netlink request and one raw frame take microseconds.
//!
//! * [`add_address`] / [`delete_address`] send one `RTM_NEWADDR` /
//!   `RTM_DELADDR` request with `NLM_F_ACK` on a `NETLINK_ROUTE` socket and
//!   wait (bounded) for the kernel's answer. The message carries the same
//!   attributes `ip addr add A/N brd B dev D label L` does: `IFA_LOCAL`,
//!   `IFA_ADDRESS`, `IFA_BROADCAST`, `IFA_LABEL`. Encoding and answer
//!   parsing are pure functions ([`encode_addr_request`], [`parse_ack`]) so
//!   they are unit-tested byte by byte.
//! * [`ipv4_addresses`] and [`link`] read the current state with
//!   `getifaddrs` (what is configured, interface indexes and MACs).
//! * [`ArpSender`] sends gratuitous ARP requests (sender = target = the
//!   address, broadcast), the frame IPaddr2's `send_arp` sends; Linux
//!   neighbours replace a cached MAC on such a request at once, whatever
//!   their `locktime`.
//!
//! Everything goes through nix's safe API except `sendto` on the
//! `AF_PACKET` socket, which needs a `sockaddr_ll` that nix cannot build:
//! that is the one `unsafe` block here.

use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{
    bind, recv, sendto, setsockopt, socket, sockopt, AddressFamily, MsgFlags, NetlinkAddr,
    SockFlag, SockProtocol, SockType,
};
use nix::sys::time::TimeVal;

/// Errors of the address and ARP operations, naming what failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NetError {
    /// No interface of that name exists (in this network namespace).
    #[error("no network interface named {0:?}")]
    NoInterface(String),
    /// The interface has no Ethernet address, so ARP cannot be sent on it.
    #[error("interface {0} has no Ethernet (MAC) address")]
    NoMac(String),
    /// An interface label longer than the kernel's 15 characters.
    #[error("interface label {0:?} is longer than 15 characters")]
    LabelTooLong(String),
    /// A system call failed.
    #[error("{call} failed: {errno}")]
    Sys {
        /// The call, e.g. `netlink socket`.
        call: &'static str,
        /// The error.
        errno: Errno,
    },
    /// The kernel refused the request (`EEXIST`, `EADDRNOTAVAIL`, `EPERM`, …).
    #[error("the kernel refused to {op} {addr}/{prefix_len}: {errno}")]
    Refused {
        /// `add` or `delete`.
        op: &'static str,
        /// The address.
        addr: Ipv4Addr,
        /// Its prefix length.
        prefix_len: u8,
        /// The kernel's error.
        errno: Errno,
    },
    /// The kernel's answer did not come or made no sense.
    #[error("bad or missing netlink answer: {0}")]
    Protocol(String),
}

fn sys(call: &'static str) -> impl FnOnce(Errno) -> NetError {
    move |errno| NetError::Sys { call, errno }
}

// ----- rtnetlink message layout (linux/netlink.h, linux/rtnetlink.h,
// linux/if_addr.h); native byte order, 4-byte alignment.

const NLMSG_HDRLEN: usize = 16;
/// `NLMSG_ERROR`: the answer to a request with `NLM_F_ACK` (error 0 = ack).
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
/// `RTM_NEWADDR`.
pub const RTM_NEWADDR: u16 = 20;
/// `RTM_DELADDR`.
pub const RTM_DELADDR: u16 = 21;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_LABEL: u16 = 3;
const IFA_BROADCAST: u16 = 4;
const AF_INET: u8 = 2;
/// `RT_SCOPE_UNIVERSE`.
const SCOPE_UNIVERSE: u8 = 0;
/// Longest interface label (`IFNAMSIZ` − 1).
pub const MAX_LABEL: usize = 15;
/// How long to wait for the kernel's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);

/// Add or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrOp {
    /// `RTM_NEWADDR` with `NLM_F_CREATE | NLM_F_EXCL`.
    Add,
    /// `RTM_DELADDR`.
    Delete,
}

impl AddrOp {
    fn word(self) -> &'static str {
        match self {
            AddrOp::Add => "add",
            AddrOp::Delete => "delete",
        }
    }
}

/// One IPv4 address on one interface, as `ip addr add` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrSpec {
    /// Interface index.
    pub ifindex: u32,
    /// The address.
    pub addr: Ipv4Addr,
    /// Prefix length (0–32).
    pub prefix_len: u8,
    /// Broadcast address, if any.
    pub broadcast: Option<Ipv4Addr>,
    /// Label (`eth0:0`), if any; at most [`MAX_LABEL`] bytes.
    pub label: Option<String>,
}

fn push_attr(buf: &mut Vec<u8>, kind: u16, data: &[u8]) {
    let len = 4 + data.len();
    buf.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(data);
    while buf.len() % 4 != 0 {
        buf.push(0);
    }
}

/// The complete netlink request for `op` on `spec`, sequence number `seq`.
pub fn encode_addr_request(op: AddrOp, spec: &AddrSpec, seq: u32) -> Result<Vec<u8>, NetError> {
    if let Some(l) = &spec.label {
        if l.len() > MAX_LABEL || l.contains('\0') {
            return Err(NetError::LabelTooLong(l.clone()));
        }
    }
    let (kind, flags) = match op {
        AddrOp::Add => (
            RTM_NEWADDR,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
        ),
        AddrOp::Delete => (RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK),
    };
    let mut buf = Vec::with_capacity(64);
    buf.extend_from_slice(&0u32.to_ne_bytes()); // length, patched below
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(&flags.to_ne_bytes());
    buf.extend_from_slice(&seq.to_ne_bytes());
    buf.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel
                                                // struct ifaddrmsg
    buf.push(AF_INET);
    buf.push(spec.prefix_len.min(32));
    buf.push(0); // ifa_flags
    buf.push(SCOPE_UNIVERSE);
    buf.extend_from_slice(&spec.ifindex.to_ne_bytes());
    let octets = spec.addr.octets();
    push_attr(&mut buf, IFA_LOCAL, &octets);
    push_attr(&mut buf, IFA_ADDRESS, &octets);
    if let Some(b) = spec.broadcast {
        push_attr(&mut buf, IFA_BROADCAST, &b.octets());
    }
    if let Some(l) = &spec.label {
        let mut z = l.as_bytes().to_vec();
        z.push(0);
        push_attr(&mut buf, IFA_LABEL, &z);
    }
    let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
    buf[..4].copy_from_slice(&len.to_ne_bytes());
    Ok(buf)
}

/// Reads the kernel's answers in `buf` to request `seq`: `Some(Ok(()))` for
/// the acknowledgement, `Some(Err(errno))` for a refusal, `None` if `buf`
/// holds nothing about `seq`.
pub fn parse_ack(buf: &[u8], seq: u32) -> Result<Option<Result<(), Errno>>, NetError> {
    let mut rest = buf;
    while rest.len() >= NLMSG_HDRLEN {
        let word = |at: usize| -> u32 {
            u32::from_ne_bytes([rest[at], rest[at + 1], rest[at + 2], rest[at + 3]])
        };
        let len = usize::try_from(word(0)).unwrap_or(usize::MAX);
        if len < NLMSG_HDRLEN || len > rest.len() {
            return Err(NetError::Protocol(format!(
                "message length {len} in a {}-byte answer",
                rest.len()
            )));
        }
        let kind = u16::from_ne_bytes([rest[4], rest[5]]);
        if kind == NLMSG_ERROR && word(8) == seq {
            if len < NLMSG_HDRLEN + 4 {
                return Err(NetError::Protocol("short NLMSG_ERROR".into()));
            }
            let code = i32::from_ne_bytes([rest[16], rest[17], rest[18], rest[19]]);
            return Ok(Some(if code == 0 {
                Ok(())
            } else {
                Err(Errno::from_raw(code.saturating_neg()))
            }));
        }
        let step = (len + 3) & !3;
        rest = rest.get(step..).unwrap_or(&[]);
    }
    Ok(None)
}

fn next_seq() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static SEQ: AtomicU32 = AtomicU32::new(1);
    SEQ.fetch_add(1, Ordering::Relaxed)
}

/// Sends `op` for `spec` and waits for the kernel's verdict.
pub fn change_address(op: AddrOp, spec: &AddrSpec) -> Result<(), NetError> {
    let seq = next_seq();
    let req = encode_addr_request(op, spec, seq)?;
    let fd = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkRoute,
    )
    .map_err(sys("netlink socket"))?;
    bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 0)).map_err(sys("netlink bind"))?;
    let timeout = TimeVal::new(i64::try_from(ANSWER_TIMEOUT.as_secs()).unwrap_or(2), 0);
    setsockopt(&fd, sockopt::ReceiveTimeout, &timeout).map_err(sys("netlink SO_RCVTIMEO"))?;
    sendto(
        fd.as_raw_fd(),
        &req,
        &NetlinkAddr::new(0, 0),
        MsgFlags::empty(),
    )
    .map_err(sys("netlink send"))?;
    let mut buf = vec![0u8; 8192];
    // bounded: each recv waits at most ANSWER_TIMEOUT, and a handful of
    // unrelated messages is all a fresh unicast socket can receive
    for _ in 0..8 {
        let n = match recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty()) {
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => {
                return Err(NetError::Protocol(format!(
                    "no answer to {} within {ANSWER_TIMEOUT:?}",
                    op.word()
                )))
            }
            Err(e) => {
                return Err(NetError::Sys {
                    call: "netlink recv",
                    errno: e,
                })
            }
        };
        match parse_ack(&buf[..n], seq)? {
            Some(Ok(())) => return Ok(()),
            Some(Err(errno)) => {
                return Err(NetError::Refused {
                    op: op.word(),
                    addr: spec.addr,
                    prefix_len: spec.prefix_len,
                    errno,
                })
            }
            None => {}
        }
    }
    Err(NetError::Protocol(format!(
        "no acknowledgement for {}",
        op.word()
    )))
}

/// `ip addr add`: adds `spec`. An address that is already there is
/// `Refused { errno: EEXIST }`.
pub fn add_address(spec: &AddrSpec) -> Result<(), NetError> {
    change_address(AddrOp::Add, spec)
}

/// `ip addr del`: removes `spec`. An address that is not there is
/// `Refused { errno: EADDRNOTAVAIL }`.
pub fn delete_address(spec: &AddrSpec) -> Result<(), NetError> {
    change_address(AddrOp::Delete, spec)
}

// ----- reading the current state

/// One configured IPv4 address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Entry {
    /// The name `getifaddrs` reports: the label (`eth0:0`) if the address
    /// has one, else the interface name.
    pub name: String,
    /// The address.
    pub addr: Ipv4Addr,
    /// Its prefix length.
    pub prefix_len: u8,
    /// Its broadcast address, if any.
    pub broadcast: Option<Ipv4Addr>,
}

impl Ipv4Entry {
    /// The interface the address is on (the label without `:…`).
    pub fn interface(&self) -> &str {
        self.name.split(':').next().unwrap_or(&self.name)
    }

    /// Whether `ip` is inside this address's network.
    pub fn network_contains(&self, ip: Ipv4Addr) -> bool {
        let mask = prefix_mask(self.prefix_len);
        u32::from(self.addr) & mask == u32::from(ip) & mask
    }
}

/// The netmask of a prefix length, as a host-order integer.
pub fn prefix_mask(prefix_len: u8) -> u32 {
    match prefix_len {
        0 => 0,
        n => u32::MAX << (32 - u32::from(n.min(32))),
    }
}

/// Every IPv4 address configured in this network namespace.
pub fn ipv4_addresses() -> Result<Vec<Ipv4Entry>, NetError> {
    let all = nix::ifaddrs::getifaddrs().map_err(sys("getifaddrs"))?;
    Ok(all
        .filter_map(|ifa| {
            let addr = ifa.address.as_ref()?.as_sockaddr_in()?.ip();
            let mask = ifa
                .netmask
                .as_ref()
                .and_then(|m| m.as_sockaddr_in())
                .map_or(32, |m| u32::from(m.ip()).count_ones());
            let broadcast = ifa
                .broadcast
                .as_ref()
                .and_then(|b| b.as_sockaddr_in())
                .map(|b| b.ip());
            Some(Ipv4Entry {
                name: ifa.interface_name.clone(),
                addr,
                prefix_len: u8::try_from(mask).unwrap_or(32),
                broadcast,
            })
        })
        .collect())
}

/// A network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Its name.
    pub name: String,
    /// Its index.
    pub index: u32,
    /// Its Ethernet address, if it has one.
    pub mac: Option<[u8; 6]>,
}

/// The interface called `name`.
pub fn link(name: &str) -> Result<Link, NetError> {
    if name.is_empty() || name.len() > MAX_LABEL || name.contains(['/', '\0', ':']) {
        return Err(NetError::NoInterface(name.to_string()));
    }
    let index = match nix::net::if_::if_nametoindex(name) {
        Ok(i) => i,
        Err(Errno::ENODEV) => return Err(NetError::NoInterface(name.to_string())),
        Err(e) => {
            return Err(NetError::Sys {
                call: "if_nametoindex",
                errno: e,
            })
        }
    };
    let mac = nix::ifaddrs::getifaddrs()
        .map_err(sys("getifaddrs"))?
        .filter(|ifa| ifa.interface_name == name)
        .find_map(|ifa| ifa.address.as_ref()?.as_link_addr()?.addr())
        .filter(|m| m.iter().any(|b| *b != 0));
    Ok(Link {
        name: name.to_string(),
        index,
        mac,
    })
}

// ----- gratuitous ARP

/// Length of an ARP frame over Ethernet (without padding).
pub const ARP_FRAME_LEN: usize = 42;
const ETH_P_ARP: u16 = 0x0806;

/// A gratuitous ARP request announcing `ip` at `mac`: broadcast, sender
/// and target protocol address both `ip`, target hardware address zero.
pub fn garp_frame(mac: [u8; 6], ip: Ipv4Addr) -> [u8; ARP_FRAME_LEN] {
    let mut f = [0u8; ARP_FRAME_LEN];
    f[0..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&ETH_P_ARP.to_be_bytes());
    f[14..16].copy_from_slice(&1u16.to_be_bytes()); // Ethernet
    f[16..18].copy_from_slice(&0x0800u16.to_be_bytes()); // IPv4
    f[18] = 6;
    f[19] = 4;
    f[20..22].copy_from_slice(&1u16.to_be_bytes()); // request
    f[22..28].copy_from_slice(&mac);
    f[28..32].copy_from_slice(&ip.octets());
    // target hardware address stays zero
    f[38..42].copy_from_slice(&ip.octets());
    f
}

/// A raw `AF_PACKET` socket for sending ARP on one interface.
pub struct ArpSender {
    fd: OwnedFd,
    link: Link,
    mac: [u8; 6],
}

impl ArpSender {
    /// Opens a sender on `link` (which must have a MAC).
    pub fn open(link: &Link) -> Result<ArpSender, NetError> {
        let mac = link.mac.ok_or_else(|| NetError::NoMac(link.name.clone()))?;
        // protocol 0: this socket only sends, it receives nothing
        let fd = socket(
            AddressFamily::Packet,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .map_err(sys("AF_PACKET socket"))?;
        Ok(ArpSender {
            fd,
            link: link.clone(),
            mac,
        })
    }

    /// Sends one gratuitous ARP request for `ip`.
    pub fn send_garp(&self, ip: Ipv4Addr) -> Result<(), NetError> {
        let frame = garp_frame(self.mac, ip);
        let mut sll_addr = [0u8; 8];
        sll_addr[..6].copy_from_slice(&[0xff; 6]);
        let addr = libc::sockaddr_ll {
            sll_family: libc::AF_PACKET as libc::c_ushort,
            sll_protocol: ETH_P_ARP.to_be(),
            sll_ifindex: i32::try_from(self.link.index).unwrap_or(0),
            sll_hatype: 0,
            sll_pkttype: 0,
            sll_halen: 6,
            sll_addr,
        };
        let addr_len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        // nix cannot build a sockaddr_ll, so libc's sendto is called directly.
        // SAFETY: `frame` and `addr` are live stack values for the whole call;
        // the pointers and lengths passed describe exactly those buffers, and
        // the kernel only reads them.
        let rc = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                frame.as_ptr().cast(),
                frame.len(),
                0,
                std::ptr::addr_of!(addr).cast(),
                addr_len,
            )
        };
        if rc < 0 {
            return Err(NetError::Sys {
                call: "sendto (gratuitous ARP)",
                errno: Errno::last(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> AddrSpec {
        AddrSpec {
            ifindex: 7,
            addr: Ipv4Addr::new(198, 18, 0, 100),
            prefix_len: 24,
            broadcast: Some(Ipv4Addr::new(198, 18, 0, 255)),
            label: Some("eth0:0".into()),
        }
    }

    fn u16at(b: &[u8], at: usize) -> u16 {
        u16::from_ne_bytes([b[at], b[at + 1]])
    }
    fn u32at(b: &[u8], at: usize) -> u32 {
        u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    #[test]
    fn newaddr_request_layout() {
        let m = encode_addr_request(AddrOp::Add, &spec(), 0x1234).expect("encodes");
        // header 16 + ifaddrmsg 8 + LOCAL 8 + ADDRESS 8 + BROADCAST 8 + LABEL (4+7 → 12)
        assert_eq!(m.len(), 16 + 8 + 8 + 8 + 8 + 12);
        assert_eq!(u32at(&m, 0) as usize, m.len());
        assert_eq!(u16at(&m, 4), RTM_NEWADDR);
        assert_eq!(u16at(&m, 6), 0x1 | 0x4 | 0x400 | 0x200);
        assert_eq!(u32at(&m, 8), 0x1234);
        assert_eq!(u32at(&m, 12), 0);
        assert_eq!(&m[16..20], &[2, 24, 0, 0]);
        assert_eq!(u32at(&m, 20), 7);
        // attributes: (len, type, data)
        assert_eq!((u16at(&m, 24), u16at(&m, 26)), (8, 2));
        assert_eq!(&m[28..32], &[198, 18, 0, 100]);
        assert_eq!((u16at(&m, 32), u16at(&m, 34)), (8, 1));
        assert_eq!(&m[36..40], &[198, 18, 0, 100]);
        assert_eq!((u16at(&m, 40), u16at(&m, 42)), (8, 4));
        assert_eq!(&m[44..48], &[198, 18, 0, 255]);
        assert_eq!((u16at(&m, 48), u16at(&m, 50)), (11, 3));
        assert_eq!(&m[52..59], b"eth0:0\0");
        assert_eq!(m[59], 0, "padding");
    }

    #[test]
    fn deladdr_request_without_optional_attributes() {
        let mut s = spec();
        s.broadcast = None;
        s.label = None;
        let m = encode_addr_request(AddrOp::Delete, &s, 9).expect("encodes");
        assert_eq!(m.len(), 16 + 8 + 8 + 8);
        assert_eq!(u16at(&m, 4), RTM_DELADDR);
        assert_eq!(u16at(&m, 6), 0x1 | 0x4);
        assert_eq!(u32at(&m, 0) as usize, m.len());
    }

    #[test]
    fn long_label_is_refused() {
        let mut s = spec();
        s.label = Some("a-very-long-label".into());
        assert_eq!(
            encode_addr_request(AddrOp::Add, &s, 1),
            Err(NetError::LabelTooLong("a-very-long-label".into()))
        );
    }

    fn error_msg(seq: u32, code: i32) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&36u32.to_ne_bytes());
        m.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&4242u32.to_ne_bytes());
        m.extend_from_slice(&code.to_ne_bytes());
        m.extend_from_slice(&[0u8; 16]); // the echoed request header
        m
    }

    #[test]
    fn acks_and_refusals() {
        assert_eq!(parse_ack(&error_msg(5, 0), 5), Ok(Some(Ok(()))));
        assert_eq!(
            parse_ack(&error_msg(5, -libc::EEXIST), 5),
            Ok(Some(Err(Errno::EEXIST)))
        );
        // another sequence number: not ours
        assert_eq!(parse_ack(&error_msg(6, 0), 5), Ok(None));
        // two messages in one datagram, ours second
        let mut two = error_msg(1, 0);
        two.extend(error_msg(5, -libc::EADDRNOTAVAIL));
        assert_eq!(parse_ack(&two, 5), Ok(Some(Err(Errno::EADDRNOTAVAIL))));
    }

    #[test]
    fn malformed_answers_do_not_panic() {
        assert_eq!(parse_ack(&[], 1), Ok(None));
        assert_eq!(parse_ack(&[1, 2, 3], 1), Ok(None));
        let mut bad = error_msg(1, 0);
        bad[0..4].copy_from_slice(&1000u32.to_ne_bytes());
        assert!(parse_ack(&bad, 1).is_err());
        let mut short = error_msg(1, 0);
        short[0..4].copy_from_slice(&16u32.to_ne_bytes());
        short.truncate(16);
        assert!(parse_ack(&short, 1).is_err());
    }

    #[test]
    fn garp_frame_layout() {
        let mac = [2, 0, 0xc6, 0x12, 0, 0x0b];
        let f = garp_frame(mac, Ipv4Addr::new(198, 18, 0, 100));
        assert_eq!(&f[0..6], &[0xff; 6]);
        assert_eq!(&f[6..12], &mac);
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        assert_eq!(&f[14..22], &[0, 1, 8, 0, 6, 4, 0, 1]);
        assert_eq!(&f[22..28], &mac);
        assert_eq!(&f[28..32], &[198, 18, 0, 100]);
        assert_eq!(&f[32..38], &[0; 6]);
        assert_eq!(&f[38..42], &[198, 18, 0, 100]);
    }

    #[test]
    fn masks_and_networks() {
        assert_eq!(prefix_mask(0), 0);
        assert_eq!(prefix_mask(24), 0xffff_ff00);
        assert_eq!(prefix_mask(32), u32::MAX);
        assert_eq!(prefix_mask(40), u32::MAX);
        let e = Ipv4Entry {
            name: "eth0:1".into(),
            addr: Ipv4Addr::new(198, 18, 0, 11),
            prefix_len: 24,
            broadcast: None,
        };
        assert_eq!(e.interface(), "eth0");
        assert!(e.network_contains(Ipv4Addr::new(198, 18, 0, 100)));
        assert!(!e.network_contains(Ipv4Addr::new(198, 18, 1, 100)));
    }

    #[test]
    fn unknown_interface_is_named() {
        assert_eq!(
            link("hb-no-such0"),
            Err(NetError::NoInterface("hb-no-such0".into()))
        );
        assert!(matches!(link("a/b"), Err(NetError::NoInterface(_))));
    }
}
