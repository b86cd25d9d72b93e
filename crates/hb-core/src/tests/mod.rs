//! Scenario tests on the simulator, and byte-level interop checks.

mod failure;
mod interop;
mod loss;
mod pause;
mod robustness;
mod scale;
mod startup;
mod unit;

use hb_proto::{KeyRing, Message, Method, Value};

use crate::cluster::{Cluster, Output};
use crate::config::{CoreConfig, MediumInfo, Millis};
use crate::event::Event;

pub(crate) fn sha1_keys() -> KeyRing {
    KeyRing::new(1, vec![(1, Method::Sha1, b"mysecretkey".to_vec())]).expect("valid keys")
}

pub(crate) fn md5_keys() -> KeyRing {
    KeyRing::new(1, vec![(1, Method::Md5, b"mysecretkey".to_vec())]).expect("valid keys")
}

pub(crate) fn crc_keys() -> KeyRing {
    KeyRing::new(1, vec![(1, Method::Crc, Vec::new())]).expect("valid keys")
}

/// A config for `me` among `nodes`, one medium `eth0`, small times.
pub(crate) fn small_config(me: &str, nodes: &[&str], keys: KeyRing) -> CoreConfig {
    let mut c = CoreConfig::with_defaults(
        me,
        [0x11; 16],
        0x4d2,
        nodes.iter().map(|s| s.to_string()).collect(),
        vec![MediumInfo {
            name: "eth0".into(),
            is_ping: false,
        }],
        keys,
    );
    c.keepalive = 100;
    c.deadtime = 1000;
    c.warntime = 500;
    c.initdead = 2000;
    c.deadping = 1000;
    c
}

/// Everything the engine has queued.
pub(crate) fn drain(c: &mut Cluster) -> Vec<Output> {
    std::iter::from_fn(|| c.poll_output()).collect()
}

pub(crate) fn transmitted(outs: &[Output]) -> Vec<Vec<u8>> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Transmit(b) => Some(b.clone()),
            _ => None,
        })
        .collect()
}

pub(crate) fn events(outs: &[Output]) -> Vec<Event> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

pub(crate) fn delivered(outs: &[Output]) -> Vec<Message> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Deliver(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

/// Decodes our own transmitted packets.
pub(crate) fn decode_all(keys: &KeyRing, packets: &[Vec<u8>]) -> Vec<Message> {
    packets
        .iter()
        .map(|p| keys.open(p).expect("own packets verify"))
        .collect()
}

pub(crate) fn names(m: &Message) -> Vec<&str> {
    m.fields().iter().map(|f| f.name.as_str()).collect()
}

/// A hand-driven remote node that seals messages like a C peer would.
pub(crate) struct FakePeer {
    pub name: String,
    pub uuid: Option<[u8; 16]>,
    pub gen: u64,
    pub seq: u64,
    pub keys: KeyRing,
    pub ts: u64,
}

impl FakePeer {
    pub fn new(name: &str, keys: KeyRing) -> FakePeer {
        FakePeer {
            name: name.to_string(),
            uuid: Some([0x22; 16]),
            gen: 7,
            seq: 0,
            keys,
            ts: 0x65a1_b2c3,
        }
    }

    /// Seals `m` after adding control fields; `seq` taken from the counter
    /// unless the type is `NS_*`.
    pub fn seal(&mut self, mut m: Message) -> Vec<u8> {
        let ns = m.msg_type().is_some_and(|t| t.starts_with("NS_"));
        m.set_str("src", &self.name);
        if let Some(u) = self.uuid {
            m.set("srcuuid", Value::Binary(u.to_vec()));
        }
        if !ns {
            self.seq += 1;
            m.set_str("seq", format!("{:x}", self.seq));
        }
        m.set_str("hg", format!("{:x}", self.gen));
        m.set_str("ts", format!("{:x}", self.ts));
        self.keys.add_inner_auth(&mut m);
        self.keys.seal(&m)
    }

    pub fn status(&mut self, st: &str, dt: Millis) -> Vec<u8> {
        let mut m = Message::new();
        m.push_str("t", "status");
        m.push_str("st", st);
        m.push_str("dt", format!("{dt:x}"));
        m.push_str("protocol", "1");
        self.seal(m)
    }

    pub fn app(&mut self, t: &str) -> Vec<u8> {
        self.seal(Message::from_pairs([("t", t)]))
    }
}
