//! Fault scenario 4 (docs/reliability.md): a partition that makes both nodes active owners of
//! the VIP, then heals. The healed-partition rule of protocol.md §6.7 applies — each node sees
//! the other "returning after partition", gives up its resources and restarts — and afterwards
//! exactly one node holds the group.

use std::time::Duration;

use hb_tests::{wait_for, ConfigBuilder, Daemon, Lan, Node};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const VIP: &str = "198.18.0.100";

fn has_vip(node: &Node) -> bool {
    node.exec_ok(&["ip", "-o", "-4", "addr", "show", "dev", "eth0"])
        .is_ok_and(|t| t.contains(&format!(" {VIP}/")))
}

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

#[test]
fn s4_partition_then_heal_leaves_exactly_one_owner() -> Result<()> {
    let lan = Lan::new(2)?;
    let config = ConfigBuilder::new(&lan.node_names())
        .timings("200ms", "1", "600ms", "2")
        .bcast("eth0")
        .auto_failback("on")
        .resource(&format!("nodea IPaddr2::{VIP}/24/eth0"))
        .build();
    let (a, b) = (lan.node(0), lan.node(1));
    for n in [a, b] {
        n.apply(&config)?;
        n.start(Daemon::ours()?)?;
    }
    let both_up = Duration::from_secs(20);
    a.wait_for_log("Status update for node nodeb: status active", both_up)?;
    b.wait_for_log("Status update for node nodea: status active", both_up)?;
    wait_for(
        "nodea to hold the VIP",
        both_up,
        Duration::from_millis(100),
        || has_vip(a) && !has_vip(b),
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
        || has_vip(a) && has_vip(b),
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
        || has_vip(a) != has_vip(b),
        || format!("{}\n---\n{}", a.log_text(), b.log_text()),
    )?;
    for _ in 0..20 {
        assert!(
            has_vip(a) != has_vip(b),
            "the VIP must have exactly one owner"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}
