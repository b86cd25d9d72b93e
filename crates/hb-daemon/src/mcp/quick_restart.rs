//! The master's side of the quick restart (docs/behaviour.md §1.9.3): a
//! changed, valid ha.cf on SIGHUP stops the respawned clients and the core
//! children without releasing any resource, then [`crate::startup`] execs
//! the new image (`-R -C <held>`, see [`crate::quick_restart`]). The new
//! image calls [`Master::resume`].

use super::slots::{QuickRestart, Shutdown};
use super::Master;
use crate::hb_log;
use crate::logging::Prio;

/// How often a delayed quick restart checks again whether it may start.
const RETRY_MS: u64 = 500;
/// Between advertising the longer deadtime and stopping the children, so
/// the status carrying it leaves through the write children first.
const ANNOUNCE_MS: u64 = 100;

impl Master {
    /// A changed ha.cf was validated: restart into it, keeping the resources.
    pub(super) fn begin_quick_restart(&mut self) {
        if self.quick_restart.is_some() || self.shutdown != Shutdown::Running {
            return;
        }
        if let Err(e) = crate::quick_restart::exe_usable() {
            hb_log!(
                Prio::Error,
                "ha.cf changed but heartbeat cannot re-exec itself ({e}): keeping the running configuration."
            );
            return;
        }
        hb_log!(
            Prio::Info,
            "ha.cf changed: restarting heartbeat with the new configuration, resources are kept."
        );
        if self.quick_restart_busy() {
            hb_log!(
                Prio::Warn,
                "Restart delayed until communication is up and resource activity finishes."
            );
        }
        self.quick_restart = Some(QuickRestart::Delayed(self.now()));
        self.quick_restart_tick();
    }

    /// Not now: before comm up, or while a resource operation runs or the
    /// resource state is in transition.
    fn quick_restart_busy(&self) -> bool {
        !self.comm_up
            || !self.helpers.is_empty()
            || self.rsc.as_ref().is_some_and(|r| !r.is_stable())
    }

    /// Timer of a requested quick restart (see [`QuickRestart`]).
    pub(super) fn quick_restart_tick(&mut self) {
        let now = self.now();
        match self.quick_restart {
            Some(QuickRestart::Delayed(t)) if now >= t => {
                if self.shutdown != Shutdown::Running {
                    // A shutdown or full restart began meanwhile: it wins.
                    self.quick_restart = None;
                    return;
                }
                if self.quick_restart_busy() {
                    self.quick_restart = Some(QuickRestart::Delayed(now + RETRY_MS));
                    return;
                }
                self.core
                    .add_deadtime(now, Self::wall(), crate::quick_restart::DEADTIME_MARGIN_MS);
                self.drain_core();
                self.quick_restart = Some(QuickRestart::Stopping(now + ANNOUNCE_MS));
            }
            Some(QuickRestart::Stopping(t)) if now >= t => {
                self.quick_restart = None;
                let (held, peer) = self
                    .rsc
                    .as_ref()
                    .map_or((hb_rsc::RscSet::NONE, hb_rsc::RscSet::NONE), |r| {
                        (r.held_set(), r.peer_held())
                    });
                crate::quick_restart::request(crate::quick_restart::Request {
                    held: held.as_str().to_string(),
                    peer: peer.as_str().to_string(),
                    notify_socket: self.systemd.env_value(),
                });
                self.restart = true;
                self.shutdown = Shutdown::Releasing;
                hb_log!(
                    Prio::Info,
                    "Heartbeat restart in progress, keeping the resources ({}). ({})",
                    held.as_str(),
                    std::process::id()
                );
                let n = self.clients.len();
                self.stop_next_client(n);
            }
            _ => {}
        }
    }

    /// The write children are about to stop: if this shutdown ends in a
    /// quick restart, note where our message stream ends so the new image
    /// continues it.
    pub(super) fn quick_restart_capture(&mut self) {
        if self.restart && crate::quick_restart::requested().is_some() {
            crate::quick_restart::set_stream(self.core.config().generation, self.core.last_seq());
        }
    }

    /// The re-exec'd image (`-R -C <held>`): take over the groups the
    /// previous image held, without running any resource script.
    /// `peer`: what the previous image knew the peer to hold.
    pub fn resume(&mut self, held: Option<&str>, peer: Option<&str>) {
        if self.rsc.is_none() {
            return;
        }
        let set = |what: &str, value: Option<&str>| match value
            .map(|v| (v, hb_rsc::RscSet::parse(v)))
        {
            Some((_, Some(set))) => set,
            Some((text, None)) => {
                hb_log!(
                    Prio::Error,
                    "restart: unknown {what} resource state '{text}' (none, local, foreign or all): assuming none."
                );
                hb_rsc::RscSet::NONE
            }
            None => hb_rsc::RscSet::NONE,
        };
        let (held, peer) = (set("current", held), set("peer", peer));
        if let Some(rsc) = self.rsc.as_mut() {
            rsc.resume(held, peer);
        }
        self.drain_rsc();
    }
}
