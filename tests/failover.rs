//! Resources and failover, observed the way a client sees them (issue 5).
//!
//! Every scenario runs a 2-node [`Lan`] with the group
//! `nodea IPaddr2::198.18.0.100/24/eth0 hbtest` — a virtual IP and a small LSB script
//! (`hbtest`, written into each node's `/etc/ha.d/resource.d`) that records every call in
//! `/var/log/hbtest.log` and answers `status` with `running` / `stopped`. A prober in the
//! client namespace pings the VIP every 10 ms and records which MAC answered
//! (`bench/src/probe.rs`, shared with the failover benchmark), so the tests assert who serves
//! the address and how long the outage was, not just what the daemons logged.
//!
//! A crash is what `lab/fault.sh crash` does: every process of the node is frozen (SIGSTOP),
//! its link goes down, everything is SIGKILLed and the node "reboots" (volatile state and
//! extra addresses dropped). Timed assertions keep slack for a loaded CI machine but still pin
//! the order of magnitude (e.g. failover within deadtime + 100 ms, plus [`CI_SLACK`]).
//!
//! Mixed clusters pair our daemon with the real Heartbeat 3.0.6, which runs the real
//! `IPaddr2` script on its side while ours uses the native fast path.

#[path = "../bench/src/probe.rs"]
mod probe;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use hb_tests::{wait_for, ConfigBuilder, Daemon, Error, Lan, Node, Result, Signal};
use probe::{Mac, Probe};

const VIP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 100);
const GROUP: &str = "nodea IPaddr2::198.18.0.100/24/eth0 hbtest";
/// Fast timings for our clusters: keepalive, deadtime, warntime, initdead.
const FAST: [&str; 4] = ["200ms", "1", "600ms", "2"];
const DEADTIME: Duration = Duration::from_secs(1);
/// Extra time allowed on a shared, loaded test machine on top of a target figure.
const CI_SLACK: Duration = Duration::from_millis(400);
/// Bound for a cluster to start and place the VIP (the real daemon waits 10 s first).
const STARTUP: Duration = Duration::from_secs(40);
/// Bound for any one move of the VIP.
const MOVE: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(100);

/// The LSB test resource. `$HBTEST_MODE` is baked in per node: `ok`, `fail` (start exits 1)
/// or `hang` (start never returns).
fn lsb_script(mode: &str) -> String {
    format!(
        r#"#!/bin/sh
# hb-tests LSB resource script: records every call, keeps its state in /run.
STATE=/run/hbtest.state
echo "$(date +%s.%N) $*" >> /var/log/hbtest.log
case "$1" in
start)
    case "{mode}" in
    fail) echo "hbtest: refusing to start" >&2; exit 1 ;;
    hang) sleep 600 ;;
    esac
    touch "$STATE"; exit 0 ;;
stop) rm -f "$STATE"; exit 0 ;;
status) if [ -f "$STATE" ]; then echo "hbtest is running"; else echo "hbtest is stopped"; fi; exit 0 ;;
*) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
"#
    )
}

fn install_script(node: &Node, name: &str, text: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let path = node.host_path("/etc/ha.d")?.join("resource.d").join(name);
    std::fs::write(&path, text)
        .and_then(|()| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)))
        .map_err(|e| Error::Invalid(format!("write {}: {e}", path.display())))
}

/// The calls the LSB script recorded on `node` (`start`, `stop`, `status`).
fn script_calls(node: &Node) -> Vec<String> {
    node.host_path("/var/log/hbtest.log")
        .ok()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
        .collect()
}

/// Whether `hbtest` runs on `node` (its state file exists).
fn script_running(node: &Node) -> bool {
    node.host_path("/run/hbtest.state")
        .is_ok_and(|p| p.exists())
}

fn mac_of(node: &Node) -> Result<Mac> {
    let text = node.exec_ok(&["cat", "/sys/class/net/eth0/address"])?;
    probe::parse_mac(&text)
        .ok_or_else(|| Error::Invalid(format!("bad MAC {text:?} on {}", node.name())))
}

