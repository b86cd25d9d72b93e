//! Directive-by-directive tests of the ha.cf builder: happy path and error
//! path of every directive of docs/behaviour.md §3.3, and the docs/behaviour.md §3.4 checks.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use crate::error::{ApiauthProblem, ConfigErrorKind as K, MediumProblem, RespawnProblem};
use crate::hacf::{
    parse_hacf, AutoFailback, Autojoin, GenMethod, HaCf, MsgFmt, NodeKind, UuidFrom,
};
use crate::media::Medium;
use crate::system::FakeSystem;
use crate::Warning;

const PATH: &str = "/etc/ha.d//ha.cf";
/// The observed test configuration of docs/behaviour.md (local node `vm`).
const BASE: &str = "node vm\nnode ghost\nucast lo 127.0.0.1\nkeepalive 1\ndeadtime 5\n\
                    auto_failback on\nlogfile /var/log/ha-log\n";

fn parse_with(
    text: &str,
    sys: &FakeSystem,
) -> Result<(HaCf, Vec<Warning>), Vec<crate::ConfigError>> {
    parse_hacf(text, Path::new(PATH), "vm", sys)
}

/// BASE with `pre` before it and `post` after it; must parse.
fn ok2(pre: &str, post: &str) -> (HaCf, Vec<String>) {
    let text = format!("{pre}{BASE}{post}");
    match parse_with(&text, &FakeSystem::default()) {
        Ok((cfg, warnings)) => (cfg, warnings.into_iter().map(|w| w.text).collect()),
        Err(errs) => panic!("unexpected errors for {text:?}: {errs:?}"),
    }
}

fn ok(post: &str) -> HaCf {
    ok2("", post).0
}

/// Errors of BASE + `post` as (line, kind).
fn errs2(pre: &str, post: &str) -> Vec<(Option<usize>, K)> {
    let text = format!("{pre}{BASE}{post}");
    match parse_with(&text, &FakeSystem::default()) {
        Ok(_) => panic!("expected errors for {text:?}"),
        Err(errs) => errs.into_iter().map(|e| (e.line, e.kind)).collect(),
    }
}

/// The single error of BASE + `post`, which sits on line 8.
fn err(post: &str) -> K {
    let mut e = errs2("", post);
    assert_eq!(e.len(), 1, "{e:?}");
    let (line, kind) = e.remove(0);
    assert_eq!(line, Some(8), "{kind:?}");
    kind
}

fn bad(directive: &str, value: &str) -> (String, String) {
    (directive.to_string(), value.to_string())
}

#[test]
fn observed_configuration_and_computed_parameters() {
    let (c, warnings) = ok2("", "");
    assert_eq!(c.nodes, vec!["vm", "ghost"]);
    assert!(c.ping_nodes.is_empty());
    assert_eq!(
        c.media,
        vec![Medium::Ucast {
            iface: "lo".into(),
            peer: "127.0.0.1".into(),
            port: 694
        }]
    );
    assert_eq!(c.media_lines, vec![3]);
    assert_eq!((c.keepalive_ms, c.deadtime_ms), (1000, 5000));
    assert_eq!(
        (c.warntime_ms, c.initdead_ms, c.deadping_ms),
        (2500, 12000, 5000)
    );
    assert_eq!(c.udpport, 694);
    assert_eq!(c.auto_failback, AutoFailback::On);
    assert_eq!(c.param("keepalive"), Some("1"));
    assert_eq!(c.param("deadtime"), Some("5"));
    assert_eq!(c.param("warntime"), Some("2500ms"));
    assert_eq!(c.param("initdead"), Some("12000ms"));
    assert_eq!(c.param("deadping"), Some("5000ms"));
    assert_eq!(c.param("udpport"), Some("694"));
    assert_eq!(c.param("auto_failback"), Some("on"));
    assert_eq!(c.param("hbversion"), Some("3.0.6"));
    assert_eq!(c.param("debug"), Some("0"));
    assert_eq!(c.param("logfile"), Some("/var/log/ha-log"));
    assert_eq!(c.param("node"), None);
    assert!(c
        .param_env()
        .contains(&("HA_initdead".to_string(), "12000ms".to_string())));
    // Not-recorded directives stay out of the table.
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("Logging daemon is disabled")),
        "{warnings:?}"
    );
    assert!(
        !warnings.iter().any(|w| w.contains("legacy")),
        "{warnings:?}"
    );
}

