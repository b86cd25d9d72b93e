//! Golden tests of the API server against the observed exchanges of
//! docs/behaviour.md §7.10 and the rules of docs/behaviour.md §7.4–§7.9.

use super::*;
use crate::table::TableView;
use crate::view::{LinkInfo, NodeInfo, NodeType};
use hb_proto::Value;

const PID: i32 = 2860;

/// (reqtype, extra fields, observed reply length, reply).
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], usize, &'a str);
const ROOT_HC: PeerCred = PeerCred {
    pid: PID,
    uid: 0,
    gid: 105,
};

fn view() -> TableView {
    let mut v = TableView::observed();
    v.live_pids = Some(vec![PID, 3000, 3001, 3002]);
    v
}

fn server() -> ApiServer {
    ApiServer::new(ApiConfig::new(AuthTable::with_builtins(108, 105), 0))
}

/// A classic request payload with the trailing NUL, as libhbclient sends.
fn req(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut b = hb_proto::classic::encode(&Message::from_pairs(fields.iter().copied()));
    b.push(0);
    b
}

fn api_req(reqtype: &str, pid: i32, from: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let p = pid.to_string();
    let mut f = vec![
        ("t", "hbapi-req"),
        ("reqtype", reqtype),
        ("dest", "vm"),
        ("pid", p.as_str()),
        ("from_id", from),
    ];
    f.extend_from_slice(extra);
    req(&f)
}

fn replies(actions: &[Action]) -> Vec<(ConnId, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Reply { conn, payload } => {
                Some((*conn, String::from_utf8_lossy(payload).into_owned()))
            }
            _ => None,
        })
        .collect()
}

fn only_reply(actions: &[Action]) -> String {
    let r = replies(actions);
    assert_eq!(r.len(), 1, "exactly one reply expected: {actions:?}");
    r[0].1.clone()
}

fn signed_on(s: &mut ApiServer, v: &TableView) {
    s.connect(1, ROOT_HC).unwrap();
    let a = s.input(
        1,
        &api_req("signon", PID, "2860", &[("uid", "0"), ("gid", "105")]),
        v,
    );
    assert!(only_reply(&a).contains("result=OK"));
}

#[test]
fn observed_signon_request_and_reply() {
    let v = view();
    let mut s = server();
    s.connect(1, ROOT_HC).unwrap();
    let request = api_req("signon", PID, "2860", &[("uid", "0"), ("gid", "105")]);
    assert_eq!(request.len(), 80, "observed request length");
    let a = s.input(1, &request, &v);
    let r = only_reply(&a);
    assert_eq!(
        r,
        ">>>\nt=hbapi-resp\nreqtype=signon\nresult=OK\ndeadtime=1388\nkeepalive=3e8\nnode=vm\nhbversion=3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)\npacemaker=false\nlogfacility=-1\n<<<\n\0"
    );
    assert_eq!(r.len(), 179, "observed reply length");
    assert!(
        !a.iter().any(|x| matches!(x, Action::SendToCluster(_))),
        "casual: no join"
    );
    assert!(s.client_online("2860"));
}

#[test]
fn observed_request_replies() {
    let v = view();
    let mut s = server();
    signed_on(&mut s, &v);
    let cases: &[Case] = &[
        ("nodestatus", &[("node", "vm")], 61, ">>>\nt=hbapi-resp\nreqtype=nodestatus\nst=active\nresult=OK\n<<<\n\0"),
        ("iflist", &[("node", "ghost")], 65, ">>>\nt=hbapi-resp\nreqtype=iflist\nifname=lo\nst=dead\nresult=OK\n<<<\n\0"),
        ("clientstatus", &[("node", "vm"), ("cn", "2860")], 84, ">>>\nt=hbapi-resp\nreqtype=clientstatus\nsubt=respond-cstatus\ncs=online\nresult=OK\n<<<\n\0"),
        ("getparm", &[("pname", "nosuchparam")], 48, ">>>\nt=hbapi-resp\nreqtype=getparm\nresult=OK\n<<<\n\0"),
        ("getrsc", &[], 67, ">>>\nt=hbapi-resp\nreqtype=getrsc\nrsc_hold=transition\nresult=OK\n<<<\n\0"),
    ];
    for (reqtype, extra, len, want) in cases {
        let a = s.input(1, &api_req(reqtype, PID, "2860", extra), &v);
        let r = only_reply(&a);
        assert_eq!(&r, want, "{reqtype}");
        assert_eq!(r.len(), *len, "{reqtype} length");
    }
    // Observed request lengths of the client side.
    assert_eq!(
        api_req("nodestatus", PID, "2860", &[("node", "vm")]).len(),
        78
    );
    assert_eq!(api_req("nodelist", PID, "2860", &[]).len(), 68);
    assert_eq!(
        api_req("iflist", PID, "2860", &[("node", "ghost")]).len(),
        77
    );
    assert_eq!(
        api_req("getparm", PID, "2860", &[("pname", "nosuchparam")]).len(),
        85
    );
    assert_eq!(api_req("signoff", PID, "2860", &[]).len(), 67);
}

