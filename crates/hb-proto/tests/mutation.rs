//! Bounded, deterministic mutation testing: captured and synthetic packets
//! with bit flips, truncations, splices, insertions and pure garbage go
//! through every decoder. Nothing may panic, decoders must round-trip what
//! they accept, and `open()` must never accept a packet whose content was
//! changed. Runs in well under two seconds with a fixed seed; the fuzz
//! targets in fuzz/ explore the same entry points without bounds.

mod common;

use common::*;
use hb_proto::auth::{KeyRing, Method};
use hb_proto::compress::{ALGORITHM_FIELD, PAYLOAD_FIELD};
use hb_proto::ipc::{encode_frame, FrameDecoder};
use hb_proto::{classic, decode_any, netstring, Message, Value};
use std::io::Write;

/// splitmix64: small, fast, good enough to drive mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    /// A byte biased towards the protocol's structural characters.
    fn byte(&mut self) -> u8 {
        const INTERESTING: &[u8] = b"#%:,()=0123456789\n<>\0\x13\x14\x15 /+abz";
        if self.next() & 1 == 0 {
            INTERESTING[self.below(INTERESTING.len())]
        } else {
            self.next() as u8
        }
    }
}

struct Case {
    ring: usize,
    bytes: Vec<u8>,
    /// What `open()` returns for the unmodified packet.
    msg: Message,
    netstring: bool,
}

fn synthetic_ring() -> KeyRing {
    KeyRing::new(
        2,
        vec![
            (2, Method::Sha1, b"synthetic".to_vec()),
            (5, Method::Crc, vec![]),
        ],
    )
    .expect("ring")
}

/// Messages using every field type, nested structs and a compressed wrapper.
fn synthetic_messages() -> Vec<Message> {
    let mut inner = Message::from_pairs([("a", "x\ny"), ("b", "")]);
    inner.push("l", Value::List(vec![b"one".to_vec(), b"2".to_vec()]));
    let mut deeper = Message::new();
    deeper.push("u", Value::Binary(vec![0, 10, 255]));
    inner.push("d", Value::Struct(deeper));
    let mut rich = Message::from_pairs([("t", "rich"), ("src", "nodea")]);
    rich.push("s", Value::Struct(inner));
    rich.push("c", Value::Compressed(vec![1, 2, 3, 4]));

    let payload = classic::encode(&Message::from_pairs([("t", "big"), ("x", "y")]));
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&payload).expect("zlib");
    let mut wrapper = Message::new();
    wrapper.push(PAYLOAD_FIELD, Value::Binary(z.finish().expect("zlib")));
    wrapper.push_str(ALGORITHM_FIELD, "zlib");

    vec![rich, wrapper]
}

fn corpus() -> (Vec<KeyRing>, Vec<Case>) {
    let mut rings = Vec::new();
    let mut cases = Vec::new();
    for (_, ring, datagrams) in all_datagrams() {
        for d in datagrams {
            let msg = ring.open(&d).expect("captured datagram");
            cases.push(Case {
                ring: rings.len(),
                bytes: d,
                msg,
                netstring: true,
            });
        }
        rings.push(ring);
    }
    let (ring, frames) = all_serial_frames();
    for f in frames {
        let msg = ring.open(&f).expect("captured frame");
        cases.push(Case {
            ring: rings.len(),
            bytes: f,
            msg,
            netstring: false,
        });
    }
    rings.push(ring);
    let ring = synthetic_ring();
    for mut m in synthetic_messages() {
        ring.add_inner_auth(&mut m);
        let sealed = ring.seal(&m);
        let opened = ring.open(&sealed).expect("synthetic datagram");
        cases.push(Case {
            ring: rings.len(),
            bytes: sealed,
            msg: opened.clone(),
            netstring: true,
        });
        let frame = classic::encode(&m);
        cases.push(Case {
            ring: rings.len(),
            bytes: frame.clone(),
            msg: ring.open(&frame).expect("synthetic frame"),
            netstring: false,
        });
    }
    rings.push(ring);
    (rings, cases)
}

/// Decoders must not panic, and must round-trip whatever they accept.
fn check_decoders(bytes: &[u8], rng: &mut Rng) {
    if let Ok((m, len)) = netstring::decode_prefix(bytes) {
        assert_eq!(netstring::encode(&m), bytes[..len], "netstring round trip");
        assert_eq!(m.validate(), Ok(()));
    }
    if let Ok(m) = classic::decode(bytes) {
        assert_eq!(
            classic::decode(&classic::encode(&m)),
            Ok(m.clone()),
            "classic round trip"
        );
        assert_eq!(m.validate(), Ok(()));
    }
    let _ = decode_any(bytes);
    let mut d = FrameDecoder::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = 1 + rng.below(rest.len());
        d.push(&rest[..n]);
        rest = &rest[n..];
        for _ in 0..64 {
            match d.next_frame() {
                Ok(Some(p)) => {
                    let _ = decode_any(&p);
                }
                Ok(None) | Err(_) => break,
            }
        }
    }
}

/// The message without its `auth` fields: what the classic digest covers.
fn without_auth(m: &Message) -> Message {
    let mut m = m.clone();
    m.remove("auth");
    m
}

