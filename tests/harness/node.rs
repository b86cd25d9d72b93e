//! A cluster node: a network namespace plus, for every command run in it, a private mount and
//! UTS namespace that make it look like its own machine.
//!
//! Every command (the daemon, `heartbeat -k`, `cl_status`, ...) is started as
//! `ip netns exec NS unshare --mount --uts sh -c SETUP`, where SETUP sets the host name
//! (`nodea`) and bind-mounts the node's private directories (see [`crate::nodefs`]) over the
//! host's.  The mount namespace is per command, but all of them mount the same directories, so
//! every command of a node sees the same pid file, FIFO, API socket and logs as its daemon —
//! and nothing needs unmounting at teardown: a mount namespace vanishes with its last process.
//!
//! "The processes of a node" are those whose network namespace is the node's (compared by
//! namespace inode), never processes matched by name.

use std::fs::OpenOptions;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::config::ClusterConfig;
use crate::daemon::Daemon;
use crate::error::{io_err, Error, Result};
use crate::nodefs::{self, PRIVATE_DIRS};
use crate::prereq::{CLEAN_PATH, REAL_CL_STATUS};
use crate::proc;
use crate::wait::wait_for;

/// Default limit for one command run inside a node.
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(30);
/// Limit for `heartbeat -k` (it may wait for resources to be released).
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// Limit for a daemon launcher to daemonise or write its pid file.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// The daemon's pid file, inside the node.
pub const PID_FILE: &str = "/run/heartbeat.pid";
/// The main log (`logfile` in the generated ha.cf), inside the node.
pub const HA_LOG: &str = "/var/log/ha-log";
/// The debug log (`debugfile`), inside the node.
pub const HA_DEBUG: &str = "/var/log/ha-debug";
/// The daemon's stdout and stderr, inside the node.
pub const DAEMON_OUT: &str = "/var/log/daemon.out";

#[derive(Default)]
struct NodeState {
    daemon: Option<Daemon>,
    /// Launchers still running (daemons that stay in the foreground).
    launchers: Vec<Child>,
    /// The node's own PID namespace, if it has one ([`Node::isolate_pids`]).
    pidns: Option<crate::pidns::PidNs>,
}

/// The shell script that makes a command run "on" a node: `$1` host name, `$2` the node's
/// tree; it bind-mounts the private directories and execs the rest of its arguments.
fn setup_script(own_proc: bool) -> String {
    let mut script = String::from("set -e; h=$1; r=$2; shift 2; ");
    script.push_str("echo \"$h\" > /proc/sys/kernel/hostname; ");
    if own_proc {
        // entered into the node's PID namespace: its own /proc
        script.push_str("mount -t proc proc /proc; ");
    }
    for dir in PRIVATE_DIRS {
        if *dir == nodefs::STONITH_EXTERNAL {
            script.push_str(&format!(
                "if [ -d /{dir} ]; then mount --bind \"$r/{dir}\" /{dir}; fi; "
            ));
        } else {
            // On a host without the heartbeat package /etc/ha.d and /var/lib/heartbeat do
            // not exist: an empty directory is the mount point (what our package creates).
            script.push_str(&format!(
                "[ -d /{dir} ] || mkdir -p /{dir}; mount --bind \"$r/{dir}\" /{dir}; "
            ));
        }
    }
    script.push_str(&format!(
        "cd /; exec env -i PATH={CLEAN_PATH} HOME=/root LANG=C TERM=dumb {}=1 \"$@\"",
        crate::pidns::REFUSE_HOST_REBOOT_ENV
    ));
    script
}

/// Quotes `s` for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// One machine of a [`crate::Lan`]. Obtained from [`crate::Lan::node`]; torn down with the Lan.
pub struct Node {
    name: String,
    netns: String,
    netns_ino: u64,
    ip: Ipv4Addr,
    ip2: Option<Ipv4Addr>,
    root: PathBuf,
    state: Mutex<NodeState>,
}

