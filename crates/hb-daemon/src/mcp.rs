//! The master control process: one single-threaded `mio` loop that owns the
//! cluster engine, every child channel, the signals and the timers
//! (daemon.md §1.8).
//!
//! Data flow: read child → frame → [`hb_core::Cluster::on_datagram`] →
//! outputs: `Transmit` frames go to every write child's [`Outbox`],
//! `Deliver`ed messages to local consumers, `Event`s to the log and to the
//! master's own reactions (comm up starts the respawned clients, and so on).
//! Nothing here blocks: a stuck child costs at most its own queue.

use std::io::{ErrorKind, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mio::net::UnixStream;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::sys::signal::{kill, killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use std::collections::{HashMap, VecDeque};

use hb_api::{Action, ResourceHolding};
use hb_config::{HaCf, Medium, ResourceGroup};
use hb_core::{Cluster, Event, Output};
use hb_proto::ipc::FrameDecoder;
use hb_rsc::{OpId, ResourceManager, RscSet, RscStatus};

use crate::exit_status;
use crate::hb_log;
use crate::logging::{self, Prio};
use crate::outbox::Outbox;
use crate::paths::Paths;
use crate::respawn::{self, Decision, ExitKind};
use crate::spawn;
use hb_sys::shm::{ProcTable, Role};

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

/// Maps the resource manager's levels to log priorities.
fn rsc_prio(l: hb_rsc::Level) -> Prio {
    match l {
        hb_rsc::Level::Debug => Prio::Debug,
        hb_rsc::Level::Info => Prio::Info,
        hb_rsc::Level::Warn => Prio::Warn,
        hb_rsc::Level::Error => Prio::Error,
        hb_rsc::Level::Crit => Prio::Crit,
    }
}

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

const SIGNALS: Token = Token(0);
const FIFO: Token = Token(1);
const MEDIUM_BASE: usize = 100;
/// How often API clients whose process vanished are dropped (daemon.md §1.8).
const API_AUDIT_MS: u64 = 9_000;
/// Between the last resource released (shutdone sent) and stopping the
/// children, so the shutdone reaches the peers (the C waits 1 s too).
const FINAL_PHASE_DELAY_MS: u64 = 1_000;

/// What API clients see: the engine, the configuration, the resources.
fn api_view<'a>(
    core: &'a Cluster,
    hacf: &'a HaCf,
    rsc: Option<&ResourceManager>,
) -> crate::api::View<'a> {
    let resources = match rsc.map(ResourceManager::rsc_hold) {
        None => ResourceHolding::None,
        Some(RscStatus::Transition) => ResourceHolding::Transition,
        Some(RscStatus::Held(set)) => {
            if set == RscSet::ALL {
                ResourceHolding::All
            } else if set == RscSet::LOCAL {
                ResourceHolding::Local
            } else if set == RscSet::FOREIGN {
                ResourceHolding::Foreign
            } else {
                ResourceHolding::None
            }
        }
    };
    crate::api::View {
        core,
        hacf,
        resources,
    }
}

/// Message types the resource manager consumes (protocol.md §9).
const RESOURCE_TYPES: [&str; 8] = [
    "starting",
    "resource",
    "ask_resources",
    "ip-request",
    "ip-request-resp",
    "shutdone",
    "hb_takeover",
    "stonith",
];

/// How long a respawned client gets to exit on SIGTERM at shutdown before
/// it is killed (the C daemon waits forever).
const CLIENT_STOP_GRACE_MS: u64 = 5_000;
/// Retry period for a medium whose restart failed (daemon.md §1.6).
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
}

/// A `respawn`/`failfast` client.
struct ClientSlot {
    spec: hb_config::Respawn,
    state: respawn::Client,
}

/// Where a graceful shutdown stands (daemon.md §1.9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shutdown {
    Running,
    /// SIGTERM arrived before comm up: acted on at comm up.
    Deferred,
    /// Giving up resources (daemon.md §1.9.1 steps 4–5).
    Releasing,
    /// Stopping respawned clients, last line first; `next` counts down.
    Clients {
        next: usize,
        deadline: u64,
    },
    /// Core children were told to stop.
    Core,
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
}

