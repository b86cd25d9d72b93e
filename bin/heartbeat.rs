//! `heartbeat`: the daemon entry point. All logic lives in `hb-daemon`.
fn main() {
    std::process::exit(hb_daemon::cli::main());
}
