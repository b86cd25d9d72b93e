//! Debian's sample files (`/usr/share/doc/heartbeat/`) parse unchanged, and
//! realistic uncommented variants of them parse to the expected values.

use std::path::{Path, PathBuf};
use std::process::Command;

use hb_config::{
    parse_authkeys, parse_hacf, parse_haresources, ApiauthProblem, AutoFailback,
    ConfigErrorKind as K, FakeSystem, GenMethod, Medium, RespawnProblem,
};
use hb_proto::auth::Method;

const DOC: &str = "/usr/share/doc/heartbeat";

/// A sample file, plain or gzip-compressed (read with `zcat`).
fn sample(name: &str) -> (PathBuf, String) {
    let plain = Path::new(DOC).join(name);
    if let Ok(text) = std::fs::read_to_string(&plain) {
        return (plain, text);
    }
    let gz = Path::new(DOC).join(format!("{name}.gz"));
    assert!(
        gz.exists(),
        "{} not found: install the Debian heartbeat package (scripts/test.sh does)",
        gz.display()
    );
    let out = Command::new("zcat").arg(&gz).output().expect("run zcat");
    assert!(out.status.success(), "zcat {} failed", gz.display());
    (gz, String::from_utf8(out.stdout).expect("sample is UTF-8"))
}

