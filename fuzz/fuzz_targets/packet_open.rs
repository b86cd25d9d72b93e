//! Packet verification with a fixed key ring: never panics; an accepted
//! netstring packet re-seals to the exact bytes it was read from (so nothing
//! but tolerated trailing bytes can differ from what the key holder signed).
#![no_main]

use hb_proto::auth::{KeyRing, Method};
use hb_proto::netstring;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(ring) = KeyRing::new(
        1,
        vec![
            (1, Method::Sha1, b"hblab-secret".to_vec()),
            (2, Method::Crc, vec![]),
        ],
    ) else {
        return;
    };
    if let Ok(msg) = ring.open(data) {
        if data.starts_with(netstring::START) && !hb_proto::compress::is_compressed(&msg) {
            let body = netstring::encode(&msg);
            assert!(data.starts_with(&body));
        }
    }
    let _ = hb_proto::decode_any(data);
});
