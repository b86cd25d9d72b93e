//! The README's first command runs `hb-demo`; this proves the demo works end to end and
//! prints the failover outage (issue 7).

use std::process::Command;

#[test]
fn the_demo_fails_over_and_prints_the_outage() {
    let demo = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(|d| d.join("hb-demo")))
        .expect("target directory");
    assert!(
        demo.is_file(),
        "{} is built by cargo test --workspace",
        demo.display()
    );
    let out = Command::new(&demo).output().expect("run hb-demo");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("heartbeat: master control process"),
        "ps is shown: {text}"
    );
    assert!(
        text.contains("This node is holding"),
        "cl_status is shown: {text}"
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("the VIP answers from nodeb "))
        .unwrap_or_else(|| panic!("no outage line: {text}"));
    let ms: u64 = line
        .trim_start_matches("the VIP answers from nodeb ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("milliseconds");
    // deadtime 1 s, keepalive 200 ms: death is declared a deadtime after the last heartbeat
    // heard, which left nodea up to a keepalive before the crash; so never before 800 ms, and
    // never many deadtimes later.
    assert!((800..10_000).contains(&ms), "{line}");
}
