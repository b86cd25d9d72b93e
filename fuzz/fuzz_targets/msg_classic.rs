//! Classic decoder: never panics; whatever it accepts is a valid message
//! whose classic rendering decodes back to the same message.
#![no_main]

use hb_proto::classic;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = classic::decode(data) {
        assert!(msg.validate().is_ok());
        assert_eq!(classic::decode(&classic::encode(&msg)), Ok(msg));
    }
});
