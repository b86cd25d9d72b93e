//! The master's signals (docs/behaviour.md §1.8): SIGTERM shuts down, SIGHUP
//! rereads the configuration (docs/behaviour.md §1.10), SIGUSR1/SIGUSR2 change the
//! debug level, SIGCHLD reaps children.

use nix::sys::signal::{kill, Signal};

use super::Master;
use crate::hb_log;
use crate::logging::{self, Prio};
use crate::reload::Outcome;
use crate::version::HB_VERSION;

impl Master {
    pub(super) fn on_signals(&mut self) {
        for sig in self.signals.read_all() {
            match sig {
                Signal::SIGTERM => self.begin_shutdown(),
                Signal::SIGHUP => self.on_reload(),
                Signal::SIGUSR1 | Signal::SIGUSR2 => self.change_debug(sig),
                Signal::SIGCHLD => self.reap(),
                _ => {}
            }
        }
    }

    fn change_debug(&mut self, sig: Signal) {
        let old = logging::debug_level();
        let new = if sig == Signal::SIGUSR1 {
            old + 1
        } else {
            old.saturating_sub(1)
        };
        logging::set_debug_level(new);
        if new > 0 {
            std::env::set_var("HA_debug", new.to_string());
        } else {
            std::env::remove_var("HA_debug");
        }
        if old == 0 && new == 1 {
            hb_log!(Prio::Info, "heartbeat: version {}", HB_VERSION);
        }
        hb_log!(
            Prio::Debug,
            "debug now set to {new} [pid {}]",
            std::process::id()
        );
        for pid in self.core_pids() {
            let _ = kill(pid, sig);
        }
    }

    fn on_reload(&mut self) {
        self.systemd.notify("RELOADING=1");
        match self.reload.check(&self.paths) {
            Outcome::Unchanged => hb_log!(Prio::Info, "Configuration unchanged."),
            Outcome::NewKeys(keys) => {
                hb_log!(Prio::Info, "Rereading authentication file.");
                self.core.set_keys(*keys);
                // Ping children seal and check their echoes themselves: restart
                // them so they use the new keys too.
                for m in self.media.iter_mut().filter(|m| m.spec.is_ping()) {
                    hb_log!(
                        Prio::Info,
                        "Restarting {} {} with the new keys.",
                        m.spec.kind(),
                        m.spec.name()
                    );
                    m.rekeying = true;
                    for pid in m.writer.into_iter().chain(m.reader) {
                        let _ = kill(pid, Signal::SIGTERM);
                    }
                }
            }
            Outcome::Rejected(errors) => {
                for e in errors {
                    hb_log!(Prio::Error, "{e}");
                }
                hb_log!(
                    Prio::Error,
                    "Configuration reload refused: keeping the running configuration."
                );
            }
            Outcome::NeedsRestart => {
                // The new image says READY=1 at its comm up.
                self.begin_quick_restart();
                return;
            }
        }
        self.systemd.notify("READY=1");
    }
}
