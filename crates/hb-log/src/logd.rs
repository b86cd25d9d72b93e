//! cluster-glue's logging daemon (`ha_logd`) as a log destination
//! (ha.cf `use_logd yes`, `conn_logd_time`; docs/behaviour.md §3.3, §13.1).
//!
//! Each line goes to the daemon's Unix socket as one IPC frame (`i32` length,
//! `u32` 0xABCD, payload) whose payload is the logging-daemon message header —
//! `msgtype` 2 (log it), facility, syslog priority, text length with its NUL,
//! "print the priority name", the sender's pid, the entity name in 64 bytes,
//! the time in seconds — followed by the text and a NUL. As with 3.0.6: when
//! the daemon cannot be reached the line is written directly to the configured
//! files / syslog instead, and a new connection is tried at most once per
//! `conn_logd_time`. A forked child never writes on its parent's connection:
//! it opens its own.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where Debian's `ha_logd` (cluster-glue) listens (observed: it binds this
/// path, although its library also carries a misspelt
/// `/var/lib/heartbebeat/log_daemon` string).
pub const DEBIAN_LOGD_SOCKET: &str = "/var/lib/heartbeat/log_daemon";

/// `LD_LOGIT`.
const LOG_IT: i32 = 2;
/// Size of the entity field.
const ENTITY_LEN: usize = 64;
/// Size of the header before the text.
pub const HEADER_LEN: usize = 96;

/// Where and how often to reach the logging daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogdTarget {
    /// The daemon's socket.
    pub socket: PathBuf,
    /// At most one connection attempt per this interval (`conn_logd_time`).
    pub reconnect: Duration,
    /// Syslog facility code put in each message (the daemon's own
    /// configuration decides where lines go).
    pub facility: i32,
}

/// One message for the daemon, without the IPC frame around it.
pub fn message(
    facility: i32,
    priority: i32,
    entity: &str,
    pid: u32,
    time_secs: u64,
    text: &str,
) -> Vec<u8> {
    let text = text.replace('\0', " ");
    let mut out = Vec::with_capacity(HEADER_LEN + text.len() + 1);
    let msglen = i32::try_from(text.len() + 1).unwrap_or(i32::MAX);
    for v in [LOG_IT, facility, priority, msglen, 1, pid as i32] {
        out.extend_from_slice(&v.to_ne_bytes());
    }
    let mut entity_field = [0u8; ENTITY_LEN];
    let e = entity.as_bytes();
    let n = e.len().min(ENTITY_LEN - 1);
    entity_field[..n].copy_from_slice(&e[..n]);
    out.extend_from_slice(&entity_field);
    out.extend_from_slice(&time_secs.to_ne_bytes());
    out.extend_from_slice(text.as_bytes());
    out.push(0);
    out
}

/// The connection of one process.
#[derive(Debug)]
pub(crate) struct Logd {
    target: LogdTarget,
    stream: Option<UnixStream>,
    owner: u32,
    next_try: Option<Instant>,
}

impl Logd {
    pub(crate) fn new(target: LogdTarget) -> Logd {
        Logd {
            target,
            stream: None,
            owner: std::process::id(),
            next_try: None,
        }
    }

    fn connect(&mut self) -> bool {
        let now = Instant::now();
        if self.next_try.is_some_and(|t| now < t) {
            return false;
        }
        self.next_try = Some(now + self.target.reconnect);
        match UnixStream::connect(&self.target.socket) {
            Ok(s) => {
                let _ = s.set_nonblocking(true);
                self.stream = Some(s);
                true
            }
            Err(_) => false,
        }
    }

    /// Hands one line to the daemon; `false` when it could not take it (the
    /// caller then logs the line directly).
    pub(crate) fn send(&mut self, entity: &str, priority: i32, text: &str) -> bool {
        let pid = std::process::id();
        if pid != self.owner {
            // Forked: the parent's connection is not ours to write on.
            if let Some(s) = self.stream.take() {
                std::mem::forget(s);
            }
            self.owner = pid;
            self.next_try = None;
        }
        if self.stream.is_none() && !self.connect() {
            return false;
        }
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let body = message(self.target.facility, priority, entity, pid, secs, text);
        let frame = hb_proto::ipc::encode_frame(&body);
        let Some(s) = self.stream.as_mut() else {
            return false;
        };
        match s.write(&frame) {
            Ok(n) if n == frame.len() => true,
            _ => {
                // Refused, full or half written: this connection is done.
                self.stream = None;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout() {
        let m = message(24, 6, "heartbeat", 42, 7, "hi");
        assert_eq!(m.len(), HEADER_LEN + 3);
        assert_eq!(&m[0..4], &2i32.to_ne_bytes());
        assert_eq!(&m[4..8], &24i32.to_ne_bytes());
        assert_eq!(&m[8..12], &6i32.to_ne_bytes());
        assert_eq!(&m[12..16], &3i32.to_ne_bytes());
        assert_eq!(&m[20..24], &42i32.to_ne_bytes());
        assert_eq!(&m[24..33], b"heartbeat");
        assert_eq!(m[33], 0);
        assert_eq!(&m[88..96], &7u64.to_ne_bytes());
        assert_eq!(&m[96..], b"hi\0");
    }
}
