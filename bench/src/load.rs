//! The `load` section: timing under a machine saturated by
//! `stress-ng --cpu 8`, per setting.
//!
//! A 2-node cluster (VIP on nodea) settles, then `stress-ng --cpu 8` runs
//! on the host for the setting's duration while `tcpdump` in the client
//! namespace timestamps every heartbeat (UDP 694) or VRRP advert (IP
//! protocol 112) on the bridge. Counted afterwards: late heartbeats
//! (`Late heartbeat` lines), false node deaths (`node X: is dead`), link
//! deaths (`Link X:eth0 dead.`), pauses our daemon detected (`Process
//! pause detected`), keepalived's state changes (`Entering ... STATE`), and
//! the worst interval between two packets of one sender on the wire
//! (kernel timestamps from tcpdump).

use std::collections::HashMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hb_tests::{wait_for, ConfigBuilder, Daemon, Error, Lan, Result};

use crate::flavour::VIP;

/// A daemon at one timing.
#[derive(Debug, Clone)]
pub enum Setting {
    /// Heartbeat (ours: `Some(binary)`, 3.0.6: `None`) at keepalive /
    /// deadtime / warntime.
    Heartbeat {
        /// Our binary, or None for 3.0.6.
        ours: Option<PathBuf>,
        /// keepalive, deadtime, warntime in ha.cf syntax.
        timing: [&'static str; 3],
    },
    /// keepalived VRRPv3 at this advert interval (seconds).
    Keepalived(&'static str),
}

/// Our settings, 100 ms down to 2 ms (keepalive, deadtime, warntime).
pub const HEARTBEAT_TIMINGS: [[&str; 3]; 4] = [
    ["100ms", "500ms", "300ms"],
    ["10ms", "50ms", "30ms"],
    ["5ms", "25ms", "15ms"],
    ["2ms", "10ms", "6ms"],
];
/// keepalived's advert intervals (VRRPv3 allows centiseconds).
pub const ADVERTS: [&str; 2] = ["0.1", "0.01"];
/// The target setting of the pause-aware detection.
pub const TARGET: [&str; 3] = ["5ms", "25ms", "15ms"];

impl Setting {
    /// Row label.
    pub fn label(&self) -> String {
        match self {
            Setting::Heartbeat { ours, timing } => format!(
                "{} {} / {}",
                if ours.is_some() {
                    "ours"
                } else {
                    "heartbeat 3.0.6"
                },
                timing[0],
                timing[1]
            ),
            Setting::Keepalived(a) => format!("keepalived 2.2.7 advert {a} s"),
        }
    }

    /// Whether this is our daemon at the target setting.
    pub fn is_target(&self) -> bool {
        matches!(self, Setting::Heartbeat { ours: Some(_), timing } if *timing == TARGET)
    }

    fn configure(&self, lan: &Lan) -> Result<()> {
        match self {
            Setting::Heartbeat { timing, .. } => {
                let cfg = ConfigBuilder::new(&lan.node_names())
                    .timings(timing[0], timing[1], timing[2], "1")
                    .auto_failback("on")
                    .resource(&format!("nodea IPaddr2::{VIP}/24/eth0"))
                    .build();
                for node in lan.nodes() {
                    node.apply(&cfg)?;
                }
                Ok(())
            }
            Setting::Keepalived(advert) => {
                for (i, node) in lan.nodes().iter().enumerate() {
                    let dir = node.host_path("/etc/ha.d")?;
                    let conf = format!(
                        "global_defs {{\n    router_id {}\n    vrrp_version 3\n    enable_script_security\n}}\n\
                         vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    virtual_router_id 51\n    \
                         priority {}\n    advert_int {advert}\n    virtual_ipaddress {{\n        {VIP}/24 dev eth0\n    }}\n}}\n",
                        node.name(),
                        if i == 0 { 150 } else { 100 }
                    );
                    write(&dir.join("keepalived.conf"), &conf, 0o644)?;
                    write(
                        &dir.join("keepalived-run"),
                        "#!/bin/sh\nexec /usr/sbin/keepalived -n -l -D -f /etc/ha.d/keepalived.conf \
                         -p /run/heartbeat.pid -r /run/keepalived-vrrp.pid\n",
                        0o755,
                    )?;
                }
                Ok(())
            }
        }
    }

    fn start(&self, node: &hb_tests::Node) -> Result<()> {
        match self {
            Setting::Heartbeat { ours: Some(p), .. } => node.start(Daemon::Ours(p.clone())),
            Setting::Heartbeat { ours: None, .. } => node.start(Daemon::Real),
            Setting::Keepalived(_) => node.start(Daemon::Ours(
                node.host_path("/etc/ha.d")?.join("keepalived-run"),
            )),
        }
    }

    fn capture_filter(&self) -> &'static str {
        match self {
            Setting::Heartbeat { .. } => "udp port 694",
            Setting::Keepalived(_) => "ip proto 112",
        }
    }
}

fn write(path: &std::path::Path, text: &str, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text)
        .and_then(|()| std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)))
        .map_err(|e| Error::Invalid(format!("write {}: {e}", path.display())))
}

