//! `/usr/share/heartbeat/ResourceManager` (issue 13): ours prints what Debian's
//! 3.0.6 shell script prints, run side by side in a node where our daemon holds the
//! groups: `listkeys`, `allkeys`, `ourkeys`, `otherkeys`, `status` (exit codes), and
//! `givegroup` / `takegroup` (the VIP goes away and comes back, with the same log
//! lines).

use std::time::Duration;

use hb_tests::{require_root, wait_for, ConfigBuilder, Daemon, Lan, Node, Result};

const REAL_RM: &str = "/usr/share/heartbeat/ResourceManager";
/// Our ResourceManager, next to our heartbeat in target/debug (built with the
/// workspace: `cargo build -p hb-bin`).
fn ours_rm() -> Result<String> {
    let path = Daemon::built()?.with_file_name("ResourceManager");
    if !path.is_file() {
        return Err(hb_tests::Error::Invalid(format!(
            "{} missing: cargo build -p hb-bin",
            path.display()
        )));
    }
    Ok(path.to_string_lossy().into_owned())
}

/// Runs `rm ARGS` in the node with the environment heartbeat gives its children.
fn rm(node: &Node, rm: &str, log: &str, args: &[&str]) -> Result<(Option<i32>, String)> {
    let mut argv = vec![
        "env",
        "HA_CURHOST=nodea",
        "HEARTBEAT_NATIVE_IP=no",
        "HA_DEBUGLOG=/var/log/rm-debug",
    ];
    let logfile = format!("HA_LOGFILE={log}");
    argv.push(&logfile);
    argv.push(rm);
    argv.extend_from_slice(args);
    let out = node.exec_timeout(&argv, Duration::from_secs(60))?;
    Ok((
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

/// The message part of ResourceManager's log lines (after `info: `, `ERROR: `...).
fn messages(node: &Node, log: &str) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(node.host_path(log)?).unwrap_or_default();
    Ok(text
        .lines()
        .filter(|l| l.contains("ResourceManager"))
        .filter_map(|l| {
            ["info: ", "ERROR: ", "WARN: ", "CRIT: "]
                .iter()
                .find_map(|p| l.split_once(p).map(|(_, m)| format!("{p}{m}")))
        })
        .collect())
}

#[test]
fn resource_manager_prints_what_3_0_6_prints() -> Result<()> {
    require_root()?;
    let ours = ours_rm()?;
    let lan = Lan::new(2)?;
    let cfg = ConfigBuilder::new(&lan.node_names())
        .resource("nodea 198.18.0.100/24/eth0")
        .resource("nodea IPaddr2::198.18.0.101/24/eth0 Delay::1::0")
        .resource("nodeb IPaddr2::198.18.0.102/24/eth0")
        .build();
    let a = lan.node(0);
    a.apply(&cfg)?;
    a.start(Daemon::ours()?)?;
    wait_for(
        "nodea to hold 198.18.0.100",
        Duration::from_secs(40),
        Duration::from_millis(200),
        || a.has_address("eth0", "198.18.0.100"),
        || a.log_text(),
    )?;

    for args in [
        &["listkeys", ".*"][..],
        &["listkeys", "nodea"],
        &["listkeys", "NODEB"],
        &["listkeys", "node[ab]"],
        &["allkeys"],
        &["ourkeys"],
        &["otherkeys"],
        &["status", "198.18.0.100/24/eth0"],
        &["status", "IPaddr2::198.18.0.199/24/eth0"],
        &["status", "NoSuchScript::x"],
        &["bogus"],
    ] {
        let real = rm(a, REAL_RM, "/var/log/rm-real", args)?;
        let mine = rm(a, &ours, "/var/log/rm-ours", args)?;
        assert_eq!(mine, real, "ResourceManager {}", args.join(" "));
    }

    // givegroup / takegroup: same effect, same log lines.
    let key = "198.18.0.100/24/eth0";
    let has_vip = || a.has_address("eth0", "198.18.0.100");
    let mut lines = Vec::new();
    for (label, bin, log) in [
        ("3.0.6", REAL_RM, "/var/log/rm-real-group"),
        ("ours", ours.as_str(), "/var/log/rm-ours-group"),
    ] {
        let (code, _) = rm(a, bin, log, &["givegroup", key])?;
        assert_eq!(code, Some(0), "{label} givegroup");
        assert!(!has_vip(), "{label} givegroup left the VIP");
        let (code, _) = rm(a, bin, log, &["takegroup", key])?;
        assert_eq!(code, Some(0), "{label} takegroup");
        assert!(has_vip(), "{label} takegroup did not bring the VIP back");
        lines.push(messages(a, log)?);
    }
    assert!(
        lines[0]
            .iter()
            .any(|l| l.contains("Acquiring resource group")),
        "{:?}",
        lines[0]
    );
    assert_eq!(lines[1], lines[0], "log lines of givegroup + takegroup");
    Ok(())
}
