//! The `heartbeat` command line (docs/behaviour.md §2): the C daemon's flags, plus
//! `--check-config` and the directory overrides used by tests and the demo.

use std::path::PathBuf;

use clap::{ArgAction, Parser};

use crate::paths::Paths;

/// Version reported by `-V` and the API: the protocol level we implement,
/// then our own name, so scripts that read the first word keep working.
pub const HB_VERSION: &str = "3.0.6";

/// `heartbeat` options.
#[derive(Debug, Parser)]
#[command(
    name = "heartbeat",
    about = "Heartbeat 3 high-availability daemon (drop-in replacement for Linux-HA heartbeat 3.0.6)",
    disable_version_flag = true
)]
pub struct Args {
    /// Increase the debug level (repeatable).
    #[arg(short = 'd', action = ArgAction::Count)]
    pub debug: u8,
    /// Print the directives that have defaults, as a table, and exit.
    #[arg(short = 'D')]
    pub defaults: bool,
    /// With -D: print the table in wiki markup.
    #[arg(short = 'W')]
    pub wiki: bool,
    /// Stop the running daemon and wait until it is gone.
    #[arg(short = 'k')]
    pub kill: bool,
    /// Do not manage resources (haresources ignored).
    #[arg(short = 'M')]
    pub no_resources: bool,
    /// Validate the configuration and tell the running daemon to reread it.
    #[arg(short = 'r')]
    pub reload: bool,
    /// Internal: this is the re-exec'd image of a restarting daemon.
    #[arg(short = 'R')]
    pub restarted: bool,
    /// Internal, with -R: resources currently held (none, local, foreign, all).
    #[arg(short = 'C', value_name = "Current-resource-state")]
    pub current_resources: Option<String>,
    /// Report whether the daemon is running (exit 0 running, 1 stale pid file, 3 stopped).
    #[arg(short = 's')]
    pub status: bool,
    /// Print the configuration after validating it.
    #[arg(short = 'v')]
    pub verbose: bool,
    /// Do not use realtime scheduling or lock memory.
    #[arg(short = 'l')]
    pub no_realtime: bool,
    /// Print the version and exit.
    #[arg(short = 'V')]
    pub version: bool,
    /// Stay in the foreground.
    #[arg(short = 'f')]
    pub foreground: bool,
    /// Validate ha.cf, authkeys and haresources; print every error as FILE:LINE: message; exit 0 or 6.
    #[arg(long)]
    pub check_config: bool,
    /// Configuration directory.
    #[arg(long, value_name = "DIR", default_value = "/etc/ha.d")]
    pub confdir: PathBuf,
    /// State directory (FIFO, generation, uuid).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/heartbeat")]
    pub statedir: PathBuf,
    /// Run directory (pid file, heartbeat/register API socket).
    #[arg(long, value_name = "DIR", default_value = "/run")]
    pub rundir: PathBuf,
}

impl Args {
    /// The paths these options select.
    pub fn paths(&self) -> Paths {
        Paths {
            confdir: self.confdir.clone(),
            statedir: self.statedir.clone(),
            rundir: self.rundir.clone(),
        }
    }
}

/// LSB exit codes heartbeat uses.
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// Generic failure / stale pid file.
    pub const FAILURE: i32 = 1;
    /// Bad usage.
    pub const EINVAL: i32 = 2;
    /// Not running.
    pub const NOT_RUNNING: i32 = 3;
    /// Permission problem / cannot create pid file.
    pub const EPERM: i32 = 4;
    /// Configuration error.
    pub const NOT_CONFIGURED: i32 = 6;
}

fn usage() -> i32 {
    eprintln!(
        "\nUsage: heartbeat [-dDkMrRsvWlVf] [-C Current-resource-state]\n\t-C only valid with -R\n\t-r is mutually exclusive with -R"
    );
    exit::EINVAL
}

/// Entry point of the `heartbeat` binary; returns the exit code.
pub fn main() -> i32 {
    crate::restart::remember_args();
    // Titles are cosmetic: without them the daemon still works.
    let _ = hb_sys::proctitle::init();
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
            let _ = e.print();
            return exit::OK;
        }
        Err(e) => {
            let _ = e.print();
            return usage();
        }
    };
    if args.current_resources.is_some() && !args.restarted {
        return usage();
    }
    if args.version {
        println!("{HB_VERSION} (heartbeat-rs {})", env!("CARGO_PKG_VERSION"));
        return exit::OK;
    }
    if args.defaults {
        print!("{}", hb_config::defaults_table(args.wiki));
        return exit::OK;
    }
    let paths = args.paths();
    if args.status {
        return crate::control::status(&paths);
    }
    if args.kill {
        return crate::control::stop(&paths);
    }
    if args.check_config {
        return crate::control::check_config(&paths);
    }
    if args.reload {
        if let Some(code) = crate::control::reload(&paths) {
            return code;
        }
    }
    crate::startup::start(&args, &paths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn accepts_the_c_flags() {
        Args::command().debug_assert();
        let a = Args::try_parse_from(["heartbeat", "-dd", "-l", "-f", "-M"]).unwrap();
        assert_eq!(a.debug, 2);
        assert!(a.no_realtime && a.foreground && a.no_resources);
        let a = Args::try_parse_from(["heartbeat", "-R", "-C", "local"]).unwrap();
        assert_eq!(a.current_resources.as_deref(), Some("local"));
        let a =
            Args::try_parse_from(["heartbeat", "--confdir", "/tmp/x", "--check-config"]).unwrap();
        assert_eq!(a.paths().hacf(), PathBuf::from("/tmp/x/ha.cf"));
        assert!(Args::try_parse_from(["heartbeat", "-x"]).is_err());
    }
}
