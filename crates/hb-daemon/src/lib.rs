//! The heartbeat daemon: the master control process and its children,
//! wired to the pure crates (`hb-proto`, `hb-config`, `hb-core`) and to the
//! operating system (`hb-sys`, `hb-media`).
//!
//! Start with [`cli::main`] → [`startup::start`] → [`mcp::Master::run`].
#![deny(missing_docs)]

/// `hb_log!(Prio::Info, "Link {}:{} up.", node, medium)`: see [`hb_log::hb_log`].
pub use hb_log::hb_log;

pub mod api;
pub mod args;
pub mod cli;
pub mod config_load;
pub mod control;
pub mod coredumps;
pub mod exit_status;
pub mod export;
pub mod fifo_reader;
pub mod hostcache;
pub mod logging;
pub mod mcp;
pub mod outbox;
pub mod paths;
pub mod quick_restart;
pub mod realtime;
pub mod reload;
pub mod report;
pub mod respawn;
pub mod restart;
pub mod sdnotify;
pub mod secure_fs;
pub mod spawn;
pub mod startup;
pub mod state_files;
pub mod stonith_cmd;
pub mod uuid_name;
pub mod version;
