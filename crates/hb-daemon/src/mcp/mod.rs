//! The master control process: one single-threaded `mio` loop that owns the
//! cluster engine, every child channel, the signals and the timers
//! (docs/behaviour.md §1.8).
//!
//! Data flow: read child → frame → [`hb_core::Cluster::on_datagram`] →
//! outputs: `Transmit` frames go to every write child's [`Outbox`],
//! `Deliver`ed messages to local consumers, `Event`s to the log and to the
//! master's own reactions (comm up starts the respawned clients, and so on).
//! Nothing here blocks: a stuck child costs at most its own queue.

use std::io::{ErrorKind, Read};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mio::net::UnixStream;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

use std::collections::HashMap;

use hb_config::{HaCf, Medium, ResourceGroup};
use hb_core::{Cluster, Event, Output};
use hb_proto::ipc::FrameDecoder;
use hb_rsc::{OpId, ResourceManager};

use crate::hb_log;
use crate::logging::{self, Prio};
use crate::outbox::Outbox;
use crate::paths::Paths;
use crate::respawn::{self};

mod children;
mod clients_api;
mod drops;
mod membership;
mod resources;
mod shutdown;

use clients_api::api_view;
use hb_sys::shm::{ProcTable, Role};
use resources::RESOURCE_TYPES;

/// The IPC frame of the classic rendering of a sealed netstring packet, as
/// a serial write child sends it; empty if the packet does not decode.
fn classic_frame(keys: &hb_proto::KeyRing, packet: &[u8]) -> Vec<u8> {
    match hb_proto::netstring::decode(packet) {
        Ok(mut msg) => {
            keys.add_inner_auth(&mut msg);
            hb_proto::ipc::encode_frame(&hb_proto::classic::encode(&msg))
        }
        Err(_) => Vec::new(),
    }
}

/// How long a FIFO reader or write child may stay silent before it counts
/// as hung: never less than the node's deadtime nor 10 s.
fn hung_after(deadtime_ms: u64) -> u64 {
    deadtime_ms.max(10_000)
}

const SIGNALS: Token = Token(0);
const FIFO: Token = Token(1);
const MEDIUM_BASE: usize = 100;
/// How often API clients whose process vanished are dropped (docs/behaviour.md §1.8).
const API_AUDIT_MS: u64 = 9_000;
/// Between the last resource released (shutdone sent) and stopping the
/// children, so the shutdone reaches the peers (the C waits 1 s too).
const FINAL_PHASE_DELAY_MS: u64 = 1_000;

/// How long a respawned client gets to exit on SIGTERM at shutdown before
/// it is killed (the C daemon waits forever).
const CLIENT_STOP_GRACE_MS: u64 = 5_000;
/// Retry period for a medium whose restart failed (docs/behaviour.md §1.6).
const MEDIUM_RETRY_MS: u64 = 10_000;

fn reader_token(i: usize) -> Token {
    Token(MEDIUM_BASE + 2 * i)
}
fn writer_token(i: usize) -> Token {
    Token(MEDIUM_BASE + 2 * i + 1)
}

/// Inbound channel from a child: the stream and its frame decoder.
struct Inbound {
    stream: UnixStream,
    frames: FrameDecoder,
}

impl Inbound {
    fn new(stream: UnixStream) -> Inbound {
        Inbound {
            stream,
            frames: FrameDecoder::new(),
        }
    }

