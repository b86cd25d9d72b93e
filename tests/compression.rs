//! Whole-message compression in a mixed cluster (issue 13): with `compression bz2`
//! (and with `zlib`), `traditional_compression yes` and the default 2 KiB
//! `compression_threshold`, a 100 000-byte API message passes from our daemon to the
//! real Heartbeat 3.0.6 and back.
//!
//! 100 000 bytes are more than one UDP datagram can carry (65 507), and less than
//! `MAXMSG`, where both daemons would compress anyway: the message arrives only if the
//! sender compressed it because of `traditional_compression` and the threshold, and the
//! receiver inflated it with the configured algorithm.

use std::time::Duration;

use hb_tests::{require_root, wait_active, ConfigBuilder, Daemon, Lan, Node, Result};

const APIMSG: &str = env!("CARGO_BIN_EXE_hb-apimsg");
const CLIENT: &str = "hbtestbig";
const SIZE: usize = 100_000;

/// Starts the receiving client in `node` (in the background, output to `/tmp/rx.out`)
/// and waits until it signed on.
fn receiver(node: &Node) -> Result<std::path::PathBuf> {
    let out = node.host_path("/tmp")?.join("rx.out");
    let _ = std::fs::remove_file(&out);
    // The binary's path goes in as $0, never into the script text: a checkout path may
    // hold spaces or quotes.
    node.exec(&[
        "sh",
        "-c",
        &format!("\"$0\" recv {CLIENT} 30 > /tmp/rx.out 2>&1 < /dev/null &"),
        APIMSG,
    ])?;
    hb_tests::wait_for(
        &format!("the receiving client on {} to sign on", node.name()),
        Duration::from_secs(10),
        Duration::from_millis(50),
        || std::fs::read_to_string(&out).is_ok_and(|t| t.contains("ready")),
        || std::fs::read_to_string(&out).unwrap_or_default(),
    )?;
    Ok(out)
}

/// The receiver's verdict, waiting at most 40 s.
fn verdict(out: &std::path::Path) -> String {
    let done = |t: &str| t.contains("received") || t.contains("nothing") || t.contains("failed");
    let _ = hb_tests::wait_for(
        "the receiving client to finish",
        Duration::from_secs(40),
        Duration::from_millis(100),
        || std::fs::read_to_string(out).is_ok_and(|t| done(&t)),
        String::new,
    );
    std::fs::read_to_string(out).unwrap_or_default()
}

fn tail(node: &Node) -> String {
    let log = node.log_text();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

fn pass(from: &Node, to: &Node) -> Result<()> {
    let rx = receiver(to)?;
    let sent = from.exec(&[APIMSG, "send", CLIENT, &SIZE.to_string()])?;
    assert!(
        sent.status.success(),
        "send on {}: {}",
        from.name(),
        String::from_utf8_lossy(&sent.stderr)
    );
    let got = verdict(&rx);
    assert!(
        got.contains(&format!("received {SIZE} bytes from {} ok", from.name())),
        "{} -> {}: {got}\nsender log:\n{}\nreceiver log:\n{}",
        from.name(),
        to.name(),
        tail(from),
        tail(to)
    );
    Ok(())
}

fn mixed(algorithm: &str) -> Result<()> {
    require_root()?;
    let lan = Lan::new(2)?;
    let cfg = ConfigBuilder::new(&lan.node_names())
        .extra(&format!("compression {algorithm}"))
        .extra("traditional_compression yes")
        .extra(&format!("apiauth {CLIENT} uid=root"))
        .build();
    for node in lan.nodes() {
        node.apply(&cfg)?;
    }
    let (a, b) = (lan.node(0), lan.node(1));
    a.start(Daemon::ours()?)?;
    b.start(Daemon::Real)?;
    wait_active(a, "nodeb", Duration::from_secs(40))?;
    wait_active(b, "nodea", Duration::from_secs(40))?;
    pass(a, b)?;
    pass(b, a)?;
    Ok(())
}

#[test]
fn bz2_compressed_api_message_passes_both_ways_mixed() -> Result<()> {
    mixed("bz2")
}

#[test]
fn zlib_compressed_api_message_passes_both_ways_mixed() -> Result<()> {
    mixed("zlib")
}
