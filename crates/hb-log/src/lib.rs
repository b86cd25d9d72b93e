//! The log backend: the cluster-glue line formats operators grep for.
//!
//! Heartbeat writes the same line to up to three places (docs/behaviour.md §13.1):
//! the `logfile` (everything but `debug`), the `debugfile` (everything) and
//! syslog (`logfacility`). Before daemonising it also writes to stderr. The
//! line format is fixed because operators' scripts match on it:
//!
//! ```text
//! Nov 22 04:22:18 vm heartbeat: [1466]: info: Configuration validated. Starting heartbeat 3.0.6
//! ```
//!
//! One global logger per process; after `fork` the child keeps the same
//! destinations and its own pid shows up in its lines automatically.
//!
//! Syslog goes to a Unix datagram socket (`/dev/log` unless
//! [`LogTargets::syslog_socket`] says otherwise). When that socket is
//! missing at start, or rsyslog/journald restarts and the connection breaks,
//! the next line reconnects (as glibc's `syslog(3)` does): nothing is lost
//! for good, only the lines written while no listener existed. The socket
//! never blocks: a line a full syslog cannot take is dropped rather than
//! stall the master's heartbeats.

pub mod logd;
mod recent;
pub use recent::{recent_lines, RECENT_KEPT};

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Message priority, with heartbeat's own spelling of each level
/// (`EMERG` … `info`, `debug`): the engine's level type, shared so events
/// and daemon lines need no translation.
pub use hb_proto::Level as Prio;

/// The syslog severity number of a priority.
fn severity(p: Prio) -> i32 {
    match p {
        Prio::Emerg => 0,
        Prio::Alert => 1,
        Prio::Crit => 2,
        Prio::Error => 3,
        Prio::Warn => 4,
        Prio::Notice => 5,
        Prio::Info => 6,
        Prio::Debug => 7,
    }
}

/// Maps the `log` crate's levels (used by library crates) to priorities.
pub fn prio_of(l: log::Level) -> Prio {
    match l {
        log::Level::Error => Prio::Error,
        log::Level::Warn => Prio::Warn,
        log::Level::Info => Prio::Info,
        log::Level::Debug | log::Level::Trace => Prio::Debug,
    }
}

/// Where log lines go.
#[derive(Debug, Clone, Default)]
pub struct LogTargets {
    /// `logfile`: everything except debug lines.
    pub logfile: Option<PathBuf>,
    /// `debugfile`: everything.
    pub debugfile: Option<PathBuf>,
    /// Syslog facility code (`logfacility`), `None` or 0 for no syslog.
    pub facility: Option<i32>,
    /// Also write to stderr (before daemonising, and in the foreground).
    pub stderr: bool,
    /// `syslogmsgfmt`: the syslog-like file format (default) or the
    /// `heartbeat[pid]: YYYY/MM/DD_HH:MM:SS` one.
    pub syslog_format: bool,
    /// The syslog socket; `None` is `/dev/log`.
    pub syslog_socket: Option<PathBuf>,
    /// The logging daemon (`use_logd`): lines go there while it takes them,
    /// else to the targets above.
    pub logd: Option<logd::LogdTarget>,
}

/// Where syslog listens when nothing else is said.
pub const DEV_LOG: &str = "/dev/log";

/// The connection to the syslog socket, made again whenever it is missing
/// or broken.
struct Syslog {
    path: PathBuf,
    sock: Option<UnixDatagram>,
}

impl Syslog {
    fn new(path: PathBuf) -> Syslog {
        let mut s = Syslog { path, sock: None };
        s.connect();
        s
    }

    fn connect(&mut self) {
        self.sock = UnixDatagram::unbound()
            .and_then(|s| {
                s.set_nonblocking(true)?;
                s.connect(&self.path)?;
                Ok(s)
            })
            .ok();
    }

    /// Sends one datagram; on a missing or broken connection, connects
    /// again and retries once.
    fn send(&mut self, msg: &[u8]) {
        if let Some(s) = self.sock.as_ref() {
            match s.send(msg) {
                Ok(_) => return,
                // Full: drop the line, keep the connection.
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(_) => self.sock = None,
            }
        }
        self.connect();
        if let Some(s) = self.sock.as_ref() {
            let _ = s.send(msg);
        }
    }
}