#[test]
fn defaults_are_installed_and_recorded() {
    let c = ok("");
    for (name, default) in [
        ("cluster", "linux-ha"),
        ("hopfudge", "1"),
        ("baud", "19200"),
        ("hbgenmethod", "file"),
        ("realtime", "true"),
        ("msgfmt", "classic"),
        ("conn_logd_time", "60"),
        ("log_badpack", "true"),
        ("syslogmsgfmt", "true"),
        ("coredumps", "true"),
        ("pacemaker", "false"),
        ("autojoin", "none"),
        ("uuidfrom", "file"),
        ("compression", "zlib"),
        ("compression_threshold", "2"),
        ("traditional_compression", "no"),
        ("max_rexmit_delay", "250"),
        ("record_config_changes", "on"),
        ("record_pengine_inputs", "on"),
        ("enable_config_writes", "on"),
        ("memreserve", "6500"),
    ] {
        assert_eq!(c.param(name), Some(default), "{name}");
    }
    assert_eq!(c.cluster, "linux-ha");
    assert_eq!(c.hopfudge, 1);
    assert_eq!(c.baud, 19200);
    assert!(c.realtime && c.log_badpack && c.syslogmsgfmt && c.coredumps);
    assert_eq!(
        (c.msgfmt, c.hbgenmethod),
        (MsgFmt::Classic, GenMethod::File)
    );
    assert_eq!(c.conn_logd_time_ms, 60_000);
    assert_eq!((c.autojoin, c.uuidfrom), (Autojoin::None, UuidFrom::File));
    assert_eq!(
        (c.compression.as_str(), c.compression_threshold_kb),
        ("zlib", 2)
    );
    assert!(!c.traditional_compression);
    assert_eq!((c.max_rexmit_delay_ms, c.memreserve_kb), (250, 6500));
    assert!(c.record_config_changes && c.record_pengine_inputs && c.enable_config_writes);
    assert_eq!(c.coreroot, Path::new("/var/lib/heartbeat/cores"));
    assert_eq!(c.pacemaker, "false");
}

/// Writing every default explicitly gives the same configuration as
/// leaving them out: the typed initial values match the default strings.
#[test]
fn explicit_defaults_equal_implicit() {
    let explicit: String = crate::directives::DIRECTIVES
        .iter()
        .filter_map(|d| d.default.map(|v| format!("{} {}\n", d.name, v)))
        .filter(|l| {
            !l.starts_with("auto_failback")
                && !l.starts_with("keepalive")
                && !l.starts_with("deadtime")
        })
        .collect();
    let a = ok("");
    let b = ok2(&explicit, "").0;
    let strip = |mut c: HaCf| {
        c.params.sort();
        c.media_lines.clear();
        c
    };
    assert_eq!(strip(a), strip(b));
}

#[test]
fn cluster_and_quorum_server() {
    assert_eq!(ok("cluster prod\n").cluster, "prod");
    let c = ok("quorum_server qs.example\n");
    assert_eq!(c.cluster, "qs.example");
    assert_eq!(c.quorum_server.as_deref(), Some("qs.example"));
    assert_eq!(c.param("quorum_server"), Some("qs.example"));
}

#[test]
fn nodes_lowercased_commas_and_duplicates() {
    let (c, w) = ok2("", "node Third,FOURTH  fifth\nnode VM\n");
    assert_eq!(c.nodes, vec!["vm", "ghost", "third", "fourth", "fifth"]);
    assert!(
        w.iter()
            .any(|w| w.contains("node [vm] already declared on line 1")),
        "{w:?}"
    );
    assert_eq!(c.node_kind("Ghost"), Some(NodeKind::Normal));
}

#[test]
fn node_table_limit() {
    let many: String = (0..120).map(|i| format!("node n{i}\n")).collect();
    let (c, w) = ok2("", &many);
    assert_eq!(c.node_table.len(), 100);
    assert!(w.iter().any(|w| w.contains("node table full")));
}

#[test]
fn hopfudge() {
    assert_eq!(ok("hopfudge 0\n").hopfudge, 0);
    assert_eq!(ok("hopfudge 255\n").hopfudge, 255);
    assert_eq!(ok("hopfudge abc\n").hopfudge, 0, "atoi semantics, as in C");
    assert!(
        matches!(err("hopfudge 256\n"), K::BadNumber { directive, .. } if directive == "hopfudge")
    );
    assert!(matches!(err("hopfudge -1\n"), K::BadNumber { .. }));
}

#[test]
fn keepalive_and_deadtime() {
    let c = ok("keepalive 500ms\n");
    assert_eq!(c.keepalive_ms, 500);
    assert_eq!(c.param("keepalive"), Some("500ms"));
    assert_eq!(ok("deadtime 1.5\nkeepalive 300msec\n").deadtime_ms, 1500);
    // Option directives split on blanks: "300 msec" is two values, and
    // "msec" alone is not a time (as in the C daemon).
    assert!(matches!(err("keepalive 300 msec\n"), K::BadTime { value, .. } if value == "msec"));
    match err("keepalive 2s\n") {
        K::BadTime {
            directive, value, ..
        } => assert_eq!(bad(&directive, &value), bad("keepalive", "2s")),
        k => panic!("{k:?}"),
    }
    assert!(matches!(err("keepalive 0\n"), K::BadTime { .. }));
    assert!(
        matches!(err("deadtime 1m\n"), K::BadTime { directive, .. } if directive == "deadtime")
    );
}