/// Whether the VIP is configured on `node`'s eth0.
fn has_vip(node: &Node) -> bool {
    node.exec_ok(&["ip", "-4", "-o", "addr", "show", "dev", "eth0"])
        .is_ok_and(|s| s.contains(&format!(" {VIP}/")))
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A 2-node cluster with the VIP group, its prober and the nodes' MACs.
struct Cluster {
    lan: Lan,
    probe: Probe,
    macs: [Mac; 2],
    daemons: [Daemon; 2],
}

impl Cluster {
    /// Configures both nodes (`tweak` adjusts the config), installs `hbtest` and starts
    /// the prober; the daemons are not started yet.
    fn new(daemons: [Daemon; 2], tweak: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Result<Cluster> {
        let lan = Lan::new(2)?;
        let cfg = tweak(ConfigBuilder::new(&lan.node_names()).resource(GROUP)).build();
        for node in lan.nodes() {
            node.apply(&cfg)?;
            install_script(node, "hbtest", &lsb_script("ok"))?;
        }
        let macs = [mac_of(lan.node(0))?, mac_of(lan.node(1))?];
        let probe = Probe::start(
            lan.client_netns(),
            VIP,
            Duration::from_millis(10),
            Duration::from_secs(600),
        )
        .map_err(Error::Invalid)?;
        Ok(Cluster {
            lan,
            probe,
            macs,
            daemons,
        })
    }

    fn node(&self, i: usize) -> &Node {
        self.lan.node(i)
    }

    fn start(&self, i: usize) -> Result<()> {
        self.node(i).start(self.daemons[i].clone())
    }

    fn start_all(&self) -> Result<Instant> {
        let t = Instant::now();
        self.start(0)?;
        self.start(1)?;
        Ok(t)
    }

    /// Everything useful when a wait fails: both logs' tails and the prober's last replies.
    fn detail(&self) -> String {
        let mut s = String::new();
        for n in self.lan.nodes() {
            s.push_str(&format!(
                "--- {} ha-log:\n{}\n--- {} hbtest calls: {:?}\n",
                n.name(),
                tail(&n.log_text(), 25),
                n.name(),
                script_calls(n)
            ));
        }
        let replies = self.probe.replies();
        let last: Vec<String> = replies
            .iter()
            .rev()
            .take(3)
            .map(|r| probe::mac_text(&r.mac))
            .collect();
        s.push_str(&format!(
            "--- probe: {} replies, last from {last:?}; nodea={} nodeb={}",
            replies.len(),
            probe::mac_text(&self.macs[0]),
            probe::mac_text(&self.macs[1])
        ));
        s
    }

    /// Waits until node `i` answers for the VIP after `t`; returns the delay.
    fn wait_owner(&self, i: usize, t: Instant, timeout: Duration) -> Result<Duration> {
        match self.probe.wait_from(&self.macs[i], t, timeout) {
            Some(r) => Ok(r.at.saturating_duration_since(t)),
            None => Err(Error::Timeout {
                what: format!("the VIP to answer from {}", self.node(i).name()),
                timeout,
                detail: self.detail(),
            }),
        }
    }

    /// Waits until the whole group runs on node `i` (VIP answered from it and `hbtest`
    /// started there) and nowhere else.
    fn wait_group_on(&self, i: usize, t: Instant, timeout: Duration) -> Result<Duration> {
        let d = self.wait_owner(i, t, timeout)?;
        let other = 1 - i;
        wait_for(
            &format!("the group to run on {} only", self.node(i).name()),
            timeout,
            POLL,
            || {
                script_running(self.node(i))
                    && !script_running(self.node(other))
                    && !has_vip(self.node(other))
            },
            || self.detail(),
        )?;
        Ok(d)
    }

    /// Asserts that for `window` after `t`, only node `i` answered (nothing moved).
    fn assert_stays(&self, i: usize, t: Instant, window: Duration) -> Result<()> {
        std::thread::sleep(window);
        let moved = self
            .probe
            .replies()
            .iter()
            .any(|r| r.at >= t && r.mac != self.macs[i]);
        let answered = self.probe.first_from(&self.macs[i], t).is_some();
        if moved || !answered {
            return Err(Error::Invalid(format!(
                "the VIP should have stayed on {}: {}",
                self.node(i).name(),
                self.detail()
            )));
        }
        Ok(())
    }

    /// Asserts that after node `to`'s first reply following `t`, the old owner never answered
    /// again (a clean hand-over: never both MACs).
    fn assert_clean_handover(&self, to: usize, t: Instant) -> Result<()> {
        let replies = self.probe.replies();
        let until = Instant::now();
        let a = probe::analyze(&replies, t, &self.macs[to], until).ok_or_else(|| {
            Error::Invalid(format!("{} never answered: {}", self.node(to).name(), self.detail()))
        })?;
        if a.others_after > 0 {
            return Err(Error::Invalid(format!(
                "both MACs answered for the VIP after the hand-over ({} replies from the old owner): {}",
                a.others_after,
                self.detail()
            )));
        }
        Ok(())
    }

    /// The lab's crash: freeze, link down, SIGKILL everything, reboot. Returns the fault time.
    fn crash(&self, i: usize) -> Result<Instant> {
        let node = self.node(i);
        let pids = node.pids();
        let t = Instant::now();
        for pid in pids {
            let _ = node.signal(pid, Signal::SIGSTOP);
        }
        node.cut("eth0")?;
        node.reset()?;
        Ok(t)
    }

    /// Brings a crashed node back (link up) and starts its daemon; returns when.
    fn restore(&self, i: usize) -> Result<Instant> {
        self.node(i).uncut("eth0")?;
        let t = Instant::now();
        self.start(i)?;
        Ok(t)
    }

    /// Runs an administrative command inside node `i` (e.g. the real `hb_standby`).
    fn admin(&self, i: usize, cmd: &[&str]) -> Result<Instant> {
        let t = Instant::now();
        let out = self.node(i).exec(cmd)?;
        if !out.status.success() {
            return Err(Error::Invalid(format!(
                "{cmd:?} on {} failed: {}{}",
                self.node(i).name(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(t)
    }

    /// Waits until both nodes report each other active and their resources stable.
    fn wait_stable(&self) -> Result<()> {
        for (i, node) in self.lan.nodes().iter().enumerate() {
            let peer = self.node(1 - i).name().to_string();
            wait_for(
                &format!("{} to see {peer} active with stable resources", node.name()),
                STARTUP,
                POLL,
                || {
                    node.cl_status(&["nodestatus", &peer]).is_ok_and(|s| s == "active")
                        && node
                            .cl_status(&["rscstatus"])
                            .is_ok_and(|s| s != "transition")
                },
                || self.detail(),
            )?;
        }
        Ok(())
    }
}

const HB_STANDBY: &str = "/usr/share/heartbeat/hb_standby";
const HB_TAKEOVER: &str = "/usr/share/heartbeat/hb_takeover";

fn ours() -> Result<Daemon> {
    Daemon::ours()
}

/// A starting node advertises deadtime + 2 s for its first 5 s (like the C daemon): a crash
/// is only judged against the configured deadtime after that.
fn settle(started: Instant) {
    let ready = started + Duration::from_millis(6_000);
    std::thread::sleep(ready.saturating_duration_since(Instant::now()));
}

fn fast(b: ConfigBuilder) -> ConfigBuilder {
    b.timings(FAST[0], FAST[1], FAST[2], FAST[3])
}

/// Startup places the group on nodea; a crash of nodea moves it to nodeb within
/// deadtime + 100 ms; with auto_failback on, nodea takes it back when it returns.
#[test]
fn ours_crash_failover_then_auto_failback() -> Result<()> {
    let c = Cluster::new([ours()?, ours()?], fast)?;
    let t0 = c.start_all()?;
    let up = c.wait_group_on(0, t0, STARTUP)?;
    eprintln!("startup to VIP: {up:?}");
    c.wait_stable()?;
    settle(t0);

    let t = c.crash(0)?;
    eprintln!("crash injected in {:?}", t.elapsed());
    for pat in ["is dead", "Taking over", "mach_down takeover complete"] {
        let _ = c.node(1).wait_for_log(pat, MOVE);
        eprintln!("{pat}: {:?}", t.elapsed());
    }
    let outage = c.wait_group_on(1, t, MOVE)?;
    eprintln!("crash failover outage: {outage:?}");
    assert!(
        outage <= DEADTIME + Duration::from_millis(100) + CI_SLACK,
        "failover took {outage:?} (deadtime {DEADTIME:?}): {}",
        c.detail()
    );
    c.node(1).wait_for_log("mach_down takeover complete", MOVE)?;

    let t = c.restore(0)?;
    let back = c.wait_group_on(0, t, STARTUP)?;
    eprintln!("failback after restart: {back:?}");
    c.assert_clean_handover(0, t)?;
    assert!(script_calls(c.node(1)).contains(&"stop".to_string()));
    Ok(())
}
