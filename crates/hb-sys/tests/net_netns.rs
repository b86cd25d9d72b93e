//! `hb_sys::net` against a real kernel, inside a private network namespace
//! that only the test thread (and the `ip` commands it starts) lives in:
//! a veth pair, an address added and removed over netlink, a gratuitous ARP
//! captured on the other end. Skipped (with the reason) when not root.

use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::{Duration, Instant};

use hb_sys::net::{self, AddrSpec, ArpSender, NetError};
use nix::errno::Errno;
use nix::sched::{unshare, CloneFlags};
use nix::sys::socket::{
    recvfrom, socket, AddressFamily, LinkAddr, SockFlag, SockProtocol, SockType,
};

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `body` on a thread that owns a fresh network namespace with a veth
/// pair `hbv0` (198.18.7.1/24) – `hbv1`, both up. The namespace disappears
/// with the thread.
fn in_private_netns(body: impl FnOnce() + Send + 'static) {
    hb_testutil::require_root("a private network namespace");
    std::thread::spawn(move || {
        unshare(CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET)");
        ip(&["link", "set", "lo", "up"]);
        ip(&[
            "link", "add", "hbv0", "type", "veth", "peer", "name", "hbv1",
        ]);
        ip(&["link", "set", "hbv0", "up"]);
        ip(&["link", "set", "hbv1", "up"]);
        ip(&["addr", "add", "198.18.7.1/24", "dev", "hbv0"]);
        body();
    })
    .join()
    .expect("test thread");
}

fn vip_spec(index: u32) -> AddrSpec {
    AddrSpec {
        ifindex: index,
        addr: Ipv4Addr::new(198, 18, 7, 100),
        prefix_len: 24,
        broadcast: Some(Ipv4Addr::new(198, 18, 7, 255)),
        label: Some("hbv0:1".into()),
    }
}

#[test]
fn add_list_delete_over_netlink() {
    in_private_netns(|| {
        let link = net::link("hbv0").expect("hbv0 exists");
        assert!(link.mac.is_some(), "a veth has a MAC");
        let spec = vip_spec(link.index);
        net::add_address(&spec).expect("add");
        let found = net::ipv4_addresses()
            .expect("list")
            .into_iter()
            .find(|e| e.addr == spec.addr)
            .expect("the new address is listed");
        assert_eq!(found.name, "hbv0:1");
        assert_eq!(found.interface(), "hbv0");
        assert_eq!(found.prefix_len, 24);
        assert_eq!(found.broadcast, spec.broadcast);
        // what `ip` sees too
        let shown = Command::new("ip")
            .args(["-4", "-o", "addr", "show", "dev", "hbv0"])
            .output()
            .expect("ip addr show");
        let shown = String::from_utf8_lossy(&shown.stdout);
        assert!(
            shown.contains("198.18.7.100/24 brd 198.18.7.255 scope global secondary hbv0:1"),
            "{shown}"
        );

        match net::add_address(&spec) {
            Err(NetError::Refused { errno, .. }) => assert_eq!(errno, Errno::EEXIST),
            other => panic!("second add: {other:?}"),
        }
        net::delete_address(&spec).expect("delete");
        assert!(!net::ipv4_addresses()
            .expect("list")
            .iter()
            .any(|e| e.addr == spec.addr));
        match net::delete_address(&spec) {
            Err(NetError::Refused { errno, .. }) => assert_eq!(errno, Errno::EADDRNOTAVAIL),
            other => panic!("second delete: {other:?}"),
        }
    });
}

#[test]
fn gratuitous_arp_reaches_the_wire() {
    in_private_netns(|| {
        let link = net::link("hbv0").expect("hbv0");
        let peer = net::link("hbv1").expect("hbv1");
        // listen for ARP on the far end of the pair
        let rx = socket(
            AddressFamily::Packet,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
            SockProtocol::EthAll,
        )
        .expect("AF_PACKET socket");
        let sender = ArpSender::open(&link).expect("sender");
        let vip = Ipv4Addr::new(198, 18, 7, 100);
        sender.send_garp(vip).expect("send");
        let want = net::garp_frame(link.mac.expect("mac"), vip);
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut buf = [0u8; 2048];
        let mut seen = false;
        while !seen && Instant::now() < deadline {
            match recvfrom::<LinkAddr>(rx.as_raw_fd(), &mut buf) {
                Ok((n, Some(from))) => {
                    // received on the far end, not our own outgoing copy
                    seen = from.ifindex() == peer.index as usize && buf[..n].starts_with(&want)
                }
                Ok(_) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        assert!(seen, "the gratuitous ARP never arrived on {}", peer.name);
    });
}
