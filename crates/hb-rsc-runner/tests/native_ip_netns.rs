//! The native `IPaddr`/`IPaddr2` path against a real kernel, compared with
//! the real resource-agents script. Everything runs on a test thread that
//! owns a fresh network namespace (`unshare(CLONE_NEWNET)` affects only that
//! thread and the commands it starts), with a veth pair `hbn0` (198.18.8.1/24)
//! – `hbn1`. Skipped (with the reason) when not root.

use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use hb_config::parse_haresources;
use hb_rsc_runner::{native_ip, resource_running, run_group, GroupOp, ScriptEnv};
use nix::sched::{unshare, CloneFlags};
use nix::sys::socket::{
    recvfrom, socket, AddressFamily, LinkAddr, SockFlag, SockProtocol, SockType,
};

const REAL_DIR: &str = "/etc/ha.d/resource.d";

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn in_private_netns(body: impl FnOnce() + Send + 'static) {
    hb_testutil::require_root("a private network namespace");
    std::thread::spawn(move || {
        unshare(CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET)");
        ip(&["link", "set", "lo", "up"]);
        ip(&[
            "link", "add", "hbn0", "type", "veth", "peer", "name", "hbn1",
        ]);
        ip(&["link", "set", "hbn0", "up"]);
        ip(&["link", "set", "hbn1", "up"]);
        ip(&["addr", "add", "198.18.8.1/24", "brd", "+", "dev", "hbn0"]);
        body();
    })
    .join()
    .expect("test thread");
}

/// The `ip -o` line of `vip` on hbn0 (interface index and valid_lft dropped).
fn vip_line(vip: &str) -> Option<String> {
    ip(&["-4", "-o", "addr", "show", "dev", "hbn0"])
        .lines()
        .find(|l| l.contains(&format!(" {vip}/")))
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .map(|w| w.trim_end_matches('\\'))
                .take_while(|w| *w != "valid_lft")
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
}

fn group(line: &str) -> hb_config::ResourceGroup {
    parse_haresources(line, Path::new("haresources"), &["node1".to_string()])
        .expect("haresources")
        .remove(0)
}

