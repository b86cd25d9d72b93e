use super::*;
use crate::sim::{Sim, SimConfig};
use crate::Event;

fn converge(n: usize, keys: KeyRing) -> (Sim, u64) {
    let cfg = SimConfig::new(n, keys, 42 + n as u64);
    let bound = cfg.initdead + 5 * cfg.keepalive;
    let mut sim = Sim::new(cfg);
    sim.start_all();
    let t = sim.run_until_converged(10, bound);
    assert!(t.is_some(), "{n} nodes did not converge within {bound} ms");
    (sim, t.unwrap_or(0))
}

#[test]
fn two_nodes_come_up() {
    let (sim, t) = converge(2, sha1_keys());
    eprintln!("converged at {t}");
    for i in 0..2 {
        for (at, e) in &sim.nodes[i].events {
            eprintln!("{} {at} {:?}", sim.nodes[i].name, e.log_line());
        }
    }
    assert!(sim.events_of(0, |e| matches!(e, Event::CommUp)).count() == 1);
}
