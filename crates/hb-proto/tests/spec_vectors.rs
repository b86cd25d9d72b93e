//! The test vectors of docs/protocol.md §4.6, verified there against the real
//! Debian libplumb and HBauth plugins.

use hb_proto::auth::{digest, KeyRing, Method, PacketError};
use hb_proto::{classic, netstring, Message, Value};

const UUID: [u8; 16] = [
    0x41, 0x24, 0x38, 0x1d, 0x48, 0x8c, 0x42, 0x8d, 0xa8, 0x07, 0x84, 0x0f, 0x77, 0x0a, 0x98, 0x2b,
];
const KEY: &[u8] = b"mysecretkey";

fn status() -> Message {
    let mut m = Message::from_pairs([
        ("t", "status"),
        ("st", "active"),
        ("dt", "7530"),
        ("protocol", "1"),
        ("src", "node1"),
    ]);
    m.push("srcuuid", Value::Binary(UUID.to_vec()));
    for (k, v) in [
        ("seq", "1a"),
        ("hg", "4d2"),
        ("ts", "65a1b2c3"),
        ("ld", "0.00 0.01 0.05 1/123 4567"),
        ("ttl", "3"),
    ] {
        m.push_str(k, v);
    }
    m
}

fn ring(method: Method) -> KeyRing {
    KeyRing::new(1, vec![(1, method, KEY.to_vec())]).expect("valid ring")
}

const INNER_TEXT: &[u8] = b"t=status\nst=active\ndt=7530\nprotocol=1\nsrc=node1\n(1)srcuuid=QSQ4HUiMQo2oB4QPdwqYKw==\nseq=1a\nhg=4d2\nts=65a1b2c3\nld=0.00 0.01 0.05 1/123 4567\nttl=3\n";

#[test]
fn inner_auth_text_is_145_bytes() {
    assert_eq!(classic::auth_input(&status()), INNER_TEXT);
    assert_eq!(INNER_TEXT.len(), 145);
}

#[test]
fn inner_auth_and_trailer_for_every_method() {
    let cases = [
        (
            Method::Md5,
            "1 ddc4e91271c033924e23ea7151ee3170",
            "1 68ab98a90ad2719e58f3270cf419d73b",
        ),
        (
            Method::Sha1,
            "1 2a96a27baf06c1b5a2c08d0aec28328fc42beda8",
            "1 df2200c2aad3c57b2f32f304d330bd8afde6dc99",
        ),
        (Method::Crc, "1 b3296873", "1 df438450"),
    ];
    for (method, inner, trailer) in cases {
        let ring = ring(method);
        let mut m = status();
        ring.add_inner_auth(&mut m);
        assert_eq!(m.fields().last().map(|f| f.name.as_str()), Some("auth"));
        assert_eq!(m.get_str("auth"), Some(inner), "{method:?} inner");
        let body = netstring::encode(&m);
        assert_eq!(
            format!("1 {}", digest(method, KEY, &body)),
            trailer,
            "{method:?} trailer"
        );
        let packet = ring.seal(&m);
        let expect_tail = format!("{}:{},", trailer.len(), trailer);
        assert_eq!(&packet[body.len()..], expect_tail.as_bytes());
        assert_eq!(ring.open(&packet), Ok(m.clone()));
        // Adding the inner auth again replaces it in place.
        let before = m.len();
        ring.add_inner_auth(&mut m);
        assert_eq!(m.len(), before);
        assert_eq!(m.get_str("auth"), Some(inner));
    }
}

const MD5_DATAGRAM: &[u8] = b"###\n11:(0)t=status,12:(0)st=active,10:(0)dt=7530,13:(0)protocol=1,12:(0)src=node1,27:(1)srcuuid=A$8\x1dH\x8cB\x8d\xa8\x07\x84\x0fw\n\x98+,9:(0)seq=1a,9:(0)hg=4d2,14:(0)ts=65a1b2c3,31:(0)ld=0.00 0.01 0.05 1/123 4567,8:(0)ttl=3,42:(0)auth=1 ddc4e91271c033924e23ea7151ee3170,%%%\n34:1 68ab98a90ad2719e58f3270cf419d73b,";

