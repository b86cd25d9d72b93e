//! Reload without failover (issue 13, item 2; docs/behaviour.md §1.9.3, §1.10).
//!
//! The VIP owner (`nodea`, our daemon) runs the group `nodea IPaddr2::198.18.0.100/24/eth0
//! hbtest` with `keepalive 500ms`. Its ha.cf is changed to `keepalive 200ms` and `heartbeat -r`
//! is run on it: the daemon re-execs itself (`-R -C local`, same pid) with the new
//! configuration, keeping its resources. Asserted, against the real `cl_status` and a prober
//! pinging the VIP every 10 ms from the client namespace:
//!
//! * `cl_status hbparameter -p keepalive` says `200ms` afterwards;
//! * every ping sent after the reload was answered, by nodea only (no gap, no move);
//! * no resource script ran (`hbtest` saw no stop and no second start);
//! * the peer — ours, then the real Heartbeat 3.0.6 — logs no death, no restart, no
//!   partition, no late heartbeat of nodea and still sees it `active`.
//!
//! Then a broken ha.cf is refused by `heartbeat -r` and by a direct SIGHUP: the running
//! configuration (200ms) stays, the master keeps its pid and the peer notices nothing.
//! Finally `hb_standby` on nodea hands the group to the peer: the resumed resource state (and
//! the new FIFO reader) work with the peer like the original ones.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use hb_tests::probe::{Mac, Probe, Reply};
use hb_tests::{
    assert_no_failure, log_mark, pid_titled, wait_for, ConfigBuilder, Daemon, Error, Lan, Node,
    Signal,
};

/// Harness and I/O errors alike.
type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const VIP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 100);
const GROUP: &str = "nodea IPaddr2::198.18.0.100/24/eth0 hbtest";
/// Bound for the cluster to start and place the VIP (the real daemon waits 10 s first).
const STARTUP: Duration = Duration::from_secs(60);
/// Bound for the reload to take effect.
const APPLY: Duration = Duration::from_secs(20);
/// After the reload, how long the peer has to (wrongly) notice anything: two deadtimes.
const WATCH: Duration = Duration::from_secs(6);
/// Largest time between two consecutive VIP replies tolerated on a loaded machine (the
/// prober sends every 10 ms; a dropped address would cost at least the ARP/re-add time).
const MAX_REPLY_GAP: Duration = Duration::from_millis(400);
const POLL: Duration = Duration::from_millis(100);
/// A respawned client: stopped by the old image, started again by the new one.
const CLIENT: &str = "/bin/sleep 1000";
/// Debian's `hb_standby` (writes to the daemon's FIFO).
const HB_STANDBY: &str = "/usr/share/heartbeat/hb_standby";

/// An LSB script that records every call in `/var/log/hbtest.log`.
const HBTEST: &str = r#"#!/bin/sh
STATE=/run/hbtest.state
echo "$(date +%s.%N) $*" >> /var/log/hbtest.log
case "$1" in
start) touch "$STATE"; exit 0 ;;
stop) rm -f "$STATE"; exit 0 ;;
status) if [ -f "$STATE" ]; then echo "hbtest is running"; else echo "hbtest is stopped"; fi; exit 0 ;;
*) exit 2 ;;
esac
"#;

fn install_hbtest(node: &Node) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let path = node.host_path("/etc/ha.d")?.join("resource.d/hbtest");
    std::fs::write(&path, HBTEST)
        .and_then(|()| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)))
        .map_err(|e| format!("write {}: {e}", path.display()).into())
}

/// `start`/`stop` calls of `hbtest` on `node`, in order.
fn hbtest_calls(node: &Node) -> Vec<String> {
    node.host_path("/var/log/hbtest.log")
        .ok()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
        .filter(|c| c == "start" || c == "stop")
        .collect()
}

fn tail(text: &str, skip: usize) -> String {
    text.lines().skip(skip).collect::<Vec<_>>().join("\n")
}

/// Replies after `t`: the ICMP sequence numbers missing between the first and the last
/// one, the largest time between two consecutive replies, and replies from other MACs.
fn reply_gaps(replies: &[Reply], t: Instant, owner: &Mac) -> (usize, Duration, usize) {
    let after: Vec<&Reply> = replies.iter().filter(|r| r.at >= t).collect();
    let mut missing = 0usize;
    let mut widest = Duration::ZERO;
    for w in after.windows(2) {
        let step = w[1].seq.wrapping_sub(w[0].seq);
        missing += usize::from(step.saturating_sub(1));
        widest = widest.max(w[1].at.saturating_duration_since(w[0].at));
    }
    let others = after.iter().filter(|r| r.mac != *owner).count();
    (missing, widest, others)
}

fn keepalive(node: &Node) -> Option<String> {
    node.cl_status(&["hbparameter", "-p", "keepalive"]).ok()
}

