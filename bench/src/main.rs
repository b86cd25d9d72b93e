//! `hb-bench` — the project's benchmark (issues 5 and 15; not a test: it
//! measures). Sections: `failover` (below), `footprint` ([`footprint`]),
//! `load` ([`load`]), `scale` ([`scale`]) and `floor` ([`floor`]), each
//! selectable with `--sections`, all by default.
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
mod floor;
mod footprint;
mod load;
mod scale;
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
    /// Timing profiles of the failover section, comma-separated: 1s (keepalive 1 s / deadtime
    /// 3 s), 100ms (100 ms / 500 ms), 5ms (5 ms / 25 ms). The footprint section uses 100ms.
    #[arg(long, value_delimiter = ',', default_value = "1s,100ms,5ms")]
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
    /// Sections to run, comma-separated: failover, footprint, load, scale, floor.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "failover,footprint,load,scale,floor"
    )]
    sections: Vec<String>,
    /// Idle window of the footprint and scale sections, seconds.
    #[arg(long, default_value_t = 60)]
    window: u64,
    /// Load section: seconds under stress-ng for our daemon at the target setting (5 ms / 25 ms).
    #[arg(long, default_value_t = 600)]
    load_secs: u64,
    /// Load section: seconds under stress-ng for every other setting.
    #[arg(long, default_value_t = 60)]
    load_other_secs: u64,
    /// Scale section: cluster sizes, comma-separated (at most 16).
    #[arg(long, value_delimiter = ',', default_value = "2,4,8,16")]
    scale_nodes: Vec<usize>,
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
            "5ms" | "tight" => Timing::Tight,
            other => {
                return Err(Error::Invalid(format!(
                    "unknown timing {other:?} (1s, 100ms, 5ms)"
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

/// The load section's settings: ours and 3.0.6 at every Heartbeat timing,
/// keepalived at every advert interval (for the daemons asked for).
fn run_load(
    args: &Args,
    matrix: &[Flavour],
    aborted: &dyn Fn() -> bool,
    deadline: Instant,
) -> String {
    let mut settings = Vec::new();
    let has = |k: fn(&flavour::Kind) -> bool| matrix.iter().any(|f| k(&f.kind));
    for timing in load::HEARTBEAT_TIMINGS {
        if let Some(p) = matrix.iter().find_map(|f| match &f.kind {
            flavour::Kind::Ours(p) => Some(p.clone()),
            _ => None,
        }) {
            settings.push(load::Setting::Heartbeat {
                ours: Some(p),
                timing,
            });
        }
        if has(|k| matches!(k, flavour::Kind::Real)) {
            settings.push(load::Setting::Heartbeat { ours: None, timing });
        }
    }
    if has(|k| matches!(k, flavour::Kind::Keepalived)) {
        settings.extend(load::ADVERTS.iter().map(|a| load::Setting::Keepalived(a)));
    }
    let mut rows = Vec::new();
    for s in &settings {
        if aborted() || Instant::now() >= deadline {
            break;
        }
        let secs = if s.is_target() {
            args.load_secs
        } else {
            args.load_other_secs
        };
        eprintln!("hb-bench: load, {} for {secs} s", s.label());
        match load::run(s, secs.max(1), aborted) {
            Ok(r) => {
                eprintln!(
                    "hb-bench:   late {}, deaths {}, link deaths {}, pauses {}, worst {:.1} ms",
                    r.late, r.false_deaths, r.link_deaths, r.pauses, r.worst_ms
                );
                rows.push(r);
            }
            Err(e) => eprintln!("hb-bench: load {}: {e}", s.label()),
        }
    }
    load::table(&rows)
}

fn main() -> ExitCode {
    // The floor section's skeleton processes are this binary too.
    if let Some(code) = floor::subcommand(&std::env::args().collect::<Vec<_>>()) {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
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
    for sec in &args.sections {
        if !matches!(
            sec.as_str(),
            "failover" | "footprint" | "load" | "scale" | "floor"
        ) {
            eprintln!(
                "hb-bench: unknown section {sec:?} (failover, footprint, load, scale, floor)"
            );
            return ExitCode::FAILURE;
        }
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.max_minutes.saturating_mul(60));
    let mut report = String::new();
    if args.sections.iter().any(|s| s == "failover") {
        let mut rows = Vec::new();
        for flavour in &matrix {
            if aborted() {
                break;
            }
            match run_flavour(flavour, args.trials, &aborted, deadline) {
                Ok(trials) => rows.push(Row {
                    flavour: flavour.clone(),
                    trials,
                }),
                Err(e) => {
                    eprintln!("hb-bench: {}: {e}", flavour.label());
                    rows.push(Row {
                        flavour: flavour.clone(),
                        trials: Vec::new(),
                    });
                }
            }
        }
        let t = table(&rows);
        println!("{t}");
        report.push_str(&format!(
            "## Failover\n\n\
             {} trials per row. Two nodes on one bridge, VIP {VIP} (IPaddr2 for Heartbeat; our daemon \
             uses its native IP path) probed every 10 ms from a client namespace; crash = freeze + \
             link down + SIGKILL. Outage = fault (or command) until the new owner's first reply; \
             failback gap = last reply before until nodea's first reply after its restart. Values: \
             median (min–max).\n\n{t}\n",
            args.trials
        ));
    }
    if args.sections.iter().any(|s| s == "footprint") && !aborted() {
        let window = Duration::from_secs(args.window.max(1));
        let mut rows = Vec::new();
        for flavour in matrix.iter().filter(|f| f.timing == Timing::Fast) {
            eprintln!(
                "hb-bench: footprint of {} ({} s idle)",
                flavour.label(),
                window.as_secs()
            );
            match footprint::measure(flavour, Duration::from_secs(5), window) {
                Ok(nodes) => rows.push((flavour.label(), nodes)),
                Err(e) => eprintln!("hb-bench: footprint of {}: {e}", flavour.label()),
            }
        }
        let t = footprint::table(&rows, true);
        println!("{t}");
        report.push_str(&format!(
            "## Footprint\n\n\
             Idle 2-node cluster (VIP on nodea), every process of a node sampled over {} s after a \
             5 s settle: PSS and RSS from `/proc/PID/smaps_rollup` (PSS splits pages shared \
             between a node's processes, so the node's PSS is their sum), CPU from \
             `/proc/PID/schedstat` (nanoseconds on a CPU), wake-ups = voluntary + involuntary \
             context switches.\n\n{t}\n",
            window.as_secs()
        ));
    }
    if args.sections.iter().any(|s| s == "load") && !aborted() {
        let t = run_load(&args, &matrix, &aborted, deadline);
        println!("{t}");
        report.push_str(&format!(
            "## Load\n\n\
             Two nodes (VIP on nodea) with `stress-ng --cpu 8` on the host for the given time: \
             late heartbeats, node deaths and link deaths logged by either node (none is real: \
             nothing failed), pauses our daemon detected, and the worst gap between two packets of \
             one sender on the bridge (tcpdump kernel timestamps in the client namespace). \
             keepalived: every `Entering MASTER STATE` under load is a false takeover.\n\n{t}\n"
        ));
    }
    if args.sections.iter().any(|s| s == "scale") && !aborted() {
        let window = Duration::from_secs(args.window.max(1));
        let mut rows = Vec::new();
        for flavour in matrix.iter().filter(|f| f.timing == Timing::Fast) {
            let ours = match &flavour.kind {
                flavour::Kind::Ours(p) => Some(p.as_path()),
                flavour::Kind::Real => None,
                flavour::Kind::Keepalived => continue, // VRRP has no membership
            };
            for &n in &args.scale_nodes {
                if aborted() || Instant::now() >= deadline {
                    break;
                }
                eprintln!("hb-bench: scale, {n} nodes of {}", flavour.label());
                match scale::run(
                    ours,
                    n.clamp(1, hb_tests::MAX_NODES),
                    Duration::from_secs(5),
                    window,
                ) {
                    Ok(r) => rows.push(r),
                    Err(e) => eprintln!("hb-bench: scale {n}: {e}"),
                }
            }
        }
        let t = scale::table(&rows);
        println!("{t}");
        report.push_str(&format!(
            "## Scale\n\n\
             N nodes on one bridge, keepalive 1 s / deadtime 3 s, bcast, no resources. All active = \
             every node logged `Comm_now_up()` and `Link P:eth0 up.` for every peer, timed from the \
             last node's start. Per-node PSS/CPU/wake-ups over a {} s window after a 5 s settle; \
             datagrams counted at the client namespace's interface.\n\n{t}\n",
            window.as_secs()
        ));
    }
    if args.sections.iter().any(|s| s == "floor") && !aborted() {
        let window = Duration::from_secs(args.window.max(1));
        let mut rows = Vec::new();
        // 2 nodes at 100 ms (the footprint section's traffic), and 16
        // nodes each broadcasting every 385 ms: 41.6 datagrams/s on the LAN,
        // what 16 Heartbeat nodes at keepalive 1 s send with their ACKs
        // (the scale section).
        for (nodes, interval) in [(2, 100), (16, 385)] {
            for (procs, shape) in [
                (
                    3,
                    "3 processes: master + write child + read child (our shape, and 3.0.6's)",
                ),
                (
                    1,
                    "1 process: send and receive in one loop (keepalived's shape)",
                ),
            ] {
                let label = format!(
                    "{shape}; {nodes} nodes, each a 160-byte broadcast every {interval} ms"
                );
                eprintln!("hb-bench: floor, {label} ({} s)", window.as_secs());
                match floor::measure(procs, nodes, interval, window) {
                    Ok(nodes) => rows.push((label, nodes)),
                    Err(e) => eprintln!("hb-bench: floor {procs}: {e}"),
                }
            }
        }
        let t = floor::table(&rows);
        println!("{t}");
        report.push_str(&format!(
            "## Floor\n\n\
             Skeletons of the two process shapes with no protocol work (no parsing, no \
             signatures, no state), on the same kind of LAN at the rates of the footprint and scale \
             sections, sampled like the footprint section over {} s (the first two nodes): the \
             least CPU any daemon of that shape costs on this machine.\n\n{t}\n",
            window.as_secs()
        ));
    }
    if let Some(path) = &args.markdown {
        let text = format!(
            "# Benchmark results\n\nMeasured {} on {}, in {:.1} min, with `scripts/bench.sh`.\n\n{report}",
            command_text("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
            machine(),
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
