//! The daemon's log output: the `hb-log` crate, shared with the tools
//! (cluster-glue line formats; docs/behaviour.md §13.1).

pub use hb_log::{
    debug_level, emit, format_native, format_syslog_style, held_fds, init, prio_of,
    set_debug_level, set_stderr, LocalTime, LogTargets, Prio, DEV_LOG,
};
