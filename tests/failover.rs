//! Resources and failover, observed the way a client sees them (issue 5).
//!
//! Every scenario runs a 2-node [`Lan`] with the group
//! `nodea IPaddr2::198.18.0.100/24/eth0 hbtest` — a virtual IP and a small LSB script
//! (`hbtest`, written into each node's `/etc/ha.d/resource.d`) that records every call in
//! `/var/log/hbtest.log` and answers `status` with `running` / `stopped`. A prober in the
//! client namespace pings the VIP every 10 ms and records which MAC answered
//! (`hb_tests::probe`, shared with the failover benchmark), so the tests assert who serves
//! the address and how long the outage was, not just what the daemons logged.
//!
//! A crash is what `lab/fault.sh crash` does: every process of the node is frozen (SIGSTOP),
//! its link goes down, everything is SIGKILLed and the node "reboots" (volatile state and
//! extra addresses dropped). Timed assertions keep slack for a loaded CI machine but still pin
//! the order of magnitude (e.g. failover within deadtime + 100 ms, plus [`CI_SLACK`]).
//!
//! Mixed clusters pair our daemon with the real Heartbeat 3.0.6, which runs the real
//! `IPaddr2` script on its side while ours uses the native fast path.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use hb_tests::probe::{self, Mac, Probe};
use hb_tests::{wait_for, ConfigBuilder, Daemon, Error, Lan, Node, Result, Signal};

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

/// An LSB test resource named `name`: records every call in `/var/log/<name>.log`, keeps its
/// state in `/run/<name>.state` (so a crash, which empties `/run`, stops it) and answers
/// `status` with `… is running` / `… is stopped`. `mode`: `ok`, `fail` (start exits 1) or
/// `hang` (start never returns).
fn lsb_script(name: &str, mode: &str) -> String {
    format!(
        r#"#!/bin/sh
# hb-tests LSB resource script {name} ({mode})
STATE=/run/{name}.state
echo "$(date +%s.%N) $*" >> /var/log/{name}.log
case "$1" in
start)
    case "{mode}" in
    fail) echo "{name}: refusing to start" >&2; exit 1 ;;
    hang) sleep 600 ;;
    esac
    touch "$STATE"; exit 0 ;;
stop) rm -f "$STATE"; exit 0 ;;
status) if [ -f "$STATE" ]; then echo "{name} is running"; else echo "{name} is stopped"; fi; exit 0 ;;
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

/// The calls the `hbtest` script recorded on `node` (`start`, `stop`, `status`).
fn script_calls(node: &Node) -> Vec<String> {
    calls_of(node, "hbtest")
}

