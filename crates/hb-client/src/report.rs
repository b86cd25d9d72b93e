//! `cl_status metrics` and `cl_status explain`: heartbeat-rs asks its daemon (extension
//! requests, see [`hb_api::report`]); against Heartbeat 3.0.6, which rejects them, it builds
//! what the standard API queries can tell (nodes, links, weights, `getrsc`, parameters) and
//! names what is missing.

use hb_api::report::{
    self, GroupSnap, LinkSnap, NodeSnap, Resources, Snapshot, F_FORMAT, REQ_EXPLAIN, REQ_METRICS,
};
use hb_api::NodeType;

use crate::client::Client;
use crate::error::ClientError;

/// How long `cl_status metrics|explain` may take before it gives up (exit code 12, like the
/// other sub-commands after 5 s): Heartbeat 3.0.6 answers about one API request per
/// keepalive, and the fallback needs a dozen.
pub const ALARM: std::time::Duration = std::time::Duration::from_secs(40);

/// What `cl_status explain` says when the daemon does not answer at all.
pub const NO_API: &str = "heartbeat does not answer on its API socket: it is not running here, or \
it is still waiting for its peers (up to initdead after its start); the socket opens once \
cluster communication is up. Look at the log (e.g. /var/log/ha-log) meanwhile.";

/// What the standard API cannot tell about Heartbeat 3.0.6.
const NOT_FROM_STANDARD_API: &[&str] = &[
    "packet, retransmission, drop and late-heartbeat counters (heartbeat-rs only)",
    "the age of the last heartbeat per node and of the last packet per link (heartbeat-rs only)",
    "when a node's status changed (see the log, e.g. /var/log/ha-log)",
    "the resource groups and why each is held (haresources is not in the API): only the \
     local/foreign sets",
    "child process restarts, API clients and scheduling pauses (heartbeat-rs only)",
    "node weights (not queried: Heartbeat 3.0.6 answers one query per keepalive)",
    "the last cluster events (see the log, e.g. /var/log/ha-log)",
];

/// `cl_status metrics`: the Prometheus text.
pub fn metrics(c: &mut Client) -> Result<String, ClientError> {
    match c.report_lines(REQ_METRICS, &[])? {
        Some(lines) => Ok(join(lines)),
        None => Ok(report::render_metrics(&standard_snapshot(c)?)),
    }
}

/// `cl_status explain [--json]`.
pub fn explain(c: &mut Client, json: bool) -> Result<String, ClientError> {
    let format = if json { "json" } else { "text" };
    match c.report_lines(REQ_EXPLAIN, &[(F_FORMAT, format)])? {
        Some(lines) => Ok(join(lines)),
        None => {
            let s = standard_snapshot(c)?;
            Ok(if json {
                report::render_explain_json(&s)
            } else {
                report::render_explain(&s)
            })
        }
    }
}

