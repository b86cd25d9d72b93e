//! Hand-driven single-engine tests of the classification and timer rules.

use super::*;
use crate::stats::DropReason;

fn engine(keys: KeyRing) -> Cluster {
    let mut c = Cluster::new(small_config("node0", &["node0", "node1"], keys), 0, 1000);
    drain(&mut c);
    c
}

#[test]
fn startup_sends_init_then_up_twice_with_bumped_dt_then_pops() {
    let keys = sha1_keys();
    let mut c = Cluster::new(
        small_config("node0", &["node0", "node1"], keys.clone()),
        0,
        1000,
    );
    let outs = drain(&mut c);
    let msgs = decode_all(&keys, &transmitted(&outs));
    let statuses: Vec<(&str, &str, &str)> = msgs
        .iter()
        .filter(|m| m.msg_type() == Some("status"))
        .map(|m| {
            (
                m.get_str("st").unwrap_or(""),
                m.get_str("dt").unwrap_or(""),
                m.get_str("seq").unwrap_or(""),
            )
        })
        .collect();
    // deadtime 1000 + 2000 = 3000 = 0xbb8
    assert_eq!(
        statuses,
        [("init", "bb8", "1"), ("up", "bb8", "2"), ("up", "bb8", "3")]
    );
    assert!(events(&outs).contains(&Event::LocalStatus {
        status: "up".into()
    }));
    assert_eq!(c.next_wakeup(), 100);
    // At 5 s the bump ends: a status with dt = deadtime.
    let mut t = 0;
    let mut dts = Vec::new();
    while t < 5100 {
        t = c.next_wakeup();
        c.on_tick(t, 1000);
        for m in decode_all(&keys, &transmitted(&drain(&mut c))) {
            if m.msg_type() == Some("status") {
                dts.push((t, m.get_str("dt").unwrap_or("").to_string()));
            }
        }
    }
    assert!(dts
        .iter()
        .filter(|(t, _)| *t < 5000)
        .all(|(_, d)| d == "bb8"));
    assert!(dts
        .iter()
        .filter(|(t, _)| *t >= 5000)
        .all(|(_, d)| d == "3e8"));
    assert_eq!(
        dts.iter().filter(|(t, _)| *t == 5000).count(),
        2,
        "keepalive + pop at 5000"
    );
}

#[test]
fn gap_schedules_rexmit_and_arrival_cancels_it() {
    let keys = sha1_keys();
    let mut c = engine(keys.clone());
    let mut p = FakePeer::new("node1", keys.clone());
    c.on_datagram(10, 1000, 0, &p.status("up", 1000));
    p.seq = 30; // next is 31: 2..=30 missing
    c.on_datagram(20, 1000, 0, &p.app("x"));
    let ev = events(&drain(&mut c));
    assert!(ev.contains(&Event::LostPackets {
        node: "node1".into(),
        count: 29,
        last: 1,
        got: 31
    }));
    assert_eq!(
        Event::LostPackets {
            node: "node1".into(),
            count: 29,
            last: 1,
            got: 31
        }
        .log_line(),
        Some((
            crate::Level::Warn,
            "29 lost packet(s) for [node1] [1:31]".into()
        ))
    );
    assert_eq!(c.missing_count("node1"), Some(29));
    assert_eq!(c.pending_rexmit_requests(), 29);
    // Nothing is due before 20 + 50 ms.
    c.on_tick(69, 1000);
    assert!(decode_all(&keys, &transmitted(&drain(&mut c)))
        .iter()
        .all(|m| m.msg_type() != Some("NS_rexmit")));
    // By 20 + 250 ms every timer fired: 29 single-seq requests, decimal.
    c.on_tick(270, 1000);
    let reqs: Vec<Message> = decode_all(&keys, &transmitted(&drain(&mut c)))
        .into_iter()
        .filter(|m| m.msg_type() == Some("NS_rexmit"))
        .collect();
    assert_eq!(reqs.len(), 29);
    let mut asked: Vec<u64> = reqs
        .iter()
        .map(|m| {
            m.get_str("firstseq")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0)
        })
        .collect();
    asked.sort_unstable();
    assert_eq!(asked, (2..=30).collect::<Vec<u64>>());
    // Missing seq 26 arrives: it is delivered, its timer cancelled.
    let mut late = FakePeer::new("node1", keys.clone());
    late.seq = 25;
    c.on_datagram(300, 1000, 0, &late.app("late"));
    let outs = drain(&mut c);
    assert_eq!(delivered(&outs).len(), 1);
    assert_eq!(c.missing_count("node1"), Some(28));
    assert_eq!(c.pending_rexmit_requests(), 28);
    // The same packet again is an old duplicate: not delivered.
    let mut again = FakePeer::new("node1", keys.clone());
    again.seq = 25;
    c.on_datagram(301, 1000, 0, &again.app("late"));
    assert!(delivered(&drain(&mut c)).is_empty());
    assert_eq!(c.counters().old_duplicates, 1);
    // A NAK for 2 removes it too and is logged.
    let mut nak = Message::new();
    nak.push_str("t", "NS_nak_rexmit");
    nak.push_str("firstseq", "2");
    nak.push_str("dest", "node0");
    nak.push_str("info", "seqno not found");
    c.on_datagram(302, 1000, 0, &p.seal(nak));
    let ev = events(&drain(&mut c));
    assert!(ev.contains(&Event::IrretrievablyLost {
        node: "node1".into(),
        seq: 2
    }));
    assert_eq!(c.missing_count("node1"), Some(27));
    // Re-armed at exactly max_rexmit_delay after firing.
    let count_rexmits = |c: &mut Cluster| {
        decode_all(&sha1_keys(), &transmitted(&drain(c)))
            .iter()
            .filter(|m| m.msg_type() == Some("NS_rexmit"))
            .count()
    };
    c.on_tick(519, 1000);
    assert_eq!(count_rexmits(&mut c), 0);
    c.on_tick(520, 1000);
    assert_eq!(count_rexmits(&mut c), 27);
}

