//! Corosync + Pacemaker in a [`Node`]: the output of `heartbeat --export-pacemaker` and a
//! private tree for the cluster stack (issue 16).
//!
//! [`export_pacemaker`] runs our `heartbeat --export-pacemaker` on a configuration directory
//! and returns the files ([`Exported`]), with the primitives of `cib.xml` read back
//! ([`CibPrimitive`]). [`PcmkNode`] gives a node the directories the stack writes to, each its
//! own: `/etc/corosync`, `/var/lib/corosync`, `/var/lib/pacemaker`, `/dev/shm` (libqb's IPC
//! rings) bind-mounted for every command run through it, plus `/run/crm`,
//! `/var/log/pacemaker` and `/var/log/corosync` in the node's own `/run` and `/var/log`.
//! `corosync -f` and `pacemakerd` are started directly (no systemd) and stopped by PID.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use crate::daemon::Daemon;
use crate::error::{io_err, Result};
use crate::node::Node;
use crate::prereq::hacluster_ids;
use crate::proc;

/// Directories bind-mounted over the host's for Corosync/Pacemaker commands of a node
/// (name under the node's `pcmk/` tree, path inside the node, mode, owned by hacluster).
const PCMK_DIRS: &[(&str, &str, u32, bool)] = &[
    ("etc-corosync", "/etc/corosync", 0o755, false),
    ("var-lib-corosync", "/var/lib/corosync", 0o755, false),
    ("var-lib-pacemaker", "/var/lib/pacemaker", 0o755, false),
    ("dev-shm", "/dev/shm", 0o1777, false),
];

/// Subdirectories of `/var/lib/pacemaker` (hacluster:haclient 0750, as the package ships them).
const PCMK_LIB: &[&str] = &["cib", "pengine", "blackbox", "cores"];

/// The files written by `heartbeat --export-pacemaker`.
#[derive(Debug, Clone)]
pub struct Exported {
    /// Output directory.
    pub dir: PathBuf,
    /// `cib.xml`.
    pub cib: String,
    /// `corosync.conf`.
    pub corosync_conf: String,
    /// `MIGRATION.txt`.
    pub migration: String,
    /// `pcs-commands.sh`.
    pub pcs: String,
    /// `crm-commands.txt`.
    pub crm: String,
}

/// A primitive of `cib.xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CibPrimitive {
    /// Resource id.
    pub id: String,
    /// `ocf`, `lsb`, `systemd`, `stonith`.
    pub class: String,
    /// OCF provider.
    pub provider: Option<String>,
    /// Agent.
    pub agent: String,
    /// Instance attributes.
    pub params: Vec<(String, String)>,
}

impl CibPrimitive {
    /// `class:provider:agent` or `class:agent`.
    pub fn spec(&self) -> String {
        match &self.provider {
            Some(p) => format!("{}:{p}:{}", self.class, self.agent),
            None => format!("{}:{}", self.class, self.agent),
        }
    }
}

