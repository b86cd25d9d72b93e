//! `hb-bench` — the failover benchmark of issue 5 (not a test: it measures).
//!
//! For every timing profile (keepalive 1 s / deadtime 3 s and 100 ms /
//! 500 ms) and every daemon (ours, Heartbeat 3.0.6, keepalived 2.2.7) it
//! builds a fresh 2-node namespace cluster with the hb-tests harness plus a
//! client namespace that pings the VIP every 10 ms and records which MAC
//! answers, runs `--trials` trials (see [`trial`]) and prints one table:
//! startup to VIP, crash failover outage, failback gap and planned
//! switchover outage, as `median (min–max)` in milliseconds.
//!
//! Run it as root through `scripts/bench.sh`, which builds the release
//! binaries first. Everything it creates lives in namespaces named
//! `hbt<pid>x<n>-*` and is removed when a configuration is done, on error,
//! and on SIGINT/SIGTERM (checked every few ms); every wait is bounded and
//! `--max-minutes` bounds the whole run.

mod flavour;
use hb_tests::probe;
mod stats;
mod trial;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use hb_tests::{Error, Lan, Result, Signal};

use flavour::{Flavour, Kind, Timing, VIP};
use trial::{Bench, TrialResult};

/// Failover benchmark: ours vs Heartbeat 3.0.6 vs keepalived, in network namespaces.
#[derive(Parser, Debug)]
#[command(name = "hb-bench")]
struct Args {
    /// Trials per configuration (1..=50).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=50))]
    trials: u32,
    /// Daemons to measure, comma-separated: ours, real, keepalived.
    #[arg(long, value_delimiter = ',', default_value = "ours,real,keepalived")]
    daemons: Vec<String>,
    /// Timing profiles, comma-separated: 1s (keepalive 1 s / deadtime 3 s), 100ms (100 ms / 500 ms).
    #[arg(long, value_delimiter = ',', default_value = "1s,100ms")]
    timings: Vec<String>,
    /// Our heartbeat binary (default: `heartbeat` next to this program).
    #[arg(long)]
    ours: Option<PathBuf>,
    /// Also write the table, with date and machine, to this Markdown file.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Stop starting new trials after this many minutes.
    #[arg(long, default_value_t = 90)]
    max_minutes: u64,
}

/// All trials of one configuration.
struct Row {
    flavour: Flavour,
    trials: Vec<TrialResult>,
}

fn parse_matrix(args: &Args) -> Result<Vec<Flavour>> {
    let ours = match &args.ours {
        // the daemon is started from inside the node (working directory /)
        Some(p) => std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()),
        None => std::env::current_exe()
            .map_err(|e| Error::Invalid(format!("cannot locate hb-bench: {e}")))?
            .with_file_name("heartbeat"),
    };
    let mut out = Vec::new();
    for t in &args.timings {
        let timing = match t.as_str() {
            "1s" | "slow" => Timing::Slow,
            "100ms" | "fast" => Timing::Fast,
            other => {
                return Err(Error::Invalid(format!(
                    "unknown timing {other:?} (1s, 100ms)"
                )))
            }
        };
        for d in &args.daemons {
            let kind = match d.as_str() {
                "ours" => {
                    if !ours.is_file() {
                        return Err(Error::Invalid(format!(
                            "our heartbeat binary {} does not exist: build it (scripts/bench.sh does) or pass --ours",
                            ours.display()
                        )));
                    }
                    // Staged (a 0755 copy under /var/tmp/hb-tests) so that nodes, whose /tmp
                    // is their own, and unprivileged users reach it from any checkout.
                    let staged = match (ours.parent(), ours.file_name()) {
                        (Some(dir), Some(name)) if name == "heartbeat" => {
                            hb_tests::stage::process_stage(dir)?.join("heartbeat")
                        }
                        _ => ours.clone(),
                    };
                    Kind::Ours(staged)
                }
                "real" | "heartbeat" => Kind::Real,
                "keepalived" => {
                    hb_tests::require_program("keepalived", "keepalived")?;
                    Kind::Keepalived
                }
                other => {
                    return Err(Error::Invalid(format!(
                        "unknown daemon {other:?} (ours, real, keepalived)"
                    )))
                }
            };
            out.push(Flavour { kind, timing });
        }
    }
    Ok(out)
}

