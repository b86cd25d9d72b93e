//! Arguments of the whole-line media: `ucast`, `ucast6`, `mcast`, `mcast6`,
//! `ping_group` (docs/protocol.md §11).
//!
//! The C plugins parse these words with `atoi` and `inet_addr`; here every
//! field is checked against the range the plugin enforces (mcast group in
//! 224.0.0.0/4, ttl/hops 0..4, loop 0/1) and a failure names the field.
//! Interface existence is asked of [`SystemLookup`] for the media whose C
//! plugin checks it (mcast, mcast6, ucast6).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::MediumProblem;
use crate::media::Medium;
use crate::system::SystemLookup;
use crate::value::atoi;

/// Result of parsing a line medium: `Ok(None)` is the C plugins' "empty
/// line, nothing configured" case.
pub(crate) type LineResult = Result<Option<Medium>, MediumProblem>;

/// `ucast <if> <peer>`.
pub(crate) fn ucast(args: &[String], port: u16) -> LineResult {
    let Some(iface) = args.first() else {
        return Ok(None);
    };
    let peer = args.get(1).ok_or_else(|| MediumProblem::MissingPeer {
        iface: iface.clone(),
    })?;
    Ok(Some(Medium::Ucast {
        iface: iface.clone(),
        peer: peer.clone(),
        port,
    }))
}

/// `ucast6 <if> <addr>`.
pub(crate) fn ucast6(args: &[String], port: u16, sys: &dyn SystemLookup) -> LineResult {
    let iface = args.first().ok_or(MediumProblem::MissingInterface)?;
    check_iface(iface, sys)?;
    let peer = args.get(1).ok_or_else(|| MediumProblem::MissingPeer {
        iface: iface.clone(),
    })?;
    if !valid_ucast6(peer) {
        return Err(MediumProblem::BadUcast6Addr {
            iface: iface.clone(),
            value: peer.clone(),
        });
    }
    Ok(Some(Medium::Ucast6 {
        iface: iface.clone(),
        peer: peer.clone(),
        port,
    }))
}

/// `mcast <if> <group> <port> <ttl> <loop>`.
pub(crate) fn mcast(args: &[String], sys: &dyn SystemLookup) -> LineResult {
    let Some(iface) = args.first() else {
        return Ok(None);
    };
    check_iface(iface, sys)?;
    let group = args.get(1).ok_or_else(|| MediumProblem::MissingGroup {
        iface: iface.clone(),
    })?;
    let group_addr = group
        .parse::<Ipv4Addr>()
        .ok()
        .filter(Ipv4Addr::is_multicast)
        .ok_or_else(|| MediumProblem::BadMcastGroup {
            iface: iface.clone(),
            value: group.clone(),
        })?;
    let port = numeric_port(iface, args.get(2), None)?;
    let (ttl, loopback) = ttl_loop(iface, args.get(3), args.get(4))?;
    Ok(Some(Medium::Mcast {
        iface: iface.clone(),
        group: group_addr,
        port,
        ttl,
        loopback,
    }))
}

/// `mcast6 <if> <group> <port> <hops> <loop>`; the port may be a service name.
pub(crate) fn mcast6(args: &[String], sys: &dyn SystemLookup) -> LineResult {
    let iface = args.first().ok_or(MediumProblem::MissingInterface)?;
    check_iface(iface, sys)?;
    let group = args.get(1).ok_or_else(|| MediumProblem::MissingGroup {
        iface: iface.clone(),
    })?;
    let group_addr = group
        .parse::<Ipv6Addr>()
        .ok()
        .filter(valid_mcast6)
        .ok_or_else(|| MediumProblem::BadMcast6Group {
            iface: iface.clone(),
            value: group.clone(),
        })?;
    let port = numeric_port(iface, args.get(2), Some(sys))?;
    let (hops, loopback) = ttl_loop(iface, args.get(3), args.get(4))?;
    Ok(Some(Medium::Mcast6 {
        iface: iface.clone(),
        group: group_addr,
        port,
        hops,
        loopback,
    }))
}

