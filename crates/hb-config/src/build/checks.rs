//! The whole-file checks of ha.cf (docs/behaviour.md §3.4), run after every line
//! was valid: defaults, node and media consistency, timing and logging.

use super::Builder;
use crate::directives::{self, HB_VERSION};
use crate::error::ConfigErrorKind as K;
use crate::hacf::{AutoFailback, Autojoin, NodeKind};

impl Builder<'_> {
    pub(super) fn post_parse(&mut self, local_node: &str) {
        // Defaults of every directive that has one and was not given.
        for dir in directives::DIRECTIVES {
            if let Some(default) = dir.default {
                if self.cfg.param(dir.name).is_none() {
                    self.cfg.set_param(dir.name, default);
                }
            }
        }
        if self.cfg.param("debug").is_none() {
            self.cfg.set_param("debug", "0");
        }
        if self.cfg.media.is_empty() {
            self.file_error(K::NoMedia);
        }
        let warntime = match self.warntime {
            Some(w) => w,
            None => {
                let w = self.cfg.deadtime_ms / 2;
                self.cfg.set_param("warntime", &format!("{w}ms"));
                w
            }
        };
        self.cfg.warntime_ms = warntime;
        if warntime >= self.cfg.deadtime_ms {
            self.warn(
                None,
                format!(
                    "warntime [{warntime} ms] is not smaller than deadtime [{} ms]: \
                     late heartbeat warnings will never be issued",
                    self.cfg.deadtime_ms
                ),
            );
        }
        if self.cfg.nodes.is_empty() && self.cfg.autojoin != Autojoin::Any {
            self.file_error(K::NoNodes);
        }
        let local = local_node.to_ascii_lowercase();
        if self.cfg.node_kind(&local).is_none() {
            if self.cfg.autojoin == Autojoin::Any {
                self.add_node(&local, NodeKind::Normal, 0);
                self.warn(
                    None,
                    format!("Current node [{local}] added to configuration."),
                );
            } else {
                self.file_error(K::LocalNodeMissing { node: local });
            }
        }
        self.timing_checks();
        if self.cfg.auto_failback == AutoFailback::Legacy {
            self.warn(
                None,
                "Deprecated 'legacy' auto_failback option selected. Please convert to \
                 'auto_failback on'. See documentation for conversion details.",
            );
        }
        self.logging_checks();
        if self.cfg.autojoin != Autojoin::None {
            let value = self.cfg.param("autojoin").unwrap_or("").to_string();
            self.file_error(K::AutojoinConflict { value });
        }
        self.cfg.set_param("hbversion", HB_VERSION);
    }

    fn timing_checks(&mut self) {
        let keepalive = self.cfg.keepalive_ms;
        let deadtime = self.cfg.deadtime_ms;
        if deadtime <= 2 * keepalive {
            self.file_error(K::DeadtimeTooSmall {
                deadtime_ms: deadtime,
                keepalive_ms: keepalive,
            });
        }
        let initdead = match self.initdead {
            Some(i) => i,
            None => {
                let i = if deadtime > 10_000 {
                    deadtime
                } else if deadtime < 6000 {
                    12_000
                } else {
                    2 * deadtime
                };
                self.cfg.set_param("initdead", &format!("{i}ms"));
                i
            }
        };
        self.cfg.initdead_ms = initdead;
        if initdead < deadtime {
            self.file_error(K::InitdeadTooSmall {
                initdead_ms: initdead,
                deadtime_ms: deadtime,
            });
        } else if initdead < 10_000 {
            self.warn(
                None,
                format!(
                    "Initial dead time [{initdead} ms] may be too small! Initial dead time accounts \
                     for slow network startup time. It should be >= deadtime and >= 10 seconds"
                ),
            );
        }
        match self.deadping {
            None => {
                self.cfg.deadping_ms = deadtime;
                self.cfg.set_param("deadping", &format!("{deadtime}ms"));
            }
            Some(dp) => {
                self.cfg.deadping_ms = dp;
                if dp <= 2 * keepalive {
                    self.file_error(K::DeadpingTooSmall {
                        deadping_ms: dp,
                        keepalive_ms: keepalive,
                    });
                }
            }
        }
        if self.cfg.param("udpport").is_none() {
            let port = self.cfg.udpport.to_string();
            self.cfg.set_param("udpport", &port);
        }
    }

    fn logging_checks(&mut self) {
        let facility_on = self.cfg.syslog_enabled();
        let any_log = self.cfg.logfile.is_some() || self.cfg.debugfile.is_some() || facility_on;
        if !any_log {
            match self.use_logd {
                None => {
                    self.warn(None, "No log entry found in ha.cf -- use logd");
                    self.cfg.set_param("use_logd", "yes");
                    self.cfg.use_logd = true;
                }
                Some(true) => self.cfg.use_logd = true,
                Some(false) => self.file_error(K::NoLogging),
            }
        } else if self.use_logd != Some(true) {
            self.warn(
                None,
                "Logging daemon is disabled --enabling logging daemon is recommended",
            );
        } else {
            self.cfg.use_logd = true;
            let fac = if facility_on { "/logfacility" } else { "" };
            self.warn(
                None,
                format!("logd is enabled but logfile/debugfile{fac} is still configured in ha.cf"),
            );
        }
        if facility_on {
            if self.cfg.logfile.is_none() {
                self.cfg.set_param("logfile", "/dev/null");
            }
            if self.cfg.debugfile.is_none() {
                self.cfg.set_param("debugfile", "/dev/null");
            }
        }
    }
}
