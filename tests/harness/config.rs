//! Builder for the three Heartbeat configuration files (ha.cf, authkeys, haresources).
//!
//! The defaults are short timings that the real 3.0.6 daemon accepts and that keep a test
//! quick: keepalive 1 s, deadtime 5 s, warntime 3 s, initdead 10 s; sha1 auth; logging to
//! `/var/log/ha-log` and `/var/log/ha-debug` (inside the node, so per node).  ha.cf is read
//! line by line and order matters (udpport and baud must precede the media), so the builder
//! always writes settings, then media, then everything else.

use std::net::Ipv4Addr;

/// How cluster messages are signed (authkeys key 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// HMAC-SHA1 with the given key.
    Sha1(String),
    /// HMAC-MD5 with the given key.
    Md5(String),
    /// CRC (no secret).
    Crc,
}

/// One communication medium line of ha.cf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Media {
    /// `bcast IFACE`
    Bcast(String),
    /// `mcast IFACE GROUP PORT TTL LOOP`
    Mcast {
        iface: String,
        group: Ipv4Addr,
        port: u16,
        ttl: u8,
        loopback: bool,
    },
    /// `ucast IFACE PEER`
    Ucast(String, Ipv4Addr),
    /// `serial DEVICE` (e.g. `/run/ttyHB` from a [`crate::SerialCable`])
    Serial(String),
}

/// The rendered files, ready for [`crate::Node::apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// Contents of `/etc/ha.d/ha.cf`.
    pub ha_cf: String,
    /// Contents of `/etc/ha.d/authkeys` (written with mode 0600).
    pub authkeys: String,
    /// Contents of `/etc/ha.d/haresources`.
    pub haresources: String,
}

/// Builds a [`ClusterConfig`]; see the module docs for defaults.
#[derive(Debug, Clone)]
pub struct ConfigBuilder {
    nodes: Vec<String>,
    keepalive: String,
    deadtime: String,
    warntime: String,
    initdead: String,
    udpport: Option<u16>,
    baud: Option<u32>,
    media: Vec<Media>,
    auth: Auth,
    auto_failback: String,
    respawn: Vec<(String, String)>,
    ping: Vec<Ipv4Addr>,
    resources: Vec<String>,
    extra: Vec<String>,
}

