//! Tests of `cl_status` that need no daemon.

use super::format::{js, js_opt, syslog_time};
use super::*;
use std::time::UNIX_EPOCH;

#[test]
fn syslog_time_format() {
    let t = UNIX_EPOCH + Duration::from_secs(1_795_321_340); // 2026-11-22 04:22:20 UTC
    assert_eq!(syslog_time(t), "Nov 22 04:22:20");
    assert_eq!(
        syslog_time(UNIX_EPOCH + Duration::from_secs(86_400 * 59)),
        "Mar 01 00:00:00"
    );
}

#[test]
fn json_escapes() {
    assert_eq!(js("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
    assert_eq!(js_opt(None), "null");
}

#[test]
fn help_and_bad_subcommand_without_daemon() {
    let opts = Options {
        socket: PathBuf::from("/nonexistent/heartbeat/register"),
        timeout: Duration::from_secs(1),
    };
    let run_it = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (mut o, mut e) = (Vec::new(), Vec::new());
        let rc = run(&args, &opts, &mut o, &mut e);
        (
            rc,
            String::from_utf8(o).unwrap(),
            String::from_utf8(e).unwrap(),
        )
    };
    assert_eq!(run_it(&["cl_status"]), (0, HELP.to_string(), String::new()));
    assert_eq!(run_it(&["cl_status", "-h"]).0, 0);
    let (rc, o, e) = run_it(&["cl_status", "bogus"]);
    assert_eq!((rc, o.as_str()), (11, ""));
    assert!(e.ends_with("ERROR: bogus: invalid sub-command.\n"), "{e}");
    let (rc, o, _) = run_it(&["cl_status", "hbstatus"]);
    assert_eq!(
        (rc, o.as_str()),
        (1, "Heartbeat is stopped on this machine.\n")
    );
    let (rc, o, _) = run_it(&["cl_status", "hbstatus", "-v"]);
    assert_eq!(
        (rc, o.as_str()),
        (1, "Heartbeat is stopped on this machine.\n(hb_api_signon: Can't initiate connection to heartbeat)\n")
    );
    let (rc, o, e) = run_it(&["cl_status", "nodestatus", "vm"]);
    assert_eq!((rc, o.as_str()), (1, ""));
    assert!(e.contains("ERROR: Cannot signon with heartbeat\n"), "{e}");
    assert!(e.contains("ERROR: REASON: hb_api_signon: Can't initiate connection to heartbeat\n"));
    // explain says what a missing API socket means (not running, or waiting for initdead).
    let (rc, o, e) = run_it(&["cl_status", "explain"]);
    assert_eq!(
        (rc, o.as_str()),
        (1, format!("{}\n", crate::report::NO_API).as_str())
    );
    assert!(e.contains("ERROR: Cannot signon with heartbeat\n"), "{e}");
    assert!(o.contains("waiting for its peers (up to initdead"), "{o}");
}