/// A log file kept open and reopened after rotation (checked once a minute,
/// like cluster-glue, so logrotate without copytruncate works).
struct OpenLog {
    path: PathBuf,
    file: Option<File>,
    inode: u64,
    checked: Instant,
}

impl OpenLog {
    fn new(path: &Path) -> OpenLog {
        let mut l = OpenLog {
            path: path.to_path_buf(),
            file: None,
            inode: 0,
            checked: Instant::now(),
        };
        l.reopen();
        l
    }

    fn reopen(&mut self) {
        self.file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&self.path)
            .ok();
        self.inode = self
            .file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map_or(0, |m| m.ino());
        self.checked = Instant::now();
    }

    fn write_line(&mut self, line: &str) {
        if self.checked.elapsed() > Duration::from_secs(60) {
            let now_inode = std::fs::metadata(&self.path).map_or(0, |m| m.ino());
            if now_inode != self.inode {
                self.reopen();
            } else {
                self.checked = Instant::now();
            }
        }
        if let Some(f) = self.file.as_mut() {
            // A full disk must not stop the daemon: the line is lost, heartbeats go on.
            let _ = f.write_all(line.as_bytes());
        }
    }
}

struct Logger {
    logd: Option<logd::Logd>,
    entity: String,
    host: String,
    debug_level: u32,
    targets: LogTargets,
    logfile: Option<OpenLog>,
    debugfile: Option<OpenLog>,
    syslog: Option<Syslog>,
}

static LOGGER: Mutex<Option<Logger>> = Mutex::new(None);

/// Broken-down local time, as the log lines need it.
pub use hb_sys::time::Tm as LocalTime;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Formats one line in the file format (`syslogmsgfmt true`), without newline:
/// `Nov 02 04:22:18 host entity: [pid]: PRIO: text`.
pub fn format_syslog_style(
    t: LocalTime,
    host: &str,
    entity: &str,
    pid: u32,
    prio: Prio,
    text: &str,
) -> String {
    format!(
        "{} {:02} {:02}:{:02}:{:02} {} {}: [{}]: {}: {}",
        MONTHS[(t.month % 12) as usize],
        t.day,
        t.hour,
        t.minute,
        t.second,
        host,
        entity,
        pid,
        prio.as_str(),
        text
    )
}

/// Formats one line in the `syslogmsgfmt false` format:
/// `entity[pid]: 2026/11/22_04:22:18 PRIO: text`.
pub fn format_native(t: LocalTime, entity: &str, pid: u32, prio: Prio, text: &str) -> String {
    format!(
        "{}[{}]: {}/{:02}/{:02}_{:02}:{:02}:{:02} {}: {}",
        entity,
        pid,
        t.year,
        t.month + 1,
        t.day,
        t.hour,
        t.minute,
        t.second,
        prio.as_str(),
        text
    )
}

/// Messages are truncated like cluster-glue's (5119 characters).
const MAX_TEXT: usize = 5119;

fn now_local() -> LocalTime {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    hb_sys::time::local_time(secs)
}

/// Installs the process-wide logger (also as the `log` crate's backend).
pub fn init(entity: &str, targets: LogTargets, debug_level: u32) {
    let host = hb_sys::host::nodename();
    let logger = Logger {
        logd: targets.logd.clone().map(logd::Logd::new),
        entity: entity.to_string(),
        host,
        debug_level,
        logfile: targets
            .logfile
            .as_deref()
            .filter(|p| *p != Path::new("/dev/null"))
            .map(OpenLog::new),
        debugfile: targets
            .debugfile
            .as_deref()
            .filter(|p| *p != Path::new("/dev/null"))
            .map(OpenLog::new),
        syslog: targets.facility.filter(|&f| f > 0).map(|_| {
            Syslog::new(
                targets
                    .syslog_socket
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(DEV_LOG)),
            )
        }),
        targets,
    };
    if let Ok(mut g) = LOGGER.lock() {
        *g = Some(logger);
    }
    let _ = log::set_logger(&FACADE);
    log::set_max_level(log::LevelFilter::Trace);
}