/// `ping_group <name> <host>...`; host names are resolved to IPv4.
pub(crate) fn ping_group(args: &[String], sys: &dyn SystemLookup) -> LineResult {
    let name = args.first().ok_or(MediumProblem::MissingGroupName)?;
    let hosts = &args[1..];
    if hosts.is_empty() {
        return Err(MediumProblem::NoGroupHosts { name: name.clone() });
    }
    let mut addrs = Vec::with_capacity(hosts.len());
    for host in hosts {
        let addr = sys
            .resolve_ipv4(host)
            .ok_or_else(|| MediumProblem::BadGroupHost {
                name: name.clone(),
                host: host.clone(),
            })?;
        addrs.push(IpAddr::V4(addr));
    }
    Ok(Some(Medium::PingGroup {
        name: name.clone(),
        hosts: addrs,
    }))
}

fn check_iface(iface: &str, sys: &dyn SystemLookup) -> Result<(), MediumProblem> {
    if sys.interface_exists(iface) {
        Ok(())
    } else {
        Err(MediumProblem::NoSuchInterface {
            name: iface.to_string(),
        })
    }
}

fn numeric_port(
    iface: &str,
    word: Option<&String>,
    services: Option<&dyn SystemLookup>,
) -> Result<u16, MediumProblem> {
    let word = word.ok_or_else(|| MediumProblem::MissingPort {
        iface: iface.to_string(),
    })?;
    let bad = || MediumProblem::BadPort {
        iface: iface.to_string(),
        value: word.clone(),
    };
    if word.bytes().all(|b| b.is_ascii_digit()) {
        return u16::try_from(atoi(word))
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(bad);
    }
    services
        .and_then(|s| s.udp_service_port(word))
        .ok_or_else(bad)
}

fn ttl_loop(
    iface: &str,
    ttl: Option<&String>,
    lp: Option<&String>,
) -> Result<(u8, bool), MediumProblem> {
    let ttl = ttl.ok_or_else(|| MediumProblem::MissingTtl {
        iface: iface.to_string(),
    })?;
    let ttl_val = small_int(ttl)
        .filter(|t| *t <= 4)
        .ok_or_else(|| MediumProblem::BadTtl {
            iface: iface.to_string(),
            value: ttl.clone(),
        })?;
    let lp = lp.ok_or_else(|| MediumProblem::MissingLoop {
        iface: iface.to_string(),
    })?;
    let loop_val = small_int(lp)
        .filter(|l| *l <= 1)
        .ok_or_else(|| MediumProblem::BadLoop {
            iface: iface.to_string(),
            value: lp.clone(),
        })?;
    Ok((ttl_val, loop_val == 1))
}

/// A small non-negative decimal, read like `atoi` (trailing junk ignored).
fn small_int(word: &str) -> Option<u8> {
    u8::try_from(atoi(word)).ok()
}

/// The mcast6 plugin's plausibility rules: multicast, no unknown flags,
/// scope link/admin/site/organization, not all-zero group id.
fn valid_mcast6(addr: &Ipv6Addr) -> bool {
    let o = addr.octets();
    o[0] == 0xff
        && o[1] & 0xe0 == 0
        && matches!(o[1] & 0x0f, 0x2 | 0x4 | 0x5 | 0x8)
        && o[2..].iter().any(|b| *b != 0)
}

