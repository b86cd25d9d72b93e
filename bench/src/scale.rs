//! The `scale` section: N nodes on one bridge (keepalive 1 s, bcast, no
//! resources), for N = 2, 4, 8, 16.
//!
//! Every node is started, then the time from the last start until every
//! node logged `Comm_now_up(): updating status to active` and `Link P:eth0
//! up.` for every peer P (everyone active and seeing everyone) is taken.
//! After a settle, every node's processes are sampled over the window (as
//! in the footprint section) and the datagrams on the LAN are counted at
//! the client namespace's interface (it receives every broadcast).

use std::time::{Duration, Instant};

use hb_tests::{wait_for, ConfigBuilder, Daemon, Error, Lan, Result};

use crate::footprint::{self, NodeCost};

/// One cluster size of one daemon.
#[derive(Debug, Clone)]
pub struct ScaleResult {
    /// Daemon label.
    pub label: String,
    /// Nodes.
    pub nodes: usize,
    /// Last start → all active and connected; None if it never happened.
    pub all_active: Option<Duration>,
    /// Per node over the window.
    pub costs: Vec<NodeCost>,
    /// Datagrams per second on the LAN.
    pub datagrams_per_sec: f64,
}

fn rx_packets(lan: &Lan) -> Result<u64> {
    let out = lan.client_exec(&["cat", "/sys/class/net/eth0/statistics/rx_packets"])?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|e| Error::Invalid(format!("rx_packets: {e}")))
}

/// Runs `n` nodes of `daemon` (ours: `Some(binary)`).
pub fn run(
    ours: Option<&std::path::Path>,
    n: usize,
    settle: Duration,
    window: Duration,
) -> Result<ScaleResult> {
    let lan = Lan::new(n)?;
    let cfg = ConfigBuilder::new(&lan.node_names())
        .timings("1", "3", "2", "6")
        .build();
    for node in lan.nodes() {
        node.apply(&cfg)?;
    }
    for node in lan.nodes() {
        node.start(match ours {
            Some(p) => Daemon::Ours(p.to_path_buf()),
            None => Daemon::Real,
        })?;
    }
    let last_start = Instant::now();
    let names = lan.node_names();
    let ready = || {
        lan.nodes().iter().all(|node| {
            let log = node.log_text();
            log.contains("Comm_now_up(): updating status to active")
                && names
                    .iter()
                    .filter(|p| p.as_str() != node.name())
                    .all(|p| log.contains(&format!("Link {p}:eth0 up.")))
        })
    };
    let all_active = wait_for(
        "every node active and seeing every other",
        Duration::from_secs(60),
        Duration::from_millis(20),
        ready,
        String::new,
    )
    .ok()
    .map(|()| last_start.elapsed());
    std::thread::sleep(settle);
    let rx0 = rx_packets(&lan)?;
    let t0 = Instant::now();
    let costs: Vec<NodeCost> = std::thread::scope(|s| {
        let handles: Vec<_> = lan
            .nodes()
            .iter()
            .map(|node| s.spawn(move || footprint::sample(node, window)))
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let rx1 = rx_packets(&lan)?;
    let datagrams_per_sec = rx1.saturating_sub(rx0) as f64 / t0.elapsed().as_secs_f64();
    Ok(ScaleResult {
        label: if ours.is_some() {
            "ours".into()
        } else {
            "heartbeat 3.0.6".into()
        },
        nodes: n,
        all_active,
        costs,
        datagrams_per_sec,
    })
}

/// The scale table: per-node figures are the mean (max) over the nodes.
pub fn table(rows: &[ScaleResult]) -> String {
    let mut s = String::from(
        "| daemon | nodes | last start → all active (ms) | PSS per node, MB: mean (max) | CPU per node, % of one core: mean (max) | wake-ups/s per node | datagrams/s on the LAN |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let k = r.costs.len().max(1) as f64;
        let pss: Vec<f64> = r.costs.iter().map(NodeCost::pss_mb).collect();
        let cpu: Vec<f64> = r.costs.iter().map(NodeCost::cpu_percent).collect();
        let wake: f64 = r.costs.iter().map(NodeCost::switches_per_sec).sum::<f64>() / k;
        let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
        s.push_str(&format!(
            "| {} | {} | {} | {:.2} ({:.2}) | {:.3} ({:.3}) | {:.1} | {:.1} |\n",
            r.label,
            r.nodes,
            r.all_active
                .map_or("not within 60 s".into(), |d| d.as_millis().to_string()),
            pss.iter().sum::<f64>() / k,
            max(&pss),
            cpu.iter().sum::<f64>() / k,
            max(&cpu),
            wake,
            r.datagrams_per_sec
        ));
    }
    s
}
