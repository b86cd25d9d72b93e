//! A private LAN of network namespaces: a switch, N nodes and a client.
//!
//! ```text
//!  PREFIX-a eth0 ──veth── p0-a ┐                       ┌ p1-a ──veth── eth1 PREFIX-a
//!  PREFIX-b eth0 ──veth── p0-b ┤ br0 (PREFIX-sw) br1 ├ p1-b ──veth── eth1 PREFIX-b
//!  PREFIX-client eth0 ──veth── p0-client ┘             (second LAN, optional)
//! ```
//!
//! Addresses come from 198.18.0.0/15 only: node *i* (1-based) is 198.18.0.(10+i) on LAN 1 and
//! 198.19.0.(10+i) on LAN 2, the client 198.18.0.50.  No namespace has a default route and
//! nothing is created in the host's namespace (each veth pair is created inside the switch and
//! its far end moved straight into the node), so no test packet can leave.
//!
//! `PREFIX` is `hbt<pid>x<counter>`, unique per Lan, so tests run in parallel.  Dropping the
//! Lan kills every process inside its namespaces (by PID), deletes the namespaces and removes
//! the per-node trees (kept for post-mortem when `HB_TESTS_KEEP=1`).  Leftovers of a test
//! process that died without teardown (its PID no longer exists) are removed by the next Lan.

use std::net::Ipv4Addr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

use crate::error::{io_err, Error, Result};
use crate::node::{Node, EXEC_TIMEOUT};
use crate::nodefs;
use crate::prereq::{check_demo_prerequisites, check_prerequisites};
use crate::proc;
use crate::stage::{base_dir, public_base_dir, public_dir};

/// Prefix of every namespace and directory the harness creates.
const PREFIX: &str = "hbt";
/// Address of the client namespace on LAN 1.
pub const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 50);
/// Most nodes a Lan can have (node letters a..h).
pub const MAX_NODES: usize = 8;

/// Set (non-empty, not "0") to keep each Lan's node trees (configs, logs) after teardown.
pub const KEEP_ENV: &str = "HB_TESTS_KEEP";
/// File marking a kept tree, so stale-leftover cleanup leaves it alone.
const KEEP_MARKER: &str = "KEPT";

static COUNTER: AtomicUsize = AtomicUsize::new(0);
static STALE_CLEANUP: Once = Once::new();

/// Shape of a [`Lan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LanSpec {
    /// Number of nodes (1..=8).
    pub nodes: usize,
    /// Give every node an eth1 on a second bridge (198.19.0.0/24).
    pub second_lan: bool,
}

/// Where each node's `/etc/ha.d` (harc, rc.d, resource.d, shellfuncs) comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HaDir {
    /// A copy of the host's `/etc/ha.d` (the Debian heartbeat package's scripts, which the
    /// real daemon needs), without its ha.cf, authkeys and haresources.
    Host,
    /// A copy of this tree (the project's `packaging/ha.d`): a cluster of our daemon only,
    /// which needs neither the heartbeat package nor resource-agents.
    Tree(PathBuf),
}

/// Everything that shapes a [`Lan`]: its [`LanSpec`], an optional fixed name and the nodes'
/// `/etc/ha.d`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanSetup {
    /// Nodes and LANs.
    pub spec: LanSpec,
    /// A fixed prefix (e.g. `hbdemo`: namespaces `hbdemo-a`, ...) for a cluster meant to
    /// outlive this process ([`Lan::keep`]); `None`: the unique `hbt<pid>x<n>`.
    pub name: Option<String>,
    /// The nodes' `/etc/ha.d`.
    pub ha_d: HaDir,
}

/// Address of node `index` (1-based) on LAN 1.
pub fn node_ip(index: usize) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, 0, 10 + index_byte(index))
}

/// Address of node `index` (1-based) on LAN 2.
pub fn node_ip2(index: usize) -> Ipv4Addr {
    Ipv4Addr::new(198, 19, 0, 10 + index_byte(index))
}

fn index_byte(index: usize) -> u8 {
    u8::try_from(index.min(MAX_NODES)).unwrap_or(0)
}

