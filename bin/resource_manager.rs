//! `/usr/share/heartbeat/ResourceManager`: the operator's view of haresources
//! (docs/behaviour.md §5.3), with the sub-commands and output of 3.0.6's shell
//! script of the same name. Group operations run through the same runner the
//! daemon uses (`hb_rsc_runner`), so `takegroup` by hand does exactly what a
//! takeover does.
//!
//! | sub-command | prints / does |
//! |---|---|
//! | `listkeys <node-regex>` | the key (first resource) of every group whose node matches (`grep -Ei '^<regex> '`) |
//! | `allkeys` | `listkeys '.*'` |
//! | `ourkeys` / `otherkeys` | the resources (key first) of the groups of `$HA_CURHOST` / of the other nodes |
//! | `status <resource>` | nothing; exit 0 if it runs, 3 if not |
//! | `takegroup <key>` / `givegroup <key>` | start / stop the group (log lines to the heartbeat log, script output to `$HA_DEBUGLOG`) |
//! | `statgroup <key>` | `NONE`, `SOME` or `ALL` to `$HA_DEBUGLOG` (stdout when unset) |
//! | `verifyallidle` | exit status = number of groups whose key resource runs, with CRITICAL lines |
//!
//! Differences: a stop that fails and leaves the resource running is logged
//! as in 3.0.6 (`Resource STOP failure. Reboot required!`) but this command
//! does not reboot the machine (the daemon decides that for its own takeovers);
//! every script call has the daemon's timeout (`HEARTBEAT_RSC_TIMEOUT`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use hb_config::{Resource, ResourceGroup};
use hb_daemon::logging::{self, LogTargets, Prio};
use hb_rsc_runner::{self as runner, GroupOp, ScriptEnv};

const HA_DIR: &str = "/etc/ha.d";
const STANDBY: &str = "/usr/share/heartbeat/hb_standby";
const USAGE: &str =
    "usage: ResourceManager listkeys machine | takegroup key | givegroup key|status resource";

/// haresources as the script normalises it: comments stripped, `\`
/// continuations joined, blanks squeezed, empty lines dropped, the node
/// lower-cased; each line ends with one blank.
fn normalised(text: &str) -> Vec<String> {
    let mut joined = Vec::new();
    let mut pending = String::new();
    for raw in text.lines() {
        let line = raw.split('#').next().unwrap_or("");
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(line);
        joined.push(std::mem::take(&mut pending));
    }
    if !pending.is_empty() {
        joined.push(pending);
    }
    joined
        .into_iter()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let node = words.next()?.to_ascii_lowercase();
            let rest: Vec<&str> = words.collect();
            let mut out = node;
            for w in rest {
                out.push(' ');
                out.push_str(w);
            }
            out.push(' ');
            Some(out)
        })
        .collect()
}

fn haresources() -> Vec<String> {
    std::fs::read_to_string(Path::new(HA_DIR).join("haresources"))
        .map(|t| normalised(&t))
        .unwrap_or_default()
}

