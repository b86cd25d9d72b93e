//! The native fast path for `IPaddr` / `IPaddr2` resources (issue 5 item 4):
//! the same argument syntax and the same effect as the resource-agents
//! scripts, done in-process with netlink and a raw ARP socket.
//!
//! Arguments, exactly as the `resource.d` wrappers split them:
//! `ip[/netmask[/nic[:label]][/broadcast]]` — a third field starting with a
//! digit is the broadcast address (no nic). The netmask is a bit count or a
//! dotted mask.
//!
//! * **start** — resolve the interface (the given nic, else the interface
//!   with an address whose network contains `ip`; the prefix length and the
//!   broadcast likewise default to that address's, as `findif` does), add
//!   the address, then announce it with a
//!   gratuitous ARP at once. The remaining announcements (IPaddr2: 5 in all,
//!   200 ms apart; IPaddr: 10, 500 ms apart — the agents' defaults) are
//!   returned as an [`Announcement`] for the caller to send in the
//!   background, as the agents background `send_arp`. Already configured
//!   counts as started (and is announced again).
//! * **stop** — remove the address if it is configured (a stop of a stopped
//!   address succeeds, as LSB requires).
//! * **status** — running if the address is configured on the interface.
//!
//! `IPaddr` labels the address `nic:N` (first free N), like the old agent's
//! interface aliases; `IPaddr2` labels only when asked (`nic:label`).
//! Not supported natively (the caller falls back to the script): anything
//! other than exactly one argument.

use std::net::Ipv4Addr;
use std::thread::sleep;
use std::time::Duration;

use hb_sys::net::{self, AddrSpec, ArpSender, Ipv4Entry, NetError};

/// Which agent's semantics to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agent {
    /// `IPaddr`: aliases `nic:N`, ARP 10 × 500 ms.
    IPaddr,
    /// `IPaddr2`: plain secondary address, ARP 5 × 200 ms.
    IPaddr2,
}

impl Agent {
    /// The agent a script name selects, if it is one of the two.
    pub fn from_script(script: &str) -> Option<Agent> {
        match script {
            "IPaddr" => Some(Agent::IPaddr),
            "IPaddr2" => Some(Agent::IPaddr2),
            _ => None,
        }
    }

    /// Gratuitous ARPs sent per start, and their spacing.
    pub fn arp_defaults(self) -> (u32, Duration) {
        match self {
            Agent::IPaddr => (10, Duration::from_millis(500)),
            Agent::IPaddr2 => (5, Duration::from_millis(200)),
        }
    }

    /// The script name.
    pub fn name(self) -> &'static str {
        match self {
            Agent::IPaddr => "IPaddr",
            Agent::IPaddr2 => "IPaddr2",
        }
    }
}

/// Why a native operation failed (the message goes to the log).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NativeError {
    /// The argument is not `ip[/netmask[/nic[:label]][/broadcast]]`.
    #[error("bad IP resource argument {0:?} (want ip[/netmask[/nic[:label]][/broadcast]])")]
    BadArgument(String),
    /// No nic was given and no interface has a network containing the address.
    #[error("no interface has a network containing {0}: give the interface (ip/bits/nic)")]
    NoInterfaceFor(Ipv4Addr),
    /// No netmask was given and none could be derived.
    #[error("cannot determine the netmask of {0} on {1}: give it (ip/bits/nic)")]
    NoNetmask(Ipv4Addr, String),
    /// A system operation failed.
    #[error(transparent)]
    Net(#[from] NetError),
}

/// The parsed argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpArgs {
    /// The address.
    pub ip: Ipv4Addr,
    /// Prefix length, if given.
    pub prefix_len: Option<u8>,
    /// Interface, if given.
    pub nic: Option<String>,
    /// Label (`nic:label` → `nic:label`), if given.
    pub label: Option<String>,
    /// Broadcast, if given.
    pub broadcast: Option<Ipv4Addr>,
}

fn parse_mask(text: &str) -> Option<u8> {
    if let Ok(bits) = text.parse::<u8>() {
        return (bits <= 32).then_some(bits);
    }
    let mask = u32::from(text.parse::<Ipv4Addr>().ok()?);
    // a dotted mask must be contiguous ones
    (mask.leading_ones() + mask.trailing_zeros() == 32)
        .then(|| u8::try_from(mask.leading_ones()).ok())
        .flatten()
}

