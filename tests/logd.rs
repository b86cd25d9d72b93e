//! `use_logd yes` (issue 13): our daemon logs through cluster-glue's real `ha_logd`
//! while it runs, and falls back to the ha.cf log file when it does not, as 3.0.6 does.
//!
//! Debian's `ha_logd` listens on `/var/lib/heartbeat/log_daemon`, in the node's
//! private state directory; it is started (with a logd.cf of the node's) by the
//! command that then starts our daemon.

use std::time::Duration;

use hb_tests::{require_root, wait_for, Daemon, Lan, Result, Signal};

/// Starts ha_logd, waits (at most 5 s) until it listens, then runs our daemon.
const SETUP: &str = "set -e; /usr/lib/heartbeat/ha_logd -c /etc/ha.d/logd.cf -d; i=0; \
     while [ ! -S /var/lib/heartbeat/log_daemon ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; \
     exec \"$@\"";

#[test]
fn use_logd_goes_through_ha_logd_and_falls_back_to_the_log_file() -> Result<()> {
    require_root()?;
    let lan = Lan::new(1)?;
    let a = lan.node(0);
    let ha_cf = "node nodea\nbcast eth0\nkeepalive 1\ndeadtime 5\ninitdead 10\n\
                 use_logd yes\nconn_logd_time 1\nlogfile /var/log/ha-log\n";
    a.write_config(ha_cf, "auth 1\n1 sha1 secret\n", "")?;
    std::fs::write(
        a.host_path("/etc/ha.d")?.join("logd.cf"),
        "logfile /var/log/logd.log\ndebugfile /var/log/logd-debug.log\nlogfacility none\n",
    )
    .map_err(|e| hb_tests::Error::Invalid(format!("write logd.cf: {e}")))?;
    a.start_wrapped(Daemon::ours()?, &["sh", "-c", SETUP, "setup"])?;
    let logd_log = a.host_path("/var/log/logd.log")?;
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    // A line of the master control process itself (the launcher's lines come first).
    wait_for(
        "the master's lines in ha_logd's log file",
        Duration::from_secs(30),
        Duration::from_millis(200),
        || read(&logd_log).contains("Local status now set to: 'up'"),
        || read(&logd_log),
    )?;
    let master = a
        .master_pid()
        .ok_or_else(|| hb_tests::Error::Invalid("no master".into()))?;

    // With ha_logd running, a new line goes there and not to the file.
    wait_for(
        "'Configuration unchanged.' via ha_logd",
        Duration::from_secs(10),
        Duration::from_millis(300),
        || {
            let _ = a.signal(master, Signal::SIGHUP);
            read(&logd_log).contains("Configuration unchanged.")
        },
        || format!("{}\nha-log:\n{}", read(&logd_log), a.log_text()),
    )?;
    assert!(
        !a.log_text().contains("Configuration unchanged."),
        "written directly although ha_logd runs:\n{}",
        a.log_text()
    );

    // ha_logd gone: the next lines go to the ha.cf log file.
    let logd_pid: u32 = std::fs::read_to_string(a.host_path("/run/logd.pid")?)
        .unwrap_or_default()
        .trim()
        .parse()
        .map_err(|e| hb_tests::Error::Invalid(format!("logd pid: {e}")))?;
    a.signal(logd_pid, Signal::SIGKILL)?;
    wait_for(
        "ha_logd to be gone",
        Duration::from_secs(10),
        Duration::from_millis(50),
        || !a.pids().contains(&logd_pid),
        String::new,
    )?;
    wait_for(
        "'Configuration unchanged.' in /var/log/ha-log after ha_logd died",
        Duration::from_secs(15),
        Duration::from_millis(300),
        || {
            let _ = a.signal(master, Signal::SIGHUP);
            a.log_text().contains("Configuration unchanged.")
        },
        || a.log_text(),
    )?;
    assert!(
        a.pids().contains(&master),
        "the daemon survived ha_logd's death"
    );
    Ok(())
}
