//! `dopd`: DRBD's outdate-peer daemon (dopd(8)). Started by heartbeat
//! (`respawn hacluster /usr/libexec/heartbeat/dopd`, with `apiauth dopd
//! gid=haclient uid=hacluster`), it signs on as the named API client
//! `dopd`, listens on `/run/heartbeat/dopd/outdater` for
//! drbd-peer-outdater, relays its requests to dopd on the peer node and
//! runs `drbdadm outdate <resource>` when the peer asks. The decisions,
//! messages and exit-code mapping are in `hb_client::dopd`; this file is
//! the I/O: the API connection, the local socket, `drbdadm`, signals.
//!
//! Exit codes as the C program: 1 sign-on failed or the socket cannot be
//! made, 19 no node name, 8/13 API set-up failures, 14 sign-off failed,
//! 0 after SIGINT/SIGTERM.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use hb_client::dopd::{self, Action, CommandStatus, ConnId, Dopd, Level, OutdateJob};
use hb_client::{Client, ClientError, NodeEntry, SignOnOptions};
use hb_log::{self as logging, Prio};
use hb_proto::ipc::FrameDecoder;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;

use hb_tools::client::log as client_log;

/// The C program's poll timer.
const TICK_MS: u16 = 1000;
/// Syslog facility `daemon`, cluster-glue's default for heartbeat tools.
const LOG_DAEMON: i32 = 3 << 3;

fn log(level: Level, text: &str) {
    let prio = match level {
        Level::Debug => Prio::Debug,
        Level::Info => Prio::Info,
        Level::Warn => Prio::Warn,
        Level::Error => Prio::Error,
    };
    logging::emit(prio, text);
}

/// Logs `what` and the API's reason, and exits with `code`.
fn fail(what: &str, reason: &dyn std::fmt::Display, code: i32) -> ! {
    log(Level::Error, what);
    log(Level::Error, &format!("REASON: {reason}"));
    std::process::exit(code);
}

/// One connected drbd-peer-outdater.
struct Conn {
    stream: UnixStream,
    decoder: FrameDecoder,
}

/// Signs on and sets the API up like the C program.
fn open_api() -> Client {
    log(Level::Debug, &format!("PID={}", std::process::id()));
    log(Level::Debug, "Signing in with heartbeat");
    let opts = SignOnOptions {
        path: PathBuf::from(hb_client::DEFAULT_SOCKET),
        client_id: Some(dopd::CLIENT_ID.to_string()),
        ..SignOnOptions::default()
    };
    let mut client = match Client::signon(&opts) {
        Ok(c) => c,
        Err(e) => fail("Cannot sign on with heartbeat", &e, 1),
    };
    if client.info().node.is_empty() {
        fail("Cannot get my nodeid", &"", 19);
    }
    log(Level::Debug, &format!("[We are {}]", client.info().node));
    log(Level::Debug, "Setting message filter mode");
    if let Err(e) = client.set_filter(1) {
        fail("Cannot set filter mode", &e, 8);
    }
    log(Level::Debug, "Setting message signal");
    if let Err(e) = client.set_signal(0) {
        fail("Cannot set message signal", &e, 13);
    }
    client
}

/// The listening socket: a stale one is replaced, the mode is 0777 (the
/// directory, 0750 hacluster:haclient, is what restricts access). A missing
/// directory is created.
fn listen(path: &Path) -> io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        if !dir.is_dir() {
            std::fs::create_dir_all(dir)?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o750))?;
        }
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let l = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// `drbdadm outdate <resource>`, found through `PATH` like the C
/// program's `system()`, but without a shell (the resource name comes from
/// the network).
fn run_outdate(resource: &str) -> CommandStatus {
    match Command::new("drbdadm")
        .arg("outdate")
        .arg(resource)
        .status()
    {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(c), _) => CommandStatus::Exited(c),
            (None, Some(sig)) => CommandStatus::Signaled(sig),
            (None, None) => CommandStatus::NotRun(format!("{s}")),
        },
        Err(e) => CommandStatus::NotRun(e.to_string()),
    }
}

/// The node walk with every entry's type and status (asked separately
/// from a daemon whose `nodelist` lacks them).
fn node_walk(client: &mut Client) -> Result<Vec<NodeEntry>, ClientError> {
    let mut nodes = client.nodes()?;
    for n in &mut nodes {
        if n.status.is_none() {
            n.status = client.node_status(&n.name).ok();
        }
        if n.node_type.is_none() {
            n.node_type = client.node_type(&n.name).ok();
        }
    }
    Ok(nodes)
}

struct Daemon {
    client: Client,
    dopd: Dopd,
    conns: BTreeMap<ConnId, Conn>,
    next_id: ConnId,
}

