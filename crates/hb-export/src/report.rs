//! `MIGRATION.txt`: every directive and resource with its FILE:LINE and
//! whether it was mapped, approximated or not mapped (and why), the node
//! addresses and where they came from, and the switch-over steps.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use hb_config::lexer::lex;
use hb_config::AutoFailback;

use crate::model::{duration, has_ipfail, Cluster, Status};
use crate::Source;

/// One reported directive or resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// File.
    pub file: PathBuf,
    /// Line, if any.
    pub line: Option<usize>,
    /// The directive or resource as written.
    pub what: String,
    /// Outcome.
    pub status: Status,
    /// Where it went, or why not.
    pub note: String,
}

impl Item {
    pub(crate) fn new(
        file: &Path,
        line: Option<usize>,
        what: &str,
        status: Status,
        note: String,
    ) -> Item {
        Item {
            file: file.to_path_buf(),
            line,
            what: what.to_string(),
            status,
            note,
        }
    }
}

/// A titled list of items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSection {
    /// Title.
    pub title: String,
    /// Items in file order.
    pub items: Vec<Item>,
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Mapped => "mapped",
        Status::Approximated => "approximated",
        Status::NotMapped => "NOT MAPPED",
    }
}

pub(crate) fn sections(
    src: &Source<'_>,
    c: &Cluster,
    resources: Vec<Item>,
    fences: Vec<Item>,
    rc_hooks: &[PathBuf],
) -> Vec<ReportSection> {
    let mut hacf = Vec::new();
    for raw in lex(src.hacf_text) {
        let what = if raw.key == "stonith_host" || raw.key == "stonith" {
            // Never copy device credentials into the report.
            format!(
                "{} {}",
                raw.key,
                raw.args.first().map_or("", |a| a.as_str())
            )
        } else {
            format!("{} {}", raw.key, raw.args.join(" "))
        };
        let what = what.trim_end().to_string();
        let line = Some(raw.line);
        if raw.key == "stonith_host" {
            if let Some(f) = fences.iter().find(|f| f.line == line) {
                hacf.push(f.clone());
                continue;
            }
        }
        let (status, note) = hacf_directive(&raw.key, &raw.args, raw.line, src, c);
        hacf.push(Item::new(src.hacf_path, line, &what, status, note));
    }
    if src.hacf.auto_failback == AutoFailback::Legacy
        && !hacf.iter().any(|i| i.what.starts_with("auto_failback"))
    {
        let (status, note) = hacf_directive("auto_failback", &[], 0, src, c);
        hacf.push(Item::new(
            src.hacf_path,
            None,
            "(auto_failback not set: legacy)",
            status,
            note,
        ));
    }
    hacf.push(Item::new(
        src.hacf_path,
        None,
        "(fencing)",
        if c.stonith_enabled() {
            Status::Mapped
        } else {
            Status::Approximated
        },
        if c.stonith_enabled() {
            format!(
                "stonith-enabled=true: {} fencing device(s) from stonith_host lines",
                c.fences.len()
            )
        } else {
            "stonith-enabled=false: ha.cf has no usable stonith_host line, and Pacemaker \
             refuses to start resources with fencing enabled but no device. Without fencing a \
             node that stops answering is only assumed dead (as in heartbeat): configure a \
             fence device (fence_* or sbd) and set stonith-enabled=true for production"
                .into()
        },
    ));
    let mut auth = Vec::new();
    for (i, text) in src.authkeys_text.split('\n').enumerate() {
        let t = text.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (status, note) = if t.starts_with("auth") {
            (
                Status::Approximated,
                "knet encrypts and signs every packet with crypto_cipher aes256 and crypto_hash \
                 sha256 under a fresh 256-byte key (authkey in this directory); the heartbeat \
                 secret is not reused (too short for a key)"
                    .to_string(),
            )
        } else if t.split_whitespace().nth(1) == Some("crc") {
            (
                Status::NotMapped,
                "crc is a checksum, not authentication; Corosync always authenticates (aes256/sha256)"
                    .to_string(),
            )
        } else {
            (
                Status::NotMapped,
                "the key is not reused: Corosync gets a fresh random key".to_string(),
            )
        };
        // Never print the secret itself.
        let what = match t.split_whitespace().collect::<Vec<_>>().as_slice() {
            [idx, method, ..] if !t.starts_with("auth") => format!("{idx} {method} <secret>"),
            _ => t.to_string(),
        };
        auth.push(Item::new(
            src.authkeys_path,
            Some(i + 1),
            &what,
            status,
            note,
        ));
    }
    let hooks = rc_hooks
        .iter()
        .map(|path| {
            let name = path
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned());
            let (status, note) = if PACKAGED_HOOKS.contains(&name.as_str()) {
                (
                    Status::Mapped,
                    "heartbeat's own hook for its resource protocol (docs/behaviour.md §5.6): \
                     Pacemaker does this itself"
                        .to_string(),
                )
            } else {
                (
                    Status::NotMapped,
                    "custom rc.d hook: Pacemaker runs alert agents on node and resource events \
                     instead (pcs alert create path=SCRIPT / crm configure alert); rewrite it as \
                     one"
                    .to_string(),
                )
            };
            Item::new(path, None, &name, status, note)
        })
        .collect();
    vec![
        ReportSection {
            title: format!("{}", src.hacf_path.display()),
            items: hacf,
        },
        ReportSection {
            title: "rc.d event hooks".into(),
            items: hooks,
        },
        ReportSection {
            title: format!("{}", src.authkeys_path.display()),
            items: auth,
        },
        ReportSection {
            title: format!("{}", src.haresources_path.display()),
            items: resources,
        },
    ]
}

