//! The `cl_status` command (docs/behaviour.md §8), as a library function.
//!
//! Behaviour, texts and exit codes follow Debian's 3.0.6 tool: the help
//! screen, the sub-command table with each sub-command's getopt string,
//! sign-on as a casual client before option parsing, errors logged to
//! stderr in syslog file format (`Nov 22 04:21:35 vm cl_status: [pid]:
//! ERROR: …`; the time is printed in UTC), node and link lists printed in
//! reverse daemon order (libhbclient prepends each entry).
//!
//! Additions: `--json` on the listing and status sub-commands prints one
//! JSON object instead of the text (schema in the crate README); exit
//! codes do not change. Not reproduced: the CCM membership block of
//! `hbstatus -v` (there is no CCM in haresources mode) and logging to
//! syslog when `HA_logfacility` names a facility.

use crate::client::{Client, LinkEntry, SignOnOptions, DEFAULT_SOCKET};
use crate::error::SignOnError;
use crate::getopt::{getopt, Event};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

mod format;
mod help;

use format::{js, js_opt, syslog_time};
pub use help::HELP;

/// Success (node/link up, …).
pub const OK: i32 = 0;
/// "Normal" failure: node or link down, heartbeat stopped, unset parameter.
pub const NORMAL_FAIL: i32 = 1;
/// Bad sub-command, option or operand.
pub const PARAMETER_ERROR: i32 = 11;
/// The five-second alarm fired.
pub const TIMEOUT: i32 = 12;
/// Anything else.
pub const UNKNOWN_ERROR: i32 = 13;

/// Where and how long to talk to the daemon.
#[derive(Debug, Clone)]
pub struct Options {
    /// API socket.
    pub socket: PathBuf,
    /// Longest wait for one reply. The default (60 s) is longer than the
    /// binary's 5-second alarm, so a hung daemon ends in exit code 12 as
    /// with the C tool.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            socket: PathBuf::from(DEFAULT_SOCKET),
            timeout: Duration::from_secs(60),
        }
    }
}

/// (name, getopt string or `None` = not parsed, needs sign-on, has `--json`).
const COMMANDS: &[(&str, Option<&str>, bool, bool)] = &[
    ("hbstatus", Some("mv"), false, true),
    ("listnodes", Some("mpnv"), true, true),
    ("nodestatus", Some("m"), true, true),
    ("nodeweight", Some("m"), true, true),
    ("nodesite", Some("m"), true, true),
    ("nodetype", Some("m"), true, true),
    ("listhblinks", Some("mv"), true, true),
    ("hblinkstatus", Some("m"), true, true),
    ("clientstatus", Some("m"), true, true),
    ("rscstatus", Some("m"), true, true),
    ("hbparameter", Some("mp:"), true, true),
    ("test", None, true, false),
    // heartbeat-rs additions (not in the help screen, which stays the C tool's): see
    // crate::report.
    ("metrics", Some("m"), true, false),
    ("explain", Some("m"), true, true),
];

/// Everything a sub-command works with.
struct Tool<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    host: String,
    human: bool,
    json: bool,
}

impl Tool<'_> {
    /// `cl_log(LOG_ERR, …)` to stderr in syslog file format.
    fn log(&mut self, msg: &str) {
        let _ = writeln!(
            self.err,
            "{} {} cl_status: [{}]: ERROR: {}",
            syslog_time(SystemTime::now()),
            self.host,
            std::process::id(),
            msg
        );
    }

    fn eprint(&mut self, msg: &str) {
        let _ = writeln!(self.err, "{msg}");
    }

    fn print(&mut self, msg: &str) {
        let _ = writeln!(self.out, "{msg}");
    }
}