impl Daemon {
    /// Carries out `actions` (and the actions that finishing an outdate
    /// produces).
    fn perform(&mut self, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::Log(level, text) => log(level, &text),
                Action::Answer { conn, msg } => {
                    let sent = self.conns.get_mut(&conn).map(|c| {
                        c.stream
                            .write_all(&hb_client::ipc_frame(&msg))
                            .and_then(|()| c.stream.flush())
                    });
                    if !matches!(sent, Some(Ok(()))) {
                        log(Level::Error, "Could not send message to the client");
                    }
                }
                Action::Send { node, msg } => {
                    if let Err(e) = self.client.send_node_message(&msg, &node) {
                        log(Level::Error, &format!("Cannot send message to {node}: {e}"));
                    }
                }
                Action::Outdate(job) => self.outdate(&job),
            }
        }
    }

    fn outdate(&mut self, job: &OutdateJob) {
        let status = run_outdate(&job.resource);
        let actions = self.dopd.outdate_finished(job, &status);
        self.perform(actions);
    }

    /// Everything heartbeat has for us; `Err` when the API connection is
    /// gone.
    fn drain_api(&mut self) -> Result<(), hb_client::ClientError> {
        while let Some(msg) = self.client.recv(Some(Duration::from_millis(1)))? {
            let actions = self.dopd.on_cluster_message(&msg);
            self.perform(actions);
        }
        Ok(())
    }

    fn accept(&mut self, listener: &UnixListener) {
        loop {
            match listener.accept() {
                Ok((stream, _)) => {
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let id = self.next_id;
                    self.next_id += 1;
                    log(Level::Debug, &format!("Client outdater ({id}) connected"));
                    self.conns.insert(
                        id,
                        Conn {
                            stream,
                            decoder: FrameDecoder::new(),
                        },
                    );
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    /// Reads what connection `id` sent; handles each request; drops the
    /// connection at end of file or on a broken stream.
    fn read_conn(&mut self, id: ConnId) {
        let mut requests = Vec::new();
        let mut closed = false;
        if let Some(c) = self.conns.get_mut(&id) {
            let mut buf = [0u8; 4096];
            loop {
                match c.stream.read(&mut buf) {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(n) => c.decoder.push(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(_) => {
                        closed = true;
                        break;
                    }
                }
            }
            loop {
                match c.decoder.next_frame() {
                    Ok(Some(p)) => match hb_proto::decode_any(&p) {
                        Ok(m) => requests.push(m),
                        Err(_) => log(Level::Debug, "outdater: no message this time"),
                    },
                    Ok(None) => break,
                    Err(e) => {
                        log(Level::Warn, &format!("outdater connection dropped: {e}"));
                        closed = true;
                        break;
                    }
                }
            }
        }
        for m in requests {
            let client = &mut self.client;
            let actions = self.dopd.on_request(id, &m, &mut || node_walk(client));
            self.perform(actions);
        }
        if closed {
            log(Level::Debug, &format!("destroying connection: {id}"));
            self.conns.remove(&id);
            self.dopd.on_disconnect(id);
        }
    }
}

fn main() {
    let entity = std::env::args()
        .next()
        .unwrap_or_else(|| "dopd".to_string());
    client_log::init(&entity, Some(LOG_DAEMON), 1);
    let signals = match hb_sys::signals::SignalFd::block(&[Signal::SIGINT, Signal::SIGTERM]) {
        Ok(s) => Some(s),
        Err(e) => {
            log(Level::Error, &format!("cannot watch SIGINT/SIGTERM: {e}"));
            None
        }
    };
    let client = open_api();
    let me = client.info().node.clone();
    let listener = match listen(Path::new(dopd::SOCKET)) {
        Ok(l) => l,
        Err(e) => {
            log(
                Level::Error,
                &format!("Can't create wait channel on {}: {e}", dopd::SOCKET),
            );
            std::process::exit(1);
        }
    };
    log(Level::Debug, "Waiting for messages...");
    logging::set_stderr(false);
    let mut d = Daemon {
        client,
        dopd: Dopd::new(&me),
        conns: BTreeMap::new(),
        next_id: 1,
    };
    loop {
        if let Err(e) = d.drain_api() {
            let why = e.to_string();
            log(Level::Error, "read_hb_msg returned NULL");
            let why = if why.is_empty() {
                "heartbeat closed the API connection"
            } else {
                &why
            };
            log(Level::Error, &format!("REASON: {why}"));
            break;
        }
        let ids: Vec<ConnId> = d.conns.keys().copied().collect();
        let mut fds = vec![
            PollFd::new(d.client.as_fd(), PollFlags::POLLIN),
            PollFd::new(listener.as_fd(), PollFlags::POLLIN),
        ];
        if let Some(s) = &signals {
            fds.push(PollFd::new(s.as_fd(), PollFlags::POLLIN));
        }
        let first_conn = fds.len();
        fds.extend(
            ids.iter()
                .filter_map(|id| d.conns.get(id))
                .map(|c| PollFd::new(c.stream.as_fd(), PollFlags::POLLIN)),
        );
        // drain_api left nothing buffered in the client: the socket tells.
        match poll(&mut fds, PollTimeout::from(TICK_MS)) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => {
                log(Level::Error, &format!("poll: {e}"));
                break;
            }
        }
        let ready = |f: &PollFd| f.revents().is_some_and(|r| !r.is_empty());
        let listener_ready = ready(&fds[1]);
        let conns_ready: Vec<ConnId> = ids
            .iter()
            .zip(&fds[first_conn..])
            .filter(|(_, f)| ready(f))
            .map(|(id, _)| *id)
            .collect();
        drop(fds);
        if signals.as_ref().is_some_and(|s| !s.read_all().is_empty()) {
            break;
        }
        if listener_ready {
            d.accept(&listener);
        }
        for id in conns_ready {
            d.read_conn(id);
        }
    }
    let _ = std::fs::remove_file(dopd::SOCKET);
    if let Err(e) = d.client.signoff() {
        fail("Cannot sign off from heartbeat.", &e, 14);
    }
}
