use super::metrics::{label, num};
use super::*;
use crate::view::NodeType;

fn snapshot() -> Snapshot {
    Snapshot {
        implementation: "heartbeat-rs".into(),
        version: "0.1.0".into(),
        local: "nodeb".into(),
        wall_now: 1_000_060,
        nodes: vec![
            NodeSnap {
                name: "nodea".into(),
                kind: NodeType::Normal,
                status: "dead".into(),
                weight: Some(100),
                is_local: false,
                status_since: Some(1_000_000),
                last_status_age: Some(61.25),
                dead_interval: Some(1.0),
            },
            NodeSnap {
                name: "nodeb".into(),
                kind: NodeType::Normal,
                status: "active".into(),
                weight: Some(100),
                is_local: true,
                status_since: None,
                last_status_age: Some(0.2),
                dead_interval: Some(1.0),
            },
        ],
        links: vec![LinkSnap {
            node: "nodea".into(),
            medium: "eth0".into(),
            up: false,
            last_packet_age: Some(61.0),
        }],
        packets: Some(Packets {
            received: 10,
            dropped: vec![("bad_auth".into(), 2)],
            node_deaths: 1,
            ..Packets::default()
        }),
        resources: Some(Resources {
            rsc_hold: "all".into(),
            mode: Some("on".into()),
            state: Some("stable".into()),
            standby: None,
            peer_holds: Some("none".into()),
            groups: vec![GroupSnap {
                key: "IPaddr2::198.18.0.100/24/eth0".into(),
                home: "nodea".into(),
                held: Some(true),
                reason: "its home node nodea is dead: this node took it over".into(),
                starts: 1,
                takeovers: 1,
                start_failures: 0,
                stop_failures: 0,
            }],
            counted: true,
        }),
        child_restarts: Some(vec![("write: bcast eth0".into(), 0)]),
        api_clients: Some(1),
        pauses: Some(Pauses::none()),
        timings: vec![("deadtime".into(), "1000 ms".into())],
        events: vec![(1_000_000, "WARN: node nodea: is dead".into())],
        unavailable: vec![],
    }
}

#[test]
fn metrics_follow_the_exposition_format() {
    let text = render_metrics(&snapshot());
    assert!(text.contains("heartbeat_node_status{node=\"nodea\",status=\"dead\"} 1\n"));
    assert!(text.contains("heartbeat_node_status{node=\"nodea\",status=\"active\"} 0\n"));
    assert!(text.contains("heartbeat_link_up{node=\"nodea\",medium=\"eth0\"} 0\n"));
    assert!(text.contains("heartbeat_node_last_status_age_seconds{node=\"nodea\"} 61.25\n"));
    assert!(text.contains("heartbeat_packets_dropped_total{reason=\"bad_auth\"} 2\n"));
    assert!(text.contains(
        "heartbeat_resource_group_takeovers_total{group=\"IPaddr2::198.18.0.100/24/eth0\"} 1\n"
    ));
    assert!(text.contains("heartbeat_scheduling_pause_seconds_bucket{le=\"+Inf\"} 0\n"));
    // Every family has HELP and TYPE before its samples, once.
    let mut seen = std::collections::BTreeSet::new();
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        assert!(seen.insert(line.to_string()), "{line} twice");
    }
}

#[test]
fn explain_says_why_in_words() {
    let text = render_explain(&snapshot());
    assert!(
        text.contains(
            "IPaddr2::198.18.0.100/24/eth0 (home nodea): HELD here: its home node nodea is dead: \
         this node took it over (nodea dead since 13:46:40 UTC (60 s ago))."
        ),
        "{text}"
    );
    assert!(
        text.contains("nodea via eth0: DEAD; last packet 61 s ago."),
        "{text}"
    );
    assert!(
        text.contains("13:46:40 WARN: node nodea: is dead"),
        "{text}"
    );
    let json = render_explain_json(&snapshot());
    assert!(json.contains("\"held\":true"), "{json}");
    assert!(json.starts_with('{') && json.ends_with("}\n"), "{json}");
}

#[test]
fn label_values_are_escaped() {
    assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    assert_eq!(num(2.0), "2");
    assert_eq!(num(0.25), "0.25");
    assert_eq!(num(1.0 / 3.0), "0.333");
}
