//! `cl_status`: query the local Heartbeat daemon (docs/behaviour.md §8).
//!
//! All logic lives in `hb_client::cl_status`; this main only adds the
//! C tool's `alarm(5)`: whatever hangs, the process ends with exit code 12
//! after five seconds. Output is written in whole lines through the
//! line-buffered stdout, so nothing is pending when the alarm fires.
//! The heartbeat-rs report sub-commands (`metrics`, `explain`) get
//! [`hb_client::report::ALARM`] instead: against Heartbeat 3.0.6 they are
//! built from a dozen queries, which that daemon answers about one per
//! keepalive.

use std::io::Write;
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let alarm = match args.get(1).map(String::as_str) {
        Some("metrics" | "explain") => hb_client::report::ALARM,
        _ => Duration::from_secs(5),
    };
    std::thread::spawn(move || {
        std::thread::sleep(alarm);
        std::process::exit(hb_client::cl_status::TIMEOUT);
    });
    let opts = hb_client::cl_status::Options::default();
    // Unlocked handles: the alarm thread must never wait for a lock.
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    let code = hb_client::cl_status::run(&args, &opts, &mut out, &mut err);
    let _ = out.flush();
    std::process::exit(code);
}
