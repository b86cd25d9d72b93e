//! Our own broadcast echoes are dropped in the kernel after the first (issue 15,
//! docs/behaviour.md §1): the node's own link is still `up` — as Heartbeat 3.0.6 shows
//! it, side by side in one mixed cluster — and the read child wakes for the peer's
//! packets only, not for every heartbeat its node sends.
//!
//! Wake-ups are counted, not timed: voluntary context switches of the read child
//! (`/proc/PID/status`), which count how often it slept and was woken, whatever the
//! machine's load.

use std::time::Duration;

use hb_tests::{wait_for, Auth, ConfigBuilder, Daemon, Error, Lan, Node, Result};

const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);

fn ours() -> Daemon {
    Daemon::ours().expect("our heartbeat binary is built by `cargo test --workspace`")
}

fn pid_titled(node: &Node, title: &str) -> Option<u32> {
    node.pids().into_iter().find(|pid| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| String::from_utf8_lossy(&c).trim_end_matches('\0') == title)
            .unwrap_or(false)
    })
}

fn voluntary_switches(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| Error::Invalid(format!("/proc/{pid}/status: {e}")))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| Error::Invalid(format!("no voluntary_ctxt_switches for {pid}")))
}

/// `cl_status hblinkstatus NODE eth0` as seen from `node`.
fn link_status(node: &Node, of: &str) -> Result<String> {
    Ok(node
        .cl_status(&["hblinkstatus", of, "eth0"])?
        .trim()
        .to_string())
}

#[test]
fn own_echoes_wake_nobody_and_own_link_stays_up() -> Result<()> {
    let lan = Lan::new(2)?;
    // keepalive 100 ms: each node sends 10 heartbeats a second; deadtime long
    // enough that a loaded CI machine never declares anybody dead.
    let config = ConfigBuilder::new(&lan.node_names())
        .bcast("eth0")
        .auth(Auth::Sha1("own echoes".into()))
        .timings("100ms", "3", "1", "5")
        .build();
    for node in lan.nodes() {
        node.apply(&config)?;
    }
    let (a, b) = (lan.node(0), lan.node(1));
    a.start(ours())?;
    b.start(Daemon::Real)?;
    for (node, peer) in [(a, "nodeb"), (b, "nodea")] {
        wait_for(
            &format!("{} sees {peer} active", node.name()),
            WAIT,
            POLL,
            || {
                node.cl_status(&["nodestatus", peer])
                    .is_ok_and(|s| s.trim() == "active")
            },
            || node.log_text(),
        )?;
    }
    // The first echo still marks our own link up, as 3.0.6's own echoes do for it.
    wait_for(
        "nodea's own link up on nodea",
        WAIT,
        POLL,
        || link_status(a, "nodea").is_ok_and(|s| s == "up"),
        || a.log_text(),
    )?;
    assert_eq!(link_status(b, "nodeb")?, "up", "3.0.6's own link");
    assert_eq!(link_status(a, "nodeb")?, "up");
    assert_eq!(link_status(b, "nodea")?, "up");
    assert!(
        a.log_text().contains("Link nodea:eth0 up."),
        "own link logged up as 3.0.6 does"
    );

    // Over 3 s our read child is woken by nodeb's ~10 heartbeats a second (plus
    // its ACKs and status changes); with our own 10 echoes a second it was
    // woken twice as often.
    let reader = pid_titled(a, "heartbeat: read: bcast eth0")
        .ok_or_else(|| Error::Invalid("no read child on nodea".into()))?;
    let window = Duration::from_secs(3);
    let before = voluntary_switches(reader)?;
    std::thread::sleep(window);
    let woken = voluntary_switches(reader)?.saturating_sub(before);
    let per_sec = woken as f64 / window.as_secs_f64();
    eprintln!("read child woken {per_sec:.1} times/s");
    assert!(
        (5.0..16.0).contains(&per_sec),
        "read child woken {per_sec:.1} times/s: expected ~10 (the peer's heartbeats), \
         20 would mean our own echoes still reach it"
    );
    // Nothing else changed for either side.
    assert_eq!(a.cl_status(&["nodestatus", "nodeb"])?.trim(), "active");
    assert_eq!(b.cl_status(&["nodestatus", "nodea"])?.trim(), "active");
    Ok(())
}
