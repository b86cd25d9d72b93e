//! The cluster model every output is rendered from, and how it is built
//! from the parsed configuration.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::str::FromStr;

use hb_config::{AutoFailback, Medium};

use crate::agents::{self, Mapping};
use crate::error::ExportError;
use crate::report::{self, Item, ReportSection};
use crate::{Host, Source};

/// knet's link limit.
pub const MAX_LINKS: usize = 8;
/// Score of a group's location preference for its haresources node.
pub const HOME_SCORE: u32 = 100;
/// Per-resource stickiness for `auto_failback off`: any group's sum
/// (Pacemaker adds its members' stickiness) exceeds [`HOME_SCORE`].
pub const OFF_STICKINESS: u32 = 200;

/// A `--addr NODE:IFACE=IP` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrOverride {
    /// Node name (any case).
    pub node: String,
    /// Heartbeat interface.
    pub iface: String,
    /// Address of the node on that interface.
    pub addr: IpAddr,
    /// The flag as given.
    pub text: String,
}

impl FromStr for AddrOverride {
    type Err = ExportError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || ExportError::BadAddrFlag { text: text.into() };
        let (node, rest) = text.split_once(':').ok_or_else(bad)?;
        let (iface, ip) = rest.split_once('=').ok_or_else(bad)?;
        if node.is_empty() || iface.is_empty() {
            return Err(bad());
        }
        Ok(AddrOverride {
            node: node.to_ascii_lowercase(),
            iface: iface.into(),
            addr: ip.parse().map_err(|_| bad())?,
            text: text.into(),
        })
    }
}

/// Whether a directive or resource was carried over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Same behaviour in Pacemaker/Corosync.
    Mapped,
    /// Carried over with a difference the note explains.
    Approximated,
    /// Not carried over; the note says why and what to do.
    NotMapped,
}

/// One knet link: a heartbeat interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// knet link number (0..8).
    pub number: u8,
    /// Heartbeat interface name.
    pub iface: String,
    /// ha.cf lines of the media on this interface.
    pub lines: Vec<usize>,
}

/// A node of the nodelist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpec {
    /// Node name (lower-cased, as heartbeat uses it).
    pub name: String,
    /// nodeid (1-based, ha.cf `node` order).
    pub id: u32,
    /// One address per link, with where it came from.
    pub addrs: Vec<(IpAddr, String)>,
}

/// A resource operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// `monitor`, `start`, `stop`.
    pub name: &'static str,
    /// Interval in seconds (0 for start/stop).
    pub interval_s: u32,
    /// Timeout in seconds.
    pub timeout_s: u32,
}

impl Op {
    /// The operation's id inside a primitive (pcs style).
    pub fn id(&self, rsc: &str) -> String {
        format!("{rsc}-{}-interval-{}s", self.name, self.interval_s)
    }
}

/// A Pacemaker primitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Primitive {
    /// Resource id.
    pub id: String,
    /// `ocf`, `lsb`, `systemd`, `stonith`.
    pub class: String,
    /// OCF provider.
    pub provider: Option<String>,
    /// Agent name.
    pub agent: String,
    /// Instance attributes in order.
    pub params: Vec<(String, String)>,
    /// Operations.
    pub ops: Vec<Op>,
}

impl Primitive {
    /// `class:provider:agent` / `class:agent`.
    pub fn spec(&self) -> String {
        match &self.provider {
            Some(p) => format!("{}:{p}:{}", self.class, self.agent),
            None => format!("{}:{}", self.class, self.agent),
        }
    }
}

/// One haresources line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Group id.
    pub id: String,
    /// Preferred (home) node.
    pub home: String,
    /// haresources line.
    pub line: usize,
    /// Members, started in this order and stopped in reverse.
    pub members: Vec<Primitive>,
}

/// The `ocf:pacemaker:ping` clone that replaces ping nodes (and ipfail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingClone {
    /// Clone id.
    pub clone_id: String,
    /// The ping primitive.
    pub primitive: Primitive,
    /// ipfail was respawned: groups get a location rule on `pingd`.
    pub ipfail: bool,
}

/// A fencing device from a `stonith_host` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// The stonith primitive.
    pub primitive: Primitive,
    /// Nodes that may not run/use it (the line named one host).
    pub banned: Vec<String>,
    /// ha.cf line.
    pub line: usize,
}

