//! Unit tests: configuration text → model → texts, with a fake host.
//! (The Pacemaker and Corosync tools check the texts in tests/pacemaker_*.rs.)

use std::net::IpAddr;
use std::path::Path;

use hb_config::{parse_authkeys, parse_hacf, parse_haresources, FakeSystem};

use super::*;

struct FakeHost {
    local: Option<&'static str>,
    iface: Vec<IpAddr>,
    hosts: Vec<(&'static str, &'static str)>,
}

impl FakeHost {
    fn new() -> FakeHost {
        FakeHost {
            local: None,
            iface: Vec::new(),
            hosts: Vec::new(),
        }
    }
}

impl Host for FakeHost {
    fn local_node(&self) -> Option<String> {
        self.local.map(String::from)
    }
    fn interface_addrs(&self, _iface: &str) -> Vec<IpAddr> {
        self.iface.clone()
    }
    fn resolve(&self, name: &str) -> Vec<IpAddr> {
        self.hosts
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, a)| a.parse().unwrap())
            .collect()
    }
    fn ocf_agent(&self, _provider: &str, agent: &str) -> bool {
        agent != "ServeRAID"
    }
    fn lsb_script(&self, name: &str) -> bool {
        name == "postgresql"
    }
    fn systemd_unit(&self, name: &str) -> bool {
        name == "nginx"
    }
    fn heartbeat_script(&self, name: &str) -> bool {
        name == "mycustom"
    }
    fn rc_hooks(&self) -> Vec<std::path::PathBuf> {
        vec![
            "/etc/ha.d/rc.d/status".into(),
            "/etc/ha.d/rc.d/notify-admin".into(),
        ]
    }
    fn stonith_params(&self, plugin: &str) -> Option<Vec<String>> {
        match plugin {
            "baytech" => Some(vec!["ipaddr".into(), "login".into(), "password".into()]),
            "null" => Some(vec!["hostlist".into()]),
            _ => None,
        }
    }
}

const KEYS: &str = "auth 1\n1 sha1 s3cret-key\n";

fn run(hacf: &str, res: &str, addrs: &[&str], host: &FakeHost) -> Result<Export, Vec<ExportError>> {
    let sys = FakeSystem::default();
    let (cfg, _) = parse_hacf(hacf, Path::new("/etc/ha.d/ha.cf"), "nodea", &sys).unwrap();
    let keys = parse_authkeys(KEYS, Path::new("/etc/ha.d/authkeys")).unwrap();
    let groups = parse_haresources(res, Path::new("/etc/ha.d/haresources"), &cfg.nodes).unwrap();
    let addrs: Vec<AddrOverride> = addrs.iter().map(|a| a.parse().unwrap()).collect();
    let src = Source {
        hacf: &cfg,
        authkeys: &keys,
        resources: &groups,
        hacf_path: Path::new("/etc/ha.d/ha.cf"),
        hacf_text: hacf,
        authkeys_path: Path::new("/etc/ha.d/authkeys"),
        authkeys_text: KEYS,
        haresources_path: Path::new("/etc/ha.d/haresources"),
        addrs: &addrs,
    };
    export(&src, host)
}

const DEMO: &str = "logfile /var/log/ha-log\nkeepalive 200ms\ndeadtime 1\nwarntime 600ms\n\
initdead 2\nbcast eth0\nauto_failback on\nnode nodea\nnode nodeb\n";
const AB: &[&str] = &["nodea:eth0=198.18.0.10", "nodeb:eth0=198.18.0.11"];

