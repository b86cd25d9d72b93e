//! STONITH decisions of one ResourceManager (docs/behaviour.md §5.5.2): a
//! reset only when needed, no takeover before it succeeded, retries every
//! 5 s, the hourly device check.

use hb_proto::Message;
use hb_rsc::{
    GroupSpec, Mode, Output, ResetOutcome, ResourceManager, RscConfig, STONITH_CHECK_INTERVAL_MS,
    STONITH_RETRY_MS,
};

fn manager(mode: Mode, stonith: bool) -> ResourceManager {
    let mut rm = ResourceManager::new(RscConfig {
        local: "a".into(),
        nodes: vec!["a".into(), "b".into()],
        groups: vec![
            GroupSpec {
                key: "198.18.99.1".into(),
                node: "a".into(),
            },
            GroupSpec {
                key: "198.18.99.2".into(),
                node: "b".into(),
            },
        ],
        mode,
    });
    if stonith {
        rm.enable_stonith();
    }
    rm
}

/// Runs every group operation to success and loops our messages back,
/// until nothing moves; returns everything seen.
fn settle(rm: &mut ResourceManager, now: u64) -> Vec<Output> {
    let mut seen = Vec::new();
    for _ in 0..100 {
        let out: Vec<Output> = std::iter::from_fn(|| rm.poll()).collect();
        if out.is_empty() {
            break;
        }
        for o in &out {
            match o {
                Output::Acquire { id, .. } | Output::Release { id, .. } => {
                    rm.action_done(*id, true, now)
                }
                Output::Send(m) => {
                    let mut m = m.clone();
                    m.push_str("src", "a");
                    rm.message(&m, true, now);
                }
                _ => {}
            }
        }
        seen.extend(out);
    }
    seen
}

fn logs(out: &[Output]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Output::Log(_, t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

fn sent(out: &[Output], t: &str) -> Vec<Message> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send(m) if m.get_str("t") == Some(t) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn acquires(out: &[Output]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Output::Acquire { key, .. } => Some(key.clone()),
            _ => None,
        })
        .collect()
}

/// `a` running with `b` active and holding its own group.
fn running_pair(stonith: bool) -> (ResourceManager, Vec<Output>) {
    let mut rm = manager(Mode::On, stonith);
    rm.node_status("b", "active");
    let mut b = Message::from_pairs([
        ("t", "resource"),
        ("rsc_hold", "local"),
        ("rtype", "full"),
        ("isstable", "1"),
    ]);
    b.push_str("src", "b");
    rm.message(&b, false, 0);
    rm.comm_up(0, &["b".to_string()]);
    let out = settle(&mut rm, 0);
    rm.message(&b, false, 100);
    let more = settle(&mut rm, 100);
    (rm, [out, more].concat())
}

#[test]
fn no_device_takes_over_at_once() {
    let (mut rm, start) = running_pair(false);
    assert!(!start.iter().any(|o| matches!(o, Output::CheckDevice)));
    rm.node_dead("b", 1_000);
    let out = settle(&mut rm, 1_000);
    let st = sent(&out, "stonith");
    assert_eq!(st[0].get_str("result"), Some("n_stnth"));
    assert!(logs(&out).contains(&"No STONITH device configured.".to_string()));
    assert!(!out.iter().any(|o| matches!(o, Output::Reset { .. })));
    assert!(logs(&out).contains(&"Resources being acquired from b.".to_string()));
}

#[test]
fn device_checked_at_comm_up_then_hourly() {
    let (mut rm, start) = running_pair(true);
    assert_eq!(
        start
            .iter()
            .filter(|o| matches!(o, Output::CheckDevice))
            .count(),
        1
    );
    rm.device_check_done(false, 500);
    let out = settle(&mut rm, 500);
    assert_eq!(
        logs(&out),
        [
            "STONITH status operation failed.",
            "This may mean that the STONITH device has failed!"
        ]
    );
    assert_eq!(rm.next_deadline(), Some(500 + STONITH_CHECK_INTERVAL_MS));
    rm.tick(500 + STONITH_CHECK_INTERVAL_MS - 1);
    assert!(!settle(&mut rm, 0)
        .iter()
        .any(|o| matches!(o, Output::CheckDevice)));
    rm.tick(500 + STONITH_CHECK_INTERVAL_MS);
    assert!(settle(&mut rm, 0)
        .iter()
        .any(|o| matches!(o, Output::CheckDevice)));
    // no second check before this one is done
    rm.tick(500 + 3 * STONITH_CHECK_INTERVAL_MS);
    assert!(!settle(&mut rm, 0)
        .iter()
        .any(|o| matches!(o, Output::CheckDevice)));
}

