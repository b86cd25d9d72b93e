//! Host facts: the node name.

/// The kernel's node name (`uname -n`), as heartbeat uses it before the
/// `nodeinfo` override and lower-casing (docs/behaviour.md §1.7 step 3). Returns an
/// empty string only if `uname` itself fails.
pub fn nodename() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.nodename().to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_proc_hostname() {
        let expected = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("read");
        assert_eq!(super::nodename(), expected.trim_end_matches('\n'));
        assert!(!super::nodename().is_empty());
    }
}
