//! The cluster engine after authentication (`hb_core::Cluster`): a sequence of packets a
//! key holder could send (every one signed with the cluster key, so the fuzzer explores the
//! protocol, not the digest), interleaved with time steps. Besides "no panic": every packet
//! the engine transmits opens with the key, and its tables stay bounded.
//!
//! Input: ops. `0..=63 n`: advance time by `n * 8` ms. Otherwise `len bytes[len]`: a message
//! whose lines are `name=value` fields (netstring-sealed when the op is even, classic with
//! an inner auth when odd).
#![no_main]

use hb_core::{Cluster, CoreConfig, MediumInfo, Output, MAX_MISSING};
use hb_proto::auth::{KeyRing, Method};
use hb_proto::{classic, Message};
use libfuzzer_sys::fuzz_target;

const WALL: u64 = 1_700_000_000;

fn keys() -> KeyRing {
    KeyRing::new(1, vec![(1, Method::Sha1, b"fuzz".to_vec())]).expect("valid ring")
}

fn message(text: &[u8]) -> Message {
    let mut m = Message::new();
    for line in text.split(|&b| b == b'\n') {
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            continue;
        };
        let name = String::from_utf8_lossy(&line[..eq]).into_owned();
        m.push_str(&name, &line[eq + 1..]);
    }
    m
}

fn drain(c: &mut Cluster, ring: &KeyRing) {
    let mut n = 0;
    while let Some(out) = c.poll_output() {
        n += 1;
        assert!(n < 100_000, "output never ends");
        if let Output::Transmit(bytes) = out {
            assert!(ring.open(&bytes).is_ok(), "we sent a packet we cannot open");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let ring = keys();
    let mut cfg = CoreConfig::with_defaults(
        "node0",
        [0x11; 16],
        0x4d2,
        vec!["node0".into(), "node1".into(), "node2".into()],
        vec![
            MediumInfo { name: "eth0".into(), is_ping: false },
            MediumInfo { name: "pinghost".into(), is_ping: true },
        ],
        ring.clone(),
    );
    cfg.ping_nodes = vec!["pinghost".into()];
    cfg.keepalive = 100;
    cfg.deadtime = 1000;
    cfg.warntime = 500;
    cfg.initdead = 2000;
    cfg.deadping = 1000;
    let mut now = 0;
    let mut c = Cluster::new(cfg, now, WALL);
    drain(&mut c, &ring);
    let mut rest = data;
    while let [op, arg, tail @ ..] = rest {
        if *op < 64 {
            now += u64::from(*arg) * 8;
            c.on_tick(now, WALL + now / 1000);
            rest = tail;
        } else {
            let len = usize::from(*arg).min(tail.len());
            let mut m = message(&tail[..len]);
            rest = &tail[len..];
            let bytes = if op % 2 == 0 {
                ring.seal(&m)
            } else {
                ring.add_inner_auth(&mut m);
                classic::encode(&m)
            };
            let medium = usize::from(op % 4 == 1);
            c.on_datagram(now, WALL + now / 1000, medium, &bytes);
        }
        drain(&mut c, &ring);
        for node in ["node1", "node2"] {
            assert!(c.missing_count(node).unwrap_or(0) <= MAX_MISSING);
        }
    }
});
