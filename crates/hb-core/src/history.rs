//! The transmit history: our last 500 sequenced messages, kept so that peers
//! can ask for retransmissions (docs/protocol.md §6.1, §6.5).
//!
//! A message lives in slot `seq % 500` until a newer message overwrites it, so
//! memory is bounded by construction. It is kept in its netstring encoding
//! (a status message is ~250 bytes) and decoded again only when a peer asks
//! for it: as a decoded `Message` (a string per name and value) the full
//! history took ~0.75 MB of the master's heap, most of a node's memory.
//! Unlike the C daemon we do not free slots early when the cluster
//! acknowledged them; that only makes us able to serve more requests, never
//! fewer, and a peer never asks for what it acknowledged.

use hb_proto::Message;

use crate::config::Millis;

/// Number of history slots (`MAXMSGHIST`).
pub const HISTORY_SLOTS: usize = 500;

#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub seq: u64,
    /// The message, netstring-encoded.
    encoded: Box<[u8]>,
    /// When it was last retransmitted (None = never).
    pub last_rexmit: Option<Millis>,
}

impl Slot {
    /// The stored message (None only if it no longer decodes, which would
    /// be a bug: it was encoded by us).
    pub fn msg(&self) -> Option<Message> {
        hb_proto::netstring::decode(&self.encoded).ok()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct History {
    slots: Vec<Option<Slot>>,
    /// Highest sequence number stored.
    pub hiseq: u64,
    /// Highest sequence number that has been overwritten (0 = none).
    pub lowseq: u64,
}

impl History {
    pub fn new() -> History {
        History {
            slots: vec![None; HISTORY_SLOTS],
            hiseq: 0,
            lowseq: 0,
        }
    }

    fn index(seq: u64) -> usize {
        // The modulus keeps the value below HISTORY_SLOTS, which fits usize.
        (seq % HISTORY_SLOTS as u64) as usize
    }

    /// Stores `msg` under `seq` (which must be larger than every stored one).
    pub fn add(&mut self, seq: u64, msg: &Message) {
        let i = Self::index(seq);
        if let Some(old) = self.slots[i].take() {
            self.lowseq = self.lowseq.max(old.seq);
        }
        self.slots[i] = Some(Slot {
            seq,
            encoded: hb_proto::netstring::encode(msg).into_boxed_slice(),
            last_rexmit: None,
        });
        self.hiseq = self.hiseq.max(seq);
    }

    /// The stored message with sequence number `seq`.
    pub fn get_mut(&mut self, seq: u64) -> Option<&mut Slot> {
        self.slots[Self::index(seq)]
            .as_mut()
            .filter(|slot| slot.seq == seq)
    }

    /// Number of stored messages.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_keeps_the_last_500_and_tracks_lowseq() {
        let mut h = History::new();
        for seq in 1..=700u64 {
            h.add(seq, &Message::from_pairs([("t", "x")]));
        }
        assert_eq!(h.hiseq, 700);
        assert_eq!(h.lowseq, 200);
        assert_eq!(h.len(), HISTORY_SLOTS);
        assert!(h.get_mut(200).is_none());
        assert_eq!(h.get_mut(201).map(|s| s.seq), Some(201));
        assert_eq!(h.get_mut(700).map(|s| s.seq), Some(700));
        assert!(h.get_mut(701).is_none());
    }

    #[test]
    fn a_stored_message_comes_back_whole() {
        let mut h = History::new();
        let mut m = Message::from_pairs([("t", "status"), ("st", "active"), ("seq", "1f")]);
        m.push(
            "blob",
            hb_proto::Value::Binary(vec![0, 1, 2, 255, b'\n', b'=']),
        );
        let mut inner = Message::from_pairs([("t", "inner")]);
        inner.push(
            "list",
            hb_proto::Value::List(vec![b"a".to_vec(), b"b c".to_vec()]),
        );
        m.push("nested", hb_proto::Value::Struct(inner));
        h.add(31, &m);
        assert_eq!(h.get_mut(31).and_then(|s| s.msg()), Some(m));
    }
}
