//! Glue between the master and the resource manager: messages in, group
//! operations out, each run in a helper process (daemon.md §5).

use std::time::Duration;

use hb_rsc::{OpId, ResourceManager};
use hb_sys::shm::Role;
use nix::unistd::Pid;

use super::*;
use crate::hb_log;
use crate::logging::{self, Prio};
use crate::spawn;

/// Maps the resource manager's levels to log priorities.
fn rsc_prio(l: hb_rsc::Level) -> Prio {
    match l {
        hb_rsc::Level::Debug => Prio::Debug,
        hb_rsc::Level::Info => Prio::Info,
        hb_rsc::Level::Warn => Prio::Warn,
        hb_rsc::Level::Error => Prio::Error,
        hb_rsc::Level::Crit => Prio::Crit,
    }
}

/// Message types the resource manager consumes (protocol.md §9).
pub(super) const RESOURCE_TYPES: [&str; 8] = [
    "starting",
    "resource",
    "ask_resources",
    "ip-request",
    "ip-request-resp",
    "shutdone",
    "hb_takeover",
    "stonith",
];

impl Master {
    /// Carries out what the resource manager asked for.
    pub(super) fn drain_rsc(&mut self) {
        loop {
            let Some(out) = self.rsc.as_mut().and_then(ResourceManager::poll) else {
                return;
            };
            match out {
                hb_rsc::Output::Send(msg) => self.send_cluster(msg),
                hb_rsc::Output::Log(level, text) => logging::emit(rsc_prio(level), &text),
                hb_rsc::Output::Acquire { id, key } => {
                    self.run_group(id, &key, hb_rsc::runner::GroupOp::Acquire)
                }
                hb_rsc::Output::Release { id, key } => {
                    self.run_group(id, &key, hb_rsc::runner::GroupOp::Release)
                }
                hb_rsc::Output::ShutdownComplete => {
                    self.final_phase_at = Some(self.now() + FINAL_PHASE_DELAY_MS);
                }
            }
        }
    }

    /// Starts or stops a haresources group in a helper process, so the
    /// master loop never waits for a script.
    pub(super) fn run_group(&mut self, id: OpId, key: &str, op: hb_rsc::runner::GroupOp) {
        let Some(group) = self.groups.iter().find(|g| g.key() == key).cloned() else {
            hb_log!(Prio::Error, "no resource group with key {key}");
            let now = self.now();
            if let Some(r) = self.rsc.as_mut() {
                r.action_done(id, false, now);
            }
            return;
        };
        let mut env = hb_rsc::runner::ScriptEnv::new(&self.paths.confdir);
        env.vars = std::env::vars().collect();
        env.debug_log = self.hacf.debugfile.clone();
        if let Some(secs) = std::env::var("HEARTBEAT_RSC_TIMEOUT")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            env.timeout = Duration::from_secs(secs.max(1));
        }
        let title = match op {
            hb_rsc::runner::GroupOp::Acquire => format!("takegroup {key}"),
            hb_rsc::runner::GroupOp::Release => format!("givegroup {key}"),
        };
        let keep = logging::held_fds();
        match spawn::core_child(&title, &keep, None, false, move || {
            let _ = hb_sys::sched::make_normal();
            let _ = nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0));
            let result = hb_rsc::runner::run_group(op, &group, &env);
            for (level, line) in &result.log {
                logging::emit(rsc_prio(*level), line);
            }
            if result.reboot_required {
                2
            } else if result.ok {
                0
            } else {
                1
            }
        }) {
            Ok(pid) => {
                self.table_record(pid, Role::Helper, 0);
                self.helpers.insert(pid, id);
            }
            Err(e) => {
                hb_log!(Prio::Error, "cannot fork a resource helper: {e}");
                let now = self.now();
                if let Some(r) = self.rsc.as_mut() {
                    r.action_done(id, false, now);
                }
                self.drain_rsc();
            }
        }
    }
}
