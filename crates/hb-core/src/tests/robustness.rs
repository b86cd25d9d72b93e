//! Hostile and broken input: counted, dropped, and without any effect.

use super::*;
use crate::rng::Rng;
use crate::sim::{Sim, SimConfig};
use crate::stats::DropReason;

/// Everything observable about an engine's state, minus counters.
fn snapshot(c: &Cluster) -> String {
    format!(
        "{:?}|{:?}|{}|{}|{}|{}|{:?}",
        c.nodes(),
        c.links(),
        c.comm_up(),
        c.local_status(),
        c.last_seq(),
        c.pending_rexmit_requests(),
        ["node0", "node1", "node2"].map(|n| c.missing_count(n)),
    )
}

fn running_pair() -> Sim {
    let mut sim = Sim::new(SimConfig::new(3, sha1_keys(), 99));
    sim.record_packets = true;
    sim.start_all();
    assert!(sim.run_until_converged(20, 3000).is_some());
    sim
}

#[test]
fn replayed_old_generation_packet_is_dropped_without_effect() {
    let mut sim = running_pair();
    let old: Vec<Vec<u8>> = sim.nodes[1].sent.iter().map(|(_, b)| b.clone()).collect();
    sim.crash(1);
    sim.run_for(100);
    sim.start(1);
    assert!(sim.run_until_converged(20, sim.now + 3000).is_some());
    sim.run_for(50);
    let before = snapshot(sim.engine(0).expect("running"));
    let dropped_before = sim
        .engine(0)
        .map_or(0, |e| e.counters().dropped(DropReason::Replay));
    let delivered_before = sim.nodes[0].delivered.len();
    // Replay a status (and everything else node1 sent) of the old run.
    let now = sim.now;
    for b in &old {
        if let Some(e) = sim.engine_mut(0) {
            e.on_datagram(now, 1_700_000_010, 0, b);
        }
    }
    sim.flush(0);
    let e = sim.engine(0).expect("running");
    let replays = e.counters().dropped(DropReason::Replay) - dropped_before;
    let sequenced = old
        .iter()
        .filter(|b| {
            sha1_keys()
                .open(b)
                .ok()
                .and_then(|m| m.msg_type().map(|t| !t.starts_with("NS_")))
                .unwrap_or(false)
        })
        .count() as u64;
    assert_eq!(
        replays, sequenced,
        "every old sequenced packet counted as replay"
    );
    assert_eq!(snapshot(e), before);
    assert_eq!(sim.nodes[0].delivered.len(), delivered_before);
    let line = sim.nodes[0]
        .events
        .iter()
        .rev()
        .find_map(|(_, e)| match e {
            Event::ReplayDropped { .. } => e.log_line(),
            _ => None,
        })
        .map(|(_, s)| s)
        .unwrap_or_default();
    assert!(
        line.starts_with("should_drop_message: attempted replay attack [node1]?"),
        "{line}"
    );
}

#[test]
fn wrong_key_truncated_and_corrupted_packets_are_dropped_and_counted() {
    let mut sim = running_pair();
    let good = sim.nodes[1]
        .sent
        .last()
        .map(|(_, b)| b.clone())
        .expect("sent");
    let before = snapshot(sim.engine(0).expect("running"));
    let c0 = sim
        .engine(0)
        .map(|e| e.counters().clone())
        .expect("running");
    let other = KeyRing::new(1, vec![(1, Method::Sha1, b"otherkey".to_vec())]).expect("keys");
    let mut p = FakePeer::new("node1", other);
    let wrong_key = p.status("active", 1000);
    let mut p2 = FakePeer::new("intruder", sha1_keys());
    let unknown = p2.status("active", 1000);
    let now = sim.now;
    let e = sim.engine_mut(0).expect("running");
    e.on_datagram(now, 1, 0, &wrong_key);
    e.on_datagram(now, 1, 0, &good[..good.len() / 2]);
    e.on_datagram(now, 1, 0, &good[..good.len() - 3]);
    let mut flipped = good.clone();
    flipped[20] ^= 0x01;
    e.on_datagram(now, 1, 0, &flipped);
    e.on_datagram(now, 1, 0, b"");
    e.on_datagram(now, 1, 0, b"hello world");
    e.on_datagram(now, 1, 0, &unknown);
    let c1 = e.counters().clone();
    assert_eq!(
        c1.dropped(DropReason::BadAuth) - c0.dropped(DropReason::BadAuth),
        3
    );
    assert_eq!(
        c1.dropped(DropReason::UnknownNode) - c0.dropped(DropReason::UnknownNode),
        1
    );
    assert_eq!(c1.dropped_total() - c0.dropped_total(), 7);
    assert_eq!(c1.accepted, c0.accepted);
    assert_eq!(c1.packets_out, c0.packets_out, "nothing sent in response");
    assert_eq!(snapshot(e), before);
    sim.flush(0);
}

