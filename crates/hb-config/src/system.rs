//! The few facts about the host that validating `ha.cf` needs.
//!
//! The C daemon checks user and group names (`respawn`, `apiauth`), whether
//! a respawn command is executable, `/etc/services`, interface names and
//! host names while it parses. Putting those questions behind a trait keeps
//! the parser free of side effects and lets tests (ours and other crates')
//! answer them with [`FakeSystem`].

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// Questions the configuration parser asks about the host.
pub trait SystemLookup {
    /// uid and primary gid of a user name.
    fn user(&self, name: &str) -> Option<(u32, u32)>;
    /// gid of a group name.
    fn group(&self, name: &str) -> Option<u32>;
    /// Whether `path` exists and is executable (`access(X_OK)`).
    fn is_executable(&self, path: &str) -> bool;
    /// Port of a UDP service name in `/etc/services` (`ha-cluster`).
    fn udp_service_port(&self, name: &str) -> Option<u16>;
    /// Name of the UDP service registered for `port`, if any.
    fn udp_service_name(&self, _port: u16) -> Option<String> {
        None
    }
    /// Whether a network interface of that name exists (checked for mcast,
    /// mcast6 and ucast6, like the C plugins do).
    fn interface_exists(&self, _name: &str) -> bool {
        true
    }
    /// Resolve a host name to an IPv4 address (ping_group members).
    /// The default accepts IPv4 literals only.
    fn resolve_ipv4(&self, host: &str) -> Option<Ipv4Addr> {
        host.parse().ok()
    }
    /// Whether `path` is an existing directory (`coreroot`).
    fn is_dir(&self, _path: &str) -> bool {
        true
    }
    /// Whether `path` exists (a `serial` device: 3.0.6's serial plugin
    /// refuses a nonexistent port while the file is parsed).
    fn path_exists(&self, _path: &str) -> bool {
        true
    }
}

/// The real host: passwd/group databases, the file system, `/etc/services`,
/// `/sys/class/net` and the resolver.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealSystem;

impl SystemLookup for RealSystem {
    fn user(&self, name: &str) -> Option<(u32, u32)> {
        let user = nix::unistd::User::from_name(name).ok()??;
        Some((user.uid.as_raw(), user.gid.as_raw()))
    }

    fn group(&self, name: &str) -> Option<u32> {
        let group = nix::unistd::Group::from_name(name).ok()??;
        Some(group.gid.as_raw())
    }

    fn is_executable(&self, path: &str) -> bool {
        // access(X_OK) like the C daemon: as root this is true for any file
        // with one execute bit, and for directories.
        nix::unistd::access(path, nix::unistd::AccessFlags::X_OK).is_ok()
    }

    fn udp_service_port(&self, name: &str) -> Option<u16> {
        let text = std::fs::read_to_string("/etc/services").ok()?;
        services_lookup(&text, |svc, port, aliases| {
            (svc == name || aliases.contains(&name)).then_some(port)
        })
    }

    fn udp_service_name(&self, port: u16) -> Option<String> {
        let text = std::fs::read_to_string("/etc/services").ok()?;
        services_lookup(&text, |svc, p, _| (p == port).then(|| svc.to_string()))
    }

    fn interface_exists(&self, name: &str) -> bool {
        !name.is_empty()
            && !name.contains('/')
            && std::path::Path::new("/sys/class/net").join(name).exists()
    }

    fn resolve_ipv4(&self, host: &str) -> Option<Ipv4Addr> {
        use std::net::ToSocketAddrs;
        if let Ok(addr) = host.parse() {
            return Some(addr);
        }
        (host, 0)
            .to_socket_addrs()
            .ok()?
            .find_map(|a| match a.ip() {
                std::net::IpAddr::V4(v4) => Some(v4),
                std::net::IpAddr::V6(_) => None,
            })
    }

    fn is_dir(&self, path: &str) -> bool {
        std::path::Path::new(path).is_dir()
    }

    fn path_exists(&self, path: &str) -> bool {
        std::path::Path::new(path).exists()
    }
}

/// Walk the udp entries of an `/etc/services` text: `name port/udp aliases`.
fn services_lookup<T>(text: &str, mut f: impl FnMut(&str, u16, &[&str]) -> Option<T>) -> Option<T> {
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let (Some(name), Some(spec)) = (words.next(), words.next()) else {
            continue;
        };
        let Some((port, proto)) = spec.split_once('/') else {
            continue;
        };
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        if proto != "udp" {
            continue;
        }
        let aliases: Vec<&str> = words.collect();
        if let Some(found) = f(name, port, &aliases) {
            return Some(found);
        }
    }
    None
}

