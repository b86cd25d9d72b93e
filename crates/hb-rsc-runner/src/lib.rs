//! Starting and stopping one haresources group the way Debian's
//! `/usr/share/heartbeat/ResourceManager` does (docs/behaviour.md §5.3–5.4), with
//! a timeout on every script call.
//!
//! * A resource `Script::arg1::arg2` runs `<path> arg1 arg2 start|stop|status`;
//!   the IP shorthand `a.b.c.d[/…]` means `IPaddr::a.b.c.d[/…]` (parsed by
//!   [`hb_config::Resource::parse`]). The script is looked up in each of
//!   [`ScriptEnv::resource_dirs`] in turn (`<confdir>/resource.d`, then
//!   `/etc/init.d`) and must be an executable file.
//! * `status` is judged by its **stdout text only**:
//!   [`status_text_means_running`].
//! * Acquire: left to right, skipping resources already running; a failed
//!   start releases the whole group (right to left) and reports failure, so
//!   a group is never left half started.
//! * Release: right to left; a failed stop is retried (1 s apart); if it
//!   still fails and the resource still runs, the result says
//!   `reboot_required` — what to do about it is the daemon's decision.
//! * Every call has a deadline; at the deadline the script's whole process
//!   group gets SIGTERM, then SIGKILL, and the call counts as failed.
//! * `IPaddr` and `IPaddr2` resources with one argument take the native fast
//!   path ([`native_ip`]: netlink + gratuitous ARP in-process) unless
//!   [`ScriptEnv::native_ip`] is off; their log lines say `(native)`.
//!
//! [`run_group`] blocks until done: the daemon runs it in a forked helper so
//! that its main loop never waits for a script. Log lines come back as data
//! in ResourceManager's wording.
//!
//! This is the I/O half of resource management; the pure state machine
//! that decides which group to start or stop is `hb-rsc`.

#![deny(missing_docs)]

mod exec;
pub mod native_ip;

use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::Duration;

use hb_config::{Resource, ResourceGroup};

use exec::{Call, Outcome};
use hb_rsc::Level;

/// Start or stop a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupOp {
    /// `takegroup`.
    Acquire,
    /// `givegroup`.
    Release,
}

/// How scripts are found and run.
#[derive(Debug, Clone)]
pub struct ScriptEnv {
    /// Directories searched in order (`<confdir>/resource.d`, `/etc/init.d`).
    pub resource_dirs: Vec<PathBuf>,
    /// The complete environment of every script (nothing is inherited;
    /// `PATH` defaults to `/usr/sbin:/usr/bin:/sbin:/bin` when absent).
    pub vars: Vec<(String, String)>,
    /// Deadline of one script call.
    pub timeout: Duration,
    /// Between SIGTERM and SIGKILL at a deadline.
    pub kill_grace: Duration,
    /// Retries of a failed stop (`HA_STOPRETRYMAX`, default 10).
    pub stop_retries: u32,
    /// Pause before each retry (1 s).
    pub retry_interval: Duration,
    /// Where stdout/stderr of start and stop go (`HA_DEBUGLOG`); `None`
    /// discards them.
    pub debug_log: Option<PathBuf>,
    /// Handle `IPaddr`/`IPaddr2` natively ([`native_ip`]) instead of running
    /// their scripts.
    pub native_ip: bool,
}

impl ScriptEnv {
    /// Defaults for configuration directory `confdir` (`/etc/ha.d`):
    /// 5-minute call deadline, 5 s kill grace, 10 stop retries 1 s apart.
    pub fn new(confdir: &Path) -> ScriptEnv {
        ScriptEnv {
            resource_dirs: vec![confdir.join("resource.d"), PathBuf::from("/etc/init.d")],
            vars: Vec::new(),
            timeout: Duration::from_secs(300),
            kill_grace: Duration::from_secs(5),
            stop_retries: 10,
            retry_interval: Duration::from_secs(1),
            debug_log: None,
            native_ip: true,
        }
    }
}

/// What [`run_group`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupResult {
    /// Acquire: every resource runs. Release: every resource stopped (or
    /// was not running any more).
    pub ok: bool,
    /// The resource whose start failed (the group was then released).
    pub failed_resource: Option<String>,
    /// A stop failed and the resource still runs: the C reboots here.
    pub reboot_required: bool,
    /// Log lines, in order, in ResourceManager's wording.
    pub log: Vec<(Level, String)>,
    /// Gratuitous ARPs still due for addresses started natively (the first
    /// of each was sent): send them in the background with
    /// [`native_ip::announce`], as the agents background `send_arp`.
    pub announcements: Vec<native_ip::Announcement>,
}

