//! `hb_takeover [all|foreign|local|failback]`: ask the other node to go
//! standby so we acquire its resources (docs/behaviour.md §12). Replaces the 3.0.6
//! shell script of the same name.
// Shared with the other admin tool and hb-mangen: not every item is used here.
#[allow(dead_code)]
#[path = "admin/cli.rs"]
mod cli;
#[path = "admin/fifo.rs"]
mod fifo;
#[path = "admin/run.rs"]
mod run;

fn main() {
    std::process::exit(run::main(cli::Tool::Takeover));
}