fn reload_keeps_the_vip(peer: Daemon) -> Result<()> {
    let ours = Daemon::ours()?;
    let lan = Lan::new(2)?;
    let cfg = ConfigBuilder::new(&lan.node_names())
        .timings("500ms", "3", "2", "6")
        .resource(GROUP)
        .respawn("hacluster", CLIENT)
        .build();
    for node in lan.nodes() {
        node.apply(&cfg)?;
        install_hbtest(node)?;
    }
    let (a, b) = (lan.node(0), lan.node(1));
    let mac_a = a.mac("eth0")?;
    let mac_b = b.mac("eth0")?;
    let probe = Probe::start(
        lan.client_netns(),
        VIP,
        Duration::from_millis(10),
        Duration::from_secs(600),
    )
    .map_err(Error::Invalid)?;
    let detail = |skip: [usize; 2]| {
        format!(
            "--- nodea log:\n{}\n--- nodeb log:\n{}\n--- nodea hbtest calls: {:?}",
            tail(&a.log_text(), skip[0]),
            tail(&b.log_text(), skip[1]),
            hbtest_calls(a)
        )
    };

    let t0 = Instant::now();
    a.start(ours.clone())?;
    b.start(peer)?;
    probe.wait_from(&mac_a, t0, STARTUP).ok_or_else(|| {
        Error::Invalid(format!(
            "the VIP never answered from nodea: {}",
            detail([0, 0])
        ))
    })?;
    for (node, other) in [(a, "nodeb"), (b, "nodea")] {
        wait_for(
            &format!("{} to see {other} active, resources stable", node.name()),
            STARTUP,
            POLL,
            || {
                node.cl_status(&["nodestatus", other])
                    .is_ok_and(|s| s == "active")
                    && node
                        .cl_status(&["rscstatus"])
                        .is_ok_and(|s| s != "transition")
            },
            || detail([0, 0]),
        )?;
    }
    wait_for(
        "hbtest to run on nodea",
        STARTUP,
        POLL,
        || hbtest_calls(a) == ["start"],
        || detail([0, 0]),
    )?;
    // A starting node advertises a longer deadtime for its first seconds: let that pass so
    // the watch below judges against the configured deadtime.
    std::thread::sleep(Duration::from_secs(7).saturating_sub(t0.elapsed()));
    assert_eq!(keepalive(a).as_deref(), Some("500ms"), "{}", detail([0, 0]));
    let master = a.master_pid().ok_or("no master on nodea")?;
    let client =
        pid_titled(a, CLIENT).ok_or_else(|| format!("{CLIENT} is not running on nodea"))?;
    let rsc_before = a.cl_status(&["rscstatus"])?;

    // 1. A valid change, applied with `heartbeat -r`.
    let hacf = a.host_path("/etc/ha.d/ha.cf")?;
    let old = std::fs::read_to_string(&hacf)?;
    let new = old.replace("keepalive 500ms", "keepalive 200ms");
    assert_ne!(
        old, new,
        "the generated ha.cf has no `keepalive 500ms` line"
    );
    std::fs::write(&hacf, &new)?;
    let marks = [log_mark(a), log_mark(b)];
    let t = Instant::now();
    let bin = ours.binary().to_string_lossy().into_owned();
    let out = a.exec(&[bin.as_str(), "-r"])?;
    assert!(
        out.status.success(),
        "heartbeat -r failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_for(
        "cl_status to report keepalive 200ms on nodea",
        APPLY,
        POLL,
        || keepalive(a).as_deref() == Some("200ms"),
        || detail(marks),
    )?;
    let applied = t.elapsed();
    eprintln!("reload applied after {applied:?}");
    std::thread::sleep(WATCH);

    let log_a = tail(&a.log_text(), marks[0]);
    assert!(
        log_a.contains("Performing heartbeat restart exec.")
            && log_a.contains("Current resources: -R -C local"),
        "nodea did not re-exec with its resources: {}",
        detail(marks)
    );
    assert_eq!(
        a.master_pid(),
        Some(master),
        "the re-exec'd daemon must keep the pid"
    );
    let (missing, widest, others) = reply_gaps(&probe.replies(), t, &mac_a);
    eprintln!("after the reload: {missing} pings unanswered, widest gap {widest:?}");
    assert!(
        missing == 0 && widest <= MAX_REPLY_GAP && others == 0,
        "the VIP dropped or moved: {missing} unanswered pings, widest gap {widest:?}, \
         {others} replies from another MAC: {}",
        detail(marks)
    );
    assert_eq!(
        hbtest_calls(a),
        ["start"],
        "a resource script ran: {}",
        detail(marks)
    );
    let respawned = pid_titled(a, CLIENT);
    assert!(
        respawned.is_some_and(|p| p != client),
        "{CLIENT} was not restarted by the new image (before: {client}, now: {respawned:?}): {}",
        detail(marks)
    );
    assert!(a.has_address("eth0", &VIP.to_string()));
    assert_no_failure(b, "nodea", marks[1], false)?;
    assert!(
        !tail(&b.log_text(), marks[1]).contains("Status update for node nodea"),
        "the peer saw nodea's status change: {}",
        detail(marks)
    );
    assert_eq!(b.cl_status(&["nodestatus", "nodea"])?, "active");
    assert_eq!(a.cl_status(&["nodestatus", "nodeb"])?, "active");
    assert_eq!(a.cl_status(&["rscstatus"])?, rsc_before);

    // 2. A broken ha.cf: `heartbeat -r` refuses it, and so does a direct SIGHUP.
    std::fs::write(&hacf, format!("{new}frobnicate yes\n"))?;
    let marks = [log_mark(a), log_mark(b)];
    let out = a.exec(&[bin.as_str(), "-r"])?;
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success() && said.contains("NOT restarted") && said.contains("ha.cf:"),
        "heartbeat -r accepted a broken ha.cf: {said}"
    );
    a.signal(master, Signal::SIGHUP)?;
    a.wait_for_log(
        "Configuration reload refused: keeping the running configuration.",
        APPLY,
    )?;
    std::thread::sleep(WATCH);
    assert_eq!(keepalive(a).as_deref(), Some("200ms"), "{}", detail(marks));
    assert_eq!(a.master_pid(), Some(master));
    assert!(
        !tail(&a.log_text(), marks[0]).contains("restart exec"),
        "a broken ha.cf was applied: {}",
        detail(marks)
    );
    assert_no_failure(b, "nodea", marks[1], false)?;
    assert_eq!(b.cl_status(&["nodestatus", "nodea"])?, "active");
    let (missing, _, others) = reply_gaps(&probe.replies(), t, &mac_a);
    assert!(missing == 0 && others == 0, "{}", detail(marks));

    // 3. The resumed node still takes part in the resource protocol.
    let t = Instant::now();
    let out = a.exec(&[HB_STANDBY])?;
    assert!(out.status.success(), "hb_standby failed: {out:?}");
    probe.wait_from(&mac_b, t, STARTUP).ok_or_else(|| {
        format!(
            "hb_standby after the reload did not move the VIP to nodeb: {}",
            detail(marks)
        )
    })?;
    wait_for(
        "hbtest to stop on nodea",
        APPLY,
        POLL,
        || hbtest_calls(a) == ["start", "stop"],
        || detail(marks),
    )?;
    let _ = probe.stop();
    Ok(())
}

