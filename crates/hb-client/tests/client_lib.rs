//! The client library and our cl_status against an in-process hb-api
//! server on a temporary socket (no namespace needed).

mod server;

use hb_api::{AuthTable, TableView};
use hb_client::cl_status::{self, Options};
use hb_client::{Client, ClientError, SignOnError, SignOnOptions};
use hb_proto::Message;
use server::TestServer;
use std::path::Path;
use std::time::{Duration, Instant};

fn start(tag: &str, auth: AuthTable) -> TestServer {
    let dir = std::env::temp_dir().join(format!("hb-client-{tag}-{}", std::process::id()));
    TestServer::start(&dir, TableView::observed(), auth)
}

fn root_auth() -> AuthTable {
    let mut a = AuthTable::with_builtins(102, 105);
    a.set("ipfail", vec![0], vec![]);
    a.set("ccm", vec![0], vec![]);
    a
}

fn opts(dir: &Path, id: Option<&str>) -> SignOnOptions {
    SignOnOptions {
        path: dir.join("register"),
        client_id: id.map(str::to_string),
        timeout: Some(Duration::from_secs(5)),
    }
}

#[test]
fn requests_walks_and_parameters() {
    let srv = start("req", root_auth());
    let mut c = Client::signon(&opts(&srv.dir, None)).unwrap();
    assert!(c.is_casual());
    assert_eq!(c.client_id(), std::process::id().to_string());
    let i = c.info().clone();
    assert_eq!(
        (
            i.deadtime_ms,
            i.keepalive_ms,
            i.node.as_str(),
            i.log_facility
        ),
        (5000, 1000, "vm", -1)
    );
    let names: Vec<String> = c.nodes().unwrap().into_iter().map(|n| n.name).collect();
    assert_eq!(names, ["127.0.0.1", "vm", "ghost"], "daemon order");
    assert_eq!(c.node_status("vm").unwrap(), "active");
    assert_eq!(c.node_type("127.0.0.1").unwrap(), "ping");
    assert_eq!(c.node_weight("vm").unwrap(), 100);
    assert_eq!(c.node_site("vm").unwrap(), "");
    assert_eq!(c.num_nodes().unwrap(), 2);
    assert_eq!(c.links("ghost").unwrap()[0].status.as_deref(), Some("dead"));
    assert_eq!(c.link_status("vm", "lo").unwrap(), "up");
    assert_eq!(c.parameter("crm").unwrap().as_deref(), Some("false"));
    assert_eq!(c.parameter("nosuch").unwrap(), None);
    assert_eq!(
        c.parameter("hbversion").unwrap().as_deref(),
        Some("3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)")
    );
    assert_eq!(c.resources().unwrap(), "transition");
    assert_eq!(c.uuid_of("vm").unwrap(), None);
    assert_eq!(c.name_of_uuid(&[1; 16]).unwrap(), None);
    c.set_filter(0x01).unwrap();
    c.set_signal(0).unwrap();
    match c.node_status("nosuch") {
        Err(ClientError::BadRequest { info, .. }) => assert_eq!(info.as_deref(), Some("EINVAL")),
        other => panic!("{other:?}"),
    }
    match c.links("nosuch") {
        Err(e) => assert_eq!(e.to_string(), "EINVAL"),
        Ok(l) => panic!("{l:?}"),
    }
    assert!(matches!(
        c.send_cluster_message(&Message::from_pairs([("t", "x")])),
        Err(ClientError::NotNamed)
    ));
    c.signoff().unwrap();
}

#[test]
fn async_messages_are_queued_around_replies() {
    let srv = start("async", root_auth());
    let mut a = Client::signon(&opts(&srv.dir, Some("ipfail"))).unwrap();
    // Our own join arrived before the sign-on reply and was queued.
    let join = a.recv(Some(Duration::from_secs(1))).unwrap().expect("join");
    assert_eq!(
        (join.msg_type(), join.get_str("st")),
        (Some("hbapi-clstat"), Some("join"))
    );
    // A cluster message from ipfail comes back to ipfail (to_id routing) and
    // is queued while a request is answered.
    a.send_cluster_message(&Message::from_pairs([
        ("t", "ask_resources"),
        ("rsc", "all"),
    ]))
    .unwrap();
    assert_eq!(a.node_status("vm").unwrap(), "active");
    assert_eq!(a.pending(), 1);
    let m = a
        .recv(Some(Duration::from_secs(1)))
        .unwrap()
        .expect("queued");
    assert_eq!(m.msg_type(), Some("ask_resources"));
    assert_eq!(m.get_str("from_id"), Some("ipfail"));
    assert_eq!(m.get_str("client_gen"), Some("0"));
    // Nothing more: recv times out.
    let t0 = Instant::now();
    assert!(a.recv(Some(Duration::from_millis(150))).unwrap().is_none());
    assert!(t0.elapsed() >= Duration::from_millis(140));
    // Duplicate named sign-on is refused with the daemon's reason.
    match Client::signon(&opts(&srv.dir, Some("ipfail"))) {
        Err(SignOnError::Refused {
            reason,
            deadtime_ms,
        }) => {
            assert_eq!(reason.as_deref(), Some("duplicate add request"));
            assert_eq!(deadtime_ms, 5000);
        }
        other => panic!("{other:?}"),
    }
    // clientstatus: local answers at once
    let mut casual = Client::signon(&opts(&srv.dir, None)).unwrap();
    assert_eq!(
        casual
            .client_status("vm", "ipfail", Duration::from_millis(500))
            .unwrap(),
        "online"
    );
    a.signoff().unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    while srv.online("ipfail") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        casual
            .client_status("vm", "ipfail", Duration::from_millis(500))
            .unwrap(),
        "offline"
    );
    // an unknown node gets badreq, which is not a respond-cstatus: timeout
    let t0 = Instant::now();
    assert!(matches!(
        casual.client_status("nosuch", "ipfail", Duration::from_millis(200)),
        Err(ClientError::Timeout)
    ));
    assert!(t0.elapsed() >= Duration::from_millis(190));
}

