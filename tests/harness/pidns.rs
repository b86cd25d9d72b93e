//! Nodes that may reboot: their own PID namespace, and the guard that must pass before every
//! fault that can make a daemon call `reboot(2)`.
//!
//! [`Node::isolate_pids`] starts a persistent init for the node — `unshare --pid --fork sh -c
//! 'while :; do sleep 1; done'` (the shell reaps orphans) — and from then on every command of
//! the node is entered into that PID namespace with `nsenter --target <init> --pid` before the
//! usual `ip netns exec … unshare --mount --uts` (which then mounts a `/proc` of the node's
//! namespace). `reboot(2)` in a child PID namespace does not reboot the machine: the kernel
//! kills that namespace's init, and with it every process of the node.
//!
//! [`Node::assert_own_pid_namespace`] is the guard: it refuses (an error, the fault is not
//! run) unless the node has processes, every one of them is in a PID namespace that differs
//! from the test process's (`/proc/self/ns/pid`) and from PID 1's (`/proc/1/ns/pid`, when
//! readable), and is nested below the test's (`NSpid:` lists more than one PID). Call it right
//! before every such fault, every time. The daemons' own guard
//! (`HB_TESTS_REFUSE_HOST_REBOOT`, set for every node command) is a second line of defence.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The daemons' own guard variable (`hb_sys::daemon::REFUSE_HOST_REBOOT_ENV`), set for every
/// command run in a node: with it, a daemon in the initial PID namespace refuses `reboot(2)`.
pub const REFUSE_HOST_REBOOT_ENV: &str = "HB_TESTS_REFUSE_HOST_REBOOT";
use crate::node::Node;
use crate::proc;

/// A node's PID namespace: the `unshare` launcher (in the host's namespaces) and the init it
/// forked (PID 1 of the node's namespace), by host PID.
pub(crate) struct PidNs {
    pub launcher: Child,
    pub init: u32,
    /// The launcher's exit status once it ended (the namespace is gone).
    pub ended: Option<ExitStatus>,
}

fn ns_link(pid: &str) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/ns/pid"))
        .ok()
        .map(|l| l.to_string_lossy().into_owned())
}

/// The `NSpid:` field of `/proc/PID/status`: the PID in each namespace, outermost first.
pub(crate) fn nspids(pid: u32) -> Option<Vec<u32>> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("NSpid:"))?;
    line["NSpid:".len()..]
        .split_whitespace()
        .map(|w| w.parse().ok())
        .collect()
}

impl Node {
    /// Gives the node its own PID namespace (before its daemon starts). See the module docs.
    pub fn isolate_pids(&self) -> Result<()> {
        if self.pidns_init().is_some() {
            return Ok(());
        }
        if !self.pids().is_empty() {
            return Err(Error::Invalid(format!(
                "{}: isolate_pids before starting anything in the node",
                self.name()
            )));
        }
        let mut cmd = Command::new("unshare");
        cmd.args(["--pid", "--fork", "--kill-child"])
            .args([
                "sh",
                "-c",
                "trap '' HUP INT TERM; while :; do sleep 1; done",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let launcher = proc::spawn(&mut cmd)?;
        let lp = launcher.id();
        let deadline = Instant::now() + Duration::from_secs(5);
        let init = loop {
            let children = std::fs::read_to_string(format!("/proc/{lp}/task/{lp}/children"))
                .unwrap_or_default();
            if let Some(pid) = children
                .split_whitespace()
                .next()
                .and_then(|w| w.parse().ok())
            {
                break pid;
            }
            if Instant::now() >= deadline {
                let mut launcher = launcher;
                proc::stop_child(&mut launcher);
                return Err(Error::Invalid(format!(
                    "{}: the PID namespace init did not start",
                    self.name()
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        if nspids(init).map(|v| v.len()) != Some(2) {
            let mut launcher = launcher;
            proc::stop_child(&mut launcher);
            return Err(Error::Invalid(format!(
                "{}: init {init} is not in a child PID namespace",
                self.name()
            )));
        }
        self.set_pidns(PidNs {
            launcher,
            init,
            ended: None,
        });
        Ok(())
    }

    /// The guard before a fault that can reach `reboot(2)`: an error unless every process of
    /// the node is in its own, nested PID namespace (never the host's).
    pub fn assert_own_pid_namespace(&self) -> Result<()> {
        let refuse = |why: String| {
            Err(Error::Invalid(format!(
                "refusing a fault that can reboot: {}: {why}",
                self.name()
            )))
        };
        let Some(init) = self.pidns_init() else {
            return refuse("the node has no PID namespace of its own (isolate_pids)".into());
        };
        let Some(mine) = ns_link("self") else {
            return refuse("cannot read /proc/self/ns/pid".into());
        };
        let host_init = ns_link("1");
        let Some(node_ns) = ns_link(&init.to_string()) else {
            return refuse(format!("cannot read the PID namespace of its init {init}"));
        };
        let pids = self.pids();
        if pids.is_empty() {
            return refuse("no process runs in the node".into());
        }
        for pid in std::iter::once(init).chain(pids) {
            let Some(ns) = ns_link(&pid.to_string()) else {
                if proc::proc_stat(pid).is_none() {
                    continue; // exited meanwhile
                }
                return refuse(format!("cannot read the PID namespace of {pid}"));
            };
            if ns == mine || Some(&ns) == host_init.as_ref() {
                return refuse(format!("process {pid} is in the host's PID namespace {ns}"));
            }
            if ns != node_ns {
                return refuse(format!(
                    "process {pid} is in {ns}, not the node's {node_ns}"
                ));
            }
            match nspids(pid) {
                Some(v) if v.len() >= 2 => {}
                Some(_) => return refuse(format!("process {pid} is not in a nested namespace")),
                None if proc::proc_stat(pid).is_none() => {}
                None => return refuse(format!("cannot read NSpid of {pid}")),
            }
        }
        Ok(())
    }

    /// Whether the node's PID namespace has ended (its init is gone), and how its launcher
    /// exited (`unshare` re-raises the signal that ended the init: SIGHUP after a
    /// `reboot(RB_AUTOBOOT)` in the namespace). `None` while it runs.
    pub fn pid_namespace_ended(&self) -> Option<ExitStatus> {
        self.poll_pidns()
    }
}
