//! A small API server for tests: `hb_api::ApiServer` with a
//! `TableView`, served over a real Unix socket, one thread per
//! connection. It performs the actions the way the daemon must:
//! replies framed with `hb_proto::ipc`, closes, and the local copy of
//! every message "sent to the cluster".

use hb_api::{Action, ApiConfig, ApiServer, AuthTable, ConnId, PeerCred, TableView};
use hb_proto::ipc::{encode_frame, FrameDecoder};
use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct State {
    api: ApiServer,
    view: TableView,
    conns: HashMap<ConnId, UnixStream>,
}

/// A running test server; the socket lives in `dir`.
pub struct TestServer {
    pub dir: PathBuf,
    state: Arc<Mutex<State>>,
}

fn perform(st: &mut State, actions: Vec<Action>) {
    let mut work: std::collections::VecDeque<Action> = actions.into();
    let mut budget = 10_000;
    while let Some(a) = work.pop_front() {
        budget -= 1;
        if budget == 0 {
            panic!("action loop does not end");
        }
        match a {
            Action::Reply { conn, payload } => {
                if let Some(s) = st.conns.get_mut(&conn) {
                    let _ = s.write_all(&encode_frame(&payload));
                }
            }
            Action::Close { conn } => {
                if let Some(s) = st.conns.remove(&conn) {
                    let _ = s.shutdown(std::net::Shutdown::Both);
                }
            }
            Action::SendToCluster(m) => {
                // No other nodes: only the local copy.
                let local = if m.msg_type() == Some("query-cstatus") {
                    Vec::new()
                } else {
                    st.api.deliver(&m, &st.view)
                };
                for (i, l) in local.into_iter().enumerate() {
                    work.insert(i, l);
                }
            }
            Action::Signal { .. } | Action::Log { .. } => {}
        }
    }
}

impl TestServer {
    pub fn start(dir: &Path, view: TableView, auth: AuthTable) -> TestServer {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join("register");
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        let state = Arc::new(Mutex::new(State {
            api: ApiServer::new(ApiConfig::new(auth, 0)),
            view,
            conns: HashMap::new(),
        }));
        let st = state.clone();
        std::thread::spawn(move || {
            for (conn, stream) in (1..).zip(listener.incoming()) {
                let conn: ConnId = conn;
                let Ok(stream) = stream else { break };
                let cred = getsockopt(&stream, PeerCredentials).unwrap();
                let peer = PeerCred {
                    pid: cred.pid(),
                    uid: cred.uid(),
                    gid: cred.gid(),
                };
                {
                    let mut s = st.lock().unwrap();
                    if s.api.connect(conn, peer).is_err() {
                        continue;
                    }
                    s.conns.insert(conn, stream.try_clone().unwrap());
                }
                let st2 = st.clone();
                std::thread::spawn(move || serve(conn, stream, st2));
            }
        });
        TestServer {
            dir: dir.to_path_buf(),
            state,
        }
    }

    pub fn online(&self, id: &str) -> bool {
        self.state.lock().unwrap().api.client_online(id)
    }
}

fn serve(conn: ConnId, mut stream: UnixStream, st: Arc<Mutex<State>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut dec = FrameDecoder::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => 0,
            Ok(n) => n,
        };
        let mut s = st.lock().unwrap();
        if n == 0 {
            if s.conns.remove(&conn).is_some() {
                let view = s.view.clone();
                let a = s.api.disconnect(conn, "EOF", &view);
                perform(&mut s, a);
            }
            return;
        }
        dec.push(&buf[..n]);
        loop {
            match dec.next_frame() {
                Ok(Some(p)) => {
                    let view = s.view.clone();
                    let a = s.api.input(conn, &p, &view);
                    perform(&mut s, a);
                }
                Ok(None) => break,
                Err(_) => {
                    s.conns.remove(&conn);
                    let view = s.view.clone();
                    let a = s.api.disconnect(conn, "EOF", &view);
                    perform(&mut s, a);
                    return;
                }
            }
        }
        if !s.conns.contains_key(&conn) {
            return;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