    /// Reads everything available (edge-triggered) and returns whole
    /// frames; `Err` when the channel is closed or corrupt.
    fn drain(&mut self) -> Result<Vec<Vec<u8>>, ()> {
        let mut buf = [0u8; 65536];
        let mut closed = false;
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => self.frames.push(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        let mut out = Vec::new();
        loop {
            match self.frames.next_frame() {
                Ok(Some(f)) => out.push(f),
                Ok(None) => break,
                Err(_) => return Err(()),
            }
        }
        if closed && out.is_empty() {
            return Err(());
        }
        Ok(out)
    }
}

/// One medium's pair of children and their channels.
struct MediumSlot {
    spec: Medium,
    writer: Option<Pid>,
    reader: Option<Pid>,
    outbox: Option<Outbox<UnixStream>>,
    inbound: Option<Inbound>,
    /// When to retry a failed restart.
    retry_at: Option<u64>,
    /// Its children were stopped to pick up new keys (not a failure).
    rekeying: bool,
}

/// A `respawn`/`failfast` client.
struct ClientSlot {
    spec: hb_config::Respawn,
    state: respawn::Client,
}

/// Where a graceful shutdown stands (docs/behaviour.md §1.9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shutdown {
    Running,
    /// SIGTERM arrived before comm up: acted on at comm up.
    Deferred,
    /// Giving up resources (docs/behaviour.md §1.9.1 steps 4–5).
    Releasing,
    /// Stopping respawned clients, last line first; `next` counts down.
    Clients {
        next: usize,
        deadline: u64,
    },
    /// Core children were told to stop.
    Core,
}

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
        let rsc = groups.as_ref().map(|g| {
            ResourceManager::new(hb_rsc::RscConfig {
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
            })
        });
        let drops = drops::DropReport::new(
            u64::try_from(start.elapsed().as_millis()).unwrap_or(0),
            drops::DROP_REPORT_INTERVAL_MS,
        );
        let mut m = Master {
            drops,
            reload,
            api,
            next_audit: 0,
            rsc,
            groups: groups.unwrap_or_default(),
            helpers: HashMap::new(),
            final_phase_at: None,
            systemd: crate::sdnotify::Notifier::from_env(),
            restart_at: None,
            restart: false,
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
            if let Some(code) = self.exit_code {
                self.close_watchdog();
                return (!self.restart).then_some(code);
            }
            let wake = self.core.next_wakeup().min(self.next_timer());
            let timeout = wake.saturating_sub(self.now()).clamp(1, 1000);
            if let Err(e) = self
                .poll
                .poll(&mut events, Some(Duration::from_millis(timeout)))
            {
                if e.kind() != ErrorKind::Interrupted {
                    hb_log!(Prio::Error, "poll failed: {e}");
                }
                continue;
            }
            for ev in events.iter() {
                match ev.token() {
                    SIGNALS => self.on_signals(),
                    FIFO => self.on_fifo(),
                    crate::api::LISTEN => {
                        let actions = self.api.accept(self.poll.registry());
                        self.api_actions(actions);
                    }
                    t if crate::api::Endpoint::conn_of(t).is_some() => {
                        if let Some(id) = crate::api::Endpoint::conn_of(t) {
                            let actions = {
                                let view = api_view(&self.core, &self.hacf, self.rsc.as_ref());
                                self.api.readable(id, &view)
                            };
                            self.api_actions(actions);
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
    /// longer than [`hung_after`]: both act at least every second or every
    /// keepalive, so silence means it is stuck. Its death then takes the
    /// ordinary restart path. (Read children wait for packets, and silence
    /// there is normal.)
    fn check_hung_children(&mut self) {
        let limit = hung_after(self.hacf.deadtime_ms);
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
        if self.api.is_open() && now >= self.next_audit {
            self.next_audit = now + API_AUDIT_MS;
            let actions = {
                let view = api_view(&self.core, &self.hacf, self.rsc.as_ref());
                self.api.server.audit(&view)
            };
            self.api_actions(actions);
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
            self.next_tickle = now + self.hacf.keepalive_ms.max(1);
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

    pub(super) fn drain_core(&mut self) {
        while let Some(out) = self.core.poll_output() {
            match out {
                Output::Transmit(bytes) => {
                    let frame = hb_proto::ipc::encode_frame(&bytes);
                    // Serial lines carry the classic text form, with the
                    // inner auth recomputed (docs/protocol.md §11.4): made once
                    // per packet, only when a serial medium exists.
                    let mut serial_frame: Option<Vec<u8>> = None;
                    let mut sent = false;
                    for m in &mut self.media {
                        let Some(ob) = m.outbox.as_mut() else {
                            continue;
                        };
                        if matches!(m.spec, Medium::Serial { .. }) {
                            let f = serial_frame.get_or_insert_with(|| {
                                classic_frame(&self.core.config().keys, &bytes)
                            });
                            if !f.is_empty() {
                                ob.push(f);
                            }
                        } else {
                            ob.push(&frame);
                        }
                        sent |= !ob.broken;
                    }
                    if !sent && !self.media.is_empty() {
                        hb_log!(
                            Prio::Crit,
                            "send_to_all_media: No working comm channels to write to."
                        );
                    }
                }
                Output::Deliver(msg) => self.on_deliver(msg),
                Output::Event(ev) => self.on_event(ev),
            }
        }
    }

    fn on_event(&mut self, ev: Event) {
        if self.drops.admit(&ev) && (self.hacf.log_badpack || !drops::is_bad_packet(&ev)) {
            for (level, text) in ev.log_lines() {
                logging::emit(level, &text);
            }
        }
        let now = self.now();
        match &ev {
            Event::NodeStatus { node, old, new } => {
                if let Some(r) = self.rsc.as_mut() {
                    r.node_status(node, new);
                }
                if old == "dead" && self.rsc.is_some() {
                    self.refresh_ip_announcements();
                }
            }
            Event::NodeDead { node } => {
                let ping = self.hacf.ping_nodes.contains(node);
                if !ping {
                    if let Some(r) = self.rsc.as_mut() {
                        r.node_dead(node, now);
                    }
                }
                // API clients (ipfail) get the C's synthetic death message.
                let mut m = hb_proto::Message::from_pairs([("t", "status"), ("seq", "1")]);
                m.set_str("ts", format!("{:x}", Self::wall()));
                m.set_str("src", node);
                m.set_str("st", "dead");
                if ping {
                    m.set_str("info", "ping");
                }
                self.deliver_to_clients(&m);
            }
            Event::LinkStatus { node, medium, up } => {
                let m = hb_proto::Message::from_pairs([
                    ("t", "ifstat"),
                    ("node", node.as_str()),
                    ("ifname", medium.as_str()),
                    ("st", if *up { "up" } else { "dead" }),
                ]);
                self.deliver_to_clients(&m);
            }
            _ => {}
        }
        self.drain_rsc();
        match ev {
            Event::CommUp => self.on_comm_up(),
            // Both end in a restart that gives up the resources first
            // (docs/behaviour.md §1.9.4, docs/protocol.md §6.7); after a healed partition
            // the C daemon waits 2 s so its status reaches the peer.
            Event::LocalHeartbeatLost => self.request_restart(0),
            Event::PartitionHealed { .. } if self.rsc.is_some() => self.request_restart(2_000),
            _ => {}
        }
    }

    fn on_comm_up(&mut self) {
        if self.comm_up {
            return;
        }
        self.comm_up = true;
        if self.shutdown == Shutdown::Deferred {
            self.shutdown = Shutdown::Running;
            self.begin_shutdown();
            return;
        }
        if let Err(e) = self
            .api
            .open(&self.paths.api_socket(), self.poll.registry())
        {
            hb_log!(
                Prio::Error,
                "Cannot open registration socket at {}: {e}",
                self.paths.api_socket().display()
            );
        }
        self.next_audit = self.now() + API_AUDIT_MS;
        // Media up, API socket open: ready as far as systemd is concerned.
        self.systemd.notify("READY=1");
        let active: Vec<String> = self
            .core
            .nodes()
            .into_iter()
            .filter(|n| n.kind != hb_core::NodeKind::Ping && n.status == "active")
            .map(|n| n.name)
            .collect();
        let now = self.now();
        if let Some(r) = self.rsc.as_mut() {
            r.comm_up(now, &active);
        }
        self.drain_rsc();
        for i in 0..self.clients.len() {
            self.start_client(i);
        }
    }

    /// Sends a message of ours to the cluster (processed locally too).
    pub(super) fn send_cluster(&mut self, msg: hb_proto::Message) {
        let now = self.now();
        if let Err(e) = self.core.on_local_message(now, Self::wall(), msg) {
            hb_log!(Prio::Error, "cannot send cluster message: {e}");
        }
        self.drain_core();
    }

    pub(super) fn on_deliver(&mut self, msg: hb_proto::Message) {
        let t = msg.msg_type().unwrap_or("");
        hb_log!(
            Prio::Debug,
            "received {t} message from {}",
            msg.get_str("src").unwrap_or("?")
        );
        if membership::TYPES.contains(&t) {
            self.on_membership(&msg);
        }
        if RESOURCE_TYPES.contains(&t) {
            let from_self = msg.get_str("src") == Some(self.node.as_str());
            let now = self.now();
            if let Some(r) = self.rsc.as_mut() {
                r.message(&msg, from_self, now);
            }
            self.drain_rsc();
        }
        self.deliver_to_clients(&msg);
    }

    fn on_fifo(&mut self) {
        let frames = match self.fifo_in.as_mut().map(Inbound::drain) {
            Some(Ok(f)) => f,
            Some(Err(())) => {
                if let Some(mut ib) = self.fifo_in.take() {
                    let _ = self.poll.registry().deregister(&mut ib.stream);
                }
                return;
            }
            None => return,
        };
        let now = self.now();
        for f in frames {
            match hb_proto::classic::decode(&f) {
                Ok(msg) => {
                    if let Err(e) = self.core.on_local_message(now, Self::wall(), msg) {
                        hb_log!(Prio::Error, "message from FIFO not sent: {e}");
                    }
                }
                Err(e) => {
                    if self.drops.fifo_bad() {
                        hb_log!(Prio::Error, "bad message from FIFO dropped: {e}");
                    }
                }
            }
        }
        self.drain_core();
    }

    fn on_medium_input(&mut self, i: usize) {
        let frames = match self
            .media
            .get_mut(i)
            .and_then(|m| m.inbound.as_mut())
            .map(Inbound::drain)
        {
            Some(Ok(f)) => f,
            Some(Err(())) => {
                if let Some(mut ib) = self.media[i].inbound.take() {
                    let _ = self.poll.registry().deregister(&mut ib.stream);
                }
                return;
            }
            None => return,
        };
        let now = self.now();
        let wall = Self::wall();
        for f in frames {
            self.core.on_datagram(now, wall, i, &f);
        }
        self.drain_core();
    }

    // ----- signals and child deaths --------------------------------------

    fn on_signals(&mut self) {
        for sig in self.signals.read_all() {
            match sig {
                Signal::SIGTERM => self.begin_shutdown(),
                Signal::SIGHUP => self.on_reload(),
                Signal::SIGUSR1 | Signal::SIGUSR2 => self.change_debug(sig),
                Signal::SIGCHLD => self.reap(),
                _ => {}
            }
        }
    }

    fn change_debug(&mut self, sig: Signal) {
        let old = logging::debug_level();
        let new = if sig == Signal::SIGUSR1 {
            old + 1
        } else {
            old.saturating_sub(1)
        };
        logging::set_debug_level(new);
        if new > 0 {
            std::env::set_var("HA_debug", new.to_string());
        } else {
            std::env::remove_var("HA_debug");
        }
        if old == 0 && new == 1 {
            hb_log!(Prio::Info, "heartbeat: version {}", crate::cli::HB_VERSION);
        }
        hb_log!(
            Prio::Debug,
            "debug now set to {new} [pid {}]",
            std::process::id()
        );
        for pid in self.core_pids() {
            let _ = kill(pid, sig);
        }
    }

    fn on_reload(&mut self) {
        self.systemd.notify("RELOADING=1");
        match self.reload.check(&self.paths) {
            crate::reload::Outcome::Unchanged => hb_log!(Prio::Info, "Configuration unchanged."),
            crate::reload::Outcome::NewKeys(keys) => {
                hb_log!(Prio::Info, "Rereading authentication file.");
                self.core.set_keys(*keys);
                // Ping children seal and check their echoes themselves: restart
                // them so they use the new keys too.
                for m in self.media.iter_mut().filter(|m| m.spec.is_ping()) {
                    hb_log!(Prio::Info, "Restarting {} {} with the new keys.", m.spec.kind(), m.spec.name());
                    m.rekeying = true;
                    for pid in m.writer.into_iter().chain(m.reader) {
                        let _ = kill(pid, Signal::SIGTERM);
                    }
                }
            }
            crate::reload::Outcome::Rejected(errors) => {
                for e in errors {
                    hb_log!(Prio::Error, "{e}");
                }
                hb_log!(Prio::Error, "Configuration reload refused: keeping the running configuration.");
            }
            crate::reload::Outcome::NeedsRestart => hb_log!(
                Prio::Warn,
                "ha.cf changed: the new configuration is valid and takes effect at the next restart of heartbeat."
            ),
        }
        self.systemd.notify("READY=1");
    }
}
