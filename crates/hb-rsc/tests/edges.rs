//! One ResourceManager driven by hand-made messages: audits, standby edge
//! cases, malformed input (never a panic).

use hb_proto::Message;
use hb_rsc::{
    GroupSpec, Level, LocalCommand, Mode, Output, ResourceManager, RscConfig, RscSet, RscStatus,
    StandbyArg,
};

fn manager(mode: Mode) -> ResourceManager {
    ResourceManager::new(RscConfig {
        local: "a".into(),
        nodes: vec!["a".into(), "b".into()],
        groups: vec![
            GroupSpec {
                key: "198.18.99.1".into(),
                node: "a".into(),
            },
            GroupSpec {
                key: "198.18.99.2".into(),
                node: "B".into(),
            },
        ],
        mode,
    })
}

fn drain(rm: &mut ResourceManager) -> Vec<Output> {
    std::iter::from_fn(|| rm.poll()).collect()
}

fn logs(out: &[Output]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Output::Log(_, t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

fn from_b(pairs: &[(&str, &str)]) -> Message {
    let mut m = Message::from_pairs(pairs.iter().copied());
    m.push_str("src", "b");
    m
}

/// `a` up while `b` is merely `up`: a goes stable at once and acquires
/// its group; the acquisition is completed.
fn stable_a(mode: Mode) -> ResourceManager {
    let mut rm = manager(mode);
    rm.node_status("b", "up");
    rm.comm_up(0, &[]);
    let mut now = 0;
    loop {
        let out = drain(&mut rm);
        let mut progressed = false;
        for o in out {
            match o {
                Output::Acquire { id, .. } | Output::Release { id, .. } => {
                    rm.action_done(id, true, now);
                    progressed = true;
                }
                Output::Send(mut m) => {
                    m.push_str("src", "a");
                    rm.message(&m, true, now);
                    progressed = true;
                }
                _ => {}
            }
        }
        now += 100;
        if !progressed {
            break;
        }
    }
    // the peer says it is stable and holds its own group
    rm.message(
        &from_b(&[
            ("t", "resource"),
            ("rsc_hold", "local"),
            ("rtype", "full"),
            ("isstable", "1"),
        ]),
        false,
        now,
    );
    drain(&mut rm);
    assert_eq!(rm.held_groups(), ["198.18.99.1"]);
    assert_eq!(rm.rsc_hold(), RscStatus::Held(RscSet::LOCAL));
    rm
}

#[test]
fn audits_report_double_and_missing_ownership() {
    let mut rm = stable_a(Mode::Off);
    rm.message(
        &from_b(&[
            ("t", "resource"),
            ("rsc_hold", "all"),
            ("rtype", "full"),
            ("isstable", "1"),
        ]),
        false,
        1_000,
    );
    let l = logs(&drain(&mut rm));
    assert!(
        l.contains(&"Both machines own our resources!".to_string()),
        "{l:?}"
    );

    rm.message(
        &from_b(&[
            ("t", "resource"),
            ("rsc_hold", "none"),
            ("rtype", "full"),
            ("isstable", "1"),
        ]),
        false,
        1_100,
    );
    let l = logs(&drain(&mut rm));
    assert!(
        l.contains(&"No one owns foreign resources!".to_string()),
        "{l:?}"
    );
    assert!(!l.iter().any(|x| x.starts_with("Both machines")));
}

#[test]
fn unexpected_standby_messages_are_logged_and_ignored() {
    let mut rm = stable_a(Mode::On);
    rm.message(
        &from_b(&[
            ("t", "ask_resources"),
            ("rsc_hold", "all"),
            ("info", "done"),
        ]),
        false,
        2_000,
    );
    let l = logs(&drain(&mut rm));
    assert!(l.contains(&"Ignored standby message 'done' from b in state 0".to_string()));

    // our own request, then b asks too while ours runs
    rm.local_command(LocalCommand::Standby(StandbyArg::All), 3_000);
    let out = drain(&mut rm);
    let mut me = out
        .iter()
        .find_map(|o| match o {
            Output::Send(m) => Some(m.clone()),
            _ => None,
        })
        .expect("ask_resources sent");
    assert_eq!(me.get_str("info"), Some("me"));
    me.push_str("src", "a");
    rm.message(&me, true, 3_000);
    let l = logs(&drain(&mut rm));
    assert!(l.contains(&"a wants to go standby [all]".to_string()));
    assert_eq!(rm.rsc_hold(), RscStatus::Transition);
    rm.message(
        &from_b(&[("t", "ask_resources"), ("rsc_hold", "all"), ("info", "me")]),
        false,
        6_500,
    );
    let l = logs(&drain(&mut rm));
    assert!(
        l.contains(&"Standby in progress- new request from b ignored [7 seconds left]".to_string()),
        "{l:?}"
    );
    // no answer: cancelled after 10 s
    rm.tick(13_000);
    let l = logs(&drain(&mut rm));
    assert!(l.contains(&"No reply to standby request.  Standby request cancelled.".to_string()));
    assert_eq!(rm.rsc_hold(), RscStatus::Held(RscSet::LOCAL));
}

#[test]
fn malformed_and_unknown_input_never_panics() {
    for mode in [Mode::Legacy, Mode::On, Mode::Off] {
        let mut rm = manager(mode);
        rm.message(&Message::new(), false, 0);
        rm.comm_up(0, &["b".to_string()]);
        let junk: Vec<Vec<(&str, &str)>> = vec![
            vec![("t", "resource")],
            vec![("t", "resource"), ("rsc_hold", "bogus"), ("isstable", "x")],
            vec![("t", "ask_resources")],
            vec![("t", "ask_resources"), ("info", "OTHER"), ("rsc_hold", "")],
            vec![("t", "ip-request")],
            vec![("t", "ip-request-resp"), ("dest", "a")],
            vec![
                ("t", "ip-request-resp"),
                ("dest", "a"),
                ("ipaddr", "nokey"),
                ("ok", "OK"),
            ],
            vec![("t", "hb_takeover")],
            vec![("t", "shutdone")],
            vec![("t", "starting")],
            vec![("t", "stonith"), ("node", "a")],
            vec![("t", "something-else")],
        ];
        for (i, pairs) in junk.iter().enumerate() {
            rm.message(&from_b(pairs), false, 100 + i as u64);
            rm.message(
                &Message::from_pairs(pairs.iter().copied()),
                true,
                100 + i as u64,
            );
        }
        rm.action_done(9_999, false, 500);
        rm.node_dead("nobody", 600);
        rm.node_dead("a", 600);
        rm.node_status("ghost", "active");
        rm.tick(u64::MAX - 1);
        rm.tick(u64::MAX);
        let out = drain(&mut rm);
        assert!(out.iter().any(|o| matches!(o, Output::Log(Level::Error, t)
            if t == "Completion of unknown resource operation 9999 ignored.")));
    }
}

#[test]
fn unknown_rsc_hold_text_is_an_error_and_counts_as_none() {
    let mut rm = stable_a(Mode::Off);
    rm.message(
        &from_b(&[
            ("t", "resource"),
            ("rsc_hold", "everything"),
            ("rtype", "full"),
            ("isstable", "1"),
        ]),
        false,
        1_000,
    );
    let l = logs(&drain(&mut rm));
    assert!(l.contains(&"encode_resources: bad resource type [everything]".to_string()));
    assert!(l.contains(&"No one owns foreign resources!".to_string()));
}

/// At comm up a peer may have been heard (e.g. only an ack) without any status yet (`init`):
/// it may be a running node that holds our group, so nothing is taken before it answers.
#[test]
fn heard_peer_of_unknown_status_is_asked_before_taking_anything() {
    let mut rm = manager(Mode::On);
    rm.comm_up(0, &[]);
    let out = drain(&mut rm);
    assert!(
        !out.iter().any(|o| matches!(o, Output::Acquire { .. })),
        "{out:?}"
    );
    assert!(out
        .iter()
        .any(|o| matches!(o, Output::Send(m) if m.msg_type() == Some("starting"))));
    // b is stable and holds a's group (foreign in b's perspective)
    rm.message(
        &from_b(&[
            ("t", "resource"),
            ("rsc_hold", "foreign"),
            ("rtype", "full"),
            ("isstable", "1"),
        ]),
        false,
        10,
    );
    let out = drain(&mut rm);
    assert!(
        !out.iter().any(|o| matches!(o, Output::Acquire { .. })),
        "{out:?}"
    );
    assert!(rm.held_groups().is_empty());
}
