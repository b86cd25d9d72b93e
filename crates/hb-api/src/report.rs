//! Operator reports: a [`Snapshot`] of one node's view of the cluster, rendered as the
//! Prometheus text exposition format ([`render_metrics`], `cl_status metrics` and the
//! `metrics_file`) or as plain words ([`render_explain`], [`render_explain_json`],
//! `cl_status explain`). Pure: the daemon fills a snapshot from its engine and resource
//! state; `cl_status` fills what it can from standard API queries when the daemon is
//! Heartbeat 3.0.6, and the fields it cannot know stay `None` and are said to be missing.
//!
//! Our daemon answers two extension requests (Heartbeat 3.0.6 answers them with
//! `result=badreq`): [`REQ_METRICS`] and [`REQ_EXPLAIN`] (field `format=text|json`). The
//! reply is one message per line of the rendered text, each with the line in
//! [`F_LINE`] and `result=more`, the last one `result=OK`, like `nodelist`.

use std::fmt::Write as _;

use crate::view::NodeType;

/// Request type: the Prometheus text of this node.
pub const REQ_METRICS: &str = "hbrs-metrics";
/// Request type: `cl_status explain` text (`format=text`) or JSON (`format=json`).
pub const REQ_EXPLAIN: &str = "hbrs-explain";
/// Field of a reply line.
pub const F_LINE: &str = "line";
/// Field of the wanted format in [`REQ_EXPLAIN`].
pub const F_FORMAT: &str = "format";

/// Statuses a node can have, for the `heartbeat_node_status` state set.
pub const NODE_STATUSES: [&str; 5] = ["init", "up", "active", "dead", "ping"];

/// One node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSnap {
    /// Name.
    pub name: String,
    /// Normal or ping node.
    pub kind: NodeType,
    /// `init`, `up`, `active`, `dead`, `ping`.
    pub status: String,
    /// `weight` (100 unless configured), if known.
    pub weight: Option<i32>,
    /// This node.
    pub is_local: bool,
    /// Wall-clock time (s since the epoch) its status last changed, if known.
    pub status_since: Option<u64>,
    /// Seconds since its last status message, if known.
    pub last_status_age: Option<f64>,
    /// Its dead interval in seconds, if known.
    pub dead_interval: Option<f64>,
}

/// One link (a node seen through one medium).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkSnap {
    /// Node name.
    pub node: String,
    /// Medium (interface or device) name.
    pub medium: String,
    /// Up or dead.
    pub up: bool,
    /// Seconds since the last packet from the node on this medium, if known.
    pub last_packet_age: Option<f64>,
}

/// Packet and liveness counters since the daemon started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Packets {
    /// Datagrams received.
    pub received: u64,
    /// Packets sent (retransmissions included).
    pub sent: u64,
    /// Messages retransmitted on a peer's request.
    pub retransmitted: u64,
    /// Retransmission requests sent.
    pub rexmit_requested: u64,
    /// Duplicates received (the same message on another medium, typically).
    pub duplicates: u64,
    /// Late heartbeats (warntime exceeded).
    pub late_heartbeats: u64,
    /// Nodes declared dead.
    pub node_deaths: u64,
    /// Links declared dead.
    pub link_deaths: u64,
    /// Dropped packets by reason (snake_case label, count), every reason listed.
    pub dropped: Vec<(String, u64)>,
}

/// One resource group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSnap {
    /// Group key (first resource of its haresources line).
    pub key: String,
    /// Home node.
    pub home: String,
    /// Held here (None: unknown, e.g. only a set is known).
    pub held: Option<bool>,
    /// Why, in words.
    pub reason: String,
    /// Completed starts here.
    pub starts: u64,
    /// Starts of another node's group (takeovers).
    pub takeovers: u64,
    /// Failed starts.
    pub start_failures: u64,
    /// Failed stops.
    pub stop_failures: u64,
}

/// Resource management state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    /// `getrsc`: `none`, `local`, `foreign`, `all`, `transition`.
    pub rsc_hold: String,
    /// `auto_failback` mode, if known.
    pub mode: Option<String>,
    /// Resource protocol state (`stable`, ...), if known.
    pub state: Option<String>,
    /// A standby in progress, in words.
    pub standby: Option<String>,
    /// What the peer reported holding (relative to the peer), if known.
    pub peer_holds: Option<String>,
    /// Every group (empty when unknown).
    pub groups: Vec<GroupSnap>,
    /// Whether the groups' operation counters are known (our daemon) or not (derived).
    pub counted: bool,
}

