//! The daemon's half of the operator reports (`cl_status metrics`, `cl_status explain`, the
//! `metrics_file`): what the master remembers for them (when each node's status changed,
//! child restarts, the last cluster events) and how a [`Snapshot`] is filled from the engine,
//! the resource manager and the configuration. Rendering is the pure [`hb_api::report`].
//!
//! The `metrics_file` is written every [`METRICS_INTERVAL_MS`] to a temporary file in the
//! same directory, then renamed over the target, so node_exporter's textfile collector never
//! reads half a file. No socket is opened for it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hb_api::report::{GroupSnap, LinkSnap, NodeSnap, Packets, Pauses, Resources, Snapshot};
use hb_api::NodeType;
use hb_config::HaCf;
use hb_core::{Cluster, DropReason, NodeKind};
use hb_rsc::ResourceManager;

use crate::logging::Prio;

/// How often the metrics file is rewritten.
pub const METRICS_INTERVAL_MS: u64 = 5_000;
fn wall_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// What the master keeps for the reports.
#[derive(Debug, Default)]
pub struct ReportState {
    /// Node -> (status, wall-clock time it was first seen with it).
    since: BTreeMap<String, (String, u64)>,
    /// Restarts by process (`FIFO reader`, `write: bcast eth0`, a respawn command).
    restarts: BTreeMap<String, u64>,
    /// Where and when to write the metrics file.
    metrics_file: Option<PathBuf>,
    next_write: u64,
    /// The last write failed (logged once until it works again).
    write_failed: bool,
}

impl ReportState {
    /// A state for this configuration (its `metrics_file`).
    pub fn new(hacf: &HaCf) -> ReportState {
        let mut st = ReportState {
            metrics_file: hacf.metrics_file.clone(),
            ..ReportState::default()
        };
        // Every restartable child is listed, with 0 until it restarts.
        st.known_process("FIFO reader");
        for m in &hacf.media {
            for dir in ["write", "read"] {
                st.known_process(&format!("{dir}: {} {}", m.kind(), m.name()));
            }
        }
        for r in &hacf.respawn {
            st.known_process(&r.command);
        }
        st
    }

    /// Notes status changes (call after engine events).
    pub fn observe(&mut self, core: &Cluster) {
        let now = wall_now();
        for n in core.nodes() {
            let changed = !matches!(self.since.get(&n.name), Some((st, _)) if *st == n.status);
            if changed {
                self.since.insert(n.name, (n.status, now));
            }
        }
    }

    /// Counts a restart of a child process.
    pub fn restarted(&mut self, process: &str) {
        *self.restarts.entry(process.to_string()).or_insert(0) += 1;
    }

    /// Registers a child process whose restarts are reported (so its count shows as 0).
    pub fn known_process(&mut self, process: &str) {
        self.restarts.entry(process.to_string()).or_insert(0);
    }

    /// Whether the metrics file is due at `now` (monotonic ms); schedules the next write.
    pub fn metrics_due(&mut self, now: u64) -> Option<PathBuf> {
        let path = self.metrics_file.clone()?;
        if now < self.next_write {
            return None;
        }
        self.next_write = now + METRICS_INTERVAL_MS;
        Some(path)
    }

    /// Writes `text` to `path` atomically; returns a log line when the outcome changed
    /// (first failure, or working again).
    pub fn write_metrics(&mut self, path: &Path, text: &str) -> Option<(Prio, String)> {
        match write_atomically(path, text) {
            Ok(()) if self.write_failed => {
                self.write_failed = false;
                Some((
                    Prio::Info,
                    format!("metrics_file {}: written again", path.display()),
                ))
            }
            Ok(()) => None,
            Err(e) if !self.write_failed => {
                self.write_failed = true;
                Some((
                    Prio::Error,
                    format!(
                        "metrics_file {}: cannot write it ({e}); check that its directory \
                         exists and is writable by root",
                        path.display()
                    ),
                ))
            }
            Err(_) => None,
        }
    }
}

/// Temporary file in the same directory, then `rename` (atomic for readers).
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::write(&tmp, text).and_then(|()| {
        std::fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o644))
    });
    match result.and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// A reason's label value: snake_case.
fn drop_label(r: DropReason) -> &'static str {
    match r {
        DropReason::Malformed => "malformed",
        DropReason::BadAuth => "bad_auth",
        DropReason::MissingField => "missing_field",
        DropReason::BadSeq => "bad_seq",
        DropReason::BadTimestamp => "bad_timestamp",
        DropReason::BadGeneration => "bad_generation",
        DropReason::UnknownNode => "unknown_node",
        DropReason::Replay => "replay",
        DropReason::StaleStatus => "stale_status",
        DropReason::BadNak => "bad_nak",
        DropReason::Forged => "forged",
        DropReason::StaleEcho => "stale_echo",
    }
}

fn ms(v: u64) -> String {
    format!("{v} ms")
}

