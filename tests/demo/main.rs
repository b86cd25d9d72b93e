//! `hb-demo`: a two-node heartbeat-rs cluster with a virtual IP, in network namespaces, from an
//! embedded configuration and the project's own `packaging/ha.d` (no heartbeat package, no
//! host `/etc/ha.d`); shows the process tree and cl_status, crashes the active node, measures
//! how long a client could not reach the VIP, brings the node back and measures the failback.
//! Run it with `sudo scripts/demo.sh` (`--keep` leaves the cluster running, `down` removes it).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use hb_tests::probe::{self, Mac, Probe};
use hb_tests::{Daemon, HaDir, Lan, LanSetup, LanSpec, Node};

const VIP: std::net::Ipv4Addr = hb_tests::DEMO_VIP;
/// The name of a cluster left running by `--keep` (namespaces `hbdemo-a`, ...);
/// `$HB_DEMO_NAME` overrides it (tests, so that they never touch a user's demo).
fn kept_name() -> String {
    std::env::var("HB_DEMO_NAME").unwrap_or_else(|_| "hbdemo".into())
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn say(s: &str) {
    println!("\n\x1b[1m==> {s}\x1b[0m");
}

fn show(node: &Node, args: &[&str]) -> Result<()> {
    let out = node.exec(args)?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        print!("{}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// The project's `packaging/ha.d`: `$HB_HA_D` (set by scripts/demo.sh), else found above the
/// executable (`CHECKOUT/target/debug/hb-demo`).
fn ha_d_tree() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("HB_HA_D") {
        return Ok(PathBuf::from(dir));
    }
    let exe = std::env::current_exe()?;
    exe.ancestors()
        .map(|dir| dir.join("packaging/ha.d"))
        .find(|tree| tree.join("harc").is_file())
        .ok_or_else(|| {
            format!(
                "cannot find the project's packaging/ha.d above {}: set HB_HA_D",
                exe.display()
            )
            .into()
        })
}

struct Demo<'a> {
    lan: &'a Lan,
    cl_status: String,
}

impl Demo<'_> {
    fn cl_status(&self, node: &Node, args: &[&str]) -> Result<()> {
        let mut full = vec![self.cl_status.as_str()];
        full.extend_from_slice(args);
        println!("[{}]$ cl_status {}", node.name(), args.join(" "));
        show(node, &full)
    }

    /// Waits (at most 15 s) until no node reports a resource transition (`cl_status
    /// rscstatus`), so that explain describes a settled cluster.
    fn settle(&self, nodes: &[&Node]) {
        let settled = |node: &&Node| {
            node.exec(&[self.cl_status.as_str(), "rscstatus"])
                .is_ok_and(|o| {
                    let text = String::from_utf8_lossy(&o.stdout);
                    o.status.success() && !text.contains("transition")
                })
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while !nodes.iter().all(settled) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn explain_all(&self, when: &str) -> Result<()> {
        self.settle(&self.lan.nodes().iter().collect::<Vec<_>>());
        say(&format!("cl_status explain {when}"));
        for node in self.lan.nodes() {
            self.cl_status(node, &["explain"])?;
        }
        Ok(())
    }
}

fn wait_vip(prober: &Probe, mac: &Mac, since: Instant, node: &Node) -> Result<()> {
    prober
        .wait_from(mac, since, Duration::from_secs(30))
        .map(|_| ())
        .ok_or_else(|| {
            format!(
                "the VIP never answered from {}:\n{}",
                node.name(),
                node.log_text()
            )
            .into()
        })
}

fn run(keep: bool) -> Result<()> {
    hb_tests::require_root()?;
    let tree = ha_d_tree()?;
    let kept = kept_name();
    if keep && Lan::remove_named(&kept)? {
        say(&format!(
            "removed the cluster {kept} left by an earlier --keep"
        ));
    }
    say(&format!(
        "building two nodes (nodea, nodeb) and a client in network namespaces; \
         each node gets {} as /etc/ha.d",
        tree.display()
    ));
    let lan = Lan::with_setup(LanSetup {
        spec: LanSpec {
            nodes: 2,
            second_lan: false,
        },
        name: keep.then(|| kept.clone()),
        ha_d: HaDir::Tree(tree),
    })?;
    let ours = if keep {
        Daemon::ours_staged_in(&lan.dir().join("bin"))?
    } else {
        Daemon::ours()?
    };
    let bin_dir = ours
        .binary()
        .parent()
        .unwrap_or(Path::new("/"))
        .to_path_buf();
    println!(
        "our binaries are staged in {} (reachable from every node)",
        bin_dir.display()
    );
    let demo = Demo {
        lan: &lan,
        cl_status: ours.tool("cl_status")?.display().to_string(),
    };
    let mut config = hb_tests::demo_config(&lan.node_names());
    // heartbeat-rs only: the Prometheus text file, rewritten every 5 s.
    config
        .ha_cf
        .push_str("metrics_file /var/log/heartbeat.prom\n");
    println!("ha.cf:\n{}", config.ha_cf);
    println!("haresources:\n{}", config.haresources);
    let (a, b) = (lan.node(0), lan.node(1));
    for node in lan.nodes() {
        node.apply(&config)?;
    }
    say("starting heartbeat on both nodes");
    a.start(ours.clone())?;
    b.start(ours.clone())?;
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
        Duration::from_secs(180),
    )?;
    wait_vip(&prober, &mac_a, Instant::now(), a)?;

    say("ps on nodea");
    let pids = a
        .pids()
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    show(a, &["ps", "-o", "pid,ppid,cls,args", "-p", &pids])?;
    say("cl_status on nodeb");
    for args in [
        &["listnodes"][..],
        &["nodestatus", "nodea"],
        &["listhblinks", "-v", "nodea"],
        &["rscstatus", "-m"],
    ] {
        demo.cl_status(b, args)?;
    }
    demo.explain_all("before the crash")?;

    // For their first 5 s nodes advertise deadtime + 2 s (as Heartbeat 3.0.6 does), so a
    // crash right after start is detected late; let that window pass.
    std::thread::sleep(Duration::from_secs(5));
    say("crashing nodea: SIGKILL of every process and its link down");
    let crash = Instant::now();
    a.kill9()?;
    a.cut("eth0")?;
    wait_vip(&prober, &mac_b, crash, b)?;
    let failover =
        probe::analyze(&prober.replies(), crash, &mac_b, Instant::now()).ok_or("no reply")?;
    println!(
        "the VIP answers from nodeb {} ms after the crash; the client saw no reply for {} ms",
        failover.outage.as_millis(),
        failover.gap.as_millis()
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
    demo.settle(&[b]);
    // The link dies deadtime after the last packet of any kind, which can be a
    // little later than the last heartbeat that timed the node's death: wait
    // for it (bounded) so the explanation shows the settled picture.
    let link_dead = || {
        b.exec(&[demo.cl_status.as_str(), "hblinkstatus", "nodea", "eth0"])
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "dead")
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while !link_dead() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    say("cl_status explain on nodeb after the crash");
    demo.cl_status(b, &["explain"])?;

    say("nodea comes back (a reboot: fresh /run, link up, heartbeat started); auto_failback on");
    a.reset()?;
    a.uncut("eth0")?;
    let back = Instant::now();
    a.start(ours.clone())?;
    wait_vip(&prober, &mac_a, back, a)?;
    let failback =
        probe::analyze(&prober.replies(), back, &mac_a, Instant::now()).ok_or("no reply")?;
    println!(
        "failback: the VIP answers from nodea again {} ms after its restart; the client saw no reply for {} ms",
        failback.outage.as_millis(),
        failback.gap.as_millis()
    );
    demo.explain_all("after the failback")?;
    drop(prober);

    if keep {
        leave_running(lan, &bin_dir)?;
    } else {
        say("tearing everything down");
        drop(lan);
        hb_tests::stage::remove_process_stage();
    }
    say("measured");
    println!(
        "the VIP answers from nodeb {} ms after the crash (deadtime 1000 ms); the client saw no reply for {} ms",
        failover.outage.as_millis(),
        failover.gap.as_millis()
    );
    println!(
        "failback to nodea: the client saw no reply for {} ms",
        failback.gap.as_millis()
    );
    Ok(())
}

/// `--keep`: writes `on-NODE` scripts and prints the commands to look at the cluster.
fn leave_running(lan: Lan, bin_dir: &Path) -> Result<()> {
    let dir = lan.dir().to_path_buf();
    let on = |node: &Node| dir.join(format!("on-{}", node.name()));
    for node in lan.nodes() {
        node.write_enter_script(&on(node), bin_dir)?;
    }
    let (a, b) = (lan.node(0), lan.node(1));
    let (on_a, on_b) = (on(a).display().to_string(), on(b).display().to_string());
    let log = |node: &Node| {
        node.host_path("/var/log/ha-log")
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    say(&format!(
        "the cluster {} keeps running (--keep); look at it with these commands",
        kept_name()
    ));
    println!("  # on-NODE runs a command on that node (its namespace and files; our tools first in PATH)");
    println!("  {on_a} cl_status listnodes");
    println!("  {on_b} cl_status nodestatus nodea");
    println!("  {on_a} cl_status rscstatus");
    println!("  {on_a} cl_status explain");
    println!("  {on_b} cl_status metrics");
    println!("  {on_a} hb_standby      # nodea hands the VIP to nodeb");
    println!("  {on_a} hb_takeover     # and takes it back");
    println!("  tail -f {} {}", log(a), log(b));
    println!(
        "  cat {}   # the metrics_file (Prometheus text, rewritten every 5 s)",
        a.host_path("/var/log/heartbeat.prom")
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    );
    println!("  ip netns exec {} ip -4 addr show eth0", a.netns());
    println!("  ip netns exec {} ping -c 3 {VIP}", lan.client_netns());
    println!("  sudo scripts/demo.sh down   # stop and remove it");
    lan.keep();
    Ok(())
}

fn down(name: &str) -> Result<()> {
    hb_tests::require_root()?;
    if Lan::remove_named(name)? {
        println!("==> removed the demo cluster {name} (its processes, namespaces and files)");
    } else {
        println!("==> no demo cluster {name} to remove");
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => run(false),
        ["--keep"] => run(true),
        ["down"] => down(&kept_name()),
        _ => Err("usage: hb-demo [--keep | down]".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hb-demo: {e}");
            ExitCode::FAILURE
        }
    }
}
