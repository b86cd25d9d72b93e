//! Reboots (issue 12; docs/behaviour.md §5.3, §10): a resource whose stop keeps failing, and a
//! `failfast` client that dies, make the daemon `sync` and `reboot(2)`.
//!
//! Safety: the node that reboots runs in its own PID namespace ([`Node::isolate_pids`]), where
//! `reboot(2)` ends only that namespace's init (and so every process of the node), never the
//! machine. Right before every fault, [`Node::assert_own_pid_namespace`] checks that every
//! process of the node is in a nested PID namespace that is not the test's nor PID 1's, and
//! the test stops with an error otherwise. Every node command also carries
//! `HB_TESTS_REFUSE_HOST_REBOOT=1`, with which our daemon refuses to reboot from the initial
//! PID namespace. The namespace's end is observed through its `unshare` launcher, which
//! re-raises the signal that ended the init: SIGHUP is what the kernel reports after
//! `reboot(RB_AUTOBOOT)` in a child PID namespace.
//!
//! After the node ended, the test drops its extra addresses ([`Node::reset`]), as the reboot of
//! a real machine would, and checks that the peer took the group.

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use hb_tests::{wait_active, wait_for, ConfigBuilder, Daemon, Error, Lan, Node, Result, Signal};

const GROUP: &str = "nodea IPaddr2::198.18.0.100/24/eth0 hbstuck";
const TIMINGS: [&str; 4] = ["250ms", "2", "1", "4"];
const STEP: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);

/// An LSB script that starts, reports `running`, and never stops.
const STUCK: &str = r#"#!/bin/sh
# hb-tests: a resource that cannot be stopped
echo "$(date +%s.%N) $*" >> /var/log/hbstuck.log
case "$1" in
start) touch /run/hbstuck.state; exit 0 ;;
stop) echo "hbstuck: cannot stop" >&2; exit 1 ;;
status) if [ -f /run/hbstuck.state ]; then echo "hbstuck is running"; else echo "hbstuck is stopped"; fi; exit 0 ;;
esac
exit 2
"#;

/// A failfast client: just waits.
const CLIENT: &str = "#!/bin/sh\n# hb-tests failfast client\nexec sleep 600\n";

fn write_exec(node: &Node, inside: &str, text: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let path = node.host_path(inside)?;
    std::fs::write(&path, text)
        .and_then(|()| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)))
        .map_err(|e| Error::Invalid(format!("write {}: {e}", path.display())))
}

/// nodea (own PID namespace) holds the group; both run our daemon. Only nodea gets the
/// `extra` ha.cf lines (the failfast client) and `STOPRETRYMAX=1`: nodeb runs in the host's
/// PID namespace and gets nothing that could make it reboot within a test (the Lan's SIGKILL
/// teardown could kill a failfast client before its master; the stuck resource would need
/// 10 failed stops, and nothing stops nodeb's group). Should it try anyway, our daemon's own
/// guard (`HB_TESTS_REFUSE_HOST_REBOOT`) refuses in the host's namespace.
fn pair(extra: &[&str]) -> Result<Lan> {
    let lan = Lan::new(2)?;
    let [k, d, w, i] = TIMINGS;
    let base = ConfigBuilder::new(&lan.node_names())
        .timings(k, d, w, i)
        .resource(GROUP);
    let mut cfg_a = base.clone().extra("env STOPRETRYMAX=1");
    for line in extra {
        cfg_a = cfg_a.extra(line);
    }
    let (a, b) = (lan.node(0), lan.node(1));
    a.apply(&cfg_a.build())?;
    b.apply(&base.build())?;
    for node in lan.nodes() {
        write_exec(node, "/etc/ha.d/resource.d/hbstuck", STUCK)?;
    }
    write_exec(a, "/etc/ha.d/hbtest-ff", CLIENT)?;
    a.isolate_pids()?;
    a.start(Daemon::ours()?)?;
    b.start(Daemon::ours()?)?;
    wait_active(a, "nodeb", STEP)?;
    wait_active(b, "nodea", STEP)?;
    wait_for(
        "the group on nodea",
        STEP,
        POLL,
        || a.has_address("eth0", "198.18.0.100"),
        || a.log_text(),
    )?;
    Ok(lan)
}

