//! One script call with a deadline.
//!
//! The script gets its own process group (so a timeout can kill everything
//! it started), a scrubbed environment, stdin from `/dev/null`, and either
//! a pipe for stdout (status calls: only stdout text matters) or the debug
//! log. Waiting is a bounded poll (`try_wait` + sleeps of 1 ms growing to
//! 10 ms) that also
//! drains the pipe, so a chatty script cannot block on a full pipe and a
//! daemon that keeps our pipe open cannot block us after the script exits.
//! On timeout: SIGTERM to the group, a grace period, SIGKILL to the group.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// Most stdout text kept from one call.
const MAX_CAPTURE: usize = 64 * 1024;
/// Polling starts fast (most scripts finish in a few ms: every ms of
/// latency is failover time) and backs off to `POLL_MAX`.
const POLL_MIN: Duration = Duration::from_millis(1);
const POLL_MAX: Duration = Duration::from_millis(10);
const DEFAULT_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// How a call ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Exit status (`$?` as the shell sees it: 128+n after signal n).
    Exited(i32),
    /// Killed at the deadline; the process group id.
    TimedOut { pgid: i32 },
    /// Could not be started at all.
    SpawnFailed(io::Error),
}

pub(crate) struct Call<'a> {
    pub path: &'a Path,
    pub args: &'a [String],
    pub op: &'a str,
    pub env: &'a [(String, String)],
    pub timeout: Duration,
    pub kill_grace: Duration,
    pub capture_stdout: bool,
    pub debug_log: Option<&'a Path>,
}

fn log_sink(path: Option<&Path>) -> Stdio {
    path.and_then(|p| OpenOptions::new().create(true).append(true).open(p).ok())
        .map_or_else(Stdio::null, Stdio::from)
}

fn shell_status(st: ExitStatus) -> i32 {
    st.code()
        .or_else(|| st.signal().map(|s| 128 + s))
        .unwrap_or(255)
}

/// Runs `<path> <args…> <op>`; returns the outcome and captured stdout.
pub(crate) fn run(call: &Call<'_>) -> (Outcome, String) {
    let mut cmd = Command::new(call.path);
    cmd.args(call.args)
        .arg(call.op)
        .env_clear()
        .envs(call.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stderr(log_sink(call.debug_log))
        .process_group(0);
    hb_sys::exec::reset_on_exec(&mut cmd);
    if !call.env.iter().any(|(k, _)| k == "PATH") {
        cmd.env("PATH", DEFAULT_PATH);
    }
    if call.capture_stdout {
        cmd.stdout(Stdio::piped());
    } else {
        cmd.stdout(log_sink(call.debug_log));
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return (Outcome::SpawnFailed(e), String::new()),
    };
    let mut out = Vec::new();
    let mut pipe = child.stdout.take().map(|s| File::from(OwnedFd::from(s)));
    if let Some(p) = &pipe {
        let nonblock = fcntl(p.as_raw_fd(), FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
        if nonblock.is_err() {
            // a blocking pipe could stall the poll loop; read it only at exit
            pipe = None;
        }
    }
    let outcome = wait_bounded(&mut child, call, &mut pipe, &mut out);
    drain(&mut pipe, &mut out);
    (outcome, String::from_utf8_lossy(&out).into_owned())
}

fn wait_bounded(
    child: &mut Child,
    call: &Call<'_>,
    pipe: &mut Option<File>,
    out: &mut Vec<u8>,
) -> Outcome {
    let start = Instant::now();
    // the child called setpgid(0, 0): its pid is the group id
    let pgid = i32::try_from(child.id()).unwrap_or(i32::MAX);
    let mut poll = POLL_MIN;
    loop {
        drain(pipe, out);
        match child.try_wait() {
            Ok(Some(st)) => return Outcome::Exited(shell_status(st)),
            Ok(None) => {}
            Err(e) => return Outcome::SpawnFailed(e),
        }
        if start.elapsed() >= call.timeout {
            kill_group(child, pgid, call.kill_grace, pipe, out);
            return Outcome::TimedOut { pgid };
        }
        sleep(poll);
        poll = (poll * 2).min(POLL_MAX);
    }
}

fn kill_group(
    child: &mut Child,
    pgid: i32,
    grace: Duration,
    pipe: &mut Option<File>,
    out: &mut Vec<u8>,
) {
    let group = Pid::from_raw(pgid);
    let _ = killpg(group, Signal::SIGTERM);
    let start = Instant::now();
    while start.elapsed() < grace {
        drain(pipe, out);
        if matches!(child.try_wait(), Ok(Some(_))) {
            break;
        }
        sleep(POLL_MAX);
    }
    // members that outlived the leader, or ignored SIGTERM
    let _ = killpg(group, Signal::SIGKILL);
    let _ = child.wait();
}

/// Reads whatever the pipe holds now; keeps at most MAX_CAPTURE bytes.
fn drain(pipe: &mut Option<File>, out: &mut Vec<u8>) {
    let Some(p) = pipe.as_mut() else {
        return;
    };
    let mut buf = [0u8; 4096];
    loop {
        match p.read(&mut buf) {
            Ok(0) => {
                *pipe = None;
                return;
            }
            Ok(n) => {
                let room = MAX_CAPTURE.saturating_sub(out.len());
                out.extend_from_slice(&buf[..n.min(room)]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}
