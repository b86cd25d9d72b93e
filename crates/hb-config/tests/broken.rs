//! Broken fixture files: each must fail with exactly the listed errors, at
//! the listed lines, and the message must start with `FILE:LINE: `.

use std::path::{Path, PathBuf};

use hb_config::{
    parse_authkeys, parse_hacf, parse_haresources, ApiauthProblem, ConfigError,
    ConfigErrorKind as K, FakeSystem, MediumProblem, RespawnProblem,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/broken")
        .join(name)
}

fn errors_of(name: &str) -> Vec<ConfigError> {
    let path = fixture(name);
    let text = std::fs::read_to_string(&path).expect("fixture readable");
    let result = match path.extension().and_then(|e| e.to_str()) {
        Some("cf") => parse_hacf(&text, &path, "vm", &FakeSystem::default()).map(|_| ()),
        Some("keys") => parse_authkeys(&text, &path).map(|_| ()),
        Some("res") => parse_haresources(&text, &path, &["vm".into(), "ghost".into()]).map(|_| ()),
        _ => panic!("unknown fixture type {name}"),
    };
    result.expect_err(&format!("{name} must not parse"))
}

fn check(name: &str, expected: Vec<(Option<usize>, K)>) {
    let errors = errors_of(name);
    let got: Vec<(Option<usize>, K)> = errors.iter().map(|e| (e.line, e.kind.clone())).collect();
    assert_eq!(got, expected, "{name}");
    for e in &errors {
        let prefix = match e.line {
            Some(line) => format!("{}:{}: ", fixture(name).display(), line),
            None => format!("{}: ", fixture(name).display()),
        };
        let shown = e.to_string();
        assert!(
            shown.starts_with(&prefix),
            "{shown:?} should start with {prefix:?}"
        );
        assert!(
            shown.len() > prefix.len() + 10,
            "message too short: {shown:?}"
        );
    }
}

fn s(v: &str) -> String {
    v.to_string()
}

#[test]
fn hacf_line_errors() {
    check(
        "unknown_directive.cf",
        vec![(Some(8), K::UnknownDirective { name: s("Node") })],
    );
    check(
        "bad_keepalive.cf",
        vec![(
            Some(7),
            K::BadTime {
                directive: s("keepalive"),
                value: s("2s"),
                expected: "a time > 0 (seconds, or with ms/us unit: 2, 1.5, 500ms)",
            },
        )],
    );
    check(
        "bad_auto_failback.cf",
        vec![(
            Some(8),
            K::BadChoice {
                directive: s("auto_failback"),
                value: s("sometimes"),
                expected: "on, off (or another boolean word) or legacy",
            },
        )],
    );
}

#[test]
fn hacf_media_errors() {
    let iface = || s("eth0");
    check(
        "bad_mcast_group.cf",
        vec![(
            Some(7),
            K::BadMedium {
                directive: s("mcast"),
                problem: MediumProblem::BadMcastGroup {
                    iface: iface(),
                    value: s("192.168.1.1"),
                },
            },
        )],
    );
    check(
        "bad_mcast_ttl.cf",
        vec![(
            Some(7),
            K::BadMedium {
                directive: s("mcast"),
                problem: MediumProblem::BadTtl {
                    iface: iface(),
                    value: s("5"),
                },
            },
        )],
    );
    check(
        "bad_mcast_loop.cf",
        vec![(
            Some(7),
            K::BadMedium {
                directive: s("mcast"),
                problem: MediumProblem::BadLoop {
                    iface: iface(),
                    value: s("2"),
                },
            },
        )],
    );
    check(
        "bad_ping_group.cf",
        vec![(
            Some(8),
            K::BadMedium {
                directive: s("ping_group"),
                problem: MediumProblem::NoGroupHosts { name: s("uplinks") },
            },
        )],
    );
}

#[test]
fn hacf_whole_line_errors() {
    check(
        "respawn_old_path.cf",
        vec![(
            Some(8),
            K::BadRespawn {
                directive: s("respawn"),
                problem: RespawnProblem::NotExecutable {
                    path: s("/usr/lib/heartbeat/ipfail"),
                },
            },
        )],
    );
    check(
        "apiauth_unknown_user.cf",
        vec![(
            Some(8),
            K::BadApiauth {
                line: s("ipfail uid=nosuchuser"),
                problem: ApiauthProblem::UnknownUser {
                    name: s("nosuchuser"),
                },
            },
        )],
    );
}

#[test]
fn hacf_whole_file_errors() {
    check(
        "deadtime_small.cf",
        vec![(
            None,
            K::DeadtimeTooSmall {
                deadtime_ms: 2000,
                keepalive_ms: 1000,
            },
        )],
    );
    check(
        "initdead_small.cf",
        vec![(
            None,
            K::InitdeadTooSmall {
                initdead_ms: 5000,
                deadtime_ms: 10000,
            },
        )],
    );
    check(
        "missing_nodes.cf",
        vec![
            (None, K::NoNodes),
            (None, K::LocalNodeMissing { node: s("vm") }),
        ],
    );
    check(
        "local_node_missing.cf",
        vec![(None, K::LocalNodeMissing { node: s("vm") })],
    );
    check("no_media.cf", vec![(None, K::NoMedia)]);
}

#[test]
fn authkeys_errors() {
    check(
        "auth_after_key.keys",
        vec![(
            Some(3),
            K::AuthAfterKey {
                index: 1,
                key_line: 2,
            },
        )],
    );
    check(
        "missing_key.keys",
        vec![(Some(1), K::AuthKeyNotFound { index: 3 })],
    );
    check(
        "unknown_method.keys",
        vec![
            (Some(2), K::UnknownAuthMethod { name: s("sha256") }),
            (Some(1), K::AuthKeyNotFound { index: 1 }),
        ],
    );
    check(
        "crc_with_key.keys",
        vec![
            (Some(2), K::KeyNotUsed { method: s("crc") }),
            (Some(1), K::AuthKeyNotFound { index: 1 }),
        ],
    );
    check(
        "sha1_without_key.keys",
        vec![
            (Some(2), K::KeyRequired { method: s("sha1") }),
            (Some(1), K::AuthKeyNotFound { index: 1 }),
        ],
    );
    check(
        "index_out_of_range.keys",
        vec![(Some(3), K::AuthIndexRange { index: 16 })],
    );
    check("missing_auth.keys", vec![(None, K::MissingAuth)]);
}

#[test]
fn haresources_errors() {
    check(
        "bad_node.res",
        vec![(
            Some(3),
            K::BadNodeName {
                name: s("vn"),
                known: vec![s("vm"), s("ghost")],
            },
        )],
    );
}

/// Every fixture in the directory is covered by a test above.
#[test]
fn every_fixture_is_checked() {
    let source = include_str!("broken.rs");
    let dir = fixture("");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("fixture dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        assert!(
            source.contains(&format!("\"{name}\"")),
            "{name} has no check"
        );
        count += 1;
    }
    assert!(count >= 20, "only {count} fixtures");
}
