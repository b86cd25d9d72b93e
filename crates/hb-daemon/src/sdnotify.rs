//! systemd's readiness protocol (`Type=notify`): one datagram with
//! `READY=1`, `RELOADING=1` or `STOPPING=1` to `$NOTIFY_SOCKET`.
//!
//! Only the master talks to systemd: the socket address is taken out of
//! the environment at start, so no child or respawned client inherits it.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};

/// Where to send notifications; `None` when not started by systemd.
#[derive(Debug)]
pub struct Notifier {
    addr: Option<SocketAddr>,
}

impl Notifier {
    /// Reads and removes `$NOTIFY_SOCKET` (a path, or `@name` for an
    /// abstract socket).
    pub fn from_env() -> Notifier {
        let addr = std::env::var("NOTIFY_SOCKET").ok().and_then(|s| parse(&s));
        std::env::remove_var("NOTIFY_SOCKET");
        Notifier { addr }
    }

    /// The `$NOTIFY_SOCKET` value naming this socket (handed to the new
    /// image of a quick restart, which is still the service's main process).
    pub fn env_value(&self) -> Option<String> {
        let addr = self.addr.as_ref()?;
        if let Some(path) = addr.as_pathname() {
            return path.to_str().map(str::to_string);
        }
        addr.as_abstract_name()
            .map(|n| format!("@{}", String::from_utf8_lossy(n)))
    }

    /// Sends one state string; failures are ignored (systemd may be gone,
    /// and heartbeats matter more than status reports).
    pub fn notify(&self, state: &str) {
        let Some(addr) = self.addr.as_ref() else {
            return;
        };
        if let Ok(sock) = UnixDatagram::unbound() {
            let _ = sock.send_to_addr(state.as_bytes(), addr);
        }
    }
}

fn parse(s: &str) -> Option<SocketAddr> {
    if let Some(name) = s.strip_prefix('@') {
        SocketAddr::from_abstract_name(name.as_bytes()).ok()
    } else if s.starts_with('/') {
        SocketAddr::from_pathname(s).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_states_to_the_socket_systemd_names() {
        let dir = std::env::temp_dir().join(format!("hb-notify-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        let listener = UnixDatagram::bind(&dir).unwrap();
        let n = Notifier {
            addr: parse(dir.to_str().unwrap()),
        };
        n.notify("READY=1");
        let mut buf = [0u8; 64];
        let len = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"READY=1");
        let _ = std::fs::remove_file(&dir);
        assert!(parse("relative").is_none());
        assert!(parse("@abstract-name").is_some());
        for v in ["/run/notify.sock", "@abstract-name"] {
            let n = Notifier { addr: parse(v) };
            assert_eq!(n.env_value().as_deref(), Some(v));
        }
        // Not started by systemd: nothing to do, nothing fails.
        Notifier { addr: None }.notify("STOPPING=1");
    }
}
