//! [`Client`]: one signed-on connection to the daemon's API socket.
//!
//! Every request is one frame; the reply is the next `t=hbapi-resp` frame
//! with the same `reqtype`. Anything else that arrives meanwhile (status
//! changes, join/leave, cluster messages) is queued and handed out later by
//! [`Client::recv`], exactly as libhbclient does (docs/behaviour.md §7.10), so asynchronous
//! messages may be interleaved anywhere without confusing a request.

use crate::error::{ClientError, SignOnError};
use hb_proto::ipc::{encode_frame, FrameDecoder};
use hb_proto::{classic, Message};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where Debian's client library connects.
pub const DEFAULT_SOCKET: &str = "/var/run/heartbeat/register";

/// `<rundir>/heartbeat/register`.
pub fn socket_path(rundir: &Path) -> PathBuf {
    rundir.join("heartbeat").join("register")
}

/// How to sign on.
#[derive(Debug, Clone)]
pub struct SignOnOptions {
    /// API socket path.
    pub path: PathBuf,
    /// `None`: casual client (id = our pid); `Some(id)`: named client.
    pub client_id: Option<String>,
    /// Longest wait for any single reply (`None` = forever).
    pub timeout: Option<Duration>,
}

impl Default for SignOnOptions {
    fn default() -> SignOnOptions {
        SignOnOptions {
            path: PathBuf::from(DEFAULT_SOCKET),
            client_id: None,
            timeout: Some(Duration::from_secs(5)),
        }
    }
}

/// What the sign-on reply told us (cached like libhbclient does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOnInfo {
    /// `deadtime`, ms.
    pub deadtime_ms: u64,
    /// `keepalive`, ms.
    pub keepalive_ms: u64,
    /// Local node name.
    pub node: String,
    /// Syslog facility code, -1 when none.
    pub log_facility: i32,
    /// Decorated version (`3.0.6 (node: …)`), if sent.
    pub hbversion: Option<String>,
    /// `pacemaker` parameter, if sent.
    pub pacemaker: Option<String>,
}

/// One `nodelist` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeEntry {
    /// Node name.
    pub name: String,
    /// `normal`/`ping` (3.0.6 daemons send it).
    pub node_type: Option<String>,
    /// Status (3.0.6 daemons send it).
    pub status: Option<String>,
}

/// One `iflist` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkEntry {
    /// Link (medium) name.
    pub name: String,
    /// `up`/`dead` (3.0.6 daemons send it).
    pub status: Option<String>,
}

/// A signed-on API connection.
#[derive(Debug)]
pub struct Client {
    stream: UnixStream,
    decoder: FrameDecoder,
    queue: VecDeque<Message>,
    info: SignOnInfo,
    pid: String,
    id: String,
    casual: bool,
    dest: String,
    timeout: Option<Duration>,
}

fn our_node_guess() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn hex_field(m: &Message, name: &str) -> Option<u64> {
    let v = m.get_str(name)?.trim_start();
    let n = v.bytes().take_while(u8::is_ascii_hexdigit).count();
    u64::from_str_radix(&v[..n], 16).ok()
}

/// Frame reader shared by sign-on and requests.
struct Wire<'a> {
    stream: &'a mut UnixStream,
    decoder: &'a mut FrameDecoder,
}

impl Wire<'_> {
    /// The next decoded message, waiting until `deadline`. Undecodable
    /// frames are skipped like the C library does.
    fn next(&mut self, deadline: Option<Instant>) -> Result<Message, ClientError> {
        loop {
            match self.decoder.next_frame() {
                Ok(Some(p)) => match hb_proto::decode_any(&p) {
                    Ok(m) => return Ok(m),
                    Err(_) => continue,
                },
                Ok(None) => {}
                Err(_) => return Err(ClientError::Disconnected),
            }
            let wait = match deadline {
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(ClientError::Timeout);
                    }
                    Some(left)
                }
                None => None,
            };
            self.stream
                .set_read_timeout(wait)
                .map_err(|_| ClientError::Disconnected)?;
            let mut buf = [0u8; 65536];
            match self.stream.read(&mut buf) {
                Ok(0) => return Err(ClientError::Disconnected),
                Ok(n) => self.decoder.push(&buf[..n]),
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::TimedOut =>
                {
                    return Err(ClientError::Timeout)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(ClientError::Disconnected),
            }
        }
    }
}

fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.map(|t| Instant::now() + t)
}

/// One message as a cluster-glue IPC frame: the classic text encoding with
/// its terminating NUL, as `msg2ipcchan` sends it (docs/behaviour.md §7.2).
/// The API socket and dopd's socket both carry these.
pub fn ipc_frame(msg: &Message) -> Vec<u8> {
    let mut p = classic::encode(msg);
    p.push(0);
    encode_frame(&p)
}

impl Client {
    /// Connects and signs on. A casual client's id is its pid; uid/gid are
    /// our effective ids (the daemon checks them against `SO_PEERCRED`).
    pub fn signon(opts: &SignOnOptions) -> Result<Client, SignOnError> {
        let pid = std::process::id().to_string();
        let (id, casual) = match &opts.client_id {
            Some(id) => (id.clone(), false),
            None => (pid.clone(), true),
        };
        let dest = our_node_guess();
        let mut stream =
            UnixStream::connect(&opts.path).map_err(|source| SignOnError::Connect {
                path: opts.path.clone(),
                source,
            })?;
        let req = Message::from_pairs([
            ("t", "hbapi-req"),
            ("reqtype", "signon"),
            ("dest", dest.as_str()),
            ("pid", pid.as_str()),
            ("from_id", id.as_str()),
            ("uid", nix::unistd::geteuid().as_raw().to_string().as_str()),
            ("gid", nix::unistd::getegid().as_raw().to_string().as_str()),
        ]);
        stream
            .write_all(&ipc_frame(&req))
            .map_err(SignOnError::Send)?;
        let mut decoder = FrameDecoder::new();
        let mut queue = VecDeque::new();
        let until = deadline(opts.timeout);
        let reply = loop {
            let mut w = Wire {
                stream: &mut stream,
                decoder: &mut decoder,
            };
            match w.next(until) {
                Ok(m) if m.msg_type() == Some("hbapi-resp") => break m,
                Ok(m) => queue.push_back(m),
                Err(_) => return Err(SignOnError::NoReply),
            }
        };
        let Some(result) = reply.get_str("result") else {
            return Err(SignOnError::NoReply);
        };
        let refused = result != "OK";
        let reason = reply.get_str("info").map(str::to_string);
        let mut log: Vec<String> = Vec::new();
        if refused {
            log.extend(reason.clone());
        }
        let fail = |log: &mut Vec<String>, text: &str| {
            log.push(text.to_string());
            SignOnError::BadReply(log.join("\n"))
        };
        let Some(deadtime_ms) = hex_field(&reply, "deadtime") else {
            return Err(fail(&mut log, "hb_api_signon: Can't get deadtime "));
        };
        let Some(keepalive_ms) = hex_field(&reply, "keepalive") else {
            return Err(fail(&mut log, "hb_api_signon: Can't get keepalive time "));
        };
        let Some(node) = reply.get_str("node").filter(|n| n.len() < 65) else {
            return Err(fail(&mut log, "hb_api_signon: Can't get local node name"));
        };
        if refused {
            return Err(SignOnError::Refused {
                reason,
                deadtime_ms,
            });
        }
        let log_facility = reply
            .get_str("logfacility")
            .and_then(|v| v.trim().parse::<i32>().ok())
            .unwrap_or(-1);
        let info = SignOnInfo {
            deadtime_ms,
            keepalive_ms,
            node: node.to_string(),
            log_facility,
            hbversion: reply.get_str("hbversion").map(str::to_string),
            pacemaker: reply.get_str("pacemaker").map(str::to_string),
        };
        Ok(Client {
            stream,
            decoder,
            queue,
            dest: info.node.clone(),
            info,
            pid,
            id,
            casual,
            timeout: opts.timeout,
        })
    }

    /// The cached sign-on reply.
    pub fn info(&self) -> &SignOnInfo {
        &self.info
    }

    /// Our client id (the pid for a casual client).
    pub fn client_id(&self) -> &str {
        &self.id
    }

    /// Whether we signed on without a name.
    pub fn is_casual(&self) -> bool {
        self.casual
    }

