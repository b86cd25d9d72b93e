//! The exact socket recipe of each UDP medium (docs/protocol.md §11.1–11.3, §11.7),
//! computed without touching the network so it can be unit-tested.
//!
//! A [`UdpPlan`] lists, for the send and the receive socket, every option in
//! the order the C plugins set it, whether a failure is fatal (as in the C
//! code: e.g. `IP_TOS` failing is only logged, `SO_BINDTODEVICE` failing
//! stops the medium), where the receive socket is bound and how binding is
//! retried, the destination of every packet, and the start line to log.
//! [`crate::udp`] carries a plan out.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::time::Duration;

use crate::iface::IfaceInfo;
use crate::MediaError;

/// `IPTOS_LOWDELAY`, the type of service of ucast packets.
pub const IPTOS_LOWDELAY: u32 = 0x10;
/// Socket buffer size of the IPv6 media (1 MiB).
pub const V6_BUFFER: usize = 1024 * 1024;

/// How often and how far apart to retry something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts in total (at least one is always made).
    pub tries: u32,
    /// Pause between attempts.
    pub delay: Duration,
}

impl Retry {
    /// `tries` attempts, `delay` apart.
    pub const fn new(tries: u32, delay: Duration) -> Self {
        Retry { tries, delay }
    }
}

/// Address family of a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `AF_INET`.
    V4,
    /// `AF_INET6`.
    V6,
}

/// One socket option with its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opt {
    /// `SO_BROADCAST` = 1.
    Broadcast,
    /// `SO_DONTROUTE` = 1.
    DontRoute,
    /// `SO_BINDTODEVICE` = interface.
    BindToDevice(String),
    /// `SO_REUSEADDR` = 1.
    ReuseAddr,
    /// `SO_REUSEPORT` = 1.
    ReusePort,
    /// `IP_TOS`.
    Tos(u32),
    /// `IP_MULTICAST_IF` = interface address.
    McastIfV4(Ipv4Addr),
    /// `IP_MULTICAST_LOOP`.
    McastLoopV4(bool),
    /// `IP_MULTICAST_TTL`.
    McastTtlV4(u32),
    /// `IPV6_MULTICAST_IF` = interface index.
    McastIfV6(u32),
    /// `IPV6_MULTICAST_LOOP`.
    McastLoopV6(bool),
    /// `IPV6_MULTICAST_HOPS`.
    McastHopsV6(u32),
    /// `SO_SNDBUF`.
    SndBuf(usize),
    /// `SO_RCVBUF`.
    RcvBuf(usize),
    /// `IP_ADD_MEMBERSHIP` of `group` on the interface with address `iface`.
    JoinV4 {
        /// Group.
        group: Ipv4Addr,
        /// Interface address.
        iface: Ipv4Addr,
    },
    /// `IPV6_JOIN_GROUP` of `group` on interface `index`.
    JoinV6 {
        /// Group.
        group: Ipv6Addr,
        /// Interface index.
        index: u32,
    },
}

impl fmt::Display for Opt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Opt::Broadcast => write!(f, "SO_BROADCAST"),
            Opt::DontRoute => write!(f, "SO_DONTROUTE"),
            Opt::BindToDevice(d) => write!(f, "SO_BINDTODEVICE {d}"),
            Opt::ReuseAddr => write!(f, "SO_REUSEADDR"),
            Opt::ReusePort => write!(f, "SO_REUSEPORT"),
            Opt::Tos(t) => write!(f, "IP_TOS {t:#x}"),
            Opt::McastIfV4(a) => write!(f, "IP_MULTICAST_IF {a}"),
            Opt::McastLoopV4(l) => write!(f, "IP_MULTICAST_LOOP {}", u8::from(*l)),
            Opt::McastTtlV4(t) => write!(f, "IP_MULTICAST_TTL {t}"),
            Opt::McastIfV6(i) => write!(f, "IPV6_MULTICAST_IF {i}"),
            Opt::McastLoopV6(l) => write!(f, "IPV6_MULTICAST_LOOP {}", u8::from(*l)),
            Opt::McastHopsV6(h) => write!(f, "IPV6_MULTICAST_HOPS {h}"),
            Opt::SndBuf(n) => write!(f, "SO_SNDBUF {n}"),
            Opt::RcvBuf(n) => write!(f, "SO_RCVBUF {n}"),
            Opt::JoinV4 { group, iface } => write!(f, "IP_ADD_MEMBERSHIP {group} on {iface}"),
            Opt::JoinV6 { group, index } => {
                write!(f, "IPV6_JOIN_GROUP {group} on interface #{index}")
            }
        }
    }
}