/// The status rule of ResourceManager (stdout of `<script> status`):
/// not running if it matches the shell pattern `*[Nn][Oo][Tt] *[Rr]unning*`
/// (`not`, a blank, anything, `running`), else running if it contains
/// `running`, `Running` or `OK`, else not running.
pub fn status_text_means_running(text: &str) -> bool {
    let says_running = |s: &str| s.contains("running") || s.contains("Running");
    let b = text.as_bytes();
    let negated = (0..b.len()).any(|i| {
        b.len() >= i + 4
            && b[i..i + 3].eq_ignore_ascii_case(b"not")
            && b[i + 3] == b' '
            && text.get(i + 4..).is_some_and(says_running)
    });
    !negated && (says_running(text) || text.contains("OK"))
}

/// The script of a resource: the first executable file named
/// `resource.script` in `dirs`.
pub fn find_script(resource: &Resource, dirs: &[PathBuf]) -> Option<PathBuf> {
    if resource.script.is_empty() || resource.script.contains('/') {
        return None;
    }
    dirs.iter()
        .map(|d| d.join(&resource.script))
        .find(|p| is_executable_file(p))
}

fn is_executable_file(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether `resource` runs, by its script's `status` text. `None` when
/// the script is missing, cannot be started or timed out.
pub fn resource_running(resource: &Resource, env: &ScriptEnv) -> Option<bool> {
    let mut r = Runner::new(env);
    let how = r.executor(resource)?;
    r.status(&how, resource)
}

/// Starts (left to right) or stops (right to left) `group`. Blocking.
pub fn run_group(op: GroupOp, group: &ResourceGroup, env: &ScriptEnv) -> GroupResult {
    let mut r = Runner::new(env);
    let ok = match op {
        GroupOp::Acquire => r.acquire(group),
        GroupOp::Release => r.release(group),
    };
    GroupResult {
        ok,
        failed_resource: r.failed,
        reboot_required: r.reboot_required,
        log: r.log,
        announcements: r.announcements,
    }
}

/// How one resource is operated.
enum Exec {
    /// In-process (`IPaddr`/`IPaddr2`).
    Native(native_ip::Agent),
    /// By its script at this path.
    Script(PathBuf),
}

struct Runner<'a> {
    env: &'a ScriptEnv,
    log: Vec<(Level, String)>,
    failed: Option<String>,
    reboot_required: bool,
    announcements: Vec<native_ip::Announcement>,
}

