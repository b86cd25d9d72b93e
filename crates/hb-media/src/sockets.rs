//! [`open`] turns one configured [`Medium`] into a [`MediumSockets`]: the
//! send and receive sockets (or the tty) the write and read children drive.
//!
//! Opening happens in the master before it forks the pair of children, as in
//! the C daemon; each child then uses one half. All descriptors are
//! close-on-exec.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use hb_config::Medium;

use crate::iface;
use crate::plan::{self, Retry, UdpPlan};
use crate::serial::SerialLink;
use crate::MediaError;

/// Bind retries of bcast and ucast (C: 10 tries, 1 s apart).
pub const BIND_RETRY_SHORT: Retry = Retry::new(10, Duration::from_secs(1));
/// Bind retries of mcast, mcast6 and ucast6 (C: 50 tries, 1 s apart).
pub const BIND_RETRY_LONG: Retry = Retry::new(50, Duration::from_secs(1));
/// Waiting for an mcast interface to get its IPv4 address (C: 120 × 1 s).
pub const IFACE_ADDR_RETRY: Retry = Retry::new(120, Duration::from_secs(1));

/// Knobs for [`open_with`]; the defaults are the C daemon's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOptions {
    /// Bind retries for every medium; `None` = per medium
    /// ([`BIND_RETRY_SHORT`] for bcast/ucast, [`BIND_RETRY_LONG`] otherwise).
    pub bind_retry: Option<Retry>,
    /// Waiting for an mcast interface's IPv4 address.
    pub iface_retry: Retry,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            bind_retry: None,
            iface_retry: IFACE_ADDR_RETRY,
        }
    }
}

#[derive(Debug)]
enum Link {
    Udp {
        send: UdpSocket,
        recv: UdpSocket,
        dest: SocketAddr,
    },
    Serial(SerialLink),
}

/// What one medium opened.
#[derive(Debug)]
pub struct MediumSockets {
    medium: Medium,
    label: String,
    description: String,
    link: Link,
}

/// Opens `medium` with the C daemon's retry behaviour.
pub fn open(medium: &Medium) -> Result<MediumSockets, MediaError> {
    open_with(medium, &OpenOptions::default())
}

/// Opens `medium`; ping media are refused ([`MediaError::Unsupported`]):
/// they are opened with [`crate::open_ping`].
pub fn open_with(medium: &Medium, opts: &OpenOptions) -> Result<MediumSockets, MediaError> {
    let label = format!("{} {}", medium.kind(), medium.name());
    let short = opts.bind_retry.unwrap_or(BIND_RETRY_SHORT);
    let long = opts.bind_retry.unwrap_or(BIND_RETRY_LONG);
    let plan = match medium {
        Medium::Bcast { iface, port } => {
            plan::bcast(&label, &iface::lookup(&label, iface)?, *port, short)?
        }
        Medium::Mcast {
            iface,
            group,
            port,
            ttl,
            loopback,
        } => {
            let (info, addr) = iface::lookup_with_ipv4(&label, iface, opts.iface_retry)?;
            plan::mcast(&info, addr, *group, *port, *ttl, *loopback, long)
        }
        Medium::Ucast { iface, peer, port } => {
            let info = iface::lookup(&label, iface)?;
            plan::ucast(&info, resolve_v4(&label, peer, *port)?, *port, short)
        }
        Medium::Mcast6 {
            iface,
            group,
            port,
            hops,
            loopback,
        } => plan::mcast6(
            &iface::lookup(&label, iface)?,
            *group,
            *port,
            *hops,
            *loopback,
            long,
        ),
        Medium::Ucast6 { iface, peer, port } => {
            plan::ucast6(&label, &iface::lookup(&label, iface)?, peer, *port, long)?
        }
        Medium::Serial { device, baud } => {
            let link = SerialLink::open(&label, device, *baud)?;
            return Ok(MediumSockets {
                medium: medium.clone(),
                description: format!("Starting serial heartbeat on tty {device} ({baud} baud)"),
                label,
                link: Link::Serial(link),
            });
        }
        Medium::Ping { .. } | Medium::Ping6 { .. } | Medium::PingGroup { .. } => {
            return Err(MediaError::Unsupported {
                kind: medium.kind(),
            })
        }
    };
    open_plan(medium, label, plan)
}

