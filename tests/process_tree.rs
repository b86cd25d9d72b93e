//! The process tree of our daemon (issue 3): `ps` titles, child restarts, the FIFO reader's
//! watch over the master, respawned clients, the watchdog, the FIFO, and `-s`/`-k`.

use std::time::Duration;

use hb_tests::{wait_for, ConfigBuilder, Daemon, Lan, Node};

/// Test result: harness and I/O errors alike.
type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const WAIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(100);

fn ours() -> Daemon {
    Daemon::ours().expect("our heartbeat binary is built by `cargo test --workspace`")
}

/// `(pid, ppid, args)` of the node's processes, oldest first.
fn ps(node: &Node) -> Vec<(u32, u32, String)> {
    let mut pids = node.pids();
    pids.sort_unstable();
    let mut out = Vec::new();
    for pid in pids {
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let args: String = String::from_utf8_lossy(&cmdline)
            .split('\0')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let after = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
        let ppid = after
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        out.push((pid, ppid, args));
    }
    out
}

fn pid_titled(node: &Node, title: &str) -> Option<u32> {
    ps(node)
        .into_iter()
        .find(|(_, _, a)| a == title)
        .map(|(p, _, _)| p)
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

/// One node alone (comm comes up at once), with bcast, mcast and ucast media.
fn solo(lan: &Lan, extra: &[&str], respawn: &[(&str, &str)]) -> Result<()> {
    let a = lan.node(0);
    let mut b = ConfigBuilder::new(&["nodea"])
        .bcast("eth0")
        .mcast("eth0", std::net::Ipv4Addr::new(239, 0, 0, 45), 694)
        .ucast("eth0", lan.node(1).ip())
        .auto_failback("legacy");
    for line in extra {
        b = b.extra(line);
    }
    for (user, cmd) in respawn {
        b = b.respawn(user, cmd);
    }
    a.apply(&b.build())?;
    Ok(())
}

#[test]
fn ps_titles_match_the_c_daemon_in_order() -> Result<()> {
    let lan = Lan::new(2)?;
    solo(&lan, &[], &[])?;
    let a = lan.node(0);
    a.start(ours())?;
    let expected = [
        "heartbeat: master control process",
        "heartbeat: FIFO reader",
        "heartbeat: write: bcast eth0",
        "heartbeat: read: bcast eth0",
        "heartbeat: write: mcast eth0",
        "heartbeat: read: mcast eth0",
        "heartbeat: write: ucast eth0",
        "heartbeat: read: ucast eth0",
    ];
    wait_for(
        "all eight processes",
        WAIT,
        POLL,
        || ps(a).len() == expected.len() && pid_titled(a, expected[0]).is_some(),
        || format!("{:?}", ps(a)),
    )?;
    let procs = ps(a);
    let titles: Vec<&str> = procs.iter().map(|(_, _, t)| t.as_str()).collect();
    assert_eq!(titles, expected, "ps: {procs:?}");
    let master = procs[0].0;
    for (pid, ppid, title) in &procs[1..] {
        assert_eq!(
            *ppid, master,
            "{title} ({pid}) is not a child of the master"
        );
    }
    for (pid, _, _) in &procs {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))?;
        assert_eq!(comm.trim(), "heartbeat", "comm of {pid}");
    }
    Ok(())
}

#[test]
fn killed_children_come_back_and_a_dead_master_takes_them_down() -> Result<()> {
    let lan = Lan::new(2)?;
    let names = lan.node_names();
    let config = ConfigBuilder::new(&names)
        .bcast("eth0")
        .auto_failback("legacy")
        .build();
    let (a, b) = (lan.node(0), lan.node(1));
    a.apply(&config)?;
    b.apply(&config)?;
    a.start(ours())?;
    b.start(ours())?;
    a.wait_for_log("Status update for node nodeb: status active", WAIT)?;
    b.wait_for_log("Status update for node nodea: status active", WAIT)?;

    for title in [
        "heartbeat: FIFO reader",
        "heartbeat: read: bcast eth0",
        "heartbeat: write: bcast eth0",
    ] {
        let old = pid_titled(a, title).ok_or(format!("no {title}"))?;
        a.signal(old, nix::sys::signal::Signal::SIGKILL)?;
        wait_for(
            &format!("{title} to be restarted"),
            Duration::from_secs(1), // issue 3: "back within a second"
            Duration::from_millis(20),
            || pid_titled(a, title).is_some_and(|p| p != old),
            || format!("{:?}", ps(a)),
        )?;
    }
    let log = a.log_text();
    assert!(log.contains("Restarting HBFIFO process."), "{log}");
    assert!(log.contains("Communications restart succeeded."), "{log}");
    assert!(
        log.contains("killed by signal 9 [SIGKILL - Kill, unblockable]."),
        "{log}"
    );
    // Heartbeats kept flowing: the peer never saw nodea die.
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !b.log_text().contains("node nodea: is dead"),
        "{}",
        b.log_text()
    );

    let children: Vec<u32> = ps(a).iter().skip(1).map(|p| p.0).collect();
    a.kill9_master()?;
    wait_for(
        "every core child to exit after the master died",
        Duration::from_secs(5),
        POLL,
        || {
            children
                .iter()
                .all(|p| !std::path::Path::new(&format!("/proc/{p}")).exists())
        },
        || format!("{:?}", ps(a)),
    )?;
    assert!(
        a.log_text()
            .contains("Emergency Shutdown: Master Control process died."),
        "{}",
        a.log_text()
    );
    Ok(())
}