#[test]
fn observed_nodelist_one_reply_per_node() {
    let v = view();
    let mut s = server();
    signed_on(&mut s, &v);
    let a = s.input(1, &api_req("nodelist", PID, "2860", &[]), &v);
    let r: Vec<String> = replies(&a).into_iter().map(|(_, p)| p).collect();
    assert_eq!(
        r,
        vec![
            ">>>\nt=hbapi-resp\nreqtype=nodelist\nnode=127.0.0.1\nnodetype=ping\nst=ping\nresult=ok/more\n<<<\n\0",
            ">>>\nt=hbapi-resp\nreqtype=nodelist\nnode=vm\nnodetype=normal\nst=active\nresult=ok/more\n<<<\n\0",
            ">>>\nt=hbapi-resp\nreqtype=nodelist\nnode=ghost\nnodetype=normal\nst=dead\nresult=OK\n<<<\n\0",
        ]
    );
    assert_eq!(
        r.iter().map(String::len).collect::<Vec<_>>(),
        vec![91, 88, 84],
        "observed lengths"
    );
}

#[test]
fn other_requests_and_errors() {
    let mut v = view();
    v.nodes[2].weight = 7;
    v.nodes[2].site = "b".into();
    v.links.insert(
        "vm".into(),
        vec![
            LinkInfo {
                name: "eth0".into(),
                status: "up".into(),
            },
            LinkInfo {
                name: "eth1".into(),
                status: "dead".into(),
            },
        ],
    );
    v.uuids.insert("ghost".into(), [7u8; 16]);
    let mut s = server();
    signed_on(&mut s, &v);
    let mut ask = |rt: &str, extra: &[(&str, &str)]| {
        let a = s.input(1, &api_req(rt, PID, "2860", extra), &v);
        replies(&a)
            .into_iter()
            .map(|(_, p)| p)
            .collect::<Vec<_>>()
            .join("|")
    };
    let body = |rt: &str, fields: &str| format!(">>>\nt=hbapi-resp\nreqtype={rt}\n{fields}<<<\n\0");
    assert_eq!(
        ask("nodeweight", &[("node", "GHOST")]),
        body("nodeweight", "weight=7\nresult=OK\n")
    );
    assert_eq!(
        ask("nodesite", &[("node", "ghost")]),
        body("nodesite", "site=b\nresult=OK\n")
    );
    assert_eq!(
        ask("nodesite", &[("node", "vm")]),
        body("nodesite", "site=\nresult=OK\n")
    );
    assert_eq!(
        ask("nodetype", &[("node", "127.0.0.1")]),
        body("nodetype", "nodetype=ping\nresult=OK\n")
    );
    assert_eq!(
        ask("numnodes", &[]),
        body("numnodes", "numnodes=2\nresult=OK\n")
    );
    assert_eq!(
        ask("ifstatus", &[("node", "vm"), ("ifname", "eth1")]),
        body("ifstatus", "st=dead\nresult=OK\n")
    );
    assert_eq!(
        ask("iflist", &[("node", "vm")]),
        format!(
            "{}|{}",
            body("iflist", "ifname=eth0\nst=up\nresult=ok/more\n"),
            body("iflist", "ifname=eth1\nst=dead\nresult=OK\n")
        )
    );
    assert_eq!(
        ask("iflist", &[("node", "127.0.0.1")]),
        body("iflist", "ifname=127.0.0.1\nst=up\nresult=OK\n")
    );
    assert_eq!(
        ask("getparm", &[("pname", "crm")]),
        body("getparm", "pvalue=false\nresult=OK\n")
    );
    assert_eq!(
        ask("getparm", &[("pname", "hbversion")]),
        body("getparm", "pvalue=3.0.6\nresult=OK\n")
    );
    assert_eq!(
        ask("getuuid", &[("queryname", "ghost")]),
        body(
            "getuuid",
            "(1)queryuuid=BwcHBwcHBwcHBwcHBwcHBw==\nresult=OK\n"
        )
    );
    assert_eq!(
        ask("getuuid", &[("queryname", "vm")]),
        body("getuuid", "result=OK\n")
    );
    assert_eq!(
        ask("setfilter", &[("fmask", "1")]),
        body("setfilter", "result=OK\n")
    );
    assert_eq!(
        ask("setsignal", &[("signal", "0")]),
        body("setsignal", "result=OK\n")
    );
    // errors
    let einval = |rt: &str| body(rt, "result=badreq\ninfo=EINVAL\n");
    for rt in [
        "nodestatus",
        "nodetype",
        "nodeweight",
        "nodesite",
        "iflist",
        "ifstatus",
        "clientstatus",
    ] {
        assert_eq!(ask(rt, &[("node", "nosuch")]), einval(rt), "{rt}");
    }
    assert_eq!(
        ask("ifstatus", &[("node", "vm"), ("ifname", "nosuch")]),
        einval("ifstatus")
    );
    assert_eq!(ask("getparm", &[]), einval("getparm"));
    assert_eq!(ask("setfilter", &[("fmask", "40")]), einval("setfilter"));
    assert_eq!(ask("setfilter", &[("fmask", "zz")]), einval("setfilter"));
    assert_eq!(ask("setsignal", &[("signal", "9")]), einval("setsignal"));
    assert_eq!(ask("setsignal", &[("signal", "32")]), einval("setsignal"));
    assert_eq!(ask("setsignal", &[]), body("setsignal", "result=badreq\n"));
    assert_eq!(
        ask("frobnicate", &[]),
        body("frobnicate", "result=badreq\n")
    );
    assert_eq!(
        ask("getuuid", &[]),
        body("getuuid", "result=badreq\ninfo=no query node name found\n")
    );
    assert_eq!(
        ask("getnodename", &[]),
        body(
            "getnodename",
            "result=badreq\ninfo=no query node name found\n"
        )
    );
    assert_eq!(ask("set_sendqlen", &[("sendqlen", "5")]), "");
}