/// How `auto_failback` became stickiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StickinessPlan {
    /// `resource-stickiness` default of every resource.
    pub per_resource: u32,
    /// Location score of a group for its home node.
    pub home_score: u32,
}

/// The whole exported cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// Cluster name (ha.cf `cluster`).
    pub name: String,
    /// Nodes in ha.cf order.
    pub nodes: Vec<NodeSpec>,
    /// knet links.
    pub links: Vec<Link>,
    /// totem token (ms) = deadtime.
    pub token_ms: u64,
    /// totem token_warning (percent of token) from warntime.
    pub token_warning_pct: u64,
    /// `dc-deadtime` (ms) = initdead.
    pub dc_deadtime_ms: u64,
    /// Stickiness and home score.
    pub stickiness: StickinessPlan,
    /// Resource groups.
    pub groups: Vec<Group>,
    /// Ping clone, when ha.cf has ping nodes.
    pub ping: Option<PingClone>,
    /// Fencing devices.
    pub fences: Vec<Fence>,
    /// The migration report.
    pub report: Vec<ReportSection>,
}

impl Cluster {
    /// `stonith-enabled`: true only when a fencing device was exported.
    pub fn stonith_enabled(&self) -> bool {
        !self.fences.is_empty()
    }

    /// Whether votequorum's `two_node` applies.
    pub fn two_node(&self) -> bool {
        self.nodes.len() == 2
    }

    /// Cluster properties in order.
    pub fn properties(&self) -> Vec<(String, String)> {
        vec![
            ("stonith-enabled".into(), self.stonith_enabled().to_string()),
            ("dc-deadtime".into(), duration(self.dc_deadtime_ms)),
        ]
    }

    /// Every primitive id, in CIB order.
    pub fn primitive_ids(&self) -> Vec<&str> {
        let groups = self.groups.iter().flat_map(|g| &g.members);
        let ping = self.ping.iter().map(|p| &p.primitive);
        let fences = self.fences.iter().map(|f| &f.primitive);
        groups
            .chain(ping)
            .chain(fences)
            .map(|p| p.id.as_str())
            .collect()
    }
}

/// A duration for Pacemaker: whole seconds as `Ns`, else `Nms`.
pub fn duration(ms: u64) -> String {
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// `text` with every character other than an ASCII letter, digit, `_` or
/// `-` replaced by `with`.
fn keep_id_chars(text: &str, with: char) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                with
            }
        })
        .collect()
}

/// Pacemaker/XML id: ASCII letters, digits, `_` and `-` (anything else,
/// `.` included, becomes one `_`); never starting with anything but a letter.
pub(crate) fn sanitize_id(text: &str) -> String {
    let mut id = keep_id_chars(text, '_');
    while id.contains("__") {
        id = id.replace("__", "_");
    }
    let trimmed = id.trim_matches('_').to_string();
    id = if trimmed.is_empty() {
        "rsc".into()
    } else {
        trimmed
    };
    if !id.starts_with(|c: char| c.is_ascii_alphabetic()) {
        id.insert_str(0, "r_");
    }
    id
}

/// Ids stay unique: a second `ip_10_0_0_1` becomes `ip_10_0_0_1-2`.
#[derive(Default)]
pub(crate) struct Ids(BTreeSet<String>);

impl Ids {
    pub(crate) fn take(&mut self, base: &str) -> String {
        let base = sanitize_id(base);
        let mut id = base.clone();
        let mut n = 2;
        while self.0.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        self.0.insert(id.clone());
        id
    }
}

