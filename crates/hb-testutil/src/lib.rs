//! Helpers shared by the project's test suites (a dev-dependency only).
//!
//! A test that needs root (network namespaces, private mounts, `dpkg
//! --root`, `SO_PEERCRED` checks of the real tools) must fail, with the
//! reason, when it is not run as root: a silent early `return` would report
//! a pass for a test that never ran.

/// The process runs with effective uid 0.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The message of [`require_root`].
pub fn not_root_message(why: &str) -> String {
    format!("this test must run as root ({why}): run it as root, e.g. sudo scripts/test.sh")
}

/// Fails the calling test unless the process runs as root; `why` says what
/// the test needs root for.
pub fn require_root(why: &str) {
    assert!(is_root(), "{}", not_root_message(why));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_reason_and_the_remedy() {
        let m = not_root_message("network namespaces");
        assert!(m.contains("must run as root (network namespaces)"), "{m}");
        assert!(m.contains("sudo scripts/test.sh"), "{m}");
    }

    #[test]
    fn require_root_fails_exactly_when_not_root() {
        let r = std::panic::catch_unwind(|| require_root("a reason"));
        assert_eq!(r.is_ok(), is_root());
        if let Err(e) = r {
            let text = e.downcast_ref::<String>().cloned().unwrap_or_default();
            assert_eq!(text, not_root_message("a reason"));
        }
    }
}