#[test]
fn reload_applies_keepalive_without_failover_ours() -> Result<()> {
    reload_keeps_the_vip(Daemon::ours()?)
}

#[test]
fn reload_applies_keepalive_without_failover_c_peer() -> Result<()> {
    reload_keeps_the_vip(Daemon::Real)
}

/// A package upgrade replaced the binary under the running daemon: a SIGHUP with a changed
/// ha.cf re-execs the file now at the daemon's path (like 3.0.6, which always execs
/// `/usr/libexec/heartbeat/heartbeat`), not the deleted one, and the peer notices nothing.
#[test]
fn reload_after_the_binary_was_replaced() -> Result<()> {
    let Daemon::Ours(original) = Daemon::ours()? else {
        return Err("Daemon::ours() is not ours".into());
    };
    let dir = original
        .parent()
        .ok_or("no target directory")?
        .join(format!("reload-upgrade-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let installed = dir.join("heartbeat");
    std::fs::copy(&original, &installed)?;
    let result = replaced_binary(&original, &installed);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn replaced_binary(original: &std::path::Path, installed: &std::path::Path) -> Result<()> {
    let lan = Lan::new(2)?;
    let cfg = ConfigBuilder::new(&lan.node_names())
        .timings("500ms", "3", "2", "6")
        .build();
    for node in lan.nodes() {
        node.apply(&cfg)?;
    }
    let (a, b) = (lan.node(0), lan.node(1));
    a.start(Daemon::Ours(installed.to_path_buf()))?;
    b.start(Daemon::ours()?)?;
    for (node, other) in [(a, "nodeb"), (b, "nodea")] {
        hb_tests::wait_active(node, other, STARTUP)?;
    }
    std::thread::sleep(Duration::from_secs(7));
    let master = a.master_pid().ok_or("no master on nodea")?;
    let exe = |pid: u32| std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
    // The upgrade: a new file renamed over the old one.
    let staged = installed.with_extension("new");
    std::fs::copy(original, &staged)?;
    std::fs::rename(&staged, installed)?;
    assert!(
        exe(master).to_string_lossy().ends_with(" (deleted)"),
        "{:?}",
        exe(master)
    );
    let hacf = a.host_path("/etc/ha.d/ha.cf")?;
    let text = std::fs::read_to_string(&hacf)?.replace("keepalive 500ms", "keepalive 200ms");
    std::fs::write(&hacf, text)?;
    let marks = [log_mark(a), log_mark(b)];
    a.signal(master, Signal::SIGHUP)?;
    wait_for(
        "cl_status to report keepalive 200ms on nodea",
        APPLY,
        POLL,
        || keepalive(a).as_deref() == Some("200ms"),
        || tail(&a.log_text(), marks[0]),
    )?;
    assert_eq!(a.master_pid(), Some(master));
    assert_eq!(
        exe(master),
        installed,
        "the new image runs the replaced file"
    );
    std::thread::sleep(WATCH);
    assert_no_failure(b, "nodea", marks[1], false)?;
    assert_eq!(b.cl_status(&["nodestatus", "nodea"])?, "active");
    Ok(())
}
