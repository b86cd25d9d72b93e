//! Graceful shutdown (docs/behaviour.md §1.9.1): release resources, stop the
//! respawned clients last line first, then the core children.

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

use super::slots::{Shutdown, CLIENT_STOP_GRACE_MS};
use super::Master;
use crate::hb_log;
use crate::logging::Prio;

impl Master {
    // ----- shutdown -------------------------------------------------------

    pub(super) fn begin_shutdown(&mut self) {
        match self.shutdown {
            Shutdown::Running => {}
            _ => return,
        }
        if !self.comm_up {
            hb_log!(Prio::Warn, "Shutdown delayed until Communication is up.");
            self.shutdown = Shutdown::Deferred;
            return;
        }
        self.systemd.notify("STOPPING=1");
        self.close_watchdog();
        hb_log!(
            Prio::Info,
            "Heartbeat shutdown in progress. ({})",
            std::process::id()
        );
        self.shutdown = Shutdown::Releasing;
        let now = self.now();
        match self.rsc.as_mut() {
            Some(r) => {
                r.shutdown_requested(now);
                self.drain_rsc();
            }
            None => {
                let n = self.clients.len();
                self.stop_next_client(n);
            }
        }
    }

    /// Stops the clients one at a time in reverse ha.cf order, starting
    /// below index `below`; when none is left, stops the core children.
    pub(super) fn stop_next_client(&mut self, below: usize) {
        let mut i = below;
        while i > 0 {
            i -= 1;
            let cmd = self.clients[i].spec.command.clone();
            match self.clients[i].state.pid {
                Some(pid) => {
                    hb_log!(
                        Prio::Info,
                        "killing {cmd} process group {pid} with signal 15"
                    );
                    let _ = killpg(Pid::from_raw(pid), Signal::SIGTERM);
                    self.shutdown = Shutdown::Clients {
                        next: i,
                        deadline: self.now() + CLIENT_STOP_GRACE_MS,
                    };
                    return;
                }
                None => hb_log!(Prio::Info, "client [{cmd}] is not running."),
            }
        }
        self.stop_core_children();
    }

    pub(super) fn stop_core_children(&mut self) {
        self.shutdown = Shutdown::Core;
        self.quick_restart_capture();
        let mut named: Vec<(&str, Pid)> =
            self.fifo_pid.map(|p| ("HBFIFO", p)).into_iter().collect();
        for m in &self.media {
            named.extend(m.writer.map(|p| ("HBWRITE", p)));
            named.extend(m.reader.map(|p| ("HBREAD", p)));
        }
        if named.is_empty() {
            hb_log!(Prio::Info, "{} Heartbeat shutdown complete.", self.node);
            self.exit_code = Some(0);
            return;
        }
        for (name, pid) in named {
            hb_log!(Prio::Info, "killing {name} process {pid} with signal 15");
            let _ = kill(pid, Signal::SIGTERM);
        }
    }

    pub(super) fn close_watchdog(&mut self) {
        if let Some(w) = self.watchdog.take() {
            if let Err(e) = w.magic_close() {
                hb_log!(
                    Prio::Error,
                    "Watchdog write magic character failure: closing watchdog!: {e}"
                );
            }
        }
    }
}
