//! The master's children: forking and restarting the core children
//! (FIFO reader, one write and one read child per medium), respawned
//! clients, and what happens when any of them dies (docs/behaviour.md §1.6, §10).

use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use hb_sys::shm::{ProcTable, Role};
use mio::net::UnixStream;
use mio::Interest;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::slots::{reader_token, writer_token, Inbound, Shutdown, FIFO, MEDIUM_RETRY_MS};
use super::Master;
use crate::exit_status;
use crate::hb_log;
use crate::logging::{self, Prio};
use crate::outbox::Outbox;
use crate::respawn::{Decision, ExitKind};
use crate::spawn;

/// Counts a media child's traffic in its own slot of the shared table,
/// where the master (and status tools) can read it.
fn count(table: &ProcTable, d: hb_media::StatDelta) {
    let Some((_, slot)) = table.find_pid(Pid::this()) else {
        return;
    };
    slot.touch();
    match d {
        hb_media::StatDelta::Sent { bytes } => slot.count_out(bytes as u64),
        hb_media::StatDelta::Received { bytes } => slot.count_in(bytes as u64),
        _ => slot.count_error(),
    }
}

impl Master {
    pub(super) fn table_record(&self, pid: Pid, role: Role, index: usize) {
        if let Some((_, slot)) = self.table.free_slot() {
            slot.claim(pid, role, u32::try_from(index).unwrap_or(u32::MAX));
        }
    }

    pub(super) fn table_forget(&self, pid: Pid) {
        if let Some((_, slot)) = self.table.find_pid(pid) {
            slot.clear();
        }
    }

    // ----- children -------------------------------------------------------

    /// File descriptors every child keeps (the log files).
    pub(super) fn child_keep(extra: &[RawFd]) -> Vec<RawFd> {
        let mut keep = logging::held_fds();
        keep.extend_from_slice(extra);
        keep
    }

    pub(super) fn spawn_fifo_reader(&mut self) {
        let (mcp_end, child_end) = match std::os::unix::net::UnixStream::pair() {
            Ok(p) => p,
            Err(e) => {
                hb_log!(Prio::Error, "cannot create FIFO ipc channel: {e}");
                return;
            }
        };
        let fifo = self.paths.fifo();
        let master = Pid::this();
        let table = &self.table;
        // With -M (no resource management) there is nothing to give up.
        let groups = if self.rsc.is_some() {
            self.groups.clone()
        } else {
            Vec::new()
        };
        let env = self.script_env();
        let keep = Self::child_keep(&[child_end.as_raw_fd()]);
        let rt = self.child_realtime();
        let pid = spawn::core_child("FIFO reader", &keep, rt, false, move || {
            let give_up = || {
                // Stopping what is not running succeeds, so every group is
                // released, last line first, whatever this node held.
                for group in groups.iter().rev() {
                    let r = hb_rsc_runner::run_group(hb_rsc_runner::GroupOp::Release, group, &env);
                    for (level, line) in &r.log {
                        logging::emit(logging::Prio::from(*level), line);
                    }
                }
            };
            let others = || {
                table
                    .slots()
                    .filter_map(|s| s.pid())
                    .map(Pid::as_raw)
                    .collect()
            };
            crate::fifo_reader::run(&fifo, child_end, master, others, give_up)
        });
        match pid {
            Ok(pid) => {
                self.table_record(pid, Role::Fifo, 0);
                let _ = mcp_end.set_nonblocking(true);
                let mut stream = UnixStream::from_std(mcp_end);
                let _ = self
                    .poll
                    .registry()
                    .register(&mut stream, FIFO, Interest::READABLE);
                self.fifo_in = Some(Inbound::new(stream));
                self.fifo_pid = Some(pid);
                hb_log!(Prio::Debug, "FIFO process pid: {pid}");
            }
            Err(e) => hb_log!(Prio::Error, "Can't fork FIFO process! {e}"),
        }
    }