impl Node {
    pub(crate) fn new(
        name: String,
        netns: String,
        netns_ino: u64,
        ip: Ipv4Addr,
        ip2: Option<Ipv4Addr>,
        root: PathBuf,
    ) -> Node {
        Node {
            name,
            netns,
            netns_ino,
            ip,
            ip2,
            root,
            state: Mutex::new(NodeState::default()),
        }
    }

    fn state(&self) -> MutexGuard<'_, NodeState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Host name, which is also the Heartbeat node name (`nodea`, `nodeb`, ...).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Address on eth0 (LAN 1, 198.18.0.0/24).
    pub fn ip(&self) -> Ipv4Addr {
        self.ip
    }

    /// Address on eth1 (LAN 2, 198.19.0.0/24), if the Lan has a second LAN.
    pub fn ip2(&self) -> Option<Ipv4Addr> {
        self.ip2
    }

    /// The MAC address of `iface` (e.g. to tell which node answered a probe).
    pub fn mac(&self, iface: &str) -> Result<crate::probe::Mac> {
        let text = self.exec_ok(&["cat", &format!("/sys/class/net/{iface}/address")])?;
        crate::probe::parse_mac(text.trim())
            .ok_or_else(|| Error::Invalid(format!("bad MAC {text:?} on {} {iface}", self.name)))
    }

    /// Whether IPv4 address `ip` is configured on `iface` (a VIP held here).
    pub fn has_address(&self, iface: &str, ip: &str) -> bool {
        self.exec_ok(&["ip", "-4", "-o", "addr", "show", "dev", iface])
            .is_ok_and(|s| s.contains(&format!(" {ip}/")))
    }

    /// Inode of the node's network namespace (`/proc/PID/ns/net` of its processes).
    pub fn netns_inode(&self) -> u64 {
        self.netns_ino
    }

    /// Name of the node's network namespace (for `ip netns exec`).
    pub fn netns(&self) -> &str {
        &self.netns
    }

    /// Host directory holding the node's private tree.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Host path of a path inside the node's private directories (e.g. `/var/log/ha-log`).
    pub fn host_path(&self, inside: &str) -> Result<PathBuf> {
        nodefs::host_path_or_err(&self.root, inside)
    }

    fn private(&self, inside: &str) -> PathBuf {
        nodefs::host_path(&self.root, inside).unwrap_or_else(|| self.root.join("invalid"))
    }

    /// A `Command` that runs `args` inside the node (net + private mount + UTS namespaces,
    /// clean environment, working directory `/`).
    pub fn command<S: AsRef<str>>(&self, args: &[S]) -> Command {
        let init = self.pidns_init();
        let script = setup_script(init.is_some());
        let mut cmd = match init {
            Some(pid) => {
                let mut c = Command::new("nsenter");
                c.args(["--target", &pid.to_string(), "--pid", "--", "ip"]);
                c
            }
            None => Command::new("ip"),
        };
        cmd.args(["netns", "exec", &self.netns, "unshare", "--mount", "--uts"])
            .args([
                "--propagation",
                "private",
                "sh",
                "-c",
                &script,
                proc::NODE_MARKER,
                &self.name,
            ])
            .arg(&self.root)
            .args(args.iter().map(AsRef::as_ref))
            .env("PATH", CLEAN_PATH);
        cmd
    }

    /// Writes an executable script (0755) that runs its arguments on this node exactly as
    /// [`Node::command`] does, with `bin_dir` first in PATH (`SCRIPT cl_status listnodes`),
    /// for a cluster left running.
    pub fn write_enter_script(&self, path: &Path, bin_dir: &Path) -> Result<()> {
        let script = format!(
            "#!/bin/sh\n# Runs a command on {name}: network namespace {ns}, its own /etc/ha.d,\n\
             # /var/lib/heartbeat, /var/log, /run and /tmp from {root},\n\
             # {bin} first in PATH.\n\
             exec ip netns exec {ns} unshare --mount --uts --propagation private \\\n    \
             sh -c {setup} {marker} {name} {root_q} \\\n    \
             env PATH={path_q} \"$@\"\n",
            name = self.name,
            ns = self.netns,
            root = self.root.display(),
            bin = bin_dir.display(),
            setup = shell_quote(&setup_script(false)),
            marker = proc::NODE_MARKER,
            root_q = shell_quote(&self.root.to_string_lossy()),
            path_q = shell_quote(&format!("{}:{CLEAN_PATH}", bin_dir.display())),
        );
        nodefs::write_file(path, &script, 0o755)
    }

