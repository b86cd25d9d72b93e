//! `ipfail`: moves resources to the node that sees more ping nodes
//! (docs/behaviour.md §9). Started by heartbeat (`respawn hacluster
//! /usr/libexec/heartbeat/ipfail`), it signs on as the named API client
//! `ipfail`, checks that heartbeat manages resources and how
//! `auto_failback` is set, finds its partner node, then reacts to node and
//! link status changes and to its partner's messages. The decisions live in
//! `ipfail/logic.rs`; this file is the API glue, the logging set-up (the
//! `HA_logfile`/`HA_debugfile`/`HA_logfacility` environment heartbeat
//! exports, entity `ipfail`) and the C program's exit codes:
//! 1 sign-on failed, 100 no resource management or an unusable
//! `auto_failback` (heartbeat does not respawn it), 8/9/12/13 API set-up
//! failures, 14 sign-off failed, 0 after SIGINT/SIGTERM.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hb_client::{Client, SignOnOptions};
use hb_proto::Message;
use nix::sys::signal::Signal;

use hb_tools::ipfail::logic::{self, Heartbeat, Ipfail, Prio};

/// How often the main loop wakes up without input (the C 1-s poll timer).
const POLL: Duration = Duration::from_secs(1);

fn log(prio: Prio, text: &str) {
    hb_log::emit(prio, text);
}

/// Logs `what` and the API's reason, and exits with `code`.
fn fail(what: &str, reason: &dyn std::fmt::Display, code: i32) -> ! {
    log(Prio::Error, what);
    log(Prio::Error, &format!("REASON: {reason}"));
    std::process::exit(code);
}

/// The logger of cluster-glue client programs: destinations from the
/// lower-case `HA_*` variables heartbeat exports; debug lines always go to
/// the debug file (as the C ipfail's do).
fn init_logging() {
    hb_tools::client::log::init("ipfail", None, 1);
}

/// The API side of [`Heartbeat`].
struct Api {
    client: Client,
}

impl Heartbeat for Api {
    fn ping_count(&mut self) -> usize {
        let nodes = match self.client.nodes() {
            Ok(n) => n,
            Err(e) => fail("Cannot start node walk", &e, 16),
        };
        let mut found = 0;
        for n in nodes {
            let status = match n.status {
                Some(s) => s,
                None => self.client.node_status(&n.name).unwrap_or_default(),
            };
            if status == "ping" {
                log(Prio::Debug, &format!("Found ping node {}!", n.name));
                found += 1;
            }
        }
        found
    }

    fn is_stable(&mut self) -> bool {
        self.client.resources().map_or(true, |r| r != "transition")
    }

    fn send_node(&mut self, msg: &Message, node: &str) {
        if let Err(e) = self.client.send_node_message(msg, node) {
            log(Prio::Error, &format!("Cannot send message to {node}: {e}"));
        }
    }

    fn send_cluster(&mut self, msg: &Message) {
        if let Err(e) = self.client.send_cluster_message(msg) {
            log(Prio::Error, &format!("Cannot send cluster message: {e}"));
        }
    }

    fn log(&mut self, prio: Prio, text: &str) {
        log(prio, text);
    }

    fn sleep_ms(&mut self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

/// Sign-on and the start-up checks; returns the API and the algorithm.
fn start() -> (Api, Ipfail) {
    log(Prio::Debug, &format!("PID={}", std::process::id()));
    log(Prio::Debug, "Signing in with heartbeat");
    let opts = SignOnOptions {
        path: PathBuf::from(hb_client::DEFAULT_SOCKET),
        client_id: Some("ipfail".to_string()),
        ..SignOnOptions::default()
    };
    let mut client = match Client::signon(&opts) {
        Ok(c) => c,
        Err(e) => fail("Cannot sign on with heartbeat", &e, 1),
    };
    if client.resources().is_err() {
        log(Prio::Error, "No managed resources");
        std::process::exit(100);
    }
    let me = client.info().node.clone();
    if me.is_empty() {
        fail("Cannot get my nodeid", &"", 19);
    }
    log(Prio::Debug, &format!("[We are {me}]"));
    let mut auto_failback = false;
    match client.parameter("auto_failback") {
        Ok(Some(p)) => {
            if p == "legacy" {
                log(
                    Prio::Error,
                    "auto_failback set to incompatible legacy option.",
                );
                std::process::exit(100);
            }
            let Some(b) = logic::parse_boolean(&p) else {
                log(Prio::Error, &format!(" invalid auto_faiback value({p})"));
                std::process::exit(100);
            };
            auto_failback = b;
            log(
                Prio::Debug,
                &format!("auto_failback -> {} ({p})", i32::from(b)),
            );
        }
        _ => log(Prio::Error, "Couldn't get auto_failback setting."),
    }
    let _ = client.parameter("coreroot");
    log(Prio::Debug, "Setting message filter mode");
    if let Err(e) = client.set_filter(1) {
        fail("Cannot set filter mode", &e, 8);
    }
    log(Prio::Debug, "Starting node walk");
    let nodes = match client.nodes() {
        Ok(n) => n,
        Err(e) => fail("Cannot start node walk", &e, 9),
    };
    let mut partner = String::new();
    for n in &nodes {
        let status = match &n.status {
            Some(s) => s.clone(),
            None => client.node_status(&n.name).unwrap_or_default(),
        };
        log(
            Prio::Debug,
            &format!("Cluster node: {}: status: {status}", n.name),
        );
        let kind = match &n.node_type {
            Some(t) => t.clone(),
            None => client.node_type(&n.name).unwrap_or_default(),
        };
        if kind == "normal" && n.name != me {
            partner.clone_from(&n.name);
            log(Prio::Debug, &format!("[They are {partner}]"));
        }
    }
    log(Prio::Debug, "Setting message signal");
    if let Err(e) = client.set_signal(0) {
        fail("Cannot set message signal", &e, 13);
    }
    let keepalive = client.info().keepalive_ms;
    (
        Api { client },
        Ipfail::new(&me, &partner, auto_failback, keepalive),
    )
}

fn main() {
    init_logging();
    let signals = match hb_sys::signals::SignalFd::block(&[Signal::SIGINT, Signal::SIGTERM]) {
        Ok(s) => Some(s),
        Err(e) => {
            log(Prio::Error, &format!("cannot watch SIGINT/SIGTERM: {e}"));
            None
        }
    };
    let (mut api, mut ipfail) = start();
    log(Prio::Debug, "Waiting for messages...");
    hb_log::set_stderr(false);
    let t0 = Instant::now();
    let now = || u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX);
    loop {
        if signals.as_ref().is_some_and(|s| !s.read_all().is_empty()) {
            break;
        }
        let wait = ipfail.next_deadline().map_or(POLL, |d| {
            Duration::from_millis(d.saturating_sub(now())).min(POLL)
        });
        match api.client.recv(Some(wait.max(Duration::from_millis(1)))) {
            Ok(Some(msg)) => ipfail.on_message(&mut api, &msg, now()),
            Ok(None) => {}
            Err(e) => {
                log(Prio::Error, &format!("read_hb_msg returned NULL: {e}"));
                break;
            }
        }
        ipfail.tick(&mut api, now());
    }
    if let Err(e) = api.client.signoff() {
        fail("Cannot sign off from heartbeat.", &e, 14);
    }
}
