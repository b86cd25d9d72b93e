//! The request handlers of docs/behaviour.md §7.6, one function per `reqtype`.
//!
//! A handler sees the request, a read-only context and the reply under
//! construction (`t=hbapi-resp`, `reqtype=<same>`). It returns the replies
//! to send and at most one side effect for the server to apply to the
//! client record; failures come back as [`Bad`] so that the server writes
//! the error reply and its log lines in one place.

use crate::view::{ClusterView, NodeInfo, NodeType};
use crate::wire::{self, API_MORE, API_OK, T_QCSTATUS, T_RCSTATUS};
use hb_proto::{Message, Value};

/// Treatment bits a client may ask for (all but KEEPIT are debug bits).
pub const ALL_TREATMENTS: u32 = 0x3f;
/// The debug treatment bits.
pub const DEBUG_TREATMENTS: u32 = 0x3e;

/// What a handler may look at besides the request.
pub struct Context<'a> {
    /// The cluster.
    pub view: &'a dyn ClusterView,
    /// uid the client signed on with.
    pub client_uid: u32,
    /// The client's current filter mask.
    pub client_mask: u32,
    /// uid the daemon runs as (allowed debug filters).
    pub daemon_uid: u32,
    /// Whether a client with this id is signed on locally.
    pub client_online: &'a dyn Fn(&str) -> bool,
}

/// A change to the requesting client's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Nothing.
    None,
    /// `signoff`: remove the client, reason `signoff`, no reply.
    SignOff,
    /// `setfilter`: new mask.
    Filter(u32),
    /// `setsignal`: new signal (0 = none).
    Signal(i32),
    /// `set_sendqlen`: new queue limit.
    SendQueueLen(usize),
    /// `clientstatus` about an active remote node: send this
    /// `query-cstatus` to the cluster; the answer arrives later.
    Cluster(Message),
}

/// A handled request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Replies, in order (already carrying `result`).
    pub replies: Vec<Message>,
    /// Side effect.
    pub effect: Effect,
    /// Log lines (level, text).
    pub logs: Vec<(log::Level, String)>,
}

impl Outcome {
    fn reply(mut resp: Message) -> Outcome {
        resp.set_str("result", API_OK);
        Outcome {
            replies: vec![resp],
            effect: Effect::None,
            logs: Vec::new(),
        }
    }

    fn silent(effect: Effect) -> Outcome {
        Outcome {
            replies: Vec::new(),
            effect,
            logs: Vec::new(),
        }
    }
}

/// A failed request: reply `result=badreq` (+ `info` when given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bad {
    /// The reply as built so far.
    pub resp: Message,
    /// `info=` text.
    pub info: Option<&'static str>,
    /// Log the request as an unknown request type first.
    pub unknown: bool,
}

fn bad(resp: Message, info: &'static str) -> Result<Outcome, Bad> {
    Err(Bad {
        resp,
        info: Some(info),
        unknown: false,
    })
}

/// Handles one request of a signed-on client (`reqtype` other than
/// `signon`).
pub fn handle(reqtype: &str, req: &Message, resp: Message, cx: &Context) -> Result<Outcome, Bad> {
    match reqtype {
        "signoff" => Ok(Outcome::silent(Effect::SignOff)),
        "setfilter" => setfilter(req, resp, cx),
        "setsignal" => setsignal(req, resp),
        "nodelist" => Ok(nodelist(resp, cx)),
        "nodestatus" => node_query(req, resp, cx, |n, r| r.set_str("st", &n.status)),
        "nodeweight" => node_query(req, resp, cx, |n, r| {
            r.push_str("weight", n.weight.to_string())
        }),
        "nodesite" => node_query(req, resp, cx, |n, r| r.push_str("site", &n.site)),
        "nodetype" => node_query(req, resp, cx, |n, r| {
            r.set_str("nodetype", n.node_type.as_str())
        }),
        "numnodes" => {
            let mut resp = resp;
            let count = cx
                .view
                .nodes()
                .iter()
                .filter(|n| n.node_type == NodeType::Normal)
                .count();
            resp.push_str("numnodes", count.to_string());
            Ok(Outcome::reply(resp))
        }
        "iflist" => iflist(req, resp, cx),
        "ifstatus" => ifstatus(req, resp, cx),
        "clientstatus" => clientstatus(req, resp, cx),
        "getparm" => getparm(req, resp, cx),
        "getrsc" => match cx.view.resource_holding() {
            Some(h) => {
                let mut resp = resp;
                resp.set_str("rsc_hold", h.as_str());
                Ok(Outcome::reply(resp))
            }
            None => bad(
                resp,
                "Resource is managed by crm. Use crm tool to query resource",
            ),
        },
        "getuuid" => getuuid(req, resp, cx),
        "getnodename" => getnodename(req, resp, cx),
        "set_sendqlen" => Ok(set_sendqlen(req)),
        crate::report::REQ_METRICS | crate::report::REQ_EXPLAIN => report(reqtype, req, resp, cx),
        _ => Err(Bad {
            resp,
            info: None,
            unknown: true,
        }),
    }
}

