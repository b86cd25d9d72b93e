//! The script runner against small shell scripts generated per test.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hb_config::{parse_haresources, Resource, ResourceGroup};
use hb_rsc::Level;
use hb_rsc_runner::{find_script, resource_running, run_group, GroupOp, ScriptEnv};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The tests write scripts and run them. With tests in parallel threads, a
/// script freshly written by one test can still be open for writing in a
/// child that another thread has just forked (until that child execs), and
/// exec'ing it then fails with ETXTBSY. Each test holds this lock for its
/// whole run (through its [`Scratch`]).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A scratch directory removed on drop; holds [`SERIAL`] while it lives.
struct Scratch(
    PathBuf,
    #[allow(dead_code)] std::sync::MutexGuard<'static, ()>,
);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let guard = SERIAL
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("hb-rsc-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(p.join("resource.d")).expect("scratch dir");
        fs::create_dir_all(p.join("init.d")).expect("scratch dir");
        Scratch(p, guard)
    }

    fn rdir(&self) -> PathBuf {
        self.0.join("resource.d")
    }

    fn calls(&self) -> Vec<String> {
        fs::read_to_string(self.0.join("calls"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    fn env(&self) -> ScriptEnv {
        let mut env = ScriptEnv::new(&self.0);
        env.resource_dirs = vec![self.rdir(), self.0.join("init.d")];
        env.vars = vec![
            ("STATE".to_string(), self.0.display().to_string()),
            ("HA_CURHOST".to_string(), "node1".to_string()),
        ];
        env.timeout = Duration::from_secs(10);
        env.kill_grace = Duration::from_millis(500);
        env.retry_interval = Duration::from_millis(10);
        // these tests run fake IPaddr scripts in the host's namespace: the
        // native path must never touch it (it has its own netns tests)
        env.native_ip = false;
        env
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, format!("#!/bin/sh\n{body}\n")).expect("write script");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod");
    p
}

/// A well-behaved resource: records `name args…` in $STATE/calls, keeps
/// its running state in $STATE/<name>.on, start fails if $STATE/<name>.fail
/// exists.
fn good(dir: &Path, name: &str) -> PathBuf {
    script(
        dir,
        name,
        &format!(
            r#"echo "{name} $*" >> "$STATE/calls"
for last; do :; done
case "$last" in
  start) [ -e "$STATE/{name}.fail" ] && exit 3; touch "$STATE/{name}.on";;
  stop) rm -f "$STATE/{name}.on";;
  status) if [ -e "$STATE/{name}.on" ]; then echo "{name} is running"; else echo "{name} is stopped"; fi;;
esac
exit 0"#
        ),
    )
}

fn group(line: &str) -> ResourceGroup {
    let groups = parse_haresources(line, Path::new("haresources"), &["node1".to_string()])
        .expect("haresources line");
    groups.into_iter().next().expect("one group")
}

fn lines(log: &[(Level, String)]) -> Vec<String> {
    log.iter().map(|(_, l)| l.clone()).collect()
}

#[test]
fn acquire_left_to_right_release_right_to_left() {
    let s = Scratch::new("good");
    let alpha = good(&s.rdir(), "alpha");
    good(&s.rdir(), "beta");
    let g = group("node1 alpha::x::y beta");
    let r = run_group(GroupOp::Acquire, &g, &s.env());
    assert!(r.ok, "{:?}", r.log);
    assert_eq!(
        s.calls(),
        [
            "alpha x y status",
            "alpha x y start",
            "beta status",
            "beta start"
        ]
    );
    let log = lines(&r.log);
    assert_eq!(log[0], "Acquiring resource group: node1 alpha::x::y beta");
    assert_eq!(log[1], format!("Running {} x y start", alpha.display()));
    assert!(s.0.join("alpha.on").exists() && s.0.join("beta.on").exists());

    // already running: only status calls
    fs::remove_file(s.0.join("calls")).expect("reset calls");
    let r = run_group(GroupOp::Acquire, &g, &s.env());
    assert!(r.ok);
    assert_eq!(s.calls(), ["alpha x y status", "beta status"]);

    fs::remove_file(s.0.join("calls")).expect("reset calls");
    let r = run_group(GroupOp::Release, &g, &s.env());
    assert!(r.ok && !r.reboot_required);
    assert_eq!(s.calls(), ["beta stop", "alpha x y stop"]);
    assert_eq!(
        lines(&r.log)[0],
        "Releasing resource group: node1 alpha::x::y beta"
    );
    assert!(!s.0.join("alpha.on").exists());
}

