//! Logging of heartbeat's client programs (ipfail, dopd,
//! drbd-peer-outdater), as cluster-glue's `cl_inherit_logging_environment`
//! sets it up (docs/behaviour.md §13): the destinations come from the
//! lower-case `HA_*` variables heartbeat exports to the processes it starts
//! (`HA_logfile`, `HA_debugfile`, `HA_logfacility`, `HA_syslogmsgfmt`,
//! `HA_debug`).

use std::path::PathBuf;

use hb_log::LogTargets;

/// Installs the logger for `entity`. `default_facility` is the syslog
/// facility used when `HA_logfacility` is not set (`None`: no syslog);
/// `min_debug` is the lowest debug level (1 sends debug lines to the debug
/// file whatever `HA_debug` says, as the C clients do).
pub fn init(entity: &str, default_facility: Option<i32>, min_debug: u32) {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let targets = LogTargets {
        logfile: var("HA_logfile").map(PathBuf::from),
        debugfile: var("HA_debugfile").map(PathBuf::from),
        facility: var("HA_logfacility")
            .map_or(default_facility, |f| hb_config::value::facility_code(&f)),
        stderr: true,
        syslog_format: var("HA_syslogmsgfmt")
            .and_then(|v| hb_config::value::parse_bool(&v))
            .unwrap_or(true),
        syslog_socket: None,
        logd: None,
    };
    let debug = var("HA_debug").and_then(|d| d.parse().ok()).unwrap_or(0u32);
    hb_log::init(entity, targets, debug.max(min_debug));
}
