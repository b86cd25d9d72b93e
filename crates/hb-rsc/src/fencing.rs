//! STONITH decisions (docs/behaviour.md §5.5.2): when a dead node must be
//! reset, holding its groups back until the reset succeeded, the 5 s retry
//! while the device fails, and the hourly device status check. The reset
//! and the check themselves run outside ([`Output::Reset`],
//! [`Output::CheckDevice`]); their results come back through
//! [`ResourceManager::reset_done`] and [`ResourceManager::device_check_done`].

use crate::manager::{Output, ResourceManager};
use crate::wire;
use crate::Level;

/// Delay before a failed reset is tried again (the C `StonithProcessDied`).
pub const STONITH_RETRY_MS: u64 = 5_000;
/// Interval of the device status check (the C `StonithStatProcessDied`).
pub const STONITH_CHECK_INTERVAL_MS: u64 = 3_600_000;

/// How a reset ended (the exit status of the C `Initiate_Reset` child).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetOutcome {
    /// `S_OK`: the node is reset (`result=OK`).
    Reset,
    /// `S_BADHOST`: the device cannot reset that host (`result=badhost`).
    BadHost,
    /// Anything else (`result=bad`), the helper crashing included.
    Failed,
}

impl ResetOutcome {
    /// The `result` field of the `t=stonith` message.
    pub fn result(self) -> &'static str {
        match self {
            ResetOutcome::Reset => "OK",
            ResetOutcome::BadHost => "badhost",
            ResetOutcome::Failed => "bad",
        }
    }
}

/// Fencing state of one [`ResourceManager`].
#[derive(Debug, Default)]
pub(crate) struct Fencing {
    /// A device is configured.
    pub enabled: bool,
    /// Nodes waiting to be reset: `None` while a reset runs, `Some(t)` when
    /// the next attempt is due at `t`.
    pub pending: std::collections::BTreeMap<String, Option<u64>>,
    /// When the next device check is due (none while one runs or before
    /// comm up).
    pub check_at: Option<u64>,
}

impl ResourceManager {
    /// A STONITH device is configured: needed resets go through it (instead
    /// of `No STONITH device configured.`), and the device is checked at
    /// comm up and hourly after that.
    pub fn enable_stonith(&mut self) {
        self.fencing.enabled = true;
    }

    /// Whether a reset of `node` is outstanding (running or waiting for its
    /// retry): its groups are not taken until it succeeds.
    pub fn reset_pending(&self, node: &str) -> bool {
        self.fencing
            .pending
            .contains_key(&node.to_ascii_lowercase())
    }

    /// A dead node needs a reset: with a device, ask for it and hold the
    /// takeover back; returns false when no device is configured.
    pub(crate) fn start_reset(&mut self, node: &str) -> bool {
        if !self.fencing.enabled {
            return false;
        }
        if !self.fencing.pending.contains_key(node) {
            self.fencing.pending.insert(node.to_string(), None);
            self.out.push_back(Output::Reset {
                node: node.to_string(),
            });
        }
        true
    }

    /// The reset of `node` ended. Sends `t=stonith node=… result=…`; on
    /// success takes the node's groups, otherwise logs
    /// `STONITH of X failed.  Retrying...` and tries again in 5 s.
    pub fn reset_done(&mut self, node: &str, outcome: ResetOutcome, now: u64) {
        let node = node.to_ascii_lowercase();
        if self.fencing.pending.get(&node) != Some(&None) {
            return;
        }
        self.emit_send(wire::stonith(&node, outcome.result()));
        if outcome == ResetOutcome::Reset {
            self.fencing.pending.remove(&node);
            self.takeover_from_node(&node);
        } else {
            self.log(
                Level::Error,
                format!("STONITH of {node} failed.  Retrying..."),
            );
            self.fencing
                .pending
                .insert(node, Some(now.saturating_add(STONITH_RETRY_MS)));
        }
        self.after_input(now);
    }

    /// The device status check ended; the next one is due in an hour.
    pub fn device_check_done(&mut self, ok: bool, now: u64) {
        if !ok {
            self.log(Level::Error, "STONITH status operation failed.");
            self.log(
                Level::Info,
                "This may mean that the STONITH device has failed!",
            );
        }
        self.fencing.check_at = Some(now.saturating_add(STONITH_CHECK_INTERVAL_MS));
        self.after_input(now);
    }

    /// At comm up: the first device check.
    pub(crate) fn fencing_comm_up(&mut self) {
        if self.fencing.enabled {
            self.out.push_back(Output::CheckDevice);
        }
    }

    /// Due retries and checks.
    pub(crate) fn fencing_tick(&mut self, now: u64) {
        let due: Vec<String> = self
            .fencing
            .pending
            .iter()
            .filter(|(_, at)| at.is_some_and(|t| now >= t))
            .map(|(n, _)| n.clone())
            .collect();
        for node in due {
            self.fencing.pending.insert(node.clone(), None);
            self.out.push_back(Output::Reset { node });
        }
        if self.fencing.check_at.is_some_and(|t| now >= t) {
            self.fencing.check_at = None;
            self.out.push_back(Output::CheckDevice);
        }
    }

    /// The earliest retry or check.
    pub(crate) fn fencing_deadline(&self) -> Option<u64> {
        self.fencing
            .pending
            .values()
            .flatten()
            .copied()
            .chain(self.fencing.check_at)
            .min()
    }
}