#[test]
fn deadtime_must_exceed_twice_keepalive() {
    let e = errs2("", "keepalive 3\n");
    assert_eq!(
        e,
        vec![(
            None,
            K::DeadtimeTooSmall {
                deadtime_ms: 5000,
                keepalive_ms: 3000
            }
        )]
    );
    let text = e[0].1.to_string();
    assert!(text.contains("5000") && text.contains("3000"), "{text}");
}

#[test]
fn warntime() {
    let c = ok("warntime 2\n");
    assert_eq!(c.warntime_ms, 2000);
    assert_eq!(c.param("warntime"), Some("2"));
    assert!(matches!(err("warntime 0\n"), K::BadTime { directive, .. } if directive == "warntime"));
    let (_, w) = ok2("", "warntime 6\n");
    assert!(
        w.iter()
            .any(|w| w.contains("warntime [6000 ms] is not smaller than deadtime")),
        "{w:?}"
    );
}

#[test]
fn initdead() {
    let (c, w) = ok2("", "initdead 20\n");
    assert_eq!(c.initdead_ms, 20_000);
    assert!(!w.iter().any(|w| w.contains("may be too small")));
    let (c, w) = ok2("", "initdead 8\n");
    assert_eq!(c.initdead_ms, 8000);
    assert!(
        w.iter()
            .any(|w| w.contains("Initial dead time [8000 ms] may be too small!")),
        "{w:?}"
    );
    assert_eq!(
        errs2("", "initdead 4\n"),
        vec![(
            None,
            K::InitdeadTooSmall {
                initdead_ms: 4000,
                deadtime_ms: 5000
            }
        )]
    );
    assert!(matches!(err("initdead x\n"), K::BadTime { .. }));
    // Defaults: deadtime > 10 s -> deadtime; 6..10 s -> 2x; < 6 s -> 12 s.
    assert_eq!(ok("deadtime 30\n").initdead_ms, 30_000);
    assert_eq!(ok("deadtime 8\n").initdead_ms, 16_000);
    assert_eq!(ok("deadtime 5\n").param("initdead"), Some("12000ms"));
}

#[test]
fn deadping() {
    let c = ok("deadping 10\n");
    assert_eq!(c.deadping_ms, 10_000);
    assert_eq!(c.param("deadping"), Some("10"));
    assert_eq!(
        errs2("", "deadping 2\n"),
        vec![(
            None,
            K::DeadpingTooSmall {
                deadping_ms: 2000,
                keepalive_ms: 1000
            }
        )]
    );
    assert!(matches!(err("deadping -1\n"), K::BadTime { .. }));
}

#[test]
fn watchdog_once() {
    assert_eq!(
        ok("watchdog /dev/watchdog\n").watchdog.as_deref(),
        Some(Path::new("/dev/watchdog"))
    );
    assert_eq!(
        errs2("", "watchdog /dev/watchdog\nwatchdog /dev/other\n"),
        vec![(
            Some(9),
            K::Repeated {
                directive: "watchdog".into(),
                first_line: 8
            }
        )]
    );
}

#[test]
fn baud_and_serial_order() {
    let c = ok2("baud 115200\n", "serial /dev/ttyS0 /dev/ttyS1\n").0;
    assert_eq!(c.baud, 115200);
    assert_eq!(
        c.media[1],
        Medium::Serial {
            device: "/dev/ttyS0".into(),
            baud: 115200
        }
    );
    assert_eq!(
        c.media[2],
        Medium::Serial {
            device: "/dev/ttyS1".into(),
            baud: 115200
        }
    );
    assert_eq!(
        ok("serial /dev/ttyS0\n").media[1],
        Medium::Serial {
            device: "/dev/ttyS0".into(),
            baud: 19200
        }
    );
    assert!(matches!(err("baud 1234\n"), K::BadChoice { directive, .. } if directive == "baud"));
    // 3.0.6 accepts baud after a serial medium (with a note); the serial
    // plugin read the baud rate when its first medium was created.
    let (c, w) = ok2("", "serial /dev/ttyS0\nbaud 38400\n");
    assert_eq!(
        c.media[1],
        Medium::Serial {
            device: "/dev/ttyS0".into(),
            baud: 19200
        }
    );
    assert_eq!(c.param("baud"), Some("38400"));
    assert!(w
        .iter()
        .any(|w| w.contains("baudrate setting must precede media")));
    assert_eq!(
        errs2("", "baud 38400\nbaud 9600\n"),
        vec![(
            Some(9),
            K::Repeated {
                directive: "baud".into(),
                first_line: 8
            }
        )]
    );
}