    /// Marks the FIFO reader alive (at most once a second) while
    /// `/proc/PID/stat` shows it sleeping in `poll` (`S`) or running (`R`).
    /// It does not wake up to say so itself (docs/behaviour.md §1.4).
    pub(super) fn fifo_reader_vouch(&self) {
        let Some(pid) = self.fifo_pid else {
            return;
        };
        let Some((_, slot)) = self.table.find_pid(pid) else {
            return;
        };
        if hb_sys::shm::monotonic_ms().saturating_sub(slot.last_alive_ms()) < 1000 {
            return;
        }
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // The state follows the command name, which may hold spaces: ") S ...".
        let state = stat
            .rfind(')')
            .and_then(|i| stat[i + 1..].split_whitespace().next());
        if matches!(state, Some("S" | "R")) {
            slot.touch();
        }
    }

    pub(super) fn child_realtime(&self) -> Option<i32> {
        if !self.hacf.realtime {
            return None;
        }
        let prio = self.hacf.rtprio.unwrap_or(1);
        Some(if prio > 1 { prio - 1 } else { prio })
    }

    pub(super) fn spawn_medium(&mut self, i: usize) -> Result<(), String> {
        let spec = self.media[i].spec.clone();
        if spec.is_ping() {
            return self.spawn_ping_medium(i);
        }
        let socks = hb_media::open(&spec)
            .map_err(|e| format!("cannot open medium {} {}: {e}", spec.kind(), spec.name()))?;
        hb_log!(Prio::Info, "glib: {}", socks.describe());
        let pair = || {
            std::os::unix::net::UnixStream::pair()
                .map_err(|e| format!("cannot create channel: {e}"))
        };
        let (w_mcp, w_child) = pair()?;
        let (r_mcp, r_child) = pair()?;
        let rt = self.child_realtime();
        let title = format!("write: {} {}", spec.kind(), spec.name());
        let medium_fds = [socks.send_fd().as_raw_fd(), socks.recv_fd().as_raw_fd()];
        let mut keep = Self::child_keep(&[w_child.as_raw_fd()]);
        keep.extend(medium_fds);
        let wsocks = &socks;
        let table = &self.table;
        let write_timeout = Duration::from_millis(self.hacf.keepalive_ms.max(100));
        let writer = spawn::core_child(&title, &keep, rt, true, move || {
            hb_media::write_child_loop(wsocks, w_child, write_timeout, |d| count(table, d))
        })
        .map_err(|e| format!("cannot fork write child: {e}"))?;
        let title = format!("read: {} {}", spec.kind(), spec.name());
        let mut keep = Self::child_keep(&[r_child.as_raw_fd()]);
        keep.extend(medium_fds);
        let reader = spawn::core_child(&title, &keep, rt, true, move || {
            hb_media::read_child_loop(wsocks, r_child, |d| count(table, d))
        })
        .map_err(|e| format!("cannot fork read child: {e}"))?;
        drop(socks);
        self.attach_medium(i, (writer, w_mcp), (reader, r_mcp))
    }

    /// Ping media (docs/protocol.md §11.5): the children turn status packets
    /// into ICMP echoes and hand the echoed payloads back, so they need
    /// the node's keys.
    fn spawn_ping_medium(&mut self, i: usize) -> Result<(), String> {
        let spec = self.media[i].spec.clone();
        let ping = hb_media::open_ping(&spec)
            .map_err(|e| format!("cannot open medium {} {}: {e}", spec.kind(), spec.name()))?;
        hb_log!(Prio::Info, "glib: {}", ping.describe());
        let keys = self.core.config().keys.clone();
        let pair = || {
            std::os::unix::net::UnixStream::pair()
                .map_err(|e| format!("cannot create channel: {e}"))
        };
        let (w_mcp, w_child) = pair()?;
        let (r_mcp, r_child) = pair()?;
        let rt = self.child_realtime();
        let fd = ping.fd().as_raw_fd();
        let table = &self.table;
        let write_timeout = Duration::from_millis(self.hacf.keepalive_ms.max(100));
        let title = format!("write: {} {}", spec.kind(), spec.name());
        let keep = Self::child_keep(&[w_child.as_raw_fd(), fd]);
        let (p, k) = (&ping, &keys);
        let writer = spawn::core_child(&title, &keep, rt, true, move || {
            hb_media::ping_write_loop(p, k, w_child, write_timeout, |d| count(table, d))
        })
        .map_err(|e| format!("cannot fork write child: {e}"))?;
        let title = format!("read: {} {}", spec.kind(), spec.name());
        let keep = Self::child_keep(&[r_child.as_raw_fd(), fd]);
        let reader = spawn::core_child(&title, &keep, rt, true, move || {
            hb_media::ping_read_loop(p, k, r_child, |d| count(table, d))
        })
        .map_err(|e| format!("cannot fork read child: {e}"))?;
        drop(ping);
        self.attach_medium(i, (writer, w_mcp), (reader, r_mcp))
    }