#[test]
fn demo_corosync_conf() {
    let e = run(
        DEMO,
        "nodea IPaddr2::198.18.0.100/24/eth0\n",
        AB,
        &FakeHost::new(),
    )
    .unwrap();
    let cc = &e.corosync_conf;
    for want in [
        "version: 2",
        "cluster_name: linux-ha",
        "transport: knet",
        "crypto_cipher: aes256",
        "crypto_hash: sha256",
        "token: 1000",
        "token_warning: 60",
        "linknumber: 0",
        "name: nodea\n        nodeid: 1",
        "ring0_addr: 198.18.0.10",
        "name: nodeb\n        nodeid: 2",
        "ring0_addr: 198.18.0.11",
        "provider: corosync_votequorum",
        "two_node: 1",
        "# eth0: --addr nodea:eth0=198.18.0.10",
    ] {
        assert!(cc.contains(want), "{want:?} missing in\n{cc}");
    }
    assert!(!cc.contains("ring1_addr"));
}

#[test]
fn demo_cib() {
    let e = run(
        DEMO,
        "nodea IPaddr2::198.18.0.100/24/eth0\n",
        AB,
        &FakeHost::new(),
    )
    .unwrap();
    let cib = &e.cib_xml;
    for want in [
        r#"<nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/>"#,
        r#"name="dc-deadtime" value="2s""#,
        r#"<node id="1" uname="nodea"/>"#,
        r#"<group id="group_1">"#,
        r#"<primitive id="ip_198_18_0_100" class="ocf" provider="heartbeat" type="IPaddr2">"#,
        r#"name="ip" value="198.18.0.100""#,
        r#"name="cidr_netmask" value="24""#,
        r#"name="nic" value="eth0""#,
        r#"name="monitor" interval="10s" timeout="20s""#,
        r#"<rsc_location id="location-group_1-nodea" rsc="group_1" node="nodea" score="100"/>"#,
        r#"name="resource-stickiness" value="0""#,
        "<status/>",
    ] {
        assert!(cib.contains(want), "{want:?} missing in\n{cib}");
    }
    assert!(e.migration.contains("stonith-enabled=false"));
    assert!(e
        .pcs_commands
        .contains("pcs -f \"$CIB\" resource create ip_198_18_0_100 ocf:heartbeat:IPaddr2 ip=198.18.0.100 cidr_netmask=24 nic=eth0 op monitor interval=10s timeout=20s --group group_1"));
    assert!(e
        .pcs_commands
        .contains("constraint location group_1 prefers nodea=100"));
    assert!(e.crm_commands.contains("group group_1 ip_198_18_0_100\n"));
    assert!(e
        .crm_commands
        .contains("location location-group_1-nodea group_1 100: nodea"));
}

#[test]
fn groups_keep_order_and_map_each_kind() {
    let res = "nodea 10.0.0.5/255.255.255.0/eth0 Filesystem::/dev/sda1::/data1::ext2 postgresql\n\
               nodeb IPaddr::10.0.0.6 nginx Delay::5::3 mycustom ServeRAID::1::2 httpd\n";
    let e = run(DEMO, res, AB, &FakeHost::new()).unwrap();
    let g: Vec<Vec<String>> = e
        .cluster
        .groups
        .iter()
        .map(|g| {
            g.members
                .iter()
                .map(|p| format!("{} {}", p.id, p.spec()))
                .collect()
        })
        .collect();
    assert_eq!(
        g,
        vec![
            vec![
                "ip_10_0_0_5 ocf:heartbeat:IPaddr2".to_string(),
                "fs_data1 ocf:heartbeat:Filesystem".into(),
                "postgresql lsb:postgresql".into(),
            ],
            vec![
                "ip_10_0_0_6 ocf:heartbeat:IPaddr2".to_string(),
                "nginx systemd:nginx".into(),
                "delay_5 ocf:heartbeat:Delay".into(),
                "httpd lsb:httpd".into(),
            ],
        ]
    );
    let fs = &e.cluster.groups[0].members[1];
    assert_eq!(
        fs.params,
        vec![
            ("device".to_string(), "/dev/sda1".to_string()),
            ("directory".into(), "/data1".into()),
            ("fstype".into(), "ext2".into())
        ]
    );
    assert_eq!(e.cluster.groups[0].members[0].params[1].1, "24");
    let m = &e.migration;
    assert!(m.contains(
        "/etc/ha.d/haresources:2: mycustom\n      NOT MAPPED: custom heartbeat resource script"
    ));
    assert!(m.contains("/etc/ha.d/haresources:2: ServeRAID::1::2\n      NOT MAPPED: ocf:heartbeat:ServeRAID is not installed"));
    assert!(m.contains("/etc/ha.d/haresources:2: httpd\n      approximated: httpd lsb:httpd; neither /etc/init.d/httpd"));
    assert!(m.contains("/etc/ha.d/haresources:1: nodea 10.0.0.5/255.255.255.0/eth0"));
    // Order in the CIB is the haresources order.
    let cib = &e.cib_xml;
    let pos = |s: &str| cib.find(s).unwrap();
    assert!(
        pos("id=\"ip_10_0_0_6\"") < pos("id=\"nginx\"")
            && pos("id=\"nginx\"") < pos("id=\"delay_5\"")
    );
}

