//! The Prometheus text exposition format (version 0.0.4) of a [`Snapshot`].

use std::fmt::Write as _;

use super::{Snapshot, NODE_STATUSES};

/// Escapes a label value (`\`, `"`, newline).
pub(super) fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A sample value: integers without a fraction, others with up to 3 decimals.
pub(super) fn num(v: f64) -> String {
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
        let counters: [(&str, &str, u64); 9] = [
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
            (
                "heartbeat_process_pauses_total",
                "Times this node found it had not run for more than max(keepalive, 10 ms) (docs/reliability.md §15).",
                p.pauses,
            ),
        ];
        for (name, help, v) in counters {
            f.head(name, "counter", help);
            f.sample(name, &[], v as f64);
        }
        // Prometheus base unit: seconds.
        let name = "heartbeat_process_pause_seconds_total";
        f.head(
            name,
            "counter",
            "Sum of the detected pauses of this node, in seconds.",
        );
        f.sample(name, &[], p.pause_ms_total as f64 / 1000.0);
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