/// A configurable stand-in for tests. By default it knows `root` (0/0),
/// `hacluster` (102/105), `nobody` (65534/65534), groups `root`, `haclient`
/// (105) and `nogroup`, treats every path under `/usr/libexec/`, `/usr/bin/`,
/// `/usr/sbin/`, `/bin/` and `/sbin/` as executable (not `/usr/lib/`, like
/// Debian where `/usr/lib/heartbeat/ipfail` does not exist), has no `ha-cluster` service, knows interfaces `lo` and
/// `eth0`–`eth3`, and resolves IPv4 literals only.
#[derive(Debug, Clone)]
pub struct FakeSystem {
    /// user name → (uid, gid)
    pub users: BTreeMap<String, (u32, u32)>,
    /// group name → gid
    pub groups: BTreeMap<String, u32>,
    /// Path prefixes considered executable.
    pub executable_prefixes: Vec<String>,
    /// UDP services: name → port.
    pub services: BTreeMap<String, u16>,
    /// Existing interfaces.
    pub interfaces: BTreeSet<String>,
    /// Host name → address.
    pub hosts: BTreeMap<String, Ipv4Addr>,
    /// Paths that do not exist (every other path exists and is readable).
    pub absent: BTreeSet<String>,
}

impl Default for FakeSystem {
    fn default() -> FakeSystem {
        let users = [
            ("root", (0, 0)),
            ("hacluster", (102, 105)),
            ("nobody", (65534, 65534)),
        ];
        let groups = [("root", 0), ("haclient", 105), ("nogroup", 65534)];
        FakeSystem {
            users: users.iter().map(|(n, ids)| (n.to_string(), *ids)).collect(),
            groups: groups.iter().map(|(n, g)| (n.to_string(), *g)).collect(),
            executable_prefixes: [
                "/usr/libexec/",
                "/usr/bin/",
                "/usr/sbin/",
                "/bin/",
                "/sbin/",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            services: BTreeMap::new(),
            interfaces: ["lo", "eth0", "eth1", "eth2", "eth3"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            hosts: BTreeMap::new(),
            absent: BTreeSet::new(),
        }
    }
}

impl SystemLookup for FakeSystem {
    fn user(&self, name: &str) -> Option<(u32, u32)> {
        self.users.get(name).copied()
    }
    fn group(&self, name: &str) -> Option<u32> {
        self.groups.get(name).copied()
    }
    fn is_executable(&self, path: &str) -> bool {
        self.executable_prefixes
            .iter()
            .any(|p| path.starts_with(p.as_str()))
    }
    fn udp_service_port(&self, name: &str) -> Option<u16> {
        self.services.get(name).copied()
    }
    fn udp_service_name(&self, port: u16) -> Option<String> {
        self.services
            .iter()
            .find(|(_, p)| **p == port)
            .map(|(n, _)| n.clone())
    }
    fn interface_exists(&self, name: &str) -> bool {
        self.interfaces.contains(name)
    }
    fn resolve_ipv4(&self, host: &str) -> Option<Ipv4Addr> {
        host.parse().ok().or_else(|| self.hosts.get(host).copied())
    }
    fn is_dir(&self, path: &str) -> bool {
        path.starts_with('/')
    }
    fn path_exists(&self, path: &str) -> bool {
        !self.absent.contains(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_file_parsing() {
        let text =
            "# comment\nha-cluster\t694/udp\t\t# Heartbeat\nfoo 694/tcp\nbar 700/udp baz qux\n";
        assert_eq!(
            services_lookup(text, |n, p, _| (n == "ha-cluster").then_some(p)),
            Some(694)
        );
        assert_eq!(
            services_lookup(text, |n, p, a| (n == "qux" || a.contains(&"qux"))
                .then_some(p)),
            Some(700)
        );
        assert_eq!(
            services_lookup(text, |n, p, _| (n == "foo").then_some(p)),
            None
        );
    }

    #[test]
    fn real_system_knows_root() {
        let sys = RealSystem;
        assert_eq!(sys.user("root"), Some((0, 0)));
        assert_eq!(sys.group("root"), Some(0));
        assert!(sys.is_executable("/bin/sh"));
        assert!(!sys.is_executable("/nonexistent/program"));
        assert!(sys.user("no-such-user-hb-config-test").is_none());
        assert!(sys.interface_exists("lo"));
        assert!(!sys.interface_exists("../etc"));
        assert_eq!(sys.resolve_ipv4("127.0.0.1"), Some(Ipv4Addr::LOCALHOST));
    }

    #[test]
    fn fake_defaults() {
        let sys = FakeSystem::default();
        assert_eq!(sys.user("hacluster"), Some((102, 105)));
        assert_eq!(sys.group("haclient"), Some(105));
        assert!(sys.is_executable("/usr/libexec/heartbeat/ipfail"));
        assert!(!sys.is_executable("/opt/x"));
        assert!(!sys.is_executable("/usr/lib/heartbeat/ipfail"));
        assert_eq!(sys.udp_service_port("ha-cluster"), None);
    }
}
