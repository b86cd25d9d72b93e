//! The `heartbeat` command line (docs/behaviour.md §2): the C daemon's flags, plus
//! `--check-config` and the directory overrides used by tests and the demo.

use clap::Parser;

use crate::args::Args;
use crate::version::{exit, HB_VERSION};

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
    if let Some(outdir) = &args.export_pacemaker {
        return crate::export::run(&paths, outdir, &args.addr);
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
    use std::path::PathBuf;

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
