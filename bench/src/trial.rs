//! One benchmark trial on a 2-node [`Lan`], the sequence of the lab's
//! `measure.sh` (nodea owns the VIP, nodeb is the backup):
//!
//! 1. **startup** — start both daemons; time until the VIP answers from nodea;
//! 2. **crash failover** — after a settle time, crash nodea (freeze every
//!    process, link down, SIGKILL, volatile state dropped); outage until
//!    nodeb answers;
//! 3. **failback** — 3 s later nodea's link comes back and its daemon
//!    starts; the gap is what a client lost: last reply before nodea took
//!    over again until nodea's first reply;
//! 4. **switchover** — after a settle time, the planned move to nodeb
//!    (`hb_standby`, or a graceful keepalived stop); outage until nodeb
//!    answers.
//!
//! Every wait is bounded; an abort request (SIGINT/SIGTERM) ends the trial
//! at the next check.

use std::time::{Duration, Instant};

use hb_tests::{Lan, Node, Result, Signal};

use crate::flavour::Flavour;
use hb_tests::probe::{self, Mac, Probe};

/// Bound for a start until the VIP answers.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// Bound for a move of the VIP.
const EVENT_TIMEOUT: Duration = Duration::from_secs(40);
/// Pause after the VIP moved before the next fault (the lab's SETTLE; it
/// also outlasts the 5 s during which a starting Heartbeat node advertises
/// a longer deadtime).
const SETTLE: Duration = Duration::from_secs(5);
/// How long a crashed node stays down.
const DOWN: Duration = Duration::from_secs(3);

/// What one trial measured; `None` where the step failed or was not reached.
#[derive(Debug, Clone, Default)]
pub struct TrialResult {
    /// Start of both daemons until the VIP answered from nodea.
    pub startup: Option<Duration>,
    /// Crash of nodea until nodeb answered.
    pub failover: Option<Duration>,
    /// Client-visible gap when nodea took the VIP back.
    pub failback_gap: Option<Duration>,
    /// Planned switchover until nodeb answered.
    pub switchover: Option<Duration>,
    /// What went wrong, if anything.
    pub problems: Vec<String>,
}

/// Everything a trial works on.
pub struct Bench<'a> {
    /// The cluster.
    pub lan: &'a Lan,
    /// The prober of the VIP (running for the whole flavour).
    pub probe: &'a Probe,
    /// MACs of nodea and nodeb.
    pub macs: [Mac; 2],
    /// The configuration under test.
    pub flavour: &'a Flavour,
    /// True once the run should stop.
    pub aborted: &'a dyn Fn() -> bool,
}

impl Bench<'_> {
    fn sleep(&self, d: Duration) {
        let end = Instant::now() + d;
        while Instant::now() < end && !(self.aborted)() {
            std::thread::sleep(Duration::from_millis(20).min(end - Instant::now()));
        }
    }

    /// First reply from node `i` at or after `t` (bounded, abortable).
    fn wait_owner(&self, i: usize, t: Instant, timeout: Duration) -> Option<Instant> {
        let end = Instant::now() + timeout;
        loop {
            if let Some(r) = self.probe.first_from(&self.macs[i], t) {
                return Some(r.at);
            }
            if Instant::now() >= end || (self.aborted)() {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Kills whatever runs on both nodes and restores their links and addresses.
    fn clean(&self) -> Result<()> {
        for node in self.lan.nodes() {
            node.reset()?;
            node.uncut("eth0")?;
        }
        Ok(())
    }

    /// The lab's crash of node `i`; returns the fault time.
    fn crash(&self, node: &Node) -> Result<Instant> {
        let pids = node.pids();
        let t = Instant::now();
        for pid in pids {
            let _ = node.signal(pid, Signal::SIGSTOP);
        }
        node.cut("eth0")?;
        node.reset()?;
        Ok(t)
    }

    /// Runs one trial; harness errors end it early (recorded as problems).
    pub fn trial(&self) -> TrialResult {
        let mut r = TrialResult::default();
        if let Err(e) = self.steps(&mut r) {
            r.problems.push(e.to_string());
        }
        if let Err(e) = self.clean() {
            r.problems.push(format!("cleanup: {e}"));
        }
        r
    }

    fn steps(&self, r: &mut TrialResult) -> Result<()> {
        let (a, b) = (self.lan.node(0), self.lan.node(1));
        let f = self.flavour;
        self.clean()?;
        self.sleep(Duration::from_millis(300));

        // 1. startup
        let t0 = Instant::now();
        f.start(a)?;
        f.start(b)?;
        let Some(up) = self.wait_owner(0, t0, STARTUP_TIMEOUT) else {
            r.problems.push("the VIP never answered from nodea".into());
            return Ok(());
        };
        r.startup = Some(up - t0);

        // 2. crash failover
        self.sleep(SETTLE);
        let tf = self.crash(a)?;
        let Some(over) = self.wait_owner(1, tf, EVENT_TIMEOUT) else {
            r.problems.push("no failover to nodeb".into());
            return Ok(());
        };
        r.failover = Some(over - tf);

        // 3. failback
        self.sleep(DOWN);
        a.uncut("eth0")?;
        let tr = Instant::now();
        f.start(a)?;
        let Some(back) = self.wait_owner(0, tr, STARTUP_TIMEOUT) else {
            r.problems.push("no failback to nodea".into());
            return Ok(());
        };
        let replies = self.probe.replies();
        r.failback_gap =
            probe::analyze(&replies, tr, &self.macs[0], back + Duration::from_millis(1))
                .map(|x| x.gap);

        // 4. planned switchover
        self.sleep(SETTLE);
        let ts = Instant::now();
        let outcome = std::thread::scope(|s| {
            let cmd = s.spawn(|| f.switchover(a));
            let moved = self.wait_owner(1, ts, EVENT_TIMEOUT);
            (moved, cmd.join())
        });
        match outcome {
            (Some(t), Ok(Ok(()))) => r.switchover = Some(t - ts),
            (Some(t), Ok(Err(e))) => {
                r.switchover = Some(t - ts);
                r.problems.push(format!("switchover command: {e}"));
            }
            (None, _) => r.problems.push("no switchover to nodeb".into()),
            (Some(_), Err(_)) => r.problems.push("switchover thread panicked".into()),
        }
        self.sleep(Duration::from_secs(1));
        Ok(())
    }
}
