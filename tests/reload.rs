//! Reload without failover (issue 13, docs/behaviour.md §1.9.3): on the VIP owner,
//! keepalive changed from 500 ms to 200 ms in ha.cf and `heartbeat -r`: the daemon
//! re-executes itself with `-R -C <held>`, `cl_status hbparameter -p keepalive` shows
//! the new value, a 10 ms prober of the VIP sees no gap, the peer (ours or the real
//! 3.0.6) logs no death. A broken ha.cf is refused and the running one stays.

use std::time::{Duration, Instant};

use hb_tests::probe::Probe;
use hb_tests::{
    log_mark, require_root, wait_active, wait_for, ConfigBuilder, Daemon, Error, Lan, Result,
};

const VIP: &str = "198.18.0.100";

fn config(lan: &Lan, keepalive: &str) -> hb_tests::ClusterConfig {
    ConfigBuilder::new(&lan.node_names())
        .timings(keepalive, "5", "3", "10")
        .resource(&format!("nodea IPaddr2::{VIP}/24/eth0"))
        .build()
}

fn reload_keeps_the_vip(peer: Daemon) -> Result<()> {
    require_root()?;
    let lan = Lan::new(2)?;
    let (a, b) = (lan.node(0), lan.node(1));
    let before = config(&lan, "500ms");
    a.apply(&before)?;
    b.apply(&before)?;
    let ours = Daemon::ours()?;
    a.start(ours.clone())?;
    b.start(peer)?;
    wait_active(a, "nodeb", Duration::from_secs(40))?;
    wait_active(b, "nodea", Duration::from_secs(40))?;
    wait_for(
        "nodea to hold the VIP",
        Duration::from_secs(40),
        Duration::from_millis(100),
        || a.has_address("eth0", VIP),
        || a.log_text(),
    )?;
    assert_eq!(a.cl_status(&["hbparameter", "-p", "keepalive"])?, "500ms");
    let pid = a.master_pid();

    let probe = Probe::start(
        lan.client_netns(),
        VIP.parse().map_err(|e| Error::Invalid(format!("{e}")))?,
        Duration::from_millis(10),
        Duration::from_secs(120),
    )
    .map_err(Error::Invalid)?;
    // Probe replies must be flowing before the reload.
    wait_for(
        "VIP replies",
        Duration::from_secs(5),
        Duration::from_millis(20),
        || !probe.replies().is_empty(),
        String::new,
    )?;
    let mark_b = log_mark(b);

    // A broken file first: refused, nothing restarts.
    let broken = before
        .ha_cf
        .replace("keepalive 500ms", "keepalive 200ms\nbogus_directive 1");
    a.write_config(&broken, &before.authkeys, &before.haresources)?;
    let binary = ours.binary().to_string_lossy().into_owned();
    let out = a.exec(&[binary.as_str(), "-r"])?;
    assert!(!out.status.success(), "-r with a broken ha.cf must fail");
    assert_eq!(a.master_pid(), pid);

    let after = config(&lan, "200ms");
    a.apply(&after)?;
    let t = Instant::now();
    let out = a.exec(&[binary.as_str(), "-r"])?;
    assert!(
        out.status.success(),
        "heartbeat -r: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    a.wait_for_log("Current resources: -R -C local", Duration::from_secs(20))?;
    wait_for(
        "keepalive 200ms on nodea",
        Duration::from_secs(20),
        Duration::from_millis(100),
        || {
            a.cl_status(&["hbparameter", "-p", "keepalive"])
                .ok()
                .as_deref()
                == Some("200ms")
        },
        || a.log_text(),
    )?;
    assert_eq!(a.master_pid(), pid, "the same process re-executed itself");
    wait_active(b, "nodea", Duration::from_secs(20))?;
    // Run on past the peer's deadtime, then look at the prober and the peer's log.
    std::thread::sleep(Duration::from_secs(6));
    let replies = probe.stop();
    let window: Vec<_> = replies.iter().filter(|r| r.at >= t).collect();
    let worst = window
        .windows(2)
        .map(|w| w[1].at.saturating_duration_since(w[0].at))
        .max()
        .unwrap_or_default();
    assert!(
        window.len() > 300 && worst < Duration::from_millis(200),
        "VIP gap during the reload: {} replies, longest gap {worst:?}",
        window.len()
    );
    assert!(a.has_address("eth0", VIP));
    let since: String = b
        .log_text()
        .lines()
        .skip(mark_b)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        !since.contains("node nodea: is dead") && !since.contains("Resources being acquired"),
        "the peer noticed a death:\n{since}"
    );
    assert!(!b.has_address("eth0", VIP));
    Ok(())
}

#[test]
fn reload_keeps_the_vip_ours() -> Result<()> {
    reload_keeps_the_vip(Daemon::ours()?)
}

#[test]
fn reload_keeps_the_vip_mixed() -> Result<()> {
    reload_keeps_the_vip(Daemon::Real)
}