#[test]
fn udpport_order_default_and_service() {
    let c = ok2("udpport 1694\n", "bcast eth0\n").0;
    assert_eq!(c.udpport, 1694);
    assert_eq!(
        c.media[0],
        Medium::Ucast {
            iface: "lo".into(),
            peer: "127.0.0.1".into(),
            port: 1694
        }
    );
    assert_eq!(
        c.media[1],
        Medium::Bcast {
            iface: "eth0".into(),
            port: 1694
        }
    );
    assert_eq!(c.param("udpport"), Some("1694"));
    assert!(matches!(err("udpport 0\n"), K::BadNumber { directive, .. } if directive == "udpport"));
    assert!(matches!(err("udpport 70000\n"), K::BadNumber { .. }));
    // 3.0.6 accepts udpport after media (with a note): each UDP plugin took
    // the port when its first medium was created and keeps it.
    let (c, w) = ok2("", "udpport 1694\nucast lo 127.0.0.2\nbcast eth0\n");
    assert_eq!(
        c.media[1],
        Medium::Ucast {
            iface: "lo".into(),
            peer: "127.0.0.2".into(),
            port: 694
        }
    );
    assert_eq!(
        c.media[2],
        Medium::Bcast {
            iface: "eth0".into(),
            port: 1694
        }
    );
    assert_eq!(c.param("udpport"), Some("1694"));
    assert!(w
        .iter()
        .any(|w| w.contains("udpport setting must precede media")));
    let mut sys = FakeSystem::default();
    sys.services.insert("ha-cluster".into(), 7000);
    sys.services.insert("syslog".into(), 514);
    let (c, _) = parse_with(BASE, &sys).unwrap();
    assert_eq!(c.udpport, 7000);
    assert_eq!(c.param("udpport"), Some("7000"));
    let (_, w) = parse_with(&format!("udpport 514\n{BASE}"), &sys).unwrap();
    assert!(
        w.iter()
            .any(|w| w.text == "udp port 514 reserved for service \"syslog\"."),
        "{w:?}"
    );
}

#[test]
fn logging_facility_files_and_logd() {
    let text = "node vm\nucast lo 127.0.0.1\nkeepalive 1\ndeadtime 5\nauto_failback on\n";
    let sys = FakeSystem::default();
    // Nothing configured: logd implied.
    let (c, w) = parse_with(text, &sys).unwrap();
    assert!(c.use_logd);
    assert_eq!(c.param("use_logd"), Some("yes"));
    assert!(w
        .iter()
        .any(|w| w.text == "No log entry found in ha.cf -- use logd"));
    // Facility only: files recorded as /dev/null.
    let (c, _) = parse_with(&format!("{text}logfacility local0\n"), &sys).unwrap();
    assert_eq!(c.logfacility.as_deref(), Some("local0"));
    assert!(c.syslog_enabled());
    assert_eq!(c.logfile, None);
    assert_eq!(c.param("logfile"), Some("/dev/null"));
    assert_eq!(c.param("debugfile"), Some("/dev/null"));
    // `none` is facility 0: no syslog, so logd is implied again.
    let (c, _) = parse_with(&format!("{text}logfacility none\n"), &sys).unwrap();
    assert!(!c.syslog_enabled() && c.use_logd);
    // logd on together with files.
    let (c, w) = parse_with(
        &format!("{text}debugfile /var/log/ha-debug\nuse_logd yes\n"),
        &sys,
    )
    .unwrap();
    assert!(c.use_logd);
    assert_eq!(c.debugfile.as_deref(), Some(Path::new("/var/log/ha-debug")));
    assert!(w
        .iter()
        .any(|w| w.text == "logd is enabled but logfile/debugfile is still configured in ha.cf"));
    // logd off and nothing else.
    let e = parse_with(&format!("{text}use_logd no\n"), &sys).unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].kind, K::NoLogging);
    assert!(
        matches!(err("logfacility foo\n"), K::BadChoice { directive, .. } if directive == "logfacility")
    );
    assert!(matches!(err("use_logd maybe\n"), K::BadBool { .. }));
}

#[test]
fn auto_failback_modes() {
    assert_eq!(ok("auto_failback off\n").auto_failback, AutoFailback::Off);
    assert_eq!(ok("auto_failback Yes\n").auto_failback, AutoFailback::On);
    let (c, w) = ok2("", "auto_failback LEGACY\n");
    assert_eq!(c.auto_failback, AutoFailback::Legacy);
    assert!(w
        .iter()
        .any(|w| w.starts_with("Deprecated 'legacy' auto_failback option selected.")));
    assert!(matches!(
        err("auto_failback sometimes\n"),
        K::BadChoice { .. }
    ));
    // Absent: legacy by default.
    let text = BASE.replace("auto_failback on\n", "");
    let (c, w) = parse_with(&text, &FakeSystem::default()).unwrap();
    assert_eq!(c.auto_failback, AutoFailback::Legacy);
    assert_eq!(c.param("auto_failback"), Some("legacy"));
    assert!(w.iter().any(|w| w.text.contains("legacy")));
}

