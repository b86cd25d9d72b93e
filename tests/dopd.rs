//! DRBD's outdate-peer daemon and fence-peer handler (dopd(8)) in network namespaces: two
//! nodes, `respawn hacluster <dopd>` + `apiauth dopd gid=haclient uid=hacluster` on each, and
//! `drbd-peer-outdater -t 5` run on one node with `DRBD_PEER` / `DRBD_RESOURCE` set, exactly as
//! DRBD's `fence-peer` handler runs it. It must make the *peer's* `drbdadm outdate <res>` run
//! (as `hacluster`, through the peer's dopd) and exit with the code DRBD expects for
//! `drbdadm`'s result (0 → 4 outdated, 5 → 3 inconsistent, 17 → 6 primary, other → 20); with
//! the peer dead it must exit 5 ("peer unreachable"), answered by dopd at once.
//!
//! **No DRBD here.** This machine has no DRBD kernel module (nor drbd-utils), so each node gets
//! a *stand-in* `drbdadm` (harness `install_stand_in`: node-private `/run/stand-in`, first in
//! the `PATH` heartbeat is started with, which the dopd it respawns inherits). The stand-in
//! appends `<user> <arguments>` to the node's own `/tmp/drbdadm.calls` and exits with the status
//! the test wrote to `/run/stand-in/drbdadm.rc`, standing for the disk state a real
//! `drbdadm outdate` would report.
//!
//! * `dopd_real_real`: Debian's C dopd on the real Heartbeat 3.0.6 on both nodes — the
//!   reference: the same expectations hold for the C programs (which crash after each answered
//!   request, see `plan`).
//! * `dopd_ours_ours`: our daemon and our dopd on both nodes, both directions; the peer then
//!   stops (`heartbeat -k`, its dopd ends on SIGTERM) instead of crashing.
//! * `dopd_mixed`: nodea runs the real Heartbeat 3.0.6 with the C dopd, nodeb ours with our
//!   dopd. Our drbd-peer-outdater talks to the C dopd (nodea → nodeb), the C
//!   drbd-peer-outdater to our dopd (nodeb → nodea), and each of the other pairing too; then
//!   nodea dies and our dopd answers 5.
//!
//! Every run uses both drbd-peer-outdaters (Debian's and ours) against the node's dopd.

use std::time::{Duration, Instant};

use hb_tests::{wait_active, wait_for, ConfigBuilder, Daemon, Lan, Node, Result};

const POLL: Duration = Duration::from_millis(200);
/// Comm up (initdead 10 s) plus dopd's start.
const CONVERGE: Duration = Duration::from_secs(45);
/// deadtime 5 s plus slack.
const DETECT: Duration = Duration::from_secs(25);
/// The `-t` DRBD's handler configuration uses.
const TIMEOUT_ARG: &str = "5";
/// dopd's socket, inside a node.
const SOCKET: &str = "/run/heartbeat/dopd/outdater";
/// Where the stand-in records its calls, inside a node (`/tmp` is node-private).
const CALLS: &str = "/tmp/drbdadm.calls";
/// The exit status the stand-in returns, inside a node.
const STATUS_FILE: &str = "/run/stand-in/drbdadm.rc";

/// Stand-in for DRBD's `drbdadm`: this machine has no DRBD kernel module.
const STAND_IN: &str = "#!/bin/sh
# Stand-in for drbdadm: the test machine has no DRBD. Record the call, exit with the chosen status.
echo \"$(id -un) $*\" >> /tmp/drbdadm.calls
exit \"$(cat /run/stand-in/drbdadm.rc 2>/dev/null || echo 0)\"
";

/// `drbdadm outdate` exit status → the fence-peer code drbd-peer-outdater must exit with.
const CASES: [(i32, i32); 4] = [(0, 4), (5, 3), (17, 6), (1, 20)];
/// drbd-peer-outdater's "peer unreachable".
const UNREACHABLE: i32 = 5;

/// Debian's or our program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Impl {
    /// `/usr/libexec/heartbeat/<name>` from Debian's heartbeat package.
    Real,
    /// Ours, next to our `heartbeat` in the target directory.
    Ours,
}