    /// Records a medium's freshly forked children and registers the
    /// master's ends of their channels.
    fn attach_medium(
        &mut self,
        i: usize,
        (writer, w_mcp): (Pid, std::os::unix::net::UnixStream),
        (reader, r_mcp): (Pid, std::os::unix::net::UnixStream),
    ) -> Result<(), String> {
        self.table_record(writer, Role::Write, i);
        self.table_record(reader, Role::Read, i);
        let _ = w_mcp.set_nonblocking(true);
        let _ = r_mcp.set_nonblocking(true);
        let w = UnixStream::from_std(w_mcp);
        let mut r = UnixStream::from_std(r_mcp);
        let reg = self.poll.registry();
        // The write channel is watched only while frames wait
        // (`arm_writers`): otherwise every datagram the write child takes
        // would wake the master to say the channel has room again.
        reg.register(&mut r, reader_token(i), Interest::READABLE)
            .map_err(|e| e.to_string())?;
        let slot = &mut self.media[i];
        slot.writer = Some(writer);
        slot.reader = Some(reader);
        slot.outbox = Some(Outbox::new(w));
        slot.write_armed = false;
        slot.inbound = Some(Inbound::new(r));
        slot.retry_at = None;
        Ok(())
    }

    /// Watches a write channel for room only while its outbox holds
    /// frames the channel could not take.
    pub(super) fn arm_writers(&mut self) {
        let reg = self.poll.registry();
        for (i, m) in self.media.iter_mut().enumerate() {
            let Some(ob) = m.outbox.as_mut() else {
                continue;
            };
            let want = ob.pending() > 0;
            if want && !m.write_armed {
                m.write_armed = reg
                    .register(ob.writer_mut(), writer_token(i), Interest::WRITABLE)
                    .is_ok();
            } else if !want && m.write_armed {
                let _ = reg.deregister(ob.writer_mut());
                m.write_armed = false;
            }
        }
    }

    pub(super) fn drop_medium_channels(&mut self, i: usize) {
        let reg = self.poll.registry();
        if let Some(mut ob) = self.media[i].outbox.take() {
            if std::mem::take(&mut self.media[i].write_armed) {
                let _ = reg.deregister(ob.writer_mut());
            }
        }
        if let Some(mut ib) = self.media[i].inbound.take() {
            let _ = reg.deregister(&mut ib.stream);
        }
    }

    pub(super) fn core_pids(&self) -> Vec<Pid> {
        let mut v: Vec<Pid> = self.fifo_pid.into_iter().collect();
        for m in &self.media {
            v.extend(m.writer);
            v.extend(m.reader);
        }
        v
    }

    /// A resource would not stop and still runs (docs/behaviour.md §5.3):
    /// like ResourceManager, kill heartbeat ungracefully and reboot at once,
    /// so the peer may take the group.
    pub(super) fn reboot_after_stop_failure(&mut self) {
        hb_log!(Prio::Crit, "Killing heartbeat ungracefully!");
        let e = hb_sys::daemon::reboot_now(std::time::Duration::ZERO);
        self.reboot_failed(&e);
    }

