//! hb-sys: every operating-system call of the heartbeat daemon that needs
//! `unsafe` or raw `libc`, wrapped in a small safe API.
//!
//! The rest of the workspace denies `unsafe_code`; this crate is the single
//! place where it is allowed (docs/style.md §2). The rules inside are:
//!
//! * every `unsafe` block is one call, with a `// SAFETY:` comment saying why
//!   it is sound;
//! * [`nix`]'s safe API is preferred; raw `libc` is used only where nix has no
//!   wrapper, and the call site says so;
//! * the public API is safe and documented, and failures come back as typed
//!   errors ([`SysError`] and a few module-specific enums) whose messages name
//!   what failed and on what.
//!
//! One module per concern, following the Heartbeat 3.0.6 process model
//! (docs/behaviour.md §1): process titles, the shared process table, fork helpers,
//! signalfd, realtime scheduling, the watchdog device, the pid file, the FIFO,
//! respawned clients and resource scripts, and the node name.
#![allow(unsafe_code)]
#![deny(missing_docs)]

pub mod daemon;
pub mod error;
pub mod exec;
pub mod fifo;
pub mod fork;
pub mod host;
pub mod net;
pub mod pidfd;
pub mod pidfile;
pub mod proctitle;
pub mod sched;
pub mod shm;
pub mod signals;
pub mod time;
pub mod watchdog;

#[cfg(test)]
mod testutil;

pub use error::SysError;
pub use nix::sys::signal::Signal;
pub use nix::unistd::{Gid, Pid, Uid};
