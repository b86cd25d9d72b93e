//! Fuzz the authkeys parser.
#![no_main]

use std::path::Path;

use hb_config::parse_authkeys;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(keys) = parse_authkeys(&text, Path::new("authkeys")) {
        // The signing key exists, and every index is in 0..15.
        assert!(keys.active_key().is_some());
        assert!(keys.keys.iter().all(|(i, _, _)| *i < 16));
    }
});
