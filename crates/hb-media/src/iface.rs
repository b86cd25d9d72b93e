//! What the media need to know about a network interface: that it exists,
//! its index, its first IPv4 address and its IPv4 broadcast address.
//!
//! The C plugins ask with `ioctl(SIOCGIF*)`; `getifaddrs(3)` (through nix)
//! gives the same facts without `unsafe` in this crate.

use std::net::Ipv4Addr;
use std::thread;

use nix::ifaddrs::getifaddrs;
use nix::net::if_::if_nametoindex;

use crate::{MediaError, Retry};

/// Facts about one interface at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfaceInfo {
    /// Interface name.
    pub name: String,
    /// Kernel interface index (for IPv6 scope ids and `IPV6_MULTICAST_IF`).
    pub index: u32,
    /// First IPv4 address, as `SIOCGIFADDR` reports it.
    pub ipv4: Option<Ipv4Addr>,
    /// IPv4 broadcast address of the first address that has one.
    pub broadcast: Option<Ipv4Addr>,
}

/// Looks the interface up once.
pub fn lookup(medium: &str, name: &str) -> Result<IfaceInfo, MediaError> {
    let no_such = || MediaError::NoSuchInterface {
        medium: medium.to_owned(),
        iface: name.to_owned(),
    };
    if name.is_empty() || name.contains('\0') {
        return Err(no_such());
    }
    let index = if_nametoindex(name).map_err(|_| no_such())?;
    let mut info = IfaceInfo {
        name: name.to_owned(),
        index,
        ipv4: None,
        broadcast: None,
    };
    let addrs = getifaddrs().map_err(|source| MediaError::InterfaceList {
        medium: medium.to_owned(),
        source,
    })?;
    for ifa in addrs.filter(|a| a.interface_name == name) {
        let Some(v4) = ifa.address.as_ref().and_then(|a| a.as_sockaddr_in()) else {
            continue;
        };
        info.ipv4.get_or_insert(v4.ip());
        let brd = ifa.broadcast.as_ref().and_then(|a| a.as_sockaddr_in());
        if let Some(b) = brd.map(|b| b.ip()).filter(|b| !b.is_unspecified()) {
            info.broadcast.get_or_insert(b);
        }
    }
    Ok(info)
}

/// Looks the interface up until it has an IPv4 address, as the C mcast plugin
/// does (an interface being brought up may not have its address yet).
pub fn lookup_with_ipv4(
    medium: &str,
    name: &str,
    retry: Retry,
) -> Result<(IfaceInfo, Ipv4Addr), MediaError> {
    let mut attempt = 1;
    loop {
        let info = lookup(medium, name)?;
        if let Some(a) = info.ipv4 {
            return Ok((info, a));
        }
        if attempt >= retry.tries {
            return Err(MediaError::NoIpv4Address {
                medium: medium.to_owned(),
                iface: name.to_owned(),
            });
        }
        attempt += 1;
        thread::sleep(retry.delay);
    }
}

/// Every IPv4 address configured on this host (network namespace); empty
/// if they cannot be listed.
pub fn local_ipv4() -> Vec<std::net::Ipv4Addr> {
    getifaddrs()
        .map(|all| {
            all.filter_map(|ifa| ifa.address.as_ref()?.as_sockaddr_in().map(|a| a.ip()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_interface_is_reported_by_name() {
        let err = lookup("ucast hbm-nope0", "hbm-nope0").expect_err("no such interface");
        assert!(
            matches!(err, MediaError::NoSuchInterface { ref iface, .. } if iface == "hbm-nope0")
        );
        assert_eq!(
            err.to_string(),
            "ucast hbm-nope0: interface \"hbm-nope0\" does not exist"
        );
    }

    #[test]
    fn loopback_has_index_and_address() {
        let lo = lookup("bcast lo", "lo").expect("lo exists");
        assert!(lo.index > 0);
        assert_eq!(lo.ipv4, Some(Ipv4Addr::LOCALHOST));
    }
}