impl ConfigBuilder {
    /// A cluster of `nodes` (host names such as `nodea`, see [`crate::Lan::node_names`]).
    pub fn new<S: AsRef<str>>(nodes: &[S]) -> Self {
        ConfigBuilder {
            nodes: nodes.iter().map(|n| n.as_ref().to_string()).collect(),
            keepalive: "1".into(),
            deadtime: "5".into(),
            warntime: "3".into(),
            initdead: "10".into(),
            udpport: None,
            baud: None,
            media: Vec::new(),
            auth: Auth::Sha1("hb-tests-secret".into()),
            auto_failback: "on".into(),
            respawn: Vec::new(),
            ping: Vec::new(),
            resources: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// Sets keepalive/deadtime/warntime/initdead (Heartbeat syntax: `"2"`, `"500ms"`).
    pub fn timings(
        mut self,
        keepalive: &str,
        deadtime: &str,
        warntime: &str,
        initdead: &str,
    ) -> Self {
        self.keepalive = keepalive.into();
        self.deadtime = deadtime.into();
        self.warntime = warntime.into();
        self.initdead = initdead.into();
        self
    }

    /// `udpport N` (written before the media).
    pub fn udpport(mut self, port: u16) -> Self {
        self.udpport = Some(port);
        self
    }

    /// `baud N` (written before the media).
    pub fn baud(mut self, baud: u32) -> Self {
        self.baud = Some(baud);
        self
    }

    /// Adds any medium.
    pub fn media(mut self, media: Media) -> Self {
        self.media.push(media);
        self
    }

    /// `bcast IFACE`
    pub fn bcast(self, iface: &str) -> Self {
        self.media(Media::Bcast(iface.into()))
    }

    /// `mcast IFACE GROUP PORT 1 0`
    pub fn mcast(self, iface: &str, group: Ipv4Addr, port: u16) -> Self {
        self.media(Media::Mcast {
            iface: iface.into(),
            group,
            port,
            ttl: 1,
            loopback: false,
        })
    }

    /// `ucast IFACE PEER` (a node's ha.cf lists its peers, not itself).
    pub fn ucast(self, iface: &str, peer: Ipv4Addr) -> Self {
        self.media(Media::Ucast(iface.into(), peer))
    }

    /// `serial DEVICE`
    pub fn serial(self, device: &str) -> Self {
        self.media(Media::Serial(device.into()))
    }

    /// Sets the authkeys method.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// `auto_failback on|off|legacy`
    pub fn auto_failback(mut self, value: &str) -> Self {
        self.auto_failback = value.into();
        self
    }

    /// `respawn USER COMMAND`
    pub fn respawn(mut self, user: &str, command: &str) -> Self {
        self.respawn.push((user.into(), command.into()));
        self
    }

    /// `ping ADDRESS`
    pub fn ping(mut self, address: Ipv4Addr) -> Self {
        self.ping.push(address);
        self
    }

    /// One haresources line, e.g. `"nodea IPaddr2::198.18.0.100/24/eth0"`.
    pub fn resource(mut self, line: &str) -> Self {
        self.resources.push(line.into());
        self
    }

    /// Any other ha.cf line, written last.
    pub fn extra(mut self, line: &str) -> Self {
        self.extra.push(line.into());
        self
    }

    /// Renders the three files. Without any medium, `bcast eth0` is used.
    pub fn build(&self) -> ClusterConfig {
        let mut cf = String::from("# generated by hb-tests ConfigBuilder\n");
        let mut line = |s: String| {
            cf.push_str(&s);
            cf.push('\n');
        };
        line("logfile /var/log/ha-log".into());
        line("debugfile /var/log/ha-debug".into());
        line(format!("keepalive {}", self.keepalive));
        line(format!("deadtime {}", self.deadtime));
        line(format!("warntime {}", self.warntime));
        line(format!("initdead {}", self.initdead));
        if let Some(port) = self.udpport {
            line(format!("udpport {port}"));
        }
        if let Some(baud) = self.baud {
            line(format!("baud {baud}"));
        }
        let default_media = [Media::Bcast("eth0".into())];
        let media = if self.media.is_empty() {
            &default_media[..]
        } else {
            &self.media[..]
        };
        for m in media {
            line(match m {
                Media::Bcast(iface) => format!("bcast {iface}"),
                Media::Mcast {
                    iface,
                    group,
                    port,
                    ttl,
                    loopback,
                } => {
                    format!("mcast {iface} {group} {port} {ttl} {}", u8::from(*loopback))
                }
                Media::Ucast(iface, peer) => format!("ucast {iface} {peer}"),
                Media::Serial(device) => format!("serial {device}"),
            });
        }
        line(format!("auto_failback {}", self.auto_failback));
        line("crm no".into());
        for node in &self.nodes {
            line(format!("node {node}"));
        }
        for address in &self.ping {
            line(format!("ping {address}"));
        }
        for (user, command) in &self.respawn {
            line(format!("respawn {user} {command}"));
        }
        for extra in &self.extra {
            line(extra.clone());
        }

        let authkeys = match &self.auth {
            Auth::Sha1(key) => format!("auth 1\n1 sha1 {key}\n"),
            Auth::Md5(key) => format!("auth 1\n1 md5 {key}\n"),
            Auth::Crc => "auth 1\n1 crc\n".to_string(),
        };
        let mut haresources = String::from("# generated by hb-tests ConfigBuilder\n");
        for r in &self.resources {
            haresources.push_str(r);
            haresources.push('\n');
        }
        ClusterConfig {
            ha_cf: cf,
            authkeys,
            haresources,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_precede_media_and_nodes_follow() {
        let cfg = ConfigBuilder::new(&["nodea", "nodeb"])
            .udpport(700)
            .ucast("eth0", Ipv4Addr::new(198, 18, 0, 12))
            .auth(Auth::Crc)
            .build();
        let lines: Vec<&str> = cfg.ha_cf.lines().collect();
        let pos = |l: &str| lines.iter().position(|x| *x == l).unwrap_or(usize::MAX);
        assert!(pos("udpport 700") < pos("ucast eth0 198.18.0.12"));
        assert!(pos("ucast eth0 198.18.0.12") < pos("node nodea"));
        assert!(pos("node nodeb") != usize::MAX);
        assert!(
            !cfg.ha_cf.contains("bcast"),
            "explicit media replace the default"
        );
        assert_eq!(cfg.authkeys, "auth 1\n1 crc\n");
    }

    #[test]
    fn defaults_are_bcast_sha1_and_short_timings() {
        let cfg = ConfigBuilder::new(&["nodea"])
            .resource("nodea 198.18.0.100")
            .build();
        for want in [
            "bcast eth0",
            "keepalive 1",
            "deadtime 5",
            "initdead 10",
            "logfile /var/log/ha-log",
        ] {
            assert!(
                cfg.ha_cf.lines().any(|l| l == want),
                "missing {want:?} in\n{}",
                cfg.ha_cf
            );
        }
        assert!(cfg.authkeys.contains("1 sha1 "));
        assert!(cfg.haresources.lines().any(|l| l == "nodea 198.18.0.100"));
    }

    #[test]
    fn mcast_line_has_all_five_fields() {
        let cfg = ConfigBuilder::new(&["nodea"])
            .mcast("eth1", Ipv4Addr::new(239, 0, 0, 1), 694)
            .build();
        assert!(
            cfg.ha_cf
                .lines()
                .any(|l| l == "mcast eth1 239.0.0.1 694 1 0"),
            "{}",
            cfg.ha_cf
        );
    }
}
