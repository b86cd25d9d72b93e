//! Every heartbeat packet captured from real Debian 3.0.6 nodes must verify,
//! decode, and re-encode byte for byte; any one-bit change must be refused.

mod common;

use common::*;
use hb_proto::auth::{digest, PacketError};
use hb_proto::{classic, netstring, Value};

#[test]
fn every_captured_datagram_opens_and_reencodes_identically() {
    let mut total = 0;
    for (alg, ring, datagrams) in all_datagrams() {
        let expected = match alg {
            "sha1" => 107,
            "md5" => 104,
            _ => 106,
        };
        assert_eq!(datagrams.len(), expected, "{alg}: datagram count");
        for (i, d) in datagrams.iter().enumerate() {
            let msg = ring.open(d).unwrap_or_else(|e| panic!("{alg} #{i}: {e}"));
            let (decoded, body_len) = netstring::decode_prefix(d).expect("body");
            assert_eq!(decoded, msg);
            assert_eq!(netstring::encode(&msg), d[..body_len], "{alg} #{i}");
            assert_eq!(ring.seal(&msg), *d, "{alg} #{i}: seal");
            assert!(msg.validate().is_ok());
            assert!(matches!(msg.get_str("src"), Some("nodea" | "nodeb")));
            assert!(msg.msg_type().is_some());
            // The classic path agrees on the same message.
            let frame = classic::encode(&msg);
            assert_eq!(classic::decode(&frame), Ok(msg.clone()));
            assert_eq!(ring.open(&frame), Ok(msg.clone()), "{alg} #{i} as classic");
            total += 1;
        }
    }
    assert_eq!(total, 317);
}

#[test]
fn inner_auth_of_every_datagram_verifies() {
    for (alg, ring, datagrams) in all_datagrams() {
        let key = read(&format!("hb-{alg}.config/authkeys"));
        let key = String::from_utf8(key).unwrap();
        let key = key
            .lines()
            .find_map(|l| l.split_whitespace().nth(2))
            .unwrap_or("")
            .as_bytes()
            .to_vec();
        let method = ring.method(ring.active()).unwrap();
        for d in &datagrams {
            let msg = netstring::decode(d).unwrap();
            let auth = msg.get_str("auth").expect("real nodes send the inner auth");
            let want = format!(
                "{} {}",
                ring.active(),
                digest(method, &key, &classic::auth_input(&msg))
            );
            assert_eq!(auth, want, "{alg}");
            let mut resigned = msg.clone();
            ring.add_inner_auth(&mut resigned);
            assert_eq!(resigned, msg);
        }
    }
}

#[test]
fn one_bit_flip_anywhere_in_a_packet_is_refused() {
    let mut checked = 0usize;
    for (alg, ring, datagrams) in all_datagrams() {
        for (i, d) in datagrams.iter().enumerate() {
            for pos in 0..d.len() {
                let mut bad = d.clone();
                bad[pos] ^= 1 << ((pos + i) % 8);
                let r = ring.open(&bad);
                assert!(r.is_err(), "{alg} #{i}: flip at {pos} accepted");
                checked += 1;
            }
        }
    }
    assert!(checked > 80_000, "{checked}");
}

#[test]
fn refusals_name_the_reason() {
    let (_, ring, datagrams) = all_datagrams().remove(0);
    let d = &datagrams[0];
    let (_, body_len) = netstring::decode_prefix(d).unwrap();
    assert_eq!(ring.open(&d[..body_len]), Err(PacketError::MissingTrailer));
    let mut bad = d.clone();
    let n = bad.len();
    bad[n - 2] ^= 1; // last digest character
    assert_eq!(ring.open(&bad), Err(PacketError::DigestMismatch));
    let mut bad = d.clone();
    bad[body_len + 3] = b'7'; // "44:1 …" → "44:7 …"
    assert_eq!(ring.open(&bad), Err(PacketError::UnknownKeyIndex(7)));
    let mut bad = d[..body_len].to_vec();
    bad.extend_from_slice(b"3:1a,");
    assert_eq!(ring.open(&bad), Err(PacketError::BadTrailer));
    assert!(matches!(
        ring.open(&d[..body_len - 1]),
        Err(PacketError::Malformed(_))
    ));
}

#[test]
fn serial_frames_decode_verify_and_reencode() {
    let (ring, frames) = all_serial_frames();
    assert_eq!(frames.len(), 214);
    for (i, f) in frames.iter().enumerate() {
        let msg = classic::decode(f).unwrap_or_else(|e| panic!("frame {i}: {e}"));
        assert_eq!(classic::encode(&msg), *f, "frame {i}");
        assert_eq!(ring.open(f), Ok(msg.clone()), "frame {i}");
        let mut resigned = msg.clone();
        ring.add_inner_auth(&mut resigned);
        assert_eq!(resigned, msg, "frame {i}: inner auth");
        assert!(matches!(msg.get("srcuuid"), Some(Value::Binary(u)) if u.len() == 16));
        // Any one-bit flip anywhere in the frame is refused.
        for pos in 0..f.len() {
            let mut bad = f.clone();
            bad[pos] ^= 1 << (pos % 8);
            assert!(
                ring.open(&bad).is_err(),
                "frame {i}: flip at {pos} accepted"
            );
        }
    }
}
