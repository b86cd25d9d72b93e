//! Starting the daemon (docs/behaviour.md §1.7): validate, daemonise, prepare the
//! state files, fork the children, enter the master loop.

use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use hb_config::Loaded;
use hb_core::{Cluster, CoreConfig, MediumInfo};
use hb_proto::auth::KeyRing;
use hb_sys::pidfile::{self, PidStatus};

use crate::args::Args;
use crate::config_load::read_keys;
use crate::hb_log;
use crate::logging::{self, LogTargets, Prio};
use crate::paths::{local_node_name, Paths};
use crate::realtime::log_realtime;
use crate::state_files::{self, GenerationNote};
use crate::version::{exit, HB_VERSION};

fn log_targets(loaded: &Loaded) -> LogTargets {
    let h = &loaded.hacf;
    let mut t = LogTargets {
        logfile: h.logfile.clone(),
        debugfile: h.debugfile.clone(),
        facility: h.logfacility_code.filter(|&c| c > 0),
        stderr: false,
        syslog_format: h.syslogmsgfmt,
        syslog_socket: None,
        // use_logd: through cluster-glue's ha_logd while it runs
        // (docs/behaviour.md §3.3); the targets above when it does not.
        logd: h.use_logd.then(|| hb_log::logd::LogdTarget {
            socket: std::path::PathBuf::from(hb_log::logd::DEBIAN_LOGD_SOCKET),
            reconnect: std::time::Duration::from_millis(h.conn_logd_time_ms.max(1)),
            facility: h.logfacility_code.filter(|&c| c > 0).unwrap_or(3 << 3),
        }),
    };
    // Nothing configured: when ha_logd is not reachable the C daemon logs
    // nowhere useful; syslog's daemon facility is the useful equivalent.
    if t.logfile.is_none() && t.debugfile.is_none() && t.facility.is_none() {
        t.facility = Some(3 << 3);
    }
    t
}

/// Hands the log and debug files to `hacluster` (docs/behaviour.md §13.1), so the
/// clients heartbeat respawns as that user (ipfail) can log to them too.
fn change_logfile_ownership(loaded: &Loaded) {
    let user = match nix::unistd::User::from_name("hacluster") {
        Ok(Some(u)) => u,
        _ => {
            hb_log!(
                Prio::Error,
                "change_logfile_ownership: entry for user hacluster not found"
            );
            return;
        }
    };
    let h = &loaded.hacf;
    for (what, file) in [("logfile", &h.logfile), ("dbgfile", &h.debugfile)] {
        let Some(path) = file
            .as_deref()
            .filter(|p| *p != std::path::Path::new("/dev/null"))
        else {
            continue;
        };
        if let Err(e) = nix::unistd::chown(path, Some(user.uid), Some(user.gid)) {
            hb_log!(
                Prio::Warn,
                "change_logfile_ownership: failed to chown {what}: {}",
                e.desc()
            );
        }
    }
}

