use std::collections::HashMap;

use super::*;
use crate::sim::{LinkParams, Sim, SimConfig};

/// Each node sends an application message every `every` ms; returns how
/// many each node sent.
fn chatter(sim: &mut Sim, until: Millis, every: Millis, counter: &mut [u64]) {
    while sim.now < until {
        for (i, sent) in counter.iter_mut().enumerate() {
            let mut m = Message::new();
            m.push_str("t", "app");
            m.push_str("n", sent.to_string());
            sim.send_local(i, m);
            *sent += 1;
        }
        sim.run_for(every);
    }
}

/// Every receiver got every other node's app messages exactly once.
fn assert_exactly_once(sim: &Sim, sent: &[u64]) {
    for r in 0..sim.nodes.len() {
        let mut seen: HashMap<(String, String), u32> = HashMap::new();
        for (_, m) in &sim.nodes[r].delivered {
            if m.msg_type() == Some("app") {
                let key = (
                    m.get_str("src").unwrap_or("").to_string(),
                    m.get_str("n").unwrap_or("").to_string(),
                );
                *seen.entry(key).or_default() += 1;
            }
        }
        for (s, &count) in sent.iter().enumerate() {
            for n in 0..count {
                let key = (format!("node{s}"), n.to_string());
                assert_eq!(seen.get(&key).copied(), Some(1), "node{r} got {key:?} once");
            }
        }
        assert!(
            seen.values().all(|&c| c == 1),
            "no duplicate delivery on node{r}"
        );
    }
}

#[test]
fn thirty_percent_loss_for_a_minute_no_false_death_and_gaps_fill() {
    let mut cfg = SimConfig::new(3, sha1_keys(), 2024);
    cfg.keepalive = 100;
    cfg.deadtime = 1000;
    cfg.warntime = 800;
    let mut sim = Sim::new(cfg);
    sim.start_all();
    assert!(sim.run_until_converged(20, 3000).is_some());
    sim.set_default_link(LinkParams {
        loss: 0.3,
        delay: 2,
        jitter: 5,
        dup: 0.0,
    });
    let mut sent = vec![0u64; 3];
    chatter(&mut sim, 63_000, 200, &mut sent);
    // Let the last gaps fill on a clean network.
    sim.set_default_link(LinkParams::default());
    sim.run_for(2000);
    assert!(sim.lost_packets > 1000, "the network really lost packets");
    let mut served = 0;
    let mut requested = 0;
    for i in 0..3 {
        assert_eq!(
            sim.events_of(i, |e| matches!(e, Event::NodeDead { .. }))
                .count(),
            0
        );
        let e = sim.engine(i).expect("running");
        served += e.counters().rexmit_served;
        requested += e.counters().rexmit_requested;
        assert!(e.counters().gaps_filled > 0);
        for j in 0..3 {
            assert_eq!(
                e.missing_count(&format!("node{j}")),
                Some(0),
                "node{i} misses nothing from node{j}"
            );
        }
        assert_eq!(e.pending_rexmit_requests(), 0);
        assert!(sim.converged());
    }
    assert!(
        requested > 100 && served > 100,
        "requested {requested}, served {served}"
    );
    assert_exactly_once(&sim, &sent);
}

#[test]
fn duplicates_and_reordering_never_duplicate_deliveries() {
    let mut sim = Sim::new(SimConfig::new(3, sha1_keys(), 77));
    sim.set_default_link(LinkParams {
        loss: 0.05,
        delay: 1,
        jitter: 40,
        dup: 0.5,
    });
    sim.start_all();
    assert!(sim.run_until_converged(20, 4000).is_some());
    let mut sent = vec![0u64; 3];
    chatter(&mut sim, 10_000, 10, &mut sent);
    sim.set_default_link(LinkParams::default());
    sim.run_for(2000);
    assert_exactly_once(&sim, &sent);
    let dups: u64 = (0..3)
        .filter_map(|i| sim.engine(i))
        .map(|e| e.counters().duplicates + e.counters().old_duplicates)
        .sum();
    assert!(dups > 1000, "duplicates were seen and absorbed ({dups})");
    assert!((0..3).all(|i| sim
        .events_of(i, |e| matches!(e, Event::NodeDead { .. }))
        .count()
        == 0));
}

#[test]
fn rexmit_requests_are_single_seq_and_jittered() {
    // node1 -> node0 loses everything for a while: node0 must ask for each
    // missing seq individually, first within [50, 250] ms, then every 250 ms.
    let mut sim = Sim::new(SimConfig::new(2, sha1_keys(), 3));
    sim.record_packets = true;
    sim.start_all();
    assert!(sim.run_until_converged(20, 3000).is_some());
    sim.run_until(6000);
    let blackout = LinkParams {
        loss: 1.0,
        ..LinkParams::default()
    };
    sim.set_link(1, 0, blackout);
    sim.run_for(450);
    sim.set_link(1, 0, LinkParams::default());
    let gap_seen = sim.now;
    sim.run_for(600);
    let detected = sim
        .events_of(
            0,
            |e| matches!(e, Event::LostPackets { node, .. } if node == "node1"),
        )
        .map(|(t, _)| *t)
        .find(|t| *t >= gap_seen)
        .expect("gap detected");
    let keys = sha1_keys();
    let reqs: Vec<(Millis, Message)> = sim.nodes[0]
        .sent
        .iter()
        .filter(|(t, _)| *t >= gap_seen)
        .map(|(t, b)| (*t, keys.open(b).expect("verifies")))
        .filter(|(_, m)| m.msg_type() == Some("NS_rexmit"))
        .collect();
    assert!(!reqs.is_empty());
    for (t, m) in &reqs {
        assert_eq!(m.get_str("firstseq"), m.get_str("lastseq"));
        assert_eq!(m.get_str("dest"), Some("node1"));
        assert!(m
            .get_str("firstseq")
            .is_some_and(|s| s.bytes().all(|b| b.is_ascii_digit())));
        let delay = t - detected;
        assert!(
            (50..=250).contains(&delay),
            "first request after {delay} ms"
        );
    }
    let e = sim.engine(0).expect("running");
    assert_eq!(e.missing_count("node1"), Some(0));
}