/// Runs `cl_status` with `args` (`args[0]` = program name); returns the
/// exit code.
pub fn run(args: &[String], opts: &Options, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    if args.len() == 1 || (args.len() == 2 && args[1] == "-h") {
        let _ = out.write_all(HELP.as_bytes());
        return OK;
    }
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default();
    let mut tool = Tool {
        out,
        err,
        host,
        human: false,
        json: false,
    };
    let cmd = args.get(1).map(String::as_str).unwrap_or("");
    let Some(&(name, optstr, needs_signon, json_ok)) = COMMANDS.iter().find(|c| c.0 == cmd) else {
        tool.log(&format!("{cmd}: invalid sub-command."));
        return PARAMETER_ERROR;
    };
    // getopt sees the arguments after the program name.
    let mut sub: Vec<String> = args[1..].to_vec();
    if json_ok {
        let before = sub.len();
        sub.retain(|a| a != "--json");
        tool.json = sub.len() != before;
    }
    let signon = Client::signon(&SignOnOptions {
        path: opts.socket.clone(),
        client_id: None,
        timeout: Some(opts.timeout),
    });
    let (mut client, failure) = match signon {
        Ok(c) => (Some(c), None),
        Err(e) => (None, Some(e)),
    };
    if let (Some(e), true) = (&failure, needs_signon) {
        tool.log("Cannot signon with heartbeat");
        tool.log(&format!("REASON: {e}"));
        if name == "explain" {
            tool.print(crate::report::NO_API);
        }
        return NORMAL_FAIL;
    }
    let rc = match (name, client.as_mut()) {
        ("hbstatus", c) => hbstatus(&mut tool, c, failure.as_ref(), &sub, optstr.unwrap_or("")),
        (_, None) => NORMAL_FAIL,
        (_, Some(c)) => dispatch(&mut tool, c, name, &sub, optstr.unwrap_or("")),
    };
    if let Some(c) = client {
        if let Err(e) = c.signoff() {
            tool.log("Cannot sign off from heartbeat.");
            tool.log(&format!("REASON: {e}"));
        }
    }
    rc
}

fn dispatch(t: &mut Tool, c: &mut Client, name: &str, sub: &[String], optstr: &str) -> i32 {
    match name {
        "listnodes" => listnodes(t, c, sub, optstr),
        "listhblinks" => listhblinks(t, c, sub, optstr),
        "hbparameter" => hbparameter(t, c, sub, optstr),
        "test" => test(t, c),
        _ => {
            let Some(operands) = simple_opts(t, sub, optstr) else {
                return PARAMETER_ERROR;
            };
            match name {
                "nodestatus" => nodestatus(t, c, &operands),
                "nodeweight" => nodeweight(t, c, &operands),
                "nodesite" => nodesite(t, c, &operands),
                "nodetype" => nodetype(t, c, &operands),
                "hblinkstatus" => hblinkstatus(t, c, &operands),
                "clientstatus" => clientstatus(t, c, &operands),
                "rscstatus" => rscstatus(t, c),
                "metrics" => print_report(t, crate::report::metrics(c)),
                "explain" => {
                    let json = t.json;
                    print_report(t, crate::report::explain(c, json))
                }
                _ => UNKNOWN_ERROR,
            }
        }
    }
}

/// Prints a report of [`crate::report`] or logs why there is none.
fn print_report(t: &mut Tool, report: Result<String, crate::ClientError>) -> i32 {
    match report {
        Ok(text) => {
            let _ = t.out.write_all(text.as_bytes());
            OK
        }
        Err(e) => {
            t.log(&format!("Cannot get the report: {e}"));
            NORMAL_FAIL
        }
    }
}

/// `general_simple_opt_deal`: only `-m`; the first error aborts.
fn simple_opts(t: &mut Tool, sub: &[String], optstr: &str) -> Option<Vec<String>> {
    let p = getopt(sub, optstr);
    for e in &p.events {
        match e {
            Event::Opt('m', _) => t.human = true,
            Event::Opt(..) => {}
            Event::Error(msg) => {
                t.eprint(msg);
                t.log("Error: getopt returnedcharacter ?.");
                return None;
            }
        }
    }
    Some(p.operands)
}

/// Option loop of the sub-commands with their own `default:` branch.
fn own_opts(
    t: &mut Tool,
    sub: &[String],
    optstr: &str,
    mut on: impl FnMut(char, Option<String>),
) -> Option<Vec<String>> {
    let p = getopt(sub, optstr);
    for e in p.events {
        match e {
            Event::Opt('m', _) => t.human = true,
            Event::Opt(c, a) => on(c, a),
            Event::Error(msg) => {
                t.eprint(&msg);
                t.log("Error: getopt returnedcharacter code ?.");
                return None;
            }
        }
    }
    Some(p.operands)
}