#[test]
fn more_than_250_lost_resets_tracking() {
    let keys = sha1_keys();
    let mut c = engine(keys.clone());
    let mut p = FakePeer::new("node1", keys);
    c.on_datagram(10, 1000, 0, &p.status("up", 1000));
    p.seq = 300;
    c.on_datagram(20, 1000, 0, &p.app("x"));
    let outs = drain(&mut c);
    assert!(events(&outs).contains(&Event::TooManyLost {
        node: "node1".into()
    }));
    let apps = delivered(&outs)
        .iter()
        .filter(|m| m.msg_type() == Some("x"))
        .count();
    assert_eq!(apps, 1);
    assert_eq!(c.missing_count("node1"), Some(0));
    assert_eq!(c.pending_rexmit_requests(), 0);
}

#[test]
fn warntime_and_the_3_0_6_beyond_deadtime_rule() {
    let keys = sha1_keys();
    let mut c = engine(keys.clone());
    let mut p = FakePeer::new("node1", keys);
    c.on_datagram(10, 1000, 0, &p.status("active", 1000));
    c.on_datagram(110, 1000, 0, &p.status("active", 1000));
    drain(&mut c);
    // 700 ms gap: above warntime (500).
    c.on_datagram(810, 1000, 0, &p.status("active", 1000));
    let ev = events(&drain(&mut c));
    let late = Event::LateHeartbeat {
        node: "node1".into(),
        interval_ms: 700,
        beyond_deadtime: false,
    };
    assert!(ev.contains(&late));
    assert_eq!(
        late.log_line(),
        Some((
            crate::Level::Warn,
            "Late heartbeat: Node node1: interval 700 ms".into()
        ))
    );
    // Our timers were starved: 1500 ms later, without any tick, a status
    // arrives. 3.0.6 marks the node dead first, then revives it; we know we
    // did not run (the engine was due long before) and only report it.
    c.on_datagram(2310, 1000, 0, &p.status("active", 1000));
    let ev = events(&drain(&mut c));
    let crit = Event::LateHeartbeat {
        node: "node1".into(),
        interval_ms: 1500,
        beyond_deadtime: true,
    };
    assert_eq!(
        crit.log_line(),
        Some((
            crate::Level::Crit,
            "Late heartbeat: Node node1: interval 1500 ms (> deadtime)".into()
        ))
    );
    let i_pause = ev
        .iter()
        .position(|e| matches!(e, Event::ProcessPause { .. }))
        .expect("the starved timers are reported as a pause");
    let i_crit = ev.iter().position(|e| *e == crit).expect("crit");
    assert!(i_pause < i_crit);
    assert!(
        !ev.iter().any(|e| matches!(e, Event::NodeDead { .. })),
        "a pause of ours is not the peer's death: {ev:?}"
    );
    assert_eq!(c.node_status("node1"), Some("active"));
}

#[test]
fn status_without_protocol_disables_flow_control() {
    let keys = sha1_keys();
    let mut c = engine(keys.clone());
    let mut p = FakePeer::new("node1", keys.clone());
    let mut st = Message::new();
    st.push_str("t", "status");
    st.push_str("st", "up");
    c.on_datagram(10, 1000, 0, &p.seal(st));
    let outs = drain(&mut c);
    assert!(events(&outs).contains(&Event::FlowControlDisabled));
    assert!(!c.flow_control());
    // Our next status omits `protocol`.
    c.on_tick(100, 1000);
    let msgs = decode_all(&keys, &transmitted(&drain(&mut c)));
    let st = msgs
        .iter()
        .find(|m| m.msg_type() == Some("status"))
        .expect("status");
    assert_eq!(st.get_str("protocol"), None);
}

#[test]
fn dead_node_uses_advertised_dt_after_links_up() {
    let keys = sha1_keys();
    let mut c = engine(keys.clone());
    let mut p = FakePeer::new("node1", keys);
    // dt = 0x9c4 = 2500 ms
    c.on_datagram(10, 1000, 0, &p.status("up", 2500));
    let mut now = 10;
    while !c.comm_up() && now < 1000 {
        now = c.next_wakeup().max(now + 1);
        c.on_tick(now, 1000);
        if let Some(req) = decode_all(&sha1_keys(), &transmitted(&drain(&mut c)))
            .iter()
            .find(|m| m.msg_type() == Some("reqnodes"))
        {
            assert_eq!(req.get_str("dest"), Some("node1"));
            let mut rep = Message::new();
            rep.push_str("dest", "node0");
            rep.push_str("t", "repnodes");
            rep.push_str("nodelist", "node0 node1 ");
            rep.push_str("delnodelist", " ");
            c.on_datagram(now, 1000, 0, &p.seal(rep));
        }
    }
    assert!(c.comm_up());
    drain(&mut c);
    // Silence: dead exactly 2500 ms after the last status (+1 ms).
    let mut dead_at = None;
    while dead_at.is_none() && now < 10_000 {
        now = c.next_wakeup();
        c.on_tick(now, 1000);
        if events(&drain(&mut c)).contains(&Event::NodeDead {
            node: "node1".into(),
        }) {
            dead_at = Some(now);
        }
    }
    assert_eq!(dead_at, Some(10 + 2500 + 1));
    assert_eq!(c.counters().dropped_total(), 0);
    let _ = DropReason::ALL;
}
