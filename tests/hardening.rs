//! Issue 14, hardening beyond Heartbeat 3.0.6 (docs/reliability.md, "Hardening"): insecure
//! authkeys are reported, keys are bytes, files under hacluster-owned directories are not
//! followed through symlinks, the API socket is bounded, client traffic never delays our
//! heartbeats.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use hb_tests::{wait_active, ConfigBuilder, Daemon, Lan, Result};

const CONVERGE: Duration = Duration::from_secs(40);

fn fail(msg: String) -> hb_tests::Error {
    hb_tests::Error::Invalid(msg)
}

/// A Latin-1 key (bytes that are not UTF-8) plus an extra `crc` line: our `--check-config`
/// and our start-up log warn about the crc line, and our node forms a cluster with the real
/// 3.0.6, which hashes the key's raw bytes (a lossy UTF-8 reading would never match).
#[test]
fn latin1_key_mixed_cluster_and_crc_warning() -> Result<()> {
    let ours = Daemon::ours()?;
    let lan = Lan::new(2)?;
    let cfg = ConfigBuilder::new(&lan.node_names()).build();
    let authkeys: &[u8] = b"auth 1\n1 sha1 cl\xe9-secr\xe8te-\xff\n2 crc\n";
    for node in lan.nodes() {
        node.apply(&cfg)?;
        let path = node.host_path("/etc/ha.d/authkeys")?;
        std::fs::write(&path, authkeys).map_err(|e| fail(format!("{}: {e}", path.display())))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| fail(format!("{}: {e}", path.display())))?;
    }
    let (a, b) = (lan.node(0), lan.node(1));
    let bin = ours.binary().to_string_lossy().into_owned();
    let out = b.exec(&[bin.as_str(), "--check-config"])?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() || !stderr.contains("authkeys:3: INSECURE: key 2 is crc") {
        return Err(fail(format!(
            "--check-config must accept the file and warn about line 3 (crc): {:?}\n{stderr}",
            out.status
        )));
    }
    a.start(Daemon::Real)?;
    b.start(ours)?;
    wait_active(a, "nodeb", CONVERGE)?;
    wait_active(b, "nodea", CONVERGE)?;
    let log = b.log_text();
    if !log.contains("INSECURE: key 2 is crc") {
        return Err(fail(format!("our start-up log has no crc warning:\n{log}")));
    }
    Ok(())
}

fn mode_of(path: &std::path::Path) -> Result<u32> {
    std::fs::symlink_metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .map_err(|e| fail(format!("{}: {e}", path.display())))
}

fn write_script(path: &std::path::Path, body: &str) -> Result<()> {
    std::fs::write(path, body).map_err(|e| fail(format!("{}: {e}", path.display())))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| fail(format!("{}: {e}", path.display())))
}

/// `SigIgn`, `SigBlk` and the scheduling policy a probe wrote.
fn probe_report(node: &hb_tests::Node, file: &str) -> Option<String> {
    let path = node.host_path(file).ok()?;
    let text = std::fs::read_to_string(path).ok()?;
    text.contains("policy").then_some(text)
}

