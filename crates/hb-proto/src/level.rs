//! Log priorities, shared by the engine (its events carry the C daemon's
//! log lines), the daemon and the tools.

/// A log priority, named like the cluster-glue logger prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `EMERG`
    Emerg,
    /// `ALERT`
    Alert,
    /// `CRIT`
    Crit,
    /// `ERROR`
    Error,
    /// `WARN`
    Warn,
    /// `notice`
    Notice,
    /// `info`
    Info,
    /// `debug`
    Debug,
}

impl Level {
    /// The priority string as it appears in Heartbeat's log lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Emerg => "EMERG",
            Level::Alert => "ALERT",
            Level::Crit => "CRIT",
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Notice => "notice",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }
}