/// Counts gratuitous ARPs for `vip` that arrive on hbn1 within `window`.
fn count_garps(
    rx: &std::os::fd::OwnedFd,
    peer_index: u32,
    vip: Ipv4Addr,
    window: Duration,
) -> usize {
    let end = Instant::now() + window;
    let mut buf = [0u8; 2048];
    let mut n = 0;
    while Instant::now() < end {
        match recvfrom::<LinkAddr>(rx.as_raw_fd(), &mut buf) {
            Ok((len, Some(from))) if from.ifindex() == peer_index as usize => {
                let f = &buf[..len];
                if len >= 42
                    && f[12..14] == [8, 6]
                    && f[28..32] == vip.octets()
                    && f[38..42] == vip.octets()
                {
                    n += 1;
                }
            }
            Ok(_) => {}
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
    n
}

#[test]
fn native_ipaddr2_matches_the_script_and_announces() {
    in_private_netns(|| {
        let vip = Ipv4Addr::new(198, 18, 8, 100);
        let g = group("node1 IPaddr2::198.18.8.100/24/hbn0\n");
        let r = &g.resources[0];
        let mut env = ScriptEnv::new(Path::new("/etc/ha.d"));
        env.timeout = Duration::from_secs(60);

        // the real script, when it is installed: what it configures
        let script_line = if Path::new(REAL_DIR).join("IPaddr2").exists() {
            env.native_ip = false;
            env.resource_dirs = vec![REAL_DIR.into()];
            let done = run_group(GroupOp::Acquire, &g, &env);
            assert!(done.ok, "script start: {:?}", done.log);
            let line = vip_line("198.18.8.100");
            let done = run_group(GroupOp::Release, &g, &env);
            assert!(done.ok, "script stop: {:?}", done.log);
            assert_eq!(vip_line("198.18.8.100"), None);
            line
        } else {
            eprintln!("note: {REAL_DIR}/IPaddr2 missing, not compared with the script");
            None
        };

        env.native_ip = true;
        let peer = hb_sys::net::link("hbn1").expect("hbn1");
        let rx = socket(
            AddressFamily::Packet,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
            SockProtocol::EthAll,
        )
        .expect("AF_PACKET socket");
        assert_eq!(resource_running(r, &env), Some(false));
        let t = Instant::now();
        let done = run_group(GroupOp::Acquire, &g, &env);
        let took = t.elapsed();
        assert!(done.ok, "native start: {:?}", done.log);
        assert!(
            took < Duration::from_millis(100),
            "native start took {took:?}"
        );
        assert!(
            done.log.iter().any(|(_, l)| l.contains("start (native)")),
            "{:?}",
            done.log
        );
        let native_line = vip_line("198.18.8.100").expect("VIP configured");
        if let Some(s) = script_line {
            assert_eq!(
                native_line, s,
                "native and script configure the same address"
            );
        }
        assert_eq!(resource_running(r, &env), Some(true));
        // first announcement at once, the other 4 from the background sender
        assert_eq!(
            count_garps(&rx, peer.index, vip, Duration::from_millis(50)),
            1
        );
        assert_eq!(done.announcements.len(), 1);
        let a = &done.announcements[0];
        assert_eq!((a.remaining, a.interval), (4, Duration::from_millis(200)));
        let t = Instant::now();
        native_ip::announce(a);
        assert!(t.elapsed() >= Duration::from_millis(800));
        assert_eq!(
            count_garps(&rx, peer.index, vip, Duration::from_millis(50)),
            4
        );

        // a refresh (after a partition healed) announces once more
        let again = native_ip::reannounce(native_ip::Agent::IPaddr2, "198.18.8.100/24/hbn0")
            .expect("reannounce")
            .expect("configured, so announced");
        assert_eq!(again.remaining, 4);
        assert_eq!(
            count_garps(&rx, peer.index, vip, Duration::from_millis(50)),
            1
        );

        let done = run_group(GroupOp::Release, &g, &env);
        assert!(done.ok, "native stop: {:?}", done.log);
        assert_eq!(
            native_ip::reannounce(native_ip::Agent::IPaddr2, "198.18.8.100/24/hbn0"),
            Ok(None)
        );
        assert_eq!(vip_line("198.18.8.100"), None);
        assert_eq!(resource_running(r, &env), Some(false));
        // stopping a stopped address succeeds (LSB)
        assert!(run_group(GroupOp::Release, &g, &env).ok);
        // a released address is never announced again
        native_ip::announce(a);
        assert_eq!(
            count_garps(&rx, peer.index, vip, Duration::from_millis(50)),
            0
        );
    });
}

#[test]
fn ip_shorthand_finds_its_interface_and_aliases_it() {
    in_private_netns(|| {
        // the haresources shorthand means IPaddr::198.18.8.77
        let g = group("node1 198.18.8.77\n");
        let env = ScriptEnv::new(Path::new("/etc/ha.d"));
        let done = run_group(GroupOp::Acquire, &g, &env);
        assert!(done.ok, "{:?}", done.log);
        let line = vip_line("198.18.8.77").expect("configured");
        assert!(
            line.contains("198.18.8.77/24 brd 198.18.8.255") && line.ends_with("hbn0:0"),
            "{line}"
        );
        assert_eq!(done.announcements[0].remaining, 9);
        assert!(run_group(GroupOp::Release, &g, &env).ok);
        assert_eq!(vip_line("198.18.8.77"), None);
    });
}

#[test]
fn unknown_interface_fails_the_group_cleanly() {
    in_private_netns(|| {
        let g = group("node1 IPaddr2::198.18.8.100/24/hbn9\n");
        let env = ScriptEnv::new(Path::new("/etc/ha.d"));
        let done = run_group(GroupOp::Acquire, &g, &env);
        assert!(!done.ok);
        assert_eq!(
            done.failed_resource.as_deref(),
            Some("IPaddr2::198.18.8.100/24/hbn9")
        );
        assert!(
            done.log
                .iter()
                .any(|(_, l)| l.contains("no network interface named \"hbn9\"")),
            "{:?}",
            done.log
        );
        assert_eq!(vip_line("198.18.8.100"), None);
    });
}
