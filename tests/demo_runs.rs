//! The README's first command, `scripts/demo.sh`, as a newcomer runs it (issues 7 and 17):
//!
//! - from a `git clone` under `/tmp` (which every node replaces with its own), inside a 0700
//!   directory whose path has a space, on a host where the heartbeat package's `/etc/ha.d` and
//!   `/usr/libexec/heartbeat` are hidden (an empty tmpfs over each, in a private mount
//!   namespace): the demo uses the clone's `packaging/ha.d` and our build only, fails over,
//!   fails back and prints the outage;
//! - `--keep` leaves the cluster running with commands that work, `down` removes it.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use hb_tests::{wait_until, Error, Result};

/// Our build's `target/debug` (this test is `target/debug/deps/demo_runs-HASH`).
fn target_debug() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.to_path_buf()))
        .expect("target directory")
}

fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn text(out: &Output) -> String {
    format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn check(cond: bool, what: &str) -> Result<()> {
    if cond {
        Ok(())
    } else {
        Err(Error::Invalid(format!("check failed: {what}")))
    }
}

/// Runs `cmd` with a time limit (`timeout` kills it).
fn run_bounded(args: &[&str], limit: Duration, envs: &[(&str, &str)]) -> Result<Output> {
    let secs = limit.as_secs().to_string();
    let mut cmd = Command::new("timeout");
    cmd.args(["-s", "KILL", &secs]).args(args).current_dir("/");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output()
        .map_err(|e| Error::Invalid(format!("run {args:?}: {e}")))
}

/// The number N in a line `PREFIX N ms...`.
fn millis_after(out: &str, prefix: &str) -> Result<u64> {
    out.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|rest| rest.split(' ').next()?.parse().ok())
        .ok_or_else(|| Error::Invalid(format!("no line `{prefix} N ms` in:\n{out}")))
}

/// The text between `from` and the next `==>` heading.
fn section<'a>(out: &'a str, from: &str) -> Result<&'a str> {
    let start = out
        .find(from)
        .ok_or_else(|| Error::Invalid(format!("no section {from:?} in:\n{out}")))?;
    let rest = &out[start + from.len()..];
    Ok(rest.find("==>").map_or(rest, |end| &rest[..end]))
}

/// What `cl_status explain` printed on one node within a section.
fn explain_of<'a>(section: &'a str, node: &str) -> Result<&'a str> {
    let marker = format!("[{node}]$ cl_status explain\n");
    let start = section
        .find(&marker)
        .ok_or_else(|| Error::Invalid(format!("no explain of {node} in:\n{section}")))?;
    let rest = &section[start + marker.len()..];
    Ok(rest.find("$ cl_status").map_or(rest, |end| &rest[..end]))
}

fn expect(text: &str, wanted: &[&str], what: &str) -> Result<()> {
    for w in wanted {
        check(
            text.contains(w),
            &format!("{what}: expected {w:?} in:\n{text}"),
        )?;
    }
    Ok(())
}

/// `cl_status explain` on both nodes, before the crash, on the survivor after it, and on
/// both after the failback, says who holds the VIP group and why.
fn explain_says_the_right_thing(out: &str) -> Result<()> {
    const GROUP: &str = "IPaddr2::198.18.0.100/24/eth0 (home nodea)";
    let before = section(out, "cl_status explain before the crash")?;
    expect(
        explain_of(before, "nodea")?,
        &[
            "heartbeat-rs ",
            "on nodea: this node is active.",
            &format!("{GROUP}: HELD here: this is its home node."),
            "nodeb: active",
            "nodeb via eth0: up; last packet ",
            "keepalive 200 ms",
            "deadtime 1000 ms",
            "initdead 2000 ms",
            "auto_failback on",
            "Last cluster events:",
        ],
        "nodea before the crash",
    )?;
    expect(
        explain_of(before, "nodeb")?,
        &[&format!(
            "{GROUP}: not held here: its home node nodea runs it."
        )],
        "nodeb before the crash",
    )?;
    let crash = explain_of(
        section(out, "cl_status explain on nodeb after the crash")?,
        "nodeb",
    )?;
    expect(
        crash,
        &[
            &format!(
                "{GROUP}: HELD here: its home node nodea is dead: this node took it over (nodea dead since "
            ),
            "this node holds every group (getrsc: all)",
            "nodea: DEAD since ",
            "nodea via eth0: DEAD; last packet ",
            "WARN: node nodea: is dead",
        ],
        "nodeb after the crash",
    )?;
    let back = section(out, "cl_status explain after the failback")?;
    expect(
        explain_of(back, "nodea")?,
        &[&format!("{GROUP}: HELD here: this is its home node.")],
        "nodea after the failback",
    )?;
    expect(
        explain_of(back, "nodeb")?,
        &[
            &format!("{GROUP}: not held here: its home node nodea runs it."),
            "nodea: active since ",
        ],
        "nodeb after the failback",
    )
}

