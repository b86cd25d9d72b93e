//! Quick restart (docs/behaviour.md §1.9.3): a SIGHUP (or `heartbeat -r`)
//! after ha.cf changed to a valid file stops the respawned clients and the
//! core children — releasing nothing — and execs `heartbeat -R -C <held>`
//! in the same process; the new image reads the new configuration, keeps the
//! pid file and resumes holding the same resource groups. Done well within
//! the peers' deadtime, so they see a new generation, not a death.

use super::slots::Shutdown;
use super::Master;
use crate::hb_log;
use crate::logging::Prio;

impl Master {
    /// Starts the quick restart, if the resources are stable.
    pub(super) fn begin_quick_restart(&mut self) {
        if !matches!(self.shutdown, Shutdown::Running) || self.restart {
            return;
        }
        let held = match self.rsc.as_ref().map(hb_rsc::ResourceManager::rsc_hold) {
            None => "none",
            Some(hb_rsc::RscStatus::Held(set)) => set.as_str(),
            Some(hb_rsc::RscStatus::Transition) => {
                hb_log!(
                    Prio::Warn,
                    "ha.cf changed, but resources are in transition: not restarting now; \
                     send SIGHUP (heartbeat -r) again when they are stable"
                );
                return;
            }
        };
        crate::restart::set_quick_restart(held);
        self.restart = true;
        self.close_watchdog();
        hb_log!(
            Prio::Info,
            "Heartbeat restart triggered (configuration changed)."
        );
        let n = self.clients.len();
        self.stop_next_client(n);
    }

    /// In the image of a quick restart: the groups of `held` still run here.
    pub fn resume_resources(&mut self, held: hb_rsc::RscSet) {
        if let Some(r) = self.rsc.as_mut() {
            r.resume(held);
        }
    }
}