/// What a failure to set an option means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// The medium cannot be opened.
    Fail,
    /// Logged; the medium opens anyway.
    Log,
    /// Logged if the kernel lacks the option (`ENOPROTOOPT`), fatal otherwise.
    FailUnlessNoProtoOpt,
}

/// How the receive socket is bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindPlan {
    /// Local address.
    pub addr: SocketAddr,
    /// Attempts and pause.
    pub retry: Retry,
    /// Retry on any error (bcast) or only on `EADDRINUSE` (the others).
    pub retry_any_error: bool,
}

/// Recipe for one socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketPlan {
    /// Address family.
    pub family: Family,
    /// Options set before binding, in order.
    pub setup: Vec<(Opt, OnError)>,
    /// Bind (receive sockets); send sockets stay unbound (ephemeral port).
    pub bind: Option<BindPlan>,
    /// Options set after binding (multicast membership).
    pub after_bind: Vec<(Opt, OnError)>,
}

impl SocketPlan {
    /// Every option of the plan, in the order it is applied.
    pub fn options(&self) -> impl Iterator<Item = &(Opt, OnError)> {
        self.setup.iter().chain(self.after_bind.iter())
    }
}

/// Recipe for a whole UDP medium.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpPlan {
    /// Send socket.
    pub send: SocketPlan,
    /// Receive socket.
    pub recv: SocketPlan,
    /// Where every packet goes.
    pub dest: SocketAddr,
    /// The C plugin's start line.
    pub description: String,
}

fn unbound(family: Family, setup: Vec<(Opt, OnError)>) -> SocketPlan {
    SocketPlan {
        family,
        setup,
        bind: None,
        after_bind: Vec::new(),
    }
}

/// docs/protocol.md §11.1 `bcast <if>`: broadcast to the interface's broadcast address.
pub fn bcast(
    label: &str,
    iface: &IfaceInfo,
    port: u16,
    bind_retry: Retry,
) -> Result<UdpPlan, MediaError> {
    let brd = iface
        .broadcast
        .ok_or_else(|| MediaError::NoBroadcastAddress {
            medium: label.to_owned(),
            iface: iface.name.clone(),
        })?;
    let dev = Opt::BindToDevice(iface.name.clone());
    Ok(UdpPlan {
        send: unbound(
            Family::V4,
            vec![
                (Opt::Broadcast, OnError::Fail),
                (Opt::DontRoute, OnError::Fail),
                (dev.clone(), OnError::Fail),
            ],
        ),
        recv: SocketPlan {
            family: Family::V4,
            setup: vec![(Opt::ReuseAddr, OnError::Log), (dev, OnError::Fail)],
            bind: Some(BindPlan {
                addr: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port).into(),
                retry: bind_retry,
                retry_any_error: true,
            }),
            after_bind: Vec::new(),
        },
        dest: SocketAddrV4::new(brd, port).into(),
        description: format!(
            "UDP Broadcast heartbeat started on port {port} ({port}) interface {}",
            iface.name
        ),
    })
}

/// docs/protocol.md §11.2 `mcast <if> <group> <port> <ttl> <loop>`; `iface_addr` is the
/// interface's IPv4 address (outgoing interface and membership).
pub fn mcast(
    iface: &IfaceInfo,
    iface_addr: Ipv4Addr,
    group: Ipv4Addr,
    port: u16,
    ttl: u8,
    loopback: bool,
    bind_retry: Retry,
) -> UdpPlan {
    UdpPlan {
        send: unbound(
            Family::V4,
            vec![
                (Opt::McastIfV4(iface_addr), OnError::Log),
                (Opt::McastLoopV4(loopback), OnError::Log),
                (Opt::McastTtlV4(u32::from(ttl)), OnError::Log),
            ],
        ),
        recv: SocketPlan {
            family: Family::V4,
            setup: vec![(Opt::ReuseAddr, OnError::Log)],
            bind: Some(BindPlan {
                addr: SocketAddrV4::new(group, port).into(),
                retry: bind_retry,
                retry_any_error: false,
            }),
            after_bind: vec![(Opt::JoinV4 { group, iface: iface_addr }, OnError::Fail)],
        },
        dest: SocketAddrV4::new(group, port).into(),
        description: format!(
            "UDP multicast heartbeat started for group {group} port {port} interface {} (ttl={ttl} loop={})",
            iface.name,
            u8::from(loopback)
        ),
    }
}

