//! The FIFO reader child (`heartbeat: FIFO reader`, docs/behaviour.md §6).
//!
//! Scripts (`ha_clustermsg` in shellfuncs, `hb_standby`, the resource
//! helpers) append classic-format messages to the FIFO. This process turns
//! them into IPC frames for the master, which signs and sends them like its
//! own. It also watches the master: when the master dies, it takes the other
//! core processes down (docs/behaviour.md §1.4), so a half-dead node never keeps
//! heartbeating.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;
use nix::unistd::{getppid, Pid};

use crate::hb_log;
use crate::logging::Prio;

/// Longest line accepted (the C reader's limit is 512; we are generous but
/// bounded so garbage cannot grow memory).
const MAX_LINE: usize = 64 * 1024;
/// Largest message accepted from the FIFO.
const MAX_MSG: usize = 256 * 1024;

/// Interval of the discard summary: garbage written to the FIFO in a loop
/// costs one log line per interval, not one per message.
const DISCARD_REPORT: Duration = Duration::from_secs(10);

/// Logs the first discarded message of an interval and counts the rest.
#[derive(Debug)]
struct DiscardLog {
    since: Instant,
    suppressed: u64,
    logged: bool,
}

impl DiscardLog {
    fn new(now: Instant) -> DiscardLog {
        DiscardLog {
            since: now,
            suppressed: 0,
            logged: false,
        }
    }

    /// A message was discarded: whether to log it.
    fn discarded(&mut self, now: Instant) -> bool {
        self.roll(now);
        if self.logged {
            self.suppressed += 1;
            false
        } else {
            self.logged = true;
            true
        }
    }

    /// At the end of an interval: how many discards were not logged.
    fn roll(&mut self, now: Instant) -> Option<u64> {
        if now.duration_since(self.since) < DISCARD_REPORT {
            return None;
        }
        self.since = now;
        self.logged = false;
        Some(std::mem::take(&mut self.suppressed)).filter(|n| *n > 0)
    }
}

/// What the assembler produced from the bytes fed so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Assembled {
    /// A complete classic frame (`>>>\n...<<<\n`), ready to decode.
    Frame(Vec<u8>),
    /// A message was discarded: the offending line (lossy text) for the log.
    Discarded(String),
}

/// Splits FIFO bytes into messages: lines before `>>>` are skipped, lines up
/// to `<<<` are collected. Pure, so it is unit-tested and fuzzed.
#[derive(Debug, Default)]
pub struct Assembler {
    line: Vec<u8>,
    frame: Vec<u8>,
    in_msg: bool,
    overlong: bool,
}

impl Assembler {
    /// Feeds bytes; returns completed frames and discards in order.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Assembled> {
        let mut out = Vec::new();
        for &b in bytes {
            if b != b'\n' {
                if self.line.len() < MAX_LINE {
                    self.line.push(b);
                } else {
                    self.overlong = true;
                }
                continue;
            }
            let line = std::mem::take(&mut self.line);
            let overlong = std::mem::replace(&mut self.overlong, false);
            if line == b">>>" {
                self.in_msg = true;
                self.frame.clear();
                self.frame.extend_from_slice(b">>>\n");
                continue;
            }
            if !self.in_msg {
                continue;
            }
            if line == b"<<<" {
                self.in_msg = false;
                self.frame.extend_from_slice(b"<<<\n");
                out.push(Assembled::Frame(std::mem::take(&mut self.frame)));
                continue;
            }
            if overlong || self.frame.len() + line.len() + 1 > MAX_MSG {
                self.in_msg = false;
                self.frame.clear();
                let shown: Vec<u8> = line.iter().copied().take(80).collect();
                out.push(Assembled::Discarded(
                    String::from_utf8_lossy(&shown).into_owned(),
                ));
                continue;
            }
            self.frame.extend_from_slice(&line);
            self.frame.push(b'\n');
        }
        out
    }
}

/// Body of the FIFO reader process; returns its exit code. `alive` is
/// called at least once a second (the master watches for hung children);
/// `others` lists the processes to take down if the master dies, and
/// `give_up_resources` then releases every resource group.
pub fn run(
    fifo: &Path,
    mut to_master: UnixStream,
    master: Pid,
    alive: impl Fn(),
    others: impl Fn() -> Vec<i32>,
    give_up_resources: impl Fn(),
) -> i32 {
    // Open for reading without blocking on the absent writer, then keep a
    // writer of our own so the FIFO never reports end-of-file when a
    // script closes it.
    let reader = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(fifo)
    {
        Ok(f) => f,
        Err(e) => {
            hb_log!(Prio::Error, "Cannot open FIFO {}: {e}", fifo.display());
            return 2;
        }
    };
    let _keepalive_writer = OpenOptions::new().write(true).open(fifo);
    let mut reader = reader;
    let mut asm = Assembler::default();
    let mut buf = vec![0u8; 4096];
    let mut discards = DiscardLog::new(Instant::now());
    loop {
        alive();
        if let Some(n) = discards.roll(Instant::now()) {
            hb_log!(
                Prio::Error,
                "{n} more FIFO messages discarded in the last {} s",
                DISCARD_REPORT.as_secs()
            );
        }
        if getppid() != master {
            emergency_shutdown(master, &others());
            // Unlike the C daemon (which leaves them to the watchdog), give
            // the resources up: the peer takes them over after its deadtime,
            // and a VIP must never answer from two nodes.
            give_up_resources();
            hb_log!(
                Prio::Crit,
                "Emergency Shutdown(MCP dead): Killing ourselves."
            );
            return 1;
        }
        let ready = {
            let mut fds = [PollFd::new(reader.as_fd(), PollFlags::POLLIN)];
            poll(&mut fds, PollTimeout::from(100u16)).unwrap_or(0)
        };
        if ready == 0 {
            continue;
        }
        let n = match reader.read(&mut buf) {
            Ok(0) => continue,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                hb_log!(Prio::Error, "FIFO read error: {e}");
                return 2;
            }
        };
        for item in asm.push(&buf[..n]) {
            match item {
                Assembled::Frame(frame) => {
                    if to_master
                        .write_all(&hb_proto::ipc::encode_frame(&frame))
                        .is_err()
                    {
                        // The master is gone; the next loop notices.
                        break;
                    }
                }
                Assembled::Discarded(line) => {
                    if discards.discarded(Instant::now()) {
                        hb_log!(Prio::Error, "NV failure (msgfromsteam): [{line}]");
                    }
                }
            }
        }
    }
}