#[test]
fn respawned_clients_follow_the_c_rules() -> Result<()> {
    let lan = Lan::new(2)?;
    let a = lan.node(0);
    let dir = a.host_path("/etc/ha.d")?;
    let script = |name: &str, body: &str| -> Result<String> {
        let p = dir.join(name);
        std::fs::write(
            &p,
            format!("#!/bin/sh\necho run >> /var/log/{name}.runs\n{body}\n"),
        )?;
        std::os::unix::fs::PermissionsExt::set_mode(
            &mut std::fs::metadata(&p)?.permissions(),
            0o755,
        );
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
        Ok(format!("/etc/ha.d/{name}"))
    };
    let fails = script("fails", "sleep 0.3; exit 1")?;
    let stops = script("stops", "exit 100")?;
    let dies_fast = script("diesfast", "exit 1")?;
    solo(
        &lan,
        &[],
        &[
            ("root", &fails),
            ("root", &stops),
            ("hacluster", &dies_fast),
        ],
    )?;
    a.start(ours())?;
    let runs = |name: &str| {
        a.host_path(&format!("/var/log/{name}.runs"))
            .ok()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map_or(0, |t| count(&t, "run"))
    };
    // Eleven fast restarts at one per second, then it is given up.
    a.wait_for_log(
        "Client /etc/ha.d/diesfast \"respawning too fast\"",
        Duration::from_secs(30),
    )?;
    let given_up = runs("diesfast");
    assert!(runs("fails") >= 3, "a client exiting 1 is restarted");
    assert_eq!(runs("stops"), 1, "exit 100 means: do not respawn");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        runs("diesfast"),
        given_up,
        "a client given up stays stopped"
    );
    let log = a.log_text();
    assert!(
        log.contains("Respawning client \"/etc/ha.d/fails\":"),
        "{log}"
    );
    assert!(
        !log.contains("Respawning client \"/etc/ha.d/stops\":"),
        "{log}"
    );
    assert!(
        log.contains("Starting child client \"/etc/ha.d/fails\" (0,0)"),
        "{log}"
    );
    Ok(())
}

#[test]
fn watchdog_fifo_and_control_commands() -> Result<()> {
    let lan = Lan::new(2)?;
    let a = lan.node(0);
    let wd = a.host_path("/var/lib/heartbeat/watchdog-standin")?;
    std::fs::write(&wd, b"")?;
    solo(&lan, &["watchdog /var/lib/heartbeat/watchdog-standin"], &[])?;
    let daemon = ours();
    let bin = daemon.binary().display().to_string();
    a.start(daemon)?;
    a.wait_for_log("Comm_now_up(): updating status to active", WAIT)?;
    a.wait_for_log(
        "Using watchdog device: /var/lib/heartbeat/watchdog-standin",
        WAIT,
    )?;

    // -s: the C text and exit code.
    let out = a.exec(&[bin.as_str(), "-s"])?;
    let text = String::from_utf8_lossy(&out.stdout);
    let master = a.master_pid().unwrap_or(0);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(
        text.trim(),
        format!("heartbeat OK [pid {master} et al] is running on nodea [nodea]...")
    );

    // The real hb_standby script writes to our FIFO; the master receives it (legacy mode
    // answers with the C daemon's line).
    let out = a.exec(&["/usr/share/heartbeat/hb_standby"])?;
    assert!(out.status.success(), "{:?}", out);
    a.wait_for_log("Standby mode only implemented when nice_failback on", WAIT)?;

    // One tickle per keepalive (1 s): a few seconds give several NUL bytes.
    std::thread::sleep(Duration::from_secs(3));
    let before = std::fs::read(&wd)?;
    assert!(
        before.len() >= 3 && before.iter().all(|&b| b == 0),
        "{before:?}"
    );

    // -k: stops and waits; the watchdog gets the magic V last.
    let out = a.exec(&[bin.as_str(), "-k"])?;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(a.pids().is_empty(), "{:?}", a.pids());
    let after = std::fs::read(&wd)?;
    assert_eq!(after.last(), Some(&b'V'), "{after:?}");
    assert!(
        a.log_text().contains("nodea Heartbeat shutdown complete."),
        "{}",
        a.log_text()
    );

    // After the stop the pid file is stale, as with the C daemon: exit 1.
    let out = a.exec(&[bin.as_str(), "-s"])?;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "heartbeat is stopped. No process"
    );
    assert_eq!(out.status.code(), Some(1));
    let out = a.exec(&[bin.as_str(), "-k"])?;
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "INFO: Heartbeat already stopped."
    );
    Ok(())
}

