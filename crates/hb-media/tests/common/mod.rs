//! Test scaffolding: prerequisite checks, a two-namespace veth lab torn down
//! in `Drop`, and helper processes with bounded waits on their output.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

/// Fails (never skips) when a prerequisite is missing, naming what to install.
pub fn require(cmd: &str, version_arg: &str, package: &str) {
    match Command::new(cmd).arg(version_arg).stdout(Stdio::null()).stderr(Stdio::null()).status() {
        Ok(_) => {}
        Err(e) => panic!("`{cmd}` is needed by this test but cannot be run ({e}): install the `{package}` package"),
    }
}

/// Fails unless running as root (namespaces need CAP_NET_ADMIN).
pub fn require_root() {
    hb_testutil::require_root("it creates network namespaces: CAP_NET_ADMIN");
}

fn run(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `ip` ({e}): install the `iproute2` package"));
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits (bounded) until the interface reports carrier and state UP.
fn wait_lower_up(ns: &str, ifname: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let out = Command::new("ip")
            .args(["-n", ns, "link", "show", "dev", ifname])
            .output();
        if let Ok(o) = out {
            let text = String::from_utf8_lossy(&o.stdout);
            if text.contains("LOWER_UP") && text.contains("state UP") {
                return;
            }
        }
        thread::sleep(Duration::from_millis(20));
    }
    panic!("{ifname} in {ns} did not come up within 5 s");
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// One veth link between namespace A and namespace B.
#[derive(Debug, Clone)]
pub struct Link {
    /// Interface in A.
    pub a_if: String,
    /// Interface in B.
    pub b_if: String,
    /// IPv4 address of A's end (198.19.<n>.1/24).
    pub a_v4: String,
    /// IPv4 address of B's end (198.19.<n>.2/24).
    pub b_v4: String,
}

/// Two fresh namespaces joined by `links` veth pairs. Addresses come from
/// 198.19.0.0/16 (inside 198.18.0.0/15); IPv6 uses static link-local
/// addresses fe80::1 (A) and fe80::2 (B) on every link.
pub struct Lab {
    pub ns_a: String,
    pub ns_b: String,
    pub links: Vec<Link>,
}

impl Lab {
    pub fn new(links: usize) -> Lab {
        require_root();
        require("ip", "-V", "iproute2");
        let id = format!(
            "{}{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let lab = Lab {
            ns_a: format!("hbm-{id}-a"),
            ns_b: format!("hbm-{id}-b"),
            links: Vec::new(),
        };
        run(&["netns", "add", &lab.ns_a]);
        let mut lab = lab;
        run(&["netns", "add", &lab.ns_b]);
        for ns in [&lab.ns_a, &lab.ns_b] {
            run(&["-n", ns, "link", "set", "lo", "up"]);
        }
        for n in 0..links {
            let l = Link {
                a_if: format!("hbm{id}a{n}"),
                b_if: format!("hbm{id}b{n}"),
                a_v4: format!("198.19.{}.1", n + 1),
                b_v4: format!("198.19.{}.2", n + 1),
            };
            assert!(l.a_if.len() <= 15, "interface name too long: {}", l.a_if);
            run(&[
                "link", "add", &l.a_if, "netns", &lab.ns_a, "type", "veth", "peer", "name",
                &l.b_if, "netns", &lab.ns_b,
            ]);
            for (ns, ifname, v4, v6) in [
                (&lab.ns_a, &l.a_if, &l.a_v4, "fe80::1/64"),
                (&lab.ns_b, &l.b_if, &l.b_v4, "fe80::2/64"),
            ] {
                run(&[
                    "-n",
                    ns,
                    "addr",
                    "add",
                    &format!("{v4}/24"),
                    "brd",
                    "+",
                    "dev",
                    ifname,
                ]);
                run(&["-n", ns, "-6", "addr", "add", v6, "dev", ifname, "nodad"]);
                // No autoconfigured (tentative) link-local address: only ours.
                run(&["-n", ns, "link", "set", ifname, "addrgenmode", "none"]);
                run(&["-n", ns, "link", "set", ifname, "up"]);
            }
            for (ns, ifname) in [(&lab.ns_a, &l.a_if), (&lab.ns_b, &l.b_if)] {
                wait_lower_up(ns, ifname);
            }
            lab.links.push(l);
        }
        lab
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Deleting a namespace deletes the veth ends inside it.
        for ns in [&self.ns_a, &self.ns_b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// A helper process with its stdout lines delivered through a channel.
pub struct Proc {
    child: Child,
    lines: Receiver<String>,
}

impl Proc {
    /// Runs the `helper` test of this binary inside `ns` with `env`.
    pub fn helper(ns: &str, env: &[(&str, String)]) -> Proc {
        let exe = std::env::current_exe().expect("test binary path");
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns])
            .arg(exe)
            .args([
                "--exact",
                "helper",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn helper in namespace");
        let out = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Proc { child, lines: rx }
    }

    /// Waits (bounded) for a line starting with `prefix`; returns it.
    pub fn wait_line(&self, prefix: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return Some(l),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    /// Collects every line until one starts with `end` (included) or the
    /// timeout passes.
    pub fn collect_until(&self, end: &str, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    let done = l.starts_with(end);
                    got.push(l);
                    if done {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        got
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
