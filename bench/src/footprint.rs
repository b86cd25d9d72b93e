//! The `footprint` section: what an idle 2-node cluster costs per node.
//!
//! Both daemons run with the flavour's configuration (the VIP held by
//! nodea). After a settle time, every process of a node (everything in its
//! network namespace) is sampled twice, `window` apart, from `/proc`:
//! CPU time (nanoseconds on a CPU, the first field of `/proc/PID/schedstat`:
//! exact, where `utime + stime` counts 10 ms ticks), context switches
//! (`/proc/PID/status`, voluntary + involuntary: each is a wake-up) and,
//! at the end, PSS and RSS (`/proc/PID/smaps_rollup`) and the heap's RSS
//! (`[heap]` in `/proc/PID/smaps`). PSS splits pages shared between the
//! processes of a node (a forked daemon shares its text and much of its
//! data), so the node's PSS is the sum over its processes.

use std::collections::HashMap;
use std::time::Duration;

use hb_tests::{wait_for, Lan, Node, Result};

use crate::flavour::Flavour;

/// One process, sampled over the window.
#[derive(Debug, Clone, Default)]
pub struct ProcCost {
    /// `ps`-style title (`/proc/PID/cmdline`, NULs as spaces).
    pub title: String,
    /// Proportional set size, KiB.
    pub pss_kb: u64,
    /// Resident set size, KiB.
    pub rss_kb: u64,
    /// Resident heap, KiB.
    pub heap_kb: u64,
    /// CPU time in the window, nanoseconds.
    pub cpu_ns: u64,
    /// Context switches in the window.
    pub switches: u64,
}

/// A node's processes over the window.
#[derive(Debug, Clone, Default)]
pub struct NodeCost {
    /// Per process.
    pub procs: Vec<ProcCost>,
    /// Length of the window.
    pub window: Duration,
}

impl NodeCost {
    /// PSS of the whole node, MB (10^6 bytes).
    pub fn pss_mb(&self) -> f64 {
        self.procs.iter().map(|p| p.pss_kb).sum::<u64>() as f64 * 1024.0 / 1e6
    }

    /// CPU of the whole node, percent of one core.
    pub fn cpu_percent(&self) -> f64 {
        let ns: u64 = self.procs.iter().map(|p| p.cpu_ns).sum();
        percent(ns, self.window)
    }

    /// Context switches per second of the whole node.
    pub fn switches_per_sec(&self) -> f64 {
        let n: u64 = self.procs.iter().map(|p| p.switches).sum();
        n as f64 / self.window.as_secs_f64().max(1e-3)
    }
}

fn percent(ns: u64, window: Duration) -> f64 {
    ns as f64 / 1e9 / window.as_secs_f64().max(1e-3) * 100.0
}

fn read(path: String) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Time on a CPU in nanoseconds: the first field of `/proc/PID/schedstat`
/// (the scheduler's own sum, not sampled at ticks). Falls back to
/// `utime + stime` (fields 14 and 15 of `/proc/PID/stat`, 10 ms ticks) on a
/// kernel without schedstat.
fn cpu_ns(pid: u32) -> u64 {
    if let Some(ns) = read(format!("/proc/{pid}/schedstat"))
        .split_whitespace()
        .next()
        .and_then(|v| v.parse::<u64>().ok())
    {
        return ns;
    }
    let stat = read(format!("/proc/{pid}/stat"));
    // The command name (field 2) may hold spaces: count from its ')'.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return 0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14 → index 11.
    let get = |i: usize| f.get(i).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    // USER_HZ is 100 on every Linux ABI we run on.
    (get(11) + get(12)) * 10_000_000
}

