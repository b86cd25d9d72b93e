//! Sockets that live in one of the Lan's network namespaces, opened by the test process
//! itself.
//!
//! A socket belongs to the network namespace its creating thread was in, for its whole life.
//! So a short-lived thread enters the namespace (`setns`), creates and binds the socket and
//! hands it back; the test can then use it from any thread. No external program, no shell,
//! and the test process itself never leaves the host namespace.

use std::fs::File;
use std::net::{SocketAddrV4, UdpSocket};
use std::path::Path;

use nix::sched::{setns, CloneFlags};

use crate::error::{io_err, Error, Result};

/// Runs `f` on a fresh thread that has entered network namespace `netns` (a name under
/// `/run/netns`) and returns its result.
pub fn in_netns<T, F>(netns: &str, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    if netns.is_empty() || netns.contains('/') {
        return Err(Error::Invalid(format!("invalid namespace name {netns:?}")));
    }
    let path = Path::new("/run/netns").join(netns);
    let handle = std::thread::spawn(move || -> Result<T> {
        let file = File::open(&path).map_err(io_err("open", &path))?;
        setns(&file, CloneFlags::CLONE_NEWNET)
            .map_err(|e| Error::Invalid(format!("setns({}): {e}", path.display())))?;
        f()
    });
    handle
        .join()
        .map_err(|_| Error::Invalid("namespace thread panicked".into()))?
}

/// A UDP socket bound to `bind` inside `netns`, with `SO_BROADCAST` set (so it can both send
/// to and capture the Lan's broadcast heartbeats).
pub fn udp_socket_in(netns: &str, bind: SocketAddrV4) -> Result<UdpSocket> {
    let netns_owned = netns.to_string();
    in_netns(netns, move || {
        let sock = UdpSocket::bind(bind)
            .map_err(|e| Error::Invalid(format!("bind UDP {bind} in {netns_owned}: {e}")))?;
        sock.set_broadcast(true)
            .map_err(|e| Error::Invalid(format!("set SO_BROADCAST: {e}")))?;
        Ok(sock)
    })
}