#[test]
fn full_md5_datagram() {
    assert_eq!(MD5_DATAGRAM.len(), 289);
    let ring = ring(Method::Md5);
    let mut m = status();
    ring.add_inner_auth(&mut m);
    assert_eq!(ring.seal(&m), MD5_DATAGRAM);
    let opened = ring.open(MD5_DATAGRAM).expect("authentic");
    assert_eq!(opened, m);
    let (_, body_len) = netstring::decode_prefix(MD5_DATAGRAM).expect("body");
    assert_eq!(body_len, 0xfb);
    // Trailing NUL (as the C readers append) and garbage are tolerated.
    let mut with_nul = MD5_DATAGRAM.to_vec();
    with_nul.push(0);
    assert_eq!(ring.open(&with_nul), Ok(m));
    // Any flipped byte in the body is rejected.
    for i in 0..body_len {
        let mut bad = MD5_DATAGRAM.to_vec();
        bad[i] ^= 0x01;
        assert!(ring.open(&bad).is_err(), "flip at {i} accepted");
    }
    // Without the trailer the packet is dropped.
    assert_eq!(
        ring.open(&MD5_DATAGRAM[..body_len]),
        Err(PacketError::MissingTrailer)
    );
}

const SERIAL_FRAME: &[u8] = b">>>\nt=status\nst=active\ndt=7530\nprotocol=1\nsrc=node1\n(1)srcuuid=QSQ4HUiMQo2oB4QPdwqYKw==\nseq=1a\nhg=4d2\nts=65a1b2c3\nld=0.00 0.01 0.05 1/123 4567\nttl=3\nauth=1 ddc4e91271c033924e23ea7151ee3170\n<<<\n";

#[test]
fn serial_classic_frame() {
    let ring = ring(Method::Md5);
    let mut m = status();
    ring.add_inner_auth(&mut m);
    assert_eq!(classic::encode(&m), SERIAL_FRAME);
    assert_eq!(classic::decode(SERIAL_FRAME), Ok(m.clone()));
    assert_eq!(ring.open(SERIAL_FRAME), Ok(m));
    let tampered = SERIAL_FRAME
        .iter()
        .map(|&b| if b == b'7' { b'8' } else { b })
        .collect::<Vec<_>>();
    assert_eq!(ring.open(&tampered), Err(PacketError::DigestMismatch));
}

#[test]
fn ack_vector() {
    let mut m = Message::from_pairs([("t", "NS_ackmsg"), ("dest", "node2"), ("ackseq", "1a")]);
    m.push("destuuid", Value::Binary(vec![0; 16]));
    m.push_str("src", "node1");
    m.push("srcuuid", Value::Binary(UUID.to_vec()));
    for (k, v) in [("hg", "4d2"), ("ts", "65a1b2c3"), ("ttl", "3")] {
        m.push_str(k, v);
    }
    assert_eq!(
        classic::auth_input(&m),
        b"t=NS_ackmsg\ndest=node2\nackseq=1a\n(1)destuuid=AAAAAAAAAAAAAAAAAAAAAA==\nsrc=node1\n(1)srcuuid=QSQ4HUiMQo2oB4QPdwqYKw==\nhg=4d2\nts=65a1b2c3\nttl=3\n"
    );
    let ring = ring(Method::Md5);
    ring.add_inner_auth(&mut m);
    assert_eq!(
        m.get_str("auth"),
        Some("1 5c46d0849700f59c8335e45515b9d494")
    );
    let wire: &[u8] = b"###\n14:(0)t=NS_ackmsg,13:(0)dest=node2,12:(0)ackseq=1a,28:(1)destuuid=\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0,12:(0)src=node1,27:(1)srcuuid=A$8\x1dH\x8cB\x8d\xa8\x07\x84\x0fw\n\x98+,9:(0)hg=4d2,14:(0)ts=65a1b2c3,8:(0)ttl=3,42:(0)auth=1 5c46d0849700f59c8335e45515b9d494,%%%\n34:1 f6c1045aeca2b67d67cdd06ae500f0ad,";
    assert_eq!(ring.seal(&m), wire);
    assert_eq!(ring.open(wire), Ok(m));
}

#[test]
fn crc_check_values() {
    assert_eq!(digest(Method::Crc, b"", b"123456789"), "765e7680");
    assert_eq!(digest(Method::Crc, b"", b""), "ffffffff");
}
