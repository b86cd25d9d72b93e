//! Scenario 12 of issue 8 at the engine level: the wall clock of one node jumps an hour
//! forward, then two hours back, while its monotonic clock runs on. The engine times
//! everything (keepalive, deadtime, warntime, retransmissions) on the monotonic milliseconds
//! the daemon feeds it; the wall clock only fills the `ts` field of outgoing messages. So
//! nothing may happen: no death, no late heartbeat, no restart or partition, no drop.
//!
//! The same harness shows it *would* notice: when the packets stop for longer than the
//! deadtime, the peer is declared dead.

use hb_core::{Cluster, CoreConfig, Event, MediumInfo, Output};
use hb_proto::{KeyRing, Method};

const NODES: [&str; 2] = ["nodea", "nodeb"];
const STEP_MS: u64 = 10;
const WALL0: u64 = 1_700_000_000;

fn engine(me: usize) -> Cluster {
    let keys = KeyRing::new(1, vec![(1, Method::Sha1, b"clock".to_vec())])
        .unwrap_or_else(|e| panic!("keys: {e}"));
    let mut cfg = CoreConfig::with_defaults(
        NODES[me],
        [me as u8 + 1; 16],
        100 + me as u64,
        NODES.iter().map(|n| n.to_string()).collect(),
        vec![MediumInfo {
            name: "eth0".into(),
            is_ping: false,
        }],
        keys,
    );
    cfg.keepalive = 100;
    cfg.deadtime = 1000;
    cfg.warntime = 500;
    cfg.initdead = 2000;
    Cluster::new(cfg, 0, WALL0)
}

/// What the run produced.
#[derive(Default)]
struct Run {
    /// Events per node, with the monotonic time they happened.
    events: [Vec<(u64, Event)>; 2],
    /// `ts` fields (hex seconds) of nodea's packets, with nodea's wall clock when sent.
    a_ts: Vec<(u64, u64)>,
}

/// Runs both engines for `length_ms` of monotonic time; `wall_a(now)` is nodea's wall clock,
/// `link(now)` whether packets get through.
fn run(length_ms: u64, wall_a: impl Fn(u64) -> u64, link: impl Fn(u64) -> bool) -> Run {
    let mut e = [engine(0), engine(1)];
    let mut out = Run::default();
    let mut now = 0;
    while now <= length_ms {
        let walls = [wall_a(now), WALL0 + now / 1000];
        for i in 0..2 {
            e[i].on_tick(now, walls[i]);
        }
        // Deliver everything each engine sent to both (broadcast loops back to the sender).
        let mut progress = true;
        while progress {
            progress = false;
            for i in 0..2 {
                let mut sent = Vec::new();
                while let Some(o) = e[i].poll_output() {
                    match o {
                        Output::Transmit(bytes) => sent.push(bytes),
                        Output::Event(ev) => out.events[i].push((now, ev)),
                        Output::Deliver(_) => {}
                    }
                }
                for bytes in sent {
                    progress = true;
                    if i == 0 {
                        let keys = e[0].config().keys.clone();
                        if let Some(ts) = keys.open(&bytes).ok().and_then(|m| {
                            m.get_str("ts")
                                .and_then(|t| u64::from_str_radix(t, 16).ok())
                        }) {
                            out.a_ts.push((walls[0], ts));
                        }
                    }
                    e[i].on_datagram(now, walls[i], 0, &bytes);
                    if link(now) {
                        let j = 1 - i;
                        e[j].on_datagram(now, walls[j], 0, &bytes);
                    }
                }
            }
        }
        now += STEP_MS;
    }
    for i in 0..2 {
        assert_eq!(
            e[i].counters().dropped_total(),
            0,
            "{} dropped packets",
            NODES[i]
        );
    }
    out
}

fn is_failure(ev: &Event) -> bool {
    matches!(
        ev,
        Event::NodeDead { .. }
            | Event::LateHeartbeat { .. }
            | Event::PartitionHealed { .. }
            | Event::NodeRestarted { .. }
            | Event::LocalHeartbeatLost
            | Event::ReplayDropped { .. }
    )
}

#[test]
fn wall_clock_jumps_change_nothing_but_ts() {
    // +1 h at 20 s, then back to 1 h *behind* the start at 40 s.
    let wall_a = |now: u64| {
        let base = WALL0 + now / 1000;
        if now >= 40_000 {
            base - 3600
        } else if now >= 20_000 {
            base + 3600
        } else {
            base
        }
    };
    let r = run(60_000, wall_a, |_| true);
    for (name, events) in NODES.iter().zip(&r.events) {
        let bad: Vec<_> = events.iter().filter(|(_, e)| is_failure(e)).collect();
        assert!(bad.is_empty(), "{name} saw {bad:?}");
        // Comm came up and the peer is active.
        assert!(
            events
                .iter()
                .any(|(_, e)| matches!(e, Event::NodeStatus { new, .. } if new == "active")),
            "{name}: {events:?}"
        );
    }
    // The jumps were real: nodea's ts followed its wall clock both ways.
    assert!(
        r.a_ts.iter().all(|(wall, ts)| wall == ts),
        "ts is not the wall clock"
    );
    assert!(r.a_ts.iter().any(|(_, ts)| *ts >= WALL0 + 3600));
    assert!(r.a_ts.iter().any(|(_, ts)| *ts < WALL0));
}

#[test]
fn the_same_run_notices_a_real_silence() {
    // Packets between the nodes stop for 3 s (> deadtime 1 s) at 20 s.
    let r = run(
        30_000,
        |now| WALL0 + now / 1000,
        |now| !(20_000..23_000).contains(&now),
    );
    assert!(
        r.events[0]
            .iter()
            .any(|(t, e)| matches!(e, Event::NodeDead { node } if node == "nodeb") && *t > 20_000),
        "{:?}",
        r.events[0]
    );
}