#[test]
fn failed_start_rolls_the_whole_group_back() {
    let s = Scratch::new("fail");
    good(&s.rdir(), "alpha");
    let beta = good(&s.rdir(), "beta");
    good(&s.rdir(), "gamma");
    fs::write(s.0.join("beta.fail"), "").expect("fail marker");
    let g = group("node1 alpha beta gamma");
    let r = run_group(GroupOp::Acquire, &g, &s.env());
    assert!(!r.ok);
    assert_eq!(r.failed_resource.as_deref(), Some("beta"));
    assert_eq!(
        s.calls(),
        [
            "alpha status",
            "alpha start",
            "beta status",
            "beta start",
            "gamma stop",
            "beta stop",
            "alpha stop"
        ]
    );
    assert!(!s.0.join("alpha.on").exists(), "alpha left running");
    let log = lines(&r.log);
    assert!(log.contains(&format!("Return code 3 from {}", beta.display())));
    assert!(log.contains(&"Giving up resources due to failure of beta".to_string()));
    assert!(log.contains(&"Releasing resource group: node1 alpha beta gamma".to_string()));
    assert!(r
        .log
        .iter()
        .any(|(l, t)| *l == Level::Crit && t.starts_with("Giving up")));
}

/// Live (non-zombie) processes whose process group is `pgid`.
fn group_members(pgid: i32) -> Vec<String> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp …  — comm may contain blanks
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let f: Vec<&str> = after.split_whitespace().collect();
        if f.len() > 2 && f[2] == pgid.to_string() && f[0] != "Z" {
            found.push(stat);
        }
    }
    found
}

#[test]
fn hanging_start_is_killed_with_its_process_group() {
    let s = Scratch::new("hang");
    good(&s.rdir(), "alpha");
    script(
        &s.rdir(),
        "hang",
        r#"echo "hang $*" >> "$STATE/calls"
case "$1" in
  start) echo $$ > "$STATE/hang.pid"; trap '' TERM; sleep 1000 & sleep 1000;;
  status) echo stopped;;
esac
exit 0"#,
    );
    let g = group("node1 alpha hang");
    let mut env = s.env();
    env.timeout = Duration::from_millis(700);
    let t0 = Instant::now();
    let r = run_group(GroupOp::Acquire, &g, &env);
    let took = t0.elapsed();
    assert!(!r.ok);
    assert_eq!(r.failed_resource.as_deref(), Some("hang"));
    assert!(took < Duration::from_secs(8), "took {took:?}");
    let pgid: i32 = fs::read_to_string(s.0.join("hang.pid"))
        .expect("pid file")
        .trim()
        .parse()
        .expect("pid");
    let log = lines(&r.log);
    assert!(
        log.iter()
            .any(|l| l.contains("hang start timed out after 700 ms")
                && l.ends_with(&format!("killed its process group {pgid}"))),
        "{log:?}"
    );
    let members = group_members(pgid);
    assert!(members.is_empty(), "survivors: {members:?}");
    // rolled back: the first resource was stopped again
    assert!(!s.0.join("alpha.on").exists());
    assert!(s
        .calls()
        .ends_with(&["hang stop".to_string(), "alpha stop".to_string()]));
}

#[test]
fn script_lookup_order_and_missing_script() {
    let s = Scratch::new("lookup");
    let first = good(&s.rdir(), "svc");
    let second = good(&s.0.join("init.d"), "svc");
    let only_init = good(&s.0.join("init.d"), "initonly");
    let env = s.env();
    let svc = Resource::parse("svc");
    assert_eq!(find_script(&svc, &env.resource_dirs), Some(first.clone()));
    // not executable in resource.d: the init.d one is used
    fs::set_permissions(&first, fs::Permissions::from_mode(0o644)).expect("chmod");
    assert_eq!(find_script(&svc, &env.resource_dirs), Some(second));
    assert_eq!(
        find_script(&Resource::parse("initonly::a"), &env.resource_dirs),
        Some(only_init)
    );
    assert_eq!(
        find_script(&Resource::parse("../svc"), &env.resource_dirs),
        None
    );

    let g = group("node1 nosuch::1");
    let r = run_group(GroupOp::Acquire, &g, &env);
    assert!(!r.ok);
    assert!(lines(&r.log).contains(&"Cannot locate resource script nosuch".to_string()));
    assert!(r.log.iter().any(|(l, _)| *l == Level::Error));
}