/// Scheduling pauses of the master loop (a histogram in seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct Pauses {
    /// (upper bound in seconds, cumulative count), ascending.
    pub buckets: Vec<(f64, u64)>,
    /// Sum of all pause lengths in seconds.
    pub sum: f64,
    /// Number of pauses.
    pub count: u64,
}

impl Pauses {
    /// No pause seen (yet), with the standard buckets.
    pub fn none() -> Pauses {
        Pauses {
            buckets: [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0]
                .into_iter()
                .map(|b| (b, 0))
                .collect(),
            sum: 0.0,
            count: 0,
        }
    }
}

/// One node's view of the cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// `heartbeat-rs` or `heartbeat` (the C daemon).
    pub implementation: String,
    /// Its version text.
    pub version: String,
    /// This node's name.
    pub local: String,
    /// Wall clock now (s since the epoch), for "since" texts.
    pub wall_now: u64,
    /// Every node, in table order.
    pub nodes: Vec<NodeSnap>,
    /// Every link of every node.
    pub links: Vec<LinkSnap>,
    /// Packet counters, if known.
    pub packets: Option<Packets>,
    /// Resources, if known (None with `-M` or a CRM).
    pub resources: Option<Resources>,
    /// Child process restarts by process title, if known.
    pub child_restarts: Option<Vec<(String, u64)>>,
    /// Connected API clients, if known.
    pub api_clients: Option<u64>,
    /// Master loop pauses, if known.
    pub pauses: Option<Pauses>,
    /// Effective timings and settings after defaults: (name, value in words).
    pub timings: Vec<(String, String)>,
    /// The last cluster events: (wall clock s, line), oldest first.
    pub events: Vec<(u64, String)>,
    /// What this snapshot could not learn, in words.
    pub unavailable: Vec<String>,
}

// ----- Prometheus text --------------------------------------------------------------------

/// Escapes a label value (`\`, `"`, newline).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A sample value: integers without a fraction, others with up to 3 decimals.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

struct Family<'a> {
    out: &'a mut String,
}

impl Family<'_> {
    fn head(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", label(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {}", num(value));
    }
}

fn b(v: bool) -> f64 {
    if v {
        1.0
    } else {
        0.0
    }
}