#[test]
fn nice_failback_obsolete() {
    // After auto_failback on: changed to off.
    let (c, w) = ok2("", "nice_failback on\n");
    assert_eq!(c.auto_failback, AutoFailback::Off);
    assert!(w
        .iter()
        .any(|w| w.contains("nice_failback flag is obsolete")));
    assert!(w
        .iter()
        .any(|w| w.contains("'nice_failback on' has been changed to 'auto_failback off'")));
    assert_eq!(c.param("nice_failback"), None);
    // Without auto_failback on/off first: strictly legacy.
    let (c, w) = ok2("nice_failback on\n", "auto_failback legacy\n");
    assert_eq!(c.auto_failback, AutoFailback::Legacy);
    assert!(w
        .iter()
        .any(|w| w.contains("strictly interpreted as 'auto_failback legacy'")));
    assert!(matches!(err("nice_failback perhaps\n"), K::BadBool { .. }));
}

#[test]
fn rtprio_and_realtime() {
    assert_eq!(ok("rtprio 5\n").rtprio, Some(5));
    assert_eq!(ok("").rtprio, None);
    assert!(matches!(err("rtprio 200\n"), K::BadNumber { directive, .. } if directive == "rtprio"));
    assert!(matches!(err("rtprio 0\n"), K::BadNumber { .. }));
    assert!(!ok("realtime off\n").realtime);
    assert!(matches!(err("realtime fast\n"), K::BadBool { .. }));
}

#[test]
fn hbgenmethod_msgfmt_uuidfrom() {
    assert_eq!(ok("hbgenmethod time\n").hbgenmethod, GenMethod::Time);
    assert!(matches!(err("hbgenmethod Time\n"), K::BadChoice { .. }));
    assert_eq!(ok("msgfmt netstring\n").msgfmt, MsgFmt::Netstring);
    assert!(matches!(err("msgfmt xml\n"), K::BadChoice { .. }));
    assert_eq!(ok("uuidfrom nodename\n").uuidfrom, UuidFrom::Nodename);
    assert!(matches!(err("uuidfrom disk\n"), K::BadChoice { .. }));
}

#[test]
fn debug_level() {
    let c = ok("debug 3\n");
    assert_eq!(c.debug, 3);
    assert!(c.debug_from_file);
    assert_eq!(ok("debug foo\n").debug, 0);
    assert!(matches!(err("debug 256\n"), K::BadNumber { .. }));
    let mut c = ok("");
    c.apply_debug_flag(2);
    assert_eq!((c.debug, c.param("debug")), (2, Some("2")));
    let mut c = ok("debug 1\n");
    c.apply_debug_flag(2);
    assert_eq!((c.debug, c.param("debug")), (1, Some("1")));
}

#[test]
fn logd_time_and_booleans() {
    assert_eq!(ok("conn_logd_time 2\n").conn_logd_time_ms, 2000);
    assert!(matches!(err("conn_logd_time 0\n"), K::BadTime { .. }));
    let c = ok("use_apphbd yes\nlog_badpack no\nsyslogmsgfmt false\ncoredumps 0\ntraditional_compression y\n");
    assert!(
        c.use_apphbd
            && !c.log_badpack
            && !c.syslogmsgfmt
            && !c.coredumps
            && c.traditional_compression
    );
    assert_eq!(c.param("use_apphbd"), None, "use_apphbd is not recorded");
    for d in [
        "use_apphbd",
        "log_badpack",
        "syslogmsgfmt",
        "coredumps",
        "traditional_compression",
    ] {
        assert!(matches!(err(&format!("{d} 2\n")), K::BadBool { directive, .. } if directive == d));
    }
    let c = ok("record_config_changes off\nrecord_pengine_inputs no\nenable_config_writes 0\n");
    assert!(!c.record_config_changes && !c.record_pengine_inputs && !c.enable_config_writes);
    assert!(matches!(err("enable_config_writes x\n"), K::BadBool { .. }));
}

#[test]
fn coreroot() {
    assert_eq!(
        ok("coreroot /srv/cores\n").coreroot,
        Path::new("/srv/cores")
    );
    assert!(matches!(err("coreroot cores\n"), K::BadDirectory { .. }));
}

#[test]
fn pacemaker_and_crm_directives() {
    let c = ok("crm_daemon_dir /usr/lib/pacemaker\ncrmd_spawns_pengine yes\npacemaker off\n");
    assert_eq!(c.crm_daemon_dir.as_deref(), Some("/usr/lib/pacemaker"));
    assert_eq!(c.crmd_spawns_pengine, Some(true));
    assert_eq!(c.param("pacemaker"), Some("off"));
    assert_eq!(ok("crm no\n").param("pacemaker"), Some("no"));
    assert_eq!(ok("crm no\n").param("crm"), None);
    assert!(matches!(err("pacemaker on\n"), K::Unsupported { .. }));
    assert!(matches!(err("crm respawn\n"), K::Unsupported { .. }));
    assert!(matches!(err("pacemaker sure\n"), K::BadChoice { .. }));
    assert_eq!(
        errs2("", "pacemaker false\ncrm false\n"),
        vec![(
            Some(9),
            K::Repeated {
                directive: "pacemaker".into(),
                first_line: 8
            }
        )]
    );
    assert_eq!(
        errs2("", "pacemaker false\ncrm_daemon_dir /x\n"),
        vec![(
            Some(9),
            K::MustPrecedePacemaker {
                directive: "crm_daemon_dir".into(),
                pacemaker_line: 8
            }
        )]
    );
    assert!(matches!(err("crmd_spawns_pengine x\n"), K::BadBool { .. }));
}