fn open_plan(medium: &Medium, label: String, plan: UdpPlan) -> Result<MediumSockets, MediaError> {
    let send = crate::udp::build(&label, &plan.send)?;
    let recv = crate::udp::build(&label, &plan.recv)?;
    Ok(MediumSockets {
        medium: medium.clone(),
        label,
        description: plan.description,
        link: Link::Udp {
            send,
            recv,
            dest: plan.dest,
        },
    })
}

/// Resolves a ucast peer to its first IPv4 address (as `gethostbyname`).
fn resolve_v4(label: &str, peer: &str, port: u16) -> Result<Ipv4Addr, MediaError> {
    if let Ok(a) = peer.parse::<Ipv4Addr>() {
        return Ok(a);
    }
    let addrs = (peer, port)
        .to_socket_addrs()
        .map_err(|source| MediaError::Resolve {
            medium: label.to_owned(),
            peer: peer.to_owned(),
            source,
        })?;
    addrs
        .filter_map(|a| match a.ip() {
            IpAddr::V4(v4) => Some(v4),
            IpAddr::V6(_) => None,
        })
        .next()
        .ok_or_else(|| MediaError::NoIpv4Peer {
            medium: label.to_owned(),
            peer: peer.to_owned(),
        })
}

impl MediumSockets {
    /// The medium this was opened for.
    pub fn medium(&self) -> &Medium {
        &self.medium
    }

    /// `"<type> <name>"`, e.g. `ucast eth1` (the words of logs and titles).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The C plugin's start line, e.g.
    /// `UDP Broadcast heartbeat started on port 694 (694) interface eth1`.
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Where packets go (UDP media); `None` for a tty.
    pub fn destination(&self) -> Option<SocketAddr> {
        match &self.link {
            Link::Udp { dest, .. } => Some(*dest),
            Link::Serial(_) => None,
        }
    }

    /// The UDP send socket (`None` for a tty), for inspection or mio.
    pub fn send_socket(&self) -> Option<&UdpSocket> {
        match &self.link {
            Link::Udp { send, .. } => Some(send),
            Link::Serial(_) => None,
        }
    }

    /// The UDP receive socket (`None` for a tty).
    pub fn recv_socket(&self) -> Option<&UdpSocket> {
        match &self.link {
            Link::Udp { recv, .. } => Some(recv),
            Link::Serial(_) => None,
        }
    }