fn emergency_shutdown(master: Pid, others: &[i32]) {
    hb_log!(
        Prio::Crit,
        "Emergency Shutdown: Master Control process died."
    );
    let me = std::process::id() as i32;
    for &pid in others {
        if pid > 0 && pid != me && pid != master.as_raw() {
            match still_ours(pid) {
                Some(handle) => {
                    hb_log!(Prio::Crit, "Killing pid {pid} with SIGTERM");
                    let _ = handle.send_signal(Signal::SIGTERM);
                }
                None => hb_log!(
                    Prio::Warn,
                    "Not killing pid {pid}: it is gone or no longer one of ours (another session)"
                ),
            }
        }
    }
}

/// A handle on `pid` if it is still a process of this heartbeat: in our
/// session (the master made it; every child stays in it). A pid from the
/// process table whose process has exited may by now belong to anyone; the
/// pidfd taken before the check makes sure the signal reaches the process
/// that was checked (docs/reliability.md, hardening).
fn still_ours(pid: i32) -> Option<hb_sys::pidfd::PidFd> {
    let handle = hb_sys::pidfd::PidFd::open(pid).ok()?;
    let ours = nix::unistd::getsid(None).ok()?;
    (nix::unistd::getsid(Some(Pid::from_raw(pid))).ok()? == ours).then_some(handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emergency_kill_spares_pids_of_other_sessions() {
        let spawn = |prog: &str, args: &[&str]| {
            std::process::Command::new(prog)
                .args(args)
                .spawn()
                .expect("spawn")
        };
        // `setsid -w` forks when it is a group leader; `-f`-less setsid on a
        // non-leader execs in place, so the pid is the sleeper's.
        let mut stranger = spawn("setsid", &["sleep", "30"]);
        let mut child = spawn("sleep", &["30"]);
        let pids = [stranger.id() as i32, child.id() as i32];
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(still_ours(pids[0]).is_none());
        emergency_shutdown(Pid::from_raw(1), &pids);
        let st = child.wait().expect("wait");
        assert!(!st.success(), "our session's child is killed");
        assert!(
            stranger.try_wait().expect("try_wait").is_none(),
            "another session's process is left alone"
        );
        let _ = stranger.kill();
        let _ = stranger.wait();
    }

    #[test]
    fn frames_are_cut_at_markers_and_noise_is_skipped() {
        let mut a = Assembler::default();
        let mut out = a.push(b"noise\n>>>\nt=ask_resources\nrsc_hold=all\n");
        assert!(out.is_empty());
        out = a.push(b"info=me\n<<<\n>>>\nt=x\n<<<\n");
        assert_eq!(
            out,
            vec![
                Assembled::Frame(b">>>\nt=ask_resources\nrsc_hold=all\ninfo=me\n<<<\n".to_vec()),
                Assembled::Frame(b">>>\nt=x\n<<<\n".to_vec()),
            ]
        );
    }

    #[test]
    fn discards_are_logged_once_per_interval_and_summed_up() {
        let t0 = Instant::now();
        let mut d = DiscardLog::new(t0);
        assert!(d.discarded(t0));
        assert!(!d.discarded(t0) && !d.discarded(t0 + Duration::from_secs(1)));
        assert_eq!(d.roll(t0 + Duration::from_secs(5)), None);
        assert_eq!(d.roll(t0 + DISCARD_REPORT), Some(2));
        assert!(
            d.discarded(t0 + DISCARD_REPORT),
            "a new interval logs again"
        );
        assert_eq!(d.roll(t0 + DISCARD_REPORT * 2), None, "nothing suppressed");
    }

    #[test]
    fn overlong_lines_discard_the_message_and_reading_goes_on() {
        let mut a = Assembler::default();
        let mut input = b">>>\nt=".to_vec();
        input.extend(std::iter::repeat(b'a').take(MAX_LINE + 10));
        input.extend_from_slice(b"\n<<<\n>>>\nt=ok\n<<<\n");
        let out = a.push(&input);
        assert_eq!(out.len(), 2);
        assert!(matches!(out[0], Assembled::Discarded(_)));
        assert_eq!(out[1], Assembled::Frame(b">>>\nt=ok\n<<<\n".to_vec()));
    }
}
