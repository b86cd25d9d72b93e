//! Root network-namespace tests: each test builds two namespaces joined by
//! veth pairs, runs one side of a medium in each (as helper processes of
//! this same binary, started with `ip netns exec`), and checks what arrives.
//! All traffic stays inside the namespaces; all waits are bounded.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{Lab, Proc};
use hb_media::{open_with, Medium, MediumSockets, OpenOptions, Retry, StatDelta};
use hb_proto::ipc::{encode_frame, FrameDecoder};
use socket2::SockRef;

const PORT: u16 = 6940;
const WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------- helper side

/// `kind,iface,...` (see `parse_medium`), `;`-separated.
fn parse_media(spec: &str) -> Vec<Medium> {
    spec.split(';').map(parse_medium).collect()
}

fn parse_medium(spec: &str) -> Medium {
    let f: Vec<&str> = spec.split(',').collect();
    let port = |s: &str| s.parse::<u16>().expect("port");
    match f[0] {
        "bcast" => Medium::Bcast {
            iface: f[1].into(),
            port: port(f[2]),
        },
        "ucast" => Medium::Ucast {
            iface: f[1].into(),
            peer: f[2].into(),
            port: port(f[3]),
        },
        "ucast6" => Medium::Ucast6 {
            iface: f[1].into(),
            peer: f[2].into(),
            port: port(f[3]),
        },
        "mcast" => Medium::Mcast {
            iface: f[1].into(),
            group: f[2].parse::<Ipv4Addr>().expect("group"),
            port: port(f[3]),
            ttl: f[4].parse().expect("ttl"),
            loopback: f[5] == "1",
        },
        "mcast6" => Medium::Mcast6 {
            iface: f[1].into(),
            group: f[2].parse::<Ipv6Addr>().expect("group"),
            port: port(f[3]),
            hops: f[4].parse().expect("hops"),
            loopback: f[5] == "1",
        },
        other => panic!("unknown medium {other}"),
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

fn quick_open(m: &Medium) -> MediumSockets {
    let opts = OpenOptions {
        bind_retry: Some(Retry::new(3, Duration::from_millis(100))),
        iface_retry: Retry::new(3, Duration::from_millis(100)),
    };
    open_with(m, &opts).unwrap_or_else(|e| panic!("open: {e}"))
}

fn print_opts(s: &MediumSockets) {
    for (side, sock) in [("send", s.send_socket()), ("recv", s.recv_socket())] {
        let Some(sock) = sock else { continue };
        let r = SockRef::from(sock);
        let dev = r
            .device()
            .ok()
            .flatten()
            .map(|d| String::from_utf8_lossy(&d).into_owned())
            .unwrap_or_default();
        println!(
            "OPTS {side} device={dev} broadcast={} reuseaddr={} reuseport={} tos={} bound={}",
            r.broadcast().unwrap_or(false),
            r.reuse_address().unwrap_or(false),
            r.reuse_port().unwrap_or(false),
            r.tos().unwrap_or(0),
            sock.local_addr().map(|a| a.to_string()).unwrap_or_default(),
        );
    }
}

/// Receives on every medium until `HBM_EXPECT` packets or `HBM_WAIT_MS`.
fn role_recv() {
    let media: Vec<MediumSockets> = parse_media(&env("HBM_MEDIA"))
        .iter()
        .map(quick_open)
        .collect();
    for (i, m) in media.iter().enumerate() {
        m.set_recv_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        println!("OPEN {i} {}", m.describe());
        print_opts(m);
    }
    println!("READY");
    let expect: usize = env("HBM_EXPECT").parse().unwrap_or(1);
    let deadline =
        Instant::now() + Duration::from_millis(env("HBM_WAIT_MS").parse().unwrap_or(5000));
    let mut got = 0;
    let mut buf = vec![0u8; hb_media::MAXMSG];
    while got < expect && Instant::now() < deadline {
        for (i, m) in media.iter().enumerate() {
            if let Ok(n) = m.recv(&mut buf) {
                println!("GOT {i} {}", String::from_utf8_lossy(&buf[..n]));
                got += 1;
            }
        }
    }
    println!("DONE");
}

/// Sends `HBM_PAYLOAD`; with `HBM_SELF_MS`, then reports own packets received.
fn role_send() {
    let m = quick_open(&parse_medium(&env("HBM_MEDIA")));
    println!("OPEN 0 {}", m.describe());
    print_opts(&m);
    let payload = env("HBM_PAYLOAD");
    for _ in 0..env("HBM_COUNT").parse().unwrap_or(1) {
        m.send(payload.as_bytes())
            .unwrap_or_else(|e| panic!("send: {e}"));
        thread::sleep(Duration::from_millis(20));
    }
    println!("SENT");
    if let Ok(ms) = env("HBM_SELF_MS").parse::<u64>() {
        m.set_recv_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let deadline = Instant::now() + Duration::from_millis(ms);
        let mut buf = vec![0u8; hb_media::MAXMSG];
        while Instant::now() < deadline {
            if let Ok(n) = m.recv(&mut buf) {
                println!("SELF {}", String::from_utf8_lossy(&buf[..n]));
            }
        }
    }
    println!("DONE");
}

/// Runs `write_child_loop` fed with `HBM_COUNT` frames, then a closed channel.
fn role_write_child() {
    let m = quick_open(&parse_medium(&env("HBM_MEDIA")));
    let (mut master, child) = UnixStream::pair().expect("socketpair");
    let count: usize = env("HBM_COUNT").parse().unwrap_or(1);
    let payload = env("HBM_PAYLOAD");
    for i in 0..count {
        master
            .write_all(&encode_frame(format!("{payload}-{i}").as_bytes()))
            .expect("frame");
    }
    drop(master);
    let mut sent = 0;
    let code = hb_media::write_child_loop(&m, child, Duration::from_secs(1), |d| {
        if let StatDelta::Sent { .. } = d {
            sent += 1;
        }
    });
    println!("EXIT {code} SENT {sent}");
}

/// Runs `read_child_loop`, decodes what it hands to the "master", then
/// closes the master end and reports the child's exit status.
fn role_read_child() {
    let m = quick_open(&parse_medium(&env("HBM_MEDIA")));
    let (mut master, child) = UnixStream::pair().expect("socketpair");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut received = 0;
        let code = hb_media::read_child_loop(&m, child, |d| {
            if let StatDelta::Received { .. } = d {
                received += 1;
            }
        });
        let _ = tx.send((code, received));
    });
    println!("READY");
    master
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let expect: usize = env("HBM_EXPECT").parse().unwrap_or(1);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut dec = FrameDecoder::default();
    let mut frames = 0;
    let mut buf = [0u8; 4096];
    while frames < expect && Instant::now() < deadline {
        if let Ok(n) = master.read(&mut buf) {
            dec.push(&buf[..n]);
        }
        while let Ok(Some(f)) = dec.next_frame() {
            println!("FRAME {}", String::from_utf8_lossy(&f));
            frames += 1;
        }
    }
    drop(master);
    match rx.recv_timeout(Duration::from_secs(5)) {
        Ok((code, received)) => println!("EXIT {code} RECEIVED {received}"),
        Err(_) => println!("EXIT none"),
    }
}