/// Scheduling policy of a process from /proc (field 41 of stat): 2 = SCHED_RR.
fn policy(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(") ")?.1;
    // Fields after the command start at field 3; policy is field 41.
    after
        .split_whitespace()
        .nth(41 - 3)
        .and_then(|p| p.parse().ok())
}

#[test]
fn realtime_debug_signals_and_reload() -> Result<()> {
    let lan = Lan::new(2)?;
    solo(&lan, &[], &[])?;
    let a = lan.node(0);
    let daemon = ours();
    let bin = daemon.binary().display().to_string();
    a.start(daemon)?;
    a.wait_for_log("Comm_now_up(): updating status to active", WAIT)?;
    let master = a.master_pid().ok_or("no master")?;
    // The C daemon runs its core processes SCHED_RR (realtime on by default).
    for (pid, _, title) in ps(a) {
        assert_eq!(policy(pid), Some(2), "{title} ({pid}) is not SCHED_RR");
    }
    // SIGUSR1 raises the debug level; debug lines then reach the debug file.
    a.signal(master, nix::sys::signal::Signal::SIGUSR1)?;
    wait_for(
        "debug level 1 in the debug file",
        WAIT,
        POLL,
        || {
            a.debug_log_text()
                .contains(&format!("debug now set to 1 [pid {master}]"))
        },
        || a.debug_log_text(),
    )?;
    // SIGUSR1 also went to every core child (they log at the same level).
    assert!(
        a.log_text().contains("heartbeat: version 3.0.6"),
        "going from debug 0 to 1 logs the version again"
    );

    // -r with an unchanged configuration: the daemon is told to reread and says so.
    let out = a.exec(&[bin.as_str(), "-r"])?;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    a.wait_for_log("Configuration unchanged.", WAIT)?;
    Ok(())
}

#[test]
fn realtime_off_is_logged_and_honoured() -> Result<()> {
    let lan = Lan::new(2)?;
    solo(&lan, &["realtime off"], &[])?;
    let a = lan.node(0);
    a.start(ours())?;
    a.wait_for_log("Comm_now_up(): updating status to active", WAIT)?;
    let master = a.master_pid().ok_or("no master")?;
    assert_eq!(policy(master), Some(0), "SCHED_OTHER expected");
    assert!(
        a.log_text()
            .contains(&format!("Request to set pid {master} to realtime ignored.")),
        "{}",
        a.log_text()
    );
    Ok(())
}