/// The value of `name="..."` in an XML start tag.
fn xml_attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(
        tag[start..end]
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

impl Exported {
    /// Every `<primitive>` of cib.xml with its instance attributes.
    pub fn primitives(&self) -> Vec<CibPrimitive> {
        cib_primitives(&self.cib)
    }
}

/// Every `<primitive>` of a CIB text with its instance attributes, in document order (the
/// exporter and Pacemaker's tools write one element per line).
pub fn cib_primitives(cib: &str) -> Vec<CibPrimitive> {
    let mut out: Vec<CibPrimitive> = Vec::new();
    let mut in_attrs = false;
    for line in cib.lines().map(str::trim) {
        if line.starts_with("<primitive ") {
            out.push(CibPrimitive {
                id: xml_attr(line, "id").unwrap_or_default(),
                class: xml_attr(line, "class").unwrap_or_default(),
                provider: xml_attr(line, "provider"),
                agent: xml_attr(line, "type").unwrap_or_default(),
                params: Vec::new(),
            });
        } else if line.starts_with("<instance_attributes ") {
            in_attrs = true;
        } else if line.starts_with("</instance_attributes>") {
            in_attrs = false;
        } else if in_attrs && line.starts_with("<nvpair ") {
            if let (Some(p), Some(n), Some(v)) = (
                out.last_mut(),
                xml_attr(line, "name"),
                xml_attr(line, "value"),
            ) {
                p.params.push((n, v));
            }
        }
    }
    out
}

/// Runs a command on the host, bounded (the harness reaps unregistered children, so tests
/// must not use `Command::output` directly once a node exists); a non-zero exit is not an error.
pub fn run_host(cmd: &mut Command, timeout: Duration) -> Result<Output> {
    proc::run_bounded(cmd, timeout)
}

/// Writes ha.cf, authkeys (0600) and haresources into `dir` (created).
pub fn write_confdir(dir: &Path, ha_cf: &str, authkeys: &str, haresources: &str) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io_err("create directory", dir))?;
    crate::nodefs::write_file(&dir.join("ha.cf"), ha_cf, 0o644)?;
    crate::nodefs::write_file(&dir.join("authkeys"), authkeys, 0o600)?;
    crate::nodefs::write_file(&dir.join("haresources"), haresources, 0o644)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(io_err("read", path))
}

/// The files of an export directory.
pub fn read_export(dir: &Path) -> Result<Exported> {
    Ok(Exported {
        dir: dir.to_path_buf(),
        cib: read(&dir.join("cib.xml"))?,
        corosync_conf: read(&dir.join("corosync.conf"))?,
        migration: read(&dir.join("MIGRATION.txt"))?,
        pcs: read(&dir.join("pcs-commands.sh"))?,
        crm: read(&dir.join("crm-commands.txt"))?,
    })
}

/// Runs our `heartbeat --export-pacemaker OUTDIR --confdir CONFDIR --addr ...` on the host.
pub fn export_pacemaker(confdir: &Path, outdir: &Path, addrs: &[String]) -> Result<Exported> {
    let ours = Daemon::ours()?;
    let mut cmd = Command::new(ours.binary());
    cmd.arg("--export-pacemaker")
        .arg(outdir)
        .arg("--confdir")
        .arg(confdir);
    for a in addrs {
        cmd.arg("--addr").arg(a);
    }
    proc::run_ok(&mut cmd, Duration::from_secs(30))?;
    read_export(outdir)
}

/// A node prepared for Corosync and Pacemaker.
pub struct PcmkNode<'a> {
    node: &'a Node,
    root: PathBuf,
    children: Mutex<Vec<Child>>,
}

