//! `hb-demo`: a two-node heartbeat-rs cluster with a virtual IP, in network namespaces, from an
//! embedded configuration; shows the process tree and cl_status, crashes the active node and
//! measures how long a client could not reach the VIP. Run it with `sudo scripts/demo.sh`.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use hb_tests::probe::{self, Probe};
use hb_tests::{Daemon, Lan, Node};

const VIP: std::net::Ipv4Addr = hb_tests::DEMO_VIP;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn say(s: &str) {
    println!("\n\x1b[1m==> {s}\x1b[0m");
}

fn show(node: &Node, args: &[&str]) -> Result<()> {
    let out = node.exec(args)?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    Ok(())
}

fn run() -> Result<()> {
    hb_tests::require_root()?;
    let ours = Daemon::ours()?;
    let cl_status = ours.binary().with_file_name("cl_status");
    let cl_status = cl_status.display().to_string();

    say("building two nodes (nodea, nodeb) and a client in network namespaces");
    let lan = Lan::new(2)?;
    let config = hb_tests::demo_config(&lan.node_names());
    println!("ha.cf:\n{}", config.ha_cf);
    println!("haresources:\n{}", config.haresources);
    let (a, b) = (lan.node(0), lan.node(1));
    for node in lan.nodes() {
        node.apply(&config)?;
    }
    a.start(ours.clone())?;
    b.start(ours)?;
    let (mac_a, mac_b) = (a.mac("eth0")?, b.mac("eth0")?);
    println!(
        "nodea eth0 {}, nodeb eth0 {}",
        probe::mac_text(&mac_a),
        probe::mac_text(&mac_b)
    );

    say("waiting for both nodes to be active and the VIP to answer from nodea");
    let prober = Probe::start(
        lan.client_netns(),
        VIP,
        Duration::from_millis(10),
        Duration::from_secs(120),
    )?;
    prober
        .wait_from(&mac_a, Instant::now(), Duration::from_secs(30))
        .ok_or_else(|| format!("the VIP never answered from nodea:\n{}", a.log_text()))?;

    say("ps on nodea");
    show(
        a,
        &[
            "ps",
            "-o",
            "pid,ppid,cls,args",
            "-p",
            &a.pids()
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ],
    )?;
    say("cl_status on nodeb");
    for args in [
        &["listnodes"][..],
        &["nodestatus", "nodea"],
        &["listhblinks", "-v", "nodea"],
        &["rscstatus", "-m"],
    ] {
        let mut full = vec![cl_status.as_str()];
        full.extend_from_slice(args);
        println!("$ cl_status {}", args.join(" "));
        show(b, &full)?;
    }

    // For their first 5 s nodes advertise deadtime + 2 s (as Heartbeat 3.0.6 does), so a
    // crash right after start is detected late; let that window pass.
    std::thread::sleep(Duration::from_secs(5));
    say("crashing nodea: SIGKILL of every process and its link down");
    let crash = Instant::now();
    a.kill9()?;
    a.cut("eth0")?;
    prober
        .wait_from(&mac_b, crash, Duration::from_secs(30))
        .ok_or_else(|| format!("the VIP never answered from nodeb:\n{}", b.log_text()))?;
    let seen =
        probe::analyze(&prober.replies(), crash, &mac_b, Instant::now()).ok_or("no reply")?;
    println!(
        "the VIP answers from nodeb {} ms after the crash (deadtime 1000 ms); the client saw no reply for {} ms",
        seen.outage.as_millis(),
        seen.gap.as_millis()
    );
    say("nodeb's log");
    for line in b.log_text().lines().filter(|l| {
        [
            "is dead",
            "acquired",
            "Taking over",
            "Resources being",
            "IPaddr2",
            "complete",
            "STONITH",
        ]
        .iter()
        .any(|k| l.contains(k))
    }) {
        println!("{line}");
    }
    say("tearing everything down");
    drop(prober);
    drop(lan);
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hb-demo: {e}");
            ExitCode::FAILURE
        }
    }
}