#[test]
fn autojoin() {
    assert_eq!(ok("autojoin NONE\n").autojoin, Autojoin::None);
    assert_eq!(
        errs2("", "autojoin other\n"),
        vec![(
            None,
            K::AutojoinConflict {
                value: "other".into()
            }
        )]
    );
    assert!(matches!(err("autojoin some\n"), K::BadChoice { .. }));
}

#[test]
fn compression() {
    let c = ok("compression zlib\ncompression_threshold 4\n");
    assert_eq!(
        (c.compression.as_str(), c.compression_threshold_kb),
        ("zlib", 4)
    );
    assert_eq!(ok("compression bz2\n").compression, "bz2");
    assert!(matches!(err("compression lzo\n"), K::BadChoice { .. }));
    assert!(matches!(
        err("compression_threshold 0\n"),
        K::BadNumber { .. }
    ));
}

#[test]
fn env_settings() {
    let c = ok("env FOO=bar,EMPTY= X=a=b\n");
    assert_eq!(
        c.env,
        vec![
            ("FOO".into(), "bar".into()),
            ("EMPTY".into(), "".into()),
            ("X".into(), "a=b".into())
        ]
    );
    assert_eq!(c.env_vars()[0], ("HA_FOO".to_string(), "bar".to_string()));
    assert_eq!(c.param("env"), None);
    assert_eq!(
        err("env FOO\n"),
        K::BadEnv {
            value: "FOO".into()
        }
    );
    assert_eq!(err("env =x\n"), K::BadEnv { value: "=x".into() });
}

#[test]
fn rexmit_and_memreserve() {
    assert_eq!(ok("max_rexmit_delay 500\n").max_rexmit_delay_ms, 500);
    assert!(matches!(err("max_rexmit_delay 0\n"), K::BadNumber { .. }));
    assert_eq!(ok("memreserve 1000\n").memreserve_kb, 1000);
    assert!(matches!(err("memreserve -5\n"), K::BadNumber { .. }));
}