/// Entry point of the helper processes; does nothing without `HBM_ROLE`.
#[test]
#[ignore = "helper process for the namespace tests"]
fn helper() {
    // libtest has printed "test helper ... " without a newline: end it so
    // every line of ours starts at column 0.
    println!();
    match env("HBM_ROLE").as_str() {
        "recv" => role_recv(),
        "send" => role_send(),
        "write_child" => role_write_child(),
        "read_child" => role_read_child(),
        _ => {}
    }
}

// ---------------------------------------------------------- orchestration

fn vars(pairs: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    pairs.to_vec()
}

/// Starts a receiver in B, waits for READY, runs a sender in A, and returns
/// (receiver lines, sender lines).
fn exchange(
    lab: &Lab,
    recv_media: &str,
    expect: usize,
    send_medium: &str,
    self_ms: Option<u64>,
) -> (Vec<String>, Vec<String>) {
    let rx = Proc::helper(
        &lab.ns_b,
        &vars(&[
            ("HBM_ROLE", "recv".into()),
            ("HBM_MEDIA", recv_media.into()),
            ("HBM_EXPECT", expect.to_string()),
            ("HBM_WAIT_MS", "3000".into()),
        ]),
    );
    let mut got = rx.collect_until("READY", WAIT);
    assert_eq!(
        got.last().map(String::as_str),
        Some("READY"),
        "receiver did not get ready: {got:?}"
    );
    let mut env = vars(&[
        ("HBM_ROLE", "send".into()),
        ("HBM_MEDIA", send_medium.into()),
        ("HBM_PAYLOAD", "hello-from-a".into()),
        ("HBM_COUNT", "3".into()),
    ]);
    if let Some(ms) = self_ms {
        env.push(("HBM_SELF_MS", ms.to_string()));
    }
    let tx = Proc::helper(&lab.ns_a, &env);
    let sent = tx.collect_until("DONE", WAIT);
    got.extend(rx.collect_until("DONE", WAIT));
    (got, sent)
}

fn count(lines: &[String], prefix: &str) -> usize {
    lines.iter().filter(|l| l.starts_with(prefix)).count()
}