    /// Descriptor to wait on before [`send`](Self::send) (the tty for serial).
    pub fn send_fd(&self) -> BorrowedFd<'_> {
        match &self.link {
            Link::Udp { send, .. } => send.as_fd(),
            Link::Serial(s) => s.fd(),
        }
    }

    /// Descriptor to wait on before [`recv`](Self::recv) (the tty for serial).
    /// For serial also check [`has_buffered`](Self::has_buffered) first.
    pub fn recv_fd(&self) -> BorrowedFd<'_> {
        match &self.link {
            Link::Udp { recv, .. } => recv.as_fd(),
            Link::Serial(s) => s.fd(),
        }
    }

    /// True if a received packet is already buffered in user space
    /// (serial only: several frames can arrive in one read).
    pub fn has_buffered(&self) -> bool {
        match &self.link {
            Link::Udp { .. } => false,
            Link::Serial(s) => s.has_buffered(),
        }
    }

    /// Sends one packet: one datagram to the destination, or one classic
    /// frame down the tty. A short UDP write is an error.
    pub fn send(&self, packet: &[u8]) -> Result<(), MediaError> {
        match &self.link {
            Link::Udp { send, dest, .. } => {
                let err = |source| MediaError::Send {
                    medium: self.label.clone(),
                    dest: dest.to_string(),
                    source,
                };
                let n = send.send_to(packet, dest).map_err(err)?;
                if n != packet.len() {
                    return Err(err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        format!("sent {n} of {} bytes", packet.len()),
                    )));
                }
                Ok(())
            }
            Link::Serial(s) => s.send(&self.label, packet),
        }
    }

    /// Receives one packet into `buf` and returns its length. A UDP datagram
    /// longer than `buf` is truncated: use a [`crate::MAXMSG`] buffer.
    pub fn recv(&self, buf: &mut [u8]) -> Result<usize, MediaError> {
        self.recv_from(buf).map(|(n, _)| n)
    }

    /// [`recv`](Self::recv), with the sender's address (UDP only).
    pub fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, Option<SocketAddr>), MediaError> {
        match &self.link {
            Link::Udp { recv, .. } => {
                recv.recv_from(buf)
                    .map(|(n, a)| (n, Some(a)))
                    .map_err(|source| MediaError::Recv {
                        medium: self.label.clone(),
                        source,
                    })
            }
            Link::Serial(s) => s.recv(&self.label, buf).map(|n| (n, None)),
        }
    }

    /// Drops datagrams from `own` in the kernel from now on (UDP only;
    /// `crate::echo`).
    pub fn drop_datagrams_from(&self, own: std::net::Ipv4Addr) -> io::Result<()> {
        match &self.link {
            Link::Udp { recv, .. } => crate::echo::drop_datagrams_from(recv, own),
            Link::Serial(_) => Ok(()),
        }
    }

    fn mode_err(&self) -> impl Fn(io::Error) -> MediaError + '_ {
        move |source| MediaError::Mode {
            medium: self.label.clone(),
            source,
        }
    }

    /// Switches both descriptors to non-blocking (for an event loop) or back.
    pub fn set_nonblocking(&self, on: bool) -> Result<(), MediaError> {
        match &self.link {
            Link::Udp { send, recv, .. } => {
                send.set_nonblocking(on).map_err(self.mode_err())?;
                recv.set_nonblocking(on).map_err(self.mode_err())
            }
            Link::Serial(s) => s.set_nonblocking(on).map_err(self.mode_err()),
        }
    }

    /// Bounds each send (UDP: `SO_SNDTIMEO`; serial: per 512-byte chunk,
    /// `None` = the 500 ms default). A timed-out send fails with
    /// `WouldBlock`/`TimedOut`.
    pub fn set_send_timeout(&self, t: Option<Duration>) -> Result<(), MediaError> {
        match &self.link {
            Link::Udp { send, .. } => send
                .set_write_timeout(t.filter(|d| !d.is_zero()))
                .map_err(self.mode_err()),
            Link::Serial(s) => {
                s.set_send_timeout(t);
                Ok(())
            }
        }
    }

    /// Bounds each receive (`None` = wait forever).
    pub fn set_recv_timeout(&self, t: Option<Duration>) -> Result<(), MediaError> {
        match &self.link {
            Link::Udp { recv, .. } => recv
                .set_read_timeout(t.filter(|d| !d.is_zero()))
                .map_err(self.mode_err()),
            Link::Serial(s) => {
                s.set_recv_timeout(t);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_media_are_refused() {
        let e = open(&Medium::Ping {
            host: "198.18.0.1".into(),
        })
        .expect_err("ping");
        assert!(matches!(e, MediaError::Unsupported { kind: "ping" }), "{e}");
    }

    #[test]
    fn numeric_peers_resolve_without_dns_and_names_fail_cleanly() {
        assert_eq!(
            resolve_v4("ucast x", "198.18.0.12", 694).expect("numeric"),
            Ipv4Addr::new(198, 18, 0, 12)
        );
        assert_eq!(
            resolve_v4("ucast x", "localhost", 694).expect("hosts file"),
            Ipv4Addr::LOCALHOST
        );
        let e = resolve_v4("ucast x", "no-such-host.invalid", 694).expect_err("unresolvable");
        assert!(
            matches!(
                e,
                MediaError::Resolve { .. } | MediaError::NoIpv4Peer { .. }
            ),
            "{e}"
        );
    }

    #[test]
    fn unknown_interface_fails_before_any_socket() {
        let m = Medium::Bcast {
            iface: "hbm-none9".into(),
            port: 694,
        };
        let e = open(&m).expect_err("no iface");
        assert!(matches!(e, MediaError::NoSuchInterface { .. }), "{e}");
    }

    #[test]
    fn bad_baud_is_reported_before_opening_the_tty() {
        let m = Medium::Serial {
            device: "/dev/null".into(),
            baud: 1234,
        };
        let e = open(&m).expect_err("bad baud");
        assert!(matches!(e, MediaError::BadBaud { baud: 1234, .. }), "{e}");
    }
}
