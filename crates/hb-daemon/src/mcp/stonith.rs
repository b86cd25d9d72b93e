//! STONITH: resetting a dead node and checking the device, each in a helper
//! process (`heartbeat: Initiate_Reset()`, own process group) that runs
//! cluster-glue's `stonith` command, so the master loop never waits for a
//! device (docs/behaviour.md §5.5.2). What to reset and when — the takeover
//! held back until the reset succeeded, the 5 s retries, the hourly check —
//! is decided by [`hb_rsc::ResourceManager`] (its `fencing` module); this
//! module only carries it out.
//!
//! The helper logs what the C child logs (`Resetting node X with [<device>]`,
//! `node X now reset.`, `Host X not reset!`, `Device <device> cannot reset
//! host X.`, `Checking status of STONITH device [<device>]`, `STONITH device
//! <device> not operational!`) and exits 0 (reset), 100 (the device cannot
//! reset that host) or 1; the master logs the C process-tracking line
//! (`Managed STONITH X process N exited with return code C.`) and reports the
//! outcome to the resource manager, which sends `t=stonith node=X
//! result=OK|badhost|bad`.

use hb_config::Device;
use hb_rsc::ResetOutcome;
use hb_sys::shm::Role;
use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;

use super::Master;
use crate::exit_status;
use crate::hb_log;
use crate::logging::{self, Prio};
use crate::spawn;
use crate::stonith_cmd::{device_args, device_id, run_stonith, StonithJob as Job, S_BADHOST};

/// Exit status of a reset helper whose device cannot reset that host.
const BADHOST_EXIT: i32 = 100;

/// The body of a reset helper; returns its exit status.
fn reset_body(device: &Device, node: &str) -> i32 {
    let id = device_id(&device.stonith_type);
    hb_log!(Prio::Info, "Resetting node {node} with [{id}]");
    let mut args = device_args(device);
    args.extend(["-T".to_string(), "reset".to_string(), node.to_string()]);
    match run_stonith(&args) {
        0 => {
            hb_log!(Prio::Info, "node {node} now reset.");
            0
        }
        S_BADHOST => {
            hb_log!(Prio::Error, "Device {id} cannot reset host {node}.");
            BADHOST_EXIT
        }
        _ => {
            hb_log!(Prio::Error, "Host {node} not reset!");
            1
        }
    }
}

/// The body of a status-check helper.
fn check_body(device: &Device) -> i32 {
    let id = device_id(&device.stonith_type);
    hb_log!(Prio::Info, "Checking status of STONITH device [{id}]");
    let mut args = device_args(device);
    args.push("-S".to_string());
    match run_stonith(&args) {
        0 => 0,
        S_BADHOST => {
            hb_log!(Prio::Error, "Device {id} cannot reset host ?.");
            BADHOST_EXIT
        }
        _ => {
            hb_log!(Prio::Error, "STONITH device {id} not operational!");
            1
        }
    }
}

impl Master {
    /// Forks the helper that resets `node`.
    pub(super) fn start_reset(&mut self, node: &str) {
        let Some(device) = self.stonith_device.clone() else {
            return;
        };
        let n = node.to_string();
        self.spawn_stonith_helper(Job::Reset(node.to_string()), move || {
            reset_body(&device, &n)
        });
    }

    /// Forks the helper that checks the device.
    pub(super) fn check_device(&mut self) {
        let Some(device) = self.stonith_device.clone() else {
            return;
        };
        self.spawn_stonith_helper(Job::Check, move || check_body(&device));
    }

    fn spawn_stonith_helper(&mut self, job: Job, body: impl FnOnce() -> i32) {
        let keep = logging::held_fds();
        let spawned = spawn::core_child("Initiate_Reset()", &keep, None, false, move || {
            let _ = hb_sys::sched::make_normal();
            let _ = nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0));
            body()
        });
        match spawned {
            Ok(pid) => {
                self.table_record(pid, Role::Helper, 0);
                self.stonith_running.insert(pid, job);
            }
            Err(e) => {
                hb_log!(Prio::Error, "Cannot fork.: {e}");
                // like a failed attempt: retried (reset) or rescheduled (check)
                let now = self.now();
                if let Some(r) = self.rsc.as_mut() {
                    match job {
                        Job::Reset(node) => r.reset_done(&node, ResetOutcome::Failed, now),
                        Job::Check => r.device_check_done(false, now),
                    }
                }
                self.drain_rsc();
            }
        }
    }

    /// A STONITH helper ended; `true` if `pid` was one.
    pub(super) fn stonith_helper_died(&mut self, pid: Pid, status: WaitStatus) -> bool {
        let Some(job) = self.stonith_running.remove(&pid) else {
            return false;
        };
        let name = match &job {
            Job::Reset(node) => format!("STONITH {node}"),
            Job::Check => "STONITH-stat".to_string(),
        };
        if let Some((prio, text)) = exit_status::describe(&name, status) {
            logging::emit(prio, &text);
        }
        let now = self.now();
        if let Some(r) = self.rsc.as_mut() {
            match job {
                Job::Reset(node) => {
                    let outcome = match status {
                        WaitStatus::Exited(_, 0) => ResetOutcome::Reset,
                        WaitStatus::Exited(_, BADHOST_EXIT) => ResetOutcome::BadHost,
                        _ => ResetOutcome::Failed,
                    };
                    r.reset_done(&node, outcome, now);
                }
                Job::Check => {
                    let ok = match status {
                        WaitStatus::Exited(_, c) => c == 0,
                        WaitStatus::Signaled(_, s, _) => s == nix::sys::signal::Signal::SIGTERM,
                        _ => false,
                    };
                    r.device_check_done(ok, now);
                }
            }
        }
        self.drain_rsc();
        true
    }
}