#[test]
fn apiauth_configured_and_builtin() {
    let c = ok("apiauth ipfail gid=haclient uid=hacluster\napiauth default gid=haclient\n");
    let ipfail = c.apiauth_for("ipfail").unwrap();
    assert_eq!(
        (ipfail.uids.clone(), ipfail.gids.clone(), ipfail.builtin),
        (vec![102], vec![105], false)
    );
    assert_eq!(c.apiauth_for("default").unwrap().gids, vec![105]);
    let anon = c.apiauth_for("anon").unwrap();
    assert_eq!(
        (anon.uids.clone(), anon.gids.clone(), anon.builtin),
        (vec![0], vec![105], true)
    );
    assert_eq!(c.apiauth_for("ccm").unwrap().uids, vec![102]);
    assert_eq!(c.apiauth_for("ping").unwrap().gids, vec![105]);
    assert_eq!(c.apiauth_for("lha-snmpagent").unwrap().uids, vec![0]);
    assert_eq!(c.apiauth.len(), 6);
    match err("apiauth ipfail uid=nosuchuser\n") {
        K::BadApiauth { line, problem } => {
            assert_eq!(line, "ipfail uid=nosuchuser");
            assert_eq!(
                problem,
                ApiauthProblem::UnknownUser {
                    name: "nosuchuser".into()
                }
            );
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(
        errs2("", "apiauth x uid=0\napiauth x gid=0\n"),
        vec![(
            Some(9),
            K::BadApiauth {
                line: "x gid=0".into(),
                problem: ApiauthProblem::DuplicateClient { client: "x".into() }
            }
        )]
    );
}

#[test]
fn builtin_apiauth_skips_unknown_accounts() {
    let mut sys = FakeSystem::default();
    sys.users.remove("hacluster");
    let (c, _) = parse_with(BASE, &sys).unwrap();
    assert!(c.apiauth_for("ipfail").is_none());
    assert!(c.apiauth_for("anon").is_some());
}

#[test]
fn respawn_and_failfast() {
    let c = ok("respawn hacluster /usr/libexec/heartbeat/ipfail\nfailfast root /usr/sbin/x -q\n");
    assert_eq!(c.respawn.len(), 2);
    assert_eq!(c.respawn[0].command, "/usr/libexec/heartbeat/ipfail");
    assert_eq!(
        (
            c.respawn[0].uid,
            c.respawn[0].gid,
            c.respawn[0].failfast,
            c.respawn[0].line
        ),
        (102, 105, false, 8)
    );
    assert!(c.respawn[1].failfast);
    assert_eq!(c.respawn[1].path, "/usr/sbin/x");
    assert_eq!(
        err("respawn hacluster /opt/ipfail\n"),
        K::BadRespawn {
            directive: "respawn".into(),
            problem: RespawnProblem::NotExecutable {
                path: "/opt/ipfail".into()
            }
        }
    );
    assert!(matches!(
        err("failfast nosuch /usr/bin/x\n"),
        K::BadRespawn {
            problem: RespawnProblem::UnknownUser { .. },
            ..
        }
    ));
}

#[test]
fn stonith_lines() {
    let c = ok("stonith baytech /etc/ha.d/conf/stonith.baytech\nstonith_host * baytech 10.0.0.3 login pw\n");
    assert_eq!(c.stonith[0].stonith_type, "baytech");
    assert_eq!(c.stonith_host[0].params, "10.0.0.3 login pw");
    assert!(matches!(err("stonith baytech\n"), K::BadStonith { .. }));
    assert!(matches!(err("stonith_host\n"), K::BadStonith { .. }));
}

#[test]
fn bcast_tokens_and_udp_alias() {
    let (c, w) = ok2("", "bcast eth0 eth1,eth2\nudp eth3\n");
    let ifaces: Vec<&str> = c.media.iter().skip(1).map(Medium::name).collect();
    assert_eq!(ifaces, vec!["eth0", "eth1", "eth2", "eth3"]);
    assert!(w.iter().any(|w| w == "directive 'udp' replaced by 'bcast'"));
    assert_eq!(c.media_lines, vec![3, 8, 8, 8, 9]);
}

#[test]
fn ping_media_join_the_node_table() {
    let c = ok(
        "ping 10.0.0.1,GW.example\nping6 fe80::1\nping_group Group1 10.10.10.254 10.10.10.253\n",
    );
    assert_eq!(
        c.ping_nodes,
        vec!["10.0.0.1", "gw.example", "fe80::1", "group1"]
    );
    let kinds: Vec<(String, NodeKind)> = c
        .node_table
        .iter()
        .map(|n| (n.name.clone(), n.kind))
        .collect();
    assert_eq!(kinds[1], ("ghost".to_string(), NodeKind::Normal));
    assert_eq!(kinds[2], ("10.0.0.1".to_string(), NodeKind::Ping));
    assert_eq!(
        c.media[2],
        Medium::Ping {
            host: "GW.example".into()
        }
    );
    assert_eq!(
        c.media[3],
        Medium::Ping6 {
            host: "fe80::1".into()
        }
    );
    assert_eq!(
        c.media[4],
        Medium::PingGroup {
            name: "Group1".into(),
            hosts: vec![
                IpAddr::V4(Ipv4Addr::new(10, 10, 10, 254)),
                IpAddr::V4(Ipv4Addr::new(10, 10, 10, 253))
            ]
        }
    );
    assert!(matches!(
        err("ping_group g1\n"),
        K::BadMedium {
            problem: MediumProblem::NoGroupHosts { .. },
            ..
        }
    ));
}

#[test]
fn mcast_and_ucast_lines() {
    let (c, w) = ok2("", "mcast eth0 225.0.0.1 694 1 0\nucast eth1 peer.example extra\nucast6 eth0 fe80::2%eth0\nmcast6 eth0 ff05::1:3 694 1 0\n");
    assert!(matches!(
        c.media[1],
        Medium::Mcast {
            ttl: 1,
            loopback: false,
            port: 694,
            ..
        }
    ));
    assert_eq!(
        c.media[2],
        Medium::Ucast {
            iface: "eth1".into(),
            peer: "peer.example".into(),
            port: 694
        }
    );
    assert!(matches!(c.media[3], Medium::Ucast6 { .. }));
    assert!(matches!(c.media[4], Medium::Mcast6 { .. }));
    assert!(
        w.iter()
            .any(|w| w.contains("ucast: words after the first 2 ignored: extra")),
        "{w:?}"
    );
    match err("mcast eth0 10.1.1.1 694 1 0\n") {
        K::BadMedium { directive, problem } => {
            assert_eq!(directive, "mcast");
            assert!(matches!(problem, MediumProblem::BadMcastGroup { .. }));
        }
        k => panic!("{k:?}"),
    }
    assert!(matches!(
        err("mcast eth0 225.0.0.1 694 9 0\n"),
        K::BadMedium {
            problem: MediumProblem::BadTtl { .. },
            ..
        }
    ));
    assert!(matches!(
        err("mcast eth0 225.0.0.1 694 1 3\n"),
        K::BadMedium {
            problem: MediumProblem::BadLoop { .. },
            ..
        }
    ));
    assert!(matches!(
        err("mcast eth9 225.0.0.1 694 1 0\n"),
        K::BadMedium {
            problem: MediumProblem::NoSuchInterface { .. },
            ..
        }
    ));
    assert!(matches!(
        err("ucast eth0\n"),
        K::BadMedium {
            problem: MediumProblem::MissingPeer { .. },
            ..
        }
    ));
    assert!(matches!(
        err("ucast6 eth0 ::1\n"),
        K::BadMedium {
            problem: MediumProblem::BadUcast6Addr { .. },
            ..
        }
    ));
    let (_, w) = ok2("", "ucast\n");
    assert!(w.iter().any(|w| w.contains("configures nothing")));
}

#[test]
fn too_many_media() {
    let ifaces: Vec<String> = (0..64).map(|i| format!("e{i}")).collect();
    let mut sys = FakeSystem::default();
    sys.interfaces.extend(ifaces.iter().cloned());
    let text = format!("{BASE}bcast {}\n", ifaces.join(" "));
    let e: Vec<_> = parse_with(&text, &sys)
        .expect_err("65 media")
        .into_iter()
        .map(|e| (e.line, e.kind))
        .collect();
    assert_eq!(e, vec![(Some(8), K::TooManyMedia { max: 64 })]);
}

#[test]
fn media_that_3_0_6_refuses_while_parsing() {
    assert!(matches!(
        err("bcast le0\n"),
        K::BadMedium {
            problem: MediumProblem::NoSuchInterface { .. },
            ..
        }
    ));
    let mut sys = FakeSystem::default();
    sys.absent.insert("/dev/cuaa0".into());
    let text = format!("{BASE}serial /dev/cuaa0\n");
    let e: Vec<_> = parse_with(&text, &sys)
        .expect_err("missing device")
        .into_iter()
        .map(|e| (e.line, e.kind))
        .collect();
    assert!(matches!(
        &e[0],
        (
            Some(8),
            K::BadMedium {
                problem: MediumProblem::NoSuchSerialPort { .. },
                ..
            }
        )
    ));
}

#[test]
fn accepted_directives_without_effect_say_so() {
    let (_, w) = ok2("", "use_apphbd yes\n");
    assert!(w
        .iter()
        .any(|w| w.contains("'use_apphbd' is accepted but has no effect")));
    let (_, w) = ok2("", "keepalive 2\n");
    assert!(!w.iter().any(|w| w.contains("no effect")));
}

#[test]
fn unknown_directives() {
    assert_eq!(
        err("Node vm\n"),
        K::UnknownDirective {
            name: "Node".into()
        }
    );
    assert!(err("hbaping fc-card\n")
        .to_string()
        .contains("not supported"));
    assert!(matches!(
        err("normalpoll true\n"),
        K::UnknownDirective { .. }
    ));
    let (_, w) = ok2("", "keepalive\n");
    assert!(w.iter().any(|w| w.contains("'keepalive' has no value")));
}

#[test]
fn whole_file_checks() {
    let sys = FakeSystem::default();
    let e = parse_with("keepalive 1\ndeadtime 5\nlogfile /x\n", &sys).unwrap_err();
    let kinds: Vec<K> = e.into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            K::NoMedia,
            K::NoNodes,
            K::LocalNodeMissing { node: "vm".into() }
        ]
    );
    let e = parse_with("node ghost\nbcast eth0\nlogfile /x\n", &sys).unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].to_string(), format!("{PATH}: current node [vm] not in configuration: cluster nodes are named by `uname -n` and must be declared with a `node` directive"));
    // Local node matched case-insensitively.
    assert!(parse_hacf(
        "node VM\nbcast eth0\nlogfile /x\n",
        Path::new(PATH),
        "Vm",
        &sys
    )
    .is_ok());
}