#[test]
fn ip_shorthand_runs_ipaddr_with_the_text_as_argument() {
    let s = Scratch::new("ip");
    let ipaddr = good(&s.rdir(), "IPaddr");
    let g = group("node1 198.18.99.7/24/eth9/198.18.99.255");
    let r = run_group(GroupOp::Acquire, &g, &s.env());
    assert!(r.ok, "{:?}", r.log);
    assert_eq!(
        s.calls(),
        [
            "IPaddr 198.18.99.7/24/eth9/198.18.99.255 status",
            "IPaddr 198.18.99.7/24/eth9/198.18.99.255 start"
        ]
    );
    assert!(lines(&r.log).contains(&format!(
        "Running {} 198.18.99.7/24/eth9/198.18.99.255 start",
        ipaddr.display()
    )));
    assert_eq!(
        resource_running(&g.resources[0], &s.env()),
        Some(true),
        "status text says running"
    );
}

#[test]
fn stop_retries_then_reboot_or_lsb_warning() {
    let s = Scratch::new("stop");
    // fails twice, then succeeds
    script(
        &s.rdir(),
        "flaky",
        r#"case "$1" in
  stop) n=$(cat "$STATE/n" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$STATE/n"; [ $n -ge 3 ];;
  status) echo "flaky is not running";;
esac"#,
    );
    let r = run_group(GroupOp::Release, &group("node1 flaky"), &s.env());
    assert!(r.ok);
    let retries = lines(&r.log)
        .iter()
        .filter(|l| *l == "Retrying failed stop operation [flaky]")
        .count();
    assert_eq!(retries, 2);

    // never stops, still running: reboot required
    script(
        &s.rdir(),
        "stuck",
        r#"case "$1" in stop) exit 1;; status) echo "stuck is running";; esac"#,
    );
    let mut env = s.env();
    env.stop_retries = 3;
    let r = run_group(GroupOp::Release, &group("node1 stuck"), &env);
    assert!(!r.ok && r.reboot_required);
    let log = lines(&r.log);
    assert_eq!(log.iter().filter(|l| l.starts_with("Retrying")).count(), 3);
    assert!(log.contains(&"Resource STOP failure. Reboot required!".to_string()));

    // never stops but is not running: LSB warning, no reboot
    script(
        &s.rdir(),
        "sloppy",
        r#"case "$1" in stop) exit 1;; status) echo "sloppy is not running";; esac"#,
    );
    let r = run_group(GroupOp::Release, &group("node1 sloppy"), &env);
    assert!(r.ok && !r.reboot_required);
    let log = lines(&r.log);
    assert!(log.contains(&"Resource script for sloppy probably not LSB-compliant.".to_string()));
    assert!(log.contains(&"it (sloppy) MUST succeed on a stop when already stopped".to_string()));
    assert!(log.contains(&"Machine reboot narrowly avoided!".to_string()));
}

#[test]
fn scripts_get_exactly_the_given_environment() {
    let s = Scratch::new("env");
    script(
        &s.rdir(),
        "envdump",
        r#"case "$1" in start) env | sort > "$STATE/env";; status) echo stopped;; esac"#,
    );
    let r = run_group(GroupOp::Acquire, &group("node1 envdump"), &s.env());
    assert!(r.ok);
    let env = fs::read_to_string(s.0.join("env")).expect("env dump");
    assert!(env.contains("HA_CURHOST=node1\n"));
    assert!(env.contains("PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"));
    assert!(
        !env.contains("CARGO"),
        "inherited environment leaked: {env}"
    );
}

/// Fault scenario 10 (docs/reliability.md): a script that prints nothing on `status` (even
/// while running) is judged "not running", as Debian's ResourceManager judges it: acquiring
/// runs its start each time, releasing runs its stop, and nothing hangs or fails.
#[test]
fn a_silent_status_means_not_running() {
    let s = Scratch::new("silent");
    script(
        &s.rdir(),
        "Silent",
        r#"echo "Silent $*" >> "$STATE/calls"
exit 0"#,
    );
    let g = group("node1 Silent::x");
    let env = s.env();
    let r = run_group(GroupOp::Acquire, &g, &env);
    assert!(r.ok, "{:?}", r.log);
    let r = run_group(GroupOp::Acquire, &g, &env);
    assert!(r.ok, "{:?}", r.log);
    let r = run_group(GroupOp::Release, &g, &env);
    assert!(r.ok, "{:?}", r.log);
    assert_eq!(
        s.calls(),
        [
            "Silent x status",
            "Silent x start",
            "Silent x status",
            "Silent x start",
            "Silent x stop"
        ]
    );
}
