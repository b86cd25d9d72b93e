//! Scenario tests on the simulator, and byte-level interop checks.

mod startup;

use hb_proto::{KeyRing, Method};

pub(crate) fn sha1_keys() -> KeyRing {
    KeyRing::new(1, vec![(1, Method::Sha1, b"mysecretkey".to_vec())]).expect("valid keys")
}

pub(crate) fn crc_keys() -> KeyRing {
    KeyRing::new(1, vec![(1, Method::Crc, Vec::new())]).expect("valid keys")
}
