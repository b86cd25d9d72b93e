//! Membership with our daemon: two of our nodes, and mixed clusters with the real Heartbeat
//! 3.0.6, over every UDP medium and auth method (issue 4).
//!
//! Our side is checked through its log (the C daemon's wording); the real side through the real
//! `/usr/bin/cl_status` run inside its node.

use std::time::Duration;

use hb_tests::{
    wait_for, Auth, ConfigBuilder, Daemon, Lan, Node, Result, SerialCable, SERIAL_DEVICE,
};

/// Issue 4: both sides report each other active within initdead + 2 s (initdead is 10 s in
/// the default test timings).
const CONVERGE: Duration = Duration::from_secs(12);
/// deadtime 5 s + keepalive 1 s, plus slack.
const DETECT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(200);

#[derive(Clone, Copy)]
enum Medium {
    Bcast,
    Mcast,
    Ucast,
    /// A socat null-modem cable only: no network medium at all.
    Serial,
}

fn configure(lan: &Lan, medium: Medium, auth: &Auth) -> Result<()> {
    let names = lan.node_names();
    let (a, b) = (lan.node(0), lan.node(1));
    for (node, peer) in [(a, b), (b, a)] {
        let builder = ConfigBuilder::new(&names).auth(auth.clone());
        let builder = match medium {
            Medium::Bcast => builder.bcast("eth0"),
            Medium::Mcast => builder.mcast("eth0", std::net::Ipv4Addr::new(239, 0, 0, 44), 694),
            Medium::Ucast => builder.ucast("eth0", peer.ip()),
            Medium::Serial => builder.baud(19200).serial(SERIAL_DEVICE),
        };
        node.apply(&builder.build())?;
    }
    Ok(())
}

/// Waits until `observer` knows `peer` as active, the way its daemon shows it.
fn wait_active(observer: &Node, daemon: &Daemon, peer: &str, within: Duration) -> Result<()> {
    match daemon {
        Daemon::Real => wait_for(
            &format!(
                "real cl_status on {} to report {peer} active",
                observer.name()
            ),
            within,
            POLL,
            || observer.cl_status(&["nodestatus", peer]).ok().as_deref() == Some("active"),
            || observer.log_text(),
        ),
        Daemon::Ours(_) => observer.wait_for_log(
            &format!("Status update for node {peer}: status active"),
            CONVERGE,
        ),
    }
}

/// Both nodes see each other active; then `victim` is SIGKILLed and the survivor declares it
/// dead; the victim restarts and is active again with a new generation.
fn scenario(daemons: [Daemon; 2], medium: Medium, auth: Auth) -> Result<()> {
    let lan = Lan::new(2)?;
    configure(&lan, medium, &auth)?;
    let (a, b) = (lan.node(0), lan.node(1));
    let _cable = match medium {
        Medium::Serial => Some(SerialCable::new(a, b)?),
        _ => None,
    };
    a.start(daemons[0].clone())?;
    b.start(daemons[1].clone())?;
    let started = std::time::Instant::now();
    wait_active(a, &daemons[0], "nodeb", CONVERGE)?;
    wait_active(
        b,
        &daemons[1],
        "nodea",
        CONVERGE.saturating_sub(started.elapsed()),
    )?;

    b.kill9_master()?;
    a.wait_for_log("node nodeb: is dead", DETECT)?;
    // Let the SIGKILLed node's children go (our FIFO reader takes them down).
    wait_for(
        "nodeb's processes to exit",
        DETECT,
        POLL,
        || b.pids().is_empty(),
        || format!("{:?}", b.pids()),
    )?;
    b.start(daemons[1].clone())?;
    match &daemons[0] {
        Daemon::Ours(_) => a.wait_for_log("Heartbeat restart on node nodeb", CONVERGE)?,
        Daemon::Real => wait_active(a, &daemons[0], "nodeb", CONVERGE)?,
    }
    wait_active(b, &daemons[1], "nodea", CONVERGE)?;
    Ok(())
}

fn ours() -> Daemon {
    Daemon::ours().expect("our heartbeat binary is built by `cargo test --workspace`")
}

fn sha1() -> Auth {
    Auth::Sha1("membership sha1 secret".into())
}

fn md5() -> Auth {
    Auth::Md5("membership md5 secret".into())
}

/// One test per medium × auth method × pair: two of ours, and a mixed pair (which side runs
/// the real daemon alternates, so both directions of every check are covered).
macro_rules! matrix {
    ($($name:ident: $pair:ident, $medium:ident, $auth:expr;)*) => {
        $(
            #[test]
            fn $name() -> Result<()> {
                scenario(pair(Pair::$pair), Medium::$medium, $auth)
            }
        )*
    };
}

enum Pair {
    OursOurs,
    RealOurs,
    OursReal,
}

fn pair(p: Pair) -> [Daemon; 2] {
    match p {
        Pair::OursOurs => [ours(), ours()],
        Pair::RealOurs => [Daemon::Real, ours()],
        Pair::OursReal => [ours(), Daemon::Real],
    }
}

matrix! {
    ours_ours_bcast_sha1: OursOurs, Bcast, sha1();
    ours_ours_bcast_md5: OursOurs, Bcast, md5();
    ours_ours_bcast_crc: OursOurs, Bcast, Auth::Crc;
    ours_ours_mcast_sha1: OursOurs, Mcast, sha1();
    ours_ours_mcast_md5: OursOurs, Mcast, md5();
    ours_ours_mcast_crc: OursOurs, Mcast, Auth::Crc;
    ours_ours_ucast_sha1: OursOurs, Ucast, sha1();
    ours_ours_ucast_md5: OursOurs, Ucast, md5();
    ours_ours_ucast_crc: OursOurs, Ucast, Auth::Crc;
    ours_ours_serial_md5: OursOurs, Serial, md5();
    mixed_real_ours_bcast_sha1: RealOurs, Bcast, sha1();
    mixed_ours_real_bcast_md5: OursReal, Bcast, md5();
    mixed_real_ours_bcast_crc: RealOurs, Bcast, Auth::Crc;
    mixed_ours_real_mcast_sha1: OursReal, Mcast, sha1();
    mixed_real_ours_mcast_md5: RealOurs, Mcast, md5();
    mixed_ours_real_mcast_crc: OursReal, Mcast, Auth::Crc;
    mixed_real_ours_ucast_sha1: RealOurs, Ucast, sha1();
    mixed_ours_real_ucast_md5: OursReal, Ucast, md5();
    mixed_real_ours_ucast_crc: RealOurs, Ucast, Auth::Crc;
    mixed_real_ours_serial_sha1: RealOurs, Serial, sha1();
    mixed_ours_real_serial_md5: OursReal, Serial, md5();
}