/// Symlinks planted in the hacluster-owned `/run/heartbeat` before start (at `register` and at
/// `rsctmp`) do not redirect the daemon's chmod: the targets keep their modes, the daemon
/// makes a real socket and a real directory. The same node checks that a resource script and
/// a respawned client start like from a shell: no ignored or blocked signals, SCHED_OTHER
/// (the master is realtime and ignores SIGPIPE), and that a non-UTF-8 variable in the daemon's
/// environment does not stop it from running resource scripts.
#[test]
fn planted_symlinks_and_clean_child_processes() -> Result<()> {
    let ours = Daemon::ours()?;
    let lan = Lan::new(1)?;
    let node = lan.node(0);
    let cfg = ConfigBuilder::new(&lan.node_names())
        .resource("nodea sigprobe")
        .respawn("root", "/tmp/respawn-probe")
        .build();
    node.apply(&cfg)?;
    // grep reads its own status: what the script's shell handed down (the
    // shell's own mask is briefly all-blocked while it forks).
    let probe = "#!/bin/sh\n\
        out=$1\n\
        { grep -E '^(SigIgn|SigBlk)' /proc/self/status; chrt -p $$ | sed 's/.*policy: /policy: /'; } > $out.tmp\n\
        mv $out.tmp $out\n";
    write_script(
        &node.host_path("/etc/ha.d/resource.d/sigprobe")?,
        "#!/bin/sh\ncase \"$1\" in start) /tmp/probe /tmp/rsc-probe.out ;; esac\nexit 0\n",
    )?;
    write_script(&node.host_path("/tmp/probe")?, probe)?;
    write_script(
        &node.host_path("/tmp/respawn-probe")?,
        "#!/bin/sh\nprintf '%s' \"$HB_NOT_UTF8\" > /tmp/env-probe.out\n\
         /tmp/probe /tmp/respawn-probe.out\nexec sleep 600\n",
    )?;
    // The plants: a file and a directory of root's with tight modes.
    let victim_file = node.host_path("/tmp/victim-file")?;
    let victim_dir = node.host_path("/tmp/victim-dir")?;
    std::fs::write(&victim_file, b"secret").map_err(|e| fail(e.to_string()))?;
    std::fs::set_permissions(&victim_file, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| fail(e.to_string()))?;
    std::fs::create_dir_all(&victim_dir).map_err(|e| fail(e.to_string()))?;
    std::fs::set_permissions(&victim_dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| fail(e.to_string()))?;
    let run_hb = node.host_path("/run/heartbeat")?;
    std::fs::create_dir_all(&run_hb).map_err(|e| fail(e.to_string()))?;
    std::os::unix::fs::symlink("/tmp/victim-file", run_hb.join("register"))
        .map_err(|e| fail(e.to_string()))?;
    std::os::unix::fs::symlink("/tmp/victim-dir", run_hb.join("rsctmp"))
        .map_err(|e| fail(e.to_string()))?;

    // A variable that is not UTF-8 in the daemon's environment (std::env::vars would panic
    // when the resource scripts' environment is built).
    node.start_wrapped(
        ours,
        &[
            "sh",
            "-c",
            "HB_NOT_UTF8=$(printf 'caf\\351'); export HB_NOT_UTF8; exec \"$@\"",
            "sh",
        ],
    )?;
    hb_tests::wait_for(
        "the API to answer",
        CONVERGE,
        Duration::from_millis(200),
        || node.cl_status(&["nodestatus", "nodea"]).is_ok(),
        || node.log_text(),
    )?;
    let (fm, dm) = (mode_of(&victim_file)?, mode_of(&victim_dir)?);
    if fm != 0o600 || dm != 0o700 {
        return Err(fail(format!(
            "the symlink targets' modes changed: file {fm:04o} (was 0600), dir {dm:04o} (was 0700)"
        )));
    }
    let reg =
        std::fs::symlink_metadata(run_hb.join("register")).map_err(|e| fail(e.to_string()))?;
    let rsc = std::fs::symlink_metadata(run_hb.join("rsctmp")).map_err(|e| fail(e.to_string()))?;
    use std::os::unix::fs::FileTypeExt;
    if !reg.file_type().is_socket() || !rsc.is_dir() || mode_of(&run_hb.join("rsctmp"))? != 0o1755 {
        return Err(fail(format!(
            "expected a socket and a 1755 directory, got {:?} and {:?}",
            reg.file_type(),
            rsc.file_type()
        )));
    }
    for file in ["/tmp/rsc-probe.out", "/tmp/respawn-probe.out"] {
        hb_tests::wait_for(
            &format!("{file} to be written"),
            CONVERGE,
            Duration::from_millis(200),
            || probe_report(node, file).is_some(),
            || node.log_text(),
        )?;
        let report = probe_report(node, file).unwrap_or_default();
        let clean = report.lines().any(|l| l == "SigIgn:\t0000000000000000")
            && report.lines().any(|l| l == "SigBlk:\t0000000000000000")
            && report.contains("policy: SCHED_OTHER");
        if !clean {
            return Err(fail(format!("{file}: not a clean start:\n{report}")));
        }
    }
    // The variable reached the master (which handed it to the respawned client), and the
    // resource script above ran after the scripts' environment was built from it.
    let env_probe = std::fs::read(node.host_path("/tmp/env-probe.out")?).unwrap_or_default();
    if env_probe != b"caf\xe9" {
        return Err(fail(format!(
            "the respawned client saw HB_NOT_UTF8={:?}",
            String::from_utf8_lossy(&env_probe)
        )));
    }
    Ok(())
}