#[test]
fn systemd_notify_ready_reloading_stopping() -> Result<()> {
    let lan = Lan::new(2)?;
    solo(&lan, &[], &[])?;
    let a = lan.node(0);
    let sock_path = a.host_path("/run/notify.sock")?;
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path)?;
    sock.set_read_timeout(Some(Duration::from_secs(20)))?;
    let daemon = ours();
    let bin = daemon.binary().display().to_string();
    // As systemd runs it: Type=notify, ExecStart=heartbeat -f.
    let child = a
        .command(&["env", "NOTIFY_SOCKET=/run/notify.sock", bin.as_str(), "-f"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let next = || -> Result<String> {
        let mut buf = [0u8; 256];
        let n = sock.recv(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
    };
    assert_eq!(next()?, "READY=1");
    assert!(
        a.log_text()
            .contains("Comm_now_up(): updating status to active"),
        "READY only after comm up"
    );
    assert!(
        a.host_path("/run/heartbeat/register")?.exists(),
        "READY only once the API socket exists"
    );
    let master = a.master_pid().ok_or("no master")?;
    assert_eq!(master, child.id(), "-f keeps the master in the foreground");
    a.signal(master, nix::sys::signal::Signal::SIGHUP)?;
    assert_eq!(next()?, "RELOADING=1");
    assert_eq!(next()?, "READY=1");
    // A changed ha.cf: the quick restart's new image (same pid) says READY=1 at its comm up.
    let hacf = a.host_path("/etc/ha.d/ha.cf")?;
    let text = std::fs::read_to_string(&hacf)?;
    std::fs::write(&hacf, format!("{text}# changed\n"))?;
    a.signal(master, nix::sys::signal::Signal::SIGHUP)?;
    assert_eq!(next()?, "RELOADING=1");
    assert_eq!(next()?, "READY=1");
    a.wait_for_log("Performing heartbeat restart exec.", WAIT)?;
    assert_eq!(
        a.master_pid(),
        Some(master),
        "the quick restart keeps the pid"
    );
    let out = a.exec(&[bin.as_str(), "-k"])?;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(next()?, "STOPPING=1");
    // -k returned: the process is gone (the harness reaps it) after a clean shutdown.
    assert!(
        !std::path::Path::new(&format!("/proc/{master}/status")).exists() || a.pids().is_empty()
    );
    assert!(
        a.log_text().contains("nodea Heartbeat shutdown complete."),
        "{}",
        a.log_text()
    );
    Ok(())
}

#[test]
fn a_hung_child_is_killed_and_replaced() -> Result<()> {
    let lan = Lan::new(2)?;
    solo(&lan, &[], &[])?;
    let a = lan.node(0);
    a.start(ours())?;
    a.wait_for_log("Comm_now_up(): updating status to active", WAIT)?;
    let title = "heartbeat: FIFO reader";
    let old = pid_titled(a, title).ok_or("no FIFO reader")?;
    // A stopped process is alive but does nothing: the master must notice through the shared
    // process table (deadtime 5 s, so the limit is 10 s) and replace it.
    a.signal(old, nix::sys::signal::Signal::SIGSTOP)?;
    wait_for(
        "the hung FIFO reader to be replaced",
        Duration::from_secs(20),
        POLL,
        || pid_titled(a, title).is_some_and(|p| p != old),
        || a.log_text(),
    )?;
    let log = a.log_text();
    assert!(
        log.contains(&format!("Core heartbeat process HBFIFO (pid {old}) hung")),
        "{log}"
    );
    assert!(log.contains("Restarting HBFIFO process."), "{log}");
    Ok(())
}

#[test]
fn new_authkeys_reach_the_ping_children() -> Result<()> {
    let lan = Lan::new(2)?;
    let a = lan.node(0);
    let config = ConfigBuilder::new(&["nodea"])
        .bcast("eth0")
        .ping(hb_tests::CLIENT_IP)
        .auth(hb_tests::Auth::Sha1("first key".into()))
        .build();
    a.apply(&config)?;
    a.start(ours())?;
    let ping = hb_tests::CLIENT_IP.to_string();
    let status = || a.cl_status(&["nodestatus", &ping]).unwrap_or_default();
    wait_for(
        "the ping node to answer",
        WAIT,
        POLL,
        || status() == "ping",
        || a.log_text(),
    )?;
    // A new key: the engine and the ping children (which seal and check their own echoes) must
    // both use it, or the ping node would be declared dead.
    std::fs::write(
        a.host_path("/etc/ha.d/authkeys")?,
        "auth 2\n2 sha1 second key\n",
    )?;
    let master = a.master_pid().ok_or("no master")?;
    a.signal(master, nix::sys::signal::Signal::SIGHUP)?;
    a.wait_for_log(&format!("Restarting ping {ping} with the new keys."), WAIT)?;
    // Past the ping node's dead time (deadping = deadtime 5 s): still answering.
    std::thread::sleep(Duration::from_secs(7));
    assert_eq!(status(), "ping", "{}", a.log_text());
    let log = a.log_text();
    assert!(!log.contains(&format!("node {ping}: is dead")), "{log}");
    assert!(
        !log.contains("Both comm processes"),
        "a planned restart is not an error: {log}"
    );
    Ok(())
}