impl Impl {
    fn path(self, name: &str) -> Result<String> {
        match self {
            Impl::Real => Ok(format!("/usr/libexec/heartbeat/{name}")),
            Impl::Ours => {
                let d = Daemon::ours()?;
                d.binary()
                    .parent()
                    .map(|dir| dir.join(name))
                    .filter(|p| p.is_file())
                    .map(|p| p.to_string_lossy().into_owned())
                    .ok_or_else(|| {
                        hb_tests::Error::Invalid(format!(
                            "our {name} binary is missing: run `cargo build --workspace --all-targets`"
                        ))
                    })
            }
        }
    }
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn logs(nodes: &[&Node]) -> String {
    nodes
        .iter()
        .map(|n| {
            format!(
                "--- {}'s ha-log:\n{}",
                n.name(),
                last_lines(&n.log_text(), 25)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The stand-in's recorded calls on `node`.
fn calls(node: &Node) -> Result<Vec<String>> {
    let path = node.host_path(CALLS)?;
    Ok(std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect())
}

fn set_drbdadm_status(node: &Node, status: i32) -> Result<()> {
    let path = node.host_path(STATUS_FILE)?;
    std::fs::write(&path, format!("{status}\n"))
        .map_err(|e| hb_tests::Error::Invalid(format!("write {}: {e}", path.display())))
}

/// Two nodes, each with its daemon and its dopd respawned, both dopds signed on and listening.
fn pair(daemons: [Daemon; 2], dopds: [Impl; 2]) -> Result<Lan> {
    let lan = Lan::new(2)?;
    let names = lan.node_names();
    for (node, dopd) in lan.nodes().iter().zip(dopds) {
        let config = ConfigBuilder::new(&names)
            .bcast("eth0")
            .respawn("hacluster", &dopd.path("dopd")?)
            .extra("apiauth dopd gid=haclient uid=hacluster")
            .build();
        node.apply(&config)?;
        node.install_stand_in("drbdadm", STAND_IN)?;
    }
    for (node, daemon) in lan.nodes().iter().zip(daemons) {
        node.start_with_stand_ins(daemon)?;
    }
    let nodes: Vec<&Node> = lan.nodes().iter().collect();
    for node in &nodes {
        for peer in &nodes {
            wait_active(node, peer.name(), CONVERGE)?;
        }
    }
    // dopd makes its socket after signing on (both implementations).
    for node in &nodes {
        wait_for(
            &format!("dopd signed on at {}", node.name()),
            CONVERGE,
            POLL,
            || {
                node.cl_status(&["clientstatus", node.name(), "dopd"])
                    .is_ok_and(|s| s == "online")
            },
            || logs(&nodes),
        )?;
        wait_listening(node, &nodes)?;
    }
    Ok(lan)
}

/// Runs `outdater` on `node` as DRBD's fence-peer handler would; returns its exit code and how
/// long it took.
fn run_outdater(node: &Node, outdater: Impl, peer: &str, res: &str) -> Result<(i32, Duration)> {
    let path = outdater.path("drbd-peer-outdater")?;
    let t = Instant::now();
    let out = node.exec(&[
        "env",
        &format!("DRBD_PEER={peer}"),
        &format!("DRBD_RESOURCE={res}"),
        &path,
        "-t",
        TIMEOUT_ARG,
    ])?;
    let elapsed = t.elapsed();
    let code = out.status.code().ok_or_else(|| {
        hb_tests::Error::Invalid(format!("{path} on {} died: {:?}", node.name(), out.status))
    })?;
    Ok((code, elapsed))
}

/// The inode of the socket listening on [`SOCKET`] in `node`'s network namespace (from
/// `/proc/net/unix`, flag `__SO_ACCEPTCON`), if one listens: dopd is up and accepting.
fn listening_inode(node: &Node) -> Option<u64> {
    let table = node.exec_ok(&["cat", "/proc/net/unix"]).ok()?;
    table.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.len() == 8 && f[3] == "00010000" && f[7] == SOCKET)
            .then(|| f[6].parse().ok())
            .flatten()
    })
}

fn wait_listening(node: &Node, others: &[&Node]) -> Result<u64> {
    let mut inode = None;
    wait_for(
        &format!("dopd listening on {SOCKET} in {}", node.name()),
        CONVERGE,
        POLL,
        || {
            inode = listening_inode(node);
            inode.is_some()
        },
        || logs(others),
    )?;
    Ok(inode.unwrap_or_default())
}

/// The runs from a node whose dopd is `local`: every drbdadm result through both outdaters
/// for our dopd. Debian's C dopd dies with SIGSEGV after every answered request (when the
/// drbd-peer-outdater connection closes) and heartbeat gives a client up after more than 10
/// quick respawns, so a C dopd gets four requests, the cases split between the outdaters.
fn plan(local: Impl) -> Vec<(Impl, i32, i32)> {
    match local {
        Impl::Ours => [Impl::Ours, Impl::Real]
            .into_iter()
            .flat_map(|o| CASES.map(|(status, want)| (o, status, want)))
            .collect(),
        Impl::Real => CASES
            .iter()
            .zip([Impl::Real, Impl::Ours].into_iter().cycle())
            .map(|(&(status, want), o)| (o, status, want))
            .collect(),
    }
}

/// From `from` (whose dopd is `local`): the peer's stand-in runs as hacluster with
/// `outdate <res>`, nothing runs locally, the exit code is the mapped one, and the peer's dopd
/// logs the code it sends back. Our dopd keeps its listening socket across requests.
fn outdates_peer(from: &Node, local: Impl, peer: &Node) -> Result<()> {
    for (outdater, status, want) in plan(local) {
        let listener = wait_listening(from, &[from, peer])?;
        wait_listening(peer, &[from, peer])?;
        set_drbdadm_status(peer, status)?;
        let res = format!("r{want}{}", if outdater == Impl::Ours { "o" } else { "c" });
        let (before_local, before_peer) = (calls(from)?, calls(peer)?);
        let (code, took) = run_outdater(from, outdater, peer.name(), &res)?;
        let ctx = || {
            format!(
                "{outdater:?} drbd-peer-outdater to the {local:?} dopd on {} for {res}, peer \
                 drbdadm status {status}, after {took:?}\n{}",
                from.name(),
                logs(&[from, peer])
            )
        };
        assert_eq!(code, want, "exit code: {}", ctx());
        let after_peer = calls(peer)?;
        assert_eq!(
            after_peer[before_peer.len().min(after_peer.len())..],
            [format!("hacluster outdate {res}")],
            "stand-in calls on {}: {}",
            peer.name(),
            ctx()
        );
        assert_eq!(calls(from)?, before_local, "a local drbdadm ran: {}", ctx());
        peer.wait_for_log(
            &format!(
                "sending return code: {want}, {} -> {}",
                peer.name(),
                from.name()
            ),
            Duration::from_secs(5),
        )?;
        after_request(from, local, listener, &ctx);
    }
    Ok(())
}

/// Our dopd keeps its listening socket across requests; the C one's crash (if it comes) is
/// let happen before the next request.
fn after_request(node: &Node, local: Impl, listener: u64, ctx: &dyn Fn() -> String) {
    match local {
        Impl::Ours => assert_eq!(
            listening_inode(node),
            Some(listener),
            "our dopd lost its socket: {}",
            ctx()
        ),
        Impl::Real => {
            hb_tests::wait_until(Duration::from_secs(10), POLL, || {
                listening_inode(node) != Some(listener)
            });
        }
    }
}

/// How the peer goes.
#[derive(Debug, Clone, Copy)]
enum Death {
    /// Every process SIGKILLed (a crash).
    Crash,
    /// `heartbeat -k`: heartbeat stops its dopd (SIGTERM), which must end.
    Stop,
}

/// `dead` goes; on `survivor` every outdater gets 5 from dopd at once (well before its own
/// `-t 5` would run out), and dopd logged why.
fn dead_peer_is_unreachable(survivor: &Node, local: Impl, dead: &Node, how: Death) -> Result<()> {
    match how {
        Death::Crash => dead.kill9()?,
        // `stop` waits (bounded) until every process of the node has exited, dopd included:
        // heartbeat sends it SIGTERM.
        Death::Stop => dead.stop()?,
    }
    wait_for(
        &format!("{} to see {} dead", survivor.name(), dead.name()),
        DETECT,
        POLL,
        || {
            survivor
                .cl_status(&["nodestatus", dead.name()])
                .is_ok_and(|s| s == "dead")
        },
        || logs(&[survivor]),
    )?;
    let before = calls(survivor)?;
    for outdater in [Impl::Ours, Impl::Real] {
        let listener = wait_listening(survivor, &[survivor])?;
        let (code, took) = run_outdater(survivor, outdater, dead.name(), "r0")?;
        let ctx = || {
            format!(
                "{outdater:?} drbd-peer-outdater to the {local:?} dopd with {} dead (after \
                 {took:?})\n{}",
                dead.name(),
                logs(&[survivor])
            )
        };
        assert_eq!(code, UNREACHABLE, "{}", ctx());
        assert!(
            took < Duration::from_secs(4),
            "the answer came from the timeout, not from dopd: {}",
            ctx()
        );
        after_request(survivor, local, listener, &ctx);
    }
    survivor.wait_for_log(
        &format!("Cluster node: {}: status: dead", dead.name()),
        Duration::from_secs(5),
    )?;
    assert_eq!(calls(survivor)?, before, "drbdadm ran on the survivor");
    Ok(())
}

#[test]
fn dopd_real_real() -> Result<()> {
    let lan = pair([Daemon::Real, Daemon::Real], [Impl::Real, Impl::Real])?;
    let (a, b) = (lan.node(0), lan.node(1));
    // One direction: the C pair is symmetric, and each answered request costs a C dopd crash
    // and respawn.
    outdates_peer(a, Impl::Real, b)?;
    dead_peer_is_unreachable(a, Impl::Real, b, Death::Crash)
}

#[test]
fn dopd_ours_ours() -> Result<()> {
    let lan = pair([Daemon::ours()?, Daemon::ours()?], [Impl::Ours, Impl::Ours])?;
    let (a, b) = (lan.node(0), lan.node(1));
    outdates_peer(a, Impl::Ours, b)?;
    outdates_peer(b, Impl::Ours, a)?;
    dead_peer_is_unreachable(a, Impl::Ours, b, Death::Stop)
}

#[test]
fn dopd_mixed() -> Result<()> {
    let lan = pair([Daemon::Real, Daemon::ours()?], [Impl::Real, Impl::Ours])?;
    let (c_node, our_node) = (lan.node(0), lan.node(1));
    // Our drbd-peer-outdater → the C dopd → our dopd (and Debian's outdater the same way).
    outdates_peer(c_node, Impl::Real, our_node)?;
    // Debian's drbd-peer-outdater → our dopd → the C dopd (and ours the same way).
    outdates_peer(our_node, Impl::Ours, c_node)?;
    // The C node dies: our dopd answers "peer unreachable".
    dead_peer_is_unreachable(our_node, Impl::Ours, c_node, Death::Crash)
}
