//! IPC framing: arbitrary stream bytes cut at arbitrary points never panic
//! the frame decoder, and every payload it yields goes through decode_any.
#![no_main]

use hb_proto::ipc::FrameDecoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&step, stream)) = data.split_first() else {
        return;
    };
    let step = usize::from(step).max(1);
    let mut dec = FrameDecoder::new();
    for chunk in stream.chunks(step) {
        dec.push(chunk);
        loop {
            match dec.next_frame() {
                Ok(Some(payload)) => {
                    assert!(payload.len() <= hb_proto::ipc::MAX_PAYLOAD);
                    let _ = hb_proto::decode_any(&payload);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