/// Our extension requests (see [`crate::report`]): the rendered text, one reply per line.
fn report(reqtype: &str, req: &Message, resp: Message, cx: &Context) -> Result<Outcome, Bad> {
    use crate::report::{self, F_FORMAT, F_LINE};
    let Some(snapshot) = cx.view.report() else {
        return Err(Bad {
            resp,
            info: None,
            unknown: true,
        });
    };
    let text = if reqtype == report::REQ_METRICS {
        report::render_metrics(&snapshot)
    } else if req.get_str(F_FORMAT) == Some("json") {
        report::render_explain_json(&snapshot)
    } else {
        report::render_explain(&snapshot)
    };
    let lines: Vec<&str> = text.lines().collect();
    let last = lines.len().saturating_sub(1);
    let mut replies = Vec::with_capacity(lines.len().max(1));
    for (i, line) in lines.iter().enumerate() {
        let mut r = resp.clone();
        r.set_str(F_LINE, line);
        r.set_str("result", if i == last { API_OK } else { API_MORE });
        replies.push(r);
    }
    if replies.is_empty() {
        let mut r = resp;
        r.set_str("result", API_OK);
        replies.push(r);
    }
    Ok(Outcome {
        replies,
        effect: Effect::None,
        logs: Vec::new(),
    })
}

/// Looks a node up the way `lookup_node` does: the query in ASCII lower
/// case against the table names.
pub fn lookup_node(view: &dyn ClusterView, name: &str) -> Option<NodeInfo> {
    let low = name.to_ascii_lowercase();
    view.nodes().into_iter().find(|n| n.name == low)
}

fn setfilter(req: &Message, resp: Message, cx: &Context) -> Result<Outcome, Bad> {
    let mask = match req.get_str("fmask").and_then(wire::scan_hex) {
        Some(m) if m & ALL_TREATMENTS != 0 => m,
        _ => return bad(resp, "EINVAL"),
    };
    let gains_debug = cx.client_mask & DEBUG_TREATMENTS == 0 && mask & DEBUG_TREATMENTS != 0;
    if gains_debug && cx.client_uid != 0 && cx.client_uid != cx.daemon_uid {
        return bad(resp, "EPERM");
    }
    let mut out = Outcome::reply(resp);
    out.effect = Effect::Filter(mask);
    Ok(out)
}

fn setsignal(req: &Message, resp: Message) -> Result<Outcome, Bad> {
    let Some(sig) = req.get_str("signal").and_then(wire::scan_dec) else {
        return Err(Bad {
            resp,
            info: None,
            unknown: false,
        });
    };
    // "%u" of a negative number wraps to a huge value: also >= 32.
    if !(0..32).contains(&sig) || sig == 9 || sig == 19 {
        return bad(resp, "EINVAL");
    }
    let mut out = Outcome::reply(resp);
    out.effect = Effect::Signal(sig as i32);
    Ok(out)
}

fn nodelist(resp: Message, cx: &Context) -> Outcome {
    let nodes = cx.view.nodes();
    let last = nodes.len().saturating_sub(1);
    let mut replies = Vec::with_capacity(nodes.len());
    let mut r = resp;
    for (i, n) in nodes.iter().enumerate() {
        r.set_str("node", &n.name);
        r.set_str("nodetype", n.node_type.as_str());
        r.set_str("st", &n.status);
        r.set_str("result", if i == last { API_OK } else { API_MORE });
        replies.push(r.clone());
    }
    Outcome {
        replies,
        effect: Effect::None,
        logs: Vec::new(),
    }
}

fn node_query(
    req: &Message,
    resp: Message,
    cx: &Context,
    fill: impl Fn(&NodeInfo, &mut Message),
) -> Result<Outcome, Bad> {
    match req.get_str("node").and_then(|n| lookup_node(cx.view, n)) {
        Some(node) => {
            let mut resp = resp;
            fill(&node, &mut resp);
            Ok(Outcome::reply(resp))
        }
        None => bad(resp, "EINVAL"),
    }
}

