//! Glue between the master and the resource manager: messages in, group
//! operations out, each run in a helper process (docs/behaviour.md §5).
//!
//! # Settings of the group runner
//!
//! Two settings, each read from the daemon's environment or, when absent
//! there, from an ha.cf `env NAME=value` line (the real 3.0.6 accepts such
//! lines and only exports `HA_NAME` to its scripts, so one ha.cf serves both
//! daemons):
//!
//! * `HEARTBEAT_NATIVE_IP` — `IPaddr`/`IPaddr2` resources are handled
//!   natively (netlink + gratuitous ARP, [`hb_rsc_runner::native_ip`])
//!   unless this is false (`0`, `no`, `off`, `false`): then their scripts run.
//! * `HEARTBEAT_RSC_TIMEOUT` — deadline of one resource script call
//!   (Heartbeat time syntax: `30` = seconds, `500ms`; default 300 s). At the
//!   deadline the script's process group is killed and the call fails
//!   (logged as `… timed out after N ms: killed its process group P`).
//!
//! The native path's repeated gratuitous ARPs are sent by a short-lived
//! grandchild (`heartbeat: send_arp <ip>`), so the helper reports the group
//! started as soon as the address is up and first announced. When a peer
//! that was dead comes back (a healed partition), every native address
//! configured here is announced again the same way, so that neighbours
//! whose caches moved to the peer meanwhile come back to us.

use std::time::Duration;

use hb_rsc::{OpId, ResourceManager};
use hb_sys::shm::Role;
use nix::unistd::Pid;

use super::slots::FINAL_PHASE_DELAY_MS;
use super::Master;
use crate::hb_log;
use crate::logging::{self, Prio};
use crate::spawn;

/// Message types the resource manager consumes (docs/protocol.md §9).
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

/// Names of the two settings (see the module docs).
pub(super) const NATIVE_IP_VAR: &str = "HEARTBEAT_NATIVE_IP";
pub(super) const RSC_TIMEOUT_VAR: &str = "HEARTBEAT_RSC_TIMEOUT";

/// The group runner's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RunnerSettings {
    pub native_ip: bool,
    pub timeout: Option<Duration>,
    /// Settings that could not be understood (logged by the caller).
    pub problems: Vec<String>,
}