/// Waits until nodea's PID namespace ended by a reboot (SIGHUP), then checks that nothing of
/// nodea runs and that nodeb took the group.
fn node_rebooted_and_peer_took_over(lan: &Lan) -> Result<()> {
    let (a, b) = (lan.node(0), lan.node(1));
    wait_for(
        "nodea's PID namespace to end",
        STEP,
        POLL,
        || a.pid_namespace_ended().is_some(),
        || a.log_text(),
    )?;
    let status = a.pid_namespace_ended().unwrap_or_default();
    if status.signal() != Some(Signal::SIGHUP as i32) {
        return Err(Error::Invalid(format!(
            "nodea's init ended with {status:?}, not by a reboot (SIGHUP)\n{}",
            a.log_text()
        )));
    }
    wait_for(
        "no process left on nodea",
        STEP,
        POLL,
        || a.pids().is_empty(),
        String::new,
    )?;
    a.reset()?;
    b.wait_for_log("node nodea: is dead", STEP)?;
    wait_for(
        "the group on nodeb",
        STEP,
        POLL,
        || b.has_address("eth0", "198.18.0.100"),
        || b.log_text(),
    )
}

#[test]
fn failed_stop_reboots_the_node() -> Result<()> {
    let lan = pair(&[])?;
    let a = lan.node(0);
    let mark = a.log_text().len();
    a.assert_own_pid_namespace()?;
    // give the group away: its stop fails twice (STOPRETRYMAX=1), the node must reboot
    let out = a.exec(&["/usr/share/heartbeat/hb_standby", "all"])?;
    if !out.status.success() {
        return Err(Error::Invalid(format!("hb_standby: {out:?}")));
    }
    node_rebooted_and_peer_took_over(&lan)?;
    let log = a.log_text()[mark..].to_string();
    for line in [
        "Retrying failed stop operation [hbstuck]",
        "CRIT: Resource STOP failure. Reboot required!",
        "CRIT: Killing heartbeat ungracefully!",
    ] {
        if !log.contains(line) {
            return Err(Error::Invalid(format!("nodea did not log {line:?}\n{log}")));
        }
    }
    Ok(())
}

#[test]
fn failfast_client_death_reboots_the_node() -> Result<()> {
    let lan = pair(&["failfast root /etc/ha.d/hbtest-ff"])?;
    let a = lan.node(0);
    let client = wait_for_client(a)?;
    a.assert_own_pid_namespace()?;
    a.signal(client, Signal::SIGKILL)?;
    node_rebooted_and_peer_took_over(&lan)?;
    if !a
        .log_text()
        .contains("EMERG: Rebooting system.  Reason: /etc/ha.d/hbtest-ff")
    {
        return Err(Error::Invalid(format!("no EMERG line\n{}", a.log_text())));
    }
    Ok(())
}

/// The failfast client's host PID (the `sleep` it became).
fn wait_for_client(a: &Node) -> Result<u32> {
    let find = || {
        a.pids().into_iter().find(|p| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .is_ok_and(|c| c.starts_with(b"sleep\x00600"))
        })
    };
    wait_for(
        "the failfast client",
        STEP,
        POLL,
        || find().is_some(),
        String::new,
    )?;
    find().ok_or_else(|| Error::Invalid("failfast client vanished".into()))
}

/// The guard refuses a node that shares the host's PID namespace.
#[test]
fn guard_refuses_a_node_without_its_own_pid_namespace() -> Result<()> {
    let lan = Lan::new(1)?;
    let a = lan.node(0);
    let _sleeper = a.command(&["sleep", "30"]).spawn();
    wait_for(
        "a process in nodea",
        STEP,
        POLL,
        || !a.pids().is_empty(),
        String::new,
    )?;
    match a.assert_own_pid_namespace() {
        Err(e) if e.to_string().contains("refusing") => Ok(()),
        other => Err(Error::Invalid(format!(
            "the guard did not refuse: {other:?}"
        ))),
    }
}

/// An isolated node's daemon runs in the node's own PID namespace and passes the guard; the
/// harness finds its master from the pid file (a PID inside the namespace).
#[test]
fn isolated_node_runs_in_its_own_pid_namespace() -> Result<()> {
    let lan = pair(&[])?;
    let a = lan.node(0);
    a.assert_own_pid_namespace()?;
    let master = a
        .master_pid()
        .ok_or_else(|| Error::Invalid("no master pid on nodea".into()))?;
    let mine =
        std::fs::read_link("/proc/self/ns/pid").map_err(|e| Error::Invalid(e.to_string()))?;
    let its = std::fs::read_link(format!("/proc/{master}/ns/pid"))
        .map_err(|e| Error::Invalid(e.to_string()))?;
    if mine == its {
        return Err(Error::Invalid(
            "the master shares the test's PID namespace".into(),
        ));
    }
    if a.pid_namespace_ended().is_some() {
        return Err(Error::Invalid("the namespace ended without a fault".into()));
    }
    Ok(())
}