/// docs/protocol.md §11.3 `ucast <if> <peer>`; `peer` is the resolved IPv4 address.
pub fn ucast(iface: &IfaceInfo, peer: Ipv4Addr, port: u16, bind_retry: Retry) -> UdpPlan {
    let dev = Opt::BindToDevice(iface.name.clone());
    UdpPlan {
        send: unbound(
            Family::V4,
            vec![
                (Opt::Tos(IPTOS_LOWDELAY), OnError::Log),
                (dev.clone(), OnError::Fail),
                (Opt::ReusePort, OnError::Fail),
            ],
        ),
        recv: SocketPlan {
            family: Family::V4,
            setup: vec![
                (Opt::ReuseAddr, OnError::Log),
                (dev, OnError::Fail),
                (Opt::ReusePort, OnError::FailUnlessNoProtoOpt),
            ],
            bind: Some(BindPlan {
                addr: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port).into(),
                retry: bind_retry,
                retry_any_error: false,
            }),
            after_bind: Vec::new(),
        },
        dest: SocketAddrV4::new(peer, port).into(),
        description: format!(
            "ucast: started on port {port} interface {} to {peer}",
            iface.name
        ),
    }
}

/// docs/protocol.md §11.7 `mcast6 <if> <group> <port> <hops> <loop>`.
pub fn mcast6(
    iface: &IfaceInfo,
    group: Ipv6Addr,
    port: u16,
    hops: u8,
    loopback: bool,
    bind_retry: Retry,
) -> UdpPlan {
    let bufs = [
        (Opt::SndBuf(V6_BUFFER), OnError::Log),
        (Opt::RcvBuf(V6_BUFFER), OnError::Log),
    ];
    let mut send = bufs.to_vec();
    send.extend([
        (Opt::McastIfV6(iface.index), OnError::Log),
        (Opt::McastLoopV6(loopback), OnError::Log),
        (Opt::McastHopsV6(u32::from(hops)), OnError::Log),
    ]);
    let mut recv = vec![(Opt::ReuseAddr, OnError::Log)];
    recv.extend(bufs);
    UdpPlan {
        send: unbound(Family::V6, send),
        recv: SocketPlan {
            family: Family::V6,
            setup: recv,
            bind: Some(BindPlan {
                addr: SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, port, 0, 0).into(),
                retry: bind_retry,
                retry_any_error: false,
            }),
            after_bind: vec![(
                Opt::JoinV6 {
                    group,
                    index: iface.index,
                },
                OnError::Fail,
            )],
        },
        dest: SocketAddrV6::new(group, port, 0, scope_for(&group, iface.index)).into(),
        description: format!(
            "UDP multicast heartbeat started for [{group}]:{port} on interface {} (hops={hops} loop={})",
            iface.name,
            u8::from(loopback)
        ),
    }
}

fn scope_for(addr: &Ipv6Addr, index: u32) -> u32 {
    let link_local_unicast = addr.segments()[0] & 0xffc0 == 0xfe80;
    let link_local_mcast = addr.segments()[0] & 0xff0f == 0xff02;
    if link_local_unicast || link_local_mcast {
        index
    } else {
        0
    }
}

/// Parses a ucast6 peer: a numeric IPv6 address, optionally `%scope` where
/// scope is an interface name or index. Returns the address and the scope.
pub fn parse_ipv6_peer(peer: &str) -> Option<(Ipv6Addr, Option<&str>)> {
    let (addr, scope) = match peer.split_once('%') {
        Some((a, s)) if !s.is_empty() => (a, Some(s)),
        Some(_) => return None,
        None => (peer, None),
    };
    Some((addr.parse().ok()?, scope))
}