impl<'a> PcmkNode<'a> {
    /// Creates the node's private Corosync/Pacemaker directories (empty).
    pub fn new(node: &'a Node) -> Result<PcmkNode<'a>> {
        let (uid, gid) = hacluster_ids()?;
        let root = node.root().join("pcmk");
        let mkdir = |path: &Path, mode: u32, hacluster: bool| -> Result<()> {
            std::fs::create_dir_all(path).map_err(io_err("create directory", path))?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                .map_err(io_err("chmod", path))?;
            if hacluster {
                std::os::unix::fs::chown(path, Some(uid), Some(gid))
                    .map_err(io_err("chown", path))?;
            }
            Ok(())
        };
        for (name, _, mode, hacluster) in PCMK_DIRS {
            mkdir(&root.join(name), *mode, *hacluster)?;
        }
        for sub in PCMK_LIB {
            mkdir(&root.join("var-lib-pacemaker").join(sub), 0o750, true)?;
        }
        mkdir(&node.host_path("/run/crm")?, 0o750, true)?;
        mkdir(&node.host_path("/var/log/pacemaker")?, 0o770, true)?;
        mkdir(&node.host_path("/var/log/corosync")?, 0o755, false)?;
        Ok(PcmkNode {
            node,
            root,
            children: Mutex::new(Vec::new()),
        })
    }

    /// The node.
    pub fn node(&self) -> &Node {
        self.node
    }

    /// Host path of the node's `/etc/corosync`.
    pub fn etc_corosync(&self) -> PathBuf {
        self.root.join("etc-corosync")
    }

    /// Installs the exported `corosync.conf` and `authkey` as `/etc/corosync/...` (0644/0400).
    pub fn install(&self, exported: &Exported) -> Result<()> {
        let etc = self.etc_corosync();
        crate::nodefs::write_file(&etc.join("corosync.conf"), &exported.corosync_conf, 0o644)?;
        let key = std::fs::read(exported.dir.join("authkey"))
            .map_err(io_err("read", exported.dir.join("authkey")))?;
        let path = etc.join("authkey");
        let _ = std::fs::remove_file(&path);
        std::fs::write(&path, key).map_err(io_err("write", &path))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400))
            .map_err(io_err("chmod", &path))
    }

    /// A command run inside the node with the Corosync/Pacemaker directories mounted.
    pub fn command<S: AsRef<str>>(&self, args: &[S]) -> Command {
        let mut script = String::from("set -e; r=$1; shift; ");
        for (name, inside, _, _) in PCMK_DIRS {
            script.push_str(&format!("mount --bind \"$r/{name}\" {inside}; "));
        }
        script.push_str("exec \"$@\"");
        let root = self.root.to_string_lossy().into_owned();
        let mut full: Vec<String> = vec!["sh".into(), "-c".into(), script, "pcmk".into(), root];
        full.extend(args.iter().map(|a| a.as_ref().to_string()));
        self.node.command(&full)
    }

    /// Runs a command in the node's stack environment (bounded; non-zero exit is not an error).
    pub fn exec<S: AsRef<str>>(&self, args: &[S], timeout: Duration) -> Result<Output> {
        proc::run_bounded(&mut self.command(args), timeout)
    }

    /// Like [`PcmkNode::exec`], returning stdout; a non-zero exit is an error.
    pub fn exec_ok<S: AsRef<str>>(&self, args: &[S]) -> Result<String> {
        let out = proc::run_ok(&mut self.command(args), Duration::from_secs(30))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Starts a long-running program of the stack (`corosync -f`, `pacemakerd`), its output
    /// appended to `/var/log/<log>` in the node.
    pub fn spawn(&self, args: &[&str], log: &str) -> Result<u32> {
        let path = self.node.host_path(&format!("/var/log/{log}"))?;
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err("open", &path))?;
        let err = out.try_clone().map_err(io_err("open", &path))?;
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = proc::spawn(&mut cmd)?;
        let pid = child.id();
        self.children
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(child);
        Ok(pid)
    }

    /// Text of a log in the node's `/var/log` (empty when missing).
    pub fn log(&self, inside: &str) -> String {
        self.node
            .host_path(inside)
            .map(|p| crate::nodefs::read_text(&p))
            .unwrap_or_default()
    }

    /// The tail of the node's Corosync and Pacemaker logs, for error messages.
    pub fn logs_tail(&self) -> String {
        let mut s = String::new();
        for log in [
            "/var/log/corosync.out",
            "/var/log/pacemakerd.out",
            "/var/log/pacemaker/pacemaker.log",
        ] {
            s.push_str(&format!(
                "--- {} {log}:\n{}\n",
                self.node.name(),
                crate::nodefs::tail(&self.log(log), 15)
            ));
        }
        s
    }
}

impl Drop for PcmkNode<'_> {
    fn drop(&mut self) {
        // The Lan kills whatever else is left in the namespace, by PID.
        let mut children = self.children.lock().unwrap_or_else(|p| p.into_inner());
        for child in children.iter_mut() {
            proc::stop_child(child);
            proc::forget(child.id());
        }
    }
}