/// The hooks Debian's heartbeat package installs in `/etc/ha.d/rc.d`.
const PACKAGED_HOOKS: &[&str] = &[
    "ask_resources",
    "hb_takeover",
    "ip-request",
    "ip-request-resp",
    "status",
];

fn link_of(c: &Cluster, line: usize) -> Option<&crate::model::Link> {
    c.links.iter().find(|l| l.lines.contains(&line))
}

fn hacf_directive(
    key: &str,
    args: &[String],
    line: usize,
    src: &Source<'_>,
    c: &Cluster,
) -> (Status, String) {
    use Status::{Approximated as A, Mapped as M, NotMapped as N};
    let hacf = src.hacf;
    let none = |why: &str| (N, why.to_string());
    match key {
        "node" => (
            M,
            args.iter()
                .filter_map(|a| c.nodes.iter().find(|n| n.name == a.to_ascii_lowercase()))
                .map(|n| format!("nodelist: {} nodeid {}", n.name, n.id))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        "keepalive" => (
            A,
            format!(
                "no separate interval: knet pings derive from the token timeout \
                 ({} ms); keepalive was {} ms",
                c.token_ms, hacf.keepalive_ms
            ),
        ),
        "deadtime" => (M, format!("totem token: {} ms", c.token_ms)),
        "warntime" => (
            M,
            format!(
                "totem token_warning: {} (% of the token timeout)",
                c.token_warning_pct
            ),
        ),
        "initdead" => (
            A,
            format!(
                "Pacemaker dc-deadtime={} (how long a starting node waits for the others){}",
                duration(c.dc_deadtime_ms),
                if c.two_node() {
                    "; votequorum two_node implies wait_for_all: after a cold start both nodes \
                     must have been seen once before resources start (heartbeat started them \
                     alone after initdead)"
                } else {
                    "; votequorum needs a majority of nodes before resources start (heartbeat \
                     started them alone after initdead)"
                }
            ),
        ),
        "udpport" => (
            A,
            format!(
                "heartbeat used UDP {}; knet uses UDP 5405 (open it in the firewall)",
                hacf.udpport
            ),
        ),
        "bcast" | "udp" | "mcast" | "ucast" | "mcast6" | "ucast6" => {
            let iface = args.first().map(String::as_str).unwrap_or("");
            match link_of(c, line) {
                Some(l) => (
                    if key.starts_with("ucast") { M } else { A },
                    format!(
                        "knet link {} on {iface}{}",
                        l.number,
                        if key.starts_with("ucast") {
                            ""
                        } else {
                            " (knet is unicast between the nodelist addresses: no broadcast or \
                             multicast traffic)"
                        }
                    ),
                ),
                None => none("knet has at most 8 links: this interface is beyond the 8th"),
            }
        }
        "serial" => none(
            "knet has no serial transport: replace the serial cable by a second network link \
             (a crossover cable with addresses, then --addr NODE:IFACE=IP)",
        ),
        "baud" => none("serial links are not exported"),
        "ping" | "ping6" | "ping_group" => match &c.ping {
            Some(p) => (
                if key == "ping_group" { A } else { M },
                format!(
                    "ocf:pacemaker:ping clone {} (host_list){}{}",
                    p.clone_id,
                    if key == "ping_group" {
                        "; each member counts separately (heartbeat counted the group as one \
                         ping node answered by any member)"
                    } else {
                        ""
                    },
                    if p.ipfail {
                        "; with ipfail: location rules on the pingd attribute"
                    } else {
                        "; without ipfail heartbeat only reported ping nodes: the pingd \
                         attribute is set but no rule moves resources"
                    }
                ),
            ),
            None => none("no ping host"),
        },
        "deadping" => (
            A,
            format!(
                "ping agent dampen={}s (attribute changes wait that long)",
                hacf.deadping_ms.div_ceil(1000).max(1)
            ),
        ),
        "respawn" | "failfast" => {
            let cmd = args.join(" ");
            if cmd
                .split_whitespace()
                .nth(1)
                .is_some_and(|p| p.ends_with("/ipfail"))
                && has_ipfail(src)
            {
                match &c.ping {
                    Some(_) => (
                        A,
                        "ipfail becomes a location rule per group on the pingd attribute \
                         (score-attribute=pingd): a node that reaches fewer ping nodes loses \
                         the groups to one that reaches more, as ipfail did; when both reach \
                         as many, the home preference and stickiness decide"
                            .into(),
                    ),
                    None => none("ipfail without ping nodes has nothing to do"),
                }
            } else {
                none(
                    "Pacemaker does not respawn arbitrary programs: run it as a systemd service \
                     or as an ocf:heartbeat:anything resource (failfast: use sbd or a watchdog)",
                )
            }
        }
        "auto_failback" => match hacf.auto_failback {
            AutoFailback::On => (
                M,
                format!(
                    "resource-stickiness=0 and a location score {} for the home node: groups \
                     move back when their node returns",
                    c.stickiness.home_score
                ),
            ),
            AutoFailback::Off => (
                M,
                format!(
                    "resource-stickiness={} per resource (a group sums its members) over a home \
                     score of {}: groups stay where they run",
                    c.stickiness.per_resource, c.stickiness.home_score
                ),
            ),
            AutoFailback::Legacy => (
                A,
                "legacy behaves like auto_failback on here (resource-stickiness=0); its \
                 both-nodes-starting rules have no Pacemaker equivalent"
                    .into(),
            ),
        },
        "stonith_host" => none("see above"),
        "stonith" => none(
            "the device parameters are in a separate file: create the device by hand with \
             `pcs stonith create NAME fence_legacy plugin=TYPE NAME=VALUE...` (or a native fence_* \
             agent)",
        ),
        "watchdog" => none("use sbd (with a watchdog device) for self-fencing"),
        "cluster" => (M, format!("totem cluster_name: {}", c.name)),
        "logfile" | "debugfile" | "logfacility" | "use_logd" | "debug" => (
            A,
            "Corosync logs to /var/log/corosync/corosync.log and syslog, Pacemaker to \
             /var/log/pacemaker/pacemaker.log (PCMK_logfile, PCMK_logfacility, PCMK_debug in \
             /etc/default/pacemaker)"
                .into(),
        ),
        "crm" | "pacemaker" => (
            M,
            "this export is the switch to Pacemaker (heartbeat's own CRM mode is gone)".into(),
        ),
        "apiauth" => none(
            "the heartbeat client API does not exist in Corosync/Pacemaker: grant access with \
             Pacemaker ACLs or the haclient group",
        ),
        "realtime" | "rtprio" => none("Corosync always runs with realtime priority"),
        "env" => none(
            "HA_* variables for resource scripts: set them as resource parameters or in the \
             service's environment",
        ),
        "autojoin" => none("nodes are listed in corosync.conf's nodelist"),
        _ => none("no Corosync/Pacemaker equivalent (heartbeat internal setting)"),
    }
}

pub(crate) fn render(c: &Cluster) -> String {
    let mut s = String::new();
    s.push_str(
        "Moving this heartbeat cluster to Corosync 3 + Pacemaker 2\n\
         ==========================================================\n\n\
         Generated by heartbeat --export-pacemaker. Files in this directory:\n\
         \x20 corosync.conf     /etc/corosync/corosync.conf on every node\n\
         \x20 authkey           /etc/corosync/authkey on every node (root, mode 0400): a fresh random\n\
         \x20                   key; to make your own instead run `corosync-keygen` on one node and\n\
         \x20                   copy /etc/corosync/authkey to the others\n\
         \x20 cib.xml           the Pacemaker configuration (cibadmin --replace --xml-file cib.xml)\n\
         \x20 pcs-commands.sh   the same configuration as pcs commands\n\
         \x20 crm-commands.txt  the same configuration as crm shell commands\n\n",
    );
    s.push_str("Node addresses (one per knet link)\n----------------------------------\n");
    for n in &c.nodes {
        for (link, (addr, source)) in c.links.iter().zip(&n.addrs) {
            let _ = writeln!(
                s,
                "  {} link {} ({}): {addr}  from {source}",
                n.name, link.number, link.iface
            );
        }
    }
    s.push_str("\nDirectives and resources\n------------------------\n");
    for sec in &c.report {
        let _ = writeln!(s, "\n{}:", sec.title);
        if sec.items.is_empty() {
            s.push_str("  (none)\n");
        }
        for it in &sec.items {
            let loc = match it.line {
                Some(l) => format!("{}:{l}", it.file.display()),
                None => format!("{}", it.file.display()),
            };
            let _ = writeln!(
                s,
                "  {loc}: {}\n      {}: {}",
                it.what,
                status_word(it.status),
                it.note
            );
        }
    }
    let counts = |st: Status| {
        c.report
            .iter()
            .flat_map(|r| &r.items)
            .filter(|i| i.status == st)
            .count()
    };
    let _ = writeln!(
        s,
        "\nSummary: {} mapped, {} approximated, {} not mapped.",
        counts(Status::Mapped),
        counts(Status::Approximated),
        counts(Status::NotMapped)
    );
    s.push_str(SWITCH_OVER);
    s
}

const SWITCH_OVER: &str = "
Switching a running cluster over (shortest outage)
--------------------------------------------------
Heartbeat (UDP 694) and Corosync (UDP 5405) can run side by side, so the new cluster
is formed while heartbeat still serves; the outage is one stop of the resources on the
active node plus one start under Pacemaker (seconds).

 1. On every node: apt-get install corosync pacemaker pacemaker-cli-utils resource-agents
    (plus pcs or crmsh if you want them); make sure corosync and pacemaker are not running
    yet (systemctl stop pacemaker corosync). Install corosync.conf and authkey as above and
    run `corosync -t` on each node. Run `crm_verify --xml-file cib.xml` once.
 2. On every node: systemctl start corosync pacemaker. Wait until `crm_mon -1` lists every
    node online (the CIB is still empty: Pacemaker manages nothing yet).
 3. On every node that holds no resources: systemctl stop heartbeat.
 4. On the node(s) holding resources: systemctl stop heartbeat (the outage begins: heartbeat
    stops its resources), then at once on any node:
        cibadmin --replace --xml-file cib.xml      (or: sh pcs-commands.sh / crm -f crm-commands.txt)
    Pacemaker starts every group on its home node (the outage ends). Check with crm_mon -1.
 5. On every node: systemctl disable heartbeat; systemctl enable corosync pacemaker.

Rollback until step 5: systemctl stop pacemaker corosync on every node, then systemctl start
heartbeat on every node.
";
