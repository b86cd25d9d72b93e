//! `heartbeat --export-pacemaker OUTDIR`: the I/O around `hb-export` —
//! read the configuration with the daemon's parser, answer the exporter's
//! questions about this host, generate the Corosync key, write the files.

use std::io::{Read, Write};
use std::net::{IpAddr, ToSocketAddrs};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use hb_config::{ConfigError, DeviceLookup};
use hb_export::{AddrOverride, ExportError, Host, Source, COROSYNC_KEY_BYTES};

use crate::paths::{local_node_name, Paths};
use crate::stonith_cmd::CommandLookup;
use crate::version::exit;

/// The host as the exporter sees it.
struct RealHost {
    confdir: PathBuf,
    local: String,
}

impl Host for RealHost {
    fn local_node(&self) -> Option<String> {
        Some(self.local.clone())
    }

    fn interface_addrs(&self, iface: &str) -> Vec<IpAddr> {
        let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
            return Vec::new();
        };
        addrs
            .filter(|a| a.interface_name == iface)
            .filter_map(|a| {
                let sa = a.address?;
                if let Some(v4) = sa.as_sockaddr_in() {
                    Some(IpAddr::V4(v4.ip()))
                } else {
                    sa.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
                }
            })
            .collect()
    }

    fn resolve(&self, name: &str) -> Vec<IpAddr> {
        (name, 0)
            .to_socket_addrs()
            .map(|it| it.map(|sa| sa.ip()).collect())
            .unwrap_or_default()
    }

    fn ocf_agent(&self, provider: &str, agent: &str) -> bool {
        let root = std::env::var_os("OCF_ROOT").unwrap_or_else(|| "/usr/lib/ocf".into());
        Path::new(&root)
            .join("resource.d")
            .join(provider)
            .join(agent)
            .is_file()
    }

    fn lsb_script(&self, name: &str) -> bool {
        Path::new("/etc/init.d").join(name).is_file()
    }

    fn systemd_unit(&self, name: &str) -> bool {
        let unit = format!("{name}.service");
        [
            "/etc/systemd/system",
            "/lib/systemd/system",
            "/usr/lib/systemd/system",
        ]
        .iter()
        .any(|d| Path::new(d).join(&unit).exists())
    }

    fn heartbeat_script(&self, name: &str) -> bool {
        self.confdir.join("resource.d").join(name).is_file()
    }

    fn rc_hooks(&self) -> Vec<PathBuf> {
        let Ok(dir) = std::fs::read_dir(self.confdir.join("rc.d")) else {
            return Vec::new();
        };
        let mut hooks: Vec<PathBuf> = dir
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        hooks.sort();
        hooks
    }

    fn stonith_params(&self, plugin: &str) -> Option<Vec<String>> {
        // cluster-glue's `stonith -t TYPE -n`, as `--check-config` asks it.
        let names = CommandLookup.config_names(plugin).ok().flatten()?;
        (!names.is_empty()).then_some(names)
    }
}

/// The parser's questions about the host, answered for the cluster's nodes rather than for
/// the machine the export runs on: the syntax and every value are checked exactly as the
/// daemon checks them, but an interface, a respawned program or a user that exists only on
/// the nodes does not stop the export.
struct ExportSystem;

impl hb_config::SystemLookup for ExportSystem {
    fn user(&self, name: &str) -> Option<(u32, u32)> {
        hb_config::RealSystem
            .user(name)
            .or(Some((u32::MAX, u32::MAX)))
    }
    fn group(&self, name: &str) -> Option<u32> {
        hb_config::RealSystem.group(name).or(Some(u32::MAX))
    }
    fn is_executable(&self, _path: &str) -> bool {
        true
    }
    fn udp_service_port(&self, name: &str) -> Option<u16> {
        hb_config::RealSystem.udp_service_port(name)
    }
    fn udp_service_name(&self, port: u16) -> Option<String> {
        hb_config::RealSystem.udp_service_name(port)
    }
    fn interface_exists(&self, _name: &str) -> bool {
        true
    }
    fn resolve_ipv4(&self, host: &str) -> Option<std::net::Ipv4Addr> {
        hb_config::RealSystem.resolve_ipv4(host)
    }
    fn is_dir(&self, _path: &str) -> bool {
        true
    }
}