/// An ours (nodea) / real 3.0.6 (nodeb) pair at keepalive 100 ms, warntime 500 ms, with an
/// `apiauth` entry for the flood client.
fn fast_pair() -> Result<Lan> {
    let ours = Daemon::ours()?;
    let lan = Lan::new(2)?;
    let cfg = ConfigBuilder::new(&lan.node_names())
        .timings("100ms", "2", "500ms", "4")
        .extra("apiauth hardening-flood uid=root")
        .build();
    for node in lan.nodes() {
        node.apply(&cfg)?;
    }
    lan.node(1).start(Daemon::Real)?;
    lan.node(0).start(ours)?;
    wait_active(lan.node(0), "nodeb", CONVERGE)?;
    wait_active(lan.node(1), "nodea", CONVERGE)?;
    Ok(lan)
}

/// Milliseconds the real cl_status takes for `nodestatus nodeb`, timed inside the node (so
/// entering the namespaces is not counted); `None` when it failed.
fn timed_cl_status(node: &hb_tests::Node) -> Option<(u64, String)> {
    let out = node
        .sh(
            "a=$(date +%s%N); s=$(/usr/bin/cl_status nodestatus nodeb 2>&1); \
             b=$(date +%s%N); echo $(( (b - a) / 1000000 )) $s",
        )
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let (ms, answer) = text.split_once(' ')?;
    Some((ms.parse().ok()?, answer.to_string()))
}

/// 300 connections that never sign on plus one client writing 100 MB of garbage: the real
/// cl_status keeps answering within 1 s, the idle connections are closed, and the real peer
/// sees no late heartbeat from us at keepalive 100 ms.
#[test]
fn unsigned_connections_and_garbage_do_not_starve_the_master() -> Result<()> {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    let lan = fast_pair()?;
    let (a, b) = (lan.node(0), lan.node(1));
    let mark = hb_tests::log_mark(b);
    let socket = a.host_path("/run/heartbeat/register")?;
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(UnixStream::connect(&socket).map_err(|e| fail(format!("connect: {e}")))?);
    }
    const TOTAL: usize = 100 << 20;
    let garbage_socket = socket.clone();
    let garbage = std::thread::spawn(move || {
        let start = std::time::Instant::now();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let noise: Vec<u8> = (0..1 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let (mut written, mut connections) = (0usize, 0u32);
        while written < TOTAL && start.elapsed() < Duration::from_secs(120) {
            let Ok(mut s) = UnixStream::connect(&garbage_socket) else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            connections += 1;
            let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
            loop {
                let at = written % (noise.len() - 65536);
                match s.write(&noise[at..at + 65536]) {
                    Ok(n) if n > 0 => written += n,
                    _ => break,
                }
                if written >= TOTAL {
                    break;
                }
            }
        }
        (written, connections, start.elapsed())
    });
    let mut worst = 0;
    let mut answers = 0;
    while !garbage.is_finished() {
        let (ms, answer) =
            timed_cl_status(a).ok_or_else(|| fail("cl_status did not run".into()))?;
        if answer != "active" || ms > 1000 {
            return Err(fail(format!(
                "cl_status answered {answer:?} after {ms} ms during the flood"
            )));
        }
        worst = worst.max(ms);
        answers += 1;
        std::thread::sleep(Duration::from_millis(200));
    }
    let (written, connections, took) = garbage
        .join()
        .map_err(|_| fail("garbage writer panicked".into()))?;
    if written < TOTAL {
        return Err(fail(format!(
            "only {written} bytes of garbage written in {took:?}"
        )));
    }
    eprintln!(
        "100 MB of garbage over {connections} connections in {took:?}; {answers} cl_status \
         answers, slowest {worst} ms"
    );
    // The idle connections are closed: evicted (64 per uid) or after 5 s without sign-on.
    for s in &mut idle {
        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
        let mut buf = [0u8; 64];
        match s.read(&mut buf) {
            Ok(0) | Err(_) => {}
            Ok(n) => return Err(fail(format!("an idle connection got {n} bytes"))),
        }
    }
    let (ms, answer) = timed_cl_status(a).ok_or_else(|| fail("cl_status did not run".into()))?;
    if answer != "active" || ms > 1000 {
        return Err(fail(format!("after the flood: {answer:?} after {ms} ms")));
    }
    hb_tests::assert_no_failure(b, "nodea", mark, false)
}