#[test]
fn authenticated_but_absurd_messages_never_panic_or_hang() {
    let keys = sha1_keys();
    let mut c = Cluster::new(
        small_config("node0", &["node0", "node1"], keys.clone()),
        0,
        1000,
    );
    drain(&mut c);
    let mut p = FakePeer::new("node1", keys.clone());
    let cases: Vec<Vec<(&str, String)>> = vec![
        vec![("t", "status".into())],
        vec![("t", "status".into()), ("st", "x".repeat(5000))],
        vec![
            ("t", "status".into()),
            ("st", "up".into()),
            ("dt", "ffffffffffffffff".into()),
        ],
        vec![
            ("t", "NS_rexmit".into()),
            ("dest", "node0".into()),
            ("firstseq", "1".into()),
            ("lastseq", "99999999999999999999".into()),
        ],
        vec![
            ("t", "NS_rexmit".into()),
            ("firstseq", "-5".into()),
            ("lastseq", "zz".into()),
        ],
        vec![
            ("t", "NS_ackmsg".into()),
            ("dest", "node0".into()),
            ("ackseq", "ffffffffffffffff".into()),
        ],
        vec![("t", "NS_nak_rexmit".into()), ("firstseq", "0".into())],
        vec![
            ("t", "repnodes".into()),
            ("dest", "node0".into()),
            ("nodelist", "a b c".into()),
        ],
        vec![("t", "reqnodes".into())],
        vec![("t", "".into())],
    ];
    for (k, fields) in cases.iter().enumerate() {
        let mut m = Message::new();
        for (n, v) in fields {
            m.push_str(*n, v);
        }
        c.on_datagram(10 + k as u64, 1000, 0, &p.seal(m));
        let outs = drain(&mut c);
        assert!(transmitted(&outs).len() < 60, "bounded work for case {k}");
    }
    // Hand-made control fields the FakePeer would not produce.
    for (seq, hg, ts) in [
        ("0", "1", "1"),
        ("zz", "1", "1"),
        ("5", "zz", "1"),
        ("6", "1", "0"),
        ("ffffffffffffffff", "7", "1"),
    ] {
        let mut m = Message::from_pairs([
            ("t", "x"),
            ("src", "node1"),
            ("seq", seq),
            ("hg", hg),
            ("ts", ts),
        ]);
        keys.add_inner_auth(&mut m);
        c.on_datagram(100, 1000, 0, &keys.seal(&m));
    }
    // The huge-seq message above is a >250 gap: tracking reset, nothing armed.
    assert!(c.pending_rexmit_requests() <= crate::MAX_MISSING);
    assert!(c.node_status("node1").is_some_and(|s| s.len() <= 31));
    drain(&mut c);
}

#[test]
fn fuzzed_packets_never_panic_and_never_change_state() {
    let mut sim = running_pair();
    let samples: Vec<Vec<u8>> = sim.nodes[1]
        .sent
        .iter()
        .rev()
        .take(50)
        .map(|(_, b)| b.clone())
        .collect();
    let before = snapshot(sim.engine(0).expect("running"));
    let accepted = sim.engine(0).map_or(0, |e| e.counters().accepted);
    let mut rng = Rng::new(5);
    let now = sim.now;
    let e = sim.engine_mut(0).expect("running");
    for k in 0..3000 {
        let base = &samples[k % samples.len()];
        let mut b = base.clone();
        match k % 4 {
            0 => {
                let i = rng.range(0, b.len() as u64 - 1) as usize;
                b[i] ^= 1 << rng.range(0, 7);
            }
            1 => b.truncate(rng.range(0, b.len() as u64 - 1) as usize),
            2 => {
                let i = rng.range(0, b.len() as u64 - 1) as usize;
                b.insert(i, rng.next_u64() as u8);
            }
            _ => {
                let n = rng.range(0, 400) as usize;
                b = (0..n).map(|_| rng.next_u64() as u8).collect();
                if k % 8 == 3 {
                    b.splice(0..0, b"###\n".iter().copied());
                }
            }
        }
        if b == *base {
            continue;
        }
        e.on_datagram(now, 1_700_000_000, 0, &b);
    }
    assert_eq!(e.counters().accepted, accepted);
    assert_eq!(snapshot(e), before);
    sim.flush(0);
}

