use super::*;
use crate::sim::{Sim, SimConfig};
use crate::NodeKind;

fn converge(n: usize, keys: KeyRing) -> Sim {
    let cfg = SimConfig::new(n, keys, 42 + n as u64);
    let bound = cfg.initdead + 5 * cfg.keepalive;
    let mut sim = Sim::new(cfg);
    sim.start_all();
    let t = sim.run_until_converged(20, bound);
    assert!(t.is_some(), "{n} nodes did not converge within {bound} ms");
    for i in 0..n {
        let comm = sim
            .events_of(i, |e| matches!(e, Event::CommUp))
            .map(|(t, _)| *t)
            .collect::<Vec<_>>();
        assert_eq!(comm.len(), 1, "exactly one comm-up on node {i}");
        assert!(sim
            .events_of(i, |e| matches!(e, Event::NodeDead { .. }))
            .next()
            .is_none());
        let e = sim.engine(i).expect("running");
        assert_eq!(e.local_status(), "active");
        for j in 0..n {
            assert_eq!(
                e.link_up(&format!("node{j}"), "eth0"),
                Some(true),
                "link {i}->{j}"
            );
        }
    }
    sim
}

#[test]
fn two_nodes_come_up() {
    let sim = converge(2, sha1_keys());
    // Startup order of the local status and comm-up log lines.
    let lines: Vec<String> = sim.nodes[0]
        .events
        .iter()
        .filter_map(|(_, e)| e.log_line())
        .filter(|(l, _)| *l != crate::Level::Debug)
        .map(|(_, s)| s)
        .collect();
    let pos = |s: &str| lines.iter().position(|l| l == s).unwrap_or(usize::MAX);
    assert!(pos("Local status now set to: 'up'") < pos("Comm_now_up(): updating status to active"));
    assert!(
        pos("Comm_now_up(): updating status to active") < pos("Local status now set to: 'active'")
    );
    assert!(pos("Link node1:eth0 up.") < usize::MAX);
    assert!(pos("Status update for node node1: status active") < usize::MAX);
}

#[test]
fn three_nodes_come_up() {
    converge(3, sha1_keys());
}

#[test]
fn sixteen_nodes_come_up() {
    converge(16, crc_keys());
}

#[test]
fn hundred_nodes_come_up() {
    let sim = converge(100, crc_keys());
    let views = sim.engine(0).expect("running").nodes();
    assert_eq!(views.len(), 100);
    assert!(views
        .iter()
        .all(|v| v.kind == NodeKind::Normal && v.status == "active"));
}

#[test]
fn an_absent_peer_delays_comm_up_by_initdead() {
    let cfg = SimConfig::new(3, sha1_keys(), 5);
    let (initdead, keepalive) = (cfg.initdead, cfg.keepalive);
    let mut sim = Sim::new(cfg);
    sim.start(0);
    sim.start(1);
    sim.run_for(initdead + 5 * keepalive);
    for i in 0..2 {
        let dead: Vec<Millis> = sim
            .events_of(
                i,
                |e| matches!(e, Event::NodeDead { node } if node == "node2"),
            )
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(
            dead,
            vec![initdead + 1],
            "absent node dead right after initdead"
        );
        let up: Vec<Millis> = sim
            .events_of(i, |e| matches!(e, Event::CommUp))
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(up.len(), 1);
        assert!(
            up[0] > initdead && up[0] <= initdead + keepalive,
            "comm up at {}",
            up[0]
        );
        assert_eq!(
            sim.engine(i).and_then(|e| e.node_status("node2")),
            Some("dead")
        );
        assert_eq!(
            sim.engine(i)
                .and_then(|e| e.node_status(&format!("node{}", 1 - i))),
            Some("active")
        );
    }
    // The latecomer joins a running cluster.
    sim.start(2);
    assert!(sim
        .run_until_converged(20, sim.now + initdead + 5 * keepalive)
        .is_some());
}

#[test]
fn ping_node_answers_then_dies() {
    let mut cfg = SimConfig::new(2, sha1_keys(), 9);
    cfg.ping_nodes = vec!["10.0.0.254".to_string()];
    let deadtime = cfg.deadtime;
    let mut sim = Sim::new(cfg);
    sim.start_all();
    assert!(sim.run_until_converged(20, 3000).is_some());
    for i in 0..2 {
        let e = sim.engine(i).expect("running");
        assert_eq!(e.node_status("10.0.0.254"), Some("ping"));
        assert_eq!(e.link_up("10.0.0.254", "10.0.0.254"), Some(true));
        let line = sim
            .events_of(
                i,
                |e| matches!(e, Event::NodeStatus { new, .. } if new == "ping"),
            )
            .filter_map(|(_, e)| e.log_line())
            .next();
        assert_eq!(
            line.map(|(_, s)| s).as_deref(),
            Some("Status update for node 10.0.0.254: status ping")
        );
    }
    sim.run_until(6000);
    sim.set_ping_reachable("10.0.0.254", false);
    let cut = sim.now;
    sim.run_for(deadtime + 500);
    for i in 0..2 {
        let dead: Vec<Millis> = sim
            .events_of(
                i,
                |e| matches!(e, Event::NodeDead { node } if node == "10.0.0.254"),
            )
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(dead.len(), 1);
        assert!(dead[0] > cut + deadtime - 100 && dead[0] <= cut + deadtime + 2);
        // Peers are unaffected.
        assert_eq!(
            sim.engine(i)
                .and_then(|e| e.node_status(&format!("node{}", 1 - i))),
            Some("active")
        );
    }
    sim.set_ping_reachable("10.0.0.254", true);
    sim.run_for(500);
    assert_eq!(
        sim.engine(0).and_then(|e| e.node_status("10.0.0.254")),
        Some("ping")
    );
}
