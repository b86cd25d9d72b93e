//! `cl_status`: query the local Heartbeat daemon (daemon.md §8).
//!
//! All logic lives in `hb_client::cl_status`; this main only adds the
//! C tool's `alarm(5)`: whatever hangs, the process ends with exit code 12
//! after five seconds.

use std::io::Write;
use std::time::Duration;

fn main() {
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_secs(5));
        let _ = std::io::stdout().flush();
        std::process::exit(hb_client::cl_status::TIMEOUT);
    });
    let args: Vec<String> = std::env::args().collect();
    let opts = hb_client::cl_status::Options::default();
    let code = {
        let stdout = std::io::stdout();
        let stderr = std::io::stderr();
        let mut out = stdout.lock();
        let mut err = stderr.lock();
        let code = hb_client::cl_status::run(&args, &opts, &mut out, &mut err);
        let _ = out.flush();
        code
    };
    std::process::exit(code);
}
