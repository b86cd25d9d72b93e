//! The master control process: one single-threaded `mio` loop that owns the
//! cluster engine, every child channel, the signals and the timers
//! (docs/behaviour.md §1.8).
//!
//! Data flow: read child → frame → [`hb_core::Cluster::on_datagram`] →
//! outputs: `Transmit` frames go to every write child's [`Outbox`],
//! `Deliver`ed messages to local consumers, `Event`s to the log and to the
//! master's own reactions (comm up starts the respawned clients, and so on).
//! Nothing here blocks: a stuck child costs at most its own queue.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hb_config::{HaCf, ResourceGroup};
use hb_core::Cluster;
use hb_rsc::{OpId, ResourceManager};
use hb_sys::shm::{ProcTable, Role};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

use crate::hb_log;
use crate::logging::{self, Prio};
use crate::paths::Paths;
use crate::respawn;
use slots::{
    hung_after, ClientSlot, Inbound, MediumSlot, Shutdown, API_AUDIT_MS, CLIENT_STOP_GRACE_MS,
    FIFO, MEDIUM_BASE, MEDIUM_RETRY_MS, SIGNALS,
};

// The master's concerns, each an `impl Master` block of its own. They name
// this module (`super::Master`); this module names none of them except the
// leaves `slots` and `drops`, so the module graph has no cycle
// (crates/hb-daemon/tests/structure.rs checks it).
mod children;
mod clients_api;
mod drops;
mod events;
mod membership;
mod notify;
mod quick_restart;
mod resources;
mod shutdown;
mod signals;
mod slots;
mod stonith;

/// Everything the master is built from, prepared by [`crate::startup`].
pub struct Setup {
    /// File locations.
    pub paths: Paths,
    /// The validated ha.cf.
    pub hacf: HaCf,
    /// Our node name.
    pub node: String,
    /// The cluster engine, already started.
    pub core: Cluster,
    /// The instant the engine's clock counts from.
    pub start: Instant,
    /// The shared process table (made before any fork).
    pub table: ProcTable,
    /// The master's signals.
    pub signals: hb_sys::signals::SignalFd,
    /// The haresources groups; `None` with `-M` (no resource management).
    pub groups: Option<Vec<ResourceGroup>>,
}

/// The master control process.
pub struct Master {
    paths: Paths,
    hacf: HaCf,
    node: String,
    core: Cluster,
    start: Instant,
    poll: Poll,
    signals: hb_sys::signals::SignalFd,
    fifo_pid: Option<Pid>,
    fifo_in: Option<Inbound>,
    media: Vec<MediumSlot>,
    clients: Vec<ClientSlot>,
    watchdog: Option<hb_sys::watchdog::Watchdog>,
    next_tickle: u64,
    next_loadavg: u64,
    shutdown: Shutdown,
    comm_up: bool,
    exit_code: Option<i32>,
    table: ProcTable,
    reload: crate::reload::Watcher,
    api: crate::api::Endpoint,
    next_audit: u64,
    /// None with `-M` (no resource management).
    rsc: Option<ResourceManager>,
    groups: Vec<ResourceGroup>,
    /// Running group operations: helper pid → operation.
    helpers: HashMap<Pid, OpId>,
    /// The STONITH device (`stonith`/`stonith_host`), if any.
    stonith_device: Option<hb_config::Device>,
    /// Running STONITH helpers.
    stonith_running: HashMap<Pid, crate::stonith_cmd::StonithJob>,
    /// rc.d notifications (harc) waiting.
    notes: hb_rsc::notify::Notifier,
    /// The running notification (`harc`).
    notify_pid: Option<Pid>,
    /// When the final shutdown phase starts (after the resources are released).
    final_phase_at: Option<u64>,
    /// Rate limit of the log lines about rejected packets.
    drops: drops::DropReport,
    /// When a requested restart begins (its shutdown phase).
    restart_at: Option<u64>,
    /// The shutdown under way ends in a restart, not an exit.
    restart: bool,
    /// systemd readiness notifications (`Type=notify`).
    systemd: crate::sdnotify::Notifier,
    /// What `cl_status metrics`/`explain` and the metrics file need (crate::report).
    report: crate::report::ReportState,
    /// A quick restart (changed ha.cf) under way.
    quick_restart: Option<slots::QuickRestart>,
}