/// Parses `ip[/netmask[/nic[:label]][/broadcast]]` the way the wrappers do.
pub fn parse_args(arg: &str) -> Result<IpArgs, NativeError> {
    let bad = || NativeError::BadArgument(arg.to_string());
    let mut fields = arg.split('/');
    let ip: Ipv4Addr = fields.next().and_then(|f| f.parse().ok()).ok_or_else(bad)?;
    let mut out = IpArgs {
        ip,
        prefix_len: None,
        nic: None,
        label: None,
        broadcast: None,
    };
    if let Some(m) = fields.next().filter(|f| !f.is_empty()) {
        out.prefix_len = Some(parse_mask(m).ok_or_else(bad)?);
    }
    let third = fields.next().filter(|f| !f.is_empty());
    let broadcast_text = match third {
        Some(f) if f.starts_with(|c: char| c.is_ascii_digit()) => Some(f),
        Some(f) => {
            let (nic, label) = match f.split_once(':') {
                Some((n, _)) => (n, Some(f)),
                None => (f, None),
            };
            if nic.is_empty() || nic.len() > net::MAX_LABEL {
                return Err(bad());
            }
            out.nic = Some(nic.to_string());
            out.label = label.map(str::to_string);
            fields.next().filter(|f| !f.is_empty())
        }
        None => None,
    };
    if let Some(b) = broadcast_text {
        out.broadcast = Some(b.parse().map_err(|_| bad())?);
    }
    if fields.next().is_some() {
        return Err(bad());
    }
    Ok(out)
}

/// What to configure: the resolved interface, prefix, broadcast and label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The address.
    pub ip: Ipv4Addr,
    /// Prefix length.
    pub prefix_len: u8,
    /// Interface name.
    pub nic: String,
    /// Broadcast address, if any.
    pub broadcast: Option<Ipv4Addr>,
    /// Label, if any.
    pub label: Option<String>,
}

/// Fills in what the arguments leave out from the addresses configured now
/// (pure: `addrs` is [`net::ipv4_addresses`]).
pub fn resolve(agent: Agent, args: &IpArgs, addrs: &[Ipv4Entry]) -> Result<Target, NativeError> {
    // an address of another network that contains ip: where ip belongs
    let home = addrs
        .iter()
        .filter(|e| e.addr != args.ip && e.interface() != "lo" && e.network_contains(args.ip))
        .filter(|e| args.nic.as_deref().map_or(true, |n| e.interface() == n))
        .max_by_key(|e| e.prefix_len);
    let nic = match (&args.nic, home) {
        (Some(n), _) => n.clone(),
        (None, Some(e)) => e.interface().to_string(),
        (None, None) => return Err(NativeError::NoInterfaceFor(args.ip)),
    };
    let prefix_len = match (args.prefix_len, home) {
        (Some(p), _) => p,
        (None, Some(e)) => e.prefix_len,
        (None, None) => return Err(NativeError::NoNetmask(args.ip, nic)),
    };
    // findif's rule: the broadcast of the address the route belongs to
    let broadcast = args.broadcast.or_else(|| {
        home.and_then(|e| e.broadcast)
            .filter(|b| !b.is_unspecified())
    });
    let label = match (agent, &args.label) {
        (_, Some(l)) => Some(l.clone()),
        (Agent::IPaddr2, None) => None,
        (Agent::IPaddr, None) => {
            // first free alias nic:0, nic:1, ...
            (0..100)
                .map(|n| format!("{nic}:{n}"))
                .find(|l| l.len() <= net::MAX_LABEL && !addrs.iter().any(|e| e.name == *l))
        }
    };
    Ok(Target {
        ip: args.ip,
        prefix_len,
        nic,
        broadcast,
        label,
    })
}

/// Whether `ip` is configured on `nic` (any label of it), or anywhere when
/// no nic is given.
pub fn configured(addrs: &[Ipv4Entry], ip: Ipv4Addr, nic: Option<&str>) -> Option<Ipv4Entry> {
    addrs
        .iter()
        .find(|e| e.addr == ip && nic.map_or(true, |n| e.interface() == n))
        .cloned()
}

/// The gratuitous ARPs still to send after a start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// The interface.
    pub nic: String,
    /// The address announced.
    pub ip: Ipv4Addr,
    /// How many more to send.
    pub remaining: u32,
    /// Spacing.
    pub interval: Duration,
}

/// `status`: whether the address is configured.
pub fn status(arg: &str) -> Result<bool, NativeError> {
    let args = parse_args(arg)?;
    let addrs = net::ipv4_addresses()?;
    Ok(configured(&addrs, args.ip, args.nic.as_deref()).is_some())
}

