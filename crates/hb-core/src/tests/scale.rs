//! The 100-node simulator (issue "lean", target 3): one medium, keepalive
//! 1 s / deadtime 3 s. Prints what a cluster that size costs and how fast a
//! crash is found, and checks both against the protocol's bounds
//! (`cargo test -p hb-core scale -- --nocapture` shows the figures).

use super::*;
use crate::sim::{Sim, SimConfig};

// About a minute in a debug build on a loaded 2-core machine; run it with
// `cargo test --release -p hb-core --lib -- tests::scale --ignored --nocapture`.
#[test]
#[ignore = "slow in debug builds; see above"]
fn a_hundred_nodes_detect_a_crash_within_deadtime_plus_keepalive() {
    const N: usize = 100;
    const KEEPALIVE: Millis = 1000;
    const DEADTIME: Millis = 3000;
    let mut cfg = SimConfig::new(N, sha1_keys(), 100);
    cfg.keepalive = KEEPALIVE;
    cfg.deadtime = DEADTIME;
    cfg.warntime = 2000;
    cfg.initdead = 6000;
    let mut sim = Sim::new(cfg);
    sim.start_all();
    let converged = sim.run_until_converged(100, 30_000);
    assert!(converged.is_some(), "100 nodes converge within 30 s");
    sim.run_until(12_000);

    // Steady state: messages per node per second over 5 s.
    let acks = |sim: &Sim| -> u64 {
        (0..N)
            .filter_map(|i| sim.engine(i).map(|e| e.counters().acks_sent))
            .sum()
    };
    let acks_before = acks(&sim);
    let sent0: u64 = sim.nodes.iter().map(|n| n.transmitted).sum();
    let recv0 = sim.delivered_packets;
    sim.run_for(5_000);
    let secs = 5.0;
    let sent = (sim.nodes.iter().map(|n| n.transmitted).sum::<u64>() - sent0) as f64;
    let recv = (sim.delivered_packets - recv0) as f64;
    let sent_per_node = sent / N as f64 / secs;
    let recv_per_node = recv / N as f64 / secs;
    let acks_per_node = (acks(&sim) - acks_before) as f64 / N as f64 / secs;

    // Crash the last node just after its heartbeat went out.
    let victim = N - 1;
    let crash_at = sim.now;
    sim.crash(victim);
    sim.run_for(2 * (DEADTIME + KEEPALIVE));
    let name = format!("node{victim}");
    let mut detect: Vec<Millis> = (0..N - 1)
        .filter_map(|i| {
            sim.events_of(
                i,
                |e| matches!(e, Event::NodeDead { node } if *node == name),
            )
            .map(|(t, _)| t.saturating_sub(crash_at))
            .next()
        })
        .collect();
    detect.sort_unstable();
    println!(
        "100-node simulator, keepalive {KEEPALIVE} ms / deadtime {DEADTIME} ms: converged at {} ms; \
         messages per node per second: {sent_per_node:.2} sent (of which {acks_per_node:.2} ACKs), \
         {recv_per_node:.1} received; \
         crash detected by {} of {} nodes after {} ms (min) / {} ms (median) / {} ms (max)",
        converged.unwrap_or(0),
        detect.len(),
        N - 1,
        detect.first().copied().unwrap_or(0),
        detect.get(detect.len() / 2).copied().unwrap_or(0),
        detect.last().copied().unwrap_or(0),
    );
    assert_eq!(detect.len(), N - 1, "every survivor declares the crash");
    assert!(
        *detect.last().unwrap_or(&Millis::MAX) <= DEADTIME + KEEPALIVE,
        "detection within deadtime + keepalive: {detect:?}"
    );
    // One heartbeat per keepalive, plus the ACKs of docs/protocol.md §6.6:
    // one for every tenth message of each peer, so about N/10 per second.
    let expected = 1.0 + N as f64 / 10.0;
    assert!(
        (0.9..=expected * 1.2).contains(&sent_per_node),
        "{sent_per_node} messages per node per second, expected about {expected}"
    );
    // A broadcast reaches every node (the sender too): no more than that.
    assert!(
        recv_per_node <= sent_per_node * N as f64 * 1.01,
        "{recv_per_node}"
    );
}
