//! The runner driving Debian's real `/etc/ha.d/resource.d/IPaddr2` —
//! only ever inside a network namespace this test creates (a veth
//! interface with an address from 198.18.0.0/15). The script is reached
//! through a one-line wrapper that runs it under `ip netns exec`.
//! Skips (with the reason printed) when not root, or when `ip` or the
//! script is missing.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use hb_config::parse_haresources;
use hb_rsc_runner::{resource_running, run_group, GroupOp, ScriptEnv};

const REAL: &str = "/etc/ha.d/resource.d/IPaddr2";
const IP: &str = "/usr/sbin/ip";

/// The namespace and scratch directory, both removed on drop.
struct Lab {
    ns: String,
    dir: PathBuf,
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new(IP).args(["netns", "del", &self.ns]).status();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn ip(args: &[&str]) -> String {
    let out = Command::new(IP).args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Root and the real agent, or the test fails saying which is missing.
fn require_prerequisites() {
    hb_testutil::require_root("network namespaces");
    for p in [REAL, IP] {
        assert!(
            Path::new(p).exists(),
            "{p} is missing: install resource-agents and iproute2 (scripts/test.sh does)"
        );
    }
}

#[test]
fn real_ipaddr2_in_a_private_namespace() {
    require_prerequisites();
    let pid = std::process::id();
    let lab = Lab {
        ns: format!("hbr-{pid}"),
        dir: std::env::temp_dir().join(format!("hb-rsc-ipaddr2-{pid}")),
    };
    let _ = fs::remove_dir_all(&lab.dir);
    fs::create_dir_all(lab.dir.join("resource.d")).expect("scratch");
    ip(&["netns", "add", &lab.ns]);
    ip(&["-n", &lab.ns, "link", "set", "lo", "up"]);
    // no dummy driver on every kernel: a veth pair with both ends inside
    ip(&[
        "-n", &lab.ns, "link", "add", "hbr0", "type", "veth", "peer", "name", "hbr1",
    ]);
    ip(&["-n", &lab.ns, "link", "set", "hbr0", "up"]);
    ip(&["-n", &lab.ns, "link", "set", "hbr1", "up"]);
    ip(&[
        "-n",
        &lab.ns,
        "addr",
        "add",
        "198.18.99.1/24",
        "dev",
        "hbr0",
    ]);

    let wrapper = lab.dir.join("resource.d/IPaddr2");
    fs::write(
        &wrapper,
        format!("#!/bin/sh\nexec {IP} netns exec {} {REAL} \"$@\"\n", lab.ns),
    )
    .expect("wrapper");
    fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).expect("chmod");

    let mut env = ScriptEnv::new(&lab.dir);
    env.resource_dirs = vec![lab.dir.join("resource.d")];
    env.timeout = Duration::from_secs(60);
    env.debug_log = Some(lab.dir.join("debug.log"));
    // this test is about the script; the native path has its own
    env.native_ip = false;
    env.vars = vec![
        (
            "HA_LOGFILE".into(),
            lab.dir.join("ha.log").display().to_string(),
        ),
        (
            "HA_DEBUGLOG".into(),
            lab.dir.join("debug.log").display().to_string(),
        ),
    ];
    let groups = parse_haresources(
        "node1 IPaddr2::198.18.99.10/24/hbr0\n",
        Path::new("haresources"),
        &["node1".to_string()],
    )
    .expect("haresources");
    let g = &groups[0];
    let addrs = || ip(&["-n", &lab.ns, "-4", "addr", "show", "dev", "hbr0"]);

    assert_eq!(resource_running(&g.resources[0], &env), Some(false));
    let r = run_group(GroupOp::Acquire, g, &env);
    let debug = fs::read_to_string(lab.dir.join("debug.log")).unwrap_or_default();
    assert!(r.ok, "{:?}\n{debug}", r.log);
    assert!(addrs().contains("198.18.99.10/24"), "{}", addrs());
    assert_eq!(resource_running(&g.resources[0], &env), Some(true));

    let r = run_group(GroupOp::Release, g, &env);
    assert!(r.ok, "{:?}", r.log);
    assert!(!addrs().contains("198.18.99.10"), "{}", addrs());
    assert_eq!(resource_running(&g.resources[0], &env), Some(false));
}
