//! Syslog survives its listener going away: a stand-in `/dev/log` (a Unix
//! datagram socket at a path this test owns) is missing at start, appears,
//! is restarted (as when rsyslog or journald restarts), and every line
//! written while a listener exists reaches it.
//!
//! One test function: the logger is one per process.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hb_log::{LogTargets, Prio};

/// A stand-in syslog daemon listening at `path`.
fn listen(path: &Path) -> UnixDatagram {
    let _ = std::fs::remove_file(path);
    let s = UnixDatagram::bind(path).expect("bind the stand-in /dev/log");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// The next datagram, as text.
fn next_line(s: &UnixDatagram) -> String {
    let mut buf = [0u8; 8192];
    let n = s.recv(&mut buf).expect("a syslog datagram within 5 s");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// Nothing waiting.
fn nothing(s: &UnixDatagram) -> bool {
    s.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 8192];
    let r = s.recv(&mut buf);
    s.set_nonblocking(false).unwrap();
    matches!(r, Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn syslog_reconnects_after_its_listener_restarts_or_appears_late() {
    let dir = Dir(std::env::temp_dir().join(format!("hb-log-syslog-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let path = dir.0.join("log");

    // Missing at start: the logger comes up anyway.
    hb_log::init(
        "hb-log-test",
        LogTargets {
            facility: Some(3 << 3), // LOG_DAEMON, as ha.cf `logfacility daemon` gives
            syslog_format: true,
            syslog_socket: Some(path.clone()),
            ..LogTargets::default()
        },
        0,
    );
    hb_log::emit(Prio::Info, "before any listener");

    // The listener appears: the next line reaches it.
    let first = listen(&path);
    hb_log::emit(Prio::Warn, "first listener");
    let line = next_line(&first);
    // <facility | severity>: LOG_DAEMON (3 << 3) | warning (4) = 28.
    assert!(line.starts_with("<28>"), "{line}");
    let tail = format!(
        "hb-log-test: [{}]: WARN: first listener",
        std::process::id()
    );
    assert!(line.ends_with(&tail), "{line}");
    assert!(
        nothing(&first),
        "the line before the listener existed is not replayed"
    );
    hb_log::emit(Prio::Info, "still first");
    assert!(next_line(&first).ends_with("info: still first"));

    // The listener restarts (the old socket closes, a new one is bound at
    // the same path): the logger's connection is broken and must be made again.
    drop(first);
    hb_log::emit(Prio::Info, "while restarting");
    let second = listen(&path);
    hb_log::emit(Prio::Error, "second listener");
    let line = next_line(&second);
    assert!(line.starts_with("<27>"), "{line}");
    assert!(line.ends_with("ERROR: second listener"), "{line}");

    // Restarted again while the logger was connected and idle: the first
    // line after the restart still gets through.
    drop(second);
    let third = listen(&path);
    hb_log::emit(Prio::Notice, "third listener");
    let line = next_line(&third);
    assert!(line.ends_with("notice: third listener"), "{line}");
    assert!(nothing(&third));
}