impl Master {
    /// Builds the master around an already configured engine and forks
    /// the core children.
    pub fn new(setup: Setup) -> std::io::Result<Master> {
        let Setup {
            paths,
            hacf,
            node,
            core,
            start,
            table,
            signals,
            groups,
        } = setup;
        let poll = Poll::new()?;
        poll.registry().register(
            &mut SourceFd(&signals.as_raw_fd()),
            SIGNALS,
            Interest::READABLE,
        )?;
        let media = hacf
            .media
            .iter()
            .map(|m| MediumSlot {
                spec: m.clone(),
                writer: None,
                reader: None,
                outbox: None,
                write_armed: false,
                inbound: None,
                retry_at: None,
                rekeying: false,
            })
            .collect();
        let clients = hacf
            .respawn
            .iter()
            .map(|r| ClientSlot {
                spec: r.clone(),
                state: respawn::Client::new(r.command.clone(), r.failfast),
            })
            .collect();
        let reload = crate::reload::Watcher::new(&paths);
        let api = crate::api::Endpoint::new(&hacf);
        let stonith_device = hb_config::effective_device(&hacf.stonith, &hacf.stonith_host, &node);
        let rsc = groups.as_ref().map(|g| {
            let mut rm = ResourceManager::new(hb_rsc::RscConfig {
                local: node.clone(),
                nodes: {
                    // Nodes deleted with hb_delnode are out (docs/behaviour.md §14.4).
                    let deleted = crate::hostcache::read(&paths.delhostcache());
                    hacf.nodes
                        .iter()
                        .filter(|n| !deleted.iter().any(|d| &d.name == *n))
                        .cloned()
                        .collect()
                },
                groups: g.iter().map(hb_rsc::GroupSpec::from).collect(),
                mode: hacf.auto_failback,
            });
            if stonith_device.is_some() {
                rm.enable_stonith();
            }
            rm
        });
        let drops = drops::DropReport::new(
            u64::try_from(start.elapsed().as_millis()).unwrap_or(0),
            drops::DROP_REPORT_INTERVAL_MS,
        );
        let mut m = Master {
            report: crate::report::ReportState::new(&hacf),
            drops,
            reload,
            api,
            next_audit: 0,
            rsc,
            groups: groups.unwrap_or_default(),
            helpers: HashMap::new(),
            stonith_device,
            stonith_running: HashMap::new(),
            notes: hb_rsc::notify::Notifier::new(),
            notify_pid: None,
            final_phase_at: None,
            systemd: crate::sdnotify::Notifier::from_env(),
            restart_at: None,
            restart: false,
            quick_restart: None,
            paths,
            hacf,
            node,
            core,
            start,
            poll,
            signals,
            fifo_pid: None,
            fifo_in: None,
            media,
            clients,
            watchdog: None,
            next_tickle: 0,
            next_loadavg: 0,
            shutdown: Shutdown::Running,
            comm_up: false,
            exit_code: None,
            table,
        };
        m.table_record(Pid::this(), Role::Master, 0);
        m.spawn_fifo_reader();
        for i in 0..m.media.len() {
            if let Err(e) = m.spawn_medium(i) {
                hb_log!(Prio::Error, "{e}");
                m.media[i].retry_at = Some(m.now() + MEDIUM_RETRY_MS);
            }
        }
        Ok(m)
    }

    /// Opens the watchdog device (docs/behaviour.md §11); failure is logged and
    /// heartbeat runs without it, as the C daemon does.
    pub fn open_watchdog(&mut self) {
        let Some(dev) = self.hacf.watchdog.clone() else {
            return;
        };
        match hb_sys::watchdog::Watchdog::open(&dev, self.hacf.deadtime_ms) {
            Ok(mut w) => {
                hb_log!(Prio::Notice, "Using watchdog device: {}", dev.display());
                // A device that opens but refuses writes must be reported
                // now, not silently dropped by the first tickle.
                match w.tickle() {
                    Ok(()) => self.watchdog = Some(w),
                    Err(e) => Self::watchdog_failed(&dev, &e),
                }
            }
            Err(e) => hb_log!(
                Prio::Error,
                "Cannot open watchdog device: {} ({e})",
                dev.display()
            ),
        }
    }

