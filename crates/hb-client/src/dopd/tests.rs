//! Tests of dopd and drbd-peer-outdater's decisions.

use super::*;
use crate::error::ClientError;

fn node(name: &str, kind: &str, status: &str) -> NodeEntry {
    NodeEntry {
        name: name.to_string(),
        node_type: Some(kind.to_string()),
        status: Some(status.to_string()),
    }
}

fn cluster(status_b: &str) -> Vec<NodeEntry> {
    vec![
        node("nodea", "normal", "active"),
        node("nodeb", "normal", status_b),
        node("198.18.0.50", "ping", "ping"),
    ]
}

fn answers(actions: &[Action]) -> Vec<(ConnId, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Answer { conn, msg } => {
                assert_eq!(msg.msg_type(), Some(T_OUTDATER_RC));
                Some((*conn, msg.get_str(F_DOPD_VALUE)?.to_string()))
            }
            _ => None,
        })
        .collect()
}

fn sends(actions: &[Action]) -> Vec<(String, Message)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { node, msg } => Some((node.clone(), msg.clone())),
            _ => None,
        })
        .collect()
}

fn logs(actions: &[Action], level: Level) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Log(l, t) if *l == level => Some(t.clone()),
            _ => None,
        })
        .collect()
}

fn walk_of(nodes: Vec<NodeEntry>) -> impl FnMut() -> Result<Vec<NodeEntry>, ClientError> {
    move || Ok(nodes.clone())
}

#[test]
fn messages_have_the_c_fields() {
    let r = request_message("nodeb", "r0");
    assert_eq!(
        String::from_utf8(hb_proto::classic::encode(&r)).unwrap(),
        ">>>\nt=outdater\nsrc=drbd-peer-outdater\noutdater_peer=nodeb\noutdater_res=r0\n<<<\n"
    );
    let s = start_outdate_message("nodea", "r0");
    assert_eq!(s.get_str("t"), Some("start_outdate"));
    assert_eq!(s.get_str("src"), Some("nodea"));
    assert_eq!(s.get_str("dop_res"), Some("r0"));
    let b = outdate_rc_message("nodeb", "r0", 4);
    assert_eq!(b.get_str("t"), Some("outdate_rc"));
    assert_eq!(b.get_str("dop_value"), Some("4"));
    assert_eq!(b.get_str("dop_res"), Some("r0"));
    assert_eq!(b.get_str("src"), Some("nodeb"));
    let c = client_answer("nodea", "6");
    assert_eq!(c.get_str("t"), Some("outdater_rc"));
    assert_eq!(c.get_str("dop_value"), Some("6"));
}

#[test]
fn drbdadm_results_map_to_fence_peer_codes() {
    let cmd = outdate_command("r0");
    assert_eq!(cmd, "drbdadm outdate r0");
    let code = |s: CommandStatus| outdate_rc(&s, &cmd);
    assert_eq!(code(CommandStatus::Exited(0)), (4, None));
    assert_eq!(code(CommandStatus::Exited(5)), (3, None));
    assert_eq!(code(CommandStatus::Exited(17)), (6, None));
    assert_eq!(
        code(CommandStatus::Exited(1)),
        (
            20,
            Some("unknown exit code from drbdadm outdate r0: 1".into())
        )
    );
    // Not found through the shell would be 127: still "undefined".
    assert_eq!(code(CommandStatus::Exited(127)).0, 20);
    assert_eq!(
        code(CommandStatus::Signaled(9)),
        (20, Some("killed by signal 9: drbdadm outdate r0".into()))
    );
    assert_eq!(code(CommandStatus::NotRun("ENOENT".into())).0, 20);
    // The peer was reached, so never "unreachable".
    for n in 0..=255 {
        assert_ne!(code(CommandStatus::Exited(n)).0, rc::UNREACHABLE);
    }
}

#[test]
fn answer_codes_are_read_like_strtol() {
    let ans = |v: &str| answer_code(&client_answer("a", v));
    assert_eq!(ans("4"), Ok(4));
    assert_eq!(ans("21"), Ok(21));
    assert_eq!(ans(" +6"), Ok(6));
    assert_eq!(ans("-1"), Ok(-1));
    assert_eq!(ans(""), Ok(0));
    assert_eq!(ans("4x"), Err(AnswerError::Unknown("4x".into())));
    assert_eq!(ans("x"), Err(AnswerError::Unknown("x".into())));
    assert_eq!(
        ans("99999999999"),
        Err(AnswerError::Unknown("99999999999".into()))
    );
    let none = Message::from_pairs([("t", T_OUTDATER_RC)]);
    let err = answer_code(&none).unwrap_err();
    assert_eq!(err, AnswerError::NoValue);
    assert_eq!(err.to_string(), "answer without dop_value from server");
    assert_eq!(
        ans("4x").unwrap_err().to_string(),
        "unknown message: 4x from server"
    );
}

