//! Read-only looks at a running daemon from outside: memory, liveness, log growth.

use std::time::Duration;

/// Resident set size of `pid` in KiB (`VmRSS` of `/proc/PID/status`), `None` once it is gone.
pub fn vm_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Whether process `pid` exists.
pub fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Lines of `text` after its first `skip` lines that contain `needle`.
pub fn lines_after<'a>(text: &'a str, skip: usize, needle: &str) -> Vec<&'a str> {
    text.lines()
        .skip(skip)
        .filter(|l| l.contains(needle))
        .collect()
}

/// Samples `f` every `every` for `total`, returning the samples (bounded: at most 10,000).
pub fn sample<T>(total: Duration, every: Duration, mut f: impl FnMut() -> T) -> Vec<T> {
    let start = std::time::Instant::now();
    let mut out = Vec::new();
    while start.elapsed() < total && out.len() < 10_000 {
        out.push(f());
        std::thread::sleep(every);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_of_ourselves_is_known_and_of_nobody_is_not() {
        assert!(vm_rss_kib(std::process::id()).is_some_and(|k| k > 0));
        assert_eq!(vm_rss_kib(u32::MAX), None);
        assert!(alive(std::process::id()));
    }

    #[test]
    fn lines_after_skips_the_old_part() {
        let t = "a x\nb\nc x\n";
        assert_eq!(lines_after(t, 1, "x"), vec!["c x"]);
    }
}
