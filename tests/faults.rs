//! Fault scenarios of issue 8 that need nothing but membership: crashed children, cut media,
//! lossy and slow networks, and clocks that are far from the host's.
//!
//! Each scenario is written once and run for our daemon against ours and against the real
//! Heartbeat 3.0.6. The pass condition is always what the *peer* saw: no death, no partition,
//! no restart (and, where the scenario says so, no late heartbeat). See `docs/reliability.md`.
//!
//! `HB_SOAK=1` runs the loss and delay scenarios for 120 s instead of 60 s / 30 s.

use std::net::SocketAddrV4;
use std::time::{Duration, Instant};

use hb_tests::{
    assert_no_failure, log_mark, ours, pid_titled, titles, wait_active, wait_for, ConfigBuilder,
    Daemon, Delay, DelayRelay, Direction, Lan, LanSpec, Node, Signal, CLIENT_IP,
};

/// Harness and I/O errors alike.
type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const CONVERGE: Duration = Duration::from_secs(40);
const POLL: Duration = Duration::from_millis(100);

fn soak() -> bool {
    std::env::var("HB_SOAK").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Starts `daemons` on the first two nodes (already configured) and waits until each sees
/// the other active.
fn start_pair(lan: &Lan, daemons: [Daemon; 2]) -> Result<()> {
    let (a, b) = (lan.node(0), lan.node(1));
    a.start(daemons[0].clone())?;
    b.start(daemons[1].clone())?;
    wait_active(a, b.name(), CONVERGE)?;
    Ok(wait_active(b, a.name(), CONVERGE)?)
}

/// Both nodes still report each other active (the end of every survival scenario).
fn both_still_active(a: &Node, b: &Node) -> Result<()> {
    for (x, y) in [(a, b), (b, a)] {
        let st = x.cl_status(&["nodestatus", y.name()])?;
        if st != "active" {
            return Err(format!("{} reports {} as {st:?}", x.name(), y.name()).into());
        }
    }
    Ok(())
}

// ----- 1. kill -9 of every child role ---------------------------------------------------

/// nodea (ours) has two media and a respawned client; each of its children is SIGKILLed in
/// turn and must be back under a new pid, while the peer sees no change at all.
fn children_killed(peer: Daemon) -> Result<()> {
    let lan = Lan::new(2)?;
    let (a, b) = (lan.node(0), lan.node(1));
    let client = a.host_path("/etc/ha.d/sleeper")?;
    std::fs::write(&client, "#!/bin/sh\nexec sleep 600\n")?;
    std::fs::set_permissions(&client, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    for (node, other) in [(a, b), (b, a)] {
        let mut cfg = ConfigBuilder::new(&lan.node_names())
            .timings("500ms", "3", "2", "6")
            .bcast("eth0")
            .ucast("eth0", other.ip())
            .auto_failback("legacy");
        if node.name() == "nodea" {
            cfg = cfg.respawn("hacluster", "/etc/ha.d/sleeper");
        }
        node.apply(&cfg.build())?;
    }
    start_pair(&lan, [ours()?, peer])?;
    let mark = log_mark(b);
    let sleeper = || {
        titles(a)
            .into_iter()
            .find(|(_, t)| t == "sleep 600")
            .map(|(p, _)| p)
    };
    wait_for(
        "the respawned client",
        CONVERGE,
        POLL,
        || sleeper().is_some(),
        || format!("{:?}", titles(a)),
    )?;
    let roles = [
        "heartbeat: FIFO reader",
        "heartbeat: write: bcast eth0",
        "heartbeat: read: bcast eth0",
        "heartbeat: write: ucast eth0",
        "heartbeat: read: ucast eth0",
    ];
    for title in roles {
        let old = pid_titled(a, title)
            .ok_or_else(|| hb_tests::Error::Invalid(format!("no {title}: {:?}", titles(a))))?;
        a.signal(old, Signal::SIGKILL)?;
        wait_for(
            &format!("{title} to come back"),
            Duration::from_secs(5),
            Duration::from_millis(20),
            || pid_titled(a, title).is_some_and(|p| p != old),
            || format!("{:?}", titles(a)),
        )?;
    }
    let old = sleeper().unwrap_or(0);
    a.signal(old, Signal::SIGKILL)?;
    wait_for(
        "the respawned client to be restarted",
        Duration::from_secs(10),
        POLL,
        || sleeper().is_some_and(|p| p != old),
        || format!("{:?}", titles(a)),
    )?;
    a.wait_for_log(
        "Respawning client \"/etc/ha.d/sleeper\":",
        Duration::from_secs(5),
    )?;
    // Two deadtimes after the last kill: long enough for any missed heartbeat to show.
    std::thread::sleep(Duration::from_secs(6));
    assert_no_failure(b, "nodea", mark, false)?;
    let peer_log: Vec<String> = b
        .log_text()
        .lines()
        .skip(mark)
        .filter(|l| l.contains("nodea") && (l.contains("Status update") || l.contains("dead")))
        .map(str::to_string)
        .collect();
    assert!(peer_log.is_empty(), "the peer saw changes: {peer_log:?}");
    both_still_active(a, b)
}

#[test]
fn s1_children_killed_ours_ours() -> Result<()> {
    children_killed(ours()?)
}

#[test]
fn s1_children_killed_ours_real() -> Result<()> {
    children_killed(Daemon::Real)
}

// ----- 3. one of two media cut, then both -----------------------------------------------

fn media_cut(daemons: [Daemon; 2]) -> Result<()> {
    let lan = Lan::with_spec(LanSpec {
        nodes: 2,
        second_lan: true,
    })?;
    let cfg = ConfigBuilder::new(&lan.node_names())
        .timings("500ms", "3", "2", "6")
        .bcast("eth0")
        .bcast("eth1")
        .build();
    for n in lan.nodes() {
        n.apply(&cfg)?;
    }
    start_pair(&lan, daemons)?;
    let (a, b) = (lan.node(0), lan.node(1));
    // A link starts dead and only an up → dead change is logged: cut only once both nodes
    // have heard each other on eth1.
    a.wait_for_log("Link nodeb:eth1 up.", Duration::from_secs(10))?;
    b.wait_for_log("Link nodea:eth1 up.", Duration::from_secs(10))?;
    let marks = [log_mark(a), log_mark(b)];
    b.cut("eth1")?;
    a.wait_for_log("Link nodeb:eth1 dead.", Duration::from_secs(10))?;
    b.wait_for_log("Link nodea:eth1 dead.", Duration::from_secs(10))?;
    // Another deadtime and a half on one medium: nobody dies.
    std::thread::sleep(Duration::from_millis(4500));
    assert_no_failure(a, "nodeb", marks[0], false)?;
    assert_no_failure(b, "nodea", marks[1], false)?;
    both_still_active(a, b)?;
    b.cut("eth0")?;
    a.wait_for_log("node nodeb: is dead", Duration::from_secs(10))?;
    b.wait_for_log("node nodea: is dead", Duration::from_secs(10))?;
    Ok(())
}

#[test]
fn s3_media_cut_ours_ours() -> Result<()> {
    media_cut([ours()?, ours()?])
}

#[test]
fn s3_media_cut_real_ours() -> Result<()> {
    media_cut([Daemon::Real, ours()?])
}

// ----- 5. loss and delay ----------------------------------------------------------------

/// keepalive 100 ms, deadtime 1 s (10×), warntime 500 ms.
fn fast_timings(b: ConfigBuilder) -> ConfigBuilder {
    b.timings("100ms", "1", "500ms", "5")
}

/// Runs for `length`, checking every second that nobody died (fails early).
fn survive(a: &Node, b: &Node, marks: [usize; 2], length: Duration) -> Result<()> {
    let end = Instant::now() + length;
    while Instant::now() < end {
        std::thread::sleep(Duration::from_secs(1));
        assert_no_failure(a, b.name(), marks[0], true)?;
        assert_no_failure(b, a.name(), marks[1], true)?;
    }
    both_still_active(a, b)
}

fn loss_30(daemons: [Daemon; 2]) -> Result<()> {
    let lan = Lan::new(2)?;
    let cfg = fast_timings(ConfigBuilder::new(&lan.node_names()).bcast("eth0")).build();
    for n in lan.nodes() {
        n.apply(&cfg)?;
    }
    start_pair(&lan, daemons)?;
    let (a, b) = (lan.node(0), lan.node(1));
    let marks = [log_mark(a), log_mark(b)];
    // On nodeb's interface, both ways: every packet between the two has a 30 % chance to die.
    b.loss_dir("eth0", 30, Direction::Both)?;
    let length = Duration::from_secs(if soak() { 120 } else { 60 });
    let r = survive(a, b, marks, length);
    b.clear_loss("eth0")?;
    r?;
    // The loss was real: the engine noticed gaps (ours logs lost packets, as the C does).
    let lost = [a, b]
        .iter()
        .map(|n| {
            n.log_text()
                .lines()
                .filter(|l| l.contains("lost packet(s) for"))
                .count()
        })
        .sum::<usize>();
    assert!(
        lost > 0,
        "30 % loss for {length:?} left no trace in either log"
    );
    Ok(())
}

#[test]
fn s5_loss_30_percent_ours_ours() -> Result<()> {
    loss_30([ours()?, ours()?])
}

#[test]
fn s5_loss_30_percent_real_ours() -> Result<()> {
    loss_30([Daemon::Real, ours()?])
}

/// Both nodes unicast to the relay in the client namespace, which forwards to the other node
/// 50 ms ± 20 ms later (reordering included).
fn delayed(daemons: [Daemon; 2]) -> Result<()> {
    let lan = Lan::new(2)?;
    let cfg = fast_timings(ConfigBuilder::new(&lan.node_names()).ucast("eth0", CLIENT_IP)).build();
    for n in lan.nodes() {
        n.apply(&cfg)?;
    }
    let (a, b) = (lan.node(0), lan.node(1));
    let length = Duration::from_secs(if soak() { 120 } else { 30 });
    let relay = DelayRelay::start(
        lan.client_netns(),
        SocketAddrV4::new(CLIENT_IP, 694),
        SocketAddrV4::new(a.ip(), 694),
        SocketAddrV4::new(b.ip(), 694),
        Delay {
            base: Duration::from_millis(50),
            jitter: Duration::from_millis(20),
            seed: 5,
        },
        length + CONVERGE + Duration::from_secs(30),
    )?;
    start_pair(&lan, daemons)?;
    let marks = [log_mark(a), log_mark(b)];
    survive(a, b, marks, length)?;
    let stats = relay.stop();
    // Heartbeats every 100 ms both ways, plus the protocol's own messages.
    let expected = 2 * 10 * length.as_secs();
    assert!(
        stats.forwarded >= expected * 9 / 10,
        "relay forwarded only {} datagrams: {stats:?}",
        stats.forwarded
    );
    assert!(
        stats
            .min_delay
            .is_some_and(|d| d >= Duration::from_millis(29)),
        "{stats:?}"
    );
    assert_eq!(stats.strangers, 0, "{stats:?}");
    Ok(())
}

#[test]
fn s5_delay_50ms_jitter_20ms_ours_ours() -> Result<()> {
    delayed([ours()?, ours()?])
}

#[test]
fn s5_delay_50ms_jitter_20ms_real_ours() -> Result<()> {
    delayed([Daemon::Real, ours()?])
}

// ----- 12. a node whose clocks are far from the other's ---------------------------------

/// Seconds the machine has been up (the monotonic clock cannot be set below zero).
fn uptime_secs() -> u64 {
    std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|s| s.split('.').next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// nodea runs in a time namespace whose CLOCK_MONOTONIC and CLOCK_BOOTTIME are `offset`
/// seconds off the host's (and so off nodeb's); nothing may notice.
fn monotonic_offset(daemons: [Daemon; 2], offset: i64) -> Result<()> {
    let lan = Lan::new(2)?;
    let cfg = ConfigBuilder::new(&lan.node_names())
        .timings("500ms", "3", "2", "6")
        .bcast("eth0")
        .build();
    for n in lan.nodes() {
        n.apply(&cfg)?;
    }
    let (a, b) = (lan.node(0), lan.node(1));
    let off = offset.to_string();
    a.start_wrapped(
        daemons[0].clone(),
        &["unshare", "--time", "--monotonic", &off, "--boottime", &off],
    )?;
    b.start(daemons[1].clone())?;
    wait_active(a, "nodeb", CONVERGE)?;
    wait_active(b, "nodea", CONVERGE)?;
    // The master really is in the shifted namespace.
    let master = a
        .master_pid()
        .ok_or_else(|| hb_tests::Error::Invalid("no master on nodea".into()))?;
    let offsets = std::fs::read_to_string(format!("/proc/{master}/timens_offsets"))?;
    assert!(
        offsets
            .lines()
            .any(|l| l.starts_with("monotonic") && l.contains(&off)),
        "master {master} offsets: {offsets}"
    );
    let marks = [log_mark(a), log_mark(b)];
    std::thread::sleep(Duration::from_secs(8));
    assert_no_failure(a, "nodeb", marks[0], false)?;
    assert_no_failure(b, "nodea", marks[1], false)?;
    both_still_active(a, b)
}

#[test]
fn s12_monotonic_one_hour_ahead_ours_ours() -> Result<()> {
    monotonic_offset([ours()?, ours()?], 3600)
}

#[test]
fn s12_monotonic_behind_ours_real() -> Result<()> {
    // As far back as the machine's uptime allows (at most an hour), keeping a minute spare.
    let back = uptime_secs().saturating_sub(60).min(3600);
    if back < 60 {
        eprintln!("uptime too short for a backward offset; using +3600 instead");
        return monotonic_offset([ours()?, Daemon::Real], 3600);
    }
    monotonic_offset([ours()?, Daemon::Real], -i64::try_from(back).unwrap_or(60))
}

#[test]
fn s12_real_daemon_with_monotonic_ahead() -> Result<()> {
    monotonic_offset([Daemon::Real, ours()?], 3600)
}
