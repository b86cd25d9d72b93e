//! Pause-aware failure detection (docs/reliability.md §15, "Process pauses").
//!
//! A node that did not run for a while — its own process stopped, or the
//! whole machine stalled (a hypervisor, memory pressure, a stop signal) —
//! cannot tell from its timers alone whether its peers went silent or it
//! simply did not look. Heartbeat 3.0.6 blames the peers and declares them
//! dead; Corosync detects its own pause and does not. We do the same:
//!
//! * every entry point of the engine compares the time it is called with
//!   the time the engine asked to be woken ([`crate::Cluster::next_wakeup`]);
//! * when it runs later than that by more than the threshold, that is a
//!   pause: one event with its length;
//! * the time we did not run does not count against anybody: every node's
//!   last status and every link's last packet move forward by the pause's
//!   length (never past now), so a peer that was stalled with us and
//!   resumes a little after us is not blamed for our silence either. It
//!   never hides a death: at a wake-up for a deadline, the deadline moves
//!   by exactly the lateness, so it is still due. A wake-up late by less
//!   than the threshold excuses nothing: the master reads every packet
//!   that waits before it looks at deadlines, so ordinary scheduling delay
//!   needs no excuse, and excusing it would slow crash detection on a busy
//!   machine by the sum of those delays;
//! * and a grace of one keepalive before any node or link may be declared
//!   dead, so that the packets the read children queued meanwhile are taken
//!   in first;
//! * after that the normal rule applies unchanged, so a real crash is still
//!   found within deadtime + keepalive + the pause.
//!
//! This module is pure bookkeeping; the engine applies it.

use crate::config::Millis;

/// The smallest lateness treated as a pause, whatever the keepalive: the
/// scheduler alone can delay a wake-up by a few milliseconds.
pub const MIN_PAUSE_THRESHOLD: Millis = 10;

/// When the engine expected to run next, and the grace after a pause.
#[derive(Debug, Clone, Default)]
pub(crate) struct PauseWatch {
    expected: Option<Millis>,
    grace_until: Millis,
}

/// A detected pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pause {
    /// How much later than expected the engine ran.
    pub length: Millis,
    /// No death is declared before this time.
    pub grace_until: Millis,
}

impl PauseWatch {
    /// Lateness above which a wake-up counts as a pause.
    pub fn threshold(keepalive: Millis) -> Millis {
        keepalive.max(MIN_PAUSE_THRESHOLD)
    }

    /// The engine runs at `now`: a pause if it is late by more than
    /// `threshold`; the grace then lasts `grace` from `now`.
    pub fn observe(&mut self, now: Millis, threshold: Millis, grace: Millis) -> Option<Pause> {
        let expected = self.expected.take()?;
        let late = now.saturating_sub(expected);
        if late <= threshold {
            return None;
        }
        self.grace_until = self.grace_until.max(now.saturating_add(grace));
        Some(Pause {
            length: late,
            grace_until: self.grace_until,
        })
    }

    /// The engine will next want to run at `at`.
    pub fn expect(&mut self, at: Millis) {
        self.expected = Some(at);
    }

    /// True while no node or link may be declared dead.
    pub fn in_grace(&self, now: Millis) -> bool {
        now < self.grace_until
    }

    /// End of the current grace, if one is running at `now`.
    pub fn grace_end(&self, now: Millis) -> Option<Millis> {
        self.in_grace(now).then_some(self.grace_until)
    }
}

impl crate::Cluster {
    /// The engine runs at `self.now`: reports a pause (event, counters),
    /// excuses its length on every deadline and starts its grace of one
    /// keepalive.
    pub(crate) fn check_pause(&mut self) {
        let threshold = PauseWatch::threshold(self.cfg.keepalive);
        let grace = self.cfg.keepalive.max(1);
        if let Some(p) = self.pause.observe(self.now, threshold, grace) {
            self.counters.note_pause(p.length);
            self.excuse(p.length);
            self.emit(crate::Event::ProcessPause {
                length: p.length,
                grace: p.grace_until.saturating_sub(self.now),
            });
        }
    }

    /// Moves every node's last status and every link's last packet forward
    /// by `length` (capped at now): a deadline measures the peer's silence,
    /// not ours.
    fn excuse(&mut self, length: Millis) {
        let now = self.now;
        let shift = |t: Millis| t.saturating_add(length).min(now);
        for n in self.nodes.iter_mut() {
            if let Some(last) = n.last_status {
                let moved = shift(last);
                n.excused = n.excused.saturating_add(moved - last);
                n.last_status = Some(moved);
            }
            for l in n.links.iter_mut() {
                l.last_update = shift(l.last_update);
            }
        }
    }

    /// Records when the engine next wants to run, to notice a pause.
    pub(crate) fn expect_next_run(&mut self) {
        let at = self.next_wakeup();
        self.pause.expect(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_time_and_slightly_late_wakeups_are_not_pauses() {
        let mut w = PauseWatch::default();
        assert_eq!(w.observe(0, 10, 5), None, "nothing expected yet");
        w.expect(100);
        assert_eq!(w.observe(100, 10, 5), None);
        w.expect(200);
        assert_eq!(w.observe(210, 10, 5), None, "exactly the threshold");
        w.expect(300);
        assert_eq!(w.observe(250, 10, 5), None, "early");
        assert!(!w.in_grace(250));
    }

    #[test]
    fn a_late_wakeup_is_a_pause_with_a_grace() {
        let mut w = PauseWatch::default();
        w.expect(100);
        let p = w.observe(145, 10, 5).expect("45 ms late is a pause");
        assert_eq!(p.length, 45);
        assert_eq!(p.grace_until, 150);
        assert!(w.in_grace(149));
        assert_eq!(w.grace_end(149), Some(150));
        assert!(!w.in_grace(150));
        assert_eq!(w.grace_end(150), None);
    }

    #[test]
    fn one_expectation_reports_one_pause() {
        let mut w = PauseWatch::default();
        w.expect(100);
        assert!(w.observe(200, 10, 5).is_some());
        // A second entry point at the same wake-up (say a datagram after
        // the tick) must not report the same pause again.
        assert_eq!(w.observe(201, 10, 5), None);
    }

    #[test]
    fn threshold_follows_keepalive_with_a_floor() {
        assert_eq!(PauseWatch::threshold(5), MIN_PAUSE_THRESHOLD);
        assert_eq!(PauseWatch::threshold(1000), 1000);
    }
}
