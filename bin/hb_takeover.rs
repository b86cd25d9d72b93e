//! `hb_takeover [all|foreign|local|failback]`: ask the other node to go
//! standby so we acquire its resources (docs/behaviour.md §12). Replaces the 3.0.6
//! shell script of the same name.
use hb_tools::admin::{cli, run};

fn main() {
    std::process::exit(run::main(cli::Tool::Takeover));
}
