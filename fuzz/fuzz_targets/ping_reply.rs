//! ICMP echo reply parsing of the ping media (`hb_media::ping::parse_reply`) and the
//! verification of the echoed payload. Besides "no panic": an accepted reply's payload is
//! the tail of the datagram, and a reply built from our own request always parses back.
#![no_main]

use hb_media::ping::{echo_request, parse_reply};
use hb_proto::auth::{KeyRing, Method};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [flags, i0, i1, rest @ ..] = data else {
        return;
    };
    let v6 = flags & 1 == 1;
    let ident = u16::from_ne_bytes([*i0, *i1]);
    if let Some(reply) = parse_reply(v6, rest, ident) {
        assert!(rest.ends_with(reply.payload));
        if let Ok(ring) = KeyRing::new(1, vec![(1, Method::Sha1, b"k".to_vec())]) {
            let _ = ring.open(reply.payload);
        }
    }
    // Our own request turned into a reply (type 0 / 129) parses back to the payload.
    let mut pkt = echo_request(v6, ident, u16::from(*flags), rest);
    pkt[0] = if v6 { 129 } else { 0 };
    let datagram = if v6 {
        pkt
    } else {
        let mut ip = vec![0x45u8];
        ip.extend_from_slice(&[0; 19]);
        ip.extend_from_slice(&pkt);
        ip
    };
    let back = parse_reply(v6, &datagram, ident).expect("our own echo parses");
    assert_eq!(back.payload, rest);
    assert_eq!(back.seq, u16::from(*flags));
});
