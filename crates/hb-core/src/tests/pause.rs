//! Pause-aware failure detection (`pause.rs`) in the simulator, at the
//! tightest setting the project targets: keepalive 5 ms, deadtime 25 ms.
//!
//! The simulator pauses a node like a stopped process or a stalled machine:
//! no timers, no reads; packets sent to it wait and are read 1 ms after it
//! runs again, so its timers fire first (the worst case for a daemon).

use super::*;
use crate::sim::{Sim, SimConfig};

const KEEPALIVE: Millis = 5;
const DEADTIME: Millis = 25;

fn running_pair(seed: u64) -> Sim {
    let mut cfg = SimConfig::new(2, sha1_keys(), seed);
    cfg.keepalive = KEEPALIVE;
    cfg.deadtime = DEADTIME;
    cfg.warntime = 15;
    cfg.initdead = 100;
    cfg.max_rexmit_delay = 10;
    let mut sim = Sim::new(cfg);
    sim.start_all();
    assert!(sim.run_until_converged(1, 500).is_some(), "pair converges");
    // Past the startup dt bump, so every node advertises dt = deadtime.
    sim.run_until(6000);
    for i in 0..2 {
        assert!(deaths(&sim, i).is_empty(), "no death before the pause");
    }
    sim
}

/// (time, node) of every NodeDead and link death seen by node `i`.
fn deaths(sim: &Sim, i: usize) -> Vec<(Millis, String)> {
    sim.events_of(i, |e| {
        matches!(
            e,
            Event::NodeDead { .. } | Event::LinkStatus { up: false, .. }
        )
    })
    .map(|(t, e)| (*t, format!("{e:?}")))
    .collect()
}

/// When node0 declared node1 dead.
fn node1_deaths_seen_by_node0(sim: &Sim) -> Vec<Millis> {
    sim.events_of(
        0,
        |e| matches!(e, Event::NodeDead { node } if node == "node1"),
    )
    .map(|(t, _)| *t)
    .collect()
}

