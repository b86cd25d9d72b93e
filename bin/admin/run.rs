//! The whole of `hb_standby` / `hb_takeover`: parse, build the message, log, send.
//!
//! Output follows the 3.0.6 scripts so wrappers that scrape it keep working:
//! usage errors print `<argv0>: <reason>` and `usage:` on stdout and
//! `<argv0> [all|foreign|local|failback]` on stderr, exit 1; `hb_standby`
//! logs `Going standby [<set>].` to stderr (the script's `ha_log`, which
//! prefixes a syslog-style time stamp when run from a terminal).

use std::path::Path;

use super::cli::{self, ResourceSet, Tool, UsageError};
use super::fifo;

/// Exit code for every failure, as the scripts use.
pub const EXIT_FAILURE: i32 = 1;

/// The `rsc_hold` value `tool` sends for the requested set.
///
/// `hb_standby failback` means `foreign` (the script maps it before sending);
/// `hb_takeover` sends `failback` unchanged (the peer's rc.d script treats it as all).
pub fn rsc_hold(tool: Tool, set: ResourceSet) -> ResourceSet {
    match (tool, set) {
        (Tool::Standby, ResourceSet::Failback) => ResourceSet::Foreign,
        (_, s) => s,
    }
}

/// The exact bytes `tool` writes to the FIFO for `set`.
pub fn message(tool: Tool, set: ResourceSet) -> String {
    let hold = rsc_hold(tool, set).as_str();
    match tool {
        Tool::Standby => {
            fifo::classic_message(&[("t", "ask_resources"), ("rsc_hold", hold), ("info", "me")])
        }
        Tool::Takeover => fifo::classic_message(&[("t", "hb_takeover"), ("rsc_hold", hold)]),
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A log line as `ha_log` prints it on a terminal: `Nov 22 06:16:10 <text>`.
pub fn stderr_log_line(t: hb_sys::time::Tm, text: &str) -> String {
    format!(
        "{} {:02} {:02}:{:02}:{:02} {}",
        MONTHS[(t.month % 12) as usize],
        t.day,
        t.hour,
        t.minute,
        t.second,
        text
    )
}

fn now() -> hb_sys::time::Tm {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    hb_sys::time::local_time(secs)
}

fn usage(argv0: &str) -> i32 {
    println!("usage:");
    eprintln!("{argv0} [all|foreign|local|failback]");
    EXIT_FAILURE
}

/// Runs `tool` with the process arguments; returns the exit code.
pub fn main(tool: Tool) -> i32 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let argv0 = args
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| tool.name().to_string());
    let inv = match cli::parse(tool, args) {
        Ok(inv) => inv,
        Err(UsageError::TooManyArguments) => {
            println!("{argv0}: too many arguments");
            return usage(&argv0);
        }
        Err(UsageError::WrongResources(w)) => {
            println!("{argv0}: wrong resources({w}).");
            return usage(&argv0);
        }
        Err(UsageError::Help) => return usage(&argv0),
        Err(UsageError::Other(why)) => {
            println!("{argv0}: {why}");
            return usage(&argv0);
        }
    };
    if tool == Tool::Standby {
        let text = format!(
            "Going standby [{}].",
            rsc_hold(tool, inv.resources).as_str()
        );
        eprintln!("{}", stderr_log_line(now(), &text));
    }
    let path = Path::new(&inv.statedir).join("fifo");
    match fifo::send(&path, &message(tool, inv.resources)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{}: ERROR: {e}", tool.name());
            EXIT_FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standby_message_text() {
        assert_eq!(
            message(Tool::Standby, ResourceSet::All),
            ">>>\nt=ask_resources\nrsc_hold=all\ninfo=me\n<<<\n"
        );
        assert_eq!(
            message(Tool::Standby, ResourceSet::Local),
            ">>>\nt=ask_resources\nrsc_hold=local\ninfo=me\n<<<\n"
        );
        // The script maps failback to foreign before sending.
        assert_eq!(
            message(Tool::Standby, ResourceSet::Failback),
            ">>>\nt=ask_resources\nrsc_hold=foreign\ninfo=me\n<<<\n"
        );
    }

    #[test]
    fn takeover_message_text() {
        assert_eq!(
            message(Tool::Takeover, ResourceSet::Foreign),
            ">>>\nt=hb_takeover\nrsc_hold=foreign\n<<<\n"
        );
        // hb_takeover sends failback unchanged.
        assert_eq!(
            message(Tool::Takeover, ResourceSet::Failback),
            ">>>\nt=hb_takeover\nrsc_hold=failback\n<<<\n"
        );
    }

    #[test]
    fn log_line_is_syslog_style() {
        let t = hb_sys::time::Tm {
            year: 2026,
            month: 10,
            day: 2,
            hour: 6,
            minute: 5,
            second: 9,
        };
        assert_eq!(
            stderr_log_line(t, "Going standby [all]."),
            "Nov 02 06:05:09 Going standby [all]."
        );
    }

    #[test]
    fn send_reports_missing_fifo_and_regular_file() {
        let dir = std::env::temp_dir().join(format!("hb-admin-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let missing = dir.join("fifo");
        let e = fifo::send(&missing, "x").expect_err("no fifo");
        assert!(matches!(e, fifo::FifoError::Missing(_)), "{e}");
        std::fs::write(&missing, b"").expect("regular file");
        let e = fifo::send(&missing, "x").expect_err("not a fifo");
        assert!(matches!(e, fifo::FifoError::NotAFifo(_)), "{e}");
        let e = fifo::send(&missing, &"y".repeat(fifo::MAX_MESSAGE + 1)).expect_err("too long");
        assert!(matches!(e, fifo::FifoError::TooLong(_)), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