/// `cl_str_to_boolean` failing (unset or a special value) means enabled.
fn pacemaker_enabled(c: &mut Client) -> (bool, Option<String>) {
    let mut v = c.parameter("pacemaker").ok().flatten();
    if v.is_none() {
        v = c.parameter("crm").ok().flatten();
    }
    let enabled = match v.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("true" | "on" | "yes" | "y" | "1") => true,
        Some("false" | "off" | "no" | "n" | "0") => false,
        _ => true,
    };
    (enabled, v)
}

fn hbstatus(
    t: &mut Tool,
    c: Option<&mut Client>,
    failure: Option<&SignOnError>,
    sub: &[String],
    optstr: &str,
) -> i32 {
    let mut verbose = false;
    // No default branch in the C tool: bad options are only reported.
    for e in getopt(sub, optstr).events {
        match e {
            Event::Opt('m', _) => t.human = true,
            Event::Opt('v', _) => verbose = true,
            Event::Opt(..) => {}
            Event::Error(msg) => t.eprint(&msg),
        }
    }
    let Some(c) = c else {
        let reason = failure.map(|e| e.to_string()).unwrap_or_default();
        let running = failure.is_some_and(|e| e.deadtime_ms() != 0);
        if t.json {
            t.print(&format!(
                "{{\"running\":{running},\"refused\":{running},\"reason\":{}}}",
                js_opt(Some(reason.as_str()).filter(|r| !r.is_empty()))
            ));
        } else {
            if running {
                t.print(
                    "Heartbeat is apparently running on this machine, but refuses my connection",
                );
            } else {
                t.print("Heartbeat is stopped on this machine.");
            }
            if verbose && !reason.is_empty() {
                t.print(&format!("({reason})"));
            }
        }
        return if running { OK } else { NORMAL_FAIL };
    };
    if !verbose {
        if t.json {
            t.print("{\"running\":true,\"refused\":false,\"reason\":null}");
        } else {
            t.print("Heartbeat is running on this machine.");
        }
        return OK;
    }
    let version = c.parameter("hbversion").ok().flatten();
    let (enabled, pacemaker) = pacemaker_enabled(c);
    if t.json {
        let nodes = match json_nodes(c, false, false, true) {
            Ok(n) => n,
            Err(_) => "null".to_string(),
        };
        t.print(&format!(
            "{{\"running\":true,\"refused\":false,\"reason\":null,\"version\":{},\"managed_by\":{},\"pacemaker\":{},\"nodes\":{nodes}}}",
            js_opt(version.as_deref()),
            js(if enabled { "pacemaker" } else { "haresources" }),
            js_opt(pacemaker.as_deref())
        ));
        return OK;
    }
    if t.human {
        match &version {
            Some(v) => t.print(&format!("Heartbeat version {v}")),
            None => t.print("Heartbeat is running on this machine."),
        }
        if enabled {
            t.print("Resources controlled by Pacemaker.");
        } else {
            t.print("Resources controlled by \"haresources\"");
        }
    } else {
        t.print(&format!(
            "version:\t{}",
            version.as_deref().unwrap_or("unknown")
        ));
        if enabled {
            t.print(&format!(
                "managed by:\tpacemaker\t({})",
                pacemaker.as_deref().unwrap_or("(null)")
            ));
        } else {
            t.print("managed by:\t\"haresources\"");
        }
    }
    let _ = list_nodes(t, c, false, false, true);
    OK
}

fn listnodes(t: &mut Tool, c: &mut Client, sub: &[String], optstr: &str) -> i32 {
    let (mut verbose, mut ping, mut normal) = (false, false, false);
    let parsed = own_opts(t, sub, optstr, |o, _| match o {
        'v' => verbose = true,
        'p' => ping = true,
        'n' => normal = true,
        _ => {}
    });
    if parsed.is_none() {
        return PARAMETER_ERROR;
    }
    if t.json {
        return match json_nodes(c, normal, ping, verbose) {
            Ok(j) => {
                t.print(&format!("{{\"nodes\":{j}}}"));
                OK
            }
            Err(e) => {
                t.log("Cannot start node walk.");
                t.log(&format!("REASON: {e}"));
                UNKNOWN_ERROR
            }
        };
    }
    list_nodes(t, c, normal, ping, verbose)
}