/// A status of `node` as last sent, re-signed with the key after `edit`
/// (a forger holding the key, docs/reliability.md "Hardening").
fn forged_status(sim: &Sim, node: usize, edit: impl Fn(&mut Message)) -> Vec<u8> {
    let keys = sha1_keys();
    let last = sim.nodes[node]
        .sent
        .iter()
        .rev()
        .filter_map(|(_, b)| keys.open(b).ok())
        .find(|m| m.msg_type() == Some("status"))
        .expect("a status was sent");
    let mut m = last;
    edit(&mut m);
    keys.add_inner_auth(&mut m);
    keys.seal(&m)
}

fn hex_field(m: &Message, name: &str) -> u64 {
    u64::from_str_radix(m.get_str(name).unwrap_or("0"), 16).unwrap_or(0)
}

/// One forged packet (valid key) must not make a live peer look dead nor
/// make us lose our own heartbeat: a huge `hg`, a plausible `hg + 1`, a
/// huge `seq`, and our own name with a sequence number we never sent.
#[test]
fn one_forged_packet_with_huge_generation_or_seq_kills_nobody() {
    type Case = (&'static str, usize, fn(&mut Message));
    let cases: [Case; 4] = [
        ("hg=max", 1, |m| m.set_str("hg", "ffffffffffffffff")),
        ("hg+1", 1, |m| {
            let g = hex_field(m, "hg") + 1;
            m.set_str("hg", format!("{g:x}"));
        }),
        ("seq+1e6", 1, |m| {
            let s = hex_field(m, "seq") + 1_000_000;
            m.set_str("seq", format!("{s:x}"));
        }),
        ("own seq+1e6", 0, |m| {
            let s = hex_field(m, "seq") + 1_000_000;
            m.set_str("seq", format!("{s:x}"));
        }),
    ];
    for (what, from, edit) in cases {
        let mut sim = running_pair();
        sim.run_for(6000);
        let forged = forged_status(&sim, from, edit);
        sim.inject(0, 0, forged, 1);
        sim.run_for(5000);
        let e = sim.engine(0).expect("running");
        assert_eq!(e.node_status("node1"), Some("active"), "{what}");
        let bad: Vec<_> = sim
            .events_of(0, |e| {
                matches!(e, Event::NodeDead { .. } | Event::LocalHeartbeatLost)
            })
            .map(|(t, e)| format!("{t}: {e:?}"))
            .collect();
        assert!(bad.is_empty(), "{what}: {bad:?}");
        assert!(e.counters().dropped(DropReason::Forged) > 0, "{what}");
    }
}

/// Without the guard, 3.0.6 takes any of these: the same forged status
/// with the generation one higher is a restart, and the real heartbeats
/// that follow are old-generation "replays" — the guard goes back to the
/// real stream at the first real heartbeat.
#[test]
fn forged_restart_is_undone_by_the_next_real_heartbeat() {
    let mut sim = running_pair();
    sim.run_for(6000);
    let known = sim.nodes[1].generation;
    let forged = forged_status(&sim, 1, |m| {
        let g = hex_field(m, "hg") + 1;
        m.set_str("hg", format!("{g:x}"));
    });
    sim.inject(0, 0, forged, 1);
    sim.run_for(1000);
    let e = sim.engine(0).expect("running");
    let gen = e
        .nodes()
        .iter()
        .find(|v| v.name == "node1")
        .map(|v| v.generation);
    assert_eq!(gen, Some(known));
}

/// A recorded ping echo (`NS_st`) played back later is not a live answer.
#[test]
fn stale_ping_echo_is_dropped() {
    let mut cfg = small_config("node0", &["node0"], sha1_keys());
    cfg.deadping = 5000;
    cfg.ping_nodes = vec!["pinghost".into()];
    cfg.media.push(MediumInfo {
        name: "pinghost".into(),
        is_ping: true,
    });
    let wall = 1_700_000_000;
    let mut c = Cluster::new(cfg, 0, wall);
    let keys = sha1_keys();
    let echo = |ts: u64| {
        let mut m = Message::from_pairs([("t", "NS_st"), ("st", "ping"), ("info", "ping")]);
        m.push_str("src", "pinghost");
        m.push_str("ts", format!("{ts:x}"));
        keys.add_inner_auth(&mut m);
        keys.seal(&m)
    };
    c.on_datagram(1000, wall + 1, 1, &echo(wall - 100));
    assert_eq!(c.counters().dropped(DropReason::StaleEcho), 1);
    assert_ne!(c.node_status("pinghost"), Some("ping"));
    c.on_datagram(1000, wall + 1, 1, &echo(wall));
    assert_eq!(c.counters().dropped(DropReason::StaleEcho), 1);
    assert_eq!(c.node_status("pinghost"), Some("ping"));
}