fn status_field(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn switches(pid: u32) -> u64 {
    let s = read(format!("/proc/{pid}/status"));
    status_field(&s, "voluntary_ctxt_switches:") + status_field(&s, "nonvoluntary_ctxt_switches:")
}

fn memory(pid: u32) -> (u64, u64, u64) {
    let roll = read(format!("/proc/{pid}/smaps_rollup"));
    let pss = status_field(&roll, "Pss:");
    let rss = status_field(&roll, "Rss:");
    let smaps = read(format!("/proc/{pid}/smaps"));
    let mut heap = 0;
    let mut in_heap = false;
    for line in smaps.lines() {
        if line.contains(" [heap]") {
            in_heap = true;
        } else if let Some(v) = line.strip_prefix("Rss:") {
            if in_heap {
                // mlock can split the heap into several mappings: add them up.
                heap += v
                    .split_whitespace()
                    .next()
                    .and_then(|s| s.parse::<u64>().ok())
                    .unwrap_or(0);
                in_heap = false;
            }
        }
    }
    (pss, rss, heap)
}

fn title(pid: u32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let s: String = String::from_utf8_lossy(&raw)
        .replace('\0', " ")
        .trim()
        .to_string();
    if s.is_empty() {
        read(format!("/proc/{pid}/comm")).trim().to_string()
    } else {
        s
    }
}

/// Samples every process of `node` over `window`.
pub fn sample(node: &Node, window: Duration) -> NodeCost {
    let before: HashMap<u32, (u64, u64)> = node
        .pids()
        .into_iter()
        .map(|p| (p, (cpu_ns(p), switches(p))))
        .collect();
    std::thread::sleep(window);
    let mut procs = Vec::new();
    for pid in node.pids() {
        let Some(&(c0, s0)) = before.get(&pid) else {
            continue; // started during the window (a helper): not idle cost
        };
        let (pss_kb, rss_kb, heap_kb) = memory(pid);
        // For a closer look (which mapping costs what): HB_BENCH_SMAPS_DIR=dir.
        if let Some(dir) = std::env::var_os("HB_BENCH_SMAPS_DIR") {
            let dest = std::path::Path::new(&dir).join(format!("{pid}.smaps"));
            let body = format!("{}\n{}", title(pid), read(format!("/proc/{pid}/smaps")));
            let _ = std::fs::write(dest, body);
        }
        procs.push(ProcCost {
            title: title(pid),
            pss_kb,
            rss_kb,
            heap_kb,
            cpu_ns: cpu_ns(pid).saturating_sub(c0),
            switches: switches(pid).saturating_sub(s0),
        });
    }
    procs.sort_by(|a, b| a.title.cmp(&b.title));
    NodeCost { procs, window }
}

/// Starts `flavour` on a fresh 2-node Lan, lets it settle, and samples
/// both nodes at once (one thread each) over `window`.
pub fn measure(flavour: &Flavour, settle: Duration, window: Duration) -> Result<[NodeCost; 2]> {
    let lan = Lan::new(2)?;
    flavour.configure(&lan)?;
    for node in lan.nodes() {
        flavour.start(node)?;
    }
    wait_for(
        "the VIP on nodea",
        Duration::from_secs(60),
        Duration::from_millis(100),
        || {
            lan.node(0)
                .has_address("eth0", &crate::flavour::VIP.to_string())
        },
        String::new,
    )?;
    std::thread::sleep(settle);
    let (a, b) = std::thread::scope(|s| {
        let ta = s.spawn(|| sample(lan.node(0), window));
        let tb = s.spawn(|| sample(lan.node(1), window));
        (ta.join(), tb.join())
    });
    let (Ok(a), Ok(b)) = (a, b) else {
        return Err(hb_tests::Error::Invalid("sampling thread panicked".into()));
    };
    Ok([a, b])
}

/// The per-node table rows and, for `detail`, one row per process.
pub fn table(rows: &[(String, [NodeCost; 2])], detail: bool) -> String {
    let mut s = String::from(
        "| daemon | node | processes | PSS (MB) | RSS (MB) | CPU (% of one core) | wake-ups/s | CPU per wake-up (µs) |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for (label, nodes) in rows {
        for (i, n) in nodes.iter().enumerate() {
            let rss: u64 = n.procs.iter().map(|p| p.rss_kb).sum();
            s.push_str(&format!(
                "| {label} | node{} | {} | {:.2} | {:.2} | {:.3} | {:.1} | {:.0} |\n",
                ['a', 'b'][i],
                n.procs.len(),
                n.pss_mb(),
                rss as f64 * 1024.0 / 1e6,
                n.cpu_percent(),
                n.switches_per_sec(),
                // % of one core = 10^4 µs per second
                n.cpu_percent() * 1e4 / n.switches_per_sec().max(1e-3)
            ));
        }
    }
    if detail {
        s.push_str(
            "\n| daemon | process (nodea) | PSS (KiB) | RSS (KiB) | heap RSS (KiB) | CPU (%) | wake-ups/s |\n\
             |---|---|---|---|---|---|---|\n",
        );
        for (label, nodes) in rows {
            let n = &nodes[0];
            for p in &n.procs {
                s.push_str(&format!(
                    "| {label} | `{}` | {} | {} | {} | {:.3} | {:.1} |\n",
                    p.title,
                    p.pss_kb,
                    p.rss_kb,
                    p.heap_kb,
                    percent(p.cpu_ns, n.window),
                    p.switches as f64 / n.window.as_secs_f64().max(1e-3)
                ));
            }
        }
    }
    s
}
