//! Runtime membership (issue 13): `hb_addnode` on a running two-node cluster lets a
//! third node join and become active everywhere; `hb_delnode` of a dead node removes
//! it on every node, and on ours the deletion survives a restart (delhostcache).
//! Each with our daemon alone and in a cluster with the real Heartbeat 3.0.6.
//! The commands are the package's own scripts (`packaging/share/hb_addnode`, ...).

use std::time::Duration;

use hb_tests::{require_root, wait_active, wait_for, ConfigBuilder, Daemon, Lan, Node, Result};

fn script(name: &str) -> String {
    format!("{}/../packaging/share/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn listnodes(node: &Node) -> Vec<String> {
    node.cl_status(&["listnodes"])
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn run_script(node: &Node, name: &str, args: &[&str]) -> Result<()> {
    let path = script(name);
    let mut argv = vec!["sh", path.as_str()];
    argv.extend_from_slice(args);
    let out = node.exec(&argv)?;
    assert!(
        out.status.success(),
        "{name} {args:?} on {}: {}",
        node.name(),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

fn addnode_then_join(daemons: [Daemon; 3]) -> Result<()> {
    require_root()?;
    let lan = Lan::new(3)?;
    let names = lan.node_names();
    // nodea and nodeb know only each other; nodec's own ha.cf lists all three.
    let pair = ConfigBuilder::new(&names[..2]).build();
    let all = ConfigBuilder::new(&names).build();
    let (a, b, c) = (lan.node(0), lan.node(1), lan.node(2));
    a.apply(&pair)?;
    b.apply(&pair)?;
    c.apply(&all)?;
    let [da, db, dc] = daemons;
    a.start(da)?;
    b.start(db)?;
    wait_active(a, "nodeb", Duration::from_secs(40))?;
    wait_active(b, "nodea", Duration::from_secs(40))?;
    assert!(!listnodes(a).contains(&"nodec".to_string()));

    run_script(a, "hb_addnode", &["nodec"])?;
    for n in [a, b] {
        n.wait_for_log(
            "Adding new node[nodec] to configuration.",
            Duration::from_secs(10),
        )?;
    }
    c.start(dc)?;
    for (observer, peer) in [(a, "nodec"), (b, "nodec"), (c, "nodea"), (c, "nodeb")] {
        wait_active(observer, peer, Duration::from_secs(40))?;
    }
    for n in [a, b] {
        assert!(listnodes(n).contains(&"nodec".to_string()), "{}", n.name());
    }

    // Weight and site of the new node, as cl_status nodeweight / nodesite show them.
    run_script(a, "hb_setweight", &["nodec", "7"])?;
    run_script(a, "hb_setsite", &["nodec", "east"])?;
    wait_for(
        "nodeweight/nodesite of nodec on nodea",
        Duration::from_secs(10),
        Duration::from_millis(100),
        || {
            a.cl_status(&["nodeweight", "nodec"]).ok().as_deref() == Some("7")
                && a.cl_status(&["nodesite", "nodec"]).ok().as_deref() == Some("east")
        },
        || a.log_text(),
    )?;
    Ok(())
}

fn delnode_of_a_dead_node(daemons: [Daemon; 2]) -> Result<()> {
    require_root()?;
    let lan = Lan::new(3)?;
    // All three in ha.cf; nodec never starts, so it is dead. auto_failback
    // legacy: with on/off, two live nodes both claim a dead third node's (empty)
    // foreign set and trade it back and forth, which delays a shutdown; that
    // haresources-with-three-nodes behaviour is not what this test is about.
    let cfg = ConfigBuilder::new(&lan.node_names())
        .auto_failback("legacy")
        .build();
    let (a, b) = (lan.node(0), lan.node(1));
    for n in lan.nodes() {
        n.apply(&cfg)?;
    }
    let [da, db] = daemons;
    a.start(da.clone())?;
    b.start(db)?;
    wait_active(a, "nodeb", Duration::from_secs(40))?;
    wait_active(b, "nodea", Duration::from_secs(40))?;
    for n in [a, b] {
        wait_for(
            &format!("{} to see nodec dead", n.name()),
            Duration::from_secs(40),
            Duration::from_millis(200),
            || n.cl_status(&["nodestatus", "nodec"]).ok().as_deref() == Some("dead"),
            || n.log_text(),
        )?;
    }
    run_script(a, "hb_delnode", &["nodec"])?;
    for n in [a, b] {
        n.wait_for_log(
            "Removing node [nodec] from configuration.",
            Duration::from_secs(10),
        )?;
        wait_for(
            &format!("nodec gone from {}'s listnodes", n.name()),
            Duration::from_secs(10),
            Duration::from_millis(100),
            || !listnodes(n).contains(&"nodec".to_string()),
            || listnodes(n).join(" "),
        )?;
    }
    let cache = std::fs::read_to_string(a.host_path("/var/lib/heartbeat/delhostcache")?)
        .unwrap_or_default();
    assert!(cache.starts_with("nodec\t"), "delhostcache: {cache:?}");

    // Our node keeps the deletion across a restart, although ha.cf still names nodec.
    a.stop()?;
    a.start(da)?;
    wait_active(a, "nodeb", Duration::from_secs(40))?;
    let nodes = listnodes(a);
    assert!(
        nodes.contains(&"nodeb".to_string()) && !nodes.contains(&"nodec".to_string()),
        "after restart: {nodes:?}"
    );
    Ok(())
}

#[test]
fn addnode_lets_a_third_node_join_ours() -> Result<()> {
    addnode_then_join([Daemon::ours()?, Daemon::ours()?, Daemon::ours()?])
}

#[test]
fn addnode_lets_a_third_node_join_mixed() -> Result<()> {
    addnode_then_join([Daemon::ours()?, Daemon::Real, Daemon::Real])
}

#[test]
fn delnode_of_a_dead_node_ours() -> Result<()> {
    delnode_of_a_dead_node([Daemon::ours()?, Daemon::ours()?])
}

#[test]
fn delnode_of_a_dead_node_mixed() -> Result<()> {
    delnode_of_a_dead_node([Daemon::ours()?, Daemon::Real])
}