/// An API client sending cluster messages as fast as it can for 30 s: the daemon pauses it
/// (docs/behaviour.md §7.9) instead of dropping it, our heartbeats stay on time (no late-heartbeat
/// line on the real peer), and the client is still signed on afterwards.
#[test]
fn flooding_api_client_is_paused_not_disconnected() -> Result<()> {
    let lan = fast_pair()?;
    let (a, b) = (lan.node(0), lan.node(1));
    let (mark_a, mark_b) = (hb_tests::log_mark(a), hb_tests::log_mark(b));
    let opts = hb_client::SignOnOptions {
        path: a.host_path("/run/heartbeat/register")?,
        client_id: Some("hardening-flood".into()),
        timeout: Some(Duration::from_secs(30)),
    };
    let mut client =
        hb_client::Client::signon(&opts).map_err(|e| fail(format!("sign-on failed: {e}")))?;
    let flood = std::thread::spawn(move || {
        let start = std::time::Instant::now();
        let pad = "x".repeat(200);
        let mut sent = 0u64;
        while start.elapsed() < Duration::from_secs(30) {
            let mut m = hb_proto::Message::from_pairs([("t", "hardening-flood")]);
            m.push_str("n", sent.to_string());
            m.push_str("pad", &pad);
            // Addressed to the peer, so nothing comes back to this client
            // (which does not read while it floods).
            if let Err(e) = client.send_node_message(&m, "nodeb") {
                return Err(format!("send {sent} failed: {e}"));
            }
            sent += 1;
        }
        Ok((client, sent))
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !flood.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
    }
    if !flood.is_finished() {
        return Err(fail(
            "the flood client was blocked for more than 90 s".into(),
        ));
    }
    let (mut client, sent) = flood
        .join()
        .map_err(|_| fail("flood thread panicked".into()))?
        .map_err(fail)?;
    let status = client.node_status("nodeb").map_err(|e| {
        fail(format!(
            "the client was disconnected after {sent} messages: {e}"
        ))
    })?;
    if status != "active" {
        return Err(fail(format!("nodestatus nodeb = {status:?}")));
    }
    let log_a: Vec<String> = a
        .log_text()
        .lines()
        .skip(mark_a)
        .map(str::to_string)
        .collect();
    let paused = log_a
        .iter()
        .any(|l| l.contains("all clients are now paused"));
    let removed: Vec<&String> = log_a
        .iter()
        .filter(|l| l.contains("removing it") || l.contains("Removing client"))
        .collect();
    eprintln!("{sent} messages in 30 s; paused: {paused}");
    if !paused || !removed.is_empty() {
        return Err(fail(format!(
            "expected the client paused and not removed; paused={paused}, removals: {removed:?}"
        )));
    }
    hb_tests::assert_no_failure(b, "nodea", mark_b, false)
}
