//! Bounded, deterministic replay of the `api_input` fuzz target (fuzz/fuzz_targets/api_input.rs
//! runs the same driver under libFuzzer): valid client conversations, framed as libhbclient
//! frames them, are mutated with a fixed-seed mutator (bit flips, truncations, splices,
//! insertions, garbage, broken frame headers) and replayed through `ApiServer::input`. Zero
//! panics, every reply decodable, the client table bounded.
//!
//! More rounds locally: `HB_MUTATION_SEED=7 HB_MUTATION_ROUNDS=200000 cargo test -p hb-api
//! --test api_input_replay`. `-- --ignored write_fuzz_seeds` writes the seeds to
//! `fuzz/corpus/api_input/`.

mod support {
    include!("support/api_driver.rs");
}

use hb_proto::Message;

/// A libhbclient-style request payload: classic text plus the trailing NUL.
fn req(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut b = hb_proto::classic::encode(&Message::from_pairs(fields.iter().copied()));
    b.push(0);
    hb_proto::ipc::encode_frame(&b)
}

fn api(reqtype: &str, pid: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut f = vec![
        ("t", "hbapi-req"),
        ("reqtype", reqtype),
        ("dest", "vm"),
        ("pid", pid),
        ("from_id", pid),
    ];
    f.extend_from_slice(extra);
    req(&f)
}

/// Seed conversations: a control byte (chunking, connection count) and framed requests.
fn seeds() -> Vec<Vec<u8>> {
    let signon = |pid: &str, id: &str| {
        req(&[
            ("t", "hbapi-req"),
            ("reqtype", "signon"),
            ("dest", "vm"),
            ("pid", pid),
            ("from_id", id),
            ("uid", "0"),
            ("gid", "105"),
        ])
    };
    let mut convs: Vec<Vec<Vec<u8>>> = Vec::new();
    convs.push(vec![
        signon("100", "100"),
        api("nodelist", "100", &[]),
        api("nodestatus", "100", &[("pnode", "vm")]),
        api("nodetype", "100", &[("pnode", "ghost")]),
        api("ifstatus", "100", &[("pnode", "vm"), ("ifname", "lo")]),
        api("iflist", "100", &[("pnode", "vm")]),
        api("getparm", "100", &[("pname", "keepalive")]),
        api("getrsc", "100", &[]),
        api(
            "clientstatus",
            "100",
            &[("cname", "ipfail"), ("timeout", "1")],
        ),
        api("getuuid", "100", &[("pnode", "vm")]),
        api("setfilter", "100", &[("fmask", "3f")]),
        api("setsignal", "100", &[("signal", "10")]),
        api("set_sendqlen", "100", &[("sendqlen", "5")]),
        api("signoff", "100", &[]),
    ]);
    convs.push(vec![
        signon("100", "ipfail"),
        req(&[("t", "hello"), ("dest", "vm"), ("info", "x")]),
        api("nodelist", "100", &[]),
        req(&[("t", "hbapi-req"), ("reqtype", "nosuchthing")]),
    ]);
    convs.push(vec![
        signon("100", "100"),
        signon("100", "100"),
        api("getparm", "100", &[("pname", "nope")]),
    ]);
    convs
        .into_iter()
        .enumerate()
        .map(|(i, frames)| {
            let mut s = vec![if i == 2 { 0x7f } else { 0x3f }];
            for f in frames {
                s.extend(f);
            }
            s
        })
        .collect()
}

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One to four mutations of `input`.
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(4) {
        if v.is_empty() {
            v.push(rng.next() as u8);
        }
        match rng.below(8) {
            0 => {
                let bit = rng.below(v.len() * 8);
                v[bit / 8] ^= 1 << (bit % 8);
            }
            1 => v.truncate(rng.below(v.len())),
            2 => {
                // Splice in a piece of another conversation.
                let at = rng.below(v.len());
                let from = rng.below(other.len());
                let len = rng.below(other.len() - from);
                v.splice(at..at, other[from..from + len].iter().copied());
            }
            3 => {
                let at = rng.below(v.len());
                let junk: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
                v.splice(at..at, junk);
            }
            4 => {
                // A frame header with a wild length or magic somewhere.
                let at = rng.below(v.len());
                let len = [0u32, 1, 7, 0x7fff_ffff, 0xffff_ffff, 262_145][rng.below(6)];
                let mut hdr = len.to_le_bytes().to_vec();
                hdr.extend_from_slice(
                    &(if rng.below(2) == 0 {
                        0xabcd_u32
                    } else {
                        0xdead_u32
                    })
                    .to_le_bytes(),
                );
                v.splice(at..at, hdr);
            }
            5 => v[0] = rng.next() as u8,
            6 => {
                // Replace a value byte with a separator the formats care about.
                let at = rng.below(v.len());
                v[at] = [b'\n', b'=', 0, b'>', b'<', b'(', b')'][rng.below(7)];
            }
            _ => {
                let at = rng.below(v.len());
                let end = (at + rng.below(200)).min(v.len());
                let dup = v[at..end].to_vec();
                v.splice(end..end, dup);
            }
        }
    }
    v
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn seeds_run_clean() {
    let replies: Vec<usize> = seeds().iter().map(|s| support::drive_api(s)).collect();
    // The first conversation is fourteen requests of a signed-on client: each gets a reply.
    assert!(replies[0] >= 13, "{replies:?}");
    assert!(replies[1] >= 1, "{replies:?}");
}

#[test]
fn mutated_conversations_never_panic() {
    let seed = env_u64("HB_MUTATION_SEED", 0x00A9_1234);
    let rounds = env_u64("HB_MUTATION_ROUNDS", 20_000);
    let seeds = seeds();
    let mut rng = Rng(seed | 1);
    for round in 0..rounds {
        let a = &seeds[rng.below(seeds.len())];
        let b = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, a, b);
        let r = std::panic::catch_unwind(|| support::drive_api(&input));
        assert!(
            r.is_ok(),
            "round {round} (seed {seed:#x}) panicked on input {:?}",
            String::from_utf8_lossy(&input)
        );
    }
}

#[test]
fn a_flood_of_garbage_frames_is_bounded() {
    // One connection sends 10,000 undecodable frames: dropped after ten, never a panic.
    let mut s = vec![0x00];
    for _ in 0..10_000 {
        s.extend(hb_proto::ipc::encode_frame(b"\x01\x02 not a message"));
    }
    assert_eq!(support::drive_api(&s), 0, "garbage got replies");
}

#[test]
#[ignore = "writes fuzz/corpus/api_input/"]
fn write_fuzz_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/api_input");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for (i, s) in seeds().iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{i}")), s).unwrap_or_else(|e| panic!("{e}"));
    }
}