#[test]
fn getnodename_binary_uuid_and_getrsc_outside_r1() {
    let mut v = view();
    v.uuids.insert("ghost".into(), [9u8; 16]);
    v.rsc = None;
    let mut s = server();
    signed_on(&mut s, &v);
    let mut m = Message::from_pairs([
        ("t", "hbapi-req"),
        ("reqtype", "getnodename"),
        ("dest", "vm"),
        ("pid", "2860"),
        ("from_id", "2860"),
    ]);
    m.push("queryuuid", Value::Binary(vec![9u8; 16]));
    let mut p = hb_proto::classic::encode(&m);
    p.push(0);
    let r = only_reply(&s.input(1, &p, &v));
    assert!(r.contains("queryname=ghost\nresult=OK\n"), "{r}");
    let r = only_reply(&s.input(1, &api_req("getrsc", PID, "2860", &[]), &v));
    assert_eq!(r, ">>>\nt=hbapi-resp\nreqtype=getrsc\nresult=badreq\ninfo=Resource is managed by crm. Use crm tool to query resource\n<<<\n\0");
}

#[test]
fn bad_request_is_logged_with_dump() {
    let v = view();
    let mut s = server();
    signed_on(&mut s, &v);
    let a = s.input(1, &api_req("nodestatus", PID, "2860", &[]), &v);
    let logs: Vec<&str> = a
        .iter()
        .filter_map(|x| match x {
            Action::Log { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(logs[0], "api_process_request: bad request [nodestatus]");
    assert_eq!(logs[1], "MSG: Dumping message with 5 fields");
    assert_eq!(logs[2], "MSG[0] : [t=hbapi-req]");
}

fn signon_fail(
    peer: PeerCred,
    fields: &[(&str, &str)],
    auth: AuthTable,
) -> (Vec<Action>, ApiServer) {
    let v = view();
    let mut s = ApiServer::new(ApiConfig::new(auth, 0));
    s.connect(9, peer).unwrap();
    let a = s.input(9, &req(fields), &v);
    (a, s)
}

fn info_of(a: &[Action]) -> String {
    let r = only_reply(a);
    assert!(
        r.starts_with(">>>\nt=hbapi-resp\nreqtype=signon\ninfo="),
        "{r}"
    );
    assert!(
        r.contains("\nresult=badreq\ndeadtime=1388\nkeepalive=3e8\nnode=vm\n"),
        "{r}"
    );
    assert!(a.contains(&Action::Close { conn: 9 }));
    r.split("info=")
        .nth(1)
        .unwrap()
        .split('\n')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn signon_refusals() {
    let auth = || AuthTable::with_builtins(108, 105);
    let base = |pid: &str, from: &str, uid: &str, gid: &str| -> Vec<(String, String)> {
        vec![
            ("t".into(), "hbapi-req".into()),
            ("reqtype".into(), "signon".into()),
            ("dest".into(), "vm".into()),
            ("pid".into(), pid.into()),
            ("from_id".into(), from.into()),
            ("uid".into(), uid.into()),
            ("gid".into(), gid.into()),
        ]
    };
    let run = |peer: PeerCred, f: Vec<(String, String)>, auth: AuthTable| {
        let fr: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let (a, s) = signon_fail(peer, &fr, auth);
        assert_eq!(s.connection_count(), 0, "refused connection is forgotten");
        info_of(&a)
    };
    assert_eq!(run(ROOT_HC, base("0", "0", "0", "105"), auth()), "bad pid");
    assert_eq!(
        run(ROOT_HC, base("4242", "4242", "0", "105"), auth()),
        "bad pid"
    );
    assert_eq!(
        run(ROOT_HC, base("2860", "", "0", "105"), auth()),
        "duplicate add request"
    );
    assert_eq!(
        run(ROOT_HC, base("2860", "2860", "x", "105"), auth()),
        "invalid id info"
    );
    assert_eq!(
        run(ROOT_HC, base("2860", "2860", "0", "0"), auth()),
        "incorrect/false credentials"
    );
    assert_eq!(
        run(ROOT_HC, base("2860", "2860", "1", "105"), auth()),
        "incorrect/false credentials"
    );
    let user = PeerCred {
        pid: PID,
        uid: 1000,
        gid: 1000,
    };
    assert_eq!(
        run(user, base("2860", "2860", "1000", "1000"), auth()),
        "client failed authorization"
    );
    assert_eq!(
        run(user, base("2860", "myapp", "1000", "1000"), auth()),
        "no default client auth"
    );
    assert_eq!(
        run(user, base("2860", "2860", "1000", "1000"), AuthTable::new()),
        "apiauth anon missing"
    );
    let other_pid = PeerCred {
        pid: 3000,
        uid: 0,
        gid: 105,
    };
    assert_eq!(
        run(other_pid, base("2860", "2860", "0", "105"), auth()),
        "pid mismatch"
    );
    let hac = PeerCred {
        pid: PID,
        uid: 108,
        gid: 108,
    };
    assert_eq!(
        run(
            hac,
            base("2860", "ccm-and-much-longer-than-31-chars!", "108", "108"),
            auth()
        ),
        "invalid id info"
    );
    // default entry admits named clients
    let mut with_default = auth();
    with_default.set("default", vec![1000], vec![]);
    let (a, s) = signon_fail(
        user,
        &[
            ("t", "hbapi-req"),
            ("reqtype", "signon"),
            ("pid", "2860"),
            ("from_id", "myapp"),
            ("uid", "1000"),
            ("gid", "1000"),
        ],
        with_default,
    );
    assert!(only_reply(&a).contains("result=OK"));
    assert!(s.client_online("myapp"));
}

#[test]
fn first_message_must_be_signon() {
    let v = view();
    let mut s = server();
    s.connect(1, ROOT_HC).unwrap();
    let a = s.input(1, &api_req("nodelist", PID, "2860", &[]), &v);
    assert!(replies(&a).is_empty());
    assert!(a.iter().any(|x| matches!(x, Action::Log { text, .. } if text == "api_process_registration_msg: bad message")));
    assert_eq!(s.connection_count(), 1, "stays connected, unregistered");
    let a = s.input(
        1,
        &api_req("signon", PID, "2860", &[("uid", "0"), ("gid", "105")]),
        &v,
    );
    assert!(only_reply(&a).contains("result=OK"));
}

fn named_signon(s: &mut ApiServer, v: &TableView, conn: ConnId, pid: i32, id: &str) -> Vec<Action> {
    s.connect(
        conn,
        PeerCred {
            pid,
            uid: 108,
            gid: 108,
        },
    )
    .unwrap();
    s.input(
        conn,
        &api_req("signon", pid, id, &[("uid", "108"), ("gid", "108")]),
        v,
    )
}

#[test]
fn named_client_join_leave_and_cluster_messages() {
    let v = view();
    let mut s = server();
    signed_on(&mut s, &v); // generation 0, casual
    let a = named_signon(&mut s, &v, 2, 3000, "ipfail");
    // join goes to the cluster before the sign-on reply
    let join = Message::from_pairs([
        ("t", "hbapi-clstat"),
        ("st", "join"),
        ("from_id", "ipfail"),
        ("to_id", "ipfail"),
        ("src", "vm"),
        ("info", "signon"),
        ("client_gen", "1"),
    ]);
    assert_eq!(a[0], Action::SendToCluster(join.clone()));
    assert!(
        matches!(&a[1], Action::Reply { conn: 2, payload } if payload.starts_with(b">>>\nt=hbapi-resp\nreqtype=signon\nresult=OK"))
    );
    // the local copy of the join reaches only ipfail (to_id routing)
    let a = s.deliver(&join, &v);
    assert_eq!(replies(&a).iter().map(|r| r.0).collect::<Vec<_>>(), vec![2]);
    // duplicate id
    let a = named_signon(&mut s, &v, 3, 3001, "ipfail");
    assert_eq!(info_of_conn(&a, 3), "duplicate add request");
    // cluster message from a named client gets from_id/to_id/client_gen
    let a = s.input(
        2,
        &req(&[("t", "ask_resources"), ("rsc", "all"), ("to_id", "spoof")]),
        &v,
    );
    assert_eq!(
        a,
        vec![Action::SendToCluster(Message::from_pairs([
            ("t", "ask_resources"),
            ("rsc", "all"),
            ("to_id", "ipfail"),
            ("from_id", "ipfail"),
            ("client_gen", "1")
        ]))]
    );
    // casual clients may not send cluster messages
    let a = s.input(1, &req(&[("t", "ask_resources")]), &v);
    assert!(a.contains(&Action::Close { conn: 1 }));
    assert!(!s.client_online("2860"));
    // sign-off: leave to itself, then the cluster, then close
    let a = s.input(2, &api_req("signoff", 3000, "ipfail", &[]), &v);
    let leave = Message::from_pairs([
        ("t", "hbapi-clstat"),
        ("st", "leave"),
        ("from_id", "ipfail"),
        ("to_id", "ipfail"),
        ("src", "vm"),
        ("info", "signoff"),
        ("client_gen", "1"),
    ]);
    assert_eq!(
        a,
        vec![
            Action::Reply {
                conn: 2,
                payload: wire::encode_payload(&leave, false)
            },
            Action::SendToCluster(leave),
            Action::Close { conn: 2 },
        ]
    );
    assert_eq!(s.connection_count(), 0);
}

fn info_of_conn(a: &[Action], conn: ConnId) -> String {
    let r: Vec<String> = replies(a)
        .into_iter()
        .filter(|(c, _)| *c == conn)
        .map(|(_, p)| p)
        .collect();
    assert_eq!(r.len(), 1);
    r[0].split("info=")
        .nth(1)
        .unwrap()
        .split('\n')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn eof_of_named_client_announces_leave_without_reply() {
    let v = view();
    let mut s = server();
    named_signon(&mut s, &v, 2, 3000, "ccm");
    let a = s.disconnect(2, "EOF", &v);
    assert_eq!(a.len(), 1);
    assert!(
        matches!(&a[0], Action::SendToCluster(m) if m.get_str("st") == Some("leave") && m.get_str("info") == Some("EOF"))
    );
}

#[test]
fn delivery_filters_routing_and_dest() {
    let v = view();
    let mut s = server();
    signed_on(&mut s, &v);
    named_signon(&mut s, &v, 2, 3000, "ipfail");
    let status = Message::from_pairs([("t", "status"), ("st", "dead"), ("src", "ghost")]);
    let conns = |a: &[Action]| replies(a).iter().map(|r| r.0).collect::<Vec<_>>();
    assert_eq!(conns(&s.deliver(&status, &v)), vec![2, 1], "newest first");
    let mut for_other = status.clone();
    for_other.push_str("dest", "ghost");
    assert!(s.deliver(&for_other, &v).is_empty());
    let mut for_us = status.clone();
    for_us.push_str("dest", "VM");
    assert_eq!(conns(&s.deliver(&for_us, &v)).len(), 2);
    let mut to_casual = status.clone();
    to_casual.push_str("to_id", "2860");
    assert_eq!(conns(&s.deliver(&to_casual, &v)), vec![1]);
    // NOCHANGE only reaches clients asking for it; casual uid 0 may
    assert!(s.deliver_as(&status, Treatment::NoChange, &v).is_empty());
    let a = s.input(1, &api_req("setfilter", PID, "2860", &[("fmask", "f")]), &v);
    assert!(only_reply(&a).contains("result=OK"));
    assert_eq!(
        conns(&s.deliver_as(&status, Treatment::NoChange, &v)),
        vec![1]
    );
    // ipfail (uid 108, daemon uid 0) may not
    let a = s.input(
        2,
        &api_req("setfilter", 3000, "ipfail", &[("fmask", "3f")]),
        &v,
    );
    assert!(only_reply(&a).contains("info=EPERM"));
    // API calls are shown to clients with the APICALL bit: client 1 has 0xf, so not.
    let a = s.input(2, &api_req("numnodes", 3000, "ipfail", &[]), &v);
    assert_eq!(conns(&a), vec![2]);
    // signals after each message
    let a = s.input(
        2,
        &api_req("setsignal", 3000, "ipfail", &[("signal", "10")]),
        &v,
    );
    assert!(only_reply(&a).contains("result=OK"));
    let a = s.deliver(&status, &v);
    assert!(a.contains(&Action::Signal {
        conn: 2,
        pid: 3000,
        signal: 10
    }));
}

#[test]
fn impersonation_and_non_clients_are_ignored() {
    let v = view();
    let mut s = server();
    signed_on(&mut s, &v);
    named_signon(&mut s, &v, 2, 3000, "ipfail");
    let a = s.input(2, &api_req("nodelist", PID, "2860", &[]), &v);
    assert!(replies(&a).is_empty());
    assert!(a.iter().any(
        |x| matches!(x, Action::Log { text, .. } if text == "Client mismatch! (impersonation?)")
    ));
    let a = s.input(2, &api_req("nodelist", 5555, "nobody", &[]), &v);
    assert!(replies(&a).is_empty());
    assert!(a.iter().any(|x| matches!(x, Action::Log { text, .. } if text == "api_process_request: msg from non-client")));
}

#[test]
fn clientstatus_local_remote_and_query_exchange() {
    let mut v = view();
    v.nodes.push(NodeInfo {
        name: "peer".into(),
        node_type: NodeType::Normal,
        status: "active".into(),
        weight: 100,
        site: String::new(),
    });
    let mut s = server();
    signed_on(&mut s, &v);
    let ask = |s: &mut ApiServer, node: &str, cn: &str| {
        s.input(
            1,
            &api_req("clientstatus", PID, "2860", &[("node", node), ("cn", cn)]),
            &v,
        )
    };
    assert!(only_reply(&ask(&mut s, "vm", "ipfail")).contains("cs=offline"));
    assert!(
        only_reply(&ask(&mut s, "ghost", "ipfail")).contains("cs=offline"),
        "dead node"
    );
    let a = ask(&mut s, "peer", "ipfail");
    assert_eq!(
        a,
        vec![Action::SendToCluster(Message::from_pairs([
            ("t", "query-cstatus"),
            ("dest", "peer"),
            ("cn", "ipfail"),
            ("from_id", "2860")
        ]))]
    );
    // the peer's answer comes back and reaches the asking client only
    named_signon(&mut s, &v, 2, 3000, "ipfail");
    let answer = Message::from_pairs([
        ("t", "respond-cstatus"),
        ("dest", "vm"),
        ("result", "OK"),
        ("cn", "ipfail"),
        ("to_id", "2860"),
        ("cs", "online"),
        ("src", "peer"),
    ]);
    let a = s.on_cluster_message(&answer, &v);
    assert_eq!(replies(&a).iter().map(|r| r.0).collect::<Vec<_>>(), vec![1]);
    // and we answer other nodes' queries
    let q = Message::from_pairs([
        ("t", "query-cstatus"),
        ("dest", "vm"),
        ("cn", "ipfail"),
        ("from_id", "77"),
        ("src", "peer"),
    ]);
    assert_eq!(
        s.on_cluster_message(&q, &v),
        vec![Action::SendToCluster(Message::from_pairs([
            ("t", "respond-cstatus"),
            ("dest", "peer"),
            ("result", "OK"),
            ("cn", "ipfail"),
            ("to_id", "77"),
            ("cs", "online"),
        ]))]
    );
}

#[test]
fn robustness_garbage_size_queue_and_limits() {
    let v = view();
    let mut s = ApiServer::new(ApiConfig {
        max_clients: 2,
        ..ApiConfig::new(AuthTable::with_builtins(108, 105), 0)
    });
    signed_on(&mut s, &v);
    // garbage, deep nesting, binary junk: no panic, no reply; ten in a row drop the client
    let mut deep = b">>>\n".to_vec();
    for _ in 0..40 {
        deep.extend_from_slice(b"(2)s=>>>\x14");
    }
    let junk: Vec<Vec<u8>> = vec![
        b"\xff\xfe".to_vec(),
        deep,
        b">>>\nt\n<<<\n".to_vec(),
        vec![],
    ];
    for j in &junk {
        assert!(replies(&s.input(1, j, &v)).is_empty());
    }
    for _ in junk.len()..9 {
        s.input(1, b"garbage", &v);
    }
    assert_eq!(s.connection_count(), 1);
    let a = s.input(1, b"garbage", &v);
    assert!(a.contains(&Action::Close { conn: 1 }));
    assert_eq!(s.connection_count(), 0);
    // oversize payload
    signed_on(&mut s, &v);
    let a = s.input(1, &vec![b'a'; hb_proto::MAXMSG + 1], &v);
    assert!(a.contains(&Action::Close { conn: 1 }));
    // connection limit and duplicate ids
    s.connect(1, ROOT_HC).unwrap();
    assert_eq!(s.connect(1, ROOT_HC), Err(ConnectError::DuplicateConn(1)));
    s.connect(2, ROOT_HC).unwrap();
    assert_eq!(s.connect(3, ROOT_HC), Err(ConnectError::TooManyClients(2)));
    // queue limit: default 64, set_sendqlen changes it
    let a = s.input(
        1,
        &api_req("signon", PID, "2860", &[("uid", "0"), ("gid", "105")]),
        &v,
    );
    assert!(only_reply(&a).contains("result=OK"));
    assert!(s.backlog(1, 64, &v).is_empty());
    let a = s.input(
        1,
        &api_req("set_sendqlen", PID, "2860", &[("sendqlen", "3")]),
        &v,
    );
    assert!(a.iter().any(|x| matches!(x, Action::Log { text, .. } if text == "the send queue length from heartbeat to client 2860 is set to 3")));
    assert!(s.backlog(1, 3, &v).is_empty());
    assert!(s.backlog(1, 4, &v).contains(&Action::Close { conn: 1 }));
    assert!(!s.client_online("2860"));
}

#[test]
fn audit_and_dead_requesters_are_removed() {
    let mut v = view();
    let mut s = server();
    signed_on(&mut s, &v);
    named_signon(&mut s, &v, 2, 3000, "ipfail");
    v.live_pids = Some(vec![PID]);
    let a = s.audit(&v);
    assert!(a
        .iter()
        .any(|x| matches!(x, Action::SendToCluster(m) if m.get_str("info") == Some("died-audit"))));
    assert_eq!(s.client_ids(), vec!["2860".to_string()]);
    v.live_pids = Some(vec![]);
    let a = s.input(1, &api_req("numnodes", PID, "2860", &[]), &v);
    assert!(only_reply(&a).contains("numnodes=2"));
    assert!(a.contains(&Action::Close { conn: 1 }));
}

#[test]
fn netstring_requests_are_accepted() {
    let v = view();
    let mut s = server();
    s.connect(1, ROOT_HC).unwrap();
    let m = Message::from_pairs([
        ("t", "hbapi-req"),
        ("reqtype", "signon"),
        ("pid", "2860"),
        ("from_id", "2860"),
        ("uid", "0"),
        ("gid", "105"),
    ]);
    let a = s.input(1, &hb_proto::netstring::encode(&m), &v);
    assert!(only_reply(&a).contains("result=OK"));
}
