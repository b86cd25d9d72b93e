use super::*;
use crate::sim::{Sim, SimConfig};

fn running_cluster(n: usize, seed: u64) -> Sim {
    let mut sim = Sim::new(SimConfig::new(n, sha1_keys(), seed));
    sim.start_all();
    assert!(sim.run_until_converged(20, 3000).is_some());
    // Past the 5 s startup bump: everybody advertises dt = deadtime.
    sim.run_until(6000);
    sim
}

fn dead_times(sim: &Sim, i: usize, node: &str) -> Vec<Millis> {
    sim.events_of(i, |e| matches!(e, Event::NodeDead { node: n } if n == node))
        .map(|(t, _)| *t)
        .collect()
}

#[test]
fn crashed_node_is_declared_dead_within_exact_bounds_then_restarts() {
    let mut sim = running_cluster(3, 11);
    let (deadtime, keepalive) = (1000, 100);
    // Statuses go out at multiples of the keepalive; crash just after one.
    sim.run_until(6050);
    sim.crash(2);
    let last_status_rx = 6001; // sent at 6000, 1 ms link delay
    sim.run_for(3000);
    for i in 0..2 {
        let dead = dead_times(&sim, i, "node2");
        assert_eq!(dead.len(), 1, "node{i} declares node2 dead once");
        assert!(
            dead[0] > last_status_rx + deadtime,
            "not before dt: {}",
            dead[0]
        );
        assert!(
            dead[0] <= last_status_rx + deadtime + keepalive,
            "within dt + keepalive: {}",
            dead[0]
        );
        let e = sim.engine(i).expect("running");
        assert_eq!(e.node_status("node2"), Some("dead"));
        assert_eq!(e.link_up("node2", "eth0"), Some(false));
        assert_eq!(e.missing_count("node2"), Some(0));
        let line = sim
            .events_of(i, |e| matches!(e, Event::NodeDead { .. }))
            .filter_map(|(_, e)| e.log_line())
            .next();
        assert_eq!(
            line,
            Some((crate::Level::Warn, "node node2: is dead".to_string()))
        );
    }
    // Restart with a higher generation.
    sim.start(2);
    assert!(sim.run_until_converged(20, sim.now + 3000).is_some());
    for i in 0..2 {
        let restarts: Vec<_> = sim
            .events_of(
                i,
                |e| matches!(e, Event::NodeRestarted { node } if node == "node2"),
            )
            .collect();
        assert_eq!(restarts.len(), 1);
        assert_eq!(
            restarts[0].1.log_line().map(|(_, s)| s).as_deref(),
            Some("Heartbeat restart on node node2")
        );
        let e = sim.engine(i).expect("running");
        assert_eq!(e.node_status("node2"), Some("active"));
        assert_eq!(
            e.nodes()
                .iter()
                .find(|v| v.name == "node2")
                .map(|v| v.generation),
            Some(sim.nodes[2].generation)
        );
    }
}

#[test]
fn quick_restart_is_seen_as_restart_not_death() {
    let mut sim = running_cluster(2, 12);
    sim.crash(1);
    sim.run_for(300);
    sim.start(1);
    assert!(sim.run_until_converged(20, sim.now + 3000).is_some());
    assert!(dead_times(&sim, 0, "node1").is_empty());
    let statuses: Vec<String> = sim
        .events_of(
            0,
            |e| matches!(e, Event::NodeStatus { node, .. } if node == "node1"),
        )
        .map(|(_, e)| match e {
            Event::NodeStatus { new, .. } => new.clone(),
            _ => String::new(),
        })
        .collect();
    // up, active at first start; init, up, active after the restart.
    assert_eq!(statuses, ["up", "active", "init", "up", "active"]);
    assert_eq!(
        sim.events_of(0, |e| matches!(e, Event::NodeRestarted { .. }))
            .count(),
        1
    );
}

#[test]
fn resumed_stream_is_seen_as_nothing_at_all() {
    let mut sim = running_cluster(2, 14);
    let before = sim.events_of(0, |_| true).count();
    sim.resume(1);
    sim.run_for(3000);
    // node0 logs nothing about node1: no restart, no replay, no lost
    // packets, no status change, no death.
    let after: Vec<String> = sim
        .events_of(0, |_| true)
        .skip(before)
        .map(|(_, e)| format!("{e:?}"))
        .collect();
    assert!(
        after.iter().all(|e| !e.contains("node1")),
        "node0 noticed node1's quick restart: {after:?}"
    );
    assert!(dead_times(&sim, 0, "node1").is_empty());
    // The resumed engine sees its own stream without a gap.
    let own: Vec<String> = sim
        .events_of(1, |e| {
            matches!(e, Event::LostPackets { .. } | Event::NodeRestarted { .. })
        })
        .map(|(_, e)| format!("{e:?}"))
        .collect();
    assert!(own.is_empty(), "{own:?}");
    // The resumed engine hears node0 and is up with it.
    assert!(sim.run_until_converged(20, sim.now + 3000).is_some());
}

#[test]
fn partition_longer_than_deadtime_then_heal() {
    let mut sim = running_cluster(4, 13);
    sim.partition(&[&[0, 1], &[2, 3]]);
    let cut = sim.now;
    sim.run_for(3000);
    for (i, others) in [(0, [2, 3]), (1, [2, 3]), (2, [0, 1]), (3, [0, 1])] {
        for o in others {
            let name = format!("node{o}");
            let dead = dead_times(&sim, i, &name);
            assert_eq!(dead.len(), 1, "node{i} declares {name} dead");
            assert!(dead[0] > cut + 900 && dead[0] <= cut + 1000 + 100 + 2);
        }
        // Same side stays alive.
        let mate = i ^ 1;
        assert!(dead_times(&sim, i, &format!("node{mate}")).is_empty());
        assert!(sim.engine(i).expect("running").comm_up());
    }
    sim.heal();
    let healed_at = sim.now;
    assert!(
        sim.run_until_converged(10, sim.now + 2000).is_some(),
        "converges after heal"
    );
    for (i, others) in [(0, [2, 3]), (1, [2, 3]), (2, [0, 1]), (3, [0, 1])] {
        for o in others {
            let name = format!("node{o}");
            let healed: Vec<_> = sim
                .events_of(
                    i,
                    |e| matches!(e, Event::PartitionHealed { node } if *node == name),
                )
                .collect();
            assert_eq!(healed.len(), 1, "node{i} sees {name} return once");
            assert!(healed[0].0 >= healed_at);
            let lines = healed[0].1.log_lines();
            assert_eq!(
                lines[0],
                (
                    crate::Level::Crit,
                    format!("Cluster node {name} returning after partition.")
                )
            );
            assert_eq!(lines.len(), 5);
        }
        // No restart was seen: nobody's generation changed.
        assert_eq!(
            sim.events_of(i, |e| matches!(e, Event::NodeRestarted { .. }))
                .count(),
            0
        );
    }
}
