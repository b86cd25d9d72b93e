//! Netstring decoder: never panics; whatever it accepts is a valid message
//! that re-encodes to exactly the bytes it was read from.
#![no_main]

use hb_proto::netstring;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((msg, len)) = netstring::decode_prefix(data) {
        assert_eq!(netstring::encode(&msg), &data[..len]);
        assert!(msg.validate().is_ok());
    }
});
