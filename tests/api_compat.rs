//! The real Debian `/usr/bin/cl_status`, run against our daemon, answers exactly as it does
//! against Heartbeat 3.0.6 in the same cluster state (issue 6). One mixed cluster: nodea runs
//! the real daemon, nodeb ours, same configuration; every sub-command is run on both nodes and
//! the outputs and exit codes are compared.

use std::time::Duration;

use hb_tests::{wait_for, Auth, ConfigBuilder, Daemon, Lan, Node};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const CL_STATUS: &str = "/usr/bin/cl_status";

/// A tiny resource script: start/stop/status on a state file (the way ResourceManager and our
/// runner judge status: by the printed text).
const DUMMY: &str = r#"#!/bin/sh
state=/var/lib/heartbeat/dummy-$1
case "$2" in
start) touch "$state" ;;
stop) rm -f "$state" ;;
status) if [ -e "$state" ]; then echo "running"; else echo "stopped"; fi ;;
esac
exit 0
"#;

fn run(node: &Node, args: &[&str]) -> Result<(Option<i32>, String)> {
    let mut full = vec![CL_STATUS];
    full.extend_from_slice(args);
    let out = node.exec(&full)?;
    Ok((
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

#[test]
fn real_cl_status_sees_the_same_cluster_through_both_daemons() -> Result<()> {
    let lan = Lan::new(2)?;
    let config = ConfigBuilder::new(&lan.node_names())
        .bcast("eth0")
        .auth(Auth::Sha1("api compat".into()))
        .auto_failback("on")
        .resource("nodea HBDummy::a")
        .resource("nodeb HBDummy::b")
        .build();
    let (a, b) = (lan.node(0), lan.node(1));
    for node in [a, b] {
        node.apply(&config)?;
        let script = node.host_path("/etc/ha.d/resource.d/HBDummy")?;
        std::fs::write(&script, DUMMY)?;
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    }
    a.start(Daemon::Real)?;
    b.start(Daemon::ours()?)?;
    // Wait for a stable state: both active, each holding its own group (the real daemon may
    // take its 10 s RQSTDELAY).
    for node in [a, b] {
        wait_for(
            &format!("{} to hold its local resources", node.name()),
            Duration::from_secs(60),
            Duration::from_millis(250),
            || run(node, &["rscstatus"]).is_ok_and(|(c, o)| c == Some(0) && o.trim() == "local"),
            || node.log_text(),
        )?;
    }
    let cases: &[&[&str]] = &[
        &["hbstatus"],
        &["listnodes"],
        &["listnodes", "-n"],
        &["listnodes", "-p"],
        &["listnodes", "-v"],
        &["nodestatus", "nodea"],
        &["nodestatus", "nodeb"],
        &["nodestatus", "nosuchnode"],
        &["nodetype", "nodea"],
        &["nodeweight", "nodeb"],
        &["listhblinks", "nodea"],
        &["listhblinks", "-v", "nodeb"],
        &["hblinkstatus", "nodea", "eth0"],
        &["hblinkstatus", "nodeb", "eth0"],
        &["clientstatus", "nodea", "ipfail", "2000"],
        &["clientstatus", "nodeb", "ipfail", "2000"],
        &["rscstatus"],
        &["rscstatus", "-m"],
        &["hbparameter", "-p", "keepalive"],
        &["hbparameter", "-p", "deadtime"],
        &["hbparameter", "-p", "auto_failback"],
        &["hbparameter", "-p", "udpport"],
        &["hbparameter", "-p", "nosuchparameter"],
        &["bogus-subcommand"],
    ];
    let mut differences = Vec::new();
    for args in cases {
        let real = run(a, args)?;
        let ours = run(b, args)?;
        if real != ours {
            differences.push(format!(
                "cl_status {}:\n  real: {real:?}\n  ours: {ours:?}",
                args.join(" ")
            ));
        }
    }
    // hbstatus -v: identical but for the version line (ours names itself after "3.0.6").
    let strip = |(c, o): (Option<i32>, String)| {
        (
            c,
            o.lines()
                .filter(|l| !l.starts_with("version:"))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    };
    let (real, ours) = (
        strip(run(a, &["hbstatus", "-v"])?),
        strip(run(b, &["hbstatus", "-v"])?),
    );
    if real != ours {
        differences.push(format!(
            "cl_status hbstatus -v:\n  real: {real:?}\n  ours: {ours:?}"
        ));
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    Ok(())
}

#[test]
fn a_client_without_permission_is_refused_and_logged() -> Result<()> {
    let lan = Lan::new(2)?;
    let config = ConfigBuilder::new(&["nodea"]).bcast("eth0").build();
    let a = lan.node(0);
    a.apply(&config)?;
    a.start(Daemon::ours()?)?;
    a.wait_for_log(
        "Comm_now_up(): updating status to active",
        Duration::from_secs(20),
    )?;
    // Our cl_status binary is not setgid haclient. Run as hacluster with primary group
    // nogroup and haclient only as a supplementary group, it can reach the socket (the
    // directory is 0750 hacluster:haclient) but matches no apiauth rule for casual clients
    // (anon = uid root or primary gid haclient; supplementary groups do not count).
    let ours = Daemon::ours()?;
    let cl_status = ours.binary().with_file_name("cl_status");
    let cmd = format!("{} hbstatus", cl_status.display());
    let out = a.exec(&[
        "setpriv",
        "--reuid=hacluster",
        "--regid=nogroup",
        "--groups=haclient",
        "sh",
        "-c",
        &cmd,
    ])?;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.trim(),
        "Heartbeat is apparently running on this machine, but refuses my connection",
        "{out:?}"
    );
    wait_for(
        "the refusal in the log",
        Duration::from_secs(5),
        Duration::from_millis(100),
        || a.log_text().contains("failed authorization"),
        || a.log_text(),
    )?;
    // Root is still served.
    assert_eq!(
        run(a, &["hbstatus"])?.1.trim(),
        "Heartbeat is running on this machine."
    );
    Ok(())
}