/// What one setting did under load.
#[derive(Debug, Clone, Default)]
pub struct LoadResult {
    /// Row label.
    pub label: String,
    /// Seconds under load.
    pub secs: u64,
    /// `Late heartbeat` lines, both nodes.
    pub late: usize,
    /// `node X: is dead` lines (Heartbeat) or keepalived state changes.
    pub false_deaths: usize,
    /// `Link X:eth0 dead.` lines.
    pub link_deaths: usize,
    /// `Process pause detected` lines (ours).
    pub pauses: usize,
    /// Worst gap between two packets of one sender, ms.
    pub worst_ms: f64,
    /// Packets captured.
    pub packets: usize,
    /// Steal time of the whole VM during the run, ms summed over CPUs
    /// (`/proc/stat`): time the hypervisor ran something else while our
    /// vCPUs had work. Nothing inside the machine can see or prevent it.
    pub steal_ms: u64,
    /// Longest pause our daemon reported, ms.
    pub worst_pause_ms: u64,
}

/// Steal time since boot, ms summed over CPUs (the 8th value of the `cpu`
/// line of `/proc/stat`, in USER_HZ = 100 ticks).
fn steal_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    stat.lines()
        .find(|l| l.starts_with("cpu "))
        .and_then(|l| l.split_whitespace().nth(8))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        * 10
}