/// `start`: adds the address, sends the first gratuitous ARP; returns a
/// human-readable line of what was done and the announcements still due.
pub fn start(agent: Agent, arg: &str) -> Result<(String, Option<Announcement>), NativeError> {
    let args = parse_args(arg)?;
    let addrs = net::ipv4_addresses()?;
    let target = resolve(agent, &args, &addrs)?;
    let link = net::link(&target.nic)?;
    let what = if configured(&addrs, target.ip, Some(&target.nic)).is_some() {
        format!(
            "{}/{} already on {}",
            target.ip, target.prefix_len, target.nic
        )
    } else {
        let spec = AddrSpec {
            ifindex: link.index,
            addr: target.ip,
            prefix_len: target.prefix_len,
            broadcast: target.broadcast,
            label: target.label.clone(),
        };
        match net::add_address(&spec) {
            Ok(()) => {}
            Err(NetError::Refused {
                errno: nix::errno::Errno::EEXIST,
                ..
            }) => {}
            Err(e) => return Err(e.into()),
        }
        let brd = target
            .broadcast
            .map_or(String::new(), |b| format!(" with broadcast address {b}"));
        format!(
            "added inet address {}/{}{brd} to device {}",
            target.ip, target.prefix_len, target.nic
        )
    };
    let (count, interval) = agent.arp_defaults();
    let announcement = match ArpSender::open(&link) {
        // a link without a MAC (e.g. a tunnel) has nobody to tell
        Err(NetError::NoMac(_)) => None,
        Err(e) => return Err(e.into()),
        Ok(sender) => {
            sender.send_garp(target.ip)?;
            (count > 1).then(|| Announcement {
                nic: target.nic.clone(),
                ip: target.ip,
                remaining: count - 1,
                interval,
            })
        }
    };
    Ok((what, announcement))
}

/// `stop`: removes the address if it is configured.
pub fn stop(arg: &str) -> Result<String, NativeError> {
    let args = parse_args(arg)?;
    let addrs = net::ipv4_addresses()?;
    let Some(entry) = configured(&addrs, args.ip, args.nic.as_deref()) else {
        return Ok(format!("{} is not configured", args.ip));
    };
    let link = net::link(entry.interface())?;
    let spec = AddrSpec {
        ifindex: link.index,
        addr: entry.addr,
        prefix_len: entry.prefix_len,
        broadcast: None,
        label: None,
    };
    match net::delete_address(&spec) {
        Ok(())
        | Err(NetError::Refused {
            errno: nix::errno::Errno::EADDRNOTAVAIL,
            ..
        }) => Ok(format!(
            "removed inet address {}/{} from device {}",
            entry.addr,
            entry.prefix_len,
            entry.interface()
        )),
        Err(e) => Err(e.into()),
    }
}

/// Announces the address again if it is configured here (one gratuitous
/// ARP now; the rest of the agent's count is returned for the background),
/// e.g. after a partition healed. `Ok(None)` when it is not configured.
pub fn reannounce(agent: Agent, arg: &str) -> Result<Option<Announcement>, NativeError> {
    let args = parse_args(arg)?;
    let addrs = net::ipv4_addresses()?;
    let Some(entry) = configured(&addrs, args.ip, args.nic.as_deref()) else {
        return Ok(None);
    };
    let link = net::link(entry.interface())?;
    let sender = match ArpSender::open(&link) {
        Err(NetError::NoMac(_)) => return Ok(None),
        other => other?,
    };
    sender.send_garp(args.ip)?;
    let (count, interval) = agent.arp_defaults();
    Ok(Some(Announcement {
        nic: link.name,
        ip: args.ip,
        remaining: count.saturating_sub(1),
        interval,
    }))
}