    /// The C daemon's line when a tickle fails; the watchdog is closed.
    fn watchdog_failed(dev: &std::path::Path, e: &dyn std::fmt::Display) {
        hb_log!(
            Prio::Error,
            "Watchdog write failure: closing {}!: {e}",
            dev.display()
        );
    }

    pub(super) fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub(super) fn wall() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    // ----- the loop -------------------------------------------------------

    /// Runs until shutdown completes; returns the exit code, or `None`
    /// when the shutdown was for a restart (the caller execs a new image).
    pub fn run(mut self) -> Option<i32> {
        let mut events = Events::with_capacity(128);
        loop {
            let now = self.now();
            self.timers(now);
            self.core.on_tick(now, Self::wall());
            self.drain_core();
            self.update_client_pause();
            if let Some(code) = self.exit_code {
                self.close_watchdog();
                return (!self.restart).then_some(code);
            }
            self.arm_writers();
            let wake = self.core.next_wakeup().min(self.next_timer());
            // A connection with bytes left over (read budget) is served
            // again at once, after the timers above had their turn.
            let floor = u64::from(!self.api.has_pending_reads());
            let timeout = wake.saturating_sub(self.now()).clamp(floor, 1000);
            if let Err(e) = self
                .poll
                .poll(&mut events, Some(Duration::from_millis(timeout)))
            {
                if e.kind() != ErrorKind::Interrupted {
                    hb_log!(Prio::Error, "poll failed: {e}");
                }
                continue;
            }
            for id in self.api.take_pending_reads() {
                self.on_api_readable(id);
            }
            for ev in events.iter() {
                match ev.token() {
                    SIGNALS => self.on_signals(),
                    FIFO => self.on_fifo(),
                    crate::api::LISTEN => self.on_api_listen(),
                    t if crate::api::Endpoint::conn_of(t).is_some() => {
                        if let Some(id) = crate::api::Endpoint::conn_of(t) {
                            self.on_api_readable(id);
                        }
                    }
                    Token(t) if t >= MEDIUM_BASE => {
                        let i = (t - MEDIUM_BASE) / 2;
                        if (t - MEDIUM_BASE) % 2 == 0 {
                            self.on_medium_input(i);
                        } else if let Some(ob) =
                            self.media.get_mut(i).and_then(|m| m.outbox.as_mut())
                        {
                            ob.flush();
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn next_timer(&self) -> u64 {
        let mut t = self
            .next_tickle
            .min(self.next_loadavg)
            .min(self.drops.deadline());
        if let Some(d) = self.rsc.as_ref().and_then(ResourceManager::next_deadline) {
            t = t.min(d);
        }
        if self.api.is_open() {
            t = t.min(self.next_audit);
        }
        if let Some(f) = self.final_phase_at {
            t = t.min(f);
        }
        if let Some(r) = self.restart_at {
            t = t.min(r);
        }
        if let Some(q) = self.quick_restart {
            t = t.min(q.due());
        }
        for m in &self.media {
            if let Some(r) = m.retry_at {
                t = t.min(r);
            }
        }
        if let Shutdown::Clients { deadline, .. } = self.shutdown {
            t = t.min(deadline);
        }
        t
    }

    /// Kills a FIFO reader or write child that showed no sign of life for
    /// longer than [`hung_after`]. A write child acts at least every
    /// keepalive (or second), so its silence means it is stuck. The FIFO
    /// reader sleeps until a script writes (it never wakes up to look), so
    /// the master vouches for it while the kernel shows it waiting or
    /// running (`fifo_reader_vouch`); stopped or stuck in the kernel, it
    /// falls silent. Its death then takes the ordinary restart path. (Read
    /// children wait for packets, and silence there is normal.)
    fn check_hung_children(&mut self) {
        let limit = hung_after(self.hacf.deadtime_ms);
        self.fifo_reader_vouch();
        let mut watched: Vec<(&str, Pid)> =
            self.fifo_pid.map(|p| ("HBFIFO", p)).into_iter().collect();
        watched.extend(
            self.media
                .iter()
                .filter_map(|m| m.writer.map(|p| ("HBWRITE", p))),
        );
        let now = hb_sys::shm::monotonic_ms();
        for (name, pid) in watched {
            let Some((_, slot)) = self.table.find_pid(pid) else {
                continue;
            };
            let silent = now.saturating_sub(slot.last_alive_ms());
            if silent > limit {
                hb_log!(
                    Prio::Error,
                    "Core heartbeat process {name} (pid {pid}) hung: no sign of life for {silent} ms. Killing it."
                );
                let _ = kill(pid, Signal::SIGKILL);
                slot.touch();
            }
        }
    }

    /// Schedules a restart `delay_ms` from now (once).
    fn request_restart(&mut self, delay_ms: u64) {
        if self.restart || self.restart_at.is_some() {
            return;
        }
        self.restart_at = Some(self.now() + delay_ms);
    }

    fn timers(&mut self, now: u64) {
        if self.restart_at.is_some_and(|t| now >= t) {
            self.restart_at = None;
            self.restart = true;
            hb_log!(Prio::Info, "Heartbeat restart triggered.");
            self.begin_shutdown();
        }
        if self.quick_restart.is_some_and(|q| now >= q.due()) {
            self.quick_restart_tick();
        }
        if let Some((level, text)) = self.drops.tick(now, self.core.counters()) {
            // log_badpack off: bad packets are still counted, the summary
            // goes to the debug log only (docs/behaviour.md §3.3).
            let level = if self.hacf.log_badpack {
                level
            } else {
                hb_core::Level::Debug
            };
            logging::emit(level, &text);
        }
        if let Some(r) = self.rsc.as_mut() {
            r.tick(now);
        }
        self.drain_rsc();
        if self.api.is_open() {
            let actions = self.api.expire_unsigned();
            self.api_actions(actions);
        }
        if self.api.is_open() && now >= self.next_audit {
            self.next_audit = now + API_AUDIT_MS;
            self.api_audit();
        }
        if let Some(path) = self.report.metrics_due(now) {
            self.write_metrics_file(&path, now);
        }
        if self.final_phase_at.is_some_and(|f| now >= f) {
            self.final_phase_at = None;
            let n = self.clients.len();
            self.stop_next_client(n);
        }
        if now >= self.next_tickle {
            if let Some(w) = self.watchdog.as_mut() {
                if let Err(e) = w.tickle() {
                    let dev = self.hacf.watchdog.clone().unwrap_or_default();
                    Self::watchdog_failed(&dev, &e);
                    self.watchdog = None;
                }
            }
            // The watchdog wants a tickle every keepalive; without one, the
            // hung-child check (limit >= 10 s) needs a look once a second.
            let every = if self.watchdog.is_some() {
                self.hacf.keepalive_ms.max(1)
            } else {
                self.hacf.keepalive_ms.max(1000)
            };
            self.next_tickle = now + every;
            if self.shutdown == Shutdown::Running {
                self.check_hung_children();
            }
        }
        if now >= self.next_loadavg {
            if let Ok(s) = std::fs::read_to_string("/proc/loadavg") {
                self.core.set_loadavg(s.trim_end());
            }
            self.next_loadavg = now + self.hacf.keepalive_ms.max(1000);
        }
        for i in 0..self.media.len() {
            if self.media[i].retry_at.is_some_and(|r| now >= r)
                && self.shutdown == Shutdown::Running
            {
                match self.spawn_medium(i) {
                    Ok(()) => hb_log!(Prio::Info, "Communications restart succeeded."),
                    Err(e) => {
                        hb_log!(
                            Prio::Error,
                            "Communications restart failed. Will try again later. ({e})"
                        );
                        self.media[i].retry_at = Some(now + MEDIUM_RETRY_MS);
                    }
                }
            }
        }
        if let Shutdown::Clients { deadline, next } = self.shutdown {
            if now >= deadline {
                if let Some(pid) = self.clients.get(next).and_then(|c| c.state.pid) {
                    hb_log!(
                        Prio::Warn,
                        "killing {} process group {pid} with signal 9",
                        self.clients[next].spec.command
                    );
                    let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
                }
                self.shutdown = Shutdown::Clients {
                    next,
                    deadline: now + CLIENT_STOP_GRACE_MS,
                };
            }
        }
    }
}
