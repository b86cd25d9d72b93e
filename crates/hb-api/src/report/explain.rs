//! `cl_status explain`: a [`Snapshot`] in plain words, or as one JSON object.

use std::fmt::Write as _;

use super::metrics::num;
use super::{NodeSnap, Snapshot};

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
