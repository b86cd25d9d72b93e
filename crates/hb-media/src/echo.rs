//! Our own echoes, dropped in the kernel after the first.
//!
//! A broadcast (or looped multicast) heartbeat comes back to the host that
//! sent it. Heartbeat 3.0.6 reads every one and hands it to the master,
//! which only needs the first: it marks the node's own link up (own links
//! never die, docs/behaviour.md §7), and the message itself was already
//! looped back inside the master. At keepalive 100 ms that is 20 wake-ups
//! a second per node (read child and master) for duplicates.
//!
//! So the read child forwards the first datagram whose source is one of
//! this host's addresses and then attaches a classic BPF filter to its
//! socket that drops datagrams from that address before anybody is woken.
//! A packet from any other address, including another node that claims
//! our name, still comes through. The program (`SKF_NET_OFF` loads are
//! relative to the IP header, whatever the socket type):
//!
//! ```text
//!     ld  [net + 12]          ; IPv4 source address
//!     jeq #OWN, drop
//!     ret #0xffffffff         ; keep the whole datagram
//! drop:
//!     ret #0
//! ```

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};

/// `SKF_NET_OFF` (linux/filter.h): offsets from the network header.
const SKF_NET_OFF: i32 = -0x100000;

/// The filter program dropping datagrams from `own` (pure, unit-tested).
pub fn drop_source_program(own: Ipv4Addr) -> [libc::sock_filter; 4] {
    let ins = |code: u32, jt: u8, k: u32| libc::sock_filter {
        code: code as u16,
        jt,
        jf: 0,
        k,
    };
    [
        ins(
            libc::BPF_LD | libc::BPF_W | libc::BPF_ABS,
            0,
            (SKF_NET_OFF + 12) as u32,
        ),
        ins(
            libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
            1,
            u32::from(own),
        ),
        ins(libc::BPF_RET | libc::BPF_K, 0, u32::MAX),
        ins(libc::BPF_RET | libc::BPF_K, 0, 0),
    ]
}

/// Attaches [`drop_source_program`] for `own` to `sock`.
pub fn drop_datagrams_from(sock: &UdpSocket, own: Ipv4Addr) -> std::io::Result<()> {
    socket2::SockRef::from(sock).attach_filter(&drop_source_program(own))
}

/// The read child's view of its own echoes.
#[derive(Debug)]
pub(crate) struct EchoFilter {
    /// This host's IPv4 addresses when the child started.
    local: Vec<Ipv4Addr>,
    /// The filter is attached (or could not be: then we stop trying).
    done: bool,
}

impl EchoFilter {
    /// A filter for a child on a host with these addresses.
    pub(crate) fn new(local: Vec<Ipv4Addr>) -> EchoFilter {
        let done = local.is_empty();
        EchoFilter { local, done }
    }

    /// A datagram from `src` was just received (and will be forwarded):
    /// returns the address to drop from now on, once, if it is our own.
    pub(crate) fn own_source(&mut self, src: Option<SocketAddr>) -> Option<Ipv4Addr> {
        if self.done {
            return None;
        }
        let IpAddr::V4(ip) = src?.ip() else {
            return None;
        };
        if !self.local.contains(&ip) {
            return None;
        }
        self.done = true;
        Some(ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn program_drops_the_address_and_keeps_the_rest() {
        let p = drop_source_program(Ipv4Addr::new(198, 18, 0, 11));
        assert_eq!(p[0].k, (SKF_NET_OFF + 12) as u32);
        assert_eq!((p[1].jt, p[1].jf, p[1].k), (1, 0, 0xc612_000b));
        assert_eq!(p[2].k, u32::MAX, "accept");
        assert_eq!(p[3].k, 0, "drop");
    }

    #[test]
    fn only_the_first_own_datagram_asks_for_the_filter() {
        let own: SocketAddr = "198.18.0.11:694".parse().expect("addr");
        let peer: SocketAddr = "198.18.0.12:694".parse().expect("addr");
        let mut f = EchoFilter::new(vec![Ipv4Addr::new(198, 18, 0, 11)]);
        assert_eq!(f.own_source(Some(peer)), None);
        assert_eq!(f.own_source(None), None, "a tty has no source");
        assert_eq!(f.own_source(Some(own)), Some(Ipv4Addr::new(198, 18, 0, 11)));
        assert_eq!(f.own_source(Some(own)), None, "once");
        assert_eq!(EchoFilter::new(vec![]).own_source(Some(own)), None);
    }

    fn got(rx: &UdpSocket) -> Option<Vec<u8>> {
        let mut b = [0u8; 64];
        rx.recv_from(&mut b).ok().map(|(n, _)| b[..n].to_vec())
    }

    /// Loopback owns all of 127/8: senders bound to .2 and .3 are two
    /// "hosts"; only the filtered one is dropped, by the kernel.
    #[test]
    fn the_kernel_drops_only_that_source() {
        let rx = UdpSocket::bind("127.0.0.1:0").expect("bind rx");
        rx.set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let to = rx.local_addr().expect("addr");
        let own = UdpSocket::bind("127.0.0.2:0").expect("bind .2");
        let peer = UdpSocket::bind("127.0.0.3:0").expect("bind .3");
        own.send_to(b"own-before", to).expect("send");
        assert_eq!(got(&rx).as_deref(), Some(&b"own-before"[..]));
        drop_datagrams_from(&rx, Ipv4Addr::new(127, 0, 0, 2)).expect("attach");
        own.send_to(b"own-after", to).expect("send");
        peer.send_to(b"peer", to).expect("send");
        assert_eq!(got(&rx).as_deref(), Some(&b"peer"[..]), "own echo dropped");
        assert_eq!(got(&rx), None, "nothing else queued");
    }
}