fn argv(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn outdater_options_and_environment() {
    let env = |k: &str| match k {
        "DRBD_PEER" => Some("NodeB".to_string()),
        "DRBD_RESOURCE" => Some("r0".to_string()),
        _ => None,
    };
    assert_eq!(
        parse_outdater_args(&argv(&["drbd-peer-outdater", "-t", "5"]), &env),
        OutdaterCli::Run(OutdaterArgs {
            peer: "nodeb".into(),
            resource: "r0".into(),
            timeout_s: 5,
            verbose: 0
        })
    );
    // Options win over the environment; later options win.
    let OutdaterCli::Run(a) = parse_outdater_args(
        &argv(&["x", "-p", "Other", "-r", "r1", "-r", "r2", "-VV", "-t7s"]),
        &env,
    ) else {
        panic!("not a run");
    };
    assert_eq!(
        (a.peer.as_str(), a.resource.as_str(), a.timeout_s, a.verbose),
        ("other", "r2", 7, 2)
    );
    // No -t: 60 s; a negative or unreadable -t: 0.
    let t = |args: &[&str]| match parse_outdater_args(&argv(args), &env) {
        OutdaterCli::Run(a) => a.timeout_s,
        other => panic!("{other:?}"),
    };
    assert_eq!(t(&["x"]), 60);
    assert_eq!(t(&["x", "-t", "-3"]), 0);
    assert_eq!(t(&["x", "-t", "abc"]), 0);
    // -h wins at once.
    assert_eq!(
        parse_outdater_args(&argv(&["x", "-h", "-z"]), &no_env),
        OutdaterCli::Help
    );
}

#[test]
fn outdater_usage_errors() {
    let OutdaterCli::Usage(e) = parse_outdater_args(&argv(&["x"]), &no_env) else {
        panic!();
    };
    assert_eq!(e.len(), 2, "{e:?}");
    let env = |k: &str| (k == "DRBD_RESOURCE").then(|| "r0".to_string());
    let OutdaterCli::Usage(e) = parse_outdater_args(&argv(&["x", "-p", "b", "-z"]), &env) else {
        panic!();
    };
    assert_eq!(e, vec!["x: invalid option -- 'z'".to_string()]);
    let OutdaterCli::Usage(e) = parse_outdater_args(&argv(&["x", "-p", "b", "-t"]), &env) else {
        panic!();
    };
    assert_eq!(e, vec!["x: option requires an argument -- 't'".to_string()]);
}

#[test]
fn drbd_peers_is_used_when_it_names_one_node() {
    let one = |k: &str| match k {
        "DRBD_PEERS" => Some(" nodeb ".to_string()),
        "DRBD_RESOURCE" => Some("r0".to_string()),
        _ => None,
    };
    assert!(matches!(
        parse_outdater_args(&argv(&["x"]), &one),
        OutdaterCli::Run(OutdaterArgs { ref peer, .. }) if peer == "nodeb"
    ));
    let two = |k: &str| match k {
        "DRBD_PEERS" => Some("nodeb nodec".to_string()),
        "DRBD_RESOURCE" => Some("r0".to_string()),
        _ => None,
    };
    assert!(matches!(
        parse_outdater_args(&argv(&["x"]), &two),
        OutdaterCli::Usage(_)
    ));
}

#[test]
fn request_for_a_live_peer_sends_start_outdate() {
    let mut d = Dopd::new("nodea");
    let out = d.on_request(
        7,
        &request_message("nodeb", "r0"),
        &mut walk_of(cluster("active")),
    );
    assert!(answers(&out).is_empty());
    let s = sends(&out);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].0, "nodeb");
    assert_eq!(s[0].1, start_outdate_message("nodea", "r0"));
    assert_eq!(
        logs(&out, Level::Info),
        vec!["sending start_outdate message to the other node nodea -> nodeb"]
    );
    assert_eq!(d.waiting_for("r0"), Some(7));
    // The peer's answer goes to that connection.
    let out = d.on_cluster_message(&outdate_rc_message("nodeb", "r0", 4));
    assert_eq!(answers(&out), vec![(7, "4".to_string())]);
    // An answer for a resource nobody waits for is dropped.
    assert!(answers(&d.on_cluster_message(&outdate_rc_message("nodeb", "r9", 4))).is_empty());
    d.on_disconnect(7);
    assert_eq!(d.waiting_for("r0"), None);
}