/// Host name of node `index` (1-based): `nodea`, `nodeb`, ...
pub fn node_name(index: usize) -> String {
    format!("node{}", letter(index))
}

fn letter(index: usize) -> char {
    char::from(b'a' + index_byte(index).saturating_sub(1))
}

fn ip(args: &[&str]) -> Result<Output> {
    proc::run_ok(Command::new("ip").args(args), EXEC_TIMEOUT)
}

fn netns_inode(name: &str) -> Result<u64> {
    let path = Path::new("/run/netns").join(name);
    Ok(std::fs::metadata(&path)
        .map_err(io_err("stat", path))?
        .ino())
}

/// A test network; see the module docs.
pub struct Lan {
    prefix: String,
    dir: PathBuf,
    /// Every namespace created so far (deleted in reverse order at teardown).
    namespaces: Vec<(String, u64)>,
    nodes: Vec<Node>,
    client_ns: String,
    ha_d: HaDir,
}

impl Lan {
    /// A LAN with `nodes` nodes and a client.
    pub fn new(nodes: usize) -> Result<Lan> {
        Lan::with_spec(LanSpec {
            nodes,
            second_lan: false,
        })
    }

    /// A LAN shaped by `spec`. Checks prerequisites first (root, programs).
    pub fn with_spec(spec: LanSpec) -> Result<Lan> {
        Lan::with_setup(LanSetup {
            spec,
            name: None,
            ha_d: HaDir::Host,
        })
    }

    /// A LAN shaped by `setup`. Checks prerequisites first: with [`HaDir::Host`] everything a
    /// test against the real daemon needs, with [`HaDir::Tree`] only what our daemon needs.
    pub fn with_setup(setup: LanSetup) -> Result<Lan> {
        let spec = setup.spec;
        match &setup.ha_d {
            HaDir::Host => check_prerequisites()?,
            HaDir::Tree(tree) => {
                check_demo_prerequisites()?;
                if !tree.join("harc").is_file() {
                    return Err(Error::Invalid(format!(
                        "{} is not an ha.d tree (no harc): use the project's packaging/ha.d",
                        tree.display()
                    )));
                }
            }
        }
        if spec.nodes == 0 || spec.nodes > MAX_NODES {
            return Err(Error::Invalid(format!(
                "a Lan has 1..={MAX_NODES} nodes, not {}",
                spec.nodes
            )));
        }
        STALE_CLEANUP.call_once(cleanup_stale);
        let prefix = match &setup.name {
            Some(name) => {
                if owner_pid(name).is_some() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(Error::Invalid(format!(
                        "Lan name {name:?}: letters and digits only, not like {PREFIX}<pid>x<n>"
                    )));
                }
                if list_netns()
                    .iter()
                    .any(|n| n.starts_with(&format!("{name}-")))
                {
                    return Err(Error::Invalid(format!(
                        "a cluster named {name} exists already (namespaces {name}-*): remove it first"
                    )));
                }
                name.clone()
            }
            None => format!(
                "{PREFIX}{}x{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ),
        };
        let dir = public_base_dir()?.join(&prefix);
        let mut lan = Lan {
            ha_d: setup.ha_d.clone(),
            client_ns: format!("{prefix}-client"),
            prefix,
            dir,
            namespaces: Vec::new(),
            nodes: Vec::new(),
        };
        // On error, Drop removes whatever was built so far.
        lan.build(spec)?;
        Ok(lan)
    }

