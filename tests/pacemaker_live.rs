//! Live: the demo configuration exported with `heartbeat --export-pacemaker` runs a real
//! 2-node Corosync 3 + Pacemaker 2 cluster in network namespaces (issue 16).
//!
//! Each node gets private `/run`, `/dev/shm`, `/var/lib/pacemaker`, `/var/lib/corosync`,
//! `/var/log`, `/etc/corosync` and its host name; `corosync -f` and `pacemakerd` are started
//! directly (no systemd). The cluster is configured only from the export: corosync.conf and
//! authkey installed as exported, cib.xml loaded with `cibadmin --replace` (step 4 of
//! MIGRATION.txt). The VIP must answer from its home node (nodea); after every process of
//! nodea is SIGKILLed and its link cut (a crash), it must answer from nodeb. Dropping the
//! nodes and the Lan kills everything by PID and removes the namespaces.

use std::time::{Duration, Instant};

use hb_tests::pacemaker::{export_pacemaker, write_confdir, PcmkNode};
use hb_tests::probe::{mac_text, Probe};
use hb_tests::{
    demo_config, require_program, require_root, wait_for, Error, Lan, Result, DEMO_VIP,
};

/// crm_mon's view from one node: (node name, online) pairs and whether a DC is elected.
fn membership(pn: &PcmkNode<'_>) -> Option<(Vec<(String, bool)>, bool)> {
    let out = pn
        .exec(
            &["crm_mon", "-1", "--output-as=xml"],
            Duration::from_secs(10),
        )
        .ok()?;
    let xml = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return None;
    }
    let nodes = xml
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("<node ") && l.contains(" online="))
        .map(|l| {
            let name = l
                .split("name=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or("")
                .to_string();
            (name, l.contains("online=\"true\""))
        })
        .collect();
    Some((nodes, xml.contains("<current_dc present=\"true\"")))
}

#[test]
fn demo_export_runs_a_corosync_pacemaker_cluster() -> Result<()> {
    require_root()?;
    for (program, package) in [
        ("corosync", "corosync"),
        ("pacemakerd", "pacemaker"),
        ("crm_mon", "pacemaker-cli-utils"),
        ("cibadmin", "pacemaker-cli-utils"),
    ] {
        require_program(program, package)?;
    }
    let started = Instant::now();
    let lan = Lan::new(2)?;
    let (a, b) = (lan.node(0), lan.node(1));

    // Export the demo configuration (the cluster's addresses given with --addr).
    let work = a.host_path("/tmp/export-demo")?;
    let conf = work.join("ha.d");
    let cfg = demo_config(&lan.node_names());
    write_confdir(&conf, &cfg.ha_cf, &cfg.authkeys, &cfg.haresources)?;
    let addrs: Vec<String> = lan
        .nodes()
        .iter()
        .map(|n| format!("{}:eth0={}", n.name(), n.ip()))
        .collect();
    let ex = export_pacemaker(&conf, &work.join("out"), &addrs)?;
    if !ex.cib.contains("name=\"stonith-enabled\" value=\"false\"") {
        return Err(Error::Invalid(format!(
            "the demo has no stonith_host: the export must disable fencing\n{}",
            ex.cib
        )));
    }

    // Start the stack on both nodes.
    let nodes = [PcmkNode::new(a)?, PcmkNode::new(b)?];
    for pn in &nodes {
        pn.install(&ex)?;
        pn.spawn(&["corosync", "-f"], "corosync.out")?;
    }
    for pn in &nodes {
        pn.spawn(&["pacemakerd"], "pacemakerd.out")?;
    }
    let logs = || nodes.iter().map(PcmkNode::logs_tail).collect::<String>();
    wait_for(
        "both nodes online in crm_mon with an elected DC",
        // Typically 25 s (Pacemaker's default dc-deadtime of 20 s applies until the exported
        // CIB with dc-deadtime = initdead is loaded); generous for a loaded machine.
        Duration::from_secs(90),
        Duration::from_millis(500),
        || {
            membership(&nodes[1])
                .is_some_and(|(n, dc)| dc && n.len() == 2 && n.iter().all(|(_, online)| *online))
        },
        logs,
    )?;
    eprintln!("cluster formed after {:?}", started.elapsed());

    // Load the exported CIB, as MIGRATION.txt says.
    // The export directory is in nodea's /tmp.
    let cib = "/tmp/export-demo/out/cib.xml";
    let out = nodes[0].exec(
        &["cibadmin", "--replace", "--xml-file", cib],
        Duration::from_secs(30),
    )?;
    if !out.status.success() {
        return Err(Error::Invalid(format!(
            "cibadmin --replace --xml-file cib.xml failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )));
    }

    // The VIP answers from nodea, its home node.
    let (mac_a, mac_b) = (a.mac("eth0")?, b.mac("eth0")?);
    let prober = Probe::start(
        lan.client_netns(),
        DEMO_VIP,
        Duration::from_millis(20),
        Duration::from_secs(100),
    )
    .map_err(Error::Invalid)?;
    let loaded = Instant::now();
    prober
        .wait_from(&mac_a, loaded, Duration::from_secs(40))
        .ok_or_else(|| {
            Error::Invalid(format!(
                "the VIP never answered from nodea ({}):\n{}",
                mac_text(&mac_a),
                logs()
            ))
        })?;
    if b.has_address("eth0", &DEMO_VIP.to_string()) {
        return Err(Error::Invalid("the VIP is on nodeb too".into()));
    }
    eprintln!(
        "VIP answers from nodea {:?} after loading the CIB",
        loaded.elapsed()
    );

    // Crash nodea: every process killed by PID, its link cut.
    let crash = Instant::now();
    a.kill9()?;
    a.cut("eth0")?;
    prober
        .wait_from(&mac_b, crash, Duration::from_secs(40))
        .ok_or_else(|| {
            Error::Invalid(format!(
                "the VIP never answered from nodeb ({}) after nodea crashed:\n{}",
                mac_text(&mac_b),
                logs()
            ))
        })?;
    eprintln!(
        "VIP answers from nodeb {:?} after the crash; whole test {:?}",
        crash.elapsed(),
        started.elapsed()
    );
    if !b.has_address("eth0", &DEMO_VIP.to_string()) {
        return Err(Error::Invalid(
            "nodeb answers but does not hold the VIP".into(),
        ));
    }
    prober.stop();

    // Everything torn down: every process of both nodes gone, namespaces deleted.
    let pids: Vec<u32> = lan.nodes().iter().flat_map(|n| n.pids()).collect();
    let prefix = lan.prefix().to_string();
    drop(nodes);
    drop(lan);
    let left: Vec<u32> = pids.into_iter().filter(|p| hb_tests::alive(*p)).collect();
    let netns = std::fs::read_dir("/run/netns")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&format!("{prefix}-")))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if !left.is_empty() || !netns.is_empty() {
        return Err(Error::Invalid(format!(
            "teardown left processes {left:?} and namespaces {netns:?}"
        )));
    }
    Ok(())
}