/// `open()` may accept a mutant only if it carries one of the originals'
/// messages unchanged. Netstring: the original packet must be a prefix (only
/// trailing bytes are tolerated). Classic: as in C, `auth` fields are outside
/// the digest (a duplicated `auth` line still verifies with the last one),
/// so every other field must be unchanged.
fn check_open(rings: &[KeyRing], ring: usize, bytes: &[u8], origins: &[&Case]) {
    if let Ok(m) = rings[ring].open(bytes) {
        let ok = origins.iter().any(|o| {
            o.ring == ring
                && if o.netstring {
                    o.msg == m && bytes.starts_with(&o.bytes)
                } else {
                    without_auth(&o.msg) == without_auth(&m)
                }
        });
        assert!(
            ok,
            "open() accepted a modified packet: {:?}",
            String::from_utf8_lossy(bytes)
        );
    }
}

#[test]
fn mutated_packets_never_panic_or_pass() {
    let (rings, cases) = corpus();
    assert!(cases.len() > 500);
    // Fixed by default; HB_MUTATION_SEED / HB_MUTATION_ROUNDS explore further.
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
    let mut rng = Rng(env("HB_MUTATION_SEED").unwrap_or(0x5eed_4ea7_bea7));
    let rounds = env("HB_MUTATION_ROUNDS").map_or(30_000, |r| r as usize);
    let mut accepted_trailing = 0;
    for round in 0..rounds {
        let a = &cases[rng.below(cases.len())];
        let mut m = a.bytes.clone();
        let mut origins = vec![a];
        match round % 9 {
            0 => {
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(m.len());
                    m[i] ^= 1 << rng.below(8);
                }
            }
            1 => m.truncate(rng.below(m.len())),
            2 => {
                let b = &cases[rng.below(cases.len())];
                let (i, j) = (rng.below(m.len() + 1), rng.below(b.bytes.len() + 1));
                m.truncate(i);
                m.extend_from_slice(&b.bytes[j..]);
                origins.push(b);
            }
            3 => {
                let at = rng.below(m.len() + 1);
                let ins: Vec<u8> = (0..1 + rng.below(8)).map(|_| rng.byte()).collect();
                m.splice(at..at, ins);
            }
            4 => {
                let i = rng.below(m.len());
                let j = (i + 1 + rng.below(16)).min(m.len());
                m.drain(i..j);
            }
            5 => {
                let i = rng.below(m.len());
                m[i] = rng.byte();
            }
            6 => {
                let i = rng.below(m.len());
                let j = (i + 1 + rng.below(32)).min(m.len());
                let dup = m[i..j].to_vec();
                m.splice(j..j, dup);
            }
            7 => {
                // Trailing bytes after a complete packet are tolerated.
                let tail: Vec<u8> = (0..1 + rng.below(8)).map(|_| rng.byte()).collect();
                m.extend_from_slice(&tail);
                if a.netstring {
                    assert_eq!(
                        rings[a.ring].open(&m).as_ref(),
                        Ok(&a.msg),
                        "trailing bytes"
                    );
                    accepted_trailing += 1;
                }
            }
            _ => {
                let len = rng.below(512);
                let mut g: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
                let prefix: &[u8] = match rng.below(3) {
                    0 => netstring::START,
                    1 => classic::START,
                    _ => b"",
                };
                m = prefix.to_vec();
                m.append(&mut g);
                origins.clear();
            }
        }
        check_open(&rings, a.ring, &m, &origins);
        check_decoders(&m, &mut rng);
    }
    assert!(accepted_trailing > rounds / 30, "{accepted_trailing}");
}

#[test]
fn ipc_streams_of_real_packets_survive_chunking_and_corruption() {
    let (_, cases) = corpus();
    let mut rng = Rng(42);
    for _ in 0..300 {
        let picked: Vec<&Case> = (0..1 + rng.below(6))
            .map(|_| &cases[rng.below(cases.len())])
            .collect();
        let mut stream = Vec::new();
        for c in &picked {
            stream.extend(encode_frame(&c.bytes));
        }
        // Intact: the same payloads come out, whatever the read sizes.
        let mut d = FrameDecoder::new();
        let mut got = Vec::new();
        let mut rest = &stream[..];
        while !rest.is_empty() {
            let n = 1 + rng.below(rest.len().min(700));
            d.push(&rest[..n]);
            rest = &rest[n..];
            while let Some(p) = d.next_frame().expect("intact stream") {
                got.push(p);
            }
        }
        let want: Vec<Vec<u8>> = picked.iter().map(|c| c.bytes.clone()).collect();
        assert_eq!(got, want);
        // Corrupted: no panic, and never more frames than were sent.
        let i = rng.below(stream.len());
        stream[i] ^= 1 << rng.below(8);
        let mut d = FrameDecoder::new();
        d.push(&stream);
        let mut n = 0;
        while let Ok(Some(_)) = d.next_frame() {
            n += 1;
            assert!(n <= picked.len() + 1);
        }
    }
}

/// Not a check: writes the corpus as seeds for the cargo-fuzz targets
/// (`cargo test -p hb-proto --test mutation -- --ignored write_fuzz_seeds`).
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let (_, cases) = corpus();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    for (i, c) in cases.iter().enumerate().step_by(4) {
        let mut targets = vec![("packet_open", c.bytes.clone())];
        let decoder = if c.netstring {
            "msg_netstring"
        } else {
            "msg_classic"
        };
        targets.push((decoder, c.bytes.clone()));
        let mut framed = vec![61u8];
        framed.extend(encode_frame(&c.bytes));
        targets.push(("ipc_frame", framed));
        for (target, bytes) in targets {
            let dir = root.join(target);
            std::fs::create_dir_all(&dir).expect("corpus dir");
            std::fs::write(dir.join(format!("seed-{i:04}")), bytes).expect("seed");
        }
    }
}
