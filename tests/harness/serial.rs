//! A null-modem serial cable between two nodes: `socat` joins two new pseudo-terminals and
//! links them into each node's private `/run` (by default as `/run/ttyHB`, for
//! `serial /run/ttyHB` in ha.cf).
//!
//! socat runs in the host network namespace (a pty is not a network device) but is started by
//! the harness, bounded (`-T 3600`: it quits after an hour without traffic) and killed by PID
//! when the cable is dropped.  Cutting the cable pauses the relay (SIGSTOP), so the line goes
//! quiet without either end seeing a hang-up.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::error::{io_err, Error, Result};
use crate::node::Node;
use crate::prereq::require_program;
use crate::proc;
use crate::wait::wait_for;

/// Default device path inside both nodes.
pub const SERIAL_DEVICE: &str = "/run/ttyHB";

/// A running cable; dropping it stops socat.
pub struct SerialCable {
    child: Child,
    links: [PathBuf; 2],
}

impl SerialCable {
    /// Connects `a` and `b` with a cable that appears as [`SERIAL_DEVICE`] in both.
    pub fn new(a: &Node, b: &Node) -> Result<SerialCable> {
        SerialCable::with_device(a, b, SERIAL_DEVICE)
    }

    /// Connects `a` and `b`; `device` is the path inside the nodes (under `/run`).
    pub fn with_device(a: &Node, b: &Node, device: &str) -> Result<SerialCable> {
        let socat = require_program("socat", "socat")?;
        let links = [a.host_path(device)?, b.host_path(device)?];
        for link in &links {
            let _ = std::fs::remove_file(link);
        }
        let log_path = a.host_path("/var/log/serial-socat.log")?;
        let log = std::fs::File::create(&log_path).map_err(io_err("create", &log_path))?;
        let end = |link: &PathBuf| format!("pty,raw,echo=0,link={}", link.display());
        let mut cmd = Command::new(socat);
        cmd.args(["-d", "-d", "-T", "3600"])
            .arg(end(&links[0]))
            .arg(end(&links[1]))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let child = proc::spawn(&mut cmd)?;
        let mut cable = SerialCable { child, links };
        let ready = wait_for(
            "socat to create both pty links",
            Duration::from_secs(5),
            Duration::from_millis(20),
            || cable.links.iter().all(|l| l.symlink_metadata().is_ok()),
            || std::fs::read_to_string(&log_path).unwrap_or_default(),
        );
        if let Err(e) = ready {
            proc::stop_child(&mut cable.child);
            return Err(e);
        }
        Ok(cable)
    }

    /// Host paths of the two links (for inspection).
    pub fn links(&self) -> &[PathBuf; 2] {
        &self.links
    }

    /// The line goes quiet (socat frozen).
    pub fn cut(&self) -> Result<()> {
        self.send(Signal::SIGSTOP)
    }

    /// The line carries data again.
    pub fn uncut(&self) -> Result<()> {
        self.send(Signal::SIGCONT)
    }

    fn send(&self, sig: Signal) -> Result<()> {
        if proc::proc_stat(self.child.id()).is_some_and(|s| s.state != 'Z') {
            proc::signal(self.child.id(), sig);
            Ok(())
        } else {
            Err(Error::Invalid(
                "the serial cable's socat is no longer running".into(),
            ))
        }
    }
}

impl Drop for SerialCable {
    fn drop(&mut self) {
        proc::signal(self.child.id(), Signal::SIGCONT);
        proc::stop_child(&mut self.child);
        for link in &self.links {
            let _ = std::fs::remove_file(link);
        }
    }
}