impl Master {
    /// Builds the master around an already configured engine and forks
    /// the core children.
    pub fn new(
        paths: Paths,
        hacf: HaCf,
        node: String,
        core: Cluster,
        start: Instant,
        table: ProcTable,
        signals: hb_sys::signals::SignalFd,
        groups: Option<Vec<ResourceGroup>>,
    ) -> std::io::Result<Master> {
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
                nodes: hacf.nodes.clone(),
                groups: g.iter().map(hb_rsc::GroupSpec::from).collect(),
                mode: hacf.auto_failback,
            })
        });
        let mut m = Master {
            reload,
            api,
            next_audit: 0,
            rsc,
            groups: groups.unwrap_or_default(),
            helpers: HashMap::new(),
            final_phase_at: None,
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

    /// Opens the watchdog device (daemon.md §11); failure is logged and
    /// heartbeat runs without it, as the C daemon does.
    pub fn open_watchdog(&mut self) {
        let Some(dev) = self.hacf.watchdog.clone() else {
            return;
        };
        match hb_sys::watchdog::Watchdog::open(&dev, self.hacf.deadtime_ms) {
            Ok(mut w) => {
                hb_log!(Prio::Notice, "Using watchdog device: {}", dev.display());
                let _ = w.tickle();
                self.watchdog = Some(w);
            }
            Err(e) => hb_log!(
                Prio::Error,
                "Cannot open watchdog device: {} ({e})",
                dev.display()
            ),
        }
    }

    fn table_record(&self, pid: Pid, role: Role, index: usize) {
        if let Some((_, slot)) = self.table.free_slot() {
            slot.claim(pid, role, u32::try_from(index).unwrap_or(u32::MAX));
        }
    }

    fn table_forget(&self, pid: Pid) {
        if let Some((_, slot)) = self.table.find_pid(pid) {
            slot.clear();
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn wall() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    // ----- children -------------------------------------------------------

    /// File descriptors every child keeps (the log files).
    fn child_keep(extra: &[RawFd]) -> Vec<RawFd> {
        let mut keep = logging::held_fds();
        keep.extend_from_slice(extra);
        keep
    }

    fn spawn_fifo_reader(&mut self) {
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
        let keep = Self::child_keep(&[child_end.as_raw_fd()]);
        let rt = self.child_realtime();
        let pid = spawn::core_child("FIFO reader", &keep, rt, false, move || {
            crate::fifo_reader::run(&fifo, child_end, master, || {
                table
                    .slots()
                    .filter_map(|s| s.pid())
                    .map(Pid::as_raw)
                    .collect()
            })
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

    fn child_realtime(&self) -> Option<i32> {
        if !self.hacf.realtime {
            return None;
        }
        let prio = self.hacf.rtprio.unwrap_or(1);
        Some(if prio > 1 { prio - 1 } else { prio })
    }

    fn spawn_medium(&mut self, i: usize) -> Result<(), String> {
        let spec = self.media[i].spec.clone();
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
        self.table_record(writer, Role::Write, i);
        self.table_record(reader, Role::Read, i);
        let _ = w_mcp.set_nonblocking(true);
        let _ = r_mcp.set_nonblocking(true);
        let mut w = UnixStream::from_std(w_mcp);
        let mut r = UnixStream::from_std(r_mcp);
        let reg = self.poll.registry();
        reg.register(&mut w, writer_token(i), Interest::WRITABLE)
            .map_err(|e| e.to_string())?;
        reg.register(&mut r, reader_token(i), Interest::READABLE)
            .map_err(|e| e.to_string())?;
        let slot = &mut self.media[i];
        slot.writer = Some(writer);
        slot.reader = Some(reader);
        slot.outbox = Some(Outbox::new(w));
        slot.inbound = Some(Inbound::new(r));
        slot.retry_at = None;
        Ok(())
    }

    fn drop_medium_channels(&mut self, i: usize) {
        let reg = self.poll.registry();
        if let Some(mut ob) = self.media[i].outbox.take() {
            let _ = reg.deregister(ob.writer_mut());
        }
        if let Some(mut ib) = self.media[i].inbound.take() {
            let _ = reg.deregister(&mut ib.stream);
        }
    }

    // ----- the loop -------------------------------------------------------

    /// Runs until shutdown completes; returns the exit code.
    pub fn run(mut self) -> i32 {
        let mut events = Events::with_capacity(128);
        loop {
            let now = self.now();
            self.timers(now);
            self.core.on_tick(now, Self::wall());
            self.drain_core();
            if let Some(code) = self.exit_code {
                self.close_watchdog();
                return code;
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
        let mut t = self.next_tickle.min(self.next_loadavg);
        if let Some(d) = self.rsc.as_ref().and_then(ResourceManager::next_deadline) {
            t = t.min(d);
        }
        if self.api.is_open() {
            t = t.min(self.next_audit);
        }
        if let Some(f) = self.final_phase_at {
            t = t.min(f);
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

    fn timers(&mut self, now: u64) {
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
                    hb_log!(
                        Prio::Error,
                        "Watchdog write failure: closing watchdog!: {e}"
                    );
                    self.watchdog = None;
                }
            }
            self.next_tickle = now + self.hacf.keepalive_ms.max(1);
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

    fn drain_core(&mut self) {
        while let Some(out) = self.core.poll_output() {
            match out {
                Output::Transmit(bytes) => {
                    let frame = hb_proto::ipc::encode_frame(&bytes);
                    // Serial lines carry the classic text form, with the
                    // inner auth recomputed (protocol.md §11.4): made once
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
        if let Some((level, text)) = ev.log_line() {
            logging::emit(level, &text);
        }
        let now = self.now();
        match &ev {
            Event::NodeStatus { node, new, .. } => {
                if let Some(r) = self.rsc.as_mut() {
                    r.node_status(node, new);
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
            Event::LocalHeartbeatLost => {
                hb_log!(Prio::Error, "No local heartbeat. Forcing restart.");
                self.begin_shutdown();
            }
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

    fn deliver_to_clients(&mut self, msg: &hb_proto::Message) {
        if !self.api.is_open() {
            return;
        }
        let actions = {
            let view = api_view(&self.core, &self.hacf, self.rsc.as_ref());
            if matches!(msg.msg_type(), Some("query-cstatus" | "respond-cstatus")) {
                self.api.server.on_cluster_message(msg, &view)
            } else {
                self.api.server.deliver(msg, &view)
            }
        };
        self.api_actions(actions);
    }

    /// Carries out what the API server asked for, in order.
    fn api_actions(&mut self, actions: Vec<Action>) {
        let mut queue: VecDeque<Action> = actions.into();
        while let Some(a) = queue.pop_front() {
            match a {
                Action::Reply { conn, payload } => {
                    let more = {
                        let view = api_view(&self.core, &self.hacf, self.rsc.as_ref());
                        self.api.reply(conn, &payload, &view)
                    };
                    queue.extend(more);
                }
                Action::Close { conn } => self.api.close(conn, self.poll.registry()),
                Action::SendToCluster(msg) => self.send_cluster(msg),
                Action::Signal { pid, signal, .. } => {
                    if let Ok(sig) = Signal::try_from(signal) {
                        let _ = kill(Pid::from_raw(pid), sig);
                    }
                }
                Action::Log { level, text } => logging::emit(logging::prio_of(level), &text),
            }
        }
    }

    /// Sends a message of ours to the cluster (processed locally too).
    fn send_cluster(&mut self, msg: hb_proto::Message) {
        let now = self.now();
        if let Err(e) = self.core.on_local_message(now, Self::wall(), msg) {
            hb_log!(Prio::Error, "cannot send cluster message: {e}");
        }
        self.drain_core();
    }

    /// Carries out what the resource manager asked for.
    fn drain_rsc(&mut self) {
        loop {
            let Some(out) = self.rsc.as_mut().and_then(ResourceManager::poll) else {
                return;
            };
            match out {
                hb_rsc::Output::Send(msg) => self.send_cluster(msg),
                hb_rsc::Output::Log(level, text) => logging::emit(rsc_prio(level), &text),
                hb_rsc::Output::Acquire { id, key } => {
                    self.run_group(id, &key, hb_rsc::runner::GroupOp::Acquire)
                }
                hb_rsc::Output::Release { id, key } => {
                    self.run_group(id, &key, hb_rsc::runner::GroupOp::Release)
                }
                hb_rsc::Output::ShutdownComplete => {
                    self.final_phase_at = Some(self.now() + FINAL_PHASE_DELAY_MS);
                }
            }
        }
    }

    /// Starts or stops a haresources group in a helper process, so the
    /// master loop never waits for a script.
    fn run_group(&mut self, id: OpId, key: &str, op: hb_rsc::runner::GroupOp) {
        let Some(group) = self.groups.iter().find(|g| g.key() == key).cloned() else {
            hb_log!(Prio::Error, "no resource group with key {key}");
            let now = self.now();
            if let Some(r) = self.rsc.as_mut() {
                r.action_done(id, false, now);
            }
            return;
        };
        let mut env = hb_rsc::runner::ScriptEnv::new(&self.paths.confdir);
        env.vars = std::env::vars().collect();
        env.debug_log = self.hacf.debugfile.clone();
        if let Some(secs) = std::env::var("HEARTBEAT_RSC_TIMEOUT")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            env.timeout = Duration::from_secs(secs.max(1));
        }
        let title = match op {
            hb_rsc::runner::GroupOp::Acquire => format!("takegroup {key}"),
            hb_rsc::runner::GroupOp::Release => format!("givegroup {key}"),
        };
        let keep = logging::held_fds();
        match spawn::core_child(&title, &keep, None, false, move || {
            let _ = hb_sys::sched::make_normal();
            let _ = nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0));
            let result = hb_rsc::runner::run_group(op, &group, &env);
            for (level, line) in &result.log {
                logging::emit(rsc_prio(*level), line);
            }
            if result.reboot_required {
                2
            } else if result.ok {
                0
            } else {
                1
            }
        }) {
            Ok(pid) => {
                self.table_record(pid, Role::Helper, 0);
                self.helpers.insert(pid, id);
            }
            Err(e) => {
                hb_log!(Prio::Error, "cannot fork a resource helper: {e}");
                let now = self.now();
                if let Some(r) = self.rsc.as_mut() {
                    r.action_done(id, false, now);
                }
                self.drain_rsc();
            }
        }
    }

    fn on_deliver(&mut self, msg: hb_proto::Message) {
        let t = msg.msg_type().unwrap_or("");
        hb_log!(
            Prio::Debug,
            "received {t} message from {}",
            msg.get_str("src").unwrap_or("?")
        );
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
                Err(e) => hb_log!(Prio::Error, "bad message from FIFO dropped: {e}"),
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
        match self.reload.check(&self.paths) {
            crate::reload::Outcome::Unchanged => hb_log!(Prio::Info, "Configuration unchanged."),
            crate::reload::Outcome::NewKeys(keys) => {
                hb_log!(Prio::Info, "Rereading authentication file.");
                self.core.set_keys(keys);
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
    }

    fn core_pids(&self) -> Vec<Pid> {
        let mut v: Vec<Pid> = self.fifo_pid.into_iter().collect();
        for m in &self.media {
            v.extend(m.writer);
            v.extend(m.reader);
        }
        v
    }

    fn reap(&mut self) {
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

    fn child_died(&mut self, pid: Pid, status: WaitStatus) {
        let shutting_down = self.shutdown != Shutdown::Running;
        // Resource helpers.
        if let Some(id) = self.helpers.remove(&pid) {
            let ok = matches!(status, WaitStatus::Exited(_, 0));
            if matches!(status, WaitStatus::Exited(_, 2)) {
                hb_log!(Prio::Crit, "Resource STOP failure. Reboot required!");
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
        if let Some((prio, text)) = exit_status::describe(name, status) {
            logging::emit(prio, &text);
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
                    hb_log!(
                        Prio::Error,
                        "{name} process died.  Beginning communications restart process for comm channel {i}."
                    );
                    let _ = kill(p, Signal::SIGKILL);
                } else {
                    hb_log!(
                        Prio::Error,
                        "Both comm processes for channel {i} have died.  Restarting."
                    );
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

    fn forget_core(&mut self, pid: Pid) {
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

    fn client_died(&mut self, ci: usize, pid: Pid, status: WaitStatus, shutting_down: bool) {
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
                self.start_client(ci);
            }
            Decision::GaveUp => hb_log!(Prio::Error, "Client {cmd} \"respawning too fast\""),
            Decision::Stopped => hb_log!(
                Prio::Info,
                "Client \"{cmd}\" exited with return code 100: not respawning it."
            ),
            Decision::Reboot => {
                hb_log!(Prio::Emerg, "Rebooting system.  Reason: {cmd}");
                let e = hb_sys::daemon::reboot_now();
                hb_log!(Prio::Emerg, "reboot failed: {e}");
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

    fn start_client(&mut self, ci: usize) {
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

    // ----- shutdown -------------------------------------------------------

    fn begin_shutdown(&mut self) {
        match self.shutdown {
            Shutdown::Running => {}
            _ => return,
        }
        if !self.comm_up {
            hb_log!(Prio::Warn, "Shutdown delayed until Communication is up.");
            self.shutdown = Shutdown::Deferred;
            return;
        }
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
    fn stop_next_client(&mut self, below: usize) {
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

    fn stop_core_children(&mut self) {
        self.shutdown = Shutdown::Core;
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

    fn close_watchdog(&mut self) {
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