/// File descriptors the logger holds open, so forked children keep them
/// when they close everything else.
pub fn held_fds() -> Vec<std::os::fd::RawFd> {
    use std::os::fd::AsRawFd;
    let Ok(g) = LOGGER.lock() else {
        return Vec::new();
    };
    let Some(l) = g.as_ref() else {
        return Vec::new();
    };
    let mut v = Vec::new();
    for f in [&l.logfile, &l.debugfile].into_iter().flatten() {
        if let Some(file) = f.file.as_ref() {
            v.push(file.as_raw_fd());
        }
    }
    if let Some(s) = l.syslog.as_ref().and_then(|s| s.sock.as_ref()) {
        v.push(s.as_raw_fd());
    }
    v.push(2);
    v
}

/// Changes where lines go (e.g. stop writing to stderr after daemonising).
pub fn set_stderr(on: bool) {
    if let Ok(mut g) = LOGGER.lock() {
        if let Some(l) = g.as_mut() {
            l.targets.stderr = on;
        }
    }
}

/// The current debug level (`-d`, `debug`, SIGUSR1/SIGUSR2).
pub fn debug_level() -> u32 {
    LOGGER
        .lock()
        .ok()
        .and_then(|g| g.as_ref().map(|l| l.debug_level))
        .unwrap_or(0)
}

/// Sets the debug level.
pub fn set_debug_level(level: u32) {
    if let Ok(mut g) = LOGGER.lock() {
        if let Some(l) = g.as_mut() {
            l.debug_level = level;
        }
    }
}

/// Writes one message to every configured destination.
pub fn emit(prio: Prio, text: &str) {
    let Ok(mut g) = LOGGER.lock() else { return };
    let Some(l) = g.as_mut() else {
        eprintln!("heartbeat: {}: {}", prio.as_str(), text);
        return;
    };
    if prio == Prio::Debug && l.debug_level == 0 {
        return;
    }
    recent::record(prio, text);
    let text = if text.len() > MAX_TEXT {
        let mut end = MAX_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        &text[..end]
    } else {
        text
    };
    let t = now_local();
    let pid = std::process::id();
    let mut line = if l.targets.syslog_format {
        format_syslog_style(t, &l.host, &l.entity, pid, prio, text)
    } else {
        format_native(t, &l.entity, pid, prio, text)
    };
    line.push('\n');
    if l.targets.stderr {
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
    let entity = l.entity.clone();
    if let Some(d) = l.logd.as_mut() {
        if d.send(&entity, severity(prio), text) {
            return;
        }
    }
    if prio != Prio::Debug {
        if let Some(f) = l.logfile.as_mut() {
            f.write_line(&line);
        }
    }
    if let Some(f) = l.debugfile.as_mut() {
        f.write_line(&line);
    }
    if let (Some(sock), Some(fac)) = (l.syslog.as_mut(), l.targets.facility) {
        // `fac` is the shifted syslog.h code (LOG_DAEMON = 3 << 3), as ha.cf names map to.
        let pri = fac | severity(prio);
        let msg = format!(
            "<{}>{} {:2} {:02}:{:02}:{:02} {}: [{}]: {}: {}",
            pri,
            MONTHS[(t.month % 12) as usize],
            t.day,
            t.hour,
            t.minute,
            t.second,
            l.entity,
            pid,
            prio.as_str(),
            text
        );
        sock.send(msg.as_bytes());
    }
}

/// `hb_log!(Prio::Info, "Link {}:{} up.", node, medium)`.
#[macro_export]
macro_rules! hb_log {
    ($prio:expr, $($arg:tt)*) => {
        $crate::emit($prio, &format!($($arg)*))
    };
}

struct Facade;
static FACADE: Facade = Facade;

impl log::Log for Facade {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        emit(prio_of(record.level()), &record.args().to_string());
    }
    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: LocalTime = LocalTime {
        year: 2026,
        month: 10,
        day: 2,
        hour: 4,
        minute: 22,
        second: 18,
    };

    #[test]
    fn file_line_matches_cluster_glue() {
        assert_eq!(
            format_syslog_style(
                T,
                "vm",
                "heartbeat",
                1466,
                Prio::Info,
                "heartbeat: version 3.0.6"
            ),
            "Nov 02 04:22:18 vm heartbeat: [1466]: info: heartbeat: version 3.0.6"
        );
        assert_eq!(
            format_native(T, "heartbeat", 7, Prio::Warn, "x"),
            "heartbeat[7]: 2026/11/02_04:22:18 WARN: x"
        );
    }
}