    fn build(&mut self, spec: LanSpec) -> Result<()> {
        public_dir(&self.dir)?;
        let sw = format!("{}-sw", self.prefix);
        self.add_netns(&sw)?;
        let bridges: &[&str] = if spec.second_lan {
            &["br0", "br1"]
        } else {
            &["br0"]
        };
        for br in bridges {
            ip(&[
                "-n",
                &sw,
                "link",
                "add",
                br,
                "type",
                "bridge",
                "stp_state",
                "0",
            ])?;
            ip(&[
                "-n",
                &sw,
                "link",
                "set",
                br,
                "type",
                "bridge",
                "forward_delay",
                "0",
            ])?;
            ip(&["-n", &sw, "link", "set", br, "up"])?;
        }
        for index in 1..=spec.nodes {
            let name = node_name(index);
            let ns = format!("{}-{}", self.prefix, letter(index));
            let ino = self.add_netns(&ns)?;
            let mac = |lan: u8| format!("02:00:c6:12:{lan:02x}:{:02x}", 10 + index_byte(index));
            self.attach(
                &sw,
                &ns,
                "eth0",
                &format!("p0-{}", letter(index)),
                "br0",
                &mac(0),
                node_ip(index),
            )?;
            let ip2 = if spec.second_lan {
                let port = format!("p1-{}", letter(index));
                self.attach(&sw, &ns, "eth1", &port, "br1", &mac(1), node_ip2(index))?;
                Some(node_ip2(index))
            } else {
                None
            };
            let root = self.dir.join(&name);
            nodefs::create(&root, &self.ha_d)?;
            self.nodes
                .push(Node::new(name, ns, ino, node_ip(index), ip2, root));
        }
        let client = self.client_ns.clone();
        self.add_netns(&client)?;
        self.attach(
            &sw,
            &client,
            "eth0",
            "p0-client",
            "br0",
            "02:00:c6:12:00:32",
            CLIENT_IP,
        )?;
        Ok(())
    }

    /// Creates a quiet namespace: loopback up, no IPv6 (no router/MLD noise), no routes.
    fn add_netns(&mut self, name: &str) -> Result<u64> {
        ip(&["netns", "add", name])?;
        let ino = netns_inode(name)?;
        self.namespaces.push((name.to_string(), ino));
        let script = "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; \
                      echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; \
                      echo 0 > /proc/sys/net/ipv4/ip_forward";
        proc::run_ok(
            Command::new("ip").args(["netns", "exec", name, "sh", "-c", script]),
            EXEC_TIMEOUT,
        )?;
        ip(&["-n", name, "link", "set", "lo", "up"])?;
        Ok(ino)
    }

    /// Creates a veth pair inside the switch and moves its `ifname` end into `ns`.
    #[allow(clippy::too_many_arguments)]
    fn attach(
        &self,
        sw: &str,
        ns: &str,
        ifname: &str,
        port: &str,
        bridge: &str,
        mac: &str,
        addr: Ipv4Addr,
    ) -> Result<()> {
        ip(&[
            "-n", sw, "link", "add", port, "type", "veth", "peer", "name", ifname, "netns", ns,
        ])?;
        ip(&["-n", sw, "link", "set", port, "master", bridge, "up"])?;
        ip(&["-n", ns, "link", "set", ifname, "address", mac])?;
        ip(&[
            "-n",
            ns,
            "addr",
            "add",
            &format!("{addr}/24"),
            "brd",
            "+",
            "dev",
            ifname,
        ])?;
        ip(&["-n", ns, "link", "set", ifname, "up"])?;
        Ok(())
    }

