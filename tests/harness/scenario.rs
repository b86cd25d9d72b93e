//! Building blocks the fault scenarios share: bring a pair up, watch a peer's log for what
//! must not happen, and find a node's processes by their `ps` title.

use std::time::Duration;

use crate::daemon::Daemon;
use crate::error::{Error, Result};
use crate::node::Node;
use crate::wait::wait_for;

/// Our daemon, or a failure that says how to build it.
pub fn ours() -> Result<Daemon> {
    Daemon::ours()
}

/// Waits until the real `cl_status` on `observer` reports `peer` active (works against the
/// real daemon and ours).
pub fn wait_active(observer: &Node, peer: &str, timeout: Duration) -> Result<()> {
    wait_for(
        &format!("{} to see {peer} active", observer.name()),
        timeout,
        Duration::from_millis(200),
        || observer.cl_status(&["nodestatus", peer]).ok().as_deref() == Some("active"),
        || crate::nodefs::tail(&observer.log_text(), 15),
    )
}

/// Lines that would show a peer's failure as seen by an observer. `allowed_late` permits
/// "Late heartbeat" warnings (loss scenarios), never deaths.
pub fn failure_lines(log: &str, peer: &str, allowed_late: bool) -> Vec<String> {
    let dead = format!("node {peer}: is dead");
    let late = format!("Late heartbeat: Node {peer}");
    let back = format!("Cluster node {peer} returning after partition");
    let restart = format!("Heartbeat restart on node {peer}");
    log.lines()
        .filter(|l| {
            l.contains(&dead)
                || l.contains(&back)
                || l.contains(&restart)
                || (!allowed_late && l.contains(&late))
        })
        .map(str::to_string)
        .collect()
}

/// Fails with the offending lines if `observer`'s log, after its first `skip` lines, shows
/// `peer` failing.
pub fn assert_no_failure(
    observer: &Node,
    peer: &str,
    skip: usize,
    allowed_late: bool,
) -> Result<()> {
    let log = observer.log_text();
    let rest: String = log.lines().skip(skip).collect::<Vec<_>>().join("\n");
    let bad = failure_lines(&rest, peer, allowed_late);
    if bad.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{} saw {peer} fail:\n{}",
            observer.name(),
            bad.join("\n")
        )))
    }
}

/// Number of lines in `node`'s log now (to look only at what comes after).
pub fn log_mark(node: &Node) -> usize {
    node.log_text().lines().count()
}

/// `(pid, title)` of the node's processes (the `ps` title is the whole command line).
pub fn titles(node: &Node) -> Vec<(u32, String)> {
    let mut pids = node.pids();
    pids.sort_unstable();
    pids.into_iter()
        .filter_map(|pid| {
            let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let title = String::from_utf8_lossy(&raw)
                .split('\0')
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            Some((pid, title))
        })
        .collect()
}

/// The pid of the node's process whose title is exactly `title`.
pub fn pid_titled(node: &Node, title: &str) -> Option<u32> {
    titles(node)
        .into_iter()
        .find(|(_, t)| t == title)
        .map(|(p, _)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_lines_find_deaths_and_optionally_late_heartbeats() {
        let log = "x WARN: node nodeb: is dead\n\
                   x WARN: Late heartbeat: Node nodeb: interval 700 ms\n\
                   x info: Link nodeb:eth0 up.\n\
                   x WARN: node nodec: is dead\n";
        assert_eq!(failure_lines(log, "nodeb", true).len(), 1);
        assert_eq!(failure_lines(log, "nodeb", false).len(), 2);
        assert!(failure_lines("", "nodeb", false).is_empty());
    }
}