/// Exports the environment every child inherits (docs/behaviour.md §5.7).
fn export_environment(paths: &Paths, loaded: &Loaded, node: &str) {
    let dir = format!("{}/", paths.confdir.display());
    std::env::set_var("HA_DIR", &dir);
    std::env::set_var("HA_FUNCS", format!("{dir}/shellfuncs"));
    std::env::set_var("HA_DATEFMT", "%Y/%m/%d_%T\t");
    std::env::set_var("HA_CURHOST", node);
    std::env::set_var("OCF_ROOT", "/usr/lib/ocf");
    let h = &loaded.hacf;
    let show = |p: &Option<std::path::PathBuf>| {
        p.as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    std::env::set_var("HA_LOGFILE", show(&h.logfile));
    std::env::set_var("HA_DEBUGLOG", show(&h.debugfile));
    if let Some(f) = &h.logfacility {
        std::env::set_var("HA_LOGFACILITY", f);
    }
    // `hbversion` is set after the C exported its parameters: 3.0.6's
    // children (rc.d hooks, clients) have no HA_hbversion (tests/rcd.rs)
    for (name, value) in h.params.iter().filter(|(n, _)| n != "hbversion") {
        std::env::set_var(format!("HA_{name}"), value);
    }
    for (name, value) in &h.env {
        std::env::set_var(format!("HA_{name}"), value);
    }
    std::env::set_var("HA_COMPRESSION", &h.compression);
}

/// ha.cf `compression`, `compression_threshold` (KiB) and
/// `traditional_compression` as the engine's send policy (docs/protocol.md §3.4).
fn compression_policy(h: &hb_config::HaCf) -> hb_proto::compress::Policy {
    hb_proto::compress::Policy {
        algorithm: hb_proto::compress::Algorithm::from_name(h.compression.as_bytes())
            .unwrap_or(hb_proto::compress::Algorithm::Zlib),
        threshold: h.compression_threshold_kb as usize * 1024,
        traditional: h.traditional_compression,
        netstring: h.msgfmt == hb_config::MsgFmt::Netstring,
    }
}

fn wall() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Proves the state directory takes a write before the daemon goes to the
/// background: a read-only or full `/var/lib/heartbeat` would otherwise kill
/// the daemonised child after the launcher (and the init script) reported
/// success. A missing directory is left to [`prepare_dirs`].
fn check_state_dir(dir: &Path) -> std::io::Result<()> {
    use std::io::Write;
    if !dir.is_dir() {
        return Ok(());
    }
    let probe = dir.join(format!(".write-test.{}", std::process::id()));
    let result = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .and_then(|mut f| {
            // The generation file is rewritten at every start: a few bytes, synced.
            f.write_all(b"0000000000\n")?;
            f.sync_all()
        });
    let _ = std::fs::remove_file(&probe);
    result
}

/// `restarted`: the re-exec'd image of a quick restart, whose resources'
/// scratch directory must survive (docs/behaviour.md §1.9.3).
fn prepare_dirs(paths: &Paths, restarted: bool) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true).mode(0o755);
    b.create(&paths.statedir)?;
    b.create(paths.cores_root())?;
    let api_dir = paths.api_dir();
    if std::fs::symlink_metadata(&api_dir).is_err() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o750)
            .create(&api_dir)?;
    }
    // hacluster may own the API directory: check it, and touch nothing in
    // it by a name that could be a symlink (docs/reliability.md, hardening).
    let hacluster: Vec<u32> = nix::unistd::User::from_name("hacluster")
        .ok()
        .flatten()
        .map(|u| u.uid.as_raw())
        .into_iter()
        .collect();
    let err = |e: crate::secure_fs::DirError| std::io::Error::other(e.to_string());
    crate::secure_fs::check_existing_dir(&api_dir, &hacluster).map_err(err)?;
    let rsctmp = paths.rsctmp();
    if restarted && rsctmp.is_dir() {
        return Ok(());
    }
    crate::secure_fs::fresh_dir(&rsctmp, 0o1755).map_err(err)
}

/// Starts the daemon; returns the exit code of the calling process.
pub fn start(args: &Args, paths: &Paths) -> i32 {
    logging::init(
        "heartbeat",
        LogTargets {
            stderr: true,
            syslog_format: true,
            ..LogTargets::default()
        },
        u32::from(args.debug),
    );
    let node = local_node_name(&paths.nodeinfo(), &hb_sys::host::nodename());
    let loaded = match crate::config_load::load_config(paths) {
        Ok(l) => l,
        Err(errors) => {
            for e in &errors {
                hb_log!(Prio::Error, "{e}");
            }
            hb_log!(Prio::Error, "Configuration error, heartbeat not started.");
            if args.restarted {
                hb_log!(Prio::Error, "Config errors: Heartbeat NOT restarted");
            }
            return exit::NOT_CONFIGURED;
        }
    };
    for w in &loaded.warnings {
        hb_log!(Prio::Warn, "{w}");
    }
    let keys = match read_keys(paths) {
        Ok(k) => k,
        Err(errors) => {
            for e in errors {
                hb_log!(Prio::Error, "{e}");
            }
            hb_log!(Prio::Error, "Authentication configuration error.");
            hb_log!(Prio::Error, "Configuration error, heartbeat not started.");
            return exit::NOT_CONFIGURED;
        }
    };
    hb_log!(Prio::Info, "**************************");
    hb_log!(
        Prio::Info,
        "Configuration validated. Starting heartbeat {HB_VERSION}"
    );
    if args.verbose {
        print!("{}", loaded.hacf.dump(&node));
    }
    if args.restarted {
        // docs/behaviour.md §2.1 `-R`: the pid file names this very process.
        if let Err(code) = crate::quick_restart::check_restarted_image(&paths.pidfile()) {
            return code;
        }
    } else if let PidStatus::Running(pid) = pidfile::read_status(&paths.pidfile()) {
        hb_log!(Prio::Info, "heartbeat: already running [pid {pid}].");
        return exit::OK;
    }
    if let Err(e) = check_state_dir(&paths.statedir) {
        hb_log!(
            Prio::Error,
            "cannot write to the state directory {}: {e} (heartbeat keeps its generation number and uuid there)",
            paths.statedir.display()
        );
        hb_log!(Prio::Error, "heartbeat not started.");
        return exit::FAILURE;
    }
    if !args.foreground && !args.restarted {
        match hb_sys::daemon::daemonize() {
            Ok(true) => return exit::OK, // the parent
            Ok(false) => {}
            Err(e) => {
                hb_log!(Prio::Error, "cannot fork into the background: {e}");
                return exit::FAILURE;
            }
        }
    }
    let _ = nix::unistd::setsid();
    if args.restarted {
        // Same pid: the pid file stays as it is.
    } else if let Err(e) = pidfile::create(&paths.pidfile()) {
        hb_log!(
            Prio::Error,
            "heartbeat: could not create pidfile [{}]: {e}",
            paths.pidfile().display()
        );
        return exit::EPERM;
    }
    let level = logging::debug_level().max(loaded.hacf.debug);
    logging::init("heartbeat", log_targets(&loaded), level);
    // The warnings went to stderr above; the configured log gets them too
    // (an insecure crc line must be visible where the operator looks).
    for w in &loaded.warnings {
        hb_log!(Prio::Warn, "{w}");
    }
    if let Err(e) = prepare_dirs(paths, args.restarted) {
        hb_log!(
            Prio::Error,
            "cannot prepare {}: {e}",
            paths.statedir.display()
        );
        return exit::FAILURE;
    }
    let _ = hb_sys::exec::stdio_to_dev_null();
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    crate::coredumps::apply(&loaded.hacf, paths);
    export_environment(paths, &loaded, &node);
    if level > 0 {
        std::env::set_var("HA_debug", level.to_string());
    }
    hb_log!(Prio::Info, "heartbeat: version {HB_VERSION}");
    change_logfile_ownership(&loaded);
    run_daemon(args, paths, loaded, node, keys)
}