/// Why `--export-pacemaker` wrote nothing (or stopped part-way through the files).
#[derive(Debug, thiserror::Error)]
pub enum ExportFailure {
    /// `--addr` flags that are not `NODE:IFACE=IP`.
    #[error("{}", lines(.0))]
    BadAddrFlags(Vec<ExportError>),
    /// A configuration file cannot be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration does not pass the daemon's own checks.
    #[error("{}\nConfiguration error, nothing exported.", lines(.0))]
    Config(Vec<ConfigError>),
    /// The configuration cannot be expressed for Pacemaker.
    #[error("{}\nNothing exported.", lines(.0))]
    Export(Vec<ExportError>),
    /// No random Corosync key.
    #[error("/dev/urandom: {0}")]
    Key(std::io::Error),
    /// The output directory or one of its files cannot be created.
    #[error("{}: cannot create: {source}", path.display())]
    Create {
        /// The directory or file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An output file cannot be written.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl ExportFailure {
    /// The exit code (`heartbeat`'s usual ones).
    pub fn exit_code(&self) -> i32 {
        match self {
            ExportFailure::BadAddrFlags(_) => exit::EINVAL,
            ExportFailure::Read { .. } | ExportFailure::Config(_) | ExportFailure::Export(_) => {
                exit::NOT_CONFIGURED
            }
            ExportFailure::Key(_) | ExportFailure::Create { .. } | ExportFailure::Write { .. } => {
                exit::FAILURE
            }
        }
    }
}

/// One error a line.
fn lines<E: std::fmt::Display>(errs: &[E]) -> String {
    errs.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn read_text(path: &Path) -> Result<String, ExportFailure> {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|source| ExportFailure::Read {
            path: path.to_path_buf(),
            source,
        })
}

/// The node name the parser checks ha.cf against: this host's when it is a
/// cluster node, else ha.cf's first node (the export may run anywhere).
fn parse_as(paths: &Paths, hacf_text: &str) -> String {
    let me = local_node_name(&paths.nodeinfo(), &hb_sys::host::nodename());
    let nodes: Vec<String> = hb_config::lexer::lex(hacf_text)
        .into_iter()
        .filter(|d| d.key == "node")
        .flat_map(|d| d.args)
        .map(|n| n.to_ascii_lowercase())
        .collect();
    if nodes.contains(&me) {
        me
    } else {
        nodes.into_iter().next().unwrap_or(me)
    }
}

fn fresh_key() -> std::io::Result<Vec<u8>> {
    let mut key = vec![0u8; COROSYNC_KEY_BYTES];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut key)?;
    Ok(key)
}

fn write(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> Result<(), ExportFailure> {
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    let mut f = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&path)
    {
        Ok(f) => f,
        Err(source) => return Err(ExportFailure::Create { path, source }),
    };
    f.write_all(bytes)
        .map_err(|source| ExportFailure::Write { path, source })
}

/// Run the export; returns the exit code.
pub fn run(paths: &Paths, outdir: &Path, addr_flags: &[String]) -> i32 {
    match export(paths, outdir, addr_flags) {
        Ok(()) => exit::OK,
        Err(failure) => {
            eprintln!("{failure}");
            failure.exit_code()
        }
    }
}