    /// The unique prefix of this Lan's namespaces.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// All nodes, in order (`nodea` first).
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Node `i` (0-based: `node(0)` is `nodea`). Panics if out of range (a test bug).
    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    /// The node with host name `name`.
    pub fn by_name(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name() == name)
    }

    /// Host names of all nodes (for [`crate::ConfigBuilder::new`]).
    pub fn node_names(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.name().to_string()).collect()
    }

    /// Name of the client's network namespace.
    pub fn client_netns(&self) -> &str {
        &self.client_ns
    }

    /// Runs a command in the client namespace (e.g. `ping -c1 198.18.0.100`).
    pub fn client_exec(&self, args: &[&str]) -> Result<Output> {
        proc::run_bounded(
            Command::new("ip")
                .args(["netns", "exec", &self.client_ns])
                .args(args),
            EXEC_TIMEOUT,
        )
    }

    /// The directory holding this Lan's node trees (`/var/tmp/hb-tests/<prefix>`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Leaves the cluster running after this process ends: no teardown now (the node trees
    /// are marked kept); [`Lan::remove_named`] removes it later. Meant for a named Lan.
    pub fn keep(self) {
        let _ = std::fs::write(self.dir.join(KEEP_MARKER), "kept running\n");
        std::mem::forget(self);
    }

    /// Removes a cluster left by [`Lan::keep`]: kills every process in the namespaces
    /// `NAME-*` (by PID), deletes them and removes the node trees. Returns whether there was
    /// anything to remove.
    pub fn remove_named(name: &str) -> Result<bool> {
        crate::prereq::require_root()?;
        if name.is_empty() || owner_pid(name).is_some() {
            return Err(Error::Invalid(format!("not a named Lan: {name:?}")));
        }
        let mut found = false;
        for ns in list_netns()
            .into_iter()
            .filter(|n| n.starts_with(&format!("{name}-")))
        {
            found = true;
            if let Ok(ino) = netns_inode(&ns) {
                let survivors = proc::kill_netns(ino);
                if !survivors.is_empty() {
                    eprintln!("hb-tests: {ns}: processes survived SIGKILL: {survivors:?}");
                }
            }
            ip(&["netns", "delete", &ns])?;
        }
        let dir = base_dir().join(name);
        if dir.exists() {
            found = true;
            std::fs::remove_dir_all(&dir).map_err(io_err("remove", &dir))?;
        }
        Ok(found)
    }

    /// Names of this Lan's namespaces that exist right now.
    pub fn existing_namespaces(&self) -> Vec<String> {
        list_netns()
            .into_iter()
            .filter(|n| n.starts_with(&format!("{}-", self.prefix)))
            .collect()
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for node in &self.nodes {
            let survivors = node.teardown();
            if !survivors.is_empty() {
                eprintln!(
                    "hb-tests: {} processes survived SIGKILL: {survivors:?}",
                    node.name()
                );
            }
        }
        for (name, ino) in self.namespaces.iter().rev() {
            proc::kill_netns(*ino);
            if let Err(e) = ip(&["netns", "delete", name]) {
                eprintln!("hb-tests: teardown: {e}");
            }
        }
        proc::reap_orphans();
        if std::env::var_os(KEEP_ENV).is_some_and(|v| !v.is_empty() && v != "0") {
            let _ = std::fs::write(self.dir.join(KEEP_MARKER), "kept for post-mortem\n");
            eprintln!(
                "hb-tests: {KEEP_ENV} set: node trees and logs kept in {}",
                self.dir.display()
            );
        } else if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("hb-tests: teardown: remove {}: {e}", self.dir.display());
        }
    }
}

/// Names in `/run/netns`.
fn list_netns() -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/run/netns") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect()
}

/// The PID encoded in a harness prefix (`hbt<pid>x<n>...`), if `name` is one.
fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?;
    let (pid, tail) = rest.split_once('x')?;
    tail.chars().next().filter(char::is_ascii_digit)?;
    pid.parse().ok()
}

/// Removes namespaces and trees left by harness processes that no longer exist.
fn cleanup_stale() {
    let dead = |name: &str| {
        owner_pid(name).is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
    };
    for name in list_netns().into_iter().filter(|n| dead(n)) {
        if let Ok(ino) = netns_inode(&name) {
            proc::kill_netns(ino);
        }
        let _ = ip(&["netns", "delete", &name]);
    }
    if let Ok(dir) = std::fs::read_dir(base_dir()) {
        for entry in dir.flatten() {
            let kept = entry.path().join(KEEP_MARKER).exists();
            if !kept && entry.file_name().to_str().is_some_and(dead) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_addresses_follow_the_plan() {
        assert_eq!(node_name(1), "nodea");
        assert_eq!(node_name(8), "nodeh");
        assert_eq!(node_ip(1), Ipv4Addr::new(198, 18, 0, 11));
        assert_eq!(node_ip2(2), Ipv4Addr::new(198, 19, 0, 12));
    }

    #[test]
    fn owner_pid_parses_only_harness_names() {
        assert_eq!(owner_pid("hbt1234x0-sw"), Some(1234));
        assert_eq!(owner_pid("hbt1234x12"), Some(1234));
        assert_eq!(owner_pid("hbl-nodeA"), None);
        assert_eq!(owner_pid("hbtx0-sw"), None);
        assert_eq!(owner_pid("hbt12x-sw"), None);
    }
}
