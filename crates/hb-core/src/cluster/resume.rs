//! Continuing the message stream of a previous image (docs/behaviour.md
//! §1.9.3, quick restart): the re-exec'd daemon keeps the generation,
//! numbers its messages on from where the old image stopped and keeps the
//! status `active`, so peers see one unbroken stream — no restart, no
//! replay, no status change.

use super::{Cluster, Output};
use crate::event::Event;
use crate::history::History;
use crate::node::status;

impl Cluster {
    /// Makes the next sequenced message carry `last_seq + 1` and keeps our
    /// status `active`. Call right after [`Cluster::new`] (whose first
    /// status, still queued, is replaced by one in the resumed stream).
    /// The previous image's history is gone: retransmission requests for
    /// its messages are answered with a NAK (`seqno too low`).
    pub fn resume_stream(&mut self, last_seq: u64) {
        // The first status of `new` and its own status lines are replaced.
        self.out.retain(|o| {
            !matches!(
                o,
                Output::Transmit(_) | Output::Event(Event::LocalStatus { .. })
            )
        });
        // Our own messages come back to us: forget those of `new` too.
        self.reset_track(self.me);
        self.seq = last_seq;
        self.hist = History::new();
        self.hist.hiseq = last_seq;
        self.hist.lowseq = last_seq;
        self.cluster_ack = last_seq;
        self.local_status = status::ACTIVE.to_string();
        if let Some(n) = self.nodes.get_mut(self.me) {
            n.status = status::ACTIVE.to_string();
        }
        self.emit(Event::LocalStatus {
            status: status::ACTIVE.to_string(),
        });
        self.send_local_status();
        self.drain_loopback();
    }
}
