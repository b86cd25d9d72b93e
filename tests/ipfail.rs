//! Ping nodes and ipfail (docs/protocol.md §11.5–11.6, docs/behaviour.md §9), in network
//! namespaces.
//!
//! * `ping_node_*`: one node pings the client namespace (198.18.0.50). The real cl_status run
//!   inside the node must show it as a node of type `ping` with status `ping`; dropping ICMP in
//!   the client namespace must make it `dead` after `deadping`, and lifting the drop must bring
//!   it back. Run against the real daemon too, so the expectations are the C daemon's.
//! * `ipfail_*`: two nodes (heartbeat on eth0 and eth1), a VIP group, the client as ping node
//!   and ipfail respawned by heartbeat. Cutting the active node's path to the ping node (an
//!   nftables drop of ICMP inside that node, the heartbeat links stay up) must move the VIP to
//!   the standby, which still reaches the ping node.

use std::net::Ipv4Addr;
use std::time::Duration;

use hb_tests::{wait_for, ConfigBuilder, Daemon, Lan, LanSpec, Node, Result, CLIENT_IP};

const POLL: Duration = Duration::from_millis(250);
/// Comm up plus the first echo replies (initdead 10 s).
const CONVERGE: Duration = Duration::from_secs(40);
/// deadping (= deadtime 5 s) plus slack.
const DETECT: Duration = Duration::from_secs(20);
/// The real and our Rust ipfail, as respawned by heartbeat.
const REAL_IPFAIL: &str = "/usr/libexec/heartbeat/ipfail";
const VIP: &str = "198.18.0.100";

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Waits until `cl_status ARGS` inside `node` prints `want`.
fn wait_cl_status(node: &Node, args: &[&str], want: &str, timeout: Duration) -> Result<()> {
    wait_for(
        &format!(
            "`cl_status {}` on {} to print {want:?}",
            args.join(" "),
            node.name()
        ),
        timeout,
        POLL,
        || node.cl_status(args).is_ok_and(|s| s == want),
        || {
            format!(
                "last answer: {:?}\nlast lines of {}'s ha-log:\n{}",
                node.cl_status(args),
                node.name(),
                last_lines(&node.log_text(), 25)
            )
        },
    )
}

/// nftables table (inet family) that drops ICMP echo traffic in the namespace it is loaded into.
const DROP_TABLE: &str = "hbt_icmp_drop";

fn drop_icmp_ruleset(hook: &str, match_expr: &str) -> String {
    format!(
        "table inet {DROP_TABLE} {{\n  chain c {{\n    type filter hook {hook} priority 0; policy accept;\n    {match_expr} drop\n  }}\n}}\n"
    )
}

/// The nft script that installs (`on`) or removes the drop rule.
fn drop_icmp_script(on: bool, hook: &str, match_expr: &str) -> String {
    if on {
        format!(
            "nft -f - <<'EOF'\n{}EOF\n",
            drop_icmp_ruleset(hook, match_expr)
        )
    } else {
        format!("nft delete table inet {DROP_TABLE}")
    }
}