#[test]
fn dead_unknown_self_or_ping_peer_is_unreachable() {
    for (peer, nodes, warn) in [
        (
            "nodeb",
            cluster("dead"),
            "Cluster node: nodeb: status: dead",
        ),
        ("nodec", cluster("active"), "drbd peer nodec was not found"),
        ("NODEA", cluster("active"), "drbd peer node NODEA is me!"),
        (
            "198.18.0.50",
            cluster("active"),
            "Cluster node: 198.18.0.50: status: ping is not a normal node",
        ),
    ] {
        let mut d = Dopd::new("nodea");
        let out = d.on_request(1, &request_message(peer, "r0"), &mut walk_of(nodes));
        assert_eq!(answers(&out), vec![(1, "5".to_string())], "{peer}");
        assert!(sends(&out).is_empty());
        assert!(logs(&out, Level::Warn).iter().any(|l| l == warn), "{out:?}");
        assert_eq!(d.waiting_for("r0"), None);
    }
    // A failed node walk: unreachable too.
    let mut d = Dopd::new("nodea");
    let out = d.on_request(1, &request_message("nodeb", "r0"), &mut || {
        Err(ClientError::Timeout)
    });
    assert_eq!(answers(&out), vec![(1, "5".to_string())]);
    let warns = logs(&out, Level::Warn);
    assert!(
        warns.iter().any(|l| l == "REASON: No timely response."),
        "{out:?}"
    );
}

#[test]
fn peer_names_compare_without_case() {
    let mut d = Dopd::new("nodea");
    let out = d.on_request(
        1,
        &request_message("NodeB", "r0"),
        &mut walk_of(cluster("up")),
    );
    assert_eq!(sends(&out)[0].0, "NodeB");
}

#[test]
fn second_client_for_a_busy_resource_gets_21() {
    let mut d = Dopd::new("nodea");
    let req = request_message("nodeb", "r0");
    let mut walk = walk_of(cluster("active"));
    assert_eq!(sends(&d.on_request(1, &req, &mut walk)).len(), 1);
    let out = d.on_request(2, &req, &mut walk);
    assert_eq!(answers(&out), vec![(2, "21".to_string())]);
    assert!(sends(&out).is_empty());
    // The same connection repeating itself: nothing new.
    let out = d.on_request(1, &req, &mut walk);
    assert!(answers(&out).is_empty() && sends(&out).is_empty());
    // Other resources are independent; once 1 leaves, r0 is free.
    assert_eq!(
        sends(&d.on_request(3, &request_message("nodeb", "r1"), &mut walk)).len(),
        1
    );
    d.on_disconnect(1);
    assert_eq!(sends(&d.on_request(2, &req, &mut walk)).len(), 1);
    assert_eq!(d.waiting_for("r0"), Some(2));
    assert_eq!(d.waiting_for("r1"), Some(3));
}

#[test]
fn malformed_requests_get_20() {
    let mut d = Dopd::new("nodea");
    let m = Message::from_pairs([("t", "outdater"), ("outdater_peer", "nodeb")]);
    let out = d.on_request(1, &m, &mut || panic!("no walk for a bad request"));
    assert_eq!(answers(&out), vec![(1, "20".to_string())]);
}

#[test]
fn start_outdate_runs_drbdadm_and_answers_the_origin() {
    let mut d = Dopd::new("nodeb");
    let out = d.on_cluster_message(&start_outdate_message("nodea", "r0"));
    let job = match out.last() {
        Some(Action::Outdate(j)) => j.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        job,
        OutdateJob {
            resource: "r0".into(),
            origin: "nodea".into()
        }
    );
    for (status, code) in [
        (CommandStatus::Exited(0), 4),
        (CommandStatus::Exited(5), 3),
        (CommandStatus::Exited(17), 6),
        (CommandStatus::Exited(3), 20),
        (CommandStatus::Signaled(15), 20),
    ] {
        let out = d.outdate_finished(&job, &status);
        let s = sends(&out);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].0, "nodea");
        assert_eq!(s[0].1, outdate_rc_message("nodeb", "r0", code));
        assert!(logs(&out, Level::Info)
            .contains(&format!("sending return code: {code}, nodeb -> nodea")));
    }
    // Without a resource or an origin nothing runs.
    for bad in [
        Message::from_pairs([("t", "start_outdate"), ("src", "nodea")]),
        Message::from_pairs([("t", "start_outdate"), ("dop_res", "r0")]),
    ] {
        assert!(!d
            .on_cluster_message(&bad)
            .iter()
            .any(|a| matches!(a, Action::Outdate(_))));
    }
    // Other traffic is not ours.
    assert!(d
        .on_cluster_message(&Message::from_pairs([("t", "hbapi-clstat")]))
        .is_empty());
}

#[test]
fn answer_without_value_is_undefined() {
    let mut d = Dopd::new("nodea");
    d.on_request(
        4,
        &request_message("nodeb", "r0"),
        &mut walk_of(cluster("active")),
    );
    let m = Message::from_pairs([("t", "outdate_rc"), ("dop_res", "r0")]);
    assert_eq!(
        answers(&d.on_cluster_message(&m)),
        vec![(4, "20".to_string())]
    );
}