#[test]
fn takeover_waits_for_the_reset_and_retries_every_5s() {
    let (mut rm, _) = running_pair(true);
    rm.node_dead("b", 1_000);
    let out = settle(&mut rm, 1_000);
    assert_eq!(
        out.iter()
            .filter(|o| matches!(o, Output::Reset { node } if node == "b"))
            .count(),
        1,
        "{out:#?}"
    );
    assert!(
        sent(&out, "stonith").is_empty(),
        "no result before the reset"
    );
    assert!(!logs(&out).iter().any(|l| l.contains("being acquired")));
    assert!(rm.reset_pending("B"));
    // dying again while the reset runs starts no second one
    rm.node_dead("b", 1_100);
    assert!(!settle(&mut rm, 1_100)
        .iter()
        .any(|o| matches!(o, Output::Reset { .. })));

    // the device fails: result=bad, retry after 5 s, still no takeover
    rm.reset_done("b", ResetOutcome::Failed, 2_000);
    let out = settle(&mut rm, 2_000);
    assert_eq!(sent(&out, "stonith")[0].get_str("result"), Some("bad"));
    assert_eq!(logs(&out), ["STONITH of b failed.  Retrying..."]);
    assert!(acquires(&out).is_empty());
    assert_eq!(rm.next_deadline(), Some(2_000 + STONITH_RETRY_MS));
    rm.tick(2_000 + STONITH_RETRY_MS - 1);
    assert!(!settle(&mut rm, 0)
        .iter()
        .any(|o| matches!(o, Output::Reset { .. })));
    rm.tick(2_000 + STONITH_RETRY_MS);
    let out = settle(&mut rm, 7_000);
    assert!(out
        .iter()
        .any(|o| matches!(o, Output::Reset { node } if node == "b")));
    // a badhost answer is retried the same way
    rm.reset_done("b", ResetOutcome::BadHost, 8_000);
    let out = settle(&mut rm, 8_000);
    assert_eq!(sent(&out, "stonith")[0].get_str("result"), Some("badhost"));
    rm.tick(13_000);
    settle(&mut rm, 13_000);

    // success: result=OK, then the takeover
    rm.reset_done("b", ResetOutcome::Reset, 14_000);
    let out = settle(&mut rm, 14_000);
    assert_eq!(sent(&out, "stonith")[0].get_str("result"), Some("OK"));
    assert!(logs(&out).contains(&"Resources being acquired from b.".to_string()));
    assert!(!rm.reset_pending("b"));
    let first_send = out
        .iter()
        .position(|o| matches!(o, Output::Send(m) if m.get_str("t") == Some("stonith")));
    let first_log = out
        .iter()
        .position(|o| matches!(o, Output::Log(_, t) if t.contains("being acquired")));
    assert!(first_send < first_log, "result before the takeover");
    // a stale report changes nothing
    rm.reset_done("b", ResetOutcome::Reset, 15_000);
    assert!(settle(&mut rm, 15_000).is_empty());
}

#[test]
fn no_reset_for_a_node_that_gave_everything_up() {
    let (mut rm, _) = running_pair(true);
    let mut none = Message::from_pairs([
        ("t", "resource"),
        ("rsc_hold", "none"),
        ("rtype", "full"),
        ("isstable", "1"),
    ]);
    none.push_str("src", "b");
    rm.message(&none, false, 900);
    settle(&mut rm, 900);
    rm.node_dead("b", 1_000);
    let out = settle(&mut rm, 1_000);
    assert!(!out.iter().any(|o| matches!(o, Output::Reset { .. })));
    assert_eq!(sent(&out, "stonith")[0].get_str("result"), Some("unneeded"));
    assert!(logs(&out).contains(&"Dead node b gave up resources.".to_string()));
}