fn pauses(sim: &Sim, i: usize) -> Vec<(Millis, Millis)> {
    sim.events_of(i, |e| matches!(e, Event::ProcessPause { .. }))
        .filter_map(|(t, e)| match e {
            Event::ProcessPause { length, .. } => Some((*t, *length)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_pause_of_the_local_node_alone_does_not_blame_the_peer() {
    let mut sim = running_pair(1);
    // 45 ms: the stall that made 3.0.6 and our earlier engine declare the
    // peer dead. The peer's heartbeats wait in node0's "socket buffer".
    sim.pause(0, 45);
    sim.run_for(500);
    assert!(
        deaths(&sim, 0).is_empty(),
        "node0 blamed its peer for its own pause: {:?}",
        deaths(&sim, 0)
    );
    let p = pauses(&sim, 0);
    assert_eq!(p.len(), 1, "one pause line: {p:?}");
    assert!(p[0].1 >= 40 && p[0].1 <= 45, "pause length {}", p[0].1);
    let line = sim
        .events_of(0, |e| matches!(e, Event::ProcessPause { .. }))
        .filter_map(|(_, e)| e.log_line())
        .next()
        .expect("logged");
    assert_eq!(line.0, crate::Level::Warn);
    assert!(
        line.1
            .starts_with("Process pause detected: heartbeat did not run for "),
        "{}",
        line.1
    );
    let e = sim.engine(0).expect("running");
    assert_eq!(e.node_status("node1"), Some("active"));
    assert_eq!(e.link_up("node1", "eth0"), Some(true));
    assert_eq!(e.counters().pauses, 1);
    // The peer really did not hear node0 for 45 ms > deadtime: it may say
    // so; that is the protocol, not a false death of ours.
}

#[test]
fn a_pause_of_the_whole_machine_kills_nobody() {
    let mut sim = running_pair(2);
    for round in 0..20 {
        // Both nodes stall together, from 30 to 220 ms (up to 9 deadtimes).
        let stall = 30 + round * 10;
        sim.pause(0, stall);
        sim.pause(1, stall);
        sim.run_for(stall + 200);
    }
    for i in 0..2 {
        assert!(
            deaths(&sim, i).is_empty(),
            "node{i}: false deaths {:?}",
            deaths(&sim, i)
        );
        assert_eq!(pauses(&sim, i).len(), 20, "node{i}: one line per stall");
        let e = sim.engine(i).expect("running");
        assert_eq!(e.node_status(&format!("node{}", 1 - i)), Some("active"));
    }
}

#[test]
fn a_peer_that_resumes_after_us_is_not_blamed_for_the_stall() {
    let mut sim = running_pair(5);
    for round in 0..10 {
        // One node stalls, and 2 ms later (everything it sent is read by
        // then) the other one too; the first resumes 15 ms after the second,
        // three keepalives after its grace. Its silence after our resume is
        // mostly time we did not run either: only the part we were awake
        // for counts, and that stays under deadtime. Without the excuse this
        // is a death every round.
        let stall = 40 + round * 15;
        let (first, second) = if round % 2 == 0 { (1, 0) } else { (0, 1) };
        sim.pause(first, stall + 17);
        sim.run_for(2);
        sim.pause(second, stall);
        sim.run_for(stall + 300);
    }
    for i in 0..2 {
        assert!(
            deaths(&sim, i).is_empty(),
            "node{i}: false deaths {:?}",
            deaths(&sim, i)
        );
        let e = sim.engine(i).expect("running");
        assert_eq!(e.node_status(&format!("node{}", 1 - i)), Some("active"));
    }
}

#[test]
fn a_real_crash_during_a_pause_is_still_found_in_time() {
    let mut sim = running_pair(3);
    sim.run_until(6102);
    // node1's last status left at 6100 and reached node0 at 6101.
    sim.crash(1);
    let last_rx: Millis = 6101;
    sim.run_until(6110);
    let pause: Millis = 60;
    sim.pause(0, pause);
    sim.run_for(500);
    let dead = node1_deaths_seen_by_node0(&sim);
    assert_eq!(dead.len(), 1, "declared dead once: {dead:?}");
    assert!(
        dead[0] <= last_rx + DEADTIME + KEEPALIVE + pause,
        "found within deadtime + keepalive + pause of the last heartbeat: {}",
        dead[0]
    );
    let resumed = 6110 + pause;
    assert!(
        dead[0] >= resumed + KEEPALIVE,
        "but only after the grace: {} vs resume at {resumed}",
        dead[0]
    );
}

#[test]
fn delays_under_the_threshold_do_not_delay_a_crash_detection() {
    let mut sim = running_pair(6);
    sim.run_until(6102);
    sim.crash(1);
    let last_rx: Millis = 6101;
    // A busy machine: node0 runs 8 ms late (under the 10 ms threshold)
    // three times while node1's deadline runs. That is scheduling delay,
    // not a pause: nothing is excused, the death is found as before (at
    // most the last delay later).
    for _ in 0..3 {
        sim.pause(0, 8);
        sim.run_for(9);
    }
    sim.run_for(500);
    let dead = node1_deaths_seen_by_node0(&sim);
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(
        dead[0] <= last_rx + DEADTIME + KEEPALIVE + 8,
        "found at {} (last heartbeat {last_rx})",
        dead[0]
    );
    assert!(pauses(&sim, 0).is_empty(), "no pause reported");
}

#[test]
fn without_a_pause_a_crash_is_found_as_before() {
    let mut sim = running_pair(4);
    sim.run_until(6102);
    sim.crash(1);
    sim.run_for(500);
    let dead = node1_deaths_seen_by_node0(&sim);
    assert_eq!(dead.len(), 1);
    assert!(dead[0] > 6101 + DEADTIME && dead[0] <= 6101 + DEADTIME + KEEPALIVE);
    assert!(pauses(&sim, 0).is_empty(), "no pause reported");
}