/// The lines `grep -E <flags> <pattern>` selects (3.0.6 uses egrep, so the
/// node pattern is an extended regular expression).
fn grep(lines: &[String], flags: &str, pattern: &str) -> Vec<String> {
    let child = Command::new("grep")
        .args([flags, "-e", pattern])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn();
    let Ok(mut child) = child else {
        return Vec::new();
    };
    if let Some(mut stdin) = child.stdin.take() {
        for l in lines {
            let _ = writeln!(stdin, "{l}");
        }
    }
    child
        .wait_with_output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn field2(line: &str) -> &str {
    line.split(' ').nth(1).unwrap_or("")
}

fn after_node(line: &str) -> &str {
    line.split_once(' ').map_or("", |(_, rest)| rest)
}

fn curhost() -> String {
    std::env::var("HA_CURHOST")
        .unwrap_or_else(|_| hb_sys::host::nodename())
        .to_ascii_lowercase()
}

/// The group whose line holds ` <key> ` (3.0.6 matches the key anywhere in
/// the line), as a typed group.
fn group_of(key: &str) -> Option<ResourceGroup> {
    let needle = format!(" {key} ");
    let line = haresources().into_iter().find(|l| l.contains(&needle))?;
    let mut words = line.split_whitespace();
    let node = words.next()?.to_string();
    let resources: Vec<Resource> = words.map(Resource::parse).collect();
    Some(ResourceGroup {
        node,
        text: line.trim_end().to_string(),
        line: 0,
        resources,
    })
}

fn script_env() -> ScriptEnv {
    let mut env = ScriptEnv::new(Path::new(HA_DIR));
    env.vars = std::env::vars().collect();
    env.debug_log = std::env::var("HA_DEBUGLOG")
        .ok()
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    if let Ok(v) = std::env::var("HA_STOPRETRYMAX") {
        if let Ok(n) = v.trim().parse() {
            env.stop_retries = n;
        }
    }
    if let Ok(v) = std::env::var("HEARTBEAT_RSC_TIMEOUT") {
        if let Ok(s) = v.trim().parse::<u64>() {
            env.timeout = std::time::Duration::from_secs(s.max(1));
        }
    }
    env.native_ip = !matches!(
        std::env::var("HEARTBEAT_NATIVE_IP").ok().as_deref(),
        Some("no" | "0" | "false" | "off")
    );
    env
}

/// Logs where the daemon's children log: `$HA_LOGFILE`, `$HA_DEBUGLOG`,
/// `$HA_LOGFACILITY` (syslog facility daemon when none is set).
fn init_logging() {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let facility = var("HA_LOGFACILITY").and_then(|f| hb_config::facility_code(&f));
    let logfile = var("HA_LOGFILE").map(PathBuf::from);
    let debugfile = var("HA_DEBUGLOG").map(PathBuf::from);
    let none = logfile.is_none() && debugfile.is_none() && facility.is_none();
    logging::init(
        "ResourceManager(default)",
        LogTargets {
            logfile,
            debugfile,
            facility: if none { Some(3 << 3) } else { facility },
            stderr: false,
            syslog_format: true,
            syslog_socket: None,
            logd: None,
        },
        std::env::var("HA_debug")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    );
}

fn running(rsc: &str, env: &ScriptEnv) -> bool {
    let r = Resource::parse(rsc);
    match runner::resource_running(&r, env) {
        Some(yes) => yes,
        None => {
            logging::emit(
                Prio::Error,
                &format!("Cannot locate resource script {}", r.script),
            );
            false
        }
    }
}

fn run(op: GroupOp, key: &str) -> i32 {
    let Some(group) = group_of(key) else {
        return 0;
    };
    let env = script_env();
    let result = runner::run_group(op, &group, &env);
    for (level, line) in &result.log {
        logging::emit(Prio::from(*level), line);
    }
    for a in &result.announcements {
        runner::native_ip::announce(a);
    }
    if op == GroupOp::Acquire && !result.ok {
        // As 3.0.6: try to move the group to the other node 30 s later.
        let which = if group.node == curhost() {
            "local"
        } else {
            "foreign"
        };
        let _ = Command::new("sh")
            .args(["-c", &format!("sleep 30; {STANDBY} {which}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }
    if result.ok {
        0
    } else {
        1
    }
}

fn statgroup(key: &str) -> &'static str {
    let Some(group) = group_of(key) else {
        return "NONE";
    };
    let env = script_env();
    let states: Vec<bool> = group
        .resources
        .iter()
        .map(|r| running(&r.text, &env))
        .collect();
    if states.is_empty() || states.iter().all(|s| !s) {
        "NONE"
    } else if states.iter().all(|s| *s) {
        "ALL"
    } else {
        "SOME"
    }
}

fn verify_all_idle() -> i32 {
    let env = script_env();
    let mut active = 0;
    for line in haresources() {
        let key = field2(&line).to_string();
        if key.is_empty() || !running(&key, &env) {
            continue;
        }
        active += 1;
        for (p, text) in [
            (
                Prio::Crit,
                format!("CRITICAL: Resource {key} is active, and should not be!"),
            ),
            (
                Prio::Crit,
                "CRITICAL: Non-idle resources can affect data integrity!".to_string(),
            ),
            (
                Prio::Info,
                "info: If you don't know what this means, then get help!".to_string(),
            ),
            (
                Prio::Info,
                "info: Read the docs and/or the source to ResourceManager for more details."
                    .to_string(),
            ),
        ] {
            logging::emit(p, text.split_once(": ").map_or(&text, |(_, t)| t));
            eprintln!("{text}");
        }
    }
    if active > 0 {
        logging::emit(
            Prio::Crit,
            "Non-idle resources will affect resource takeback!",
        );
        logging::emit(Prio::Crit, "Non-idle resources may affect data integrity!");
    }
    active
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    init_logging();
    let code = match arg(0) {
        "listkeys" | "allkeys" => {
            let pattern = if arg(0) == "allkeys" { ".*" } else { arg(1) };
            for l in grep(&haresources(), "-Ei", &format!("^{pattern} ")) {
                println!("{}", field2(&l));
            }
            0
        }
        "ourkeys" | "otherkeys" => {
            let flags = if arg(0) == "ourkeys" { "-Ei" } else { "-Eiv" };
            for l in grep(&haresources(), flags, &format!("^{} ", curhost())) {
                println!("{}", after_node(&l));
            }
            0
        }
        "status" => {
            if running(arg(1), &script_env()) {
                0
            } else {
                3
            }
        }
        "takegroup" => run(GroupOp::Acquire, arg(1)),
        "givegroup" => run(GroupOp::Release, arg(1)),
        "statgroup" => {
            let verdict = statgroup(arg(1));
            match std::env::var("HA_DEBUGLOG").ok().filter(|p| !p.is_empty()) {
                Some(p) => {
                    if let Ok(mut f) = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(p)
                    {
                        let _ = writeln!(f, "{verdict}");
                    }
                }
                None => println!("{verdict}"),
            }
            0
        }
        "verifyallidle" => verify_all_idle(),
        _ => {
            eprintln!("{USAGE}");
            eprintln!();
            1
        }
    };
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_the_script() {
        let text = "# comment\nNodeA  10.0.0.1\t httpd # trailing\n\n\
                    nodeb Filesystem::/dev/sda1::/data \\\n  apache\n";
        assert_eq!(
            normalised(text),
            vec![
                "nodea 10.0.0.1 httpd ".to_string(),
                "nodeb Filesystem::/dev/sda1::/data apache ".to_string()
            ]
        );
    }
}
