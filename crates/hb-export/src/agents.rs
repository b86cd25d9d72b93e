//! haresources resources → Pacemaker primitives.
//!
//! `IPaddr`/`IPaddr2` (and the bare-address shorthand) become
//! `ocf:heartbeat:IPaddr2`, `Filesystem::dev::dir::fs[::opts]` becomes
//! `ocf:heartbeat:Filesystem`; the other scripts of `/etc/ha.d/resource.d`
//! that wrap an OCF agent keep their positional arguments under the agent's
//! parameter names (the same mapping the wrappers apply); any other name is
//! an init script (`lsb:NAME`) or a systemd unit (`systemd:NAME`), docs/behaviour.md §5.3, §5.4.

use std::net::Ipv4Addr;

use hb_config::Resource;

use crate::model::{Op, Primitive, Status};
use crate::Host;

/// Result of mapping one resource.
pub(crate) enum Mapping {
    /// A primitive (its id is a base the caller makes unique).
    To {
        prim: Primitive,
        status: Status,
        note: String,
    },
    /// Not exported.
    None { reason: String },
}

/// resource.d wrappers of OCF agents: script, agent, positional parameter names.
const WRAPPERS: &[(&str, &str, &[&str])] = &[
    ("AudibleAlarm", "AudibleAlarm", &["nodelist"]),
    ("Delay", "Delay", &["startdelay", "stopdelay"]),
    ("ICP", "ICP", &["driveid", "device"]),
    ("IPsrcaddr", "IPsrcaddr", &["ipaddress"]),
    ("LVM", "LVM", &["volgrpname"]),
    ("LinuxSCSI", "LinuxSCSI", &["scsi"]),
    ("MailTo", "MailTo", &["email", "subject"]),
    ("Raid1", "Raid1", &["raidconf", "raiddev"]),
    ("ServeRAID", "ServeRAID", &["serveraid", "mergegroup"]),
    ("WAS", "WAS", &["config"]),
    ("WinPopup", "WinPopup", &["hostfile"]),
    ("Xinetd", "Xinetd", &["service"]),
    ("apache", "apache", &["configfile"]),
    ("db2", "db2", &["instance"]),
    ("portblock", "portblock", &["protocol", "portno", "action"]),
];

fn op(name: &'static str, interval_s: u32, timeout_s: u32) -> Op {
    Op {
        name,
        interval_s,
        timeout_s,
    }
}

fn ocf(id: String, agent: &str, params: Vec<(String, String)>, ops: Vec<Op>) -> Primitive {
    Primitive {
        id,
        class: "ocf".into(),
        provider: Some("heartbeat".into()),
        agent: agent.into(),
        params,
        ops,
    }
}

pub(crate) fn map(res: &Resource, host: &dyn Host) -> Mapping {
    match res.script.as_str() {
        "IPaddr" | "IPaddr2" => ip(res),
        "Filesystem" => filesystem(res),
        "IPv6addr" => ipv6(res, host),
        "SendArp" => send_arp(res, host),
        name => {
            if let Some((_, agent, names)) = WRAPPERS.iter().find(|(s, _, _)| *s == name) {
                return wrapper(res, agent, names, host);
            }
            service(res, host)
        }
    }
}

