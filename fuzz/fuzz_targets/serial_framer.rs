//! The serial line framer (`hb_media::SerialFramer`): any byte stream, in any chunks.
//! Besides "no panic": frames start with `>>>`, end with a `<<<` line, never exceed the
//! limit, and chunking never changes the result.
#![no_main]

use hb_media::SerialFramer;
use libfuzzer_sys::fuzz_target;

const MAX: usize = 512;

fn frames(bytes: &[u8], chunk: usize) -> Vec<Vec<u8>> {
    let mut f = SerialFramer::new(MAX);
    let mut out = Vec::new();
    for c in bytes.chunks(chunk) {
        f.push(c);
        while let Some(frame) = f.pop_frame() {
            out.push(frame);
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, bytes)) = data.split_first() else {
        return;
    };
    let whole = frames(bytes, bytes.len().max(1));
    assert_eq!(whole, frames(bytes, usize::from(cut) + 1));
    for f in &whole {
        assert!(f.starts_with(b">>>") && f.ends_with(b"\n") && f.len() <= MAX);
        let last = f[..f.len() - 1].rsplit(|&b| b == b'\n').next().unwrap_or(&[]);
        assert!(last.starts_with(b"<<<"));
        let _ = hb_proto::classic::decode(f);
    }
});
