//! Placeholder: the hb-config helper replaces this file with the real
//! `hacf` parser fuzz target.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|_data: &[u8]| {});