    /// The reboot was refused: never keep running with a resource that
    /// must not be running here — kill every child and exit, so the peers
    /// see this node die.
    fn reboot_failed(&mut self, e: &hb_sys::SysError) {
        hb_log!(Prio::Emerg, "ALL REBOOT OPTIONS FAILED: {e}");
        for pid in self.core_pids() {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
        for c in &self.clients {
            if let Some(pid) = c.state.pid {
                let _ =
                    nix::sys::signal::killpg(Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
            }
        }
        std::process::exit(1);
    }

    pub(super) fn reap(&mut self) {
        loop {
            let status = match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => return,
                Ok(s) => s,
            };
            let Some(pid) = status.pid() else { continue };
            if !matches!(status, WaitStatus::Exited(..) | WaitStatus::Signaled(..)) {
                continue;
            }
            self.table_forget(pid);
            self.child_died(pid, status);
        }
    }

    pub(super) fn child_died(&mut self, pid: Pid, status: WaitStatus) {
        let shutting_down = self.shutdown != Shutdown::Running;
        if self.stonith_helper_died(pid, status) || self.notification_died(pid) {
            return;
        }
        // Resource helpers.
        if let Some(id) = self.helpers.remove(&pid) {
            let ok = matches!(status, WaitStatus::Exited(_, 0));
            if matches!(status, WaitStatus::Exited(_, 2)) {
                // the helper logged `Resource STOP failure. Reboot required!`
                self.reboot_after_stop_failure();
            }
            if let WaitStatus::Signaled(..) = status {
                if let Some((prio, text)) = exit_status::describe("resource helper", status) {
                    logging::emit(prio, &text);
                }
            }
            let now = self.now();
            if let Some(r) = self.rsc.as_mut() {
                r.action_done(id, ok, now);
            }
            self.drain_rsc();
            self.run_next_notification();
            return;
        }
        // Respawned clients.
        if let Some(ci) = self
            .clients
            .iter()
            .position(|c| c.state.pid == Some(pid.as_raw()))
        {
            self.client_died(ci, pid, status, shutting_down);
            return;
        }
        let role = if self.fifo_pid == Some(pid) {
            Some(("HBFIFO", None))
        } else {
            self.media.iter().enumerate().find_map(|(i, m)| {
                if m.writer == Some(pid) {
                    Some(("HBWRITE", Some(i)))
                } else if m.reader == Some(pid) {
                    Some(("HBREAD", Some(i)))
                } else {
                    None
                }
            })
        };
        let Some((name, medium)) = role else { return };
        // Core children keep being restarted while resources are released:
        // the shutdone must still reach the peers.
        if self.shutdown == Shutdown::Core {
            self.forget_core(pid);
            let remaining = self.core_pids().len() + 1;
            hb_log!(
                Prio::Info,
                "Core process {pid} exited. {remaining} remaining"
            );
            if remaining == 1 && self.shutdown == Shutdown::Core {
                hb_log!(Prio::Info, "{} Heartbeat shutdown complete.", self.node);
                self.exit_code = Some(0);
            }
            return;
        }
        // Ping children stopped on purpose to pick up new keys are not failures.
        let rekeying = medium.is_some_and(|i| self.media[i].rekeying);
        if !rekeying {
            if let Some((prio, text)) = exit_status::describe(name, status) {
                logging::emit(prio, &text);
            }
        }
        if !rekeying {
            let process = match medium {
                None => "FIFO reader".to_string(),
                Some(i) => {
                    let spec = &self.media[i].spec;
                    let dir = if name == "HBWRITE" { "write" } else { "read" };
                    format!("{dir}: {} {}", spec.kind(), spec.name())
                }
            };
            self.report.restarted(&process);
        }
        match medium {
            None => {
                self.fifo_pid = None;
                if let Some(mut ib) = self.fifo_in.take() {
                    let _ = self.poll.registry().deregister(&mut ib.stream);
                }
                hb_log!(Prio::Warn, "Restarting HBFIFO process.");
                self.spawn_fifo_reader();
            }
            Some(i) => {
                let partner = {
                    let m = &mut self.media[i];
                    if m.writer == Some(pid) {
                        m.writer = None;
                        m.reader
                    } else {
                        m.reader = None;
                        m.writer
                    }
                };
                if let Some(p) = partner {
                    if !rekeying {
                        hb_log!(
                            Prio::Error,
                            "{name} process died.  Beginning communications restart process for comm channel {i}."
                        );
                    }
                    let _ = kill(p, Signal::SIGKILL);
                } else {
                    if !rekeying {
                        hb_log!(
                            Prio::Error,
                            "Both comm processes for channel {i} have died.  Restarting."
                        );
                    }
                    self.media[i].rekeying = false;
                    self.drop_medium_channels(i);
                    match self.spawn_medium(i) {
                        Ok(()) => hb_log!(Prio::Info, "Communications restart succeeded."),
                        Err(e) => {
                            hb_log!(
                                Prio::Error,
                                "Communications restart failed. Will try again later. ({e})"
                            );
                            self.media[i].retry_at = Some(self.now() + MEDIUM_RETRY_MS);
                        }
                    }
                }
            }
        }
    }

    pub(super) fn forget_core(&mut self, pid: Pid) {
        if self.fifo_pid == Some(pid) {
            self.fifo_pid = None;
        }
        for m in &mut self.media {
            if m.writer == Some(pid) {
                m.writer = None;
            }
            if m.reader == Some(pid) {
                m.reader = None;
            }
        }
    }

    pub(super) fn client_died(
        &mut self,
        ci: usize,
        pid: Pid,
        status: WaitStatus,
        shutting_down: bool,
    ) {
        let cmd = self.clients[ci].spec.command.clone();
        if !shutting_down {
            if let Some((prio, text)) = exit_status::describe(&cmd, status) {
                logging::emit(prio, &text);
            }
        }
        let how = match status {
            WaitStatus::Signaled(_, s, _) => ExitKind::Signal(s as i32),
            WaitStatus::Exited(_, c) => ExitKind::Code(c),
            _ => ExitKind::Code(0),
        };
        let now = self.now();
        match self.clients[ci].state.exited(how, now, shutting_down) {
            Decision::Respawn { .. } => {
                hb_log!(Prio::Error, "Respawning client \"{cmd}\":");
                self.report.restarted(&cmd);
                self.start_client(ci);
            }
            Decision::GaveUp => hb_log!(Prio::Error, "Client {cmd} \"respawning too fast\""),
            Decision::Stopped => hb_log!(
                Prio::Info,
                "Client \"{cmd}\" exited with return code 100: not respawning it."
            ),
            Decision::Reboot => {
                hb_log!(Prio::Emerg, "Rebooting system.  Reason: {cmd}");
                let delay = std::time::Duration::from_millis(self.hacf.keepalive_ms);
                let e = hb_sys::daemon::reboot_now(delay);
                self.reboot_failed(&e);
            }
            Decision::Nothing => {}
        }
        if let Shutdown::Clients { next, .. } = self.shutdown {
            if next == ci {
                let _ = pid;
                self.stop_next_client(ci);
            }
        }
    }

    pub(super) fn start_client(&mut self, ci: usize) {
        if self.shutdown != Shutdown::Running || self.clients[ci].state.retired {
            return;
        }
        let spec = self.clients[ci].spec.clone();
        hb_log!(
            Prio::Info,
            "Starting child client \"{}\" ({},{})",
            spec.command,
            spec.uid,
            spec.gid
        );
        let pause =
            self.clients[ci].state.pid.is_none() && self.clients[ci].state.last_run_was_short();
        match spawn::client(&spec, pause) {
            Ok(pid) => {
                let now = self.now();
                self.clients[ci].state.started(pid.as_raw(), now);
                self.table_record(pid, Role::Client, ci);
            }
            Err(e) => hb_log!(Prio::Error, "Cannot exec {}: {e}", spec.command),
        }
    }
}