/// Type of a node: the nodelist shortcut, else a `nodetype` request.
fn type_of(c: &mut Client, name: &str, cached: Option<&String>) -> Option<String> {
    cached.cloned().or_else(|| c.node_type(name).ok())
}

fn status_of(c: &mut Client, name: &str, cached: Option<&String>) -> Option<String> {
    cached.cloned().or_else(|| c.node_status(name).ok())
}

/// `__listnodes`.
fn list_nodes(
    t: &mut Tool,
    c: &mut Client,
    normal_only: bool,
    ping_only: bool,
    verbose: bool,
) -> i32 {
    let nodes = match c.nodes() {
        Ok(n) => n,
        Err(e) => {
            t.log("Cannot start node walk.");
            t.log(&format!("REASON: {e}"));
            return UNKNOWN_ERROR;
        }
    };
    let (normal_only, ping_only) = if normal_only && ping_only {
        (false, false)
    } else {
        (normal_only, ping_only)
    };
    if t.human {
        t.print("The nodes are as follow:");
    }
    for n in nodes.iter().rev() {
        if normal_only || ping_only {
            let ty = type_of(c, &n.name, n.node_type.as_ref());
            if normal_only && ty.as_deref() != Some("normal") {
                continue;
            }
            if ping_only && ty.as_deref() != Some("ping") {
                continue;
            }
        }
        if verbose {
            let st = status_of(c, &n.name, n.status.as_ref());
            let ty = type_of(c, &n.name, n.node_type.as_ref());
            t.print(&format!(
                "\n{}\t{}\t(nodetype: {})",
                n.name,
                st.as_deref().unwrap_or("(null)"),
                ty.as_deref().unwrap_or("(null)")
            ));
            let _ = list_links(t, c, &n.name, true);
        } else {
            t.print(&n.name);
        }
    }
    OK
}

fn link_status_of(c: &mut Client, host: &str, l: &LinkEntry) -> Option<String> {
    l.status
        .clone()
        .or_else(|| c.link_status(host, &l.name).ok())
}

/// `__listhblinks`.
fn list_links(t: &mut Tool, c: &mut Client, host: &str, verbose: bool) -> i32 {
    let links = match c.links(host) {
        Ok(l) => l,
        Err(e) => {
            t.log("Cannot start heartbeat link interface walk.");
            t.log(&format!("REASON: {e}"));
            return UNKNOWN_ERROR;
        }
    };
    if t.human {
        t.print("\tthis node has the following heartbeat links:");
    }
    for l in links.iter().rev() {
        if verbose {
            let st = link_status_of(c, host, l);
            t.print(&format!(
                "\t{}\t{}",
                l.name,
                st.as_deref().unwrap_or("(null)")
            ));
        } else {
            t.print(&format!("\t{}", l.name));
        }
    }
    OK
}

fn json_links(c: &mut Client, host: &str) -> Result<String, crate::ClientError> {
    let links = c.links(host)?;
    let items: Vec<String> = links
        .iter()
        .map(|l| {
            let st = link_status_of(c, host, l);
            format!(
                "{{\"name\":{},\"status\":{}}}",
                js(&l.name),
                js_opt(st.as_deref())
            )
        })
        .collect();
    Ok(format!("[{}]", items.join(",")))
}

fn json_nodes(
    c: &mut Client,
    normal_only: bool,
    ping_only: bool,
    verbose: bool,
) -> Result<String, crate::ClientError> {
    let nodes = c.nodes()?;
    let both = normal_only && ping_only;
    let mut items = Vec::new();
    for n in &nodes {
        let ty = type_of(c, &n.name, n.node_type.as_ref());
        if !both
            && ((normal_only && ty.as_deref() != Some("normal"))
                || (ping_only && ty.as_deref() != Some("ping")))
        {
            continue;
        }
        let st = status_of(c, &n.name, n.status.as_ref());
        let mut item = format!(
            "{{\"name\":{},\"type\":{},\"status\":{}",
            js(&n.name),
            js_opt(ty.as_deref()),
            js_opt(st.as_deref())
        );
        if verbose {
            let links = json_links(c, &n.name).unwrap_or_else(|_| "null".to_string());
            item.push_str(&format!(",\"links\":{links}"));
        }
        item.push('}');
        items.push(item);
    }
    Ok(format!("[{}]", items.join(",")))
}