/// The Prometheus text exposition format (version 0.0.4) of a snapshot. Series a snapshot
/// does not know are left out (and named in a comment).
pub fn render_metrics(s: &Snapshot) -> String {
    let mut out = String::new();
    let mut f = Family { out: &mut out };
    f.head(
        "heartbeat_info",
        "gauge",
        "Always 1: the daemon answering, its version and this node's name.",
    );
    f.sample(
        "heartbeat_info",
        &[
            ("implementation", &s.implementation),
            ("version", &s.version),
            ("node", &s.local),
        ],
        1.0,
    );
    f.head(
        "heartbeat_node_status",
        "gauge",
        "1 for the node's current status (init, up, active, dead, ping), 0 for the others.",
    );
    for n in &s.nodes {
        for st in NODE_STATUSES {
            let cur = n.status.eq_ignore_ascii_case(st);
            f.sample(
                "heartbeat_node_status",
                &[("node", &n.name), ("status", st)],
                b(cur),
            );
        }
    }
    if s.nodes.iter().any(|n| n.weight.is_some()) {
        f.head("heartbeat_node_weight", "gauge", "The node's weight.");
        for n in &s.nodes {
            if let Some(w) = n.weight {
                f.sample("heartbeat_node_weight", &[("node", &n.name)], f64::from(w));
            }
        }
    }
    if s.nodes.iter().any(|n| n.last_status_age.is_some()) {
        f.head(
            "heartbeat_node_last_status_age_seconds",
            "gauge",
            "Seconds since the node's last status message (heartbeat) was accepted.",
        );
        for n in &s.nodes {
            if let Some(age) = n.last_status_age {
                f.sample(
                    "heartbeat_node_last_status_age_seconds",
                    &[("node", &n.name)],
                    age,
                );
            }
        }
    }
    f.head(
        "heartbeat_link_up",
        "gauge",
        "1 when the node is heard on this medium, 0 when the link is dead.",
    );
    for l in &s.links {
        f.sample(
            "heartbeat_link_up",
            &[("node", &l.node), ("medium", &l.medium)],
            b(l.up),
        );
    }
    if s.links.iter().any(|l| l.last_packet_age.is_some()) {
        f.head(
            "heartbeat_link_last_packet_age_seconds",
            "gauge",
            "Seconds since the last packet from the node on this medium.",
        );
        for l in &s.links {
            if let Some(age) = l.last_packet_age {
                f.sample(
                    "heartbeat_link_last_packet_age_seconds",
                    &[("node", &l.node), ("medium", &l.medium)],
                    age,
                );
            }
        }
    }
    if let Some(p) = &s.packets {
        let counters: [(&str, &str, u64); 8] = [
            (
                "heartbeat_packets_received_total",
                "Datagrams received on every medium.",
                p.received,
            ),
            (
                "heartbeat_packets_sent_total",
                "Packets sent (one per message and medium group; retransmissions included).",
                p.sent,
            ),
            (
                "heartbeat_packets_retransmitted_total",
                "Messages retransmitted on a peer's request.",
                p.retransmitted,
            ),
            (
                "heartbeat_retransmit_requests_total",
                "Retransmission requests this node sent for missing messages.",
                p.rexmit_requested,
            ),
            (
                "heartbeat_packets_duplicate_total",
                "Messages received again (usually the same message on another medium).",
                p.duplicates,
            ),
            (
                "heartbeat_late_heartbeats_total",
                "Heartbeats that arrived after warntime.",
                p.late_heartbeats,
            ),
            (
                "heartbeat_node_dead_events_total",
                "Times a node was declared dead.",
                p.node_deaths,
            ),
            (
                "heartbeat_link_dead_events_total",
                "Times a link was declared dead.",
                p.link_deaths,
            ),
        ];
        for (name, help, v) in counters {
            f.head(name, "counter", help);
            f.sample(name, &[], v as f64);
        }
        f.head(
            "heartbeat_packets_dropped_total",
            "counter",
            "Received packets rejected before they could change anything, by reason.",
        );
        for (reason, v) in &p.dropped {
            f.sample(
                "heartbeat_packets_dropped_total",
                &[("reason", reason)],
                *v as f64,
            );
        }
    }
    if let Some(r) = &s.resources {
        f.head(
            "heartbeat_resources_in_transition",
            "gauge",
            "1 while a resource takeover, release or standby is in progress.",
        );
        f.sample(
            "heartbeat_resources_in_transition",
            &[],
            b(r.rsc_hold == "transition"),
        );
        f.head(
            "heartbeat_resource_group_held",
            "gauge",
            "1 when the resource group runs (or is being started) on this node.",
        );
        for g in &r.groups {
            if let Some(held) = g.held {
                f.sample(
                    "heartbeat_resource_group_held",
                    &[("group", &g.key), ("home", &g.home)],
                    b(held),
                );
            }
        }
        let per_group: [(&str, &str); 2] = [
            (
                "heartbeat_resource_group_starts_total",
                "Completed starts of the group on this node.",
            ),
            (
                "heartbeat_resource_group_takeovers_total",
                "Starts on this node of a group whose home is another node.",
            ),
        ];
        let counted = if r.counted { per_group.len() } else { 0 };
        for (i, (name, help)) in per_group.iter().enumerate().take(counted) {
            f.head(name, "counter", help);
            for g in &r.groups {
                let v = if i == 0 { g.starts } else { g.takeovers };
                f.sample(name, &[("group", &g.key)], v as f64);
            }
        }
        if r.counted {
            f.head(
                "heartbeat_resource_group_failures_total",
                "counter",
                "Failed starts and stops of the group on this node.",
            );
        }
        for g in r.groups.iter().filter(|_| r.counted) {
            f.sample(
                "heartbeat_resource_group_failures_total",
                &[("group", &g.key), ("operation", "start")],
                g.start_failures as f64,
            );
            f.sample(
                "heartbeat_resource_group_failures_total",
                &[("group", &g.key), ("operation", "stop")],
                g.stop_failures as f64,
            );
        }
    }
    if let Some(children) = &s.child_restarts {
        f.head(
            "heartbeat_child_restarts_total",
            "counter",
            "Restarts of the daemon's child processes (read/write, FIFO reader, respawn clients).",
        );
        for (process, v) in children {
            f.sample(
                "heartbeat_child_restarts_total",
                &[("process", process)],
                *v as f64,
            );
        }
    }
    if let Some(n) = s.api_clients {
        f.head(
            "heartbeat_api_clients",
            "gauge",
            "Clients connected to the API socket.",
        );
        f.sample("heartbeat_api_clients", &[], n as f64);
    }
    if let Some(p) = &s.pauses {
        let name = "heartbeat_scheduling_pause_seconds";
        f.head(
            name,
            "histogram",
            "Pauses of the master control loop (time it was not scheduled).",
        );
        for (le, count) in &p.buckets {
            f.sample(
                &format!("{name}_bucket"),
                &[("le", &num(*le))],
                *count as f64,
            );
        }
        f.sample(&format!("{name}_bucket"), &[("le", "+Inf")], p.count as f64);
        f.sample(&format!("{name}_sum"), &[], p.sum);
        f.sample(&format!("{name}_count"), &[], p.count as f64);
    }
    for what in &s.unavailable {
        let _ = writeln!(out, "# not available: {what}");
    }
    out
}