/// The calls script `name` recorded on `node`.
fn calls_of(node: &Node, name: &str) -> Vec<String> {
    node.host_path(&format!("/var/log/{name}.log"))
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
    fn new(
        daemons: [Daemon; 2],
        tweak: impl FnOnce(ConfigBuilder) -> ConfigBuilder,
    ) -> Result<Cluster> {
        let lan = Lan::new(2)?;
        let cfg = tweak(ConfigBuilder::new(&lan.node_names()).resource(GROUP)).build();
        for node in lan.nodes() {
            node.apply(&cfg)?;
            install_script(node, "hbtest", &lsb_script("hbtest", "ok"))?;
        }
        let macs = [node_mac(lan.node(0))?, node_mac(lan.node(1))?];
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
                    && !holds_vip(self.node(other))
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
            Error::Invalid(format!(
                "{} never answered: {}",
                self.node(to).name(),
                self.detail()
            ))
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
                    node.cl_status(&["nodestatus", &peer])
                        .is_ok_and(|s| s == "active")
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
    let outage = c.wait_group_on(1, t, MOVE)?;
    eprintln!("crash failover outage: {outage:?}");
    assert!(
        outage <= DEADTIME + Duration::from_millis(100) + CI_SLACK,
        "failover took {outage:?} (deadtime {DEADTIME:?}): {}",
        c.detail()
    );
    c.node(1)
        .wait_for_log("mach_down takeover complete", MOVE)?;
    assert!(
        c.node(1)
            .log_text()
            .contains("Running IPaddr2 198.18.0.100/24/eth0 start (native)"),
        "our daemon should take the native IP path: {}",
        c.detail()
    );

    let t = c.restore(0)?;
    let back = c.wait_group_on(0, t, STARTUP)?;
    eprintln!("failback after restart: {back:?}");
    c.assert_clean_handover(0, t)?;
    assert!(script_calls(c.node(1)).contains(&"stop".to_string()));
    Ok(())
}

/// auto_failback off: after a crash and restart of nodea the group stays on nodeb; then
/// `hb_takeover` on nodea pulls it back and `hb_standby` on nodea gives it away again.
#[test]
fn ours_failback_off_then_takeover_and_standby() -> Result<()> {
    let c = Cluster::new([ours()?, ours()?], |b| fast(b).auto_failback("off"))?;
    let t0 = c.start_all()?;
    c.wait_group_on(0, t0, STARTUP)?;
    c.wait_stable()?;
    settle(t0);

    let t = c.crash(0)?;
    c.wait_group_on(1, t, MOVE)?;
    let t = c.restore(0)?;
    c.wait_stable()?;
    c.assert_stays(1, t, Duration::from_secs(3))?;
    assert!(!script_running(c.node(0)), "{}", c.detail());

    let t = c.admin(0, &[HB_TAKEOVER])?;
    let d = c.wait_group_on(0, t, MOVE)?;
    eprintln!("hb_takeover: {d:?}");
    c.assert_clean_handover(0, t)?;
    c.wait_stable()?;

    let t = c.admin(0, &[HB_STANDBY])?;
    let d = c.wait_group_on(1, t, MOVE)?;
    eprintln!("hb_standby switchover: {d:?}");
    c.assert_clean_handover(1, t)?;
    Ok(())
}

/// auto_failback on: `hb_standby` and `hb_takeover` move the group back and forth, and a
/// graceful stop (`heartbeat -k`) of the owner hands it over without both nodes ever answering.
#[test]
fn ours_standby_takeover_and_graceful_stop() -> Result<()> {
    let c = Cluster::new([ours()?, ours()?], fast)?;
    let t0 = c.start_all()?;
    c.wait_group_on(0, t0, STARTUP)?;
    c.wait_stable()?;

    let t = c.admin(0, &[HB_STANDBY])?;
    let d = c.wait_group_on(1, t, MOVE)?;
    eprintln!("hb_standby switchover: {d:?}");
    c.assert_clean_handover(1, t)?;
    assert!(
        d <= Duration::from_millis(60) + CI_SLACK,
        "hb_standby took {d:?}: {}",
        c.detail()
    );
    c.wait_stable()?;

    let t = c.admin(0, &[HB_TAKEOVER])?;
    c.wait_group_on(0, t, MOVE)?;
    c.assert_clean_handover(0, t)?;
    c.wait_stable()?;

    let t = Instant::now();
    c.node(0).stop()?;
    let d = c.wait_group_on(1, t, MOVE)?;
    eprintln!("heartbeat -k hand-over: {d:?}");
    c.assert_clean_handover(1, t)?;
    c.node(1)
        .wait_for_log("Received shutdown notice from 'nodea'.", MOVE)?;
    assert_eq!(
        calls_of(c.node(0), "hbtest").last().map(String::as_str),
        Some("stop")
    );
    Ok(())
}

/// One mixed cluster, every move: startup, hb_standby, hb_takeover, `heartbeat -k`, restart
/// with auto failback, crash. With `daemons` swapped, each move runs in both directions.
fn mixed_moves(daemons: [Daemon; 2]) -> Result<()> {
    let c = Cluster::new(daemons, fast)?;
    let t0 = c.start_all()?;
    c.wait_group_on(0, t0, STARTUP)?;
    c.wait_stable()?;

    let t = c.admin(0, &[HB_STANDBY])?;
    c.wait_group_on(1, t, MOVE)?;
    c.assert_clean_handover(1, t)?;
    c.wait_stable()?;

    let t = c.admin(0, &[HB_TAKEOVER])?;
    c.wait_group_on(0, t, MOVE)?;
    c.assert_clean_handover(0, t)?;
    c.wait_stable()?;

    let t = Instant::now();
    c.node(0).stop()?;
    c.wait_group_on(1, t, MOVE)?;
    c.assert_clean_handover(1, t)?;

    let t = c.restore(0)?;
    c.wait_group_on(0, t, STARTUP)?;
    c.assert_clean_handover(0, t)?;
    c.wait_stable()?;
    settle(t);

    let t = c.crash(0)?;
    let outage = c.wait_group_on(1, t, MOVE)?;
    eprintln!(
        "mixed crash failover to {}: {outage:?}",
        c.daemons[1].label()
    );
    // The real daemon runs the IPaddr2 script (≈ 150 ms), ticks more coarsely and, on a
    // loaded machine, has been seen at 2.5 s (it does not run its scripts at realtime
    // priority): this bounds the C peer's takeover loosely; our own is bounded tightly.
    let bound = match c.daemons[1] {
        Daemon::Real => DEADTIME + Duration::from_millis(3000) + CI_SLACK,
        Daemon::Ours(_) => DEADTIME + Duration::from_millis(100) + CI_SLACK,
    };
    assert!(outage <= bound, "failover took {outage:?}: {}", c.detail());
    Ok(())
}

#[test]
fn mixed_real_nodea_ours_nodeb() -> Result<()> {
    mixed_moves([Daemon::Real, ours()?])
}

#[test]
fn mixed_ours_nodea_real_nodeb() -> Result<()> {
    mixed_moves([ours()?, Daemon::Real])
}

/// A one-node cluster of ours with `haresources` line `group`, extra ha.cf lines and scripts
/// (`name`, mode) installed; started. Returns the Lan.
fn single(group: &str, extra: &[&str], scripts: &[(&str, &str)]) -> Result<Lan> {
    let lan = Lan::new(1)?;
    let mut b = fast(ConfigBuilder::new(&lan.node_names())).resource(group);
    for e in extra {
        b = b.extra(e);
    }
    let node = lan.node(0);
    node.apply(&b.build())?;
    for (name, mode) in scripts {
        install_script(node, name, &lsb_script(name, mode))?;
    }
    node.start(ours()?)?;
    Ok(lan)
}

fn process_running(node: &Node, cmdline: &str) -> bool {
    node.pids().into_iter().any(|pid| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).replace('\0', " ").trim() == cmdline)
    })
}