#[test]
fn bcast_reaches_the_peer_and_loops_back_to_the_sender() {
    let lab = Lab::new(1);
    let l = &lab.links[0];
    let (got, sent) = exchange(
        &lab,
        &format!("bcast,{},{PORT}", l.b_if),
        3,
        &format!("bcast,{},{PORT}", l.a_if),
        Some(300),
    );
    assert_eq!(
        count(&got, "GOT 0 hello-from-a"),
        3,
        "receiver saw: {got:?}"
    );
    assert!(
        count(&sent, "SELF hello-from-a") >= 1,
        "own broadcasts come back: {sent:?}"
    );
    assert!(sent.contains(&format!(
        "OPEN 0 UDP Broadcast heartbeat started on port {PORT} ({PORT}) interface {}",
        l.a_if
    )));
    let send_opts = sent
        .iter()
        .find(|s| s.starts_with("OPTS send"))
        .expect("send opts");
    assert!(
        send_opts.contains(&format!("device={} broadcast=true", l.a_if)),
        "{send_opts}"
    );
    let recv_opts = got
        .iter()
        .find(|s| s.starts_with("OPTS recv"))
        .expect("recv opts");
    assert!(
        recv_opts.contains(&format!("device={}", l.b_if)) && recv_opts.contains("reuseaddr=true"),
        "{recv_opts}"
    );
    assert!(
        recv_opts.contains(&format!("bound=0.0.0.0:{PORT}")),
        "{recv_opts}"
    );
}

#[test]
fn mcast_reaches_the_peer_and_loop_1_delivers_own_packets() {
    let lab = Lab::new(1);
    let l = &lab.links[0];
    let (got, sent) = exchange(
        &lab,
        &format!("mcast,{},225.0.0.1,{PORT},1,0", l.b_if),
        3,
        &format!("mcast,{},225.0.0.1,{PORT},1,1", l.a_if),
        Some(300),
    );
    assert_eq!(
        count(&got, "GOT 0 hello-from-a"),
        3,
        "receiver saw: {got:?}"
    );
    assert!(
        count(&sent, "SELF hello-from-a") >= 1,
        "loop 1 must deliver own packets: {sent:?}"
    );
    let recv_opts = got
        .iter()
        .find(|s| s.starts_with("OPTS recv"))
        .expect("recv opts");
    assert!(
        recv_opts.contains(&format!("bound=225.0.0.1:{PORT}")),
        "{recv_opts}"
    );
}

#[test]
fn mcast_loop_0_does_not_deliver_own_packets() {
    let lab = Lab::new(1);
    let l = &lab.links[0];
    let (got, sent) = exchange(
        &lab,
        &format!("mcast,{},225.0.0.1,{PORT},1,1", l.b_if),
        3,
        &format!("mcast,{},225.0.0.1,{PORT},1,0", l.a_if),
        Some(500),
    );
    assert_eq!(
        count(&got, "GOT 0 hello-from-a"),
        3,
        "the packets were sent: {got:?}"
    );
    assert_eq!(
        count(&sent, "SELF"),
        0,
        "loop 0 must not deliver own packets: {sent:?}"
    );
}

#[test]
fn ucast_reaches_the_peer_with_lowdelay_tos() {
    let lab = Lab::new(1);
    let l = &lab.links[0];
    let (got, sent) = exchange(
        &lab,
        &format!("ucast,{},{},{PORT}", l.b_if, l.a_v4),
        3,
        &format!("ucast,{},{},{PORT}", l.a_if, l.b_v4),
        None,
    );
    assert_eq!(
        count(&got, "GOT 0 hello-from-a"),
        3,
        "receiver saw: {got:?}"
    );
    assert!(sent.contains(&format!(
        "OPEN 0 ucast: started on port {PORT} interface {} to {}",
        l.a_if, l.b_v4
    )));
    let send_opts = sent
        .iter()
        .find(|s| s.starts_with("OPTS send"))
        .expect("send opts");
    assert!(
        send_opts.contains(&format!("device={}", l.a_if)),
        "{send_opts}"
    );
    assert!(send_opts.contains("reuseport=true tos=16"), "{send_opts}");
    let recv_opts = got
        .iter()
        .find(|s| s.starts_with("OPTS recv"))
        .expect("recv opts");
    assert!(
        recv_opts.contains("reuseaddr=true reuseport=true"),
        "{recv_opts}"
    );
}