    /// Changes the per-reply timeout (`None` = wait forever).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// Asynchronous messages received so far and not yet handed out.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    fn wire(&mut self) -> Wire<'_> {
        Wire {
            stream: &mut self.stream,
            decoder: &mut self.decoder,
        }
    }

    fn send(&mut self, msg: &Message) -> Result<(), ClientError> {
        self.stream
            .write_all(&ipc_frame(msg))
            .map_err(ClientError::Send)
    }

    fn boilerplate(&self, reqtype: &str) -> Message {
        Message::from_pairs([
            ("t", "hbapi-req"),
            ("reqtype", reqtype),
            ("dest", self.dest.as_str()),
            ("pid", self.pid.as_str()),
            ("from_id", self.id.as_str()),
        ])
    }

    /// Waits for the reply to `reqtype`, queueing everything else.
    fn read_reply(&mut self, reqtype: &str) -> Result<Message, ClientError> {
        let until = deadline(self.timeout);
        loop {
            let m = self.wire().next(until)?;
            if m.msg_type() == Some("hbapi-resp") {
                if m.get_str("reqtype").map_or(true, |r| r == reqtype) {
                    return Ok(m);
                }
                // A stale reply to some earlier request: not ours.
                continue;
            }
            self.queue.push_back(m);
        }
    }

    /// Sends a request with extra fields and returns its (first) reply
    /// whatever its result.
    pub fn request(
        &mut self,
        reqtype: &str,
        fields: &[(&str, &str)],
    ) -> Result<Message, ClientError> {
        let mut req = self.boilerplate(reqtype);
        for (k, v) in fields {
            req.push_str(*k, v);
        }
        self.send(&req)?;
        self.read_reply(reqtype)
    }

    /// [`Client::request`] that turns `result` other than `OK` into
    /// [`ClientError::BadRequest`].
    fn request_ok(
        &mut self,
        reqtype: &str,
        fields: &[(&str, &str)],
    ) -> Result<Message, ClientError> {
        let r = self.request(reqtype, fields)?;
        check_ok(reqtype, r)
    }

    fn field(
        &mut self,
        reqtype: &str,
        fields: &[(&str, &str)],
        want: &str,
    ) -> Result<String, ClientError> {
        let r = self.request_ok(reqtype, fields)?;
        r.get_str(want)
            .map(str::to_string)
            .ok_or_else(|| ClientError::Protocol(String::new()))
    }

    /// `nodelist`, in daemon order (libhbclient hands them out reversed;
    /// `cl_status` reverses them itself).
    pub fn nodes(&mut self) -> Result<Vec<NodeEntry>, ClientError> {
        self.send(&self.boilerplate("nodelist"))?;
        let mut out = Vec::new();
        loop {
            let r = self.read_reply("nodelist")?;
            let result = r.get_str("result").unwrap_or_default().to_string();
            if result != "OK" && result != "ok/more" {
                let text = match r.get_str("result") {
                    None => "API reply missing result field.".to_string(),
                    Some(v) => format!("Unexpected API result value: [{v}]"),
                };
                return Err(ClientError::Protocol(text));
            }
            let Some(name) = r.get_str("node") else {
                return Err(ClientError::Protocol(
                    "No nodename in API reply".to_string(),
                ));
            };
            out.push(NodeEntry {
                name: name.to_string(),
                node_type: r.get_str("nodetype").map(str::to_string),
                status: r.get_str("st").map(str::to_string),
            });
            if result == "OK" {
                return Ok(out);
            }
        }
    }

    /// A multi-line answer of one of heartbeat-rs's extension requests (`hbrs-metrics`,
    /// `hbrs-explain`): the `line` field of every reply. `Ok(None)` when the daemon does not
    /// know the request (Heartbeat 3.0.6 answers `result=badreq`).
    pub fn report_lines(
        &mut self,
        reqtype: &str,
        fields: &[(&str, &str)],
    ) -> Result<Option<Vec<String>>, ClientError> {
        let mut req = self.boilerplate(reqtype);
        for (k, v) in fields {
            req.push_str(*k, v);
        }
        self.send(&req)?;
        let mut out = Vec::new();
        loop {
            let r = self.read_reply(reqtype)?;
            match r.get_str("result") {
                Some("OK") | Some("ok/more") => {}
                Some("badreq") if out.is_empty() => return Ok(None),
                other => {
                    return Err(ClientError::Protocol(format!(
                        "Unexpected API result value: [{}]",
                        other.unwrap_or_default()
                    )))
                }
            }
            out.push(r.get_str("line").unwrap_or_default().to_string());
            if r.get_str("result") == Some("OK") {
                return Ok(Some(out));
            }
        }
    }

    /// `iflist` of a node, in daemon order, duplicates removed.
    pub fn links(&mut self, node: &str) -> Result<Vec<LinkEntry>, ClientError> {
        let mut req = self.boilerplate("iflist");
        req.push_str("node", node);
        self.send(&req)?;
        let mut out: Vec<LinkEntry> = Vec::new();
        loop {
            let r = self.read_reply("iflist")?;
            let result = r.get_str("result").unwrap_or_default();
            let name = r.get_str("ifname");
            if (result != "OK" && result != "ok/more") || name.is_none() {
                return Err(ClientError::BadRequest {
                    reqtype: "iflist".to_string(),
                    info: r.get_str("info").map(str::to_string),
                    quiet: false,
                });
            }
            let name = name.unwrap_or_default();
            if !out.iter().any(|l| l.name == name) {
                out.push(LinkEntry {
                    name: name.to_string(),
                    status: r.get_str("st").map(str::to_string),
                });
            }
            if result == "OK" {
                return Ok(out);
            }
        }
    }

    /// `nodestatus`.
    pub fn node_status(&mut self, node: &str) -> Result<String, ClientError> {
        self.field("nodestatus", &[("node", node)], "st")
    }

    /// `nodetype`.
    pub fn node_type(&mut self, node: &str) -> Result<String, ClientError> {
        self.field("nodetype", &[("node", node)], "nodetype")
    }

    /// `nodeweight` (`atoi` of the reply, like the C library).
    pub fn node_weight(&mut self, node: &str) -> Result<i32, ClientError> {
        let w = self.field("nodeweight", &[("node", node)], "weight")?;
        Ok(w.trim().parse().unwrap_or(0))
    }

    /// `nodesite`.
    pub fn node_site(&mut self, node: &str) -> Result<String, ClientError> {
        self.field("nodesite", &[("node", node)], "site")
    }

    /// `numnodes`: count of normal nodes (≤ 0 is an error).
    pub fn num_nodes(&mut self) -> Result<u32, ClientError> {
        let n = self.field("numnodes", &[], "numnodes")?;
        match n.trim().parse::<i64>() {
            Ok(v) if v > 0 => Ok(u32::try_from(v).unwrap_or(u32::MAX)),
            _ => Err(ClientError::Protocol("Wrong reply message".to_string())),
        }
    }

    /// `ifstatus`.
    pub fn link_status(&mut self, node: &str, ifname: &str) -> Result<String, ClientError> {
        self.field("ifstatus", &[("node", node), ("ifname", ifname)], "st")
    }

    /// `clientstatus`: `online`/`offline` (or `join`/`leave` from a remote
    /// node). Waits at most `timeout` for a message of type or subtype
    /// `respond-cstatus`; everything else is queued.
    pub fn client_status(
        &mut self,
        node: &str,
        client_id: &str,
        timeout: Duration,
    ) -> Result<String, ClientError> {
        if node.is_empty() {
            return Err(ClientError::Protocol(
                "client status : bad nodename".to_string(),
            ));
        }
        let mut req = self.boilerplate("clientstatus");
        req.push_str("node", node);
        req.push_str("cn", client_id);
        self.send(&req)?;
        let until = Some(Instant::now() + timeout);
        loop {
            let m = match self.wire().next(until) {
                Ok(m) => m,
                Err(ClientError::Timeout) => return Err(ClientError::Timeout),
                Err(_) => return Err(ClientError::Timeout),
            };
            let is_answer = m.msg_type() == Some("respond-cstatus")
                || m.get_str("subt") == Some("respond-cstatus");
            if !is_answer {
                self.queue.push_back(m);
                continue;
            }
            return match (m.get_str("result"), m.get_str("cs")) {
                (Some("OK"), Some(cs)) => Ok(cs.to_string()),
                _ => Err(ClientError::Protocol(
                    "received wrong type of msg".to_string(),
                )),
            };
        }
    }

    /// `getparm`; `hbversion` and `pacemaker` come from the sign-on cache.
    /// `Ok(None)` when the parameter is unset.
    pub fn parameter(&mut self, name: &str) -> Result<Option<String>, ClientError> {
        if name == "hbversion" {
            if let Some(v) = &self.info.hbversion {
                return Ok(Some(v.clone()));
            }
        }
        if name == "pacemaker" {
            if let Some(v) = &self.info.pacemaker {
                return Ok(Some(v.clone()));
            }
        }
        let r = self.request_ok("getparm", &[("pname", name)])?;
        Ok(r.get_str("pvalue").map(str::to_string))
    }

    /// `getrsc`: `none|local|foreign|all|transition`.
    pub fn resources(&mut self) -> Result<String, ClientError> {
        self.field("getrsc", &[], "rsc_hold")
    }

    /// `getuuid`.
    pub fn uuid_of(&mut self, node: &str) -> Result<Option<[u8; 16]>, ClientError> {
        let r = self.request_ok("getuuid", &[("queryname", node)])?;
        Ok(r.get_binary("queryuuid")
            .and_then(|b| <[u8; 16]>::try_from(b).ok()))
    }

    /// `getnodename`.
    pub fn name_of_uuid(&mut self, uuid: &[u8; 16]) -> Result<Option<String>, ClientError> {
        let mut req = self.boilerplate("getnodename");
        req.push("queryuuid", hb_proto::Value::Binary(uuid.to_vec()));
        self.send(&req)?;
        let r = check_ok("getnodename", self.read_reply("getnodename")?)?;
        Ok(r.get_str("queryname").map(str::to_string))
    }

    /// `setfilter` (KEEPIT 0x01 default; 0x0d promiscuous, 0x0f all
    /// heartbeats, 0x3f raw).
    pub fn set_filter(&mut self, mask: u32) -> Result<(), ClientError> {
        self.request_ok("setfilter", &[("fmask", &format!("{mask:x}"))])
            .map(|_| ())
    }

    /// `setsignal` (0 = none).
    pub fn set_signal(&mut self, signal: i32) -> Result<(), ClientError> {
        self.request_ok("setsignal", &[("signal", &signal.to_string())])
            .map(|_| ())
    }

    /// Sends a message to the cluster (named clients only). The daemon
    /// adds `from_id`/`to_id`/`client_gen`, so only same-named clients
    /// on each node receive it.
    pub fn send_cluster_message(&mut self, msg: &Message) -> Result<(), ClientError> {
        if self.casual {
            return Err(ClientError::NotNamed);
        }
        msg.validate()?;
        self.send(msg)
    }

    /// [`Client::send_cluster_message`] to one node (`dest`).
    pub fn send_node_message(&mut self, msg: &Message, node: &str) -> Result<(), ClientError> {
        let mut m = msg.clone();
        m.set_str("dest", node);
        self.send_cluster_message(&m)
    }

    /// The next asynchronous message: queued ones first, then from the
    /// socket, waiting at most `timeout` (`Ok(None)` on timeout). Stray
    /// API replies are skipped.
    pub fn recv(&mut self, timeout: Option<Duration>) -> Result<Option<Message>, ClientError> {
        if let Some(m) = self.queue.pop_front() {
            return Ok(Some(m));
        }
        let until = deadline(timeout);
        loop {
            match self.wire().next(until) {
                Ok(m) if m.msg_type() == Some("hbapi-resp") => continue,
                Ok(m) => return Ok(Some(m)),
                Err(ClientError::Timeout) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }

    /// Signs off (no reply) and closes the connection.
    pub fn signoff(mut self) -> Result<(), ClientError> {
        let req = self.boilerplate("signoff");
        self.send(&req)?;
        // The daemon closes the connection once it has removed us. Waiting
        // for that (briefly) means a sign-on that follows — the next
        // cl_status of a script — never races with our removal.
        let _ = self.stream.shutdown(std::net::Shutdown::Write);
        let _ = self
            .stream
            .set_read_timeout(Some(std::time::Duration::from_secs(1)));
        let mut sink = [0u8; 4096];
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        while std::time::Instant::now() < deadline {
            match std::io::Read::read(&mut self.stream, &mut sink) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        Ok(())
    }
}

impl std::os::fd::AsFd for Client {
    /// The API socket, for a program that polls it together with other
    /// descriptors. Messages already read from it wait in the client, so
    /// call [`Client::recv`] until it returns `Ok(None)` before polling
    /// (and after any request, which may read more than its reply).
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.stream.as_fd()
    }
}

fn check_ok(reqtype: &str, r: Message) -> Result<Message, ClientError> {
    if r.get_str("result") == Some("OK") {
        Ok(r)
    } else {
        Err(ClientError::BadRequest {
            reqtype: reqtype.to_string(),
            info: r.get_str("info").map(str::to_string),
            quiet: reqtype != "getrsc",
        })
    }
}