fn nodestatus(t: &mut Tool, c: &mut Client, ops: &[String]) -> i32 {
    let Some(node) = ops.first() else {
        t.eprint("Not enough parameters.");
        return PARAMETER_ERROR;
    };
    let Ok(st) = c.node_status(node) else {
        t.eprint("Error. May be due to incorrect node name");
        return PARAMETER_ERROR;
    };
    if t.json {
        t.print(&format!("{{\"node\":{},\"status\":{}}}", js(node), js(&st)));
    } else if t.human {
        t.print(&format!("The cluster node {node} is {st}"));
    } else {
        t.print(&st);
    }
    if matches!(st.as_str(), "active" | "up" | "ping") {
        OK
    } else {
        NORMAL_FAIL
    }
}

fn nodeweight(t: &mut Tool, c: &mut Client, ops: &[String]) -> i32 {
    let Some(node) = ops.first() else {
        t.eprint("Not enough parameters.");
        return PARAMETER_ERROR;
    };
    let w = match c.node_weight(node) {
        Ok(w) if w != -1 => w,
        _ => {
            t.eprint("Error. Maybe due to incorrect node name.");
            return PARAMETER_ERROR;
        }
    };
    if t.json {
        t.print(&format!("{{\"node\":{},\"weight\":{w}}}", js(node)));
    } else if t.human {
        t.print(&format!("The weight of the cluster node {node} is {w}"));
    } else {
        t.print(&w.to_string());
    }
    OK
}

fn nodesite(t: &mut Tool, c: &mut Client, ops: &[String]) -> i32 {
    let Some(node) = ops.first() else {
        t.eprint("Not enough parameters.");
        return PARAMETER_ERROR;
    };
    let Ok(site) = c.node_site(node) else {
        t.eprint("Error. May be due to incorrect node name");
        return PARAMETER_ERROR;
    };
    if t.json {
        t.print(&format!("{{\"node\":{},\"site\":{}}}", js(node), js(&site)));
    } else if t.human {
        t.print(&format!("The site of the cluster node {node} is {site}"));
    } else {
        t.print(&site);
    }
    OK
}

fn nodetype(t: &mut Tool, c: &mut Client, ops: &[String]) -> i32 {
    let Some(node) = ops.first() else {
        t.eprint("No enough parameter.");
        return PARAMETER_ERROR;
    };
    let Ok(ty) = c.node_type(node) else {
        t.eprint("Error. May be due to incorrect node name");
        return PARAMETER_ERROR;
    };
    if t.json {
        t.print(&format!("{{\"node\":{},\"type\":{}}}", js(node), js(&ty)));
    } else if t.human {
        t.print(&format!("The node {node}'s type: {ty}"));
    } else {
        t.print(&ty);
    }
    OK
}

fn listhblinks(t: &mut Tool, c: &mut Client, sub: &[String], optstr: &str) -> i32 {
    let mut verbose = false;
    let Some(ops) = own_opts(t, sub, optstr, |o, _| {
        if o == 'v' {
            verbose = true;
        }
    }) else {
        return PARAMETER_ERROR;
    };
    let Some(node) = ops.first() else {
        t.eprint("No enough parameter.");
        return PARAMETER_ERROR;
    };
    if t.json {
        return match json_links(c, node) {
            Ok(j) => {
                t.print(&format!("{{\"node\":{},\"links\":{j}}}", js(node)));
                OK
            }
            Err(e) => {
                t.log("Cannot start heartbeat link interface walk.");
                t.log(&format!("REASON: {e}"));
                UNKNOWN_ERROR
            }
        };
    }
    list_links(t, c, node, verbose)
}