/// A private directory under /tmp, removed on drop.
struct TmpDir(PathBuf);

impl Drop for TmpDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_demo_runs_from_a_private_clone_under_tmp_without_the_heartbeat_package() -> Result<()> {
    hb_tests::require_root()?;
    let tmp = TmpDir(PathBuf::from(format!(
        "/tmp/hbt-demo-{}",
        std::process::id()
    )));
    let parent = tmp.0.join("a checkout with spaces");
    std::fs::create_dir_all(&parent).map_err(|e| Error::Invalid(format!("mkdir: {e}")))?;
    std::fs::set_permissions(&tmp.0, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| Error::Invalid(format!("chmod: {e}")))?;
    let clone = parent.join("heartbeat-rs");
    let clone_s = clone.display().to_string();
    let origin = checkout().display().to_string();
    let out = run_bounded(
        &[
            "git",
            "-c",
            "safe.directory=*",
            "clone",
            "-q",
            "--no-hardlinks",
            &origin,
            &clone_s,
        ],
        Duration::from_secs(120),
        &[],
    )?;
    check(out.status.success(), &format!("git clone: {}", text(&out)))?;
    // The build is this one (building the clone would take minutes): its binaries are put
    // where a `cargo build` in the clone leaves them, and demo.sh runs with --no-build.
    let debug = clone.join("target/debug");
    std::fs::create_dir_all(&debug).map_err(|e| Error::Invalid(format!("mkdir: {e}")))?;
    for bin in [
        "hb-demo",
        "heartbeat",
        "cl_status",
        "hb_standby",
        "hb_takeover",
        "ipfail",
    ] {
        let from = target_debug().join(bin);
        check(
            from.is_file(),
            &format!("{} is built by cargo test --workspace", from.display()),
        )?;
        std::fs::copy(&from, debug.join(bin))
            .map_err(|e| Error::Invalid(format!("copy {bin}: {e}")))?;
    }
    let hide = "set -e
        for d in /etc/ha.d /usr/libexec/heartbeat; do
            if [ -d \"$d\" ]; then mount -t tmpfs -o size=64k,mode=0755 hbt-hidden \"$d\"; fi
        done
        for d in /etc/ha.d /usr/libexec/heartbeat; do
            if [ -n \"$(ls -A \"$d\" 2>/dev/null)\" ]; then echo \"$d is not hidden\" >&2; exit 97; fi
        done
        exec \"$@\"";
    let demo = clone.join("scripts/demo.sh").display().to_string();
    let out = run_bounded(
        &[
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            hide,
            "sh",
            &demo,
            "--no-build",
        ],
        Duration::from_secs(240),
        &[],
    )?;
    let all = text(&out);
    check(out.status.success(), &format!("the demo failed:\n{all}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    check(
        stdout.contains(&format!(
            "each node gets {clone_s}/packaging/ha.d as /etc/ha.d"
        )),
        &format!("the nodes' /etc/ha.d is the clone's packaging/ha.d:\n{all}"),
    )?;
    check(
        stdout.contains("our binaries are staged in /var/tmp/"),
        &format!("binaries staged outside /tmp:\n{all}"),
    )?;
    check(
        stdout.contains("heartbeat: master control process"),
        &format!("ps is shown:\n{all}"),
    )?;
    check(
        stdout.contains("This node is holding"),
        &format!("cl_status is shown:\n{all}"),
    )?;
    check(
        stdout.contains("failback: the VIP answers from nodea again"),
        &format!("the failback is shown:\n{all}"),
    )?;
    explain_says_the_right_thing(&stdout)?;
    // deadtime 1 s, keepalive 200 ms: death is declared a deadtime after the last heartbeat
    // heard, which left nodea up to a keepalive before the crash; so never before 800 ms, and
    // never many deadtimes later.
    let ms = millis_after(&stdout, "the VIP answers from nodeb ")?;
    check((800..10_000).contains(&ms), &format!("outage {ms} ms"))?;
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty());
    check(
        last.is_some_and(|l| l.starts_with("failback to nodea: the client saw no reply for")),
        &format!("the demo ends with the measured outages:\n{all}"),
    )?;
    Ok(())
}

#[test]
fn demo_keep_leaves_a_cluster_to_look_at_and_down_removes_it() -> Result<()> {
    hb_tests::require_root()?;
    let name = format!("hbdemo{}", std::process::id());
    let env = [
        ("HB_DEMO_NAME", name.as_str()),
        (
            "HB_HA_D",
            &*checkout().join("packaging/ha.d").display().to_string(),
        ),
    ];
    let demo = target_debug().join("hb-demo").display().to_string();
    // Whatever happens below, the cluster goes.
    struct Down<'a>(&'a str, &'a [(&'a str, &'a str)]);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            let _ = run_bounded(&[self.0, "down"], Duration::from_secs(60), self.1);
        }
    }
    let _down = Down(&demo, &env);
    let out = run_bounded(&[&demo, "--keep"], Duration::from_secs(240), &env)?;
    let all = text(&out);
    check(out.status.success(), &format!("demo --keep failed:\n{all}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    // The printed commands, as a user would copy them.
    let stdout = stdout
        .split_once("keeps running (--keep)")
        .map(|(_, tail)| tail.to_string())
        .ok_or_else(|| Error::Invalid(format!("no --keep commands in:\n{all}")))?;
    let command = |needle: &str| -> Result<Vec<String>> {
        stdout
            .lines()
            .find(|l| l.contains(needle))
            .map(|l| {
                l.split('#')
                    .next()
                    .unwrap_or("")
                    .split_whitespace()
                    .map(String::from)
                    .collect()
            })
            .ok_or_else(|| Error::Invalid(format!("no command with {needle:?} in:\n{all}")))
    };
    let run = |cmd: &[String]| -> Result<String> {
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let out = run_bounded(&args, Duration::from_secs(30), &[])?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let listnodes = run(&command("cl_status listnodes")?)?;
    check(
        listnodes.contains("nodea") && listnodes.contains("nodeb"),
        &format!("cl_status listnodes: {listnodes:?}"),
    )?;
    let status = run(&command("cl_status nodestatus nodea")?)?;
    check(
        status.trim() == "active",
        &format!("nodestatus: {status:?}"),
    )?;
    let addr = command("ip -4 addr show eth0")?;
    check(
        addr.iter().any(|a| a == &format!("{name}-a")),
        &format!("ip netns exec names nodea's namespace: {addr:?}"),
    )?;
    check(
        run(&addr)?.contains("198.18.0.100/24"),
        "nodea holds the VIP after the failback",
    )?;
    let ping = run(&command("ping -c 3")?)?;
    check(ping.contains(" 0% packet loss"), &format!("ping: {ping}"))?;
    let log = command("tail -f")?;
    check(
        log.len() == 4 && Path::new(&log[2]).is_file() && Path::new(&log[3]).is_file(),
        &format!("the logs exist: {log:?}"),
    )?;
    // hb_standby on nodea hands the VIP to nodeb.
    run(&command("hb_standby")?)?;
    let mut on_b = addr.clone();
    if let Some(ns) = on_b.iter_mut().find(|a| **a == format!("{name}-a")) {
        *ns = format!("{name}-b");
    }
    check(
        wait_until(Duration::from_secs(20), Duration::from_millis(200), || {
            run(&on_b).is_ok_and(|s| s.contains("198.18.0.100/24"))
        }),
        "hb_standby on nodea moves the VIP to nodeb",
    )?;
    // down removes it all.
    let out = run_bounded(&[&demo, "down"], Duration::from_secs(60), &env)?;
    check(out.status.success(), &format!("down: {}", text(&out)))?;
    let left = run_bounded(&["ip", "netns", "list"], Duration::from_secs(10), &[])?;
    check(
        !String::from_utf8_lossy(&left.stdout).contains(&format!("{name}-")),
        "down deletes the namespaces",
    )?;
    check(
        !hb_tests::stage::base_dir().join(&name).exists(),
        "down removes the node trees",
    )
}
