//! Operator reports (issue 17): `cl_status metrics` and the `metrics_file` are valid
//! Prometheus text (the real `promtool check metrics`) whose series follow a crash of the
//! peer and a child restart; `cl_status explain` says who holds the group and why, also in a
//! mixed cluster where one node runs the real Heartbeat 3.0.6 (explained from standard API
//! queries, with what is missing named).

use std::time::Duration;

use hb_tests::{
    pid_titled, require_program, wait_active, wait_for, wait_until, ConfigBuilder, Daemon, Error,
    Lan, Node, Result, Signal,
};

const VIP: &str = "198.18.0.100";
const GROUP: &str = "IPaddr2::198.18.0.100/24/eth0";
const METRICS_FILE: &str = "/var/log/heartbeat.prom";
const POLL: Duration = Duration::from_millis(200);

fn check(cond: bool, what: &str) -> Result<()> {
    if cond {
        Ok(())
    } else {
        Err(Error::Invalid(format!("check failed: {what}")))
    }
}

/// Our staged cl_status with `args`, run on `node`; its stdout (must exit 0).
fn our_cl_status(node: &Node, args: &[&str]) -> Result<String> {
    let tool = Daemon::ours()?.tool("cl_status")?.display().to_string();
    let mut full = vec![tool.as_str()];
    full.extend_from_slice(args);
    let out = node.exec(&full)?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    check(
        out.status.success(),
        &format!(
            "cl_status {} on {} ({:?}): {text}{}",
            args.join(" "),
            node.name(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
    )?;
    Ok(text)
}

/// The real `promtool check metrics` accepts `text`.
fn promtool_accepts(text: &str, what: &str) -> Result<()> {
    let promtool = require_program("promtool", "prometheus")?;
    let file = std::env::temp_dir().join(format!(
        "hbt-metrics-{}-{}.prom",
        std::process::id(),
        what.replace(' ', "-")
    ));
    std::fs::write(&file, text).map_err(|e| Error::Invalid(format!("write {file:?}: {e}")))?;
    let out = std::process::Command::new("timeout")
        .arg("30")
        .arg("sh")
        .arg("-c")
        .arg("\"$0\" check metrics < \"$1\"")
        .arg(&promtool)
        .arg(&file)
        .output()
        .map_err(|e| Error::Invalid(format!("run promtool: {e}")));
    let _ = std::fs::remove_file(&file);
    let out = out?;
    check(
        out.status.success(),
        &format!(
            "promtool check metrics rejects {what}: {}{}\n{text}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The value of the sample `series` (name with labels, exactly as printed).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

fn expect_value(text: &str, series: &str, want: impl Fn(f64) -> bool, what: &str) -> Result<()> {
    let v = value(text, series);
    check(
        v.is_some_and(want),
        &format!("{what}: {series} = {v:?} in:\n{text}"),
    )
}

fn expect_lines(text: &str, wanted: &[&str], what: &str) -> Result<()> {
    for w in wanted {
        check(
            text.contains(w),
            &format!("{what}: expected {w:?} in:\n{text}"),
        )?;
    }
    Ok(())
}

/// Waits until `node` holds the VIP and every node's resources are stable.
fn wait_vip_on(lan: &Lan, node: &Node, timeout: Duration) -> Result<()> {
    wait_for(
        &format!("the VIP on {} and stable resources", node.name()),
        timeout,
        POLL,
        || {
            node.has_address("eth0", VIP)
                && lan.nodes().iter().all(|n| {
                    n.master_pid().is_none()
                        || n.cl_status(&["rscstatus"]).is_ok_and(|s| s != "transition")
                })
        },
        || {
            lan.nodes()
                .iter()
                .map(|n| format!("--- {}:\n{}", n.name(), tail(&n.log_text())))
                .collect::<Vec<_>>()
                .join("\n")
        },
    )
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// A crash of `node`: every process SIGKILLed and its link down, then a "reboot" (fresh
/// /run, addresses gone) that leaves it down until [`restore`].
fn crash(node: &Node) -> Result<()> {
    node.kill9()?;
    node.cut("eth0")?;
    node.reset()
}

fn restore(node: &Node, daemon: Daemon) -> Result<()> {
    node.uncut("eth0")?;
    node.start(daemon)
}

fn series(name: &str, labels: &[(&str, &str)]) -> String {
    let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{name}{{{}}}", l.join(","))
}

#[test]
fn metrics_are_valid_prometheus_text_and_follow_a_crash_of_the_peer() -> Result<()> {
    let lan = Lan::new(2)?;
    let cfg = ConfigBuilder::new(&lan.node_names())
        .timings("200ms", "1", "600ms", "2")
        .auto_failback("on")
        .resource(&format!("nodea {GROUP}"))
        .extra(&format!("metrics_file {METRICS_FILE}"))
        .build();
    let (a, b) = (lan.node(0), lan.node(1));
    for node in lan.nodes() {
        node.apply(&cfg)?;
        node.start(Daemon::ours()?)?;
    }
    wait_active(b, "nodea", Duration::from_secs(30))?;
    wait_vip_on(&lan, a, Duration::from_secs(30))?;

    let m = our_cl_status(b, &["metrics"])?;
    promtool_accepts(&m, "cl_status metrics")?;
    let status = |node, st| series("heartbeat_node_status", &[("node", node), ("status", st)]);
    let link = series(
        "heartbeat_link_up",
        &[("node", "nodea"), ("medium", "eth0")],
    );
    let held = series(
        "heartbeat_resource_group_held",
        &[("group", GROUP), ("home", "nodea")],
    );
    let takeovers = series(
        "heartbeat_resource_group_takeovers_total",
        &[("group", GROUP)],
    );
    let write_restarts = series(
        "heartbeat_child_restarts_total",
        &[("process", "write: bcast eth0")],
    );
    expect_value(&m, &status("nodea", "active"), |v| v == 1.0, "nodea active")?;
    expect_value(&m, &status("nodea", "dead"), |v| v == 0.0, "nodea not dead")?;
    expect_value(&m, &link, |v| v == 1.0, "link up")?;
    expect_value(
        &m,
        "heartbeat_node_dead_events_total",
        |v| v == 0.0,
        "no death",
    )?;
    expect_value(&m, &held, |v| v == 0.0, "nodeb does not hold the group")?;
    expect_value(&m, &takeovers, |v| v == 0.0, "no takeover yet")?;
    expect_value(
        &m,
        "heartbeat_packets_received_total",
        |v| v > 0.0,
        "packets in",
    )?;
    expect_value(
        &m,
        "heartbeat_packets_sent_total",
        |v| v > 0.0,
        "packets out",
    )?;
    expect_value(
        &m,
        "heartbeat_api_clients",
        |v| v >= 1.0,
        "cl_status itself",
    )?;
    expect_value(&m, &write_restarts, |v| v == 0.0, "no restart yet")?;
    expect_value(
        &m,
        &series(
            "heartbeat_node_last_status_age_seconds",
            &[("node", "nodea")],
        ),
        |v| v < 1.0,
        "nodea heard within deadtime",
    )?;
    expect_value(
        &m,
        &series("heartbeat_packets_dropped_total", &[("reason", "bad_auth")]),
        |v| v == 0.0,
        "no bad packets",
    )?;
    expect_value(
        &m,
        "heartbeat_scheduling_pause_seconds_count",
        |v| v >= 0.0,
        "pause histogram present",
    )?;
    let file = b.host_path(METRICS_FILE)?;
    let read_file = || std::fs::read_to_string(&file).unwrap_or_default();
    wait_for(
        "the metrics_file to show nodea active",
        Duration::from_secs(15),
        POLL,
        || value(&read_file(), &status("nodea", "active")) == Some(1.0),
        read_file,
    )?;
    promtool_accepts(&read_file(), "the metrics_file")?;

    // A restarted write child is counted.
    let writer = pid_titled(b, "heartbeat: write: bcast eth0")
        .ok_or_else(|| Error::Invalid("no write child on nodeb".into()))?;
    b.signal(writer, Signal::SIGKILL)?;
    check(
        wait_until(Duration::from_secs(15), POLL, || {
            our_cl_status(b, &["metrics"])
                .is_ok_and(|m| value(&m, &write_restarts).is_some_and(|v| v >= 1.0))
        }),
        "the write child's restart is counted",
    )?;

    crash(a)?;
    wait_vip_on(&lan, b, Duration::from_secs(30))?;
    let m = our_cl_status(b, &["metrics"])?;
    promtool_accepts(&m, "cl_status metrics after the crash")?;
    expect_value(&m, &status("nodea", "dead"), |v| v == 1.0, "nodea dead")?;
    expect_value(
        &m,
        &status("nodea", "active"),
        |v| v == 0.0,
        "nodea not active",
    )?;
    expect_value(&m, &status("nodeb", "active"), |v| v == 1.0, "nodeb active")?;
    expect_value(&m, &link, |v| v == 0.0, "link dead")?;
    expect_value(
        &m,
        "heartbeat_node_dead_events_total",
        |v| v == 1.0,
        "one death",
    )?;
    expect_value(
        &m,
        "heartbeat_link_dead_events_total",
        |v| v >= 1.0,
        "link death",
    )?;
    expect_value(&m, &held, |v| v == 1.0, "nodeb holds the group")?;
    expect_value(&m, &takeovers, |v| v == 1.0, "one takeover")?;
    expect_value(
        &m,
        &series(
            "heartbeat_resource_group_failures_total",
            &[("group", GROUP), ("operation", "start")],
        ),
        |v| v == 0.0,
        "no failed start",
    )?;
    expect_value(
        &m,
        &series(
            "heartbeat_node_last_status_age_seconds",
            &[("node", "nodea")],
        ),
        |v| v >= 1.0,
        "nodea silent for more than deadtime",
    )?;
    wait_for(
        "the metrics_file to show nodea dead and the group held",
        Duration::from_secs(15),
        POLL,
        || {
            let t = read_file();
            value(&t, &status("nodea", "dead")) == Some(1.0) && value(&t, &held) == Some(1.0)
        },
        read_file,
    )?;
    promtool_accepts(&read_file(), "the metrics_file after the crash")
}

/// nodea runs the real Heartbeat 3.0.6, nodeb ours: `cl_status explain` and `metrics`
/// work against both, before the crash of nodea, after it and after the failback.
#[test]
fn explain_and_metrics_in_a_mixed_cluster() -> Result<()> {
    let lan = Lan::new(2)?;
    let cfg = ConfigBuilder::new(&lan.node_names())
        .timings("500ms", "2", "1", "4")
        .auto_failback("on")
        .resource(&format!("nodea {GROUP}"))
        .build();
    let (a, b) = (lan.node(0), lan.node(1));
    for node in lan.nodes() {
        node.apply(&cfg)?;
    }
    a.start(Daemon::Real)?;
    b.start(Daemon::ours()?)?;
    wait_active(b, "nodea", Duration::from_secs(40))?;
    wait_active(a, "nodeb", Duration::from_secs(40))?;
    wait_vip_on(&lan, a, Duration::from_secs(40))?;

    // Against the C daemon: what the standard queries tell, and what they cannot.
    let real = our_cl_status(a, &["explain"])?;
    expect_lines(
        &real,
        &[
            "heartbeat 3.0.6 (no heartbeat-rs reports: explained from standard API queries) on \
             nodea: this node is active.",
            "this node's groups (home nodea): HELD here: this is their home node.",
            "the other node's groups (home nodeb): not held here: their home node nodeb runs them.",
            "nodeb: active.",
            "nodeb via eth0: up.",
            "deadtime 2",
            "auto_failback on",
            "Not available from this daemon:",
            "the last cluster events (see the log",
        ],
        "explain against Heartbeat 3.0.6",
    )?;
    let json = our_cl_status(a, &["explain", "--json"])?;
    expect_lines(
        &json,
        &[
            "{\"implementation\":\"heartbeat\"",
            "\"held\":true",
            "\"unavailable\":[",
        ],
        "explain --json against Heartbeat 3.0.6",
    )?;
    let m = our_cl_status(a, &["metrics"])?;
    promtool_accepts(&m, "cl_status metrics against Heartbeat 3.0.6")?;
    expect_lines(
        &m,
        &[
            "heartbeat_info{implementation=\"heartbeat\"",
            "heartbeat_node_status{node=\"nodeb\",status=\"active\"} 1",
            "heartbeat_link_up{node=\"nodeb\",medium=\"eth0\"} 1",
            "# not available: packet, retransmission",
        ],
        "metrics against Heartbeat 3.0.6",
    )?;
    // Our node in the same cluster.
    expect_lines(
        &our_cl_status(b, &["explain"])?,
        &[&format!(
            "{GROUP} (home nodea): not held here: its home node nodea runs it."
        )],
        "explain on nodeb (ours) before the crash",
    )?;
    promtool_accepts(
        &our_cl_status(b, &["metrics"])?,
        "cl_status metrics on nodeb",
    )?;

    crash(a)?;
    wait_vip_on(&lan, b, Duration::from_secs(30))?;
    expect_lines(
        &our_cl_status(b, &["explain"])?,
        &[
            &format!(
                "{GROUP} (home nodea): HELD here: its home node nodea is dead: this node took it \
                 over (nodea dead since "
            ),
            "nodea: DEAD since ",
            "WARN: node nodea: is dead",
        ],
        "explain on nodeb after the crash of nodea",
    )?;

    restore(a, Daemon::Real)?;
    wait_active(b, "nodea", Duration::from_secs(40))?;
    wait_vip_on(&lan, a, Duration::from_secs(60))?;
    expect_lines(
        &our_cl_status(a, &["explain"])?,
        &["this node's groups (home nodea): HELD here: this is their home node."],
        "explain on nodea (C) after the failback",
    )?;
    expect_lines(
        &our_cl_status(b, &["explain"])?,
        &[
            &format!("{GROUP} (home nodea): not held here: its home node nodea runs it."),
            "nodea: active since ",
        ],
        "explain on nodeb after the failback",
    )
}