/// The ucast6 plugin's rules: an IPv6 literal (an `%scope` suffix allowed)
/// that is not multicast, unspecified or loopback.
fn valid_ucast6(peer: &str) -> bool {
    let literal = peer.split('%').next().unwrap_or("");
    match literal.parse::<Ipv6Addr>() {
        Ok(a) => !a.is_multicast() && !a.is_unspecified() && !a.is_loopback(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::FakeSystem;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn mcast_ok_and_errors() {
        let sys = FakeSystem::default();
        assert_eq!(
            mcast(&w("eth0 225.0.0.1 694 1 0"), &sys),
            Ok(Some(Medium::Mcast {
                iface: "eth0".into(),
                group: Ipv4Addr::new(225, 0, 0, 1),
                port: 694,
                ttl: 1,
                loopback: false
            }))
        );
        assert_eq!(mcast(&[], &sys), Ok(None));
        assert!(matches!(
            mcast(&w("eth9 225.0.0.1 694 1 0"), &sys),
            Err(MediumProblem::NoSuchInterface { .. })
        ));
        assert!(matches!(
            mcast(&w("eth0"), &sys),
            Err(MediumProblem::MissingGroup { .. })
        ));
        assert!(matches!(
            mcast(&w("eth0 10.0.0.1 694 1 0"), &sys),
            Err(MediumProblem::BadMcastGroup { .. })
        ));
        assert!(matches!(
            mcast(&w("eth0 225.0.0.1"), &sys),
            Err(MediumProblem::MissingPort { .. })
        ));
        assert!(matches!(
            mcast(&w("eth0 225.0.0.1 0 1 0"), &sys),
            Err(MediumProblem::BadPort { .. })
        ));
        assert!(matches!(
            mcast(&w("eth0 225.0.0.1 70000 1 0"), &sys),
            Err(MediumProblem::BadPort { .. })
        ));
        assert!(matches!(
            mcast(&w("eth0 225.0.0.1 694"), &sys),
            Err(MediumProblem::MissingTtl { .. })
        ));
        assert!(matches!(
            mcast(&w("eth0 225.0.0.1 694 5 0"), &sys),
            Err(MediumProblem::BadTtl { .. })
        ));
        assert!(matches!(
            mcast(&w("eth0 225.0.0.1 694 1"), &sys),
            Err(MediumProblem::MissingLoop { .. })
        ));
        assert!(matches!(
            mcast(&w("eth0 225.0.0.1 694 1 2"), &sys),
            Err(MediumProblem::BadLoop { .. })
        ));
    }

    #[test]
    fn mcast6_rules() {
        let mut sys = FakeSystem::default();
        sys.services.insert("ha-cluster".into(), 694);
        let m = mcast6(&w("eth0 ff05::1:3 ha-cluster 1 1"), &sys).unwrap();
        assert!(matches!(
            m,
            Some(Medium::Mcast6 {
                port: 694,
                hops: 1,
                loopback: true,
                ..
            })
        ));
        for bad in ["ff0e::1", "ff01::1", "ff05::", "2001:db8::1", "x"] {
            let args = w(&format!("eth0 {bad} 694 1 0"));
            assert!(
                matches!(
                    mcast6(&args, &sys),
                    Err(MediumProblem::BadMcast6Group { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            mcast6(&[], &sys),
            Err(MediumProblem::MissingInterface)
        ));
        assert!(matches!(
            mcast6(&w("eth0 ff02::1 nosvc 1 0"), &sys),
            Err(MediumProblem::BadPort { .. })
        ));
    }

    #[test]
    fn ucast_forms() {
        let sys = FakeSystem::default();
        assert_eq!(
            ucast(&w("eth0 peer.example"), 694),
            Ok(Some(Medium::Ucast {
                iface: "eth0".into(),
                peer: "peer.example".into(),
                port: 694
            }))
        );
        assert_eq!(ucast(&[], 694), Ok(None));
        assert!(matches!(
            ucast(&w("eth0"), 694),
            Err(MediumProblem::MissingPeer { .. })
        ));
        assert!(ucast6(&w("eth0 fe80::1%eth0"), 694, &sys).is_ok());
        for bad in ["::1", "::", "ff02::1", "10.0.0.1"] {
            assert!(matches!(
                ucast6(&w(&format!("eth0 {bad}")), 694, &sys),
                Err(MediumProblem::BadUcast6Addr { .. })
            ));
        }
    }

    #[test]
    fn ping_group_hosts() {
        let mut sys = FakeSystem::default();
        sys.hosts.insert("gw".into(), Ipv4Addr::new(198, 18, 0, 1));
        let m = ping_group(&w("g1 198.18.0.2 gw"), &sys).unwrap().unwrap();
        assert_eq!(
            m,
            Medium::PingGroup {
                name: "g1".into(),
                hosts: vec![
                    IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2)),
                    IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1))
                ]
            }
        );
        assert_eq!(ping_group(&[], &sys), Err(MediumProblem::MissingGroupName));
        assert!(matches!(
            ping_group(&w("g1"), &sys),
            Err(MediumProblem::NoGroupHosts { .. })
        ));
        assert!(matches!(
            ping_group(&w("g1 nohost"), &sys),
            Err(MediumProblem::BadGroupHost { .. })
        ));
    }
}