/// Fails with nft's error output unless `out` succeeded.
fn nft_ok(out: std::process::Output, where_: &str) -> Result<()> {
    if out.status.success() {
        return Ok(());
    }
    Err(hb_tests::Error::Invalid(format!(
        "nft in {where_} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    )))
}

/// Makes the client namespace ignore pings (echo requests are dropped on input).
fn client_drop_icmp(lan: &Lan, on: bool) -> Result<()> {
    let script = drop_icmp_script(on, "input", "icmp type echo-request");
    nft_ok(
        lan.client_exec(&["sh", "-c", &script])?,
        "the client namespace",
    )
}

/// Cuts (or restores) `node`'s path to `target`: ICMP to it is dropped on output.
fn node_drop_icmp_to(node: &Node, target: Ipv4Addr, on: bool) -> Result<()> {
    let script = drop_icmp_script(on, "output", &format!("ip daddr {target} ip protocol icmp"));
    nft_ok(node.sh(&script)?, node.name())
}

/// One node pinging the client: status `ping`, type `ping`, listed; ICMP dropped → `dead` (and
/// the C daemon's log lines); ICMP back → `ping` again.
fn ping_node_follows_icmp(daemon: Daemon) -> Result<()> {
    let lan = Lan::new(1)?;
    let a = lan.node(0);
    let ping = CLIENT_IP.to_string();
    let config = ConfigBuilder::new(&lan.node_names())
        .bcast("eth0")
        .ping(CLIENT_IP)
        .build();
    a.apply(&config)?;
    a.start(daemon)?;
    wait_cl_status(a, &["nodestatus", &ping], "ping", CONVERGE)?;
    assert_eq!(a.cl_status(&["nodetype", &ping])?, "ping");
    let nodes = a.cl_status(&["listnodes"])?;
    assert!(
        nodes.lines().any(|l| l.trim() == ping),
        "listnodes lacks the ping node:\n{nodes}"
    );
    assert_eq!(a.cl_status(&["hblinkstatus", &ping, &ping])?, "up");
    a.wait_for_log(&format!("Link {ping}:{ping} up."), DETECT)?;
    a.wait_for_log(
        &format!("Status update for node {ping}: status ping"),
        DETECT,
    )?;
    // The medium's children carry the C's titles.
    let ps = a.exec_ok(&["ps", "-eo", "args"])?;
    for title in [
        format!("heartbeat: write: ping {ping}"),
        format!("heartbeat: read: ping {ping}"),
    ] {
        assert!(
            ps.lines().any(|l| l.trim() == title),
            "no {title:?} in\n{ps}"
        );
    }

    client_drop_icmp(&lan, true)?;
    a.wait_for_log(&format!("node {ping}: is dead"), DETECT)?;
    wait_cl_status(a, &["nodestatus", &ping], "dead", DETECT)?;
    a.wait_for_log(&format!("Link {ping}:{ping} dead."), DETECT)?;

    client_drop_icmp(&lan, false)?;
    wait_cl_status(a, &["nodestatus", &ping], "ping", DETECT)?;
    let back = format!("Status update for node {ping}: status ping");
    wait_for(
        "the ping node's return in the log",
        DETECT,
        POLL,
        || a.log_text().matches(&back).count() >= 2,
        || last_lines(&a.log_text(), 25),
    )?;
    // No stop: a lone node without resources keeps delaying its shutdown (the C daemon too);
    // dropping the Lan kills everything.
    Ok(())
}

#[test]
fn ping_node_real() -> Result<()> {
    ping_node_follows_icmp(Daemon::Real)
}

#[test]
fn ping_node_ours() -> Result<()> {
    ping_node_follows_icmp(Daemon::ours()?)
}

/// Makes `node` ignore pings (echo requests dropped on input).
fn node_ignore_pings(node: &Node, on: bool) -> Result<()> {
    let script = drop_icmp_script(on, "input", "icmp type echo-request");
    nft_ok(node.sh(&script)?, node.name())
}

/// `ping_group grp <client> <nodeb>` on nodea alone (nodeb only answers pings): the group is
/// `ping` while any member answers, `dead` when none does, `ping` again when one is back.
fn ping_group_any_member(daemon: Daemon) -> Result<()> {
    let lan = Lan::new(2)?;
    let (a, b) = (lan.node(0), lan.node(1));
    let config = ConfigBuilder::new(&[a.name()])
        .bcast("eth0")
        .extra(&format!("ping_group grp {CLIENT_IP} {}", b.ip()))
        .build();
    a.apply(&config)?;
    a.start(daemon)?;
    wait_cl_status(a, &["nodestatus", "grp"], "ping", CONVERGE)?;
    assert_eq!(a.cl_status(&["nodetype", "grp"])?, "ping");
    let ps = a.exec_ok(&["ps", "-eo", "args"])?;
    assert!(
        ps.lines()
            .any(|l| l.trim() == "heartbeat: read: ping_group grp"),
        "{ps}"
    );
    // One member silent: the other keeps the group alive for longer than deadping.
    client_drop_icmp(&lan, true)?;
    let t = std::time::Instant::now();
    while t.elapsed() < Duration::from_secs(8) {
        assert_eq!(
            a.cl_status(&["nodestatus", "grp"])?,
            "ping",
            "{}",
            last_lines(&a.log_text(), 20)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // Both silent: dead.
    node_ignore_pings(b, true)?;
    a.wait_for_log("node grp: is dead", DETECT)?;
    wait_cl_status(a, &["nodestatus", "grp"], "dead", DETECT)?;
    // One back: alive again.
    node_ignore_pings(b, false)?;
    wait_cl_status(a, &["nodestatus", "grp"], "ping", DETECT)?;
    Ok(())
}

#[test]
fn ping_group_real() -> Result<()> {
    ping_group_any_member(Daemon::Real)
}

#[test]
fn ping_group_ours() -> Result<()> {
    ping_group_any_member(Daemon::ours()?)
}

/// Which ipfail a node respawns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ipfail {
    /// Debian's `/usr/libexec/heartbeat/ipfail`.
    Real,
    /// Ours, `ipfail` next to our `heartbeat` in the target directory.
    Ours,
}

impl Ipfail {
    fn path(self) -> Result<String> {
        match self {
            Ipfail::Real => Ok(REAL_IPFAIL.to_string()),
            Ipfail::Ours => {
                let d = Daemon::ours()?;
                let p = d
                    .binary()
                    .parent()
                    .map(|dir| dir.join("ipfail"))
                    .filter(|p| p.is_file())
                    .ok_or_else(|| {
                        hb_tests::Error::Invalid(
                            "our ipfail binary is missing: run `cargo build --workspace --all-targets`"
                                .into(),
                        )
                    })?;
                Ok(p.to_string_lossy().into_owned())
            }
        }
    }
}

/// Whether `node` holds the VIP on eth0.
fn has_vip(node: &Node) -> bool {
    node.has_address("eth0", VIP)
}

fn wait_vip(holder: &Node, other: &Node, timeout: Duration) -> Result<()> {
    wait_for(
        &format!("the VIP {VIP} on {} only", holder.name()),
        timeout,
        POLL,
        || has_vip(holder) && !has_vip(other),
        || {
            format!(
                "VIP on {}: {}, on {}: {}\n{}'s ha-log:\n{}\n{}'s ha-log:\n{}",
                holder.name(),
                has_vip(holder),
                other.name(),
                has_vip(other),
                holder.name(),
                last_lines(&holder.log_text(), 40),
                other.name(),
                last_lines(&other.log_text(), 40)
            )
        },
    )
}

/// Two nodes with heartbeat on both LANs, the VIP group on nodea, the client as ping node and
/// ipfail respawned by heartbeat on each node. ipfail signs on (`cl_status clientstatus`), then
/// nodea loses its path to the ping node while the heartbeat links stay up: the VIP must move
/// to nodeb, with ipfail's log lines on both sides.
fn ipfail_moves_vip(daemons: [Daemon; 2], ipfails: [Ipfail; 2]) -> Result<()> {
    let lan = Lan::with_spec(LanSpec {
        nodes: 2,
        second_lan: true,
    })?;
    let names = lan.node_names();
    let (a, b) = (lan.node(0), lan.node(1));
    for (node, ipfail) in lan.nodes().iter().zip(ipfails) {
        let config = ConfigBuilder::new(&names)
            .bcast("eth0")
            .bcast("eth1")
            .auto_failback("on")
            .ping(CLIENT_IP)
            .respawn("hacluster", &ipfail.path()?)
            .extra("apiauth ipfail gid=haclient uid=hacluster")
            .resource(&format!("nodea IPaddr2::{VIP}/24/eth0"))
            .build();
        node.apply(&config)?;
    }
    for (node, d) in lan.nodes().iter().zip(daemons) {
        node.start(d)?;
    }
    let ping = CLIENT_IP.to_string();
    for node in [a, b] {
        for peer in [a, b] {
            wait_cl_status(node, &["nodestatus", peer.name()], "active", CONVERGE)?;
        }
        wait_cl_status(node, &["nodestatus", &ping], "ping", CONVERGE)?;
    }
    wait_vip(a, b, CONVERGE)?;
    // ipfail signed on as the named client `ipfail` on both nodes (real cl_status, seen from
    // each node).
    for node in [a, b] {
        for target in [a, b] {
            wait_cl_status(
                node,
                &["clientstatus", target.name(), "ipfail"],
                "online",
                CONVERGE,
            )?;
        }
    }
    // Both ipfails compared their counts once the second one joined.
    wait_for(
        "ipfail's first comparison",
        DETECT,
        POLL,
        || {
            [a, b]
                .iter()
                .any(|n| n.log_text().contains("Ping node count is balanced."))
        },
        || {
            format!(
                "{}\n{}",
                last_lines(&a.log_text(), 30),
                last_lines(&b.log_text(), 30)
            )
        },
    )?;

    node_drop_icmp_to(a, CLIENT_IP, true)?;
    wait_cl_status(a, &["nodestatus", &ping], "dead", DETECT)?;
    // Heartbeat itself still sees both nodes over both LANs.
    assert_eq!(a.cl_status(&["nodestatus", "nodeb"])?, "active");
    assert_eq!(b.cl_status(&["nodestatus", &ping])?, "ping");
    wait_vip(b, a, Duration::from_secs(30))?;
    a.wait_for_log(
        "Giving up because we were told that we have less ping nodes.",
        DETECT,
    )?;
    b.wait_for_log(
        "Telling other node that we have more visible ping nodes.",
        DETECT,
    )?;
    Ok(())
}

#[test]
fn ipfail_real_real_daemons() -> Result<()> {
    ipfail_moves_vip([Daemon::Real, Daemon::Real], [Ipfail::Real, Ipfail::Real])
}

#[test]
fn ipfail_real_on_our_daemons() -> Result<()> {
    ipfail_moves_vip(
        [Daemon::ours()?, Daemon::ours()?],
        [Ipfail::Real, Ipfail::Real],
    )
}

#[test]
fn ipfail_ours_on_our_daemons() -> Result<()> {
    ipfail_moves_vip(
        [Daemon::ours()?, Daemon::ours()?],
        [Ipfail::Ours, Ipfail::Ours],
    )
}

#[test]
fn ipfail_mixed_cluster() -> Result<()> {
    ipfail_moves_vip(
        [Daemon::Real, Daemon::ours()?],
        [Ipfail::Real, Ipfail::Ours],
    )
}