fn export(paths: &Paths, outdir: &Path, addr_flags: &[String]) -> Result<(), ExportFailure> {
    let mut addrs = Vec::new();
    let mut bad = Vec::new();
    for f in addr_flags {
        match f.parse::<AddrOverride>() {
            Ok(a) => addrs.push(a),
            Err(e) => bad.push(e),
        }
    }
    if !bad.is_empty() {
        return Err(ExportFailure::BadAddrFlags(bad));
    }
    let hacf_text = read_text(&paths.hacf())?;
    let local = parse_as(paths, &hacf_text);
    let loaded =
        hb_config::load(&paths.confdir, &local, &ExportSystem).map_err(ExportFailure::Config)?;
    let authkeys_text = read_text(&paths.authkeys())?;
    let (hacf_path, authkeys_path, res_path) =
        (paths.hacf(), paths.authkeys(), paths.haresources());
    let src = Source {
        hacf: &loaded.hacf,
        authkeys: &loaded.authkeys,
        resources: &loaded.resources,
        hacf_path: &hacf_path,
        hacf_text: &hacf_text,
        authkeys_path: &authkeys_path,
        authkeys_text: &authkeys_text,
        haresources_path: &res_path,
        addrs: &addrs,
    };
    let host = RealHost {
        confdir: paths.confdir.clone(),
        local: hb_sys::host::nodename().to_ascii_lowercase(),
    };
    let out = hb_export::export(&src, &host).map_err(ExportFailure::Export)?;
    let key = fresh_key().map_err(ExportFailure::Key)?;
    std::fs::create_dir_all(outdir).map_err(|source| ExportFailure::Create {
        path: outdir.to_path_buf(),
        source,
    })?;
    // Fencing passwords can be in the CIB and the commands: owner-only.
    let files: [(&str, &[u8], u32); 6] = [
        ("corosync.conf", out.corosync_conf.as_bytes(), 0o644),
        ("authkey", &key, 0o400),
        ("cib.xml", out.cib_xml.as_bytes(), 0o600),
        ("pcs-commands.sh", out.pcs_commands.as_bytes(), 0o700),
        ("crm-commands.txt", out.crm_commands.as_bytes(), 0o600),
        ("MIGRATION.txt", out.migration.as_bytes(), 0o644),
    ];
    for (name, bytes, mode) in files {
        write(outdir, name, bytes, mode)?;
    }
    println!(
        "{}: exported {} nodes, {} knet link(s), {} resource group(s), {} fencing device(s); read MIGRATION.txt",
        outdir.display(),
        out.cluster.nodes.len(),
        out.cluster.links.len(),
        out.cluster.groups.len(),
        out.cluster.fences.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::args::Args;

    #[test]
    fn addr_needs_export_pacemaker() {
        assert!(Args::try_parse_from(["heartbeat", "--addr", "nodea:eth0=192.0.2.1"]).is_err());
        let a = Args::try_parse_from([
            "heartbeat",
            "--export-pacemaker",
            "/tmp/out",
            "--addr",
            "nodea:eth0=192.0.2.1",
            "--addr",
            "nodeb:eth0=192.0.2.2",
        ])
        .unwrap();
        assert_eq!(a.export_pacemaker, Some("/tmp/out".into()));
        assert_eq!(a.addr.len(), 2);
    }

    #[test]
    fn failures_name_the_file_and_pick_the_exit_code() {
        use super::ExportFailure;
        use crate::version::exit;
        let f = ExportFailure::Read {
            path: "/etc/ha.d/ha.cf".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert_eq!(f.exit_code(), exit::NOT_CONFIGURED);
        assert!(f.to_string().starts_with("/etc/ha.d/ha.cf: cannot read: "));
        let bad: Vec<hb_export::ExportError> = ["x", "y:z"]
            .iter()
            .map(|t| t.parse::<hb_export::AddrOverride>().unwrap_err())
            .collect();
        let f = ExportFailure::BadAddrFlags(bad);
        assert_eq!(f.exit_code(), exit::EINVAL);
        assert_eq!(f.to_string().lines().count(), 2);
        assert!(f
            .to_string()
            .starts_with("--addr x: expected NODE:IFACE=IP"));
    }

    #[test]
    fn bad_addr_flag_is_usage_error() {
        let paths = crate::paths::Paths::default();
        let code = super::run(
            &paths,
            std::path::Path::new("/nonexistent"),
            &["nodea".into()],
        );
        assert_eq!(code, crate::version::exit::EINVAL);
    }
}
