//! The `floor` section: what the process model alone costs on this machine.
//!
//! Heartbeat's design (ours and 3.0.6's) is a master that sends each
//! heartbeat through a write child and gets each received packet from a
//! read child, over pipes. keepalived is one process. Idle CPU is
//! wake-ups × cost per wake-up, and a wake-up's cost (the scheduler, the
//! pipe, the hypervisor's timer and IPI exits, the UDP send through veth
//! and the bridge) belongs to the machine, not to a daemon.
//!
//! This section runs skeletons of both shapes with no protocol work at
//! all, in the same 2-node namespace LAN at the same rate (one 160-byte
//! broadcast per node per interval): `3 processes` is a master, a write
//! child and a read child (our own echoes dropped in the kernel, as our
//! read child does); `1 process` sends and receives in one loop. Their CPU
//! is the floor under any daemon of that shape on this machine.
//!
//! The skeleton is this same binary, started in each node as
//! `hb-bench floor-node PROCS INTERVAL_MS BROADCAST OWN_IP` (it writes the
//! harness's pid file and stays in the foreground); the master starts its
//! children as `floor-writer` and `floor-reader`.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use hb_tests::{Daemon, Error, Lan, Result};

use crate::footprint::{self, NodeCost};

/// The skeleton's UDP port (not Heartbeat's 694).
const PORT: u16 = 695;
/// Bytes per heartbeat, about a status message's size.
const FRAME: usize = 160;

/// Runs a skeleton sub-command (`floor-node`, `floor-writer`,
/// `floor-reader`) when `args` name one; `None` otherwise.
pub fn subcommand(args: &[String]) -> Option<i32> {
    let code = match args.get(1).map(String::as_str)? {
        "floor-node" => node_main(&args[2..]),
        "floor-writer" => writer_main(&args[2..]),
        "floor-reader" => reader_main(&args[2..]),
        _ => return None,
    };
    Some(match code {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("hb-bench {}: {e}", args[1]);
            1
        }
    })
}

fn io(what: &str) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Invalid(format!("{what}: {e}"))
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize, what: &str) -> Result<T> {
    args.get(i)
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| Error::Invalid(format!("argument {i}: expected {what}")))
}