/// docs/protocol.md §11.7 `ucast6 <if> <peer>`: `peer` must be numeric; a link-local peer gets
/// the interface as scope (a different explicit scope is an error).
pub fn ucast6(
    label: &str,
    iface: &IfaceInfo,
    peer: &str,
    port: u16,
    bind_retry: Retry,
) -> Result<UdpPlan, MediaError> {
    let (addr, scope) = parse_ipv6_peer(peer).ok_or_else(|| MediaError::BadIpv6Peer {
        medium: label.to_owned(),
        peer: peer.to_owned(),
    })?;
    let scope_id = scope_for(&addr, iface.index);
    if let Some(s) = scope {
        let matches = s == iface.name || s.parse::<u32>().is_ok_and(|i| i == iface.index);
        if scope_id != 0 && !matches {
            return Err(MediaError::ScopeMismatch {
                medium: label.to_owned(),
                peer: peer.to_owned(),
                iface: iface.name.clone(),
            });
        }
    }
    let shown = if scope_id != 0 {
        format!("{addr}%{}", iface.name)
    } else {
        addr.to_string()
    };
    let dev = Opt::BindToDevice(iface.name.clone());
    let bufs = [
        (Opt::SndBuf(V6_BUFFER), OnError::Log),
        (Opt::RcvBuf(V6_BUFFER), OnError::Log),
    ];
    let mut send = bufs.to_vec();
    send.push((dev.clone(), OnError::Fail));
    let mut recv = vec![(Opt::ReuseAddr, OnError::Log)];
    recv.extend(bufs);
    recv.extend([
        (dev, OnError::Fail),
        (Opt::ReusePort, OnError::FailUnlessNoProtoOpt),
    ]);
    Ok(UdpPlan {
        send: unbound(Family::V6, send),
        recv: SocketPlan {
            family: Family::V6,
            setup: recv,
            bind: Some(BindPlan {
                addr: SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, port, 0, 0).into(),
                retry: bind_retry,
                retry_any_error: false,
            }),
            after_bind: Vec::new(),
        },
        dest: SocketAddrV6::new(addr, port, 0, scope_id).into(),
        description: format!(
            "ucast6: heartbeat started for [{shown}]:{port} on interface {}",
            iface.name
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eth1() -> IfaceInfo {
        IfaceInfo {
            name: "eth1".into(),
            index: 7,
            ipv4: Some(Ipv4Addr::new(198, 18, 0, 11)),
            broadcast: Some(Ipv4Addr::new(198, 18, 0, 255)),
        }
    }

    const R: Retry = Retry::new(10, Duration::from_secs(1));

    fn has(plan: &SocketPlan, opt: &Opt, on: OnError) -> bool {
        plan.options().any(|(o, e)| o == opt && *e == on)
    }

    #[test]
    fn bcast_sends_to_interface_broadcast_address() {
        let p = bcast("bcast eth1", &eth1(), 694, R).expect("plan");
        assert_eq!(
            p.dest,
            "198.18.0.255:694".parse::<SocketAddr>().expect("addr")
        );
        let dev = Opt::BindToDevice("eth1".into());
        assert_eq!(
            p.send.setup,
            vec![
                (Opt::Broadcast, OnError::Fail),
                (Opt::DontRoute, OnError::Fail),
                (dev.clone(), OnError::Fail)
            ]
        );
        assert!(
            p.send.bind.is_none(),
            "send socket must stay unbound (ephemeral source port)"
        );
        assert!(has(&p.recv, &Opt::ReuseAddr, OnError::Log));
        assert!(has(&p.recv, &dev, OnError::Fail));
        let b = p.recv.bind.expect("recv bound");
        assert_eq!(b.addr, "0.0.0.0:694".parse::<SocketAddr>().expect("addr"));
        assert!(b.retry_any_error);
        assert_eq!(b.retry, R);
        assert_eq!(
            p.description,
            "UDP Broadcast heartbeat started on port 694 (694) interface eth1"
        );
    }

    #[test]
    fn bcast_without_broadcast_address_is_an_error() {
        let mut i = eth1();
        i.broadcast = None;
        let e = bcast("bcast eth1", &i, 694, R).expect_err("no brd");
        assert_eq!(
            e.to_string(),
            "bcast eth1: interface eth1 has no IPv4 broadcast address"
        );
    }

    #[test]
    fn mcast_binds_group_and_joins_on_interface_address() {
        let g = Ipv4Addr::new(225, 0, 0, 1);
        let ifa = Ipv4Addr::new(198, 18, 0, 11);
        let p = mcast(&eth1(), ifa, g, 6940, 1, false, R);
        assert_eq!(p.dest, SocketAddr::from((g, 6940)));
        assert!(has(&p.send, &Opt::McastIfV4(ifa), OnError::Log));
        assert!(has(&p.send, &Opt::McastLoopV4(false), OnError::Log));
        assert!(has(&p.send, &Opt::McastTtlV4(1), OnError::Log));
        let b = p.recv.bind.expect("bound");
        assert_eq!(
            b.addr,
            SocketAddr::from((g, 6940)),
            "bound to the group, not INADDR_ANY"
        );
        assert!(!b.retry_any_error);
        assert_eq!(
            p.recv.after_bind,
            vec![(
                Opt::JoinV4 {
                    group: g,
                    iface: ifa
                },
                OnError::Fail
            )]
        );
        assert_eq!(
            p.description,
            "UDP multicast heartbeat started for group 225.0.0.1 port 6940 interface eth1 (ttl=1 loop=0)"
        );
    }

    #[test]
    fn ucast_uses_lowdelay_tos_device_and_reuseport() {
        let peer = Ipv4Addr::new(198, 18, 0, 12);
        let p = ucast(&eth1(), peer, 694, R);
        assert_eq!(p.dest, SocketAddr::from((peer, 694)));
        let dev = Opt::BindToDevice("eth1".into());
        assert_eq!(
            p.send.setup,
            vec![
                (Opt::Tos(0x10), OnError::Log),
                (dev.clone(), OnError::Fail),
                (Opt::ReusePort, OnError::Fail)
            ]
        );
        assert_eq!(
            p.recv.setup,
            vec![
                (Opt::ReuseAddr, OnError::Log),
                (dev, OnError::Fail),
                (Opt::ReusePort, OnError::FailUnlessNoProtoOpt)
            ]
        );
        assert_eq!(
            p.recv.bind.map(|b| b.addr),
            Some(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 694)))
        );
        assert_eq!(
            p.description,
            "ucast: started on port 694 interface eth1 to 198.18.0.12"
        );
    }

    #[test]
    fn mcast6_uses_index_buffers_and_any_bind() {
        let g: Ipv6Addr = "ff05::694".parse().expect("addr");
        let p = mcast6(&eth1(), g, 694, 1, true, R);
        assert!(has(&p.send, &Opt::McastIfV6(7), OnError::Log));
        assert!(has(&p.send, &Opt::McastLoopV6(true), OnError::Log));
        assert!(has(&p.send, &Opt::McastHopsV6(1), OnError::Log));
        assert!(has(&p.send, &Opt::SndBuf(1 << 20), OnError::Log));
        assert!(has(&p.recv, &Opt::RcvBuf(1 << 20), OnError::Log));
        assert_eq!(
            p.recv.after_bind,
            vec![(Opt::JoinV6 { group: g, index: 7 }, OnError::Fail)]
        );
        assert_eq!(
            p.recv.bind.map(|b| b.addr),
            Some("[::]:694".parse().expect("addr"))
        );
        assert_eq!(
            p.dest,
            "[ff05::694]:694".parse::<SocketAddr>().expect("addr")
        );
        let p = mcast6(&eth1(), "ff02::1:2".parse().expect("addr"), 694, 1, true, R);
        assert!(
            matches!(p.dest, SocketAddr::V6(d) if d.scope_id() == 7),
            "link-local group needs the scope"
        );
    }

    #[test]
    fn ucast6_link_local_peer_gets_interface_scope() {
        let p = ucast6("ucast6 eth1", &eth1(), "fe80::2", 694, R).expect("plan");
        assert!(matches!(p.dest, SocketAddr::V6(d) if d.scope_id() == 7 && d.port() == 694));
        assert_eq!(
            p.description,
            "ucast6: heartbeat started for [fe80::2%eth1]:694 on interface eth1"
        );
        let p = ucast6("ucast6 eth1", &eth1(), "fe80::2%eth1", 694, R)
            .expect("explicit matching scope");
        assert!(matches!(p.dest, SocketAddr::V6(d) if d.scope_id() == 7));
        let p = ucast6("ucast6 eth1", &eth1(), "2001:db8::2", 694, R).expect("global");
        assert!(matches!(p.dest, SocketAddr::V6(d) if d.scope_id() == 0));
        assert!(has(
            &p.recv,
            &Opt::BindToDevice("eth1".into()),
            OnError::Fail
        ));
        assert!(has(
            &p.send,
            &Opt::BindToDevice("eth1".into()),
            OnError::Fail
        ));
    }

    #[test]
    fn ucast6_rejects_names_and_foreign_scopes() {
        let e = ucast6("ucast6 eth1", &eth1(), "peer.example", 694, R).expect_err("numeric only");
        assert!(matches!(e, MediaError::BadIpv6Peer { .. }));
        let e = ucast6("ucast6 eth1", &eth1(), "fe80::2%eth2", 694, R).expect_err("scope mismatch");
        assert!(matches!(e, MediaError::ScopeMismatch { .. }));
        assert!(parse_ipv6_peer("fe80::1%").is_none());
    }
}