/// Sends the remaining announcements, `interval` apart, while the address
/// is still configured on its interface (a stop in between ends them: a
/// released address must not be announced again). Blocking; meant for a
/// background process.
pub fn announce(a: &Announcement) {
    let Ok(link) = net::link(&a.nic) else {
        return;
    };
    let Ok(sender) = ArpSender::open(&link) else {
        return;
    };
    for _ in 0..a.remaining {
        sleep(a.interval);
        let still_ours = net::ipv4_addresses()
            .is_ok_and(|addrs| configured(&addrs, a.ip, Some(&a.nic)).is_some());
        if !still_ours || sender.send_garp(a.ip).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, ip: [u8; 4], prefix_len: u8) -> Ipv4Entry {
        Ipv4Entry {
            name: name.into(),
            addr: Ipv4Addr::from(ip),
            prefix_len,
            broadcast: None,
        }
    }

    fn host() -> Vec<Ipv4Entry> {
        let mut eth0 = entry("eth0", [198, 18, 0, 11], 24);
        eth0.broadcast = Some(Ipv4Addr::new(198, 18, 0, 255));
        vec![
            entry("lo", [127, 0, 0, 1], 8),
            eth0,
            entry("eth1", [198, 19, 0, 11], 24),
            entry("eth1:0", [198, 19, 0, 200], 24),
        ]
    }

    #[test]
    fn argument_forms() {
        let a = parse_args("198.18.0.100/24/eth0").expect("full");
        assert_eq!(a.ip, Ipv4Addr::new(198, 18, 0, 100));
        assert_eq!(a.prefix_len, Some(24));
        assert_eq!(a.nic.as_deref(), Some("eth0"));
        assert_eq!((a.label, a.broadcast), (None, None));

        let a = parse_args("198.18.0.100").expect("bare");
        assert_eq!((a.prefix_len, a.nic), (None, None));

        let a = parse_args("198.18.0.100/24/198.18.0.127").expect("broadcast without nic");
        assert_eq!(a.nic, None);
        assert_eq!(a.broadcast, Some(Ipv4Addr::new(198, 18, 0, 127)));

        let a = parse_args("198.18.0.100/255.255.255.0/eth0:web/198.18.0.255").expect("all");
        assert_eq!(a.prefix_len, Some(24));
        assert_eq!(a.nic.as_deref(), Some("eth0"));
        assert_eq!(a.label.as_deref(), Some("eth0:web"));
        assert_eq!(a.broadcast, Some(Ipv4Addr::new(198, 18, 0, 255)));

        for bad in [
            "",
            "host.example",
            "198.18.0.100/33",
            "198.18.0.100/255.0.255.0",
            "198.18.0.100/24/eth0/notanip",
            "198.18.0.100/24/eth0/198.18.0.255/extra",
            "198.18.0.100/24/:x",
        ] {
            assert!(parse_args(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn resolution_fills_nic_prefix_and_broadcast() {
        let t = resolve(
            Agent::IPaddr2,
            &parse_args("198.18.0.100").expect("args"),
            &host(),
        )
        .expect("resolves");
        assert_eq!(t.nic, "eth0");
        assert_eq!(t.prefix_len, 24);
        assert_eq!(t.broadcast, Some(Ipv4Addr::new(198, 18, 0, 255)));
        assert_eq!(t.label, None);

        let t = resolve(
            Agent::IPaddr2,
            &parse_args("198.18.0.100/25/eth0/198.18.0.127").expect("args"),
            &host(),
        )
        .expect("resolves");
        assert_eq!(t.broadcast, Some(Ipv4Addr::new(198, 18, 0, 127)));

        // the home address has no broadcast: neither does the new one
        let t = resolve(
            Agent::IPaddr2,
            &parse_args("198.19.0.100/24/eth1").expect("args"),
            &host(),
        )
        .expect("resolves");
        assert_eq!(t.broadcast, None);

        assert_eq!(
            resolve(
                Agent::IPaddr2,
                &parse_args("198.20.0.1").expect("args"),
                &host()
            ),
            Err(NativeError::NoInterfaceFor(Ipv4Addr::new(198, 20, 0, 1)))
        );
        // a nic but no network there to take the mask from
        let args = IpArgs {
            ip: Ipv4Addr::new(198, 20, 0, 1),
            prefix_len: None,
            nic: Some("eth0".into()),
            label: None,
            broadcast: None,
        };
        assert_eq!(
            resolve(Agent::IPaddr2, &args, &host()),
            Err(NativeError::NoNetmask(args.ip, "eth0".into()))
        );
    }

    #[test]
    fn ipaddr_picks_the_first_free_alias() {
        let t = resolve(
            Agent::IPaddr,
            &parse_args("198.19.0.100/24/eth1").expect("args"),
            &host(),
        )
        .expect("resolves");
        assert_eq!(t.label.as_deref(), Some("eth1:1"));
        let t = resolve(
            Agent::IPaddr,
            &parse_args("198.18.0.100").expect("args"),
            &host(),
        )
        .expect("resolves");
        assert_eq!(t.label.as_deref(), Some("eth0:0"));
    }

    #[test]
    fn configured_matches_labels_of_the_interface() {
        let h = host();
        let vip = Ipv4Addr::new(198, 19, 0, 200);
        assert!(configured(&h, vip, Some("eth1")).is_some());
        assert!(configured(&h, vip, None).is_some());
        assert!(configured(&h, vip, Some("eth0")).is_none());
    }

    #[test]
    fn agents_and_their_arp_defaults() {
        assert_eq!(Agent::from_script("IPaddr2"), Some(Agent::IPaddr2));
        assert_eq!(Agent::from_script("IPaddr"), Some(Agent::IPaddr));
        assert_eq!(Agent::from_script("IPv6addr"), None);
        assert_eq!(
            Agent::IPaddr2.arp_defaults(),
            (5, Duration::from_millis(200))
        );
        assert_eq!(
            Agent::IPaddr.arp_defaults(),
            (10, Duration::from_millis(500))
        );
    }
}