// ----- explain ----------------------------------------------------------------------------

/// `HH:MM:SS` (UTC) of a wall-clock time.
pub fn clock(wall: u64) -> String {
    let day = wall % 86_400;
    format!("{:02}:{:02}:{:02}", day / 3600, day % 3600 / 60, day % 60)
}

fn ago(s: &Snapshot, wall: u64) -> String {
    format!(
        "{} UTC ({} s ago)",
        clock(wall),
        s.wall_now.saturating_sub(wall)
    )
}

fn secs(v: f64) -> String {
    format!("{} s", num(v))
}

/// What a node status means, in words.
fn status_words(n: &NodeSnap, s: &Snapshot) -> String {
    let mut t = match n.status.as_str() {
        "active" => "active".to_string(),
        "up" => "up (heard, its communication not fully up yet)".to_string(),
        "init" => "init (not heard from since start)".to_string(),
        "dead" => "DEAD".to_string(),
        "ping" => "answering pings".to_string(),
        other => other.to_string(),
    };
    if let Some(since) = n.status_since {
        let _ = write!(t, " since {}", ago(s, since));
    }
    t
}

/// The text of `cl_status explain`.
pub fn render_explain(s: &Snapshot) -> String {
    let mut out = String::new();
    let me = s.nodes.iter().find(|n| n.is_local);
    let _ = writeln!(
        out,
        "{} {} on {}: this node is {}.",
        s.implementation,
        s.version,
        s.local,
        me.map(|n| n.status.as_str()).unwrap_or("unknown")
    );
    let _ = writeln!(out, "\nResource groups:");
    match &s.resources {
        None => {
            let _ = writeln!(
                out,
                "  resources are not managed by heartbeat here (crm or -M)."
            );
        }
        Some(r) => {
            let holds = match r.rsc_hold.as_str() {
                "none" => "nothing",
                "local" => "its own groups (if it has any)",
                "foreign" => "the other node's groups",
                "all" => "every group",
                "transition" => "in transition (a takeover, release or standby is running)",
                other => other,
            };
            let mut head = format!("  this node holds {holds} (getrsc: {})", r.rsc_hold);
            if let Some(mode) = &r.mode {
                let _ = write!(head, "; auto_failback {mode}");
            }
            if let Some(state) = &r.state {
                let _ = write!(head, "; resource state {state}");
            }
            if let Some(peer) = &r.peer_holds {
                let what = match peer.as_str() {
                    "none" => "nothing",
                    "local" => "its own groups",
                    "foreign" => "this node's groups",
                    "all" => "every group",
                    other => other,
                };
                let _ = write!(head, "; the peer reports holding {what} ({peer})");
            }
            let _ = writeln!(out, "{head}.");
            if let Some(standby) = &r.standby {
                let _ = writeln!(out, "  standby in progress: {standby}.");
            }
            for g in &r.groups {
                let held = match g.held {
                    Some(true) => "HELD here",
                    Some(false) => "not held here",
                    None => "held here: unknown",
                };
                let mut reason = g.reason.clone();
                if let Some(home) = s.nodes.iter().find(|n| n.name == g.home && !n.is_local) {
                    if home.status == "dead" {
                        if let Some(since) = home.status_since {
                            let _ = write!(reason, " ({} dead since {})", home.name, ago(s, since));
                        }
                    }
                }
                let _ = writeln!(out, "  {} (home {}): {held}: {reason}.", g.key, g.home);
            }
        }
    }
    let _ = writeln!(out, "\nNodes:");
    for n in &s.nodes {
        let mut line = format!(
            "  {}{}: {}",
            n.name,
            if n.is_local { " (this node)" } else { "" },
            status_words(n, s)
        );
        if !n.is_local {
            if let Some(age) = n.last_status_age {
                let _ = write!(line, "; last heartbeat {} ago", secs(age));
            }
            if let Some(dt) = n.dead_interval {
                let _ = write!(line, "; declared dead after {} of silence", secs(dt));
            }
        }
        let _ = writeln!(out, "{line}.");
    }
    let _ = writeln!(out, "\nLinks:");
    for l in s.links.iter().filter(|l| l.node != s.local) {
        let mut line = format!(
            "  {} via {}: {}",
            l.node,
            l.medium,
            if l.up { "up" } else { "DEAD" }
        );
        if let Some(age) = l.last_packet_age {
            let _ = write!(line, "; last packet {} ago", secs(age));
        }
        let _ = writeln!(out, "{line}.");
    }
    let _ = writeln!(out, "\nTimings (effective, after defaults):");
    for (name, value) in &s.timings {
        let _ = writeln!(out, "  {name} {value}");
    }
    if !s.events.is_empty() {
        let _ = writeln!(out, "\nLast cluster events:");
        for (at, text) in &s.events {
            let _ = writeln!(out, "  {} {text}", clock(*at));
        }
    }
    if !s.unavailable.is_empty() {
        let _ = writeln!(out, "\nNot available from this daemon:");
        for what in &s.unavailable {
            let _ = writeln!(out, "  {what}");
        }
    }
    out
}