/// Reads the settings: `lookup` (the process environment) first, then the
/// ha.cf `env` lines.
pub(super) fn runner_settings(
    lookup: impl Fn(&str) -> Option<String>,
    hacf_env: &[(String, String)],
) -> RunnerSettings {
    let get = |name: &str| {
        lookup(name).or_else(|| {
            hacf_env
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    };
    let mut s = RunnerSettings {
        native_ip: true,
        timeout: None,
        problems: Vec::new(),
    };
    if let Some(v) = get(NATIVE_IP_VAR) {
        match hb_config::value::parse_bool(v.trim()) {
            Some(b) => s.native_ip = b,
            None => s.problems.push(format!(
                "{NATIVE_IP_VAR}={v:?} is not a boolean: native IP takeover stays on"
            )),
        }
    }
    if let Some(v) = get(RSC_TIMEOUT_VAR) {
        match hb_config::value::parse_time_ms(v.trim()).filter(|ms| *ms > 0) {
            Some(ms) => s.timeout = Some(Duration::from_millis(ms)),
            None => s.problems.push(format!(
                "{RSC_TIMEOUT_VAR}={v:?} is not a time (e.g. 30 or 500ms): default kept"
            )),
        }
    }
    s
}

impl Master {
    /// How group operations run: the daemon's environment, the debug log,
    /// the native IP path and the script timeout settings.
    pub(super) fn script_env(&self) -> hb_rsc_runner::ScriptEnv {
        let mut env = hb_rsc_runner::ScriptEnv::new(&self.paths.confdir);
        // vars_os: a variable that is not UTF-8 (set by whoever started
        // us) must not abort the master, as std::env::vars would.
        env.vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        env.debug_log = self.hacf.debugfile.clone();
        let settings = runner_settings(|k| std::env::var(k).ok(), &self.hacf.env);
        for p in &settings.problems {
            hb_log!(Prio::Warn, "{p}");
        }
        env.native_ip = settings.native_ip;
        // ResourceManager's HA_STOPRETRYMAX (an ha.cf `env STOPRETRYMAX=n`
        // line exports it as HA_STOPRETRYMAX, docs/behaviour.md §5.7)
        let retries = std::env::var("HA_STOPRETRYMAX").ok().or_else(|| {
            self.hacf
                .env
                .iter()
                .rev()
                .find(|(k, _)| k == "STOPRETRYMAX")
                .map(|(_, v)| v.clone())
        });
        if let Some(v) = retries {
            match v.trim().parse() {
                Ok(n) => env.stop_retries = n,
                Err(_) => hb_log!(Prio::Warn, "HA_STOPRETRYMAX={v:?} is not a number: 10 kept"),
            }
        }
        if let Some(t) = settings.timeout {
            env.timeout = t;
        }
        env
    }

    /// A peer came back from the dead: announce again every native
    /// `IPaddr`/`IPaddr2` address we have (in a short-lived child).
    pub(super) fn refresh_ip_announcements(&mut self) {
        let settings = runner_settings(|k| std::env::var(k).ok(), &self.hacf.env);
        if !settings.native_ip {
            return;
        }
        let targets: Vec<(hb_rsc_runner::native_ip::Agent, String)> = self
            .groups
            .iter()
            .flat_map(|g| g.resources.iter())
            .filter(|r| r.args.len() == 1)
            .filter_map(|r| {
                hb_rsc_runner::native_ip::Agent::from_script(&r.script)
                    .map(|a| (a, r.args[0].clone()))
            })
            .collect();
        if targets.is_empty() {
            return;
        }
        let keep = logging::held_fds();
        let spawned = spawn::core_child("send_arp refresh", &keep, None, false, move || {
            let _ = hb_sys::sched::make_normal();
            let due: Vec<_> = targets
                .iter()
                .filter_map(|(agent, arg)| {
                    hb_rsc_runner::native_ip::reannounce(*agent, arg)
                        .ok()
                        .flatten()
                })
                .collect();
            for a in &due {
                hb_rsc_runner::native_ip::announce(a);
            }
            0
        });
        if let Err(e) = spawned {
            hb_log!(Prio::Warn, "cannot fork the ARP refresh: {e}");
        }
    }

    /// Carries out what the resource manager asked for.
    pub(super) fn drain_rsc(&mut self) {
        loop {
            let Some(out) = self.rsc.as_mut().and_then(ResourceManager::poll) else {
                return;
            };
            match out {
                hb_rsc::Output::Send(msg) => self.send_cluster(msg),
                hb_rsc::Output::Log(level, text) => logging::emit(Prio::from(level), &text),
                hb_rsc::Output::Acquire { id, key } => {
                    self.run_group(id, &key, hb_rsc_runner::GroupOp::Acquire)
                }
                hb_rsc::Output::Release { id, key } => {
                    self.run_group(id, &key, hb_rsc_runner::GroupOp::Release)
                }
                hb_rsc::Output::ShutdownComplete => {
                    self.final_phase_at = Some(self.now() + FINAL_PHASE_DELAY_MS);
                }
                hb_rsc::Output::Reset { node } => self.start_reset(&node),
                hb_rsc::Output::CheckDevice => self.check_device(),
                hb_rsc::Output::TakingOver { node } => {
                    let m = hb_rsc::notify::dead_node_message(&node, Self::wall(), false);
                    self.notify_world(m);
                }
            }
        }
    }

    /// Starts or stops a haresources group in a helper process, so the
    /// master loop never waits for a script.
    pub(super) fn run_group(&mut self, id: OpId, key: &str, op: hb_rsc_runner::GroupOp) {
        let Some(group) = self.groups.iter().find(|g| g.key() == key).cloned() else {
            hb_log!(Prio::Error, "no resource group with key {key}");
            let now = self.now();
            if let Some(r) = self.rsc.as_mut() {
                r.action_done(id, false, now);
            }
            return;
        };
        let env = self.script_env();
        let title = match op {
            hb_rsc_runner::GroupOp::Acquire => format!("takegroup {key}"),
            hb_rsc_runner::GroupOp::Release => format!("givegroup {key}"),
        };
        let keep = logging::held_fds();
        match spawn::core_child(&title, &keep, None, false, move || {
            let _ = hb_sys::sched::make_normal();
            let _ = nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0));
            let result = hb_rsc_runner::run_group(op, &group, &env);
            for (level, line) in &result.log {
                logging::emit(Prio::from(*level), line);
            }
            for a in &result.announcements {
                let a = a.clone();
                // single-threaded helper: forking is sound
                let _ = hb_sys::fork::fork_child(move || {
                    hb_sys::proctitle::set(&format!("heartbeat: send_arp {}", a.ip));
                    hb_rsc_runner::native_ip::announce(&a);
                    0
                });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_native_and_no_timeout() {
        let s = runner_settings(|_| None, &[]);
        assert!(s.native_ip);
        assert_eq!(s.timeout, None);
        assert!(s.problems.is_empty());
    }

    #[test]
    fn hacf_env_lines_and_process_environment() {
        let hacf = env(&[
            ("HEARTBEAT_NATIVE_IP", "no"),
            ("HEARTBEAT_RSC_TIMEOUT", "500ms"),
        ]);
        let s = runner_settings(|_| None, &hacf);
        assert!(!s.native_ip);
        assert_eq!(s.timeout, Some(Duration::from_millis(500)));
        // the process environment wins
        let s = runner_settings(
            |k| (k == "HEARTBEAT_NATIVE_IP").then(|| "1".to_string()),
            &hacf,
        );
        assert!(s.native_ip);
        let s = runner_settings(
            |k| (k == "HEARTBEAT_RSC_TIMEOUT").then(|| "3".to_string()),
            &hacf,
        );
        assert_eq!(s.timeout, Some(Duration::from_secs(3)));
    }

    #[test]
    fn nonsense_is_reported_and_ignored() {
        let hacf = env(&[
            ("HEARTBEAT_NATIVE_IP", "maybe"),
            ("HEARTBEAT_RSC_TIMEOUT", "soon"),
        ]);
        let s = runner_settings(|_| None, &hacf);
        assert!(s.native_ip);
        assert_eq!(s.timeout, None);
        assert_eq!(s.problems.len(), 2, "{:?}", s.problems);
        let s = runner_settings(|_| None, &env(&[("HEARTBEAT_RSC_TIMEOUT", "0")]));
        assert_eq!(s.timeout, None);
    }
}
