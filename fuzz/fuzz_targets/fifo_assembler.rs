//! The FIFO reader's assembler (`hb_daemon::fifo_reader::Assembler`): whatever a local
//! writer puts into the FIFO, in whatever chunks. Besides "no panic": every frame is
//! `>>>\n...<<<\n` within the size limit, and cutting the input differently never changes
//! what comes out.
#![no_main]

use hb_daemon::fifo_reader::{Assembled, Assembler};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, bytes)) = data.split_first() else {
        return;
    };
    let whole = Assembler::default().push(bytes);
    let mut chunked = Assembler::default();
    let mut out = Vec::new();
    for chunk in bytes.chunks(usize::from(cut) + 1) {
        out.extend(chunked.push(chunk));
    }
    assert_eq!(whole, out);
    for a in &whole {
        if let Assembled::Frame(f) = a {
            assert!(f.starts_with(b">>>\n") && f.ends_with(b"<<<\n"));
            assert!(f.len() <= 256 * 1024 + 4);
        }
    }
});
