//! Fault scenarios that involve the VIP (docs/reliability.md):
//!
//! * 2 — kill -9 of the master on the active node: the peer takes over within deadtime +
//!   keepalive and the VIP never answers from both nodes at once;
//! * 4 — a partition that makes both nodes active owners of the VIP, then heals: the
//!   healed-partition rule of docs/protocol.md §6.7 applies — each node sees the other "returning
//!   after partition", gives up its resources and restarts — and afterwards exactly one node
//!   holds the group.

use std::time::{Duration, Instant};

use hb_tests::{probe, wait_for, ConfigBuilder, Daemon, Lan, Node};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const VIP: &str = "198.18.0.100";

/// Drops (or lets through again) heartbeat traffic only: the client still reaches both nodes,
/// so both answer for the VIP while partitioned.
fn partition(node: &Node, on: bool) -> Result<()> {
    let script = if on {
        "nft add table inet hbtpart && nft add chain inet hbtpart in '{ type filter hook input priority -10; }' && nft add rule inet hbtpart in udp dport 694 drop"
    } else {
        "nft delete table inet hbtpart"
    };
    let out = node.sh(script)?;
    if !out.status.success() {
        return Err(format!("nft on {}: {:?}", node.name(), out).into());
    }
    Ok(())
}

/// Two of our nodes (keepalive 200 ms, deadtime 1 s) with the VIP group homed on nodea,
/// both started.
fn vip_pair() -> Result<Lan> {
    let lan = Lan::new(2)?;
    let config = ConfigBuilder::new(&lan.node_names())
        .timings("200ms", "1", "600ms", "2")
        .bcast("eth0")
        .auto_failback("on")
        .resource(&format!("nodea IPaddr2::{VIP}/24/eth0"))
        .build();
    for n in lan.nodes() {
        n.apply(&config)?;
        n.start(Daemon::ours()?)?;
    }
    Ok(lan)
}

#[test]
fn s4_partition_then_heal_leaves_exactly_one_owner() -> Result<()> {
    let lan = vip_pair()?;
    let (a, b) = (lan.node(0), lan.node(1));
    let both_up = Duration::from_secs(20);
    a.wait_for_log("Status update for node nodeb: status active", both_up)?;
    b.wait_for_log("Status update for node nodea: status active", both_up)?;
    wait_for(
        "nodea to hold the VIP",
        both_up,
        Duration::from_millis(100),
        || a.has_address("eth0", VIP) && !b.has_address("eth0", VIP),
        || a.log_text(),
    )?;
    // Past the startup window in which nodes advertise deadtime + 2 s.
    std::thread::sleep(Duration::from_secs(5));

    partition(a, true)?;
    partition(b, true)?;
    b.wait_for_log("node nodea: is dead", Duration::from_secs(10))?;
    wait_for(
        "split brain: both nodes hold the VIP",
        Duration::from_secs(10),
        Duration::from_millis(100),
        || a.has_address("eth0", VIP) && b.has_address("eth0", VIP),
        || b.log_text(),
    )?;

    partition(a, false)?;
    partition(b, false)?;
    let heal = Duration::from_secs(15);
    a.wait_for_log("Cluster node nodeb returning after partition.", heal)?;
    b.wait_for_log("Cluster node nodea returning after partition.", heal)?;
    for n in [a, b] {
        n.wait_for_log("Performing heartbeat restart exec.", heal)?;
    }
    // After the restarts: one owner, the home node (auto_failback on), and it stays that way.
    wait_for(
        "exactly one owner again",
        Duration::from_secs(30),
        Duration::from_millis(100),
        || a.has_address("eth0", VIP) != b.has_address("eth0", VIP),
        || format!("{}\n---\n{}", a.log_text(), b.log_text()),
    )?;
    for _ in 0..20 {
        assert!(
            a.has_address("eth0", VIP) != b.has_address("eth0", VIP),
            "the VIP must have exactly one owner"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

#[test]
fn s2_killing_the_active_master_moves_the_vip_without_a_duplicate() -> Result<()> {
    let lan = vip_pair()?;
    let (a, b) = (lan.node(0), lan.node(1));
    let (mac_a, mac_b) = (a.mac("eth0")?, b.mac("eth0")?);
    let vip: std::net::Ipv4Addr = VIP.parse()?;
    let probe = probe::Probe::start(
        lan.client_netns(),
        vip,
        Duration::from_millis(10),
        Duration::from_secs(60),
    )?;
    probe
        .wait_from(&mac_a, Instant::now(), Duration::from_secs(20))
        .ok_or("the VIP never answered from nodea")?;
    // Past the startup window in which nodes advertise deadtime + 2 s.
    std::thread::sleep(Duration::from_secs(5));

    let t = Instant::now();
    a.kill9_master()?;
    let first = probe
        .wait_from(&mac_b, t, Duration::from_secs(10))
        .ok_or_else(|| format!("nodeb never answered:\n{}", b.log_text()))?;
    // deadtime 1 s + keepalive 200 ms, plus the dead-check and takeover slack of a busy CI.
    let outage = first.at.duration_since(t);
    assert!(
        outage < Duration::from_millis(2_500),
        "takeover after {outage:?}"
    );
    std::thread::sleep(Duration::from_secs(3));
    let analysis =
        probe::analyze(&probe.replies(), t, &mac_b, Instant::now()).ok_or("no analysis")?;
    assert_eq!(
        analysis.others_after, 0,
        "nodea still answered after nodeb took over"
    );
    assert!(
        !a.has_address("eth0", VIP),
        "the dead master's node must have given the VIP up"
    );
    assert!(
        a.log_text()
            .contains("Emergency Shutdown: Master Control process died."),
        "{}",
        a.log_text()
    );
    Ok(())
}