fn node_main(args: &[String]) -> Result<()> {
    let procs: u32 = arg(args, 0, "1 or 3")?;
    let interval = Duration::from_millis(arg(args, 1, "interval ms")?);
    let bcast: Ipv4Addr = arg(args, 2, "broadcast address")?;
    let own: Ipv4Addr = arg(args, 3, "own address")?;
    std::fs::write("/run/heartbeat.pid", format!("{}\n", std::process::id()))
        .map_err(io("pid file"))?;
    if procs == 1 {
        let sock = bcast_socket(own)?;
        let mut buf = [0u8; 2048];
        let mut next = Instant::now() + interval;
        loop {
            let wait = next.saturating_duration_since(Instant::now());
            if readable(&sock, wait) {
                let _ = sock.recv_from(&mut buf);
            }
            if Instant::now() >= next {
                let _ = sock.send_to(&[b'h'; FRAME], SocketAddrV4::new(bcast, PORT));
                next += interval;
            }
        }
    }
    let me = std::env::current_exe().map_err(io("current_exe"))?;
    let mut writer = Command::new(&me)
        .args(["floor-writer", &bcast.to_string()])
        .stdin(Stdio::piped())
        .spawn()
        .map_err(io("spawn writer"))?;
    let mut reader = Command::new(&me)
        .args(["floor-reader", &own.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(io("spawn reader"))?;
    let mut to_writer = writer
        .stdin
        .take()
        .ok_or_else(|| Error::Invalid("pipe".into()))?;
    let mut from_reader = reader
        .stdout
        .take()
        .ok_or_else(|| Error::Invalid("pipe".into()))?;
    let mut buf = [0u8; 4096];
    let mut next = Instant::now() + interval;
    loop {
        let wait = next.saturating_duration_since(Instant::now());
        if readable(&from_reader, wait) && from_reader.read(&mut buf).map_err(io("read"))? == 0 {
            return Ok(());
        }
        if Instant::now() >= next {
            to_writer.write_all(&[b'h'; FRAME]).map_err(io("write"))?;
            next += interval;
        }
    }
}

fn writer_main(args: &[String]) -> Result<()> {
    let bcast: Ipv4Addr = arg(args, 0, "broadcast address")?;
    let sock = UdpSocket::bind("0.0.0.0:0").map_err(io("bind"))?;
    sock.set_broadcast(true).map_err(io("broadcast"))?;
    let mut frame = [0u8; FRAME];
    let mut stdin = std::io::stdin().lock();
    while stdin.read_exact(&mut frame).is_ok() {
        let _ = sock.send_to(&frame, SocketAddrV4::new(bcast, PORT));
    }
    Ok(())
}

fn reader_main(args: &[String]) -> Result<()> {
    let own: Ipv4Addr = arg(args, 0, "own address")?;
    let sock = bcast_socket(own)?;
    hb_media::echo::drop_datagrams_from(&sock, own).map_err(io("socket filter"))?;
    let mut buf = [0u8; 2048];
    let mut out = std::io::stdout().lock();
    loop {
        let (n, _) = sock.recv_from(&mut buf).map_err(io("recv"))?;
        out.write_all(&buf[..n]).map_err(io("write"))?;
        out.flush().map_err(io("flush"))?;
    }
}

/// A socket bound to the skeleton's port that may broadcast. The
/// one-process shape drops its own echoes too.
fn bcast_socket(own: Ipv4Addr) -> Result<UdpSocket> {
    let sock = UdpSocket::bind(("0.0.0.0", PORT)).map_err(io("bind"))?;
    sock.set_broadcast(true).map_err(io("broadcast"))?;
    hb_media::echo::drop_datagrams_from(&sock, own).map_err(io("socket filter"))?;
    Ok(sock)
}

fn readable(fd: &impl AsFd, wait: Duration) -> bool {
    let ms = u16::try_from(wait.as_millis().saturating_add(1)).unwrap_or(u16::MAX);
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    matches!(poll(&mut fds, PollTimeout::from(ms)), Ok(n) if n > 0)
}

/// Runs one shape on a fresh LAN of `nodes` nodes, each broadcasting every
/// `interval_ms`, and samples the first two nodes.
pub fn measure(
    procs: u32,
    nodes: usize,
    interval_ms: u64,
    window: Duration,
) -> Result<[NodeCost; 2]> {
    let me = std::env::current_exe().map_err(io("current_exe"))?;
    let lan = Lan::new(nodes.clamp(2, hb_tests::MAX_NODES))?;
    for node in lan.nodes() {
        let bcast = {
            let o = node.ip().octets();
            Ipv4Addr::new(o[0], o[1], o[2], 255)
        };
        let script = node.host_path("/etc/ha.d")?.join("floor-run");
        let quoted = me.to_string_lossy().replace('\'', r"'\''");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nexec '{quoted}' floor-node {procs} {interval_ms} {bcast} {}\n",
                node.ip()
            ),
        )
        .map_err(io("write floor-run"))?;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
            .map_err(io("chmod floor-run"))?;
        node.start(Daemon::Ours(script))?;
    }
    std::thread::sleep(Duration::from_secs(2));
    let (a, b) = std::thread::scope(|s| {
        let ta = s.spawn(|| footprint::sample(lan.node(0), window));
        let tb = s.spawn(|| footprint::sample(lan.node(1), window));
        (ta.join(), tb.join())
    });
    let (Ok(a), Ok(b)) = (a, b) else {
        return Err(Error::Invalid("sampling thread panicked".into()));
    };
    Ok([a, b])
}

/// The floor table: per node, CPU, wake-ups and CPU per wake-up.
pub fn table(rows: &[(String, [NodeCost; 2])]) -> String {
    let mut s = String::from(
        "| skeleton (no protocol work) | node | processes | CPU (% of one core) | wake-ups/s | CPU per wake-up (µs) |\n\
         |---|---|---|---|---|---|\n",
    );
    for (label, nodes) in rows {
        for (i, n) in nodes.iter().enumerate() {
            s.push_str(&format!(
                "| {label} | node{} | {} | {:.3} | {:.1} | {:.0} |\n",
                ['a', 'b'][i],
                n.procs.len(),
                n.cpu_percent(),
                n.switches_per_sec(),
                n.cpu_percent() * 1e4 / n.switches_per_sec().max(1e-3)
            ));
        }
    }
    s
}
