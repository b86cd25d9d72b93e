//! Self-tests of the harness's network and fault primitives (no Heartbeat daemon involved):
//! they are quick, and when they fail the cluster tests' failures are about the harness.

use std::time::Duration;

use hb_tests::{
    require_program, wait_until, Error, Lan, LanSpec, Node, Result, SerialCable, CLIENT_IP,
};

/// One ICMP echo from `from` to `to`, answered within 2 s.
fn pings(from: &Node, to: std::net::Ipv4Addr) -> Result<bool> {
    require_program("ping", "iputils-ping")?;
    let to = to.to_string();
    let args = ["ping", "-c", "1", "-w", "2", "-W", "1", to.as_str()];
    Ok(from.exec(&args)?.status.success())
}

fn check(cond: bool, what: &str) -> Result<()> {
    if cond {
        Ok(())
    } else {
        Err(Error::Invalid(format!("check failed: {what}")))
    }
}

#[test]
fn nodes_are_separate_machines_on_two_lans() -> Result<()> {
    let lan = Lan::with_spec(LanSpec {
        nodes: 2,
        second_lan: true,
    })?;
    let (a, b) = (lan.node(0), lan.node(1));
    check(
        a.exec_ok(&["uname", "-n"])?.trim() == "nodea",
        "nodea's host name",
    )?;
    check(
        b.exec_ok(&["uname", "-n"])?.trim() == "nodeb",
        "nodeb's host name",
    )?;
    // /run is private per node, but shared by all commands of one node.
    a.exec_ok(&["sh", "-c", "echo mine > /run/marker"])?;
    check(
        a.exec(&["test", "-e", "/run/marker"])?.status.success(),
        "nodea sees its /run",
    )?;
    check(
        !b.exec(&["test", "-e", "/run/marker"])?.status.success(),
        "nodeb has its own /run",
    )?;
    check(
        a.host_path("/run/marker")?.exists(),
        "host path of a node file",
    )?;
    // The real daemon's needs: its working directory and the API directory.
    let ls = a.exec_ok(&[
        "stat",
        "-c",
        "%U:%G %a",
        "/run/heartbeat",
        "/var/lib/heartbeat/cores/root",
    ])?;
    check(
        ls.lines().next() == Some("hacluster:haclient 750"),
        &format!("/run/heartbeat: {ls}"),
    )?;
    check(ls.lines().count() == 2, "cores/root exists")?;
    // Both LANs work, nothing routes anywhere else.
    check(pings(a, b.ip())?, "nodea -> nodeb on LAN 1")?;
    check(
        pings(a, b.ip2().unwrap_or(b.ip()))?,
        "nodea -> nodeb on LAN 2",
    )?;
    check(
        !a.exec_ok(&["ip", "route"])?.contains("default"),
        "no default route",
    )?;
    let client =
        lan.client_exec(&["ping", "-c", "1", "-w", "2", "-W", "1", &a.ip().to_string()])?;
    check(
        client.status.success(),
        &format!("client {CLIENT_IP} -> nodea"),
    )?;
    Ok(())
}

#[test]
fn loss_and_cut_block_traffic_until_cleared() -> Result<()> {
    let lan = Lan::new(2)?;
    let (a, b) = (lan.node(0), lan.node(1));
    check(pings(a, b.ip())?, "baseline")?;

    a.loss("eth0", 100)?;
    check(!pings(a, b.ip())?, "100 % loss drops everything")?;
    a.clear_loss("eth0")?;
    check(pings(a, b.ip())?, "cleared loss")?;

    b.cut("eth0")?;
    check(!pings(a, b.ip())?, "cut link")?;
    b.uncut("eth0")?;
    let back = wait_until(Duration::from_secs(10), Duration::from_millis(200), || {
        pings(a, b.ip()).unwrap_or(false)
    });
    check(back, "link plugged back in")
}

#[test]
fn serial_cable_carries_bytes_until_cut() -> Result<()> {
    let lan = Lan::new(2)?;
    let (a, b) = (lan.node(0), lan.node(1));
    let cable = SerialCable::new(a, b)?;
    let read_on_b = || b.exec(&["timeout", "2", "head", "-c", "5", "/run/ttyHB"]);

    let received = std::thread::scope(|s| {
        let reader = s.spawn(read_on_b);
        std::thread::sleep(Duration::from_millis(500));
        let sent = a.exec_ok(&["sh", "-c", "printf hello > /run/ttyHB"]);
        (sent, reader.join())
    });
    let (sent, read) = received;
    sent?;
    let read = read.map_err(|_| Error::Invalid("reader thread panicked".into()))??;
    check(
        read.stdout == b"hello",
        &format!("nodeb read {:?}", read.stdout),
    )?;

    cable.cut()?;
    let (sent, read) = std::thread::scope(|s| {
        let reader = s.spawn(read_on_b);
        std::thread::sleep(Duration::from_millis(300));
        (
            a.exec_ok(&["sh", "-c", "printf quiet > /run/ttyHB"]),
            reader.join(),
        )
    });
    sent?;
    let read = read.map_err(|_| Error::Invalid("reader thread panicked".into()))??;
    check(
        read.stdout.is_empty(),
        &format!("cut cable delivered {:?}", read.stdout),
    )?;
    Ok(())
}

/// Our binaries are staged outside the checkout (which may be under a 0700 home directory or
/// under /tmp, which nodes replace): an unprivileged user inside a node can run them.
#[test]
fn staged_binaries_run_as_an_unprivileged_user_inside_a_node() -> Result<()> {
    let lan = Lan::new(1)?;
    let ours = hb_tests::Daemon::ours()?;
    let built = hb_tests::Daemon::built()?;
    check(
        ours.binary() != built.as_path(),
        "Daemon::ours() hands out a staged copy, not the build output",
    )?;
    check(
        !ours.binary().starts_with("/tmp") && !ours.binary().starts_with("/run"),
        "the staged copy is outside the node-private /tmp and /run",
    )?;
    hb_tests::stage::check_reachable(ours.binary())?;
    let a = lan.node(0);
    for tool in [ours.binary().to_path_buf(), ours.tool("cl_status")?] {
        let tool = tool.display().to_string();
        let out = a.exec(&[
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            tool.as_str(),
            "-V",
        ])?;
        // heartbeat -V prints its version; cl_status -V is not an option and prints usage:
        // either way the program ran (126/127 would mean not executable / not found).
        check(
            !matches!(out.status.code(), Some(126 | 127)),
            &format!("nobody runs {tool} inside nodea: {out:?}"),
        )?;
    }
    let version = a.exec_ok(&[
        "setpriv",
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        &ours.binary().display().to_string(),
        "-V",
    ])?;
    check(
        version.contains("heartbeat-rs"),
        &format!("heartbeat -V as nobody: {version:?}"),
    )
}
