//! hb-tests: the project's multi-node test harness.
//!
//! A [`Lan`] is a private network of Linux network namespaces (a switch, N nodes, a client)
//! using 198.18.0.0/15 only.  Each [`Node`] behaves like its own machine: its own host name
//! (`nodea`, ...) and private `/etc/ha.d`, `/var/lib/heartbeat`, `/run`, `/var/log`, `/tmp`,
//! so the real Debian Heartbeat 3.0.6 daemon and ours both run with their default paths,
//! side by side, in one cluster.  [`ConfigBuilder`] writes ha.cf/authkeys/haresources; faults
//! are packet loss ([`Node::loss`]), unplugged links ([`Node::cut`]), crashes
//! ([`Node::kill9`]) and a [`SerialCable`].  Every wait is bounded ([`wait_until`]); teardown
//! is `Drop` and kills only processes of the harness's own namespaces, by PID.
//!
//! The tests need root; a missing prerequisite is a failure naming the package to install.
//! See `tests/README.md` for how to write a cluster test.

mod config;
mod daemon;
mod demo_config;
mod error;
mod fault;
mod fence;
mod flood;
mod lan;
mod netns_io;
mod node;
mod nodefs;
pub mod pacemaker;
mod pcap;
mod pidns;
mod prereq;
pub mod probe;
mod proc;
mod procinfo;
mod relay;
mod scenario;
mod serial;
pub mod stage;
mod standin;
mod wait;

pub use config::{Auth, ClusterConfig, ConfigBuilder, Media};
pub use daemon::Daemon;
pub use demo_config::{demo_config, DEMO_VIP};
pub use error::{Error, Result};
pub use fault::Direction;
pub use fence::{
    fence_calls, install_fence_plugin, set_device_failing, to_instant, FENCE_DEVICE_ID, FENCE_LOG,
    FENCE_PLUGIN,
};
pub use flood::{Flood, FloodReport, MAX_FLOOD};
pub use lan::{
    node_ip, node_ip2, node_name, HaDir, Lan, LanSetup, LanSpec, CLIENT_IP, KEEP_ENV, MAX_NODES,
};
pub use netns_io::{in_netns, udp_socket_in};
pub use nix::sys::signal::Signal;
pub use node::{Node, DAEMON_OUT, EXEC_TIMEOUT, HA_DEBUG, HA_LOG, PID_FILE};
pub use pcap::udp_payloads;
pub use pidns::REFUSE_HOST_REBOOT_ENV;
pub use prereq::{
    check_demo_prerequisites, check_prerequisites, require_program, require_root, REAL_CL_STATUS,
    REAL_HEARTBEAT,
};
pub use procinfo::{alive, lines_after, sample, vm_rss_kib};
pub use relay::{Delay, DelayRelay, RelayStats, MAX_QUEUED};
pub use scenario::{
    assert_no_failure, failure_lines, log_mark, ours, pid_titled, titles, wait_active,
};
pub use serial::{SerialCable, SERIAL_DEVICE};
pub use standin::STAND_IN_DIR;
pub use wait::{wait_for, wait_until};