/// Runs every trial of `flavour` on a fresh Lan (dropped, i.e. torn down, at the end).
fn run_flavour(
    flavour: &Flavour,
    trials: u32,
    aborted: &dyn Fn() -> bool,
    deadline: Instant,
) -> Result<Vec<TrialResult>> {
    let lan = Lan::new(2)?;
    flavour.configure(&lan)?;
    let macs = [lan.node(0).mac("eth0")?, lan.node(1).mac("eth0")?];
    let probe = probe::Probe::start(
        lan.client_netns(),
        VIP,
        Duration::from_millis(10),
        Duration::from_secs(3600),
    )
    .map_err(Error::Invalid)?;
    let bench = Bench {
        lan: &lan,
        probe: &probe,
        macs,
        flavour,
        aborted,
    };
    let mut out = Vec::new();
    for i in 1..=trials {
        if aborted() || Instant::now() >= deadline {
            eprintln!("hb-bench: stopping early (aborted or --max-minutes reached)");
            break;
        }
        eprintln!("hb-bench: {} — trial {i}/{trials}", flavour.label());
        let r = bench.trial();
        let show =
            |d: Option<Duration>| d.map_or("—".to_string(), |d| format!("{} ms", d.as_millis()));
        eprintln!(
            "hb-bench:   startup {}, failover {}, failback gap {}, switchover {}{}",
            show(r.startup),
            show(r.failover),
            show(r.failback_gap),
            show(r.switchover),
            if r.problems.is_empty() {
                String::new()
            } else {
                format!("; problems: {}", r.problems.join("; "))
            }
        );
        out.push(r);
    }
    drop(probe);
    drop(lan);
    Ok(out)
}

fn table(rows: &[Row]) -> String {
    let mut s = String::from(
        "| daemon, timings | startup → VIP | crash failover outage | failback gap | switchover outage |\n\
         |---|---|---|---|---|\n",
    );
    for row in rows {
        let n = row.trials.len();
        let col = |f: fn(&TrialResult) -> Option<Duration>| {
            let v: Vec<Duration> = row.trials.iter().filter_map(f).collect();
            stats::cell(&v, n)
        };
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} ({}) |\n",
            row.flavour.label(),
            col(|t| t.startup),
            col(|t| t.failover),
            col(|t| t.failback_gap),
            col(|t| t.switchover),
            row.flavour.switchover_how(),
        ));
    }
    s
}

fn command_text(cmd: &str, args: &[&str]) -> String {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!(
        "{}, {} CPUs ({cpu})",
        command_text("uname", &["-srm"]),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    )
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Block SIGINT/SIGTERM before any thread starts: an interrupt then only
    // sets a flag, and every Lan is torn down normally.
    let signals = match hb_sys::signals::SignalFd::block(&[Signal::SIGINT, Signal::SIGTERM]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hb-bench: cannot block signals: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stop = AtomicBool::new(false);
    let aborted = || {
        if !signals.read_all().is_empty() {
            stop.store(true, Ordering::Relaxed);
        }
        stop.load(Ordering::Relaxed)
    };
    let matrix = match parse_matrix(&args) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("hb-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.max_minutes.saturating_mul(60));
    let mut rows = Vec::new();
    for flavour in matrix {
        if aborted() {
            break;
        }
        match run_flavour(&flavour, args.trials, &aborted, deadline) {
            Ok(trials) => rows.push(Row { flavour, trials }),
            Err(e) => {
                eprintln!("hb-bench: {}: {e}", flavour.label());
                rows.push(Row {
                    flavour,
                    trials: Vec::new(),
                });
            }
        }
    }
    let t = table(&rows);
    println!("{t}");
    if let Some(path) = &args.markdown {
        let text = format!(
            "# Failover benchmark results\n\n\
             Measured {} on {}, {} trials per row, in {:.1} min, with `scripts/bench.sh`.\n\
             Two nodes on one bridge, VIP {VIP} (IPaddr2 for Heartbeat; our daemon uses its native \
             IP path) probed every 10 ms from a client namespace; crash = freeze + link down + \
             SIGKILL. Outage = fault (or command) until the new owner's first reply; failback gap = \
             last reply before until nodea's first reply after its restart. Values: median (min–max).\n\n{t}",
            command_text("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
            machine(),
            args.trials,
            started.elapsed().as_secs_f64() / 60.0,
        );
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("hb-bench: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if stop.load(Ordering::Relaxed) {
        ExitCode::from(130)
    } else {
        ExitCode::SUCCESS
    }
}