/// Everything besides the engine and ha.cf a snapshot is built from.
pub struct Sources<'a> {
    /// The resource manager (None with `-M`).
    pub rsc: Option<&'a ResourceManager>,
    /// What the master remembers.
    pub state: &'a ReportState,
    /// Connected API clients.
    pub api_clients: usize,
    /// The engine's clock now (monotonic ms).
    pub now_ms: u64,
}

/// Fills a snapshot; `rsc_hold` is the `getrsc` answer now.
pub fn snapshot(core: &Cluster, hacf: &HaCf, src: &Sources, rsc_hold: &str) -> Snapshot {
    let age = |t: u64| src.now_ms.saturating_sub(t) as f64 / 1000.0;
    let nodes = core
        .nodes()
        .into_iter()
        .map(|n| NodeSnap {
            kind: if n.kind == NodeKind::Ping {
                NodeType::Ping
            } else {
                NodeType::Normal
            },
            weight: Some(100),
            is_local: n.is_local,
            status_since: src.state.since.get(&n.name).map(|(_, t)| *t),
            last_status_age: n.last_status.map(age),
            dead_interval: Some(n.dead_interval as f64 / 1000.0),
            status: n.status,
            name: n.name,
        })
        .collect();
    let links = core
        .links()
        .into_iter()
        .map(|l| LinkSnap {
            last_packet_age: Some(age(l.last_packet)),
            node: l.node,
            medium: l.medium,
            up: l.up,
        })
        .collect();
    let c = core.counters();
    let packets = Packets {
        received: c.packets_in,
        sent: c.packets_out,
        retransmitted: c.rexmit_served,
        rexmit_requested: c.rexmit_requested,
        duplicates: c.duplicates,
        late_heartbeats: c.late_heartbeats,
        node_deaths: c.node_deaths,
        link_deaths: c.link_deaths,
        dropped: DropReason::ALL
            .iter()
            .map(|r| (drop_label(*r).to_string(), c.dropped(*r)))
            .collect(),
    };
    let resources = src.rsc.map(|r| {
        let report = r.report();
        Resources {
            rsc_hold: rsc_hold.to_string(),
            mode: Some(report.mode.to_string()),
            state: Some(report.state.to_string()),
            standby: report.standby.map(str::to_string),
            peer_holds: report.peer_holds.map(str::to_string),
            groups: report
                .groups
                .into_iter()
                .map(|g| GroupSnap {
                    reason: g.reason.to_string(),
                    key: g.key,
                    home: g.home,
                    held: Some(g.held),
                    starts: g.counters.starts,
                    takeovers: g.counters.takeovers,
                    start_failures: g.counters.start_failures,
                    stop_failures: g.counters.stop_failures,
                })
                .collect(),
            counted: true,
        }
    });
    let timings = vec![
        ("keepalive".to_string(), ms(hacf.keepalive_ms)),
        ("deadtime".to_string(), ms(hacf.deadtime_ms)),
        ("warntime".to_string(), ms(hacf.warntime_ms)),
        ("initdead".to_string(), ms(hacf.initdead_ms)),
        ("deadping".to_string(), ms(hacf.deadping_ms)),
        (
            "auto_failback".to_string(),
            match hacf.auto_failback {
                hb_config::AutoFailback::On => "on",
                hb_config::AutoFailback::Off => "off",
                hb_config::AutoFailback::Legacy => "legacy",
            }
            .to_string(),
        ),
        ("udpport".to_string(), hacf.udpport.to_string()),
        (
            "advertised deadtime".to_string(),
            ms(core.advertised_deadtime()),
        ),
    ];
    let events = hb_log::recent_lines();
    Snapshot {
        implementation: "heartbeat-rs".into(),
        version: format!(
            "{} (protocol {})",
            env!("CARGO_PKG_VERSION"),
            crate::version::HB_VERSION
        ),
        local: core.node_name().to_string(),
        wall_now: wall_now(),
        nodes,
        links,
        packets: Some(packets),
        resources,
        child_restarts: Some(
            src.state
                .restarts
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
        ),
        api_clients: Some(src.api_clients as u64),
        // Pause detection is not implemented yet: the histogram stays empty.
        pauses: Some(Pauses::none()),
        timings,
        events,
        unavailable: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metrics_file_is_replaced_whole() {
        let dir = std::env::temp_dir().join(format!("hb-report-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join("heartbeat.prom");
        write_atomically(&path, "a 1\n").expect("write");
        write_atomically(&path, "a 2\n").expect("rewrite");
        let text = std::fs::read_to_string(&path).expect("read");
        let leftovers = std::fs::read_dir(&dir).expect("list").count();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(text, "a 2\n");
        assert_eq!(leftovers, 1, "no temporary file left behind");
    }

    #[test]
    fn a_write_failure_is_logged_once() {
        let mut st = ReportState::default();
        let path = Path::new("/nonexistent-hb-dir/heartbeat.prom");
        assert!(st.write_metrics(path, "x").is_some());
        assert!(st.write_metrics(path, "x").is_none());
    }
}
