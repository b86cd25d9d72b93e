//! The configurations `tests/pacemaker_export.rs` exports: Debian's samples, the project's
//! captured configurations, and clusters built with the harness's `ConfigBuilder`.

use std::path::Path;
use std::process::Command;

use hb_tests::{demo_config, ConfigBuilder, Error, Result};

use super::{check, run};

const DOC: &str = "/usr/share/doc/heartbeat";

/// A Debian sample file, gunzipped.
pub(crate) fn sample(name: &str) -> Result<String> {
    let gz = Path::new(DOC).join(format!("{name}.gz"));
    let out = run(Command::new("zcat").arg(&gz))?;
    check(out.status.success(), || {
        format!("{}: install the Debian heartbeat package", gz.display())
    })?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Uncomment the sample lines that start (after `#`) with one of `prefixes`.
pub(crate) fn uncomment(text: &str, prefixes: &[&str]) -> String {
    text.lines()
        .map(|l| match l.strip_prefix('#') {
            Some(rest) if prefixes.iter().any(|p| rest.starts_with(p)) => rest.to_string(),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// One configuration to export.
pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) ha_cf: String,
    pub(crate) authkeys: String,
    pub(crate) haresources: String,
    /// `--addr` flags (node i gets the Lan's node i address).
    pub(crate) addrs: Vec<String>,
}

pub(crate) fn addrs(nodes: &[&str]) -> Vec<String> {
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{n}:eth0={}", hb_tests::node_ip(i + 1)))
        .collect()
}

/// Debian's ha.cf and haresources samples with their example lines uncommented. The example
/// addresses (135.9.216.x, 10.0.0.170) are moved into 198.18.0.0/24, the test network, so
/// IPaddr2's own validation can find their interface inside a node.
pub(crate) fn debian_sample() -> Result<Case> {
    let ha_cf = uncomment(
        &sample("ha.cf")?,
        &[
            "debugfile",
            "logfile",
            "keepalive",
            "deadtime",
            "warntime",
            "initdead",
            "udpport",
            "bcast\teth0",
            "stonith_host *",
            "stonith_host ken3",
            "node\tken3",
            "node\tkathy",
        ],
    );
    let haresources = uncomment(
        &sample("haresources")?,
        &[
            "just.linux-ha.org\t135.9.216.110 135.9.215.111",
            "just.linux-ha.org\t135.9.216.3/28",
            "node1  10.0.0.170",
        ],
    )
    .replace("just.linux-ha.org", "ken3")
    .replace("node1  ", "kathy ")
    .replace(
        "135.9.216.3/28/eth0/135.9.216.12",
        "198.18.0.3/28/eth0/198.18.0.15",
    )
    .replace("135.9.216.110", "198.18.0.110")
    .replace("135.9.215.111", "198.18.0.111")
    .replace("135.9.216.112", "198.18.0.112")
    .replace("10.0.0.170", "198.18.0.170");
    Ok(Case {
        name: "debian-sample",
        ha_cf,
        authkeys: std::fs::read_to_string(Path::new(DOC).join("authkeys"))
            .map_err(|e| Error::Invalid(format!("{DOC}/authkeys: {e}")))?
            .replace("#auth 1\n#1 crc", "auth 1\n1 crc"),
        haresources,
        addrs: addrs(&["ken3", "kathy"]),
    })
}

/// The project's captured test configuration (crates/hb-proto/tests/data).
pub(crate) fn project_config(dir: &str) -> Result<Case> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/hb-proto/tests/data")
        .join(dir);
    let read = |f: &str| {
        std::fs::read_to_string(base.join(f))
            .map_err(|e| Error::Invalid(format!("{}: {e}", base.join(f).display())))
    };
    Ok(Case {
        name: "project-config",
        ha_cf: read("ha.cf")?,
        authkeys: read("authkeys")?,
        haresources: read("haresources")?,
        addrs: addrs(&["nodea", "nodeb"]),
    })
}

pub(crate) fn from_builder(
    name: &'static str,
    cfg: hb_tests::ClusterConfig,
    nodes: &[&str],
) -> Case {
    Case {
        name,
        ha_cf: cfg.ha_cf,
        authkeys: cfg.authkeys,
        haresources: cfg.haresources,
        addrs: addrs(nodes),
    }
}

/// Three nodes, two networks (two knet links: eth0 and eth1), auto_failback off, an OCF
/// wrapper (Delay) and an init script (procps, present on every test host).
pub(crate) fn three_nodes() -> Case {
    let names = ["nodea", "nodeb", "nodec"];
    let mut cfg = ConfigBuilder::new(&names)
        .bcast("eth0")
        .mcast("eth1", std::net::Ipv4Addr::new(239, 0, 0, 42), 694)
        .auto_failback("off")
        .resource("nodea IPaddr2::198.18.0.100/24/eth0 Delay::1::1 procps")
        .resource("nodec 198.18.0.101/24/eth0")
        .build();
    cfg.ha_cf.push_str("cluster three\n");
    let mut case = from_builder("three-nodes", cfg, &names);
    for (i, n) in names.iter().enumerate() {
        case.addrs
            .push(format!("{n}:eth1={}", hb_tests::node_ip2(i + 1)));
    }
    case
}

pub(crate) fn ping_ipfail() -> Case {
    let names = ["nodea", "nodeb"];
    let cfg = ConfigBuilder::new(&names)
        .bcast("eth0")
        .ping(hb_tests::CLIENT_IP)
        .respawn("hacluster", "/usr/libexec/heartbeat/ipfail")
        .resource("nodea IPaddr2::198.18.0.100/24/eth0 IPaddr2::198.18.0.101/24/eth0")
        .build();
    from_builder("ping-ipfail", cfg, &names)
}

pub(crate) fn stonith_hosts() -> Case {
    let names = ["nodea", "nodeb"];
    let cfg = ConfigBuilder::new(&names)
        .bcast("eth0")
        .extra("stonith_host * null nodea nodeb")
        .extra("stonith_host nodea null nodeb")
        .resource("nodeb IPaddr2::198.18.0.100/24/eth0")
        .build();
    from_builder("stonith-host", cfg, &names)
}

pub(crate) fn all_cases(names: &[String]) -> Result<Vec<Case>> {
    Ok(vec![
        debian_sample()?,
        project_config("hb-sha1.config")?,
        project_config("hb-md5.config")?,
        from_builder("demo", demo_config(&names[..2]), &["nodea", "nodeb"]),
        three_nodes(),
        ping_ipfail(),
        stonith_hosts(),
    ])
}