fn hblinkstatus(t: &mut Tool, c: &mut Client, ops: &[String]) -> i32 {
    let (Some(node), Some(link)) = (ops.first(), ops.get(1)) else {
        t.eprint("No enough parameter.");
        return PARAMETER_ERROR;
    };
    let st = match c.link_status(node, link) {
        Ok(s) => s,
        Err(e) => {
            t.log("Cannot get heartbeat link status");
            t.log(&format!("REASON: {e}"));
            return UNKNOWN_ERROR;
        }
    };
    if t.json {
        t.print(&format!(
            "{{\"node\":{},\"link\":{},\"status\":{}}}",
            js(node),
            js(link),
            js(&st)
        ));
    } else if t.human {
        t.print(&format!("The node {node}'s heartbeat link {link} is {st}"));
    } else {
        t.print(&st);
    }
    if st == "up" {
        OK
    } else {
        NORMAL_FAIL
    }
}

fn clientstatus(t: &mut Tool, c: &mut Client, ops: &[String]) -> i32 {
    let (Some(node), Some(client)) = (ops.first(), ops.get(1)) else {
        t.eprint("No enough parameter.");
        return PARAMETER_ERROR;
    };
    let ms = ops.get(2).map_or(500, |s| hb_proto::cnum::atoi(s));
    // poll() with a negative timeout waits forever (the alarm ends it).
    let timeout = Duration::from_millis(u64::try_from(ms).unwrap_or(3_600_000));
    let cs = match c.client_status(node, client, timeout) {
        Ok(s) => s,
        Err(e) => {
            t.log(&format!("Cannot get heartbeat client {client}'s status"));
            t.log(&format!("REASON: {e}"));
            return UNKNOWN_ERROR;
        }
    };
    if t.json {
        t.print(&format!(
            "{{\"node\":{},\"client\":{},\"status\":{}}}",
            js(node),
            js(client),
            js(&cs)
        ));
    } else {
        t.print(&cs);
    }
    match cs.as_str() {
        "online" => OK,
        "offline" => NORMAL_FAIL,
        "join" => 2,
        "leave" => 3,
        _ => UNKNOWN_ERROR,
    }
}

fn rscstatus(t: &mut Tool, c: &mut Client) -> i32 {
    if pacemaker_enabled(c).0 {
        t.log("Cannot get cluster resource status of a pacemaker cluster; try crm_mon");
        return NORMAL_FAIL;
    }
    let r = match c.resources() {
        Ok(r) => r,
        Err(e) => {
            t.log("Cannot get cluster resource status");
            t.log(&format!("REASON: {e}"));
            return UNKNOWN_ERROR;
        }
    };
    if t.json {
        t.print(&format!("{{\"resources\":{}}}", js(&r)));
    } else if t.human {
        t.print(&format!("This node is holding {r} resources."));
    } else {
        t.print(&r);
    }
    OK
}

fn hbparameter(t: &mut Tool, c: &mut Client, sub: &[String], optstr: &str) -> i32 {
    let mut pname: Option<String> = None;
    if own_opts(t, sub, optstr, |o, a| {
        if o == 'p' {
            if let Some(a) = a {
                pname = Some(a);
            }
        }
    })
    .is_none()
    {
        return PARAMETER_ERROR;
    }
    let Some(pname) = pname else {
        t.log("parameter name required");
        return PARAMETER_ERROR;
    };
    let v = match c.parameter(&pname) {
        Ok(Some(v)) => v,
        Ok(None) => {
            t.log(&format!("Cannot get parameter {pname}'s value"));
            t.log("REASON: ");
            return NORMAL_FAIL;
        }
        Err(e) => {
            t.log(&format!("Cannot get parameter {pname}'s value"));
            t.log(&format!("REASON: {e}"));
            return NORMAL_FAIL;
        }
    };
    if t.json {
        t.print(&format!("{{\"name\":{},\"value\":{}}}", js(&pname), js(&v)));
    } else if t.human {
        t.print(&format!("Heartbeat parameter {pname}'s value: {v}"));
    } else {
        t.print(&v);
    }
    OK
}

fn test(t: &mut Tool, c: &mut Client) -> i32 {
    let rsc = c.resources().ok();
    let info = c.info().clone();
    t.print(&format!(
        "Dead time: {}\n keeplive time: {}\n mynodeid: {}\n rsc: {}",
        info.deadtime_ms,
        info.keepalive_ms,
        info.node,
        rsc.as_deref().unwrap_or("(null)")
    ));
    OK
}

#[cfg(test)]
mod tests;
