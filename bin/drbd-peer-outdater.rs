//! `drbd-peer-outdater`: DRBD's `fence-peer` handler for heartbeat
//! clusters (dopd(8)). DRBD runs it (`fence-peer
//! "/usr/libexec/heartbeat/drbd-peer-outdater -t 5"`) with `DRBD_PEER` and
//! `DRBD_RESOURCE` set; it asks the local dopd to have the peer outdate
//! its disk and exits with the fence-peer code dopd answers: 3 peer
//! inconsistent, 4 peer outdated, 5 peer unreachable (also when dopd cannot
//! be reached or does not answer in time), 6 peer primary, 20 other
//! error, 21 another request for the resource is running; 1 for a bad
//! command line. Option parsing and the answer's reading are in
//! `hb_client::dopd`; this file is the socket.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use hb_client::dopd::{self, rc, OutdaterArgs, OutdaterCli};
use hb_log::{self as logging, Prio};
use hb_proto::ipc::FrameDecoder;
use hb_proto::Message;

use hb_tools::client::log as client_log;

/// Syslog facility `daemon`, cluster-glue's default for heartbeat tools.
const LOG_DAEMON: i32 = 3 << 3;

/// How the wait for dopd's answer ended.
enum Wait {
    Answer(Message),
    Closed,
    TimedOut,
}

fn wait_answer(stream: &mut UnixStream, timeout: Duration) -> Wait {
    let deadline = Instant::now() + timeout;
    let mut decoder = FrameDecoder::new();
    let mut buf = [0u8; 4096];
    loop {
        loop {
            match decoder.next_frame() {
                Ok(Some(p)) => match hb_proto::decode_any(&p) {
                    Ok(m) => return Wait::Answer(m),
                    Err(_) => continue,
                },
                Ok(None) => break,
                Err(_) => return Wait::Closed,
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return Wait::TimedOut;
        }
        match stream.read(&mut buf) {
            Ok(0) => return Wait::Closed,
            Ok(n) => decoder.push(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut =>
            {
                return Wait::TimedOut
            }
            Err(_) => return Wait::Closed,
        }
    }
}

/// Asks dopd; returns the exit code.
fn outdate(a: &OutdaterArgs) -> i32 {
    logging::emit(Prio::Debug, &format!("drbd peer: {}", a.peer));
    logging::emit(Prio::Debug, &format!("drbd resource: {}", a.resource));
    let mut stream = match UnixStream::connect(dopd::SOCKET) {
        Ok(s) => s,
        Err(e) => {
            logging::emit(
                Prio::Warn,
                &format!(
                    "Could not connect to outdater channel {}: {e}",
                    dopd::SOCKET
                ),
            );
            return rc::UNREACHABLE;
        }
    };
    let req = dopd::request_message(&a.peer, &a.resource);
    if let Err(e) = stream.write_all(&hb_client::ipc_frame(&req)) {
        logging::emit(Prio::Warn, &format!("Could not send message: {e}"));
        return rc::UNREACHABLE;
    }
    match wait_answer(&mut stream, Duration::from_secs(a.timeout_s)) {
        Wait::Answer(m) => {
            logging::emit(
                Prio::Debug,
                &format!(
                    "message: {}, {}",
                    m.msg_type().unwrap_or(""),
                    m.get_str("src").unwrap_or("")
                ),
            );
            dopd::answer_code(&m).unwrap_or_else(|why| {
                logging::emit(Prio::Warn, &why.to_string());
                rc::UNDEFINED
            })
        }
        Wait::Closed => {
            logging::emit(
                Prio::Warn,
                "no message from server or other instance is running",
            );
            rc::UNREACHABLE
        }
        Wait::TimedOut => {
            logging::emit(
                Prio::Warn,
                &format!(
                    "error: could not connect to dopd after {} seconds: timeout reached",
                    a.timeout_s
                ),
            );
            rc::UNREACHABLE
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let env = |k: &str| std::env::var(k).ok();
    let cmd = dopd::OUTDATER_NAME;
    let code = match dopd::parse_outdater_args(&args, &env) {
        OutdaterCli::Help => {
            print!("{}", dopd::outdater_usage(cmd));
            0
        }
        OutdaterCli::Usage(errors) => {
            for e in errors {
                eprintln!("{e}");
            }
            eprint!("{}", dopd::outdater_usage(cmd));
            rc::USAGE
        }
        OutdaterCli::Run(a) => {
            client_log::init(cmd, Some(LOG_DAEMON), a.verbose);
            outdate(&a)
        }
    };
    std::process::exit(code);
}