    /// Runs a command inside the node (bounded by [`EXEC_TIMEOUT`]); a non-zero exit is *not*
    /// an error here: inspect `Output::status`.
    pub fn exec<S: AsRef<str>>(&self, args: &[S]) -> Result<Output> {
        self.exec_timeout(args, EXEC_TIMEOUT)
    }

    /// [`Node::exec`] with an explicit time limit.
    pub fn exec_timeout<S: AsRef<str>>(&self, args: &[S], timeout: Duration) -> Result<Output> {
        proc::run_bounded(&mut self.command(args), timeout)
    }

    /// Runs a command inside the node and returns its stdout; a non-zero exit is an error.
    pub fn exec_ok<S: AsRef<str>>(&self, args: &[S]) -> Result<String> {
        let out = proc::run_ok(&mut self.command(args), EXEC_TIMEOUT)?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs a shell script inside the node.
    pub fn sh(&self, script: &str) -> Result<Output> {
        self.exec(&["sh", "-c", script])
    }

    /// Runs the real `/usr/bin/cl_status ARGS` inside the node and returns its trimmed stdout
    /// (e.g. `cl_status(&["nodestatus", "nodeb"])` → `"active"`).  cl_status exits 1 for a
    /// dead node while still printing `dead`, so only a failure that printed nothing on stdout
    /// (e.g. the daemon's API is not up yet) is an error.
    pub fn cl_status(&self, args: &[&str]) -> Result<String> {
        let mut full = vec![REAL_CL_STATUS];
        full.extend_from_slice(args);
        let out = self.exec(&full)?;
        let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() || !stdout.is_empty() {
            Ok(stdout)
        } else {
            Err(Error::CommandFailed {
                command: format!("cl_status {} (on {})", args.join(" "), self.name),
                status: proc::describe_status(&out.status),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            })
        }
    }

    /// Writes ha.cf, authkeys (mode 0600) and haresources into the node's `/etc/ha.d`.
    pub fn write_config(&self, ha_cf: &str, authkeys: &str, haresources: &str) -> Result<()> {
        let dir = self.private("/etc/ha.d");
        nodefs::write_file(&dir.join("ha.cf"), ha_cf, 0o644)?;
        nodefs::write_file(&dir.join("authkeys"), authkeys, 0o600)?;
        nodefs::write_file(&dir.join("haresources"), haresources, 0o644)
    }

    /// [`Node::write_config`] from a [`ClusterConfig`].
    pub fn apply(&self, config: &ClusterConfig) -> Result<()> {
        self.write_config(&config.ha_cf, &config.authkeys, &config.haresources)
    }

    /// Starts `daemon` inside the node (in its own session, output to
    /// `/var/log/daemon.out`). For our daemon, the project's `harc` and rc.d hooks
    /// (`packaging/ha.d`) replace the node's copies of the host's (3.0.6) ones, except files a
    /// test changed. Returns once the launcher has daemonised or the pid file exists.
    pub fn start(&self, daemon: Daemon) -> Result<()> {
        self.start_wrapped(daemon, &[])
    }

    /// [`Node::start`] with the daemon run through `wrapper` (a command prefix such as
    /// `["unshare", "--time", "--monotonic", "3600"]`), still inside the node.
    pub fn start_wrapped(&self, daemon: Daemon, wrapper: &[&str]) -> Result<()> {
        if matches!(daemon, Daemon::Ours(_)) {
            nodefs::install_packaged_hooks(&self.root)?;
        }
        let pid_file = self.private(PID_FILE);
        if self.pids().is_empty() {
            // A stale pid file (after kill9) would make the readiness check lie.
            let _ = std::fs::remove_file(&pid_file);
        }
        let out_path = self.private(DAEMON_OUT);
        let mut out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&out_path)
            .map_err(io_err("open", &out_path))?;
        {
            use std::io::Write;
            let _ = writeln!(out, "=== hb-tests: starting {}", daemon.label());
        }
        let err = out.try_clone().map_err(io_err("open", &out_path))?;
        let binary = daemon.binary().to_string_lossy().into_owned();
        let mut argv = vec!["setsid"];
        argv.extend_from_slice(wrapper);
        argv.push(binary.as_str());
        let mut cmd = self.command(&argv);
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        let mut launcher = proc::spawn(&mut cmd)?;
        self.state().daemon = Some(daemon);

        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match launcher.try_wait() {
                Ok(Some(status)) => {
                    proc::forget(launcher.id());
                    if status.success() {
                        return Ok(());
                    }
                    return Err(Error::DaemonStart {
                        node: self.name.clone(),
                        status: proc::describe_status(&status),
                        output: nodefs::tail(&nodefs::read_text(&out_path), 20),
                    });
                }
                Ok(None) if pid_file.exists() => {
                    // Stays in the foreground: keep the launcher to reap it at teardown.
                    self.state().launchers.push(launcher);
                    return Ok(());
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => {
                    proc::stop_child(&mut launcher);
                    return Err(Error::Timeout {
                        what: format!("the daemon on {} to start", self.name),
                        timeout: START_TIMEOUT,
                        detail: nodefs::tail(&nodefs::read_text(&out_path), 20),
                    });
                }
            }
        }
    }

