//! Rate-limited reporting of rejected packets.
//!
//! Anyone who can reach the heartbeat port can send datagrams faster than a
//! log can absorb them. Heartbeat 3.0.6 logs one or more lines per bad packet
//! (6,700 truncated packets produced 37,000 lines in 8 s), so a flood fills the
//! disk and buries the lines that matter. Here every rejection is still
//! counted by the engine ([`hb_core::Counters`]); the log gets:
//!
//! * at most one line per interval (10 s) summing up what was dropped and
//!   why: `Dropped N bad packets in the last 10 s: 3 authentication failed, ...`;
//! * the engine's per-packet lines (`bad node [..] in message`, `attempted
//!   replay attack`, debug `dropped a packet`) only for the first packet of
//!   each kind in an interval — the summary accounts for the others.
//!
//! Pure bookkeeping on the engine's monotonic milliseconds, so it is
//! unit-tested without a clock.

use hb_core::{Counters, DropReason, Event, Level};

/// Length of one reporting interval.
pub const DROP_REPORT_INTERVAL_MS: u64 = 10_000;

/// Per-packet event kinds that are rate-limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    UnknownNode,
    Replay,
    Dropped,
}

impl Kind {
    const COUNT: usize = 3;

    fn of(ev: &Event) -> Option<Kind> {
        match ev {
            Event::UnknownNode { .. } => Some(Kind::UnknownNode),
            Event::ReplayDropped { .. } => Some(Kind::Replay),
            Event::PacketDropped { .. } => Some(Kind::Dropped),
            _ => None,
        }
    }
}

/// Whether `ev` reports one bad packet (the lines `log_badpack off` silences).
pub fn is_bad_packet(ev: &Event) -> bool {
    Kind::of(ev).is_some()
}

/// The drop counters at the start of the interval and which per-packet
/// lines were already logged in it.
#[derive(Debug, Clone)]
pub struct DropReport {
    interval_ms: u64,
    /// End of the current interval.
    until: u64,
    /// `dropped(reason)` at the start of the interval.
    base: [u64; DropReason::ALL.len()],
    /// Per-packet lines logged in this interval, per kind.
    logged: [bool; Kind::COUNT],
    /// Undecodable FIFO messages in this interval.
    fifo_bad: u64,
}

impl DropReport {
    /// Starts the first interval at `now`.
    pub fn new(now: u64, interval_ms: u64) -> DropReport {
        DropReport {
            interval_ms: interval_ms.max(1),
            until: now.saturating_add(interval_ms.max(1)),
            base: [0; DropReason::ALL.len()],
            logged: [false; Kind::COUNT],
            fifo_bad: 0,
        }
    }

    /// When [`DropReport::tick`] wants to run next.
    pub fn deadline(&self) -> u64 {
        self.until
    }

    /// Whether the log line of `ev` is written: always for events that are
    /// not per-packet rejections; for those, only the first of its kind in
    /// the interval.
    pub fn admit(&mut self, ev: &Event) -> bool {
        let Some(kind) = Kind::of(ev) else {
            return true;
        };
        let seen = &mut self.logged[kind as usize];
        !std::mem::replace(seen, true)
    }

    /// Counts an undecodable message from the FIFO; true for the first of
    /// the interval (log it), false for the others (the summary counts them).
    pub fn fifo_bad(&mut self) -> bool {
        self.fifo_bad += 1;
        self.fifo_bad == 1
    }