/// Uncomment lines `#word...` whose first word is in `words`.
fn uncomment(text: &str, words: &[&str]) -> String {
    text.lines()
        .map(|l| match l.strip_prefix('#') {
            Some(rest)
                if words
                    .iter()
                    .any(|w| rest.starts_with(w) && rest[w.len()..].starts_with([' ', '\t'])) =>
            {
                rest.to_string()
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The sample's host: Linux and Solaris interface names exist.
fn ken3() -> FakeSystem {
    let mut sys = FakeSystem::default();
    sys.interfaces
        .extend(["le0", "le1", "le2"].iter().map(|s| s.to_string()));
    sys
}

#[test]
fn sample_hacf_as_shipped() {
    let (path, text) = sample("ha.cf");
    let raw = hb_config::lexer::lex(&text);
    let keys: Vec<&str> = raw.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, vec!["logfacility", "auto_failback"]);
    // Everything is commented out: only the whole-file checks fail, exactly
    // as the C daemon reports them.
    let errs = parse_hacf(&text, &path, "ken3", &ken3()).unwrap_err();
    let kinds: Vec<K> = errs.into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            K::NoMedia,
            K::NoNodes,
            K::LocalNodeMissing {
                node: "ken3".into()
            }
        ]
    );
}

/// All directive lines of the sample, uncommented as they stand: the C
/// daemon would reject exactly these lines too.
#[test]
fn sample_hacf_everything_uncommented() {
    let (path, text) = sample("ha.cf");
    let all = hb_config::directives::DIRECTIVES
        .iter()
        .map(|d| d.name)
        .chain(["hbaping"])
        .collect::<Vec<_>>();
    let text = uncomment(&text, &all);
    let errs = parse_hacf(&text, &path, "ken3", &ken3()).unwrap_err();
    let found: Vec<String> = errs
        .iter()
        .map(|e| match &e.kind {
            K::UnknownDirective { name } => format!("unknown {name}"),
            K::BadRespawn {
                problem: RespawnProblem::UnknownUser { user },
                ..
            } => format!("user {user}"),
            K::BadRespawn {
                problem: RespawnProblem::NotExecutable { path },
                ..
            } => format!("exec {path}"),
            K::BadApiauth {
                problem: ApiauthProblem::UnknownUser { name },
                ..
            } => format!("apiuser {name}"),
            K::BadApiauth {
                problem: ApiauthProblem::DuplicateClient { client },
                ..
            } => format!("dup {client}"),
            K::BadChoice {
                directive, value, ..
            } => format!("{directive} {value}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        found,
        vec![
            "unknown hbaping",
            "user userid",
            "exec /usr/lib/heartbeat/ipfail",
            "apiuser uidlist",
            "dup ipfail",
            "apiuser alanr",
            "msgfmt classic/netstring",
        ]
    );
}

/// A realistic configuration built from the sample: uncommented, with the
/// lines that cannot work on Debian 3.0.6 fixed the way an operator would.
#[test]
fn sample_hacf_realistic_variant() {
    let (path, text) = sample("ha.cf");
    let all = hb_config::directives::DIRECTIVES
        .iter()
        .map(|d| d.name)
        .collect::<Vec<_>>();
    let mut text = uncomment(&text, &all);
    for (from, to) in [
        ("respawn userid /path/name/to/run", ""),
        (
            "respawn hacluster /usr/lib/heartbeat/ipfail",
            "respawn hacluster /usr/libexec/heartbeat/ipfail",
        ),
        ("apiauth client-name gid=gidlist uid=uidlist", ""),
        ("apiauth ipfail uid=hacluster", ""),
        ("uid=alanr,root", "uid=root"),
        ("msgfmt  classic/netstring", "msgfmt netstring"),
    ] {
        assert!(text.contains(from), "sample changed: {from:?} not found");
        text = text.replacen(from, to, 1);
    }
    let (c, warnings) = parse_hacf(&text, &path, "ken3", &ken3()).unwrap_or_else(|e| {
        panic!(
            "errors: {:#?}",
            e.iter().map(ToString::to_string).collect::<Vec<_>>()
        )
    });
    assert_eq!(c.nodes, vec!["ken3", "kathy"]);
    assert_eq!(c.ping_nodes, vec!["10.10.10.254", "group1"]);
    assert_eq!(
        (c.keepalive_ms, c.deadtime_ms, c.warntime_ms, c.initdead_ms),
        (2000, 30_000, 10_000, 120_000)
    );
    assert_eq!(c.deadping_ms, 30_000);
    assert_eq!((c.udpport, c.baud), (694, 19200));
    assert_eq!(c.auto_failback, AutoFailback::On);
    assert_eq!(c.hbgenmethod, GenMethod::Time);
    assert!(!c.realtime);
    assert_eq!(c.debug, 1);
    assert_eq!(c.hopfudge, 1);
    assert_eq!(c.watchdog.as_deref(), Some(Path::new("/dev/watchdog")));
    assert_eq!(c.logfacility.as_deref(), Some("local0"));
    assert_eq!(c.logfile.as_deref(), Some(Path::new("/var/log/ha-log")));
    assert_eq!(c.debugfile.as_deref(), Some(Path::new("/var/log/ha-debug")));
    let kinds: Vec<&str> = c.media.iter().map(Medium::kind).collect();
    assert_eq!(
        kinds,
        vec![
            "serial",
            "serial",
            "serial",
            "serial",
            "bcast",
            "bcast",
            "bcast",
            "bcast",
            "bcast",
            "bcast",
            "mcast",
            "ucast",
            "ping",
            "ping_group"
        ]
    );
    assert_eq!(
        c.media[3],
        Medium::Serial {
            device: "/dev/cua/a".into(),
            baud: 19200
        }
    );
    assert_eq!(
        c.media[11],
        Medium::Ucast {
            iface: "eth0".into(),
            peer: "192.168.1.2".into(),
            port: 694
        }
    );
    assert_eq!(c.stonith.len(), 1);
    assert_eq!(c.stonith_host.len(), 3);
    assert_eq!(c.respawn.len(), 1);
    assert_eq!(c.respawn[0].command, "/usr/libexec/heartbeat/ipfail");
    let ipfail = c.apiauth_for("ipfail").unwrap();
    assert_eq!(
        (ipfail.uids.clone(), ipfail.gids.clone(), ipfail.builtin),
        (vec![102], vec![105], false)
    );
    assert_eq!(c.apiauth_for("ping").unwrap().uids, vec![0]);
    assert!(c.apiauth_for("cms").is_some() && c.apiauth_for("default").is_some());
    assert_eq!(c.param("initdead"), Some("120"));
    assert_eq!(c.param("compression_threshold"), Some("2"));
    assert!(warnings
        .iter()
        .any(|w| w.text.contains("Logging daemon is disabled")));
}

#[test]
fn sample_haresources() {
    let (path, text) = sample("haresources");
    assert_eq!(parse_haresources(&text, &path, &[]).unwrap(), vec![]);
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with("#just.") || l.starts_with("#node1 ") {
                &l[1..]
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let nodes = vec!["just.linux-ha.org".to_string(), "node1".to_string()];
    let groups = parse_haresources(&text, &path, &nodes).unwrap();
    let keys: Vec<&str> = groups.iter().map(|g| g.key()).collect();
    assert_eq!(
        keys,
        vec![
            "135.9.216.110",
            "135.9.216.110",
            "135.9.216.110",
            "135.9.216.3/28/eth0/135.9.216.12",
            "10.0.0.170"
        ]
    );
    assert_eq!(groups[2].resources.len(), 4);
    assert_eq!(groups[2].resources[3].script, "httpd");
    assert_eq!(groups[3].resources[0].script, "IPaddr");
    assert_eq!(groups[4].node, "node1");
    assert_eq!(
        groups[4].text,
        "node1 10.0.0.170 Filesystem::/dev/sda1::/data1::ext2"
    );
    assert_eq!(
        groups[4].resources[1].args,
        vec!["/dev/sda1", "/data1", "ext2"]
    );
}

#[test]
fn sample_authkeys() {
    let (path, text) = sample("authkeys");
    let errs = parse_authkeys(&text, &path).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].kind, K::MissingAuth);
    let text = text
        .lines()
        .map(|l| match l.strip_prefix('#') {
            Some(r) if r.starts_with("auth ") || r.starts_with(|c: char| c.is_ascii_digit()) => r,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let keys = parse_authkeys(&text, &path).unwrap();
    assert_eq!(keys.active, 1);
    assert_eq!(keys.active_key(), Some((Method::Crc, &b""[..])));
    assert_eq!(keys.key(2), Some((Method::Sha1, &b"HI!"[..])));
    assert_eq!(keys.key(3), Some((Method::Md5, &b"Hello!"[..])));
}
