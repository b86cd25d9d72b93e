//! What is benchmarked: a daemon (ours, Heartbeat 3.0.6, keepalived) at a
//! timing (keepalive 1 s / deadtime 3 s, or 100 ms / 500 ms), and how each
//! is configured, started and asked for a planned switchover.
//!
//! Heartbeat (both implementations) gets the lab's configuration
//! (`lab/mkconf.sh heartbeat`): bcast eth0, sha1, auto_failback on, the
//! group `nodea IPaddr2::198.18.0.100/24/eth0`; warntime and initdead as in
//! the lab's reference runs. keepalived gets one VRRP instance per node
//! (`lab/mkconf.sh keepalived`): both BACKUP, priority 150 on nodea and 100
//! on nodeb, VRRPv2 with advert 1 s or VRRPv3 with advert 0.1 s, five
//! gratuitous ARPs on becoming master.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use hb_tests::{wait_for, ConfigBuilder, Daemon, Error, Lan, Node, Result, Signal};

/// The virtual IP every flavour moves.
pub const VIP: std::net::Ipv4Addr = std::net::Ipv4Addr::new(198, 18, 0, 100);
const HB_STANDBY: &str = "/usr/share/heartbeat/hb_standby";
const KEEPALIVED: &str = "/usr/sbin/keepalived";
/// keepalived's pid file: the name the harness waits for when it starts a
/// daemon that stays in the foreground (see [`Flavour::start`]).
const KEEPALIVED_PID: &str = "/run/heartbeat.pid";

/// The daemon under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Our `heartbeat` binary at this path.
    Ours(PathBuf),
    /// Debian's Heartbeat 3.0.6.
    Real,
    /// Debian's keepalived (VRRP).
    Keepalived,
}

/// The two timing profiles of the issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// keepalive 1 s, deadtime 3 s (warntime 2, initdead 6); VRRPv2 advert 1 s.
    Slow,
    /// keepalive 100 ms, deadtime 500 ms (warntime 300 ms, initdead 1 s);
    /// VRRPv3 advert 0.1 s.
    Fast,
    /// keepalive 5 ms, deadtime 25 ms (warntime 15 ms, initdead 1 s), the
    /// pause-aware target; VRRPv3 advert 0.01 s.
    Tight,
}

impl Timing {
    /// keepalive, deadtime, warntime, initdead in ha.cf syntax.
    fn heartbeat(self) -> [&'static str; 4] {
        match self {
            Timing::Slow => ["1", "3", "2", "6"],
            Timing::Fast => ["100ms", "500ms", "300ms", "1"],
            Timing::Tight => ["5ms", "25ms", "15ms", "1"],
        }
    }

    /// VRRP advert interval (seconds, keepalived syntax) and VRRP version.
    fn vrrp(self) -> (&'static str, u8) {
        match self {
            Timing::Slow => ("1", 2),
            Timing::Fast => ("0.1", 3),
            Timing::Tight => ("0.01", 3),
        }
    }
}

/// One benchmarked configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flavour {
    /// The daemon.
    pub kind: Kind,
    /// The timings.
    pub timing: Timing,
}

impl Flavour {
    /// Row label, e.g. `ours, keepalive 100ms / deadtime 500ms`.
    pub fn label(&self) -> String {
        let [ka, dt, _, id] = self.timing.heartbeat();
        match self.kind {
            Kind::Ours(_) => format!("ours, {ka} / {dt} / initdead {id}"),
            Kind::Real => format!("heartbeat 3.0.6, {ka} / {dt} / initdead {id}"),
            Kind::Keepalived => {
                let (advert, v) = self.timing.vrrp();
                format!("keepalived 2.2.7 VRRPv{v}, advert_int {advert}")
            }
        }
    }

    /// What the switchover column means for this daemon.
    pub fn switchover_how(&self) -> &'static str {
        match self.kind {
            Kind::Keepalived => "graceful stop of the master",
            _ => "hb_standby on the owner",
        }
    }

    /// Writes every node's configuration.
    pub fn configure(&self, lan: &Lan) -> Result<()> {
        match &self.kind {
            Kind::Ours(_) | Kind::Real => {
                let [ka, dt, wt, id] = self.timing.heartbeat();
                let cfg = ConfigBuilder::new(&lan.node_names())
                    .timings(ka, dt, wt, id)
                    .auto_failback("on")
                    .resource(&format!("nodea IPaddr2::{VIP}/24/eth0"))
                    .build();
                for node in lan.nodes() {
                    node.apply(&cfg)?;
                }
            }
            Kind::Keepalived => {
                for (i, node) in lan.nodes().iter().enumerate() {
                    let prio = if i == 0 { 150 } else { 100 };
                    let dir = node.host_path("/etc/ha.d")?;
                    write(
                        &dir.join("keepalived.conf"),
                        &self.keepalived_conf(node.name(), prio),
                        0o644,
                    )?;
                    // started through a wrapper so the harness manages it like a daemon
                    write(
                        &dir.join("keepalived-run"),
                        &format!(
                            "#!/bin/sh\nexec {KEEPALIVED} -n -l -D -f /etc/ha.d/keepalived.conf \
                             -p {KEEPALIVED_PID} -r /run/keepalived-vrrp.pid\n"
                        ),
                        0o755,
                    )?;
                }
            }
        }
        Ok(())
    }

    fn keepalived_conf(&self, node: &str, prio: u8) -> String {
        let (advert, version) = self.timing.vrrp();
        format!(
            "# generated by hb-bench (like lab/mkconf.sh keepalived)
global_defs {{
    router_id {node}
    vrrp_version {version}
    enable_script_security
    vrrp_garp_master_delay 5
    vrrp_garp_master_repeat 5
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority {prio}
    advert_int {advert}
    virtual_ipaddress {{
        {VIP}/24 dev eth0
    }}
}}
"
        )
    }

    /// Starts the daemon on `node` (returns once it runs).
    pub fn start(&self, node: &Node) -> Result<()> {
        match &self.kind {
            Kind::Ours(path) => node.start(Daemon::Ours(path.clone())),
            Kind::Real => node.start(Daemon::Real),
            Kind::Keepalived => {
                let wrapper = node.host_path("/etc/ha.d")?.join("keepalived-run");
                node.start(Daemon::Ours(wrapper))
            }
        }
    }

    /// The planned switchover away from `node` (blocking, bounded):
    /// `hb_standby` for Heartbeat, SIGTERM (VRRP priority 0) for keepalived.
    pub fn switchover(&self, node: &Node) -> Result<()> {
        match self.kind {
            Kind::Ours(_) | Kind::Real => {
                let out = node.exec(&[HB_STANDBY])?;
                if out.status.success() {
                    Ok(())
                } else {
                    Err(Error::Invalid(format!(
                        "hb_standby failed on {}: {}",
                        node.name(),
                        String::from_utf8_lossy(&out.stderr)
                    )))
                }
            }
            Kind::Keepalived => {
                let pid = node.master_pid().ok_or_else(|| {
                    Error::Invalid(format!("no keepalived running on {}", node.name()))
                })?;
                node.signal(pid, Signal::SIGTERM)?;
                wait_for(
                    &format!("keepalived on {} to stop", node.name()),
                    Duration::from_secs(20),
                    Duration::from_millis(50),
                    || node.pids().is_empty(),
                    || format!("left: {:?}", node.pids()),
                )
            }
        }
    }
}

fn write(path: &std::path::Path, text: &str, mode: u32) -> Result<()> {
    std::fs::write(path, text)
        .and_then(|()| std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)))
        .map_err(|e| Error::Invalid(format!("write {}: {e}", path.display())))
}