/// JSON string literal.
fn js(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn jopt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map(f).unwrap_or_else(|| "null".to_string())
}

fn jf(v: f64) -> String {
    num(v)
}

/// The JSON of `cl_status explain --json`: the same facts as [`render_explain`], one object.
pub fn render_explain_json(s: &Snapshot) -> String {
    let mut o = String::from("{");
    let _ = write!(
        o,
        "\"implementation\":{},\"version\":{},\"node\":{},\"time\":{}",
        js(&s.implementation),
        js(&s.version),
        js(&s.local),
        s.wall_now
    );
    o.push_str(",\"resources\":");
    match &s.resources {
        None => o.push_str("null"),
        Some(r) => {
            let groups: Vec<String> = r
                .groups
                .iter()
                .map(|g| {
                    format!(
                        "{{\"group\":{},\"home\":{},\"held\":{},\"reason\":{},\"starts\":{},\
                         \"takeovers\":{},\"start_failures\":{},\"stop_failures\":{}}}",
                        js(&g.key),
                        js(&g.home),
                        jopt(g.held, |h| h.to_string()),
                        js(&g.reason),
                        g.starts,
                        g.takeovers,
                        g.start_failures,
                        g.stop_failures
                    )
                })
                .collect();
            let _ = write!(
                o,
                "{{\"rsc_hold\":{},\"auto_failback\":{},\"state\":{},\"standby\":{},\
                 \"peer_holds\":{},\"groups\":[{}]}}",
                js(&r.rsc_hold),
                jopt(r.mode.as_deref(), js),
                jopt(r.state.as_deref(), js),
                jopt(r.standby.as_deref(), js),
                jopt(r.peer_holds.as_deref(), js),
                groups.join(",")
            );
        }
    }
    let nodes: Vec<String> = s
        .nodes
        .iter()
        .map(|n| {
            format!(
                "{{\"node\":{},\"type\":{},\"status\":{},\"local\":{},\"weight\":{},\
                 \"status_since\":{},\"last_status_age_seconds\":{},\"deadtime_seconds\":{}}}",
                js(&n.name),
                js(n.kind.as_str()),
                js(&n.status),
                n.is_local,
                jopt(n.weight, |w| w.to_string()),
                jopt(n.status_since, |v| v.to_string()),
                jopt(n.last_status_age, jf),
                jopt(n.dead_interval, jf)
            )
        })
        .collect();
    let _ = write!(o, ",\"nodes\":[{}]", nodes.join(","));
    let links: Vec<String> = s
        .links
        .iter()
        .map(|l| {
            format!(
                "{{\"node\":{},\"medium\":{},\"up\":{},\"last_packet_age_seconds\":{}}}",
                js(&l.node),
                js(&l.medium),
                l.up,
                jopt(l.last_packet_age, jf)
            )
        })
        .collect();
    let _ = write!(o, ",\"links\":[{}]", links.join(","));
    let timings: Vec<String> = s
        .timings
        .iter()
        .map(|(k, v)| format!("{}:{}", js(k), js(v)))
        .collect();
    let _ = write!(o, ",\"timings\":{{{}}}", timings.join(","));
    let events: Vec<String> = s
        .events
        .iter()
        .map(|(t, line)| format!("{{\"time\":{t},\"text\":{}}}", js(line)))
        .collect();
    let _ = write!(o, ",\"events\":[{}]", events.join(","));
    let unavailable: Vec<String> = s.unavailable.iter().map(|u| js(u)).collect();
    let _ = write!(o, ",\"unavailable\":[{}]}}", unavailable.join(","));
    o.push('\n');
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Snapshot {
        Snapshot {
            implementation: "heartbeat-rs".into(),
            version: "0.1.0".into(),
            local: "nodeb".into(),
            wall_now: 1_000_060,
            nodes: vec![
                NodeSnap {
                    name: "nodea".into(),
                    kind: NodeType::Normal,
                    status: "dead".into(),
                    weight: Some(100),
                    is_local: false,
                    status_since: Some(1_000_000),
                    last_status_age: Some(61.25),
                    dead_interval: Some(1.0),
                },
                NodeSnap {
                    name: "nodeb".into(),
                    kind: NodeType::Normal,
                    status: "active".into(),
                    weight: Some(100),
                    is_local: true,
                    status_since: None,
                    last_status_age: Some(0.2),
                    dead_interval: Some(1.0),
                },
            ],
            links: vec![LinkSnap {
                node: "nodea".into(),
                medium: "eth0".into(),
                up: false,
                last_packet_age: Some(61.0),
            }],
            packets: Some(Packets {
                received: 10,
                dropped: vec![("bad_auth".into(), 2)],
                node_deaths: 1,
                ..Packets::default()
            }),
            resources: Some(Resources {
                rsc_hold: "all".into(),
                mode: Some("on".into()),
                state: Some("stable".into()),
                standby: None,
                peer_holds: Some("none".into()),
                groups: vec![GroupSnap {
                    key: "IPaddr2::198.18.0.100/24/eth0".into(),
                    home: "nodea".into(),
                    held: Some(true),
                    reason: "its home node nodea is dead: this node took it over".into(),
                    starts: 1,
                    takeovers: 1,
                    start_failures: 0,
                    stop_failures: 0,
                }],
                counted: true,
            }),
            child_restarts: Some(vec![("write: bcast eth0".into(), 0)]),
            api_clients: Some(1),
            pauses: Some(Pauses::none()),
            timings: vec![("deadtime".into(), "1000 ms".into())],
            events: vec![(1_000_000, "WARN: node nodea: is dead".into())],
            unavailable: vec![],
        }
    }

    #[test]
    fn metrics_follow_the_exposition_format() {
        let text = render_metrics(&snapshot());
        assert!(text.contains("heartbeat_node_status{node=\"nodea\",status=\"dead\"} 1\n"));
        assert!(text.contains("heartbeat_node_status{node=\"nodea\",status=\"active\"} 0\n"));
        assert!(text.contains("heartbeat_link_up{node=\"nodea\",medium=\"eth0\"} 0\n"));
        assert!(text.contains("heartbeat_node_last_status_age_seconds{node=\"nodea\"} 61.25\n"));
        assert!(text.contains("heartbeat_packets_dropped_total{reason=\"bad_auth\"} 2\n"));
        assert!(text.contains(
            "heartbeat_resource_group_takeovers_total{group=\"IPaddr2::198.18.0.100/24/eth0\"} 1\n"
        ));
        assert!(text.contains("heartbeat_scheduling_pause_seconds_bucket{le=\"+Inf\"} 0\n"));
        // Every family has HELP and TYPE before its samples, once.
        let mut seen = std::collections::BTreeSet::new();
        for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
            assert!(seen.insert(line.to_string()), "{line} twice");
        }
    }

    #[test]
    fn explain_says_why_in_words() {
        let text = render_explain(&snapshot());
        assert!(text.contains(
            "IPaddr2::198.18.0.100/24/eth0 (home nodea): HELD here: its home node nodea is dead: \
             this node took it over (nodea dead since 13:46:40 UTC (60 s ago))."
        ), "{text}");
        assert!(
            text.contains("nodea via eth0: DEAD; last packet 61 s ago."),
            "{text}"
        );
        assert!(
            text.contains("13:46:40 WARN: node nodea: is dead"),
            "{text}"
        );
        let json = render_explain_json(&snapshot());
        assert!(json.contains("\"held\":true"), "{json}");
        assert!(json.starts_with('{') && json.ends_with("}\n"), "{json}");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(num(2.0), "2");
        assert_eq!(num(0.25), "0.25");
        assert_eq!(num(1.0 / 3.0), "0.333");
    }
}