fn run_daemon(args: &Args, paths: &Paths, loaded: Loaded, node: String, keys: KeyRing) -> i32 {
    // hbgenmethod time: the generation is the clock, the file is left alone
    // (docs/behaviour.md §14.2).
    let generated = match loaded.hacf.hbgenmethod {
        hb_config::GenMethod::Time => Ok((wall(), GenerationNote::Incremented)),
        hb_config::GenMethod::File => state_files::next_generation(&paths.generation(), wall()),
    };
    let (generation, note) = match generated {
        Ok(g) => g,
        Err(e) => {
            hb_log!(Prio::Error, "{e}");
            return exit::FAILURE;
        }
    };
    match note {
        GenerationNote::NoPrevious(n) => {
            hb_log!(Prio::Warn, "No Previous generation - starting at {n}")
        }
        GenerationNote::Broken(n) => {
            hb_log!(Prio::Error, "BROKEN previous generation - starting at {n}")
        }
        GenerationNote::Incremented => {}
    }
    hb_log!(Prio::Info, "Heartbeat generation: {generation}");
    // A quick restart continues the previous image's stream instead.
    let resumed = crate::quick_restart::take_stream(args.restarted);
    let peer_rsc = crate::quick_restart::take_peer_rsc(args.restarted);
    let generation = match resumed {
        Some((g, seq)) => {
            hb_log!(
                Prio::Info,
                "restart: continuing generation {g} after sequence number {seq}."
            );
            g
        }
        None => generation,
    };
    let from_file = match loaded.hacf.uuidfrom {
        hb_config::UuidFrom::Nodename => {
            // No file: derived from the node name (docs/behaviour.md §14.3).
            let (seed, uuid) = crate::uuid_name::uuid_from_nodename(&node);
            hb_log!(Prio::Info, "seed is {seed}");
            Ok((uuid, state_files::UuidNote::Existing))
        }
        hb_config::UuidFrom::File => state_files::load_or_create_uuid(&paths.uuid()),
    };
    let uuid = match from_file {
        Ok((u, note)) => {
            match note {
                state_files::UuidNote::Existing => {}
                state_files::UuidNote::Created => hb_log!(
                    Prio::Info,
                    "No uuid found for current node - generating a new uuid."
                ),
                state_files::UuidNote::ReplacedBroken { len, saved_as } => hb_log!(
                    Prio::Error,
                    "{} is {len} bytes, not 16 (truncated or damaged): kept as {} and generated a new uuid; peers will see this node as a new node (restore the old file and restart to keep the old identity)",
                    paths.uuid().display(),
                    saved_as.display()
                ),
            }
            u
        }
        Err(e) => {
            hb_log!(Prio::Error, "{e}");
            return exit::FAILURE;
        }
    };
    match hb_sys::fifo::ensure_fifo(&paths.fifo()) {
        Ok(true) => hb_log!(Prio::Info, "Creating FIFO {}.", paths.fifo().display()),
        Ok(false) => {}
        Err(e) => {
            hb_log!(
                Prio::Error,
                "Cannot make fifo {}: {e}",
                paths.fifo().display()
            );
            return exit::FAILURE;
        }
    }
    use nix::sys::signal::Signal;
    let _ = hb_sys::signals::ignore(&[
        Signal::SIGPIPE,
        Signal::SIGINT,
        Signal::SIGTTOU,
        Signal::SIGTTIN,
    ]);
    let signals = match hb_sys::signals::SignalFd::block(&[
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGCHLD,
    ]) {
        Ok(s) => s,
        Err(e) => {
            hb_log!(Prio::Error, "cannot set up signal handling: {e}");
            return exit::FAILURE;
        }
    };
    let table = match hb_sys::shm::ProcTable::new(
        4 + 2 * loaded.hacf.media.len() + loaded.hacf.respawn.len(),
    ) {
        Ok(t) => t,
        Err(e) => {
            hb_log!(Prio::Error, "cannot create the process table: {e}");
            return exit::FAILURE;
        }
    };
    let hacf = loaded.hacf;
    let groups = (!args.no_resources).then_some(loaded.resources);
    let seed = u64::from(std::process::id()) ^ wall().rotate_left(17) ^ generation;
    // Nodes deleted at run time stay deleted (docs/behaviour.md §14.4).
    let deleted = crate::hostcache::read(&paths.delhostcache());
    for d in deleted.iter().filter(|d| hacf.nodes.contains(&d.name)) {
        hb_log!(
            Prio::Info,
            "Node {} was deleted with hb_delnode ({}); it stays out of the node table",
            d.name,
            paths.delhostcache().display()
        );
    }
    let core_cfg = CoreConfig {
        node_name: node.clone(),
        uuid,
        generation,
        nodes: hacf
            .nodes
            .iter()
            .filter(|n| !hacf.ping_nodes.contains(n))
            .filter(|n| !deleted.iter().any(|d| &d.name == *n))
            .cloned()
            .collect(),
        ping_nodes: hacf.ping_nodes.clone(),
        media: hacf
            .media
            .iter()
            .map(|m| MediumInfo {
                name: m.name().to_string(),
                is_ping: m.is_ping(),
            })
            .collect(),
        keepalive: hacf.keepalive_ms,
        deadtime: hacf.deadtime_ms,
        warntime: hacf.warntime_ms,
        initdead: hacf.initdead_ms,
        deadping: hacf.deadping_ms,
        max_rexmit_delay: hacf.max_rexmit_delay_ms,
        hopfudge: hacf.hopfudge,
        keys,
        inner_auth: hacf.msgfmt == hb_config::MsgFmt::Classic,
        compression: compression_policy(&hacf),
        seed,
    };
    let start = Instant::now();
    let mut core = Cluster::new(core_cfg, 0, wall());
    if let Some((_, seq)) = resumed {
        core.resume_stream(seq);
    }
    let realtime = hacf.realtime && !args.no_realtime;
    let rtprio = hacf.rtprio.unwrap_or(1);
    let hacf_memreserve = hacf.memreserve_kb;
    let memreserve = crate::realtime::mcp_reserve_kb(hacf.memreserve_kb);
    let deadtime_ms = hacf.deadtime_ms;
    let mut master = match crate::mcp::Master::new(crate::mcp::Setup {
        paths: paths.clone(),
        hacf,
        node,
        core,
        start,
        table,
        signals,
        groups,
    }) {
        Ok(m) => m,
        Err(e) => {
            hb_log!(Prio::Error, "cannot start the master control process: {e}");
            return exit::FAILURE;
        }
    };
    if args.restarted {
        master.resume(args.current_resources.as_deref(), peer_rsc.as_deref());
    }
    master.open_watchdog();
    if realtime {
        hb_log!(
            Prio::Debug,
            "memreserve {hacf_memreserve} KiB: pre-touching {memreserve} KiB of heap (docs/behaviour.md §1.5)"
        );
        log_realtime(&hb_sys::sched::make_realtime(
            rtprio,
            32,
            memreserve as usize,
        ));
    } else {
        hb_log!(
            Prio::Info,
            "Request to set pid {} to realtime ignored.",
            std::process::id()
        );
    }
    hb_sys::proctitle::set("heartbeat: master control process");
    if resumed.is_none() {
        hb_log!(Prio::Info, "Local status now set to: 'up'");
    }
    if let Some(code) = master.run() {
        return code;
    }
    if let Some(held) = crate::quick_restart::requested() {
        let e = crate::quick_restart::exec(held);
        hb_log!(Prio::Error, "Could not exec heartbeat: {e}");
        return exit::FAILURE;
    }
    hb_log!(Prio::Info, "Restarting heartbeat.");
    std::thread::sleep(crate::restart::pause_before_exec(deadtime_ms));
    let _ = std::fs::remove_file(paths.pidfile());
    hb_log!(Prio::Info, "Performing heartbeat restart exec.");
    let e = crate::restart::exec_self();
    hb_log!(Prio::Error, "Could not exec heartbeat: {e}");
    exit::FAILURE
}
