//! The `heartbeat` command line (issue 2): `-D` and `-V` as the C daemon prints them, and
//! `--check-config` with `FILE:LINE: message` errors and exit code 6.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hb_tests::Daemon;

fn ours() -> PathBuf {
    Daemon::ours()
        .expect("built by cargo test --workspace")
        .binary()
        .to_path_buf()
}

fn run(args: &[&str]) -> Output {
    Command::new(ours())
        .args(args)
        .output()
        .expect("run our heartbeat")
}

/// A throwaway configuration directory; removed on drop.
struct ConfDir(PathBuf);

impl ConfDir {
    fn new(
        tag: &str,
        ha_cf: &str,
        authkeys: &str,
        authkeys_mode: u32,
        haresources: &str,
    ) -> ConfDir {
        let dir = std::env::temp_dir().join(format!("hb-cli-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("nodeinfo"), "nodea\n").unwrap();
        std::fs::write(dir.join("ha.cf"), ha_cf).unwrap();
        std::fs::write(dir.join("authkeys"), authkeys).unwrap();
        std::fs::set_permissions(
            dir.join("authkeys"),
            std::fs::Permissions::from_mode(authkeys_mode),
        )
        .unwrap();
        std::fs::write(dir.join("haresources"), haresources).unwrap();
        ConfDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn check(&self) -> Output {
        run(&["--check-config", "--confdir", self.0.to_str().unwrap()])
    }
}

impl Drop for ConfDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const GOOD_HA_CF: &str =
    "keepalive 1\ndeadtime 5\ninitdead 10\nbcast eth0\nauto_failback on\nnode nodea nodeb\n";
const GOOD_KEYS: &str = "auth 1\n1 sha1 secret\n";
const GOOD_RES: &str = "nodea 198.18.0.100/24/eth0\n";

#[test]
fn defaults_table_is_the_c_daemons() {
    let real = Command::new("/usr/libexec/heartbeat/heartbeat")
        .arg("-D")
        .output()
        .expect("the Debian heartbeat package is installed (scripts/test.sh does it)");
    let ours = run(&["-D"]);
    assert_eq!(ours.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&real.stdout)
    );
}

#[test]
fn version_starts_with_the_protocol_level() {
    let out = run(&["-V"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("3.0.6 "));
}

#[test]
fn unknown_option_prints_the_c_usage_and_exits_2() {
    let out = run(&["-x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("Usage: heartbeat [-dDkMrRsvWlVf] [-C Current-resource-state]"));
    // -C is only valid with -R.
    assert_eq!(run(&["-C", "all"]).status.code(), Some(2));
}

#[test]
fn a_valid_configuration_passes() {
    let d = ConfDir::new("good", GOOD_HA_CF, GOOD_KEYS, 0o600, GOOD_RES);
    let out = d.check();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("configuration is valid (2 nodes, 1 media, 1 resource groups)"));
}

#[test]
fn each_broken_file_names_file_and_line_and_exits_6() {
    let cases: [(&str, ConfDir, String); 4] = [
        (
            "unknown directive",
            ConfDir::new(
                "dir",
                "keepalive 1\ndeadtime 5\nbogus_directive 3\nbcast eth0\nnode nodea nodeb\n",
                GOOD_KEYS,
                0o600,
                GOOD_RES,
            ),
            "ha.cf:3:".into(),
        ),
        (
            "bad time value",
            ConfDir::new(
                "time",
                "keepalive 1\ndeadtime 5s\nbcast eth0\nnode nodea nodeb\n",
                GOOD_KEYS,
                0o600,
                GOOD_RES,
            ),
            "ha.cf:2:".into(),
        ),
        (
            "authkeys readable by others",
            ConfDir::new("mode", GOOD_HA_CF, GOOD_KEYS, 0o644, GOOD_RES),
            "authkeys".into(),
        ),
        (
            "haresources node not in ha.cf",
            ConfDir::new(
                "res",
                GOOD_HA_CF,
                GOOD_KEYS,
                0o600,
                "nodea 198.18.0.100\nnodez 198.18.0.101\n",
            ),
            "haresources:2:".into(),
        ),
    ];
    for (what, dir, needle) in &cases {
        let out = dir.check();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(6), "{what}: {err}");
        let line = err
            .lines()
            .find(|l| l.contains(needle.as_str()))
            .unwrap_or_else(|| panic!("{what}: no line naming {needle}: {err}"));
        assert!(
            line.starts_with(dir.path().to_str().unwrap()),
            "{what}: {line}"
        );
    }
}

#[test]
fn a_broken_configuration_refuses_to_start_with_exit_6() {
    let d = ConfDir::new(
        "start",
        "keepalive 1\ndeadtime 1\nbcast eth0\nnode nodea nodeb\n",
        GOOD_KEYS,
        0o600,
        GOOD_RES,
    );
    let state = d.path().join("state");
    let out = run(&[
        "-f",
        "--confdir",
        d.path().to_str().unwrap(),
        "--statedir",
        state.to_str().unwrap(),
        "--rundir",
        state.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(6));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Configuration error, heartbeat not started."),
        "{err}"
    );
    assert!(err.contains("ha.cf"), "{err}");
}