    /// Graceful stop: `heartbeat -k` inside the node, then waits until no process is left.
    pub fn stop(&self) -> Result<()> {
        let daemon = self.state().daemon.clone().ok_or_else(|| {
            Error::Invalid(format!("stop: no daemon was started on {}", self.name))
        })?;
        let binary = daemon.binary().to_string_lossy().into_owned();
        let out = self.exec_timeout(&[binary.as_str(), "-k"], STOP_TIMEOUT)?;
        if !out.status.success() {
            return Err(Error::CommandFailed {
                command: format!("{binary} -k (on {})", self.name),
                status: proc::describe_status(&out.status),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        let result = wait_for(
            &format!("every process of {} to exit after -k", self.name),
            Duration::from_secs(30),
            Duration::from_millis(100),
            || self.pids().is_empty(),
            || format!("still running: {:?}", self.pids()),
        );
        self.reap();
        result
    }

    /// SIGKILLs every process of the node (a crash; links stay up).
    pub fn kill9(&self) -> Result<()> {
        let survivors = proc::kill_netns(self.netns_ino);
        self.reap();
        if survivors.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(format!(
                "{}: processes survived SIGKILL: {survivors:?}",
                self.name
            )))
        }
    }

    /// PID of the master control process, from the node's `/run/heartbeat.pid`, if that
    /// process is alive and belongs to this node.
    pub fn master_pid(&self) -> Option<u32> {
        let pid: u32 = nodefs::read_text(&self.private(PID_FILE))
            .trim()
            .parse()
            .ok()?;
        if self.pidns_init().is_some() {
            // the pid file holds the PID inside the node's namespace
            return self
                .pids()
                .into_iter()
                .find(|p| crate::pidns::nspids(*p).and_then(|v| v.last().copied()) == Some(pid));
        }
        self.pids().contains(&pid).then_some(pid)
    }

    pub(crate) fn pidns_init(&self) -> Option<u32> {
        self.state().pidns.as_ref().map(|p| p.init)
    }

    pub(crate) fn set_pidns(&self, ns: crate::pidns::PidNs) {
        self.state().pidns = Some(ns);
    }

    pub(crate) fn poll_pidns(&self) -> Option<std::process::ExitStatus> {
        let mut state = self.state();
        let ns = state.pidns.as_mut()?;
        if ns.ended.is_none() {
            if let Ok(Some(status)) = ns.launcher.try_wait() {
                proc::forget(ns.launcher.id());
                ns.ended = Some(status);
            }
        }
        ns.ended
    }

    /// SIGKILLs only the master control process and waits (bounded) until it is gone;
    /// returns its PID. Its children are left running, as after a real crash of the master.
    pub fn kill9_master(&self) -> Result<u32> {
        let pid = self.master_pid().ok_or_else(|| {
            Error::Invalid(format!(
                "{}: no live master process (pid file {PID_FILE})",
                self.name
            ))
        })?;
        proc::signal(pid, Signal::SIGKILL);
        wait_for(
            &format!("master {pid} of {} to die after SIGKILL", self.name),
            Duration::from_secs(5),
            Duration::from_millis(10),
            || !self.pids().contains(&pid),
            String::new,
        )?;
        Ok(pid)
    }

    /// Sends `sig` to one process of this node (refused for a PID outside the node).
    pub fn signal(&self, pid: u32, sig: Signal) -> Result<()> {
        if !self.pids().contains(&pid) {
            return Err(Error::Invalid(format!(
                "pid {pid} is not a process of {}",
                self.name
            )));
        }
        proc::signal(pid, sig);
        Ok(())
    }

    /// A "reboot": SIGKILL everything, empty `/run` and `/tmp`, drop every address a resource
    /// agent added (only the Lan's own address stays on each interface).
    pub fn reset(&self) -> Result<()> {
        self.kill9()?;
        nodefs::reset_volatile(&self.root)?;
        let ifaces = [("eth0", Some(self.ip)), ("eth1", self.ip2)];
        for (iface, ip) in ifaces {
            let Some(ip) = ip else { continue };
            let ns = self.netns.as_str();
            proc::run_ok(
                Command::new("ip").args(["-n", ns, "-4", "addr", "flush", "dev", iface]),
                EXEC_TIMEOUT,
            )?;
            proc::run_ok(
                Command::new("ip")
                    .args(["-n", ns, "addr", "add", &format!("{ip}/24"), "brd", "+"])
                    .args(["dev", iface]),
                EXEC_TIMEOUT,
            )?;
        }
        Ok(())
    }

    /// Live processes of this node (same network namespace), by PID.
    pub fn pids(&self) -> Vec<u32> {
        proc::pids_in_netns(self.netns_ino)
    }

    /// Contents of `/var/log/ha-log` (empty if not written yet).
    pub fn log_text(&self) -> String {
        nodefs::read_text(&self.private(HA_LOG))
    }

    /// Contents of `/var/log/ha-debug`.
    pub fn debug_log_text(&self) -> String {
        nodefs::read_text(&self.private(HA_DEBUG))
    }

    /// The daemon's stdout and stderr (`/var/log/daemon.out`).
    pub fn daemon_output(&self) -> String {
        nodefs::read_text(&self.private(DAEMON_OUT))
    }

    /// Waits until `/var/log/ha-log` contains `pattern` (a plain substring).
    pub fn wait_for_log(&self, pattern: &str, timeout: Duration) -> Result<()> {
        wait_for(
            &format!("{:?} in {}:{HA_LOG}", pattern, self.name),
            timeout,
            Duration::from_millis(100),
            || self.log_text().contains(pattern),
            || {
                format!(
                    "last lines of {}:{HA_LOG}:\n{}",
                    self.name,
                    nodefs::tail(&self.log_text(), 15)
                )
            },
        )
    }

    /// Reaps launchers that have exited and orphans re-parented to the test process.
    fn reap(&self) {
        let mut state = self.state();
        state.launchers.retain_mut(|child| match child.try_wait() {
            Ok(Some(_)) => {
                proc::forget(child.id());
                false
            }
            _ => true,
        });
        drop(state);
        proc::reap_orphans();
    }

    /// Teardown: kill every process of the node and its launchers. Returns survivors.
    pub(crate) fn teardown(&self) -> Vec<u32> {
        let survivors = proc::kill_netns(self.netns_ino);
        let mut state = self.state();
        for mut child in state.launchers.drain(..) {
            proc::stop_child(&mut child);
        }
        if let Some(mut ns) = state.pidns.take() {
            // SIGKILL of the init ends the whole namespace; then reap the launcher
            if ns.ended.is_none() {
                proc::signal(ns.init, Signal::SIGKILL);
                proc::stop_child(&mut ns.launcher);
            }
        }
        drop(state);
        proc::reap_orphans();
        survivors
    }
}