impl<'a> Runner<'a> {
    fn new(env: &'a ScriptEnv) -> Runner<'a> {
        Runner {
            env,
            log: Vec::new(),
            failed: None,
            reboot_required: false,
            announcements: Vec::new(),
        }
    }

    fn say(&mut self, level: Level, text: String) {
        self.log.push((level, text));
    }

    /// Native for a one-argument `IPaddr`/`IPaddr2` (unless disabled),
    /// else the script; `None` (logged) when the script cannot be found.
    fn executor(&mut self, r: &Resource) -> Option<Exec> {
        if self.env.native_ip && r.args.len() == 1 {
            if let Some(agent) = native_ip::Agent::from_script(&r.script) {
                return Some(Exec::Native(agent));
            }
        }
        let found = find_script(r, &self.env.resource_dirs);
        if found.is_none() {
            self.say(
                Level::Error,
                format!("Cannot locate resource script {}", r.script),
            );
        }
        found.map(Exec::Script)
    }

    fn call(&self, path: &Path, r: &Resource, op: &str, capture: bool) -> (Outcome, String) {
        exec::run(&Call {
            path,
            args: &r.args,
            op,
            env: &self.env.vars,
            timeout: self.env.timeout,
            kill_grace: self.env.kill_grace,
            capture_stdout: capture,
            debug_log: self.env.debug_log.as_deref(),
        })
    }

    fn status(&mut self, how: &Exec, r: &Resource) -> Option<bool> {
        let path = match how {
            Exec::Native(agent) => {
                let arg = r.args.first().map_or("", String::as_str);
                return match native_ip::status(arg) {
                    Ok(running) => Some(running),
                    Err(e) => {
                        self.say(
                            Level::Error,
                            format!("{} {arg} status (native): {e}", agent.name()),
                        );
                        None
                    }
                };
            }
            Exec::Script(path) => path,
        };
        let (outcome, text) = self.call(path, r, "status", true);
        match outcome {
            Outcome::Exited(_) => Some(status_text_means_running(&text)),
            other => {
                self.report_abnormal(path, r, "status", &other);
                None
            }
        }
    }

    /// `doscript <rsc> <op>` for start and stop, native or by script.
    fn run_op(&mut self, how: &Exec, r: &Resource, op: &str) -> bool {
        match how {
            Exec::Script(path) => self.doscript(path, r, op),
            Exec::Native(agent) => self.native_op(*agent, r, op),
        }
    }

    fn native_op(&mut self, agent: native_ip::Agent, r: &Resource, op: &str) -> bool {
        let arg = r.args.first().map_or("", String::as_str);
        let name = agent.name();
        self.say(Level::Info, format!("Running {name} {arg} {op} (native)"));
        let done = if op == "start" {
            native_ip::start(agent, arg).map(|(what, due)| {
                self.announcements.extend(due);
                what
            })
        } else {
            native_ip::stop(arg)
        };
        match done {
            Ok(what) => {
                self.say(Level::Debug, format!("{name}: {what}"));
                true
            }
            Err(e) => {
                self.say(
                    Level::Error,
                    format!("{name} {arg} {op} (native) failed: {e}"),
                );
                false
            }
        }
    }

    /// `doscript <rsc> <op>`: logs, runs, reports a non-zero status.
    fn doscript(&mut self, path: &Path, r: &Resource, op: &str) -> bool {
        self.say(
            Level::Info,
            format!("Running {} {} {op}", path.display(), r.args.join(" ")),
        );
        let (outcome, _) = self.call(path, r, op, false);
        match outcome {
            Outcome::Exited(0) => true,
            Outcome::Exited(rc) => {
                self.say(
                    Level::Error,
                    format!("Return code {rc} from {}", path.display()),
                );
                false
            }
            other => {
                self.report_abnormal(path, r, op, &other);
                false
            }
        }
    }

    fn report_abnormal(&mut self, path: &Path, r: &Resource, op: &str, outcome: &Outcome) {
        let what = std::iter::once(path.display().to_string())
            .chain(r.args.iter().cloned())
            .chain(std::iter::once(op.to_string()))
            .collect::<Vec<_>>()
            .join(" ");
        match outcome {
            Outcome::TimedOut { pgid } => self.say(
                Level::Error,
                format!(
                    "{what} timed out after {} ms: killed its process group {pgid}",
                    self.env.timeout.as_millis()
                ),
            ),
            Outcome::SpawnFailed(e) => self.say(Level::Error, format!("Cannot run {what}: {e}")),
            Outcome::Exited(_) => {}
        }
    }

    fn acquire(&mut self, group: &ResourceGroup) -> bool {
        self.say(
            Level::Info,
            format!("Acquiring resource group: {}", group.text),
        );
        for r in &group.resources {
            let started = match self.executor(r) {
                None => false,
                Some(how) => self.status(&how, r) == Some(true) || self.run_op(&how, r, "start"),
            };
            if !started {
                self.say(
                    Level::Crit,
                    format!("Giving up resources due to failure of {}", r.text),
                );
                self.failed = Some(r.text.clone());
                self.release(group);
                return false;
            }
        }
        true
    }

    fn release(&mut self, group: &ResourceGroup) -> bool {
        self.say(
            Level::Info,
            format!("Releasing resource group: {}", group.text),
        );
        for r in group.resources.iter().rev() {
            // a script that cannot be found cannot be running either
            let Some(how) = self.executor(r) else {
                continue;
            };
            let mut retries = 0;
            let mut stopped = self.run_op(&how, r, "stop");
            while !stopped && retries < self.env.stop_retries {
                sleep(self.env.retry_interval);
                retries += 1;
                self.say(
                    Level::Info,
                    format!("Retrying failed stop operation [{}]", r.text),
                );
                stopped = self.run_op(&how, r, "stop");
            }
            if stopped {
                continue;
            }
            // unknown counts as running: better a reboot than a split brain
            if self.status(&how, r) != Some(false) {
                self.say(
                    Level::Crit,
                    "Resource STOP failure. Reboot required!".to_string(),
                );
                self.reboot_required = true;
            } else {
                self.say(
                    Level::Error,
                    format!("Resource script for {} probably not LSB-compliant.", r.text),
                );
                self.say(
                    Level::Warn,
                    format!(
                        "it ({}) MUST succeed on a stop when already stopped",
                        r.text
                    ),
                );
                self.say(Level::Warn, "Machine reboot narrowly avoided!".to_string());
            }
        }
        !self.reboot_required
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_text_table() {
        let table = [
            ("apache2 is running.", true),
            ("INFO: Running OK", true),
            ("OK", true),
            ("IPaddr2 198.18.99.1 is running", true),
            ("apache2 is not running.", false),
            ("Not running", false),
            ("NOT running", false),
            ("is NoT   currently running", false),
            ("INFO: Resource is stopped", false),
            ("", false),
            ("stopped (not OK)", true),
            // the blank after "not" is required by the pattern
            ("notrunning", true),
            // only lower-case "unning" counts
            ("NOT RUNNING", false),
            ("RUNNING", false),
            ("status: ok", false),
            ("OCF Resource IPaddr::x is running", true),
            ("OCF Resource IPaddr::x is stopped", false),
        ];
        for (text, want) in table {
            assert_eq!(status_text_means_running(text), want, "{text:?}");
        }
    }
}
