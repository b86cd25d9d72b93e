//! The demo's cluster configuration (`scripts/demo.sh`), shared with the tests that must use
//! exactly it (the Pacemaker export's live test).

use std::net::Ipv4Addr;

use crate::config::{Auth, ClusterConfig, ConfigBuilder};

/// The demo's virtual IP.
pub const DEMO_VIP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 100);

/// The demo configuration for `nodes` (the first node is the VIP's home): keepalive 200 ms,
/// deadtime 1 s, bcast eth0, sha1, `auto_failback on`, `IPaddr2::198.18.0.100/24/eth0`.
pub fn demo_config<S: AsRef<str>>(nodes: &[S]) -> ClusterConfig {
    let home = nodes
        .first()
        .map(|n| n.as_ref().to_string())
        .unwrap_or_default();
    ConfigBuilder::new(nodes)
        .timings("200ms", "1", "600ms", "2")
        .bcast("eth0")
        .auth(Auth::Sha1("heartbeat-rs demo".into()))
        .auto_failback("on")
        .resource(&format!("{home} IPaddr2::{DEMO_VIP}/24/eth0"))
        .build()
}
