//! Two-node Heartbeat clusters in network namespaces.
//!
//! These are the template for every cluster test: a scenario function takes the daemon of each
//! node, so running the same scenario with our daemon, or a mixed cluster, is a one-line test:
//!
//! ```ignore
//! #[test]
//! fn bcast_sha1_mixed() -> Result<()> {
//!     bcast_sha1_peer_death([Daemon::Real, Daemon::ours()?])
//! }
//! ```

use std::collections::BTreeSet;
use std::time::Duration;

use hb_tests::{
    wait_for, Auth, ConfigBuilder, Daemon, Error, Lan, Node, Result, SerialCable, SERIAL_DEVICE,
};

/// Generous bound for two fresh nodes to see each other as active (initdead is 10 s).
const CONVERGE: Duration = Duration::from_secs(40);
/// Bound for a peer's death to be noticed (deadtime is 5 s).
const DETECT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(250);

/// `cl_status nodestatus PEER` run inside `observer`; `None` while the API is not up.
fn node_status(observer: &Node, peer: &str) -> Option<String> {
    observer.cl_status(&["nodestatus", peer]).ok()
}

/// Waits until `observer` reports `peer` as `want` through the real cl_status.
fn wait_node_status(observer: &Node, peer: &str, want: &str, timeout: Duration) -> Result<()> {
    wait_for(
        &format!(
            "`cl_status nodestatus {peer}` on {} to print {want:?}",
            observer.name()
        ),
        timeout,
        POLL,
        || node_status(observer, peer).as_deref() == Some(want),
        || {
            format!(
                "last answer: {:?}\nlast lines of {}'s ha-log:\n{}",
                node_status(observer, peer),
                observer.name(),
                last_lines(&observer.log_text(), 15)
            )
        },
    )
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Starts each node with its daemon and waits until every node sees every node as active.
fn start_all(lan: &Lan, daemons: &[Daemon]) -> Result<()> {
    for (node, daemon) in lan.nodes().iter().zip(daemons) {
        node.start(daemon.clone())?;
    }
    for observer in lan.nodes() {
        for peer in lan.nodes() {
            wait_node_status(observer, peer.name(), "active", CONVERGE)?;
        }
    }
    Ok(())
}

/// Runs `scenario` on a fresh 2-node Lan, then checks that teardown left nothing behind: no
/// namespace of that Lan and none of the processes the scenario saw in the nodes.
fn with_two_nodes(scenario: impl FnOnce(&Lan, &mut BTreeSet<u32>) -> Result<()>) -> Result<()> {
    let mut seen = BTreeSet::new();
    let lan = Lan::new(2)?;
    let prefix = lan.prefix().to_string();
    let result = scenario(&lan, &mut seen);
    drop(lan);
    result?;
    let left: Vec<String> = std::fs::read_dir("/run/netns")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    let left: Vec<&String> = left
        .iter()
        .filter(|n| n.starts_with(&format!("{prefix}-")))
        .collect();
    if !left.is_empty() {
        return Err(Error::Invalid(format!(
            "teardown left namespaces: {left:?}"
        )));
    }
    let alive: Vec<u32> = seen
        .into_iter()
        .filter(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
        .collect();
    if !alive.is_empty() {
        return Err(Error::Invalid(format!(
            "teardown left processes: {alive:?}"
        )));
    }
    Ok(())
}

/// bcast + sha1: both nodes become active (checked with the real cl_status inside each node),
/// then nodeb's master control process is SIGKILLed and nodea must declare it dead.
fn bcast_sha1_peer_death(daemons: [Daemon; 2]) -> Result<()> {
    with_two_nodes(|lan, seen| {
        let config = ConfigBuilder::new(&lan.node_names())
            .bcast("eth0")
            .auth(Auth::Sha1("hb-tests bcast secret".into()))
            .build();
        for node in lan.nodes() {
            node.apply(&config)?;
        }
        start_all(lan, &daemons)?;
        let (a, b) = (lan.node(0), lan.node(1));
        seen.extend(a.pids());
        seen.extend(b.pids());
        // Node names are lower-case host names; the real cl_status prints the bare status.
        assert_eq!(a.cl_status(&["nodestatus", "nodeb"])?, "active");
        assert_eq!(a.exec_ok(&["uname", "-n"])?.trim(), "nodea");

        let master = b.kill9_master()?;
        assert!(
            !b.pids().contains(&master),
            "master {master} still alive after SIGKILL"
        );
        a.wait_for_log("node nodeb: is dead", DETECT)?;
        wait_node_status(a, "nodeb", "dead", DETECT)?;
        seen.extend(b.pids());
        Ok(())
    })
}

/// ucast + crc: each node's ha.cf names its peer's address. Both become active, then nodeb
/// stops gracefully (`heartbeat -k`) and nodea must log the shutdown notice.
fn ucast_crc_graceful_stop(daemons: [Daemon; 2]) -> Result<()> {
    with_two_nodes(|lan, seen| {
        let names = lan.node_names();
        let (a, b) = (lan.node(0), lan.node(1));
        for (node, peer) in [(a, b), (b, a)] {
            let config = ConfigBuilder::new(&names)
                .ucast("eth0", peer.ip())
                .auth(Auth::Crc)
                .build();
            node.apply(&config)?;
        }
        start_all(lan, &daemons)?;
        seen.extend(a.pids());
        seen.extend(b.pids());
        assert!(
            a.log_text().contains("Link nodeb:eth0 up."),
            "{}",
            a.log_text()
        );

        b.stop()?;
        assert!(
            b.pids().is_empty(),
            "nodeb still has processes: {:?}",
            b.pids()
        );
        a.wait_for_log("Received shutdown notice from 'nodeb'.", DETECT)?;
        wait_node_status(a, "nodeb", "dead", DETECT)?;
        Ok(())
    })
}

/// Serial only (md5): both nodes become active over a null-modem cable; cutting the cable
/// makes each declare the other dead.
fn serial_md5_cable_cut(daemons: [Daemon; 2]) -> Result<()> {
    with_two_nodes(|lan, seen| {
        let (a, b) = (lan.node(0), lan.node(1));
        let cable = SerialCable::new(a, b)?;
        let config = ConfigBuilder::new(&lan.node_names())
            .baud(19200)
            .serial(SERIAL_DEVICE)
            .auth(Auth::Md5("hb-tests serial secret".into()))
            .build();
        for node in lan.nodes() {
            node.apply(&config)?;
        }
        start_all(lan, &daemons)?;
        seen.extend(a.pids());
        seen.extend(b.pids());

        cable.cut()?;
        a.wait_for_log("node nodeb: is dead", DETECT)?;
        b.wait_for_log("node nodea: is dead", DETECT)?;
        Ok(())
    })
}

#[test]
fn bcast_sha1_real_real() -> Result<()> {
    bcast_sha1_peer_death([Daemon::Real, Daemon::Real])
}

#[test]
fn ucast_crc_real_real() -> Result<()> {
    ucast_crc_graceful_stop([Daemon::Real, Daemon::Real])
}

#[test]
fn serial_md5_real_real() -> Result<()> {
    serial_md5_cable_cut([Daemon::Real, Daemon::Real])
}

#[test]
fn bcast_sha1_ours_ours() -> Result<()> {
    bcast_sha1_peer_death([Daemon::ours()?, Daemon::ours()?])
}

#[test]
fn bcast_sha1_mixed() -> Result<()> {
    bcast_sha1_peer_death([Daemon::Real, Daemon::ours()?])
}

#[test]
fn ucast_crc_ours_ours() -> Result<()> {
    ucast_crc_graceful_stop([Daemon::ours()?, Daemon::ours()?])
}

#[test]
fn ucast_crc_mixed_ours_stops() -> Result<()> {
    ucast_crc_graceful_stop([Daemon::Real, Daemon::ours()?])
}

#[test]
fn ucast_crc_mixed_real_stops() -> Result<()> {
    ucast_crc_graceful_stop([Daemon::ours()?, Daemon::Real])
}

#[test]
fn serial_md5_ours_ours() -> Result<()> {
    serial_md5_cable_cut([Daemon::ours()?, Daemon::ours()?])
}
