//! rc.d notifications (`notify_world`, docs/behaviour.md §5.6): for a
//! peer's status change, a takeover's synthetic death message, a link status
//! change, `ip-request` / `ip-request-resp` and every message type no handler
//! claims, run `harc <type>` in a helper (`heartbeat: notify_world()`, own
//! process group) with the message's fields as `HA_<field>` on top of the
//! daemon's environment (§5.7) — only when `rc.d/<type>` exists (rc.d is
//! listed once, at the first event), one at a time and never while another
//! resource helper runs. Which messages, which variables and the queue are
//! decided in [`hb_rsc::notify`].

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use hb_proto::Message;
use hb_rsc::notify;
use hb_sys::shm::Role;
use nix::unistd::Pid;

use super::slots::Shutdown;
use super::Master;
use crate::hb_log;
use crate::logging::{self, Prio};
use crate::spawn;

impl Master {
    /// A delivered message: notify rc.d if it is one of the notified kinds.
    pub(super) fn notify_delivered(&mut self, msg: &Message) {
        let ctx = notify::Context {
            from_self: msg.get_str("src") == Some(self.node.as_str()),
            shutting_down: self.shutdown != Shutdown::Running,
            comm_up: self.comm_up,
        };
        if notify::wants_notification(msg, ctx) {
            self.notify_world(msg.clone());
        }
    }

    /// Queues `msg` for rc.d (if a script of its type exists) and runs the
    /// queue. Nothing without resource management (`-M`), like the C.
    pub(super) fn notify_world(&mut self, msg: Message) {
        if self.rsc.is_none() {
            return;
        }
        if self.notes.needs_listing() {
            let names: Vec<String> = std::fs::read_dir(self.paths.rcd())
                .map(|d| {
                    d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                        .collect()
                })
                .unwrap_or_default();
            self.notes.set_listing(names);
        }
        if self.notes.push(msg) {
            self.run_next_notification();
        }
    }

    /// Starts the next queued notification when nothing else runs.
    pub(super) fn run_next_notification(&mut self) {
        let busy = !self.helpers.is_empty();
        let Some(msg) = self.notes.next(busy) else {
            return;
        };
        let Some(kind) = notify::script_type(&msg) else {
            self.notes.done();
            return;
        };
        let env = notify::script_env(
            &msg,
            self.core.local_status(),
            self.hacf.auto_failback.nice_failback(),
            self.hacf.use_logd,
        );
        let harc = self.paths.harc();
        let keep = logging::held_fds();
        let spawned = spawn::core_child("notify_world()", &keep, None, false, move || {
            let _ = hb_sys::sched::make_normal();
            let _ = nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0));
            let err = Command::new(&harc)
                .arg0("harc")
                .arg(&kind)
                .envs(env)
                .stdin(Stdio::null())
                .exec();
            hb_log!(Prio::Error, "cannot exec {}: {err}", harc.display());
            1
        });
        match spawned {
            Ok(pid) => {
                self.table_record(pid, Role::Helper, 0);
                self.notify_pid = Some(pid);
            }
            Err(e) => {
                hb_log!(Prio::Error, "Can't fork to notify world!: {e}");
                self.notes.done();
            }
        }
    }

    /// A child ended; `true` if it was the running notification.
    pub(super) fn notification_died(&mut self, pid: Pid) -> bool {
        if self.notify_pid != Some(pid) {
            return false;
        }
        self.notify_pid = None;
        self.notes.done();
        self.run_next_notification();
        true
    }
}
