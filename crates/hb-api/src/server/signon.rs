//! Sign-on (docs/behaviour.md §7.4, §7.5): a connection's first message, the
//! apiauth check and the refusals.

use super::{clstat, log, Action, ApiServer, Registration};
use crate::view::ClusterView;
use crate::wire::{self, API_BADREQ, API_OK, T_APIREQ, T_APIRESP};
use hb_proto::Message;
use log::Level;

impl ApiServer {
    /// docs/behaviour.md §7.4: the first message of a connection.
    pub(super) fn register(
        &mut self,
        i: usize,
        msg: &Message,
        view: &dyn ClusterView,
        out: &mut Vec<Action>,
    ) {
        let generation = self.generation;
        self.generation += 1;
        let ok_type = msg.msg_type() == Some(T_APIREQ) && msg.get_str("reqtype") == Some("signon");
        if !ok_type {
            out.push(log(
                Level::Error,
                "api_process_registration_msg: bad message",
            ));
            out.extend(wire::dump(msg).into_iter().map(|l| log(Level::Error, l)));
            return;
        }
        let from_id = msg.get_str("from_id");
        let cpid = msg.get_str("pid");
        if from_id.is_none() && cpid.is_none() {
            out.push(log(
                Level::Error,
                "api_process_registration_msg: no fromid in msg",
            ));
            return;
        }
        let mut pending_join = None;
        let failure = match self.check_signon(i, msg, view, out) {
            Ok(reg) => {
                let c = &mut self.clients[i];
                c.generation = generation;
                if !reg.casual {
                    pending_join = Some(clstat(&reg, "join", "signon", generation, view));
                }
                c.reg = Some(reg);
                None
            }
            Err(reason) => {
                out.push(log(
                    Level::Error,
                    format!(
                        "api_process_registration_msg: cannot add client({})",
                        from_id.unwrap_or("")
                    ),
                ));
                Some(reason)
            }
        };
        let mut resp = Message::from_pairs([("t", T_APIRESP), ("reqtype", "signon")]);
        if let Some(reason) = failure {
            resp.push_str("info", reason);
        }
        resp.push_str(
            "result",
            if failure.is_some() {
                API_BADREQ
            } else {
                API_OK
            },
        );
        resp.push_str("deadtime", format!("{:x}", view.deadtime_ms()));
        resp.push_str("keepalive", format!("{:x}", view.keepalive_ms()));
        resp.push_str("node", view.local_node());
        resp.push_str("hbversion", view.hbversion_signon());
        if let Some(p) = view.parameter("pacemaker") {
            resp.push_str("pacemaker", p);
        }
        resp.push_str("logfacility", view.log_facility().to_string());
        if let Some(join) = pending_join {
            out.push(Action::SendToCluster(join));
        }
        let c = &self.clients[i];
        out.push(Action::Reply {
            conn: c.conn,
            payload: wire::encode_payload(&resp, self.cfg.netstring),
        });
        if failure.is_some() {
            out.push(Action::Close { conn: c.conn });
            self.clients.remove(i);
        }
    }

    /// The checks of `api_add_client` and `api_check_client_authorization`,
    /// in the C order; the error is the `info` reason.
    fn check_signon(
        &self,
        i: usize,
        msg: &Message,
        view: &dyn ClusterView,
        out: &mut Vec<Action>,
    ) -> Result<Registration, &'static str> {
        let peer = self.clients[i].peer;
        let cpid = msg.get_str("pid");
        let pid = cpid.map_or(0, wire::atoi);
        if pid <= 0 || !view.process_exists(pid) {
            out.push(log(Level::Warn, format!("api_add_client: bad pid [{pid}]")));
            return Err("bad pid");
        }
        let from_id = msg.get_str("from_id");
        // An empty id matches the not-yet-registered record itself in C.
        if from_id == Some("") || from_id.is_some_and(|f| self.find(Some(f), None).is_some()) {
            out.push(log(
                Level::Warn,
                format!(
                    "duplicate client add request [{}] [{}]",
                    from_id.unwrap_or("(nullfromid)"),
                    cpid.unwrap_or("(nullcpid)")
                ),
            ));
            return Err("duplicate add request");
        }
        let (id, casual) = match from_id {
            Some(f) => (f.to_string(), wire::atoi(f) == pid),
            None => (pid.to_string(), true),
        };
        let cuid = msg.get_str("uid");
        let cgid = msg.get_str("gid");
        let luid = cuid.and_then(wire::scan_dec);
        let lgid = cgid.and_then(wire::scan_dec);
        let (Some(luid), Some(lgid)) = (luid, lgid) else {
            out.extend(wire::dump(msg).into_iter().map(|l| log(Level::Error, l)));
            out.push(log(
                Level::Error,
                format!(
                    "Client user/group id is incorrect [{}] => {} [{}] => {}",
                    cuid.unwrap_or("<null>"),
                    luid.unwrap_or(-1),
                    cgid.unwrap_or("<null>"),
                    lgid.unwrap_or(-1)
                ),
            ));
            return Err("invalid id info");
        };
        if id.len() > 31 {
            out.push(log(
                Level::Error,
                format!("API client id [{id}] is longer than 31 characters"),
            ));
            return Err("invalid id info");
        }
        // uid_t/gid_t conversion of the C code: truncate to 32 bits.
        if luid as u32 != peer.uid || lgid as u32 != peer.gid {
            return Err("incorrect/false credentials");
        }
        let entry_name = if casual { "anon" } else { id.as_str() };
        let entry = match self.cfg.auth.get(entry_name) {
            Some(e) => e,
            None if casual => {
                out.push(log(Level::Error, "NO auth found for anonymous"));
                return Err(self.auth_fail(&id, pid, "apiauth anon missing", out));
            }
            None => match self.cfg.auth.get("default") {
                Some(e) => e,
                None => return Err(self.auth_fail(&id, pid, "no default client auth", out)),
            },
        };
        if !entry.permits(&peer) {
            return Err(self.auth_fail(&id, pid, "client failed authorization", out));
        }
        if peer.pid > 0 && peer.pid != pid {
            out.push(log(
                Level::Info,
                format!("PID mismatch: {pid} vs farside_pid: {}", peer.pid),
            ));
            return Err(self.auth_fail(&id, pid, "pid mismatch", out));
        }
        Ok(Registration {
            id,
            pid,
            casual,
            uid: luid as u32,
        })
    }

    fn auth_fail(
        &self,
        id: &str,
        pid: i32,
        reason: &'static str,
        out: &mut Vec<Action>,
    ) -> &'static str {
        out.push(log(
            Level::Warn,
            format!("Client [{id}] pid {pid} failed authorization [{reason}]"),
        ));
        reason
    }
}