/// A start that hangs is killed at HEARTBEAT_RSC_TIMEOUT (an ha.cf `env` line here), logged,
/// and the group is released: nothing of it stays up, not even the script's children.
#[test]
fn ours_hanging_script_is_killed_at_its_timeout() -> Result<()> {
    let lan = single(
        "nodea IPaddr2::198.18.0.100/24/eth0 hbhang",
        &["env HEARTBEAT_RSC_TIMEOUT=2"],
        &[("hbhang", "hang")],
    )?;
    let a = lan.node(0);
    // (the helper logs its lines when the group operation ends, so watch processes)
    wait_for(
        "the hanging script's sleep to appear",
        STARTUP,
        Duration::from_millis(20),
        || process_running(a, "sleep 600"),
        || tail(&a.log_text(), 20),
    )?;
    let started = Instant::now();
    a.wait_for_log(
        "start timed out after 2000 ms: killed its process group",
        MOVE,
    )?;
    let killed_after = started.elapsed();
    assert!(
        killed_after < Duration::from_secs(4),
        "killed after {killed_after:?}, timeout 2 s"
    );
    a.wait_for_log("Giving up resources due to failure of hbhang", MOVE)?;
    wait_for(
        "the group to be released",
        MOVE,
        POLL,
        || !holds_vip(a) && !process_running(a, "sleep 600"),
        || tail(&a.log_text(), 20),
    )?;
    assert_eq!(calls_of(a, "hbhang"), ["status", "start", "stop"]);
    Ok(())
}

/// A resource that fails to start is reported and the group is not left half started: what
/// was started before it is stopped again, right to left.
#[test]
fn ours_failed_start_releases_the_whole_group() -> Result<()> {
    let lan = single(
        "nodea IPaddr2::198.18.0.100/24/eth0 hbtest hbfail",
        &[],
        &[("hbtest", "ok"), ("hbfail", "fail")],
    )?;
    let a = lan.node(0);
    a.wait_for_log("Return code 1 from /etc/ha.d/resource.d/hbfail", STARTUP)?;
    a.wait_for_log("Giving up resources due to failure of hbfail", MOVE)?;
    wait_for(
        "the group to be released",
        MOVE,
        POLL,
        || {
            !holds_vip(a)
                && !script_running(a)
                && calls_of(a, "hbtest").last().is_some_and(|c| c == "stop")
        },
        || tail(&a.log_text(), 20),
    )?;
    assert_eq!(calls_of(a, "hbtest"), ["status", "start", "stop"]);
    assert_eq!(calls_of(a, "hbfail"), ["status", "start", "stop"]);
    let log = a.log_text();
    let released = log.find("Releasing resource group").unwrap_or(0);
    let fail_stop = log[released..].find("hbfail  stop");
    let ok_stop = log[released..].find("hbtest  stop");
    assert!(
        fail_stop < ok_stop && ok_stop.is_some(),
        "stop order:\n{log}"
    );
    Ok(())
}

/// `env HEARTBEAT_NATIVE_IP=no` in ha.cf makes our daemon run the IPaddr2 script instead of
/// the native path, with the same result.
#[test]
fn ours_native_ip_can_be_switched_off() -> Result<()> {
    let lan = single(
        "nodea IPaddr2::198.18.0.100/24/eth0 hbtest",
        &["env HEARTBEAT_NATIVE_IP=no"],
        &[("hbtest", "ok")],
    )?;
    let a = lan.node(0);
    wait_for(
        "the group to start",
        STARTUP,
        POLL,
        || holds_vip(a) && script_running(a),
        || tail(&a.log_text(), 20),
    )?;
    let log = a.log_text();
    assert!(
        log.contains("Running /etc/ha.d/resource.d/IPaddr2 198.18.0.100/24/eth0 start")
            && !log.contains("(native)"),
        "{log}"
    );
    let ping = lan.client_exec(&["ping", "-c", "1", "-W", "2", "198.18.0.100"])?;
    assert!(
        ping.status.success(),
        "the VIP does not answer: {}",
        tail(&log, 20)
    );
    Ok(())
}

fn node_mac(node: &Node) -> Result<Mac> {
    node.mac("eth0")
}

fn holds_vip(node: &Node) -> bool {
    node.has_address("eth0", &VIP.to_string())
}
