//! STONITH through cluster-glue (issue 12; docs/behaviour.md §5.5.2).
//!
//! Both nodes configure `stonith_host * external/hbtest-fence nodea nodeb`: a real cluster-glue
//! `external` plugin installed in each node (`hb_tests::install_fence_plugin`) that really
//! fences — it SIGKILLs every process of the victim node and deletes the victim's extra
//! addresses. The daemons run it through `/usr/sbin/stonith`, ours in its `Initiate_Reset()`
//! helper, the real 3.0.6 through libstonith. The VIP `198.18.0.100` of group `nodea` is
//! probed every 10 ms from the client, recording which MAC answered.
//!
//! * crash: the VIP owner hangs (every process SIGSTOPped: its kernel still answers for the
//!   VIP). The survivor logs the reset, the victim is fenced (no process left, no VIP), and
//!   only then does the VIP answer from the survivor.
//! * partition: heartbeat traffic between the nodes is dropped on both links (eth0 and a
//!   second LAN's eth1) while both live. Each tries to
//!   fence the other; the VIP never answers from two MACs (all replies of the old owner come
//!   before all of the new one's).
//! * failing device: no takeover while the device fails; `Host nodea not reset!` and the 5 s
//!   retries are logged; the takeover follows once the device works again.
//! * mixed pairs: the real Heartbeat 3.0.6 as survivor and ours as victim, and the other way
//!   round; the survivors log the same STONITH lines in the same order.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use hb_tests::probe::{Mac, Probe};
use hb_tests::{
    fence_calls, install_fence_plugin, set_device_failing, to_instant, wait_active, wait_for,
    ConfigBuilder, Daemon, Error, Lan, LanSpec, Node, Result, Signal, FENCE_DEVICE_ID,
    FENCE_PLUGIN,
};

const VIP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 100);
const GROUP: &str = "nodea IPaddr2::198.18.0.100/24/eth0";
/// keepalive, deadtime, warntime, initdead (the real daemon accepts the same).
const TIMINGS: [&str; 4] = ["250ms", "2", "1", "4"];
const STARTUP: Duration = Duration::from_secs(45);
const STEP: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);

/// The lines of a survivor's STONITH story, in the order they must appear.
/// (cluster-glue hands over an external plugin's `getinfo-devid` output verbatim, so the device
/// id ends with the plugin's newline: `[hbtest fencing device\n]` in both daemons' logs.)
const STORY: [&str; 3] = [
    "Resetting node nodea with [hbtest fencing device\n]",
    "node nodea now reset.",
    "Resources being acquired from nodea.",
];

fn pair(daemons: [Daemon; 2], extra: &[&str]) -> Result<Lan> {
    pair_on(daemons, extra, false)
}

/// [`pair`], with heartbeats on eth0 only or (`two_links`) on eth0 and a second LAN's eth1.
fn pair_on(daemons: [Daemon; 2], extra: &[&str], two_links: bool) -> Result<Lan> {
    let lan = Lan::with_spec(LanSpec {
        nodes: 2,
        second_lan: two_links,
    })?;
    let [k, d, w, i] = TIMINGS;
    let mut cfg = ConfigBuilder::new(&lan.node_names()).bcast("eth0");
    if two_links {
        cfg = cfg.bcast("eth1");
    }
    let mut cfg = cfg
        .timings(k, d, w, i)
        .resource(GROUP)
        .extra(&format!("stonith_host * {FENCE_PLUGIN} nodea nodeb"));
    for line in extra {
        cfg = cfg.extra(line);
    }
    let cfg = cfg.build();
    for node in lan.nodes() {
        node.apply(&cfg)?;
        install_fence_plugin(&lan, node)?;
        // records the t=stonith result message (an unclaimed type: rc.d/stonith runs for it)
        let hook = node.host_path("/etc/ha.d/rc.d/stonith")?;
        std::fs::write(
            &hook,
            "#!/bin/sh
echo \"$HA_t node=$HA_node result=$HA_result\" >> /var/log/stonith-hook.log
",
        )
        .and_then(|()| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
        })
        .map_err(|e| Error::Invalid(format!("{}: {e}", hook.display())))?;
    }
    for (node, d) in lan.nodes().iter().zip(daemons) {
        node.start(d)?;
    }
    let (a, b) = (lan.node(0), lan.node(1));
    wait_active(a, "nodeb", STARTUP)?;
    wait_active(b, "nodea", STARTUP)?;
    wait_for(
        "the VIP on nodea",
        STARTUP,
        POLL,
        || a.has_address("eth0", "198.18.0.100"),
        || a.log_text(),
    )?;
    // the device check at comm up has ended on both nodes
    for node in [a, b] {
        node.wait_for_log("Managed STONITH-stat process", STARTUP)?;
    }
    Ok(lan)
}

