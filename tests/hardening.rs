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
/// (the master is realtime and ignores SIGPIPE).
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
        "#!/bin/sh\n/tmp/probe /tmp/respawn-probe.out\nexec sleep 600\n",
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

    node.start(ours)?;
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
    Ok(())
}
