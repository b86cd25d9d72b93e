//! API socket input: a byte stream spread over up to four connections, cut into frames by
//! the IPC decoder and fed to `hb_api::ApiServer::input` with a `TableView`, as the daemon
//! does. Besides "no panic": every reply decodes, the client table stays bounded, no signal 0.
//! The driver is shared with the bounded replay in crates/hb-api/tests/api_input_replay.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("../../crates/hb-api/tests/support/api_driver.rs");

fuzz_target!(|data: &[u8]| {
    let _ = drive_api(data);
});
