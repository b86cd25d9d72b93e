//! The netlink answer parser of the native IP path (`hb_sys::net::parse_ack`): whatever
//! the kernel (or anything else on the socket) answers. Besides "no panic": an answer
//! made of well-formed messages followed by our ACK is always recognised.
#![no_main]

use hb_sys::net::parse_ack;
use libfuzzer_sys::fuzz_target;

fn nlmsg(kind: u16, seq: u32, body: &[u8]) -> Vec<u8> {
    let len = 16 + body.len();
    let mut m = Vec::new();
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&kind.to_ne_bytes());
    m.extend_from_slice(&0u16.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(body);
    while m.len() % 4 != 0 {
        m.push(0);
    }
    m
}

fuzz_target!(|data: &[u8]| {
    let [s0, s1, s2, s3, rest @ ..] = data else {
        return;
    };
    let seq = u32::from_ne_bytes([*s0, *s1, *s2, *s3]);
    let _ = parse_ack(rest, seq);
    // Other messages (any type but NLMSG_ERROR = 2, any body) before our ACK.
    let mut answer = Vec::new();
    for chunk in rest.chunks(24).take(8) {
        let kind = u16::from(chunk[0]) + 3;
        answer.extend(nlmsg(kind, seq ^ 1, &chunk[1..]));
    }
    let code = i32::from(*s0 % 40).wrapping_neg();
    let mut err = code.to_ne_bytes().to_vec();
    err.extend_from_slice(&[0; 16]);
    answer.extend(nlmsg(2, seq, &err));
    let got = parse_ack(&answer, seq).expect("well-formed answer");
    let got = got.expect("our ACK is in it");
    assert_eq!(got.is_ok(), code == 0);
});