#[test]
fn signon_errors() {
    let missing = Client::signon(&opts(Path::new("/nonexistent-hb"), None)).unwrap_err();
    assert_eq!(
        missing.to_string(),
        "hb_api_signon: Can't initiate connection to heartbeat"
    );
    assert_eq!(missing.deadtime_ms(), 0);
    let srv = start("refuse", AuthTable::new());
    let e = Client::signon(&opts(&srv.dir, None)).unwrap_err();
    assert_eq!(e.to_string(), "apiauth anon missing");
    assert_eq!(e.deadtime_ms(), 5000);
}

fn ours(dir: &Path, args: &[&str]) -> (i32, String) {
    let mut full = vec!["cl_status".to_string()];
    full.extend(args.iter().map(|s| s.to_string()));
    let o = Options {
        socket: dir.join("register"),
        timeout: Duration::from_secs(5),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let rc = cl_status::run(&full, &o, &mut out, &mut err);
    (rc, String::from_utf8(out).unwrap())
}

#[test]
fn json_outputs() {
    let srv = start("json", root_auth());
    let d = &srv.dir;
    assert_eq!(ours(d, &["listnodes", "--json"]), (0, "{\"nodes\":[{\"name\":\"127.0.0.1\",\"type\":\"ping\",\"status\":\"ping\"},{\"name\":\"vm\",\"type\":\"normal\",\"status\":\"active\"},{\"name\":\"ghost\",\"type\":\"normal\",\"status\":\"dead\"}]}\n".to_string()));
    assert_eq!(ours(d, &["listnodes", "-p", "-v", "--json"]), (0, "{\"nodes\":[{\"name\":\"127.0.0.1\",\"type\":\"ping\",\"status\":\"ping\",\"links\":[{\"name\":\"127.0.0.1\",\"status\":\"up\"}]}]}\n".to_string()));
    assert_eq!(
        ours(d, &["nodestatus", "--json", "ghost"]),
        (1, "{\"node\":\"ghost\",\"status\":\"dead\"}\n".to_string())
    );
    assert_eq!(
        ours(d, &["listhblinks", "vm", "--json"]),
        (
            0,
            "{\"node\":\"vm\",\"links\":[{\"name\":\"lo\",\"status\":\"up\"}]}\n".to_string()
        )
    );
    assert_eq!(
        ours(d, &["hblinkstatus", "vm", "lo", "--json"]),
        (
            0,
            "{\"node\":\"vm\",\"link\":\"lo\",\"status\":\"up\"}\n".to_string()
        )
    );
    assert_eq!(
        ours(d, &["rscstatus", "--json"]),
        (0, "{\"resources\":\"transition\"}\n".to_string())
    );
    assert_eq!(
        ours(d, &["hbparameter", "-p", "deadtime", "--json"]),
        (0, "{\"name\":\"deadtime\",\"value\":\"5\"}\n".to_string())
    );
    assert_eq!(
        ours(d, &["clientstatus", "vm", "ccm", "--json"]),
        (
            1,
            "{\"node\":\"vm\",\"client\":\"ccm\",\"status\":\"offline\"}\n".to_string()
        )
    );
    assert_eq!(
        ours(d, &["hbstatus", "--json"]),
        (
            0,
            "{\"running\":true,\"refused\":false,\"reason\":null}\n".to_string()
        )
    );
    let (rc, v) = ours(d, &["hbstatus", "-v", "--json"]);
    assert_eq!(rc, 0);
    assert!(v.starts_with("{\"running\":true,\"refused\":false,\"reason\":null,\"version\":\"3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)\",\"managed_by\":\"haresources\",\"pacemaker\":\"false\",\"nodes\":[{\"name\":\"127.0.0.1\""), "{v}");
    assert_eq!(ours(Path::new("/nonexistent-hb"), &["hbstatus", "--json"]), (1, "{\"running\":false,\"refused\":false,\"reason\":\"hb_api_signon: Can't initiate connection to heartbeat\"}\n".to_string()));
    // `test` takes no --json and no options
    assert_eq!(
        ours(d, &["test"]),
        (
            0,
            "Dead time: 5000\n keeplive time: 1000\n mynodeid: vm\n rsc: transition\n".to_string()
        )
    );
}
