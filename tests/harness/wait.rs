//! Bounded waiting: every wait in a test has a time limit and a poll interval.

use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Calls `cond` every `poll` until it returns true (then `true`) or `timeout` has passed (then
/// `false`). `cond` is always tried at least once, and once more at the deadline.
pub fn wait_until(timeout: Duration, poll: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        std::thread::sleep(poll.min(deadline - now));
    }
}

/// [`wait_until`] that fails with [`Error::Timeout`] naming `what`; `detail` is evaluated only
/// on timeout (e.g. to attach the tail of a log).
pub fn wait_for(
    what: &str,
    timeout: Duration,
    poll: Duration,
    cond: impl FnMut() -> bool,
    detail: impl FnOnce() -> String,
) -> Result<()> {
    if wait_until(timeout, poll, cond) {
        Ok(())
    } else {
        Err(Error::Timeout {
            what: what.to_string(),
            timeout,
            detail: detail(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_true_as_soon_as_the_condition_holds() {
        let mut calls = 0;
        let ok = wait_until(Duration::from_secs(5), Duration::from_millis(1), || {
            calls += 1;
            calls == 3
        });
        assert!(ok);
        assert_eq!(calls, 3);
    }

    #[test]
    fn gives_up_at_the_deadline() {
        let start = Instant::now();
        let ok = wait_until(Duration::from_millis(50), Duration::from_millis(10), || {
            false
        });
        assert!(!ok);
        assert!(start.elapsed() >= Duration::from_millis(50));
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn wait_for_names_what_timed_out() {
        let err = wait_for(
            "the moon",
            Duration::ZERO,
            Duration::ZERO,
            || false,
            || "tail".into(),
        )
        .expect_err("never true");
        let text = err.to_string();
        assert!(text.contains("the moon") && text.contains("tail"), "{text}");
    }
}