fn join(lines: Vec<String>) -> String {
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

fn param(c: &mut Client, name: &str) -> Option<String> {
    c.parameter(name).ok().flatten()
}

/// What the standard API queries tell (the daemon is Heartbeat 3.0.6 or another
/// implementation without our extension requests).
fn standard_snapshot(c: &mut Client) -> Result<Snapshot, ClientError> {
    let local = c.info().node.clone();
    let mut nodes = Vec::new();
    let mut links = Vec::new();
    for n in c.nodes()? {
        let kind = match n.node_type.as_deref() {
            Some("ping") => NodeType::Ping,
            _ => NodeType::Normal,
        };
        let status = match n.status {
            Some(s) => s,
            None => c.node_status(&n.name)?,
        };
        for l in c.links(&n.name)? {
            let up = c.link_status(&n.name, &l.name).is_ok_and(|s| s == "up");
            links.push(LinkSnap {
                node: n.name.clone(),
                medium: l.name,
                up,
                last_packet_age: None,
            });
        }
        nodes.push(NodeSnap {
            is_local: n.name == local,
            name: n.name,
            kind,
            status,
            // One query per node and keepalive is too slow to spend on weights.
            weight: None,
            status_since: None,
            last_status_age: None,
            dead_interval: None,
        });
    }
    let mode = param(c, "auto_failback");
    let resources = match c.resources() {
        Ok(hold) => Some(derived_resources(&local, &nodes, hold, mode.clone())),
        Err(_) => None,
    };
    let mut timings = Vec::new();
    if let Some(mode) = &mode {
        timings.push(("auto_failback".to_string(), mode.clone()));
    }
    for name in ["keepalive", "deadtime", "warntime", "initdead"] {
        if let Some(v) = param(c, name) {
            timings.push((name.to_string(), v));
        }
    }
    // Heartbeat 3.0.6 decorates it: `3.0.6 (node: <build hash>)`.
    let version = param(c, "hbversion")
        .and_then(|v| v.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into());
    Ok(Snapshot {
        implementation: "heartbeat".into(),
        version: format!(
            "{version} (no heartbeat-rs reports: explained from standard API queries)"
        ),
        local,
        wall_now: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        nodes,
        links,
        packets: None,
        resources,
        child_restarts: None,
        api_clients: None,
        pauses: None,
        timings,
        events: Vec::new(),
        unavailable: NOT_FROM_STANDARD_API
            .iter()
            .map(|s| s.to_string())
            .collect(),
    })
}

/// The local and foreign group sets as two pseudo-groups, explained from `getrsc`, the
/// peer's status and `auto_failback`.
fn derived_resources(
    local: &str,
    nodes: &[NodeSnap],
    hold: String,
    mode: Option<String>,
) -> Resources {
    let peer = nodes
        .iter()
        .find(|n| !n.is_local && n.kind == NodeType::Normal);
    let peer_name = peer
        .map(|p| p.name.clone())
        .unwrap_or_else(|| "the other node".into());
    let peer_status = peer.map(|p| p.status.as_str()).unwrap_or("");
    let (local_held, foreign_held) = match hold.as_str() {
        "all" => (Some(true), Some(true)),
        "local" => (Some(true), Some(false)),
        "foreign" => (Some(false), Some(true)),
        "none" => (Some(false), Some(false)),
        _ => (None, None),
    };
    let transition = "a takeover, release or standby is in progress (getrsc: transition)";
    let local_reason = match local_held {
        None => transition.to_string(),
        Some(true) => "this is their home node".to_string(),
        Some(false) if peer_status == "active" => format!(
            "{peer_name} holds them (after hb_standby here or hb_takeover there, or a failover \
             with auto_failback off)"
        ),
        Some(false) => "nobody is known to hold them".to_string(),
    };
    let foreign_reason = match foreign_held {
        None => transition.to_string(),
        Some(true) if peer_status == "dead" => {
            format!("their home node {peer_name} is dead: this node took them over")
        }
        Some(true) if mode.as_deref() == Some("on") => format!(
            "their home node {peer_name} is back; auto_failback on hands them back once both \
             are stable"
        ),
        Some(true) => format!(
            "taken over from {peer_name}; auto_failback is {}: they stay here until \
             hb_standby here or hb_takeover on {peer_name}",
            mode.as_deref().unwrap_or("unknown")
        ),
        Some(false) if peer_status == "dead" => {
            format!("their home node {peer_name} is dead; the takeover has not completed here")
        }
        Some(false) => format!("their home node {peer_name} runs them"),
    };
    let group = |key: &str, home: &str, held, reason| GroupSnap {
        key: key.to_string(),
        home: home.to_string(),
        held,
        reason,
        starts: 0,
        takeovers: 0,
        start_failures: 0,
        stop_failures: 0,
    };
    Resources {
        rsc_hold: hold,
        mode,
        state: None,
        standby: None,
        peer_holds: None,
        groups: vec![
            group("this node's groups", local, local_held, local_reason),
            group(
                "the other node's groups",
                &peer_name,
                foreign_held,
                foreign_reason,
            ),
        ],
        counted: false,
    }
}