    /// At or after the end of an interval: the summary line of what the
    /// engine dropped during it (none if nothing was dropped), and a new
    /// interval begins.
    pub fn tick(&mut self, now: u64, counters: &Counters) -> Option<(Level, String)> {
        if now < self.until {
            return None;
        }
        let seconds = self.interval_ms.div_ceil(1000);
        let mut parts = Vec::new();
        let mut total = 0u64;
        for (i, reason) in DropReason::ALL.iter().enumerate() {
            let now_count = counters.dropped(*reason);
            let delta = now_count.saturating_sub(self.base[i]);
            self.base[i] = now_count;
            if delta > 0 {
                total += delta;
                parts.push(format!("{delta} {}", reason.as_str()));
            }
        }
        self.logged = [false; Kind::COUNT];
        // Skip missed intervals (a long stall) instead of catching up.
        self.until = now.saturating_add(self.interval_ms);
        let fifo = std::mem::take(&mut self.fifo_bad);
        if fifo > 0 {
            total += fifo;
            parts.push(format!("{fifo} undecodable FIFO messages"));
        }
        (total > 0).then(|| {
            (
                Level::Warn,
                format!(
                    "Dropped {total} bad packet{} in the last {seconds} s: {}",
                    if total == 1 { "" } else { "s" },
                    parts.join(", ")
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hb_core::{Cluster, CoreConfig, MediumInfo};
    use hb_proto::{KeyRing, Method};

    /// A real engine, so the counters are the ones the daemon sees.
    fn engine() -> Cluster {
        let keys = KeyRing::new(1, vec![(1, Method::Sha1, b"secret".to_vec())])
            .unwrap_or_else(|e| panic!("key ring: {e}"));
        let cfg = CoreConfig::with_defaults(
            "nodea",
            [7; 16],
            1,
            vec!["nodea".into(), "nodeb".into()],
            vec![MediumInfo {
                name: "eth0".into(),
                is_ping: false,
            }],
            keys,
        );
        Cluster::new(cfg, 0, 1_700_000_000)
    }

    fn garbage(c: &mut Cluster, n: usize) {
        for _ in 0..n {
            c.on_datagram(1, 1_700_000_000, 0, b"\x01\x02 not a heartbeat packet");
        }
    }

    #[test]
    fn one_summary_per_interval_with_the_reasons() {
        let mut c = engine();
        let mut r = DropReport::new(0, 10_000);
        garbage(&mut c, 3);
        assert_eq!(r.tick(9_999, c.counters()), None, "interval not over yet");
        let (level, line) = r
            .tick(10_000, c.counters())
            .unwrap_or((Level::Debug, String::new()));
        assert_eq!(level, Level::Warn);
        assert!(
            line.starts_with("Dropped 3 bad packets in the last 10 s: 3 "),
            "{line}"
        );
        // Nothing new: no line.
        assert_eq!(r.tick(20_000, c.counters()), None);
        garbage(&mut c, 1);
        let line = r
            .tick(30_000, c.counters())
            .map(|l| l.1)
            .unwrap_or_default();
        assert!(
            line.starts_with("Dropped 1 bad packet in the last 10 s: 1 "),
            "{line}"
        );
        assert_eq!(r.deadline(), 40_000);
    }

    #[test]
    fn fifo_garbage_is_logged_once_then_summed_up() {
        let c = engine();
        let mut r = DropReport::new(0, 10_000);
        assert!(r.fifo_bad());
        assert!(!r.fifo_bad() && !r.fifo_bad());
        assert_eq!(
            r.tick(10_000, c.counters()).map(|l| l.1),
            Some("Dropped 3 bad packets in the last 10 s: 3 undecodable FIFO messages".into())
        );
        assert!(r.fifo_bad(), "first of the next interval is logged");
    }

    #[test]
    fn per_packet_lines_are_admitted_once_per_interval_and_kind() {
        let mut r = DropReport::new(0, 10_000);
        let unknown = Event::UnknownNode {
            name: "mallory".into(),
        };
        let replay = Event::ReplayDropped {
            node: "nodeb".into(),
            gen: 1,
            current: 2,
        };
        let dead = Event::NodeDead {
            node: "nodeb".into(),
        };
        assert!(r.admit(&unknown));
        assert!(!r.admit(&unknown));
        assert!(r.admit(&replay));
        assert!(!r.admit(&replay));
        assert!(
            r.admit(&dead) && r.admit(&dead),
            "other events are never limited"
        );
        let _ = r.tick(10_000, &Counters::default());
        assert!(r.admit(&unknown), "a new interval logs the first one again");
    }
}