#[test]
fn ucast6_reaches_a_link_local_peer() {
    let lab = Lab::new(1);
    let l = &lab.links[0];
    let (got, sent) = exchange(
        &lab,
        &format!("ucast6,{},fe80::1,{PORT}", l.b_if),
        3,
        &format!("ucast6,{},fe80::2,{PORT}", l.a_if),
        None,
    );
    assert_eq!(
        count(&got, "GOT 0 hello-from-a"),
        3,
        "receiver saw: {got:?} sender: {sent:?}"
    );
    assert!(sent.contains(&format!(
        "OPEN 0 ucast6: heartbeat started for [fe80::2%{}]:{PORT} on interface {}",
        l.a_if, l.a_if
    )));
}

#[test]
fn mcast6_reaches_the_peer() {
    let lab = Lab::new(1);
    let l = &lab.links[0];
    let (got, sent) = exchange(
        &lab,
        &format!("mcast6,{},ff02::694,{PORT},1,0", l.b_if),
        3,
        &format!("mcast6,{},ff02::694,{PORT},1,1", l.a_if),
        Some(300),
    );
    assert_eq!(
        count(&got, "GOT 0 hello-from-a"),
        3,
        "receiver saw: {got:?} sender: {sent:?}"
    );
    assert!(count(&sent, "SELF hello-from-a") >= 1, "loop 1: {sent:?}");
}

#[test]
fn receiver_bound_to_a_device_ignores_traffic_from_another_interface() {
    let lab = Lab::new(2);
    let (l1, l2) = (&lab.links[0], &lab.links[1]);
    // B listens on both links with its own ucast medium per interface; A
    // sends only over link 2. Exactly the link-2 receiver must see it.
    let recv = format!(
        "ucast,{},{},{PORT};ucast,{},{},{PORT}",
        l1.b_if, l1.a_v4, l2.b_if, l2.a_v4
    );
    let (got, sent) = exchange(
        &lab,
        &recv,
        4,
        &format!("ucast,{},{},{PORT}", l2.a_if, l2.b_v4),
        None,
    );
    assert_eq!(
        count(&got, "GOT 1 hello-from-a"),
        3,
        "link-2 receiver: {got:?} sender: {sent:?}"
    );
    assert_eq!(
        count(&got, "GOT 0"),
        0,
        "link-1 receiver must not see link-2 traffic: {got:?}"
    );
    assert!(sent.iter().any(|l| l == "SENT"), "sender: {sent:?}");
    // Now address link 1's address but send out of link 2, so the packets
    // arrive on the wrong interface: the receiver bound to link 1 (whose
    // address they carry) must not see them; the one bound to link 2 does.
    let (got, sent) = exchange(
        &lab,
        &recv,
        4,
        &format!("ucast,{},{},{PORT}", l2.a_if, l1.b_v4),
        None,
    );
    assert!(sent.iter().any(|l| l == "SENT"), "sender: {sent:?}");
    assert_eq!(
        count(&got, "GOT 1 hello-from-a"),
        3,
        "arrived on {}: {got:?}",
        l2.b_if
    );
    assert_eq!(
        count(&got, "GOT 0"),
        0,
        "bound to {} but saw: {got:?}",
        l1.b_if
    );
}

#[test]
fn child_loops_carry_framed_packets_and_stop_when_the_master_goes() {
    let lab = Lab::new(1);
    let l = &lab.links[0];
    let reader = Proc::helper(
        &lab.ns_b,
        &vars(&[
            ("HBM_ROLE", "read_child".into()),
            ("HBM_MEDIA", format!("ucast,{},{},{PORT}", l.b_if, l.a_v4)),
            ("HBM_EXPECT", "5".into()),
        ]),
    );
    assert!(
        reader.wait_line("READY", WAIT).is_some(),
        "read child helper not ready"
    );
    thread::sleep(Duration::from_millis(200));
    let writer = Proc::helper(
        &lab.ns_a,
        &vars(&[
            ("HBM_ROLE", "write_child".into()),
            ("HBM_MEDIA", format!("ucast,{},{},{PORT}", l.a_if, l.b_v4)),
            ("HBM_PAYLOAD", "pkt".into()),
            ("HBM_COUNT", "5".into()),
        ]),
    );
    let w = writer.wait_line("EXIT", WAIT).expect("write child result");
    assert_eq!(
        w, "EXIT 1 SENT 5",
        "write child sends all, exits 1 when the master closes"
    );
    let lines = reader.collect_until("EXIT", WAIT);
    let frames: BTreeSet<&str> = lines
        .iter()
        .filter_map(|s| s.strip_prefix("FRAME "))
        .collect();
    let want: BTreeSet<String> = (0..5).map(|i| format!("pkt-{i}")).collect();
    assert_eq!(
        frames,
        want.iter().map(String::as_str).collect(),
        "lines: {lines:?}"
    );
    assert_eq!(
        lines.last().map(String::as_str),
        Some("EXIT 1 RECEIVED 5"),
        "lines: {lines:?}"
    );
}