fn iflist(req: &Message, resp: Message, cx: &Context) -> Result<Outcome, Bad> {
    let Some(node) = req.get_str("node").and_then(|n| lookup_node(cx.view, n)) else {
        return bad(resp, "EINVAL");
    };
    let links = cx.view.links(&node.name);
    let mut r = resp;
    if node.node_type == NodeType::Ping {
        return match links.iter().find(|l| l.name == node.name) {
            Some(l) => {
                r.set_str("ifname", &l.name);
                r.set_str("st", &l.status);
                Ok(Outcome::reply(r))
            }
            None => bad(r, "UhOh"),
        };
    }
    if links.is_empty() {
        // The C daemon sends nothing at all here and the client hangs;
        // an error reply ends the client's walk instead.
        return bad(r, "EINVAL");
    }
    let last = links.len() - 1;
    let mut replies = Vec::with_capacity(links.len());
    for (i, l) in links.iter().enumerate() {
        r.set_str("ifname", &l.name);
        r.set_str("st", &l.status);
        r.set_str("result", if i == last { API_OK } else { API_MORE });
        replies.push(r.clone());
    }
    Ok(Outcome {
        replies,
        effect: Effect::None,
        logs: Vec::new(),
    })
}

fn ifstatus(req: &Message, resp: Message, cx: &Context) -> Result<Outcome, Bad> {
    let node = req.get_str("node").and_then(|n| lookup_node(cx.view, n));
    let link = match (node, req.get_str("ifname")) {
        (Some(node), Some(ifname)) => cx
            .view
            .links(&node.name)
            .into_iter()
            .find(|l| l.name == ifname),
        _ => None,
    };
    match link {
        Some(l) => {
            let mut resp = resp;
            resp.set_str("st", &l.status);
            Ok(Outcome::reply(resp))
        }
        None => bad(resp, "EINVAL"),
    }
}

fn clientstatus(req: &Message, resp: Message, cx: &Context) -> Result<Outcome, Bad> {
    let (Some(cnode), Some(cname), Some(from_id)) = (
        req.get_str("node"),
        req.get_str("cn"),
        req.get_str("from_id"),
    ) else {
        return bad(resp, "EINVAL");
    };
    let Some(node) = lookup_node(cx.view, cnode) else {
        return bad(resp, "EINVAL");
    };
    let mut resp = resp;
    resp.push_str("subt", T_RCSTATUS);
    // The C daemon compares the query as given (not lower-cased) with
    // its own name here.
    if cnode == cx.view.local_node() {
        let st = if (cx.client_online)(cname) {
            "online"
        } else {
            "offline"
        };
        resp.push_str("cs", st);
        return Ok(Outcome::reply(resp));
    }
    if node.status != "active" {
        resp.push_str("cs", "offline");
        return Ok(Outcome::reply(resp));
    }
    let query = Message::from_pairs([
        ("t", T_QCSTATUS),
        ("dest", cnode),
        ("cn", cname),
        ("from_id", from_id),
    ]);
    Ok(Outcome::silent(Effect::Cluster(query)))
}

fn getparm(req: &Message, resp: Message, cx: &Context) -> Result<Outcome, Bad> {
    let Some(pname) = req.get_str("pname") else {
        return bad(resp, "EINVAL");
    };
    let pname = if pname == "crm" { "pacemaker" } else { pname };
    let mut resp = resp;
    if let Some(v) = cx.view.parameter(pname) {
        resp.set_str("pvalue", v);
    }
    Ok(Outcome::reply(resp))
}

fn getuuid(req: &Message, resp: Message, cx: &Context) -> Result<Outcome, Bad> {
    let Some(name) = req.get_str("queryname") else {
        return bad(resp, "no query node name found");
    };
    let mut resp = resp;
    if let Some(u) = cx.view.uuid_of(name) {
        resp.set("queryuuid", Value::Binary(u.to_vec()));
    }
    Ok(Outcome::reply(resp))
}

fn getnodename(req: &Message, resp: Message, cx: &Context) -> Result<Outcome, Bad> {
    let uuid: Option<[u8; 16]> = req
        .get_binary("queryuuid")
        .and_then(|b| <[u8; 16]>::try_from(b).ok());
    let Some(uuid) = uuid else {
        return bad(resp, "no query node name found");
    };
    let mut resp = resp;
    let mut out = match cx.view.name_of_uuid(&uuid) {
        Some(name) => {
            resp.set_str("queryname", name);
            Outcome::reply(resp)
        }
        None => Outcome::reply(resp),
    };
    if out.replies[0].get_str("queryname").is_none() {
        out.logs.push((
            log::Level::Error,
            "api_get_nodename: nodename not found in map table".to_string(),
        ));
    }
    Ok(out)
}

fn set_sendqlen(req: &Message) -> Outcome {
    let Some(len) = req.get_str("sendqlen").and_then(wire::scan_dec) else {
        let mut o = Outcome::silent(Effect::None);
        o.logs.push((
            log::Level::Error,
            "api_set_sendqlen: getting field F_SENDQLEN failed".to_string(),
        ));
        return o;
    };
    if len <= 0 {
        let mut o = Outcome::silent(Effect::None);
        o.logs.push((
            log::Level::Error,
            format!("api_set_sendqlen: invalid length value({len})"),
        ));
        return o;
    }
    Outcome::silent(Effect::SendQueueLen(
        usize::try_from(len).unwrap_or(usize::MAX),
    ))
}