fn kv(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

/// `ip[/bits|/netmask[/iface[/broadcast]]]` (the IPaddr/IPaddr2 argument).
fn ip(res: &Resource) -> Mapping {
    let Some(arg) = res.args.first() else {
        return Mapping::None {
            reason: format!("{} without an address", res.script),
        };
    };
    let mut parts = arg.split('/');
    let addr = parts.next().unwrap_or_default();
    if addr.parse::<Ipv4Addr>().is_err() {
        return Mapping::None {
            reason: format!("{addr} is not an IPv4 address"),
        };
    }
    let mut params = vec![kv("ip", addr)];
    let mut notes = Vec::new();
    if let Some(mask) = parts.next().filter(|m| !m.is_empty()) {
        match netmask_bits(mask) {
            Some(bits) => params.push(kv("cidr_netmask", &bits.to_string())),
            None => {
                return Mapping::None {
                    reason: format!("netmask {mask} is neither a prefix length nor a netmask"),
                }
            }
        }
    }
    if let Some(nic) = parts.next().filter(|m| !m.is_empty()) {
        params.push(kv("nic", nic));
    }
    if let Some(bc) = parts.next().filter(|m| !m.is_empty()) {
        params.push(kv("broadcast", bc));
    }
    let mut status = Status::Mapped;
    if res.args.len() > 1 {
        status = Status::Approximated;
        notes.push(format!(
            "extra arguments {} dropped",
            res.args[1..].join("::")
        ));
    }
    if res.script == "IPaddr" {
        notes.push("IPaddr (ifconfig alias) becomes IPaddr2 (ip addr), same address".into());
    }
    notes.push("monitor every 10 s".into());
    Mapping::To {
        prim: ocf(
            format!("ip_{addr}"),
            "IPaddr2",
            params,
            vec![op("monitor", 10, 20)],
        ),
        status,
        note: notes.join("; "),
    }
}

fn netmask_bits(mask: &str) -> Option<u32> {
    if let Ok(bits) = mask.parse::<u32>() {
        return (bits <= 32).then_some(bits);
    }
    let m = u32::from(mask.parse::<Ipv4Addr>().ok()?);
    (m.leading_ones() + m.trailing_zeros() == 32).then_some(m.leading_ones())
}

fn filesystem(res: &Resource) -> Mapping {
    let [device, directory, rest @ ..] = res.args.as_slice() else {
        return Mapping::None {
            reason: "Filesystem needs at least a device and a mount point \
                     (Filesystem::DEVICE::DIR[::FSTYPE[::OPTIONS]])"
                .into(),
        };
    };
    let mut params = vec![kv("device", device), kv("directory", directory)];
    let mut note = "monitor every 20 s; start/stop timeout 60 s".to_string();
    match rest.first() {
        Some(fs) => params.push(kv("fstype", fs)),
        None => {
            // The OCF agent requires fstype; the heartbeat wrapper let mount guess.
            params.push(kv("fstype", "auto"));
            note.push_str("; no fstype given: fstype=auto lets mount(8) guess, as the wrapper did");
        }
    }
    if let Some(opts) = rest.get(1) {
        params.push(kv("options", opts));
    }
    Mapping::To {
        prim: ocf(
            format!("fs_{directory}"),
            "Filesystem",
            params,
            vec![op("start", 0, 60), op("stop", 0, 60), op("monitor", 20, 40)],
        ),
        status: if !rest.is_empty() {
            Status::Mapped
        } else {
            Status::Approximated
        },
        note,
    }
}

/// `IPv6addr::addr/bits/nic`.
fn ipv6(res: &Resource, host: &dyn Host) -> Mapping {
    let Some(arg) = res.args.first() else {
        return Mapping::None {
            reason: "IPv6addr without an address".into(),
        };
    };
    let mut parts = arg.split('/');
    let addr = parts.next().unwrap_or_default();
    let mut params = vec![kv("ipv6addr", addr)];
    if let Some(bits) = parts.next().filter(|b| !b.is_empty()) {
        params.push(kv("cidr_netmask", bits));
    }
    if let Some(nic) = parts.next().filter(|b| !b.is_empty()) {
        params.push(kv("nic", nic));
    }
    installed(
        host,
        ocf(
            format!("ip6_{addr}"),
            "IPv6addr",
            params,
            vec![op("monitor", 10, 20)],
        ),
        "the wrapper's address/prefix/interface argument split into parameters",
    )
}

/// `SendArp::ip/nic`.
fn send_arp(res: &Resource, host: &dyn Host) -> Mapping {
    let Some((ip, nic)) = res.args.first().and_then(|a| a.split_once('/')) else {
        return Mapping::None {
            reason: "SendArp needs IP/INTERFACE".into(),
        };
    };
    installed(
        host,
        ocf(
            format!("arp_{ip}"),
            "SendArp",
            vec![kv("ip", ip), kv("nic", nic)],
            vec![op("monitor", 10, 20)],
        ),
        "same agent",
    )
}

fn wrapper(res: &Resource, agent: &str, names: &[&str], host: &dyn Host) -> Mapping {
    if res.args.len() > names.len() {
        return Mapping::None {
            reason: format!(
                "{} takes at most {} argument(s) ({}); this line gives {}",
                res.script,
                names.len(),
                names.join(", "),
                res.args.len()
            ),
        };
    }
    let params = names.iter().zip(&res.args).map(|(n, v)| kv(n, v)).collect();
    let base = match res.args.first() {
        Some(a) => format!("{}_{a}", agent.to_ascii_lowercase()),
        None => agent.to_ascii_lowercase(),
    };
    installed(
        host,
        ocf(base, agent, params, vec![op("monitor", 10, 20)]),
        "the resource.d wrapper's positional arguments become the OCF agent's parameters",
    )
}

fn installed(host: &dyn Host, prim: Primitive, note: &str) -> Mapping {
    let provider = prim.provider.clone().unwrap_or_default();
    if host.ocf_agent(&provider, &prim.agent) {
        Mapping::To {
            prim,
            status: Status::Mapped,
            note: format!("{note}; monitor every 10 s"),
        }
    } else {
        Mapping::None {
            reason: format!(
                "{} is not installed on this host: install resource-agents",
                prim.spec()
            ),
        }
    }
}

/// A bare name: an init script or systemd unit (arguments cannot be passed).
fn service(res: &Resource, host: &dyn Host) -> Mapping {
    let name = &res.script;
    let args_note = if res.args.is_empty() {
        String::new()
    } else {
        format!(
            "; the arguments {} cannot be passed to a service: they are dropped",
            res.args.join("::")
        )
    };
    let custom = host.heartbeat_script(name) && !host.lsb_script(name);
    if custom {
        return Mapping::None {
            reason: format!(
                "custom heartbeat resource script /etc/ha.d/resource.d/{name} has no OCF \
                 equivalent: turn it into an OCF agent (start/stop/monitor/meta-data) or an \
                 init script / systemd unit and add it to the group by hand"
            ),
        };
    }
    let (class, status, note) = if host.lsb_script(name) {
        (
            "lsb",
            Status::Mapped,
            format!("init script /etc/init.d/{name}, monitored by its status action every 15 s"),
        )
    } else if host.systemd_unit(name) {
        (
            "systemd",
            Status::Mapped,
            format!(
                "no init script, but the systemd unit {name}.service exists; monitor every 15 s"
            ),
        )
    } else {
        (
            "lsb",
            Status::Approximated,
            format!(
                "neither /etc/init.d/{name} nor {name}.service exists on this host: install the \
                 service (or change the class to systemd:) before loading the CIB"
            ),
        )
    };
    let status = if res.args.is_empty() {
        status
    } else {
        Status::Approximated
    };
    Mapping::To {
        prim: Primitive {
            id: name.to_string(),
            class: class.into(),
            provider: None,
            agent: name.to_string(),
            params: Vec::new(),
            ops: vec![op("monitor", 15, 15)],
        },
        status,
        note: format!("{note}{args_note}"),
    }
}

/// Positional `stonith_host` parameters under the plugin's names: a
/// single-parameter plugin gets the whole text, the last name gets any rest.
pub(crate) fn stonith_values(names: &[String], params: &str) -> Option<Vec<String>> {
    let words: Vec<&str> = params.split_whitespace().collect();
    match names.len() {
        0 => words.is_empty().then(Vec::new),
        1 => Some(vec![words.join(" ")]),
        n if words.len() < n => None,
        n => {
            let mut v: Vec<String> = words[..n - 1].iter().map(|w| w.to_string()).collect();
            v.push(words[n - 1..].join(" "));
            Some(v)
        }
    }
}

/// Which fence-agents agent replaces a cluster-glue plugin, as a note.
pub(crate) fn native_fence_hint(plugin: &str) -> String {
    let native = match plugin {
        "ipmilan" | "external/ipmi" => "fence_ipmilan",
        "apcmaster" | "apcmastersnmp" | "apcsmart" | "rackpdu" | "external/rackpdu" => "fence_apc",
        "external/libvirt" => "fence_virsh",
        "external/vcenter" | "external/vmware" => "fence_vmware_soap",
        "external/drac5" | "drac3" => "fence_drac5",
        "external/riloe" | "ribcl.py" => "fence_ilo",
        "external/xen0" | "external/xen0-ha" => "fence_xenapi",
        "ssh" | "external/ssh" | "null" | "meatware" => {
            return format!(
                "; {plugin} is a test device that cannot really power off a node: use real \
                 fencing (or sbd) in production"
            )
        }
        _ => return String::new(),
    };
    format!("; the native agent {native} (fence-agents) is the maintained alternative")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netmasks() {
        assert_eq!(netmask_bits("24"), Some(24));
        assert_eq!(netmask_bits("255.255.255.240"), Some(28));
        assert_eq!(netmask_bits("255.0.255.0"), None);
        assert_eq!(netmask_bits("33"), None);
    }

    #[test]
    fn stonith_positional_values() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            stonith_values(
                &names(&["ipaddr", "login", "password"]),
                "10.0.0.3 me secret"
            ),
            Some(vec!["10.0.0.3".into(), "me".into(), "secret".into()])
        );
        assert_eq!(
            stonith_values(&names(&["serial_to_targets"]), "/dev/ttyS1 kathy 0"),
            Some(vec!["/dev/ttyS1 kathy 0".into()])
        );
        assert_eq!(
            stonith_values(&names(&["a", "b"]), "x y z"),
            Some(vec!["x".into(), "y z".into()])
        );
        assert_eq!(stonith_values(&names(&["a", "b"]), "x"), None);
    }
}
