//! `heartbeat -D` / `-D -W` output (docs/behaviour.md §2.1). The fixtures were
//! captured from the installed Debian binary; the first one is byte-equal to
//! the text quoted in docs/behaviour.md.

use hb_config::defaults_table;

const D: &str = include_str!("data/defaults_D.txt");
const DW: &str = include_str!("data/defaults_DW.txt");

#[test]
fn plain_table_is_byte_equal() {
    assert_eq!(defaults_table(false), D);
}

#[test]
fn wiki_table_is_byte_equal() {
    assert_eq!(defaults_table(true), DW);
}

#[test]
fn plain_table_layout() {
    let table = defaults_table(false);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[1], "-".repeat(80));
    assert_eq!(lines.len(), 2 + 24);
    assert!(lines[2].starts_with("cluster                  linux-ha  the name of cluster"));
}

/// When the real daemon is installed, compare with it live too.
#[test]
fn matches_installed_binary() {
    let bin = "/usr/libexec/heartbeat/heartbeat";
    assert!(
        std::path::Path::new(bin).exists(),
        "{bin} missing: install the Debian heartbeat package (scripts/test.sh does)"
    );
    for (args, wiki) in [(&["-D"][..], false), (&["-D", "-W"][..], true)] {
        let out = std::process::Command::new(bin)
            .args(args)
            .output()
            .expect("run heartbeat -D");
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            defaults_table(wiki),
            "{args:?}"
        );
    }
}