pub(crate) fn build(src: &Source<'_>, host: &dyn Host) -> Result<Cluster, Vec<ExportError>> {
    let hacf = src.hacf;
    let mut errors = Vec::new();
    let links = links(src).map_err(|e| vec![e])?;
    check_overrides(src, &links, &mut errors);
    let nodes = nodes(src, host, &links, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut ids = Ids::default();
    let mut res_items = Vec::new();
    let mut groups = Vec::new();
    for (n, line) in src.resources.iter().enumerate() {
        let mut members = Vec::new();
        let mut line_items = Vec::new();
        for res in &line.resources {
            match agents::map(res, host) {
                Mapping::To {
                    mut prim,
                    status,
                    note,
                } => {
                    prim.id = ids.take(&prim.id);
                    line_items.push(Item::new(
                        src.haresources_path,
                        Some(line.line),
                        &res.text,
                        status,
                        format!("{} {}; {note}", prim.id, prim.spec()),
                    ));
                    members.push(prim);
                }
                Mapping::None { reason } => line_items.push(Item::new(
                    src.haresources_path,
                    Some(line.line),
                    &res.text,
                    Status::NotMapped,
                    reason,
                )),
            }
        }
        if members.is_empty() {
            res_items.push(Item::new(
                src.haresources_path,
                Some(line.line),
                &line.text,
                Status::NotMapped,
                "no resource of this line could be exported, so no group was created".into(),
            ));
            res_items.extend(line_items);
            continue;
        }
        let id = ids.take(&format!("group_{}", n + 1));
        res_items.push(Item::new(
            src.haresources_path,
            Some(line.line),
            &line.text,
            Status::Mapped,
            format!(
                "group {id} ({} member(s), started left to right and stopped in reverse, \
                 as haresources), preferred node {} (location score {HOME_SCORE})",
                members.len(),
                line.node
            ),
        ));
        res_items.extend(line_items);
        groups.push(Group {
            id,
            home: line.node.clone(),
            line: line.line,
            members,
        });
    }

    let max_members = groups.iter().map(|g| g.members.len()).max().unwrap_or(1);
    let stickiness = StickinessPlan {
        per_resource: match hacf.auto_failback {
            AutoFailback::Off => OFF_STICKINESS,
            AutoFailback::On | AutoFailback::Legacy => 0,
        },
        home_score: HOME_SCORE,
    };
    let ping = ping_clone(src, &mut ids, max_members);
    let (fences, fence_items) = fences(src, host, &nodes, &mut ids);

    let warn = hacf.warntime_ms.saturating_mul(100) / hacf.deadtime_ms.max(1);
    let mut cluster = Cluster {
        name: cluster_name(&hacf.cluster),
        nodes,
        links,
        token_ms: hacf.deadtime_ms,
        token_warning_pct: if warn >= 100 { 0 } else { warn.max(1) },
        dc_deadtime_ms: hacf.initdead_ms,
        stickiness,
        groups,
        ping,
        fences,
        report: Vec::new(),
    };
    cluster.report = report::sections(src, &cluster, res_items, fence_items, &host.rc_hooks());
    Ok(cluster)
}

pub(crate) fn cluster_name(name: &str) -> String {
    let clean = keep_id_chars(name, '-');
    if clean.is_empty() {
        "linux-ha".into()
    } else {
        clean
    }
}

/// The network interfaces of the media, in ha.cf order, at most 8.
fn links(src: &Source<'_>) -> Result<Vec<Link>, ExportError> {
    let mut links: Vec<Link> = Vec::new();
    for (medium, line) in src.hacf.media.iter().zip(&src.hacf.media_lines) {
        let iface = match medium {
            Medium::Bcast { iface, .. }
            | Medium::Mcast { iface, .. }
            | Medium::Ucast { iface, .. }
            | Medium::Mcast6 { iface, .. }
            | Medium::Ucast6 { iface, .. } => iface,
            _ => continue,
        };
        if let Some(link) = links.iter_mut().find(|l| &l.iface == iface) {
            link.lines.push(*line);
        } else if links.len() < MAX_LINKS {
            links.push(Link {
                number: links.len() as u8,
                iface: iface.clone(),
                lines: vec![*line],
            });
        }
    }
    if links.is_empty() {
        return Err(ExportError::NoNetworkMedium {
            file: src.hacf_path.to_path_buf(),
        });
    }
    Ok(links)
}

fn check_overrides(src: &Source<'_>, links: &[Link], errors: &mut Vec<ExportError>) {
    for o in src.addrs {
        if !src.hacf.nodes.contains(&o.node) {
            errors.push(ExportError::AddrUnknownNode {
                text: o.text.clone(),
                node: o.node.clone(),
                known: src.hacf.nodes.join(", "),
            });
        } else if !links.iter().any(|l| l.iface == o.iface) {
            errors.push(ExportError::AddrUnknownInterface {
                text: o.text.clone(),
                iface: o.iface.clone(),
                links: links
                    .iter()
                    .map(|l| l.iface.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
}

fn nodes(
    src: &Source<'_>,
    host: &dyn Host,
    links: &[Link],
    errors: &mut Vec<ExportError>,
) -> Vec<NodeSpec> {
    let local = host
        .local_node()
        .map(|n| n.to_ascii_lowercase())
        .filter(|n| src.hacf.nodes.contains(n));
    let mut out = Vec::new();
    for (i, name) in src.hacf.nodes.iter().enumerate() {
        let mut addrs = Vec::new();
        for link in links {
            match address(src, host, local.as_deref(), name, link) {
                Ok(a) => addrs.push(a),
                Err(hint) => errors.push(ExportError::MissingAddress {
                    node: name.clone(),
                    link: link.number,
                    iface: link.iface.clone(),
                    hint,
                }),
            }
        }
        out.push(NodeSpec {
            name: name.clone(),
            id: i as u32 + 1,
            addrs,
        });
    }
    out
}

/// The address of `node` on `link`, with its source; `Err(hint)` when unknown.
fn address(
    src: &Source<'_>,
    host: &dyn Host,
    local: Option<&str>,
    node: &str,
    link: &Link,
) -> Result<(IpAddr, String), String> {
    if let Some(o) = src
        .addrs
        .iter()
        .find(|o| o.node == node && o.iface == link.iface)
    {
        return Ok((o.addr, format!("--addr {}", o.text)));
    }
    let local_addrs = local.map_or_else(Vec::new, |_| host.interface_addrs(&link.iface));
    if local == Some(node) {
        if let Some(a) = pick(&local_addrs) {
            return Ok((
                a,
                format!("address of this host's interface {}", link.iface),
            ));
        }
    }
    let resolved = host.resolve(node);
    let hacf = src.hacf_path.display();
    for (medium, line) in src.hacf.media.iter().zip(&src.hacf.media_lines) {
        let (Medium::Ucast { iface, peer, .. } | Medium::Ucast6 { iface, peer, .. }) = medium
        else {
            continue;
        };
        if iface != &link.iface {
            continue;
        }
        if peer.eq_ignore_ascii_case(node) {
            if let Some(a) = pick(&resolved) {
                return Ok((
                    a,
                    format!("{hacf}:{line}: ucast {iface} {peer}, name resolved"),
                ));
            }
            continue;
        }
        let Ok(ip) = peer.parse::<IpAddr>() else {
            continue;
        };
        if resolved.contains(&ip) {
            return Ok((
                ip,
                format!("{hacf}:{line}: ucast {iface} {peer}, which {node} resolves to"),
            ));
        }
        if let Some(me) = local {
            if src.hacf.nodes.len() == 2 && me != node && !local_addrs.contains(&ip) {
                return Ok((
                    ip,
                    format!("{hacf}:{line}: ucast {iface} {peer}, the peer of this host ({me})"),
                ));
            }
        }
    }
    if link.number == 0 {
        if let Some(a) = pick(&resolved) {
            return Ok((a, format!("name resolution of {node}")));
        }
        return Err(format!("{node} does not resolve"));
    }
    Err("name resolution is used for link 0 only (one name, one address)".into())
}

/// Prefer an IPv4 address (heartbeat's media are IPv4 but for the *6 ones).
fn pick(addrs: &[IpAddr]) -> Option<IpAddr> {
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
}

/// Ping nodes become one `ocf:pacemaker:ping` clone; with ipfail the
/// multiplier is chosen so that one lost ping node outweighs a group's home
/// preference and stickiness together.
fn ping_clone(src: &Source<'_>, ids: &mut Ids, max_members: usize) -> Option<PingClone> {
    let mut hosts: Vec<String> = Vec::new();
    for m in &src.hacf.media {
        match m {
            Medium::Ping { host } | Medium::Ping6 { host } => hosts.push(host.clone()),
            Medium::PingGroup { hosts: h, .. } => hosts.extend(h.iter().map(|a| a.to_string())),
            _ => {}
        }
    }
    if hosts.is_empty() {
        return None;
    }
    let ipfail = has_ipfail(src);
    let needed = u64::from(OFF_STICKINESS) * max_members as u64 + u64::from(HOME_SCORE) + 1;
    let multiplier = needed.div_ceil(1000).max(1) * 1000;
    let dampen_s = src.hacf.deadping_ms.div_ceil(1000).max(1);
    let id = ids.take("ping");
    Some(PingClone {
        clone_id: ids.take("ping-clone"),
        primitive: Primitive {
            id,
            class: "ocf".into(),
            provider: Some("pacemaker".into()),
            agent: "ping".into(),
            params: vec![
                ("host_list".into(), hosts.join(" ")),
                ("multiplier".into(), multiplier.to_string()),
                ("dampen".into(), format!("{dampen_s}s")),
            ],
            ops: vec![Op {
                name: "monitor",
                interval_s: 10,
                timeout_s: 60,
            }],
        },
        ipfail,
    })
}

/// Whether ha.cf respawns ipfail (any path ending in `/ipfail`).
pub(crate) fn has_ipfail(src: &Source<'_>) -> bool {
    src.hacf.respawn.iter().any(|r| r.path.ends_with("/ipfail"))
}

fn fences(
    src: &Source<'_>,
    host: &dyn Host,
    nodes: &[NodeSpec],
    ids: &mut Ids,
) -> (Vec<Fence>, Vec<Item>) {
    let mut fences = Vec::new();
    let mut items = Vec::new();
    let hacf_path = src.hacf_path;
    for sh in &src.hacf.stonith_host {
        // Device passwords stay out of the report (they are in cib.xml, mode 0600).
        let what = format!(
            "stonith_host {} {} <{} parameter word(s)>",
            sh.host,
            sh.stonith_type,
            sh.params.split_whitespace().count()
        );
        if sh.host != "*" && !nodes.iter().any(|n| n.name.eq_ignore_ascii_case(&sh.host)) {
            items.push(Item::new(
                hacf_path,
                Some(sh.line),
                &what,
                Status::NotMapped,
                format!(
                    "{} is not a cluster node: heartbeat ignores this line on every node",
                    sh.host
                ),
            ));
            continue;
        }
        let Some(names) = host.stonith_params(&sh.stonith_type) else {
            items.push(Item::new(
                hacf_path,
                Some(sh.line),
                &what,
                Status::NotMapped,
                format!(
                    "the cluster-glue STONITH plugin {} is not installed on this host \
                     (`stonith -t {} -n` fails): install it (cluster-glue) or configure the \
                     matching native fence_* agent{}",
                    sh.stonith_type,
                    sh.stonith_type,
                    agents::native_fence_hint(&sh.stonith_type)
                ),
            ));
            continue;
        };
        let Some(values) = agents::stonith_values(&names, &sh.params) else {
            items.push(Item::new(
                hacf_path,
                Some(sh.line),
                &what,
                Status::NotMapped,
                format!(
                    "plugin {} expects {} parameter(s) ({}), the line gives fewer",
                    sh.stonith_type,
                    names.len(),
                    names.join(" ")
                ),
            ));
            continue;
        };
        let id = ids.take(&format!("fence_{}", sh.stonith_type.replace('/', "_")));
        let mut params = vec![("plugin".to_string(), sh.stonith_type.clone())];
        params.extend(names.iter().cloned().zip(values));
        let banned: Vec<String> = if sh.host == "*" {
            Vec::new()
        } else {
            nodes
                .iter()
                .filter(|n| !n.name.eq_ignore_ascii_case(&sh.host))
                .map(|n| n.name.clone())
                .collect()
        };
        let whom = if sh.host == "*" {
            "usable from every node".to_string()
        } else {
            format!(
                "usable from {} only (location -INFINITY on the other nodes)",
                sh.host.to_ascii_lowercase()
            )
        };
        items.push(Item::new(
            hacf_path,
            Some(sh.line),
            &what,
            Status::Mapped,
            format!(
                "{id} stonith:fence_legacy plugin={} with the plugin's named parameters ({}), {whom}{}",
                sh.stonith_type,
                names.join(" "),
                agents::native_fence_hint(&sh.stonith_type)
            ),
        ));
        fences.push(Fence {
            primitive: Primitive {
                id,
                class: "stonith".into(),
                provider: None,
                agent: "fence_legacy".into(),
                params,
                ops: vec![Op {
                    name: "monitor",
                    interval_s: 60,
                    timeout_s: 60,
                }],
            },
            banned,
            line: sh.line,
        });
    }
    (fences, items)
}
