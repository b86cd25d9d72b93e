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
