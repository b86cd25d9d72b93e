//! Forking the master's children: core children (FIFO reader, read and
//! write children) and respawned clients.
//!
//! Every core child runs the same start checklist (docs/style.md §3): signals
//! back to normal, die with the master, drop every inherited descriptor it
//! does not own, take its `ps` title, then run its body. The master never
//! starts a thread, so running Rust code after `fork` is sound.

use std::os::fd::RawFd;

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::hb_log;
use crate::logging::Prio;
use crate::realtime::log_realtime;
use crate::respawn::NO_RESPAWN_EXIT;

/// Forks a core child titled `heartbeat: <title>` that runs `body`.
pub fn core_child<F>(
    title: &str,
    keep: &[RawFd],
    realtime: Option<i32>,
    die_with_master: bool,
    body: F,
) -> Result<Pid, hb_sys::SysError>
where
    F: FnOnce() -> i32,
{
    let title = format!("heartbeat: {title}");
    let master = Pid::this();
    hb_sys::fork::fork_child(move || {
        let _ = hb_sys::signals::unblock_all();
        if die_with_master {
            let _ = hb_sys::fork::set_parent_death_signal(Signal::SIGTERM, Some(master));
        }
        hb_sys::fork::close_fds_except(keep);
        hb_sys::proctitle::set(&title);
        if let Some(prio) = realtime {
            log_realtime(&hb_sys::sched::make_realtime(prio, 16, 64));
        }
        body()
    })
}

/// Forks a respawned client (docs/behaviour.md §10): own process group, normal
/// scheduling, the configured user, `/bin/sh -c "exec <cmd>"`.
pub fn client(spec: &hb_config::Respawn, pause_first: bool) -> Result<Pid, hb_sys::SysError> {
    let exec = hb_sys::exec::ClientExec::new(
        &spec.user,
        nix::unistd::Uid::from_raw(spec.uid),
        nix::unistd::Gid::from_raw(spec.gid),
        &spec.command,
        std::env::vars_os(),
    )?;
    let spec = spec.clone();
    hb_sys::fork::fork_child(move || {
        if pause_first {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
        hb_log!(
            Prio::Info,
            "Starting \"{}\" as uid {}  gid {} (pid {})",
            spec.command,
            spec.uid,
            spec.gid,
            std::process::id()
        );
        // Only returns on failure; after its setup closed the log files the
        // exit status (100: do not respawn) is all that can report it.
        let err = exec.exec();
        hb_log!(Prio::Error, "Cannot exec {}: {err}", spec.command);
        NO_RESPAWN_EXIT
    })
}