fn probe(lan: &Lan) -> Result<Probe> {
    Probe::start(
        lan.client_netns(),
        VIP,
        Duration::from_millis(10),
        Duration::from_secs(150),
    )
    .map_err(Error::Invalid)
}

/// Hangs every process of `node` (the kernel still answers for its addresses).
fn freeze(node: &Node) -> Result<()> {
    for pid in node.pids() {
        let _ = node.signal(pid, Signal::SIGSTOP);
    }
    Ok(())
}

/// When `fencer`'s plugin finished resetting `victim`.
fn fenced_at(fencer: &Node, victim: &str) -> Option<Instant> {
    let done = format!("reset {victim} done");
    fence_calls(fencer)
        .into_iter()
        .find(|(_, t)| *t == done)
        .map(|(at, _)| to_instant(at))
}

/// Positions of `story` in `log`, each searched after the previous one; the missing ones are
/// reported.
fn in_order(log: &str, story: &[&str]) -> std::result::Result<(), String> {
    let mut from = 0;
    for line in story {
        match log[from..].find(line) {
            Some(i) => from += i + line.len(),
            None => return Err(format!("{line:?} missing or out of order")),
        }
    }
    Ok(())
}

/// The survivor's STONITH lines (message text only), in log order.
fn stonith_lines(log: &str) -> Vec<String> {
    const KEYS: [&str; 9] = [
        "Managed STONITH",
        "Resetting node",
        "now reset.",
        "not reset!",
        "STONITH of",
        "No STONITH device",
        "Resources being acquired from",
        "Dead node",
        "Checking status of STONITH",
    ];
    log.lines()
        .filter_map(|l| {
            // "Dec 03 13:37:21 nodeb heartbeat: [15031]: info: text"
            let text = l.split_once("]: ").map_or(l, |(_, t)| t);
            // drop "info: " / "WARN: " level prefixes of the C and ours
            let text = text.split_once(": ").map_or(text, |(lvl, t)| {
                if lvl.chars().all(|c| c.is_ascii_alphabetic()) {
                    t
                } else {
                    text
                }
            });
            KEYS.iter().any(|k| text.contains(k)).then(|| {
                // "Managed STONITH nodea process 1234 exited ..." -> "process N"
                let words: Vec<&str> = text.split_whitespace().collect();
                words
                    .iter()
                    .enumerate()
                    .map(|(i, w)| {
                        if i > 0
                            && words[i - 1] == "process"
                            && w.chars().all(|c| c.is_ascii_digit())
                        {
                            "N"
                        } else {
                            w
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
        })
        .collect()
}

/// Crash of the VIP owner `nodea` (daemons[0]); `nodeb` (daemons[1]) fences it and takes over.
/// Returns the survivor's STONITH lines after the crash and the victim's before it.
fn crash_is_fenced_before_takeover(daemons: [Daemon; 2]) -> Result<(Vec<String>, Vec<String>)> {
    let lan = pair(daemons, &[])?;
    let (a, b) = (lan.node(0), lan.node(1));
    let (mac_a, mac_b) = (a.mac("eth0")?, b.mac("eth0")?);
    let probe = probe(&lan)?;
    if probe.wait_from(&mac_a, probe.started, STEP).is_none() {
        return Err(Error::Invalid("the VIP does not answer from nodea".into()));
    }
    let mark = b.log_text().len();
    let victim_log = a.log_text();
    freeze(a)?;
    let t0 = Instant::now();
    b.wait_for_log("node nodea now reset.", STEP)?;
    let fenced = fenced_at(b, "nodea")
        .ok_or_else(|| Error::Invalid(format!("no completed reset: {:?}", fence_calls(b))))?;
    let first_b = probe.wait_from(&mac_b, t0, STEP).ok_or_else(|| {
        Error::Invalid(format!(
            "the VIP never answered from nodeb after the reset\n{}",
            b.log_text()
        ))
    })?;
    let replies = probe.stop();
    // the victim is fenced: nothing of it runs, its VIP is gone
    let left = a.pids();
    if !left.is_empty() {
        return Err(Error::Invalid(format!("nodea still runs {left:?}")));
    }
    if a.has_address("eth0", "198.18.0.100") {
        return Err(Error::Invalid("nodea still has the VIP".into()));
    }
    // only after the reset did the survivor answer; the victim never after it
    if first_b.at < fenced {
        return Err(Error::Invalid(format!(
            "nodeb answered {:?} before the reset completed",
            fenced - first_b.at
        )));
    }
    let late_a = replies
        .iter()
        .filter(|r| r.mac == mac_a && r.at > fenced + Duration::from_millis(50))
        .count();
    if late_a > 0 {
        return Err(Error::Invalid(format!(
            "{late_a} replies from nodea after it was fenced"
        )));
    }
    let log = b.log_text()[mark..].to_string();
    in_order(&log, &STORY).map_err(|e| Error::Invalid(format!("nodeb: {e}\n{log}")))?;
    let hook_log = b.host_path("/var/log/stonith-hook.log")?;
    wait_for(
        "the t=stonith result message on nodeb",
        STEP,
        POLL,
        || {
            std::fs::read_to_string(&hook_log)
                .is_ok_and(|t| t.contains("stonith node=nodea result=OK"))
        },
        || std::fs::read_to_string(&hook_log).unwrap_or_default(),
    )?;
    if !b
        .log_text()
        .contains("Checking status of STONITH device [hbtest fencing device\n]")
    {
        return Err(Error::Invalid("no device check at comm up".into()));
    }
    Ok((stonith_lines(&log), stonith_lines(&victim_log)))
}

/// The survivor's lines name the device and the victim exactly as the C daemon does.
fn check_story(lines: &[String]) -> Result<()> {
    let want = [
        format!("Resetting node nodea with [{FENCE_DEVICE_ID}"),
        "node nodea now reset.".to_string(),
        "Managed STONITH nodea process N exited with return code 0.".to_string(),
        "Resources being acquired from nodea.".to_string(),
    ];
    if lines != want {
        return Err(Error::Invalid(format!(
            "survivor's STONITH lines {lines:#?}, expected {want:#?}"
        )));
    }
    Ok(())
}

#[test]
fn crash_fenced_before_takeover_ours() -> Result<()> {
    let (lines, _) = crash_is_fenced_before_takeover([Daemon::ours()?, Daemon::ours()?])?;
    check_story(&lines)
}

/// The same crash with the real 3.0.6 as survivor (ours the victim) and the other way round:
/// both survivors log the same STONITH lines in the same order.
#[test]
fn crash_fenced_mixed_same_lines_as_3_0_6() -> Result<()> {
    let (real, ours_victim) = crash_is_fenced_before_takeover([Daemon::ours()?, Daemon::Real])?;
    let (ours, real_victim) = crash_is_fenced_before_takeover([Daemon::Real, Daemon::ours()?])?;
    if real != ours {
        return Err(Error::Invalid(format!(
            "3.0.6 survivor logged {real:#?}\nours logged {ours:#?}"
        )));
    }
    // before the crash both victims checked the device the same way
    if real_victim != ours_victim || real_victim.is_empty() {
        return Err(Error::Invalid(format!(
            "3.0.6 victim logged {real_victim:#?}\nours logged {ours_victim:#?}"
        )));
    }
    check_story(&ours)
}

#[test]
fn failing_device_holds_the_takeover_until_it_recovers() -> Result<()> {
    let lan = pair([Daemon::ours()?, Daemon::ours()?], &[])?;
    let (a, b) = (lan.node(0), lan.node(1));
    let mac_b = b.mac("eth0")?;
    set_device_failing(b, true)?;
    let probe = probe(&lan)?;
    let mark = b.log_text().len();
    freeze(a)?;
    let t0 = Instant::now();
    // two failed attempts, 5 s apart
    wait_for(
        "two failed resets of nodea on nodeb",
        STEP,
        POLL,
        || {
            b.log_text()[mark..]
                .matches("Host nodea not reset!")
                .count()
                >= 2
        },
        || b.log_text()[mark..].to_string(),
    )?;
    let log = b.log_text()[mark..].to_string();
    in_order(
        &log,
        &[
            "Resetting node nodea with [hbtest fencing device\n]",
            "Host nodea not reset!",
            "STONITH of nodea failed.  Retrying...",
            "Resetting node nodea with [hbtest fencing device\n]",
            "Host nodea not reset!",
        ],
    )
    .map_err(|e| Error::Invalid(format!("nodeb: {e}\n{log}")))?;
    if log.contains("Resources being acquired") || b.has_address("eth0", "198.18.0.100") {
        return Err(Error::Invalid(format!(
            "takeover despite the failed reset\n{log}"
        )));
    }
    if let Some(r) = probe.first_from(&mac_b, t0) {
        return Err(Error::Invalid(format!(
            "VIP answered from nodeb {:?} after the crash, before any reset",
            r.at - t0
        )));
    }
    let attempts = fence_calls(b)
        .iter()
        .filter(|(_, t)| t == "reset nodea failing")
        .map(|(at, _)| *at)
        .collect::<Vec<_>>();
    let [first, second, ..] = attempts[..] else {
        return Err(Error::Invalid(format!(
            "the device logged {} failing reset(s) of nodea, expected 2: {:?}",
            attempts.len(),
            fence_calls(b)
        )));
    };
    let gap = second.duration_since(first).unwrap_or_default();
    if gap < Duration::from_millis(4_500) || gap > Duration::from_secs(15) {
        return Err(Error::Invalid(format!("retry after {gap:?}, expected 5 s")));
    }
    set_device_failing(b, false)?;
    b.wait_for_log("node nodea now reset.", STEP)?;
    if probe.wait_from(&mac_b, t0, STEP).is_none() {
        return Err(Error::Invalid(
            "no takeover after the device recovered".into(),
        ));
    }
    let log = b.log_text()[mark..].to_string();
    in_order(
        &log,
        &[
            "Host nodea not reset!",
            "node nodea now reset.",
            "Resources being acquired from nodea.",
        ],
    )
    .map_err(|e| Error::Invalid(format!("nodeb: {e}\n{log}")))
}

/// Drops heartbeat traffic (UDP 694) on `node`'s eth0 and eth1 both ways; ICMP to the VIP
/// still flows.
fn partition(node: &Node) -> Result<()> {
    for iface in ["eth0", "eth1"] {
        let rules = format!(
            "table netdev hbt_part_{iface} {{\n chain in {{ type filter hook ingress device \"{iface}\" priority 0; udp dport 694 drop; udp sport 694 drop; }}\n chain out {{ type filter hook egress device \"{iface}\" priority 0; udp dport 694 drop; udp sport 694 drop; }}\n}}\n"
        );
        let out = node.exec(&["sh", "-c", &format!("printf '%s' '{rules}' | nft -f -")])?;
        if !out.status.success() {
            return Err(Error::Invalid(format!(
                "nft: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
    }
    Ok(())
}

#[test]
fn partition_never_two_vip_owners() -> Result<()> {
    let lan = pair_on([Daemon::ours()?, Daemon::ours()?], &[], true)?;
    let (a, b) = (lan.node(0), lan.node(1));
    let (mac_a, mac_b) = (a.mac("eth0")?, b.mac("eth0")?);
    let probe = probe(&lan)?;
    partition(b)?;
    let t0 = Instant::now();
    // both declare the other dead and fence; wait until one reset completed
    wait_for(
        "a completed reset",
        STEP,
        POLL,
        || fenced_at(a, "nodeb").is_some() || fenced_at(b, "nodea").is_some(),
        || format!("nodea: {:?}\nnodeb: {:?}", fence_calls(a), fence_calls(b)),
    )?;
    // let the winner take over (or keep) the VIP
    std::thread::sleep(Duration::from_secs(10));
    let replies = probe.stop();
    let after: Vec<&Mac> = replies
        .iter()
        .filter(|r| r.at >= t0)
        .map(|r| &r.mac)
        .collect();
    // once the new owner answered, the old one never again
    if let Some(first_b) = after.iter().position(|m| **m == mac_b) {
        if after[first_b..].iter().any(|m| **m == mac_a) {
            return Err(Error::Invalid(
                "the VIP answered from nodea after nodeb had answered".into(),
            ));
        }
    }
    let owners = [(a, mac_a), (b, mac_b)]
        .iter()
        .filter(|(n, _)| !n.pids().is_empty() && n.has_address("eth0", "198.18.0.100"))
        .count();
    if owners > 1 {
        return Err(Error::Invalid("both nodes hold the VIP".into()));
    }
    if after.is_empty() && owners == 1 {
        return Err(Error::Invalid("a live owner that never answered".into()));
    }
    Ok(())
}

/// `--check-config` asks cluster-glue about every device: an unknown type, too few parameters
/// and an unreadable device file are errors naming the ha.cf line (exit 6); real types with
/// their parameters pass.
#[test]
fn check_config_validates_devices_with_cluster_glue() -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("hb-stonith-cc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| Error::Invalid(e.to_string()))?;
    let write = |name: &str, text: &str, mode: u32| -> Result<()> {
        let p = dir.join(name);
        std::fs::write(&p, text)
            .and_then(|()| std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)))
            .map_err(|e| Error::Invalid(format!("{}: {e}", p.display())))
    };
    write("nodeinfo", "nodea\n", 0o644)?;
    write("authkeys", "auth 1\n1 sha1 secret\n", 0o600)?;
    write("haresources", "", 0o644)?;
    write("null.cfg", "nodea nodeb\n", 0o644)?;
    let base = "keepalive 1\ndeadtime 5\ninitdead 10\nbcast eth0\nnode nodea nodeb\n";
    let run = |extra: &str| -> Result<std::process::Output> {
        write("ha.cf", &format!("{base}{extra}"), 0o644)?;
        std::process::Command::new(Daemon::ours()?.binary())
            .args(["--check-config", "--confdir"])
            .arg(&dir)
            .output()
            .map_err(|e| Error::Invalid(e.to_string()))
    };
    let good = run(&format!(
        "stonith_host * external/ssh nodea nodeb\nstonith_host nodeb meatware nodea\nstonith null {}/null.cfg\n",
        dir.display()
    ))?;
    let bad = run(
        "stonith_host * nosuchdevice x\nstonith_host * external/ipmi nodeb 198.18.0.1\nstonith null /nonexistent/null.cfg\n",
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    if good.status.code() != Some(0) {
        return Err(Error::Invalid(format!(
            "valid devices refused: {}",
            String::from_utf8_lossy(&good.stderr)
        )));
    }
    let err = String::from_utf8_lossy(&bad.stderr).into_owned();
    if bad.status.code() != Some(6) {
        return Err(Error::Invalid(format!("exit {:?}: {err}", bad.status)));
    }
    let hacf = dir.join("ha.cf").display().to_string();
    for want in [
        format!("{hacf}:6: `stonith_host`: Invalid Stonith type [nosuchdevice]"),
        format!("{hacf}:7: `stonith_host`: Invalid Stonith configuration parameter [nodeb 198.18.0.1]: external/ipmi expects hostname ipaddr userid passwd interface"),
        format!("{hacf}:8: `stonith`: Invalid Stonith config file [/nonexistent/null.cfg]"),
    ] {
        if !err.contains(&want) {
            return Err(Error::Invalid(format!("missing {want:?} in:\n{err}")));
        }
    }
    Ok(())
}

/// A node that stops gracefully gives its groups up and says so (`shutdone`): no reset is
/// needed, the peer takes over without calling the device.
#[test]
fn graceful_stop_needs_no_reset() -> Result<()> {
    let lan = pair([Daemon::ours()?, Daemon::ours()?], &[])?;
    let (a, b) = (lan.node(0), lan.node(1));
    let mark = b.log_text().len();
    a.stop()?;
    wait_for(
        "nodeb to hold the VIP",
        STEP,
        POLL,
        || b.has_address("eth0", "198.18.0.100"),
        || b.log_text()[mark..].to_string(),
    )?;
    let log = b.log_text()[mark..].to_string();
    if log.contains("Resetting node") || fence_calls(b).iter().any(|(_, t)| t.starts_with("reset"))
    {
        return Err(Error::Invalid(format!(
            "a reset after a graceful stop\n{log}"
        )));
    }
    in_order(
        &log,
        &[
            "Received shutdown notice from 'nodea'.",
            "Resources being acquired from nodea.",
        ],
    )
    .map_err(|e| Error::Invalid(format!("nodeb: {e}\n{log}")))
}