#[test]
fn auto_failback_off_is_sticky_enough() {
    let off = DEMO.replace("auto_failback on", "auto_failback off");
    let e = run(&off, "nodea 10.0.0.5 10.0.0.6\n", AB, &FakeHost::new()).unwrap();
    assert_eq!(e.cluster.stickiness.per_resource, 200);
    assert!(e
        .cib_xml
        .contains(r#"name="resource-stickiness" value="200""#));
    let legacy = DEMO.replace("auto_failback on\n", "");
    let e = run(&legacy, "nodea 10.0.0.5\n", AB, &FakeHost::new()).unwrap();
    assert_eq!(e.cluster.stickiness.per_resource, 0);
    assert!(e.migration.contains("legacy behaves like auto_failback on"));
}

#[test]
fn ping_and_ipfail() {
    let cfg = format!(
        "{DEMO}ping 198.18.0.50\nping_group pg 198.18.0.60 198.18.0.61\n\
         respawn hacluster /usr/libexec/heartbeat/ipfail\n"
    );
    let e = run(
        &cfg,
        "nodea 10.0.0.5 10.0.0.6 10.0.0.7\n",
        AB,
        &FakeHost::new(),
    )
    .unwrap();
    let ping = e.cluster.ping.as_ref().unwrap();
    assert!(ping.ipfail);
    assert_eq!(
        ping.primitive.params[0],
        (
            "host_list".to_string(),
            "198.18.0.50 198.18.0.60 198.18.0.61".to_string()
        )
    );
    // 3 members x 200 + 100 < multiplier.
    assert_eq!(ping.primitive.params[1].1, "1000");
    assert!(e
        .cib_xml
        .contains(r#"<rule id="location-group_1-pingd-rule" score-attribute="pingd">"#));
    assert!(e.crm_commands.contains("clone ping-clone ping\n"));
    assert!(e
        .crm_commands
        .contains("host_list=\"198.18.0.50 198.18.0.60 198.18.0.61\""));
    assert!(e
        .pcs_commands
        .contains("'host_list=198.18.0.50 198.18.0.60 198.18.0.61'"));
    assert!(e.migration.contains("respawn hacluster /usr/libexec/heartbeat/ipfail\n      approximated: ipfail becomes a location rule"));
    // Without ipfail: the clone, no rule.
    let cfg = format!("{DEMO}ping 198.18.0.50\n");
    let e = run(&cfg, "nodea 10.0.0.5\n", AB, &FakeHost::new()).unwrap();
    assert!(!e.cluster.ping.as_ref().unwrap().ipfail);
    assert!(!e.cib_xml.contains("score-attribute"));
}

#[test]
fn stonith_hosts() {
    let cfg = format!(
        "{DEMO}stonith_host * baytech 10.0.0.3 mylogin mysecretpassword\n\
         stonith_host nodea null nodeb\nstonith_host nodeb rps10 /dev/ttyS1 nodea 0\n\
         stonith_host ghost null nodea\n"
    );
    let e = run(&cfg, "nodea 10.0.0.5\n", AB, &FakeHost::new()).unwrap();
    assert!(e.cluster.stonith_enabled());
    assert_eq!(e.cluster.fences.len(), 2);
    let f = &e.cluster.fences[0].primitive;
    assert_eq!(f.spec(), "stonith:fence_legacy");
    assert_eq!(
        f.params,
        vec![
            ("plugin".to_string(), "baytech".to_string()),
            ("ipaddr".into(), "10.0.0.3".into()),
            ("login".into(), "mylogin".into()),
            ("password".into(), "mysecretpassword".into()),
        ]
    );
    assert_eq!(e.cluster.fences[1].banned, vec!["nodeb".to_string()]);
    assert!(e
        .cib_xml
        .contains(r#"rsc="fence_null" node="nodeb" score="-INFINITY""#));
    assert!(e.cib_xml.contains(r#"name="stonith-enabled" value="true""#));
    assert!(e.migration.contains("ha.cf:12: stonith_host nodeb rps10 <3 parameter word(s)>\n      NOT MAPPED: the cluster-glue STONITH plugin rps10 is not installed"));
    assert!(e
        .pcs_commands
        .contains("pcs -f \"$CIB\" constraint location fence_null avoids nodeb"));
    assert!(e.migration.contains(
        "ha.cf:13: stonith_host ghost null <1 parameter word(s)>\n      NOT MAPPED: ghost is not a cluster node"
    ));
    assert!(
        !e.migration.contains("mysecretpassword"),
        "device passwords must stay out of MIGRATION.txt"
    );
    assert!(e
        .crm_commands
        .contains("location location-fence_null-nodeb fence_null -inf: nodeb"));
}

#[test]
fn every_directive_is_reported_with_its_line() {
    let cfg = format!(
        "{DEMO}serial /dev/ttyS0\nwatchdog /dev/watchdog\nrespawn hacluster /usr/bin/foo\n"
    );
    let cfg = cfg.replace("bcast eth0\n", "bcast eth0\nucast eth1 198.19.0.11\n");
    let host = FakeHost {
        local: Some("nodea"),
        iface: vec!["198.19.0.10".parse().unwrap()],
        hosts: Vec::new(),
    };
    let e = run(&cfg, "nodea 10.0.0.5\n", AB, &host).unwrap();
    let lines = hb_config::lexer::lex(&cfg).len();
    let hacf = &e.cluster.report[0];
    assert_eq!(
        hacf.items.iter().filter(|i| i.line.is_some()).count(),
        lines
    );
    let m = &e.migration;
    assert!(m.contains(
        "/etc/ha.d/ha.cf:11: serial /dev/ttyS0\n      NOT MAPPED: knet has no serial transport"
    ));
    assert!(m.contains("/etc/ha.d/ha.cf:12: watchdog /dev/watchdog\n      NOT MAPPED: use sbd"));
    assert!(m.contains("/etc/ha.d/ha.cf:13: respawn hacluster /usr/bin/foo\n      NOT MAPPED: Pacemaker does not respawn"));
    assert!(
        m.contains("/etc/ha.d/ha.cf:7: ucast eth1 198.19.0.11\n      mapped: knet link 1 on eth1")
    );
    assert!(m.contains("/etc/ha.d/authkeys:2: 1 sha1 <secret>"));
    assert!(
        m.contains("/etc/ha.d/rc.d/notify-admin: notify-admin\n      NOT MAPPED: custom rc.d hook")
    );
    assert!(m.contains("/etc/ha.d/rc.d/status: status\n      mapped:"));
    assert!(
        !m.contains("s3cret-key"),
        "the secret must never be printed"
    );
    // nodea is this host (its eth1 address), nodeb is the ucast peer.
    assert!(e.corosync_conf.contains("ring1_addr: 198.19.0.10"));
    assert!(e.corosync_conf.contains("ring1_addr: 198.19.0.11"));
}

#[test]
fn addresses_from_ucast_local_interface_and_resolution() {
    let cfg = DEMO.replace("bcast eth0", "ucast eth0 198.18.0.11");
    let host = FakeHost {
        local: Some("nodea"),
        iface: vec!["198.18.0.10".parse().unwrap()],
        hosts: Vec::new(),
    };
    let e = run(&cfg, "nodea 10.0.0.5\n", &[], &host).unwrap();
    let a = &e.cluster.nodes[0].addrs[0];
    let b = &e.cluster.nodes[1].addrs[0];
    assert_eq!(a.0.to_string(), "198.18.0.10");
    assert!(a.1.contains("this host's interface eth0"), "{}", a.1);
    assert_eq!(b.0.to_string(), "198.18.0.11");
    assert!(
        b.1.contains("ha.cf:6: ucast eth0 198.18.0.11, the peer of this host"),
        "{}",
        b.1
    );

    let host = FakeHost {
        local: None,
        iface: Vec::new(),
        hosts: vec![("nodea", "192.0.2.1"), ("nodeb", "192.0.2.2")],
    };
    let e = run(DEMO, "nodea 10.0.0.5\n", &[], &host).unwrap();
    assert!(e
        .corosync_conf
        .contains("# eth0: name resolution of nodeb\n        ring0_addr: 192.0.2.2"));
}

#[test]
fn errors_are_actionable() {
    let errs = run(DEMO, "nodea 10.0.0.5\n", &[], &FakeHost::new()).unwrap_err();
    assert_eq!(errs.len(), 2);
    assert_eq!(
        errs[0].to_string(),
        "no address for node nodea on link 0 (eth0): not in a ucast line, not this host, and \
         nodea does not resolve; give --addr nodea:eth0=IP"
    );
    let errs = run(
        DEMO,
        "",
        &[
            "nodec:eth0=1.2.3.4",
            "nodea:eth9=1.2.3.4",
            "nodeb:eth0=198.18.0.11",
            "nodea:eth0=198.18.0.10",
        ],
        &FakeHost::new(),
    )
    .unwrap_err();
    assert_eq!(errs.len(), 2);
    assert!(errs[0].to_string().contains("nodec is not a node of ha.cf"));
    assert!(errs[1]
        .to_string()
        .contains("eth9 carries no heartbeat medium"));
    assert!("nodea=1.2.3.4".parse::<AddrOverride>().is_err());
    assert!("nodea:eth0=1.2.3".parse::<AddrOverride>().is_err());
    let serial_only = DEMO.replace("bcast eth0", "serial /dev/ttyS0");
    let errs = run(&serial_only, "", &[], &FakeHost::new()).unwrap_err();
    assert!(errs[0]
        .to_string()
        .contains("no bcast, mcast or ucast medium"));
}

#[test]
fn three_nodes_no_two_node() {
    let cfg = DEMO.replace("node nodeb\n", "node nodeb\nnode nodec\n");
    let e = run(
        &cfg,
        "nodea 10.0.0.5\nnodec 10.0.0.6\n",
        &[AB[0], AB[1], "nodec:eth0=198.18.0.12"],
        &FakeHost::new(),
    )
    .unwrap();
    assert!(!e.corosync_conf.contains("two_node"));
    assert!(e.corosync_conf.contains("nodeid: 3"));
    assert!(e
        .cib_xml
        .contains(r#"rsc="group_2" node="nodec" score="100""#));
}

#[test]
fn ids_and_cluster_names_keep_only_safe_characters() {
    use crate::model::sanitize_id;
    assert_eq!(
        sanitize_id("IPaddr2::198.18.0.100/24"),
        "IPaddr2_198_18_0_100_24"
    );
    assert_eq!(sanitize_id("..httpd.."), "httpd");
    assert_eq!(sanitize_id("1st-res"), "r_1st-res");
    assert_eq!(sanitize_id("///"), "rsc");
    assert_eq!(crate::model::cluster_name("my cluster.1"), "my-cluster-1");
    assert_eq!(crate::model::cluster_name(""), "linux-ha");
}
