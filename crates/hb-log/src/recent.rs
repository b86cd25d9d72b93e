//! The last log lines at `info` or above, kept in memory for `cl_status explain` ("the last
//! cluster events" are what the log said last).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::Prio;

/// Lines kept.
pub const RECENT_KEPT: usize = 12;

static RECENT: Mutex<VecDeque<(u64, String)>> = Mutex::new(VecDeque::new());

/// Remembers a line (debug lines are not kept).
pub(crate) fn record(prio: Prio, text: &str) {
    if prio == Prio::Debug {
        return;
    }
    let Ok(mut lines) = RECENT.lock() else {
        return;
    };
    if lines.len() == RECENT_KEPT {
        lines.pop_front();
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    lines.push_back((now, format!("{}: {text}", prio.as_str())));
}

/// The last lines written by this process: (wall clock s, `level: text`), oldest first.
pub fn recent_lines() -> Vec<(u64, String)> {
    RECENT
        .lock()
        .map(|l| l.iter().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_lines_without_debug() {
        for i in 0..(RECENT_KEPT + 3) {
            record(Prio::Info, &format!("line {i}"));
        }
        record(Prio::Debug, "not kept");
        let lines = recent_lines();
        assert_eq!(lines.len(), RECENT_KEPT);
        assert!(lines
            .last()
            .is_some_and(|(_, l)| l == &format!("info: line {}", RECENT_KEPT + 2)));
    }
}
