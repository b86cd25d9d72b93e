//! `hb_standby [all|foreign|local|failback]`: ask the local heartbeat to go
//! standby (docs/behaviour.md §12). Replaces the 3.0.6 shell script of the same name.
use hb_tools::admin::{cli, run};

fn main() {
    std::process::exit(run::main(cli::Tool::Standby));
}