#[test]
fn all_line_errors_reported_in_order() {
    let text = "node vm\nrtprio 200\nlogfacility foo\napiauth ipfail uid=nosuchuser\n\
                respawn hacluster /usr/lib/heartbeat/ipfail\nwarntime 0\nbaud 1234\nbcast eth0\n";
    let e = parse_with(text, &FakeSystem::default()).unwrap_err();
    let lines: Vec<Option<usize>> = e.iter().map(|e| e.line).collect();
    assert_eq!(
        lines,
        vec![Some(2), Some(3), Some(4), Some(5), Some(6), Some(7)]
    );
    assert!(
        e[0].to_string()
            .starts_with("/etc/ha.d//ha.cf:2: `rtprio`: invalid value `200`"),
        "{}",
        e[0]
    );
}

#[test]
fn metrics_file_takes_an_absolute_path() {
    let c = ok("metrics_file /var/lib/prometheus/node-exporter/heartbeat.prom\n");
    assert_eq!(
        c.metrics_file.as_deref(),
        Some(Path::new(
            "/var/lib/prometheus/node-exporter/heartbeat.prom"
        ))
    );
    assert_eq!(ok("").metrics_file, None);
    assert!(matches!(
        err("metrics_file heartbeat.prom\n"),
        K::BadChoice { directive, .. } if directive == "metrics_file"
    ));
}