/// The pause length in a `Process pause detected: ...` line, ms.
fn pause_ms(line: &str) -> Option<u64> {
    let rest = &line[line.find("Process pause detected")?..];
    let digits: String = rest
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// Kills (by PID) and reaps a child we started.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `setting` for `secs` under `stress-ng --cpu 8`.
pub fn run(setting: &Setting, secs: u64, aborted: &dyn Fn() -> bool) -> Result<LoadResult> {
    hb_tests::require_program("stress-ng", "stress-ng")?;
    hb_tests::require_program("tcpdump", "tcpdump")?;
    let lan = Lan::new(2)?;
    setting.configure(&lan)?;
    for node in lan.nodes() {
        setting.start(node)?;
    }
    wait_for(
        "the VIP on nodea",
        Duration::from_secs(60),
        Duration::from_millis(100),
        || lan.node(0).has_address("eth0", &VIP.to_string()),
        String::new,
    )?;
    std::thread::sleep(Duration::from_secs(3));
    // ha-log and the daemon's own output, each read from where it stood
    // when the load began (two files: one offset each).
    let sources = |i: usize| {
        let n = lan.node(i);
        [n.log_text(), n.daemon_output()]
    };
    let before = [sources(0).map(|t| t.len()), sources(1).map(|t| t.len())];
    let text = |i: usize, from: &[usize; 2]| {
        let [log, out] = sources(i);
        format!(
            "{}\n{}",
            log.get(from[0]..).unwrap_or(""),
            out.get(from[1]..).unwrap_or("")
        )
    };
    let cap_path = std::env::temp_dir().join(format!("hb-bench-load-{}.txt", std::process::id()));
    let cap_file = std::fs::File::create(&cap_path)
        .map_err(|e| Error::Invalid(format!("create {}: {e}", cap_path.display())))?;
    let tcpdump = Command::new("ip")
        .args(["netns", "exec", lan.client_netns(), "tcpdump"])
        .args(["-i", "eth0", "-n", "-tt", "-l", "-U", "-s", "64"])
        .arg(setting.capture_filter())
        .stdout(cap_file)
        .stderr(Stdio::null())
        .spawn()
        .map(Reaped)
        .map_err(|e| Error::Invalid(format!("tcpdump: {e}")))?;
    std::thread::sleep(Duration::from_millis(500));
    let stress = Command::new("stress-ng")
        .args(["--cpu", "8", "--timeout"])
        .arg(format!("{}s", secs + 5))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(Reaped)
        .map_err(|e| Error::Invalid(format!("stress-ng: {e}")))?;
    let t0 = Instant::now();
    let steal0 = steal_ms();
    while t0.elapsed() < Duration::from_secs(secs) && !aborted() {
        std::thread::sleep(Duration::from_millis(200));
    }
    let secs = t0.elapsed().as_secs();
    let steal = steal_ms().saturating_sub(steal0);
    drop(stress);
    std::thread::sleep(Duration::from_millis(300));
    drop(tcpdump);
    let mut r = LoadResult {
        label: setting.label(),
        secs,
        steal_ms: steal,
        ..LoadResult::default()
    };
    for (i, from) in before.iter().enumerate() {
        let t = text(i, from);
        let new = t.as_str();
        // For a closer look at what happened: HB_BENCH_LOG_DIR=dir keeps
        // each node's log of the run.
        if let Some(dir) = std::env::var_os("HB_BENCH_LOG_DIR") {
            let name = format!("{}-node{i}.log", r.label.replace([' ', '/'], "_"));
            let _ = std::fs::write(std::path::Path::new(&dir).join(name), new);
        }
        for line in new.lines() {
            if line.contains("Late heartbeat") {
                r.late += 1;
            }
            if line.contains(": is dead") || line.contains("Entering MASTER STATE") {
                r.false_deaths += 1;
            }
            if line.contains(":eth0 dead.") {
                r.link_deaths += 1;
            }
            if line.contains("Process pause detected") {
                r.pauses += 1;
                r.worst_pause_ms = r.worst_pause_ms.max(pause_ms(line).unwrap_or(0));
            }
        }
    }
    let (worst, packets) = worst_gap(&cap_path);
    let _ = std::fs::remove_file(&cap_path);
    r.worst_ms = worst;
    r.packets = packets;
    Ok(r)
}

/// Worst gap (ms) between two packets of one source in a `tcpdump -tt -n`
/// text capture, and the number of packets.
fn worst_gap(path: &std::path::Path) -> (f64, usize) {
    let Ok(f) = std::fs::File::open(path) else {
        return (0.0, 0);
    };
    let mut last: HashMap<String, f64> = HashMap::new();
    let (mut worst, mut n) = (0.0f64, 0);
    for line in std::io::BufReader::new(f).lines().map_while(|l| l.ok()) {
        let mut w = line.split_whitespace();
        let (Some(ts), Some(_ip), Some(src)) = (w.next(), w.next(), w.next()) else {
            continue;
        };
        let Ok(t) = ts.parse::<f64>() else {
            continue;
        };
        // 198.18.0.11.694 → 198.18.0.11 (VRRP lines have no port)
        let host: String = src.split('.').take(4).collect::<Vec<_>>().join(".");
        n += 1;
        if let Some(prev) = last.insert(host, t) {
            worst = worst.max((t - prev) * 1000.0);
        }
    }
    (worst, n)
}

/// The load table.
pub fn table(rows: &[LoadResult]) -> String {
    let mut s = String::from(
        "| daemon, keepalive / deadtime | s under load | late heartbeats | false deaths (keepalived: MASTER transitions) | link deaths | pauses detected (longest, ms) | worst wire interval (ms) | packets | VM steal time (ms) |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} ({}) | {:.1} | {} | {} |\n",
            r.label,
            r.secs,
            r.late,
            r.false_deaths,
            r.link_deaths,
            r.pauses,
            r.worst_pause_ms,
            r.worst_ms,
            r.packets,
            r.steal_ms
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_gap_is_per_sender() {
        let p = std::env::temp_dir().join(format!("hb-bench-gap-{}.txt", std::process::id()));
        std::fs::write(
            &p,
            "100.000 IP 198.18.0.11.694 > 198.18.0.255.694: UDP, length 150\n\
             100.004 IP 198.18.0.12.694 > 198.18.0.255.694: UDP, length 150\n\
             100.005 IP 198.18.0.11.694 > 198.18.0.255.694: UDP, length 150\n\
             100.0125 IP 198.18.0.11.694 > 198.18.0.255.694: UDP, length 150\n\
             100.010 IP 198.18.0.12.694 > 198.18.0.255.694: UDP, length 150\n\
             garbage\n\
             101.000 IP 198.18.0.11 > 224.0.0.18: VRRPv3, Advertisement\n",
        )
        .expect("write");
        let (worst, n) = worst_gap(&p);
        let _ = std::fs::remove_file(&p);
        assert_eq!(n, 6);
        assert!((worst - 987.5).abs() < 0.01, "{worst}");
    }

    #[test]
    fn pause_length_is_read_from_the_log_line() {
        let l = "Dec 03 16:00:00 nodea heartbeat: [12]: WARN: Process pause detected: heartbeat did not run for 47 ms; reading queued packets first";
        assert_eq!(pause_ms(l), Some(47));
        assert_eq!(pause_ms("Late heartbeat"), None);
    }
}
