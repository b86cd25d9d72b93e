//! Readers for the captured traffic in tests/data (recorded from two real
//! Debian heartbeat 3.0.6 nodes): a minimal pcap reader, the authkeys
//! format, and socat's `-x` hex dump of a serial line.

#![allow(dead_code)]

use hb_proto::auth::{KeyRing, Method};
use std::path::PathBuf;

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

pub fn read(rel: &str) -> Vec<u8> {
    let p = data_dir().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The UDP payloads sent to port 694 in a pcap file (Ethernet or Linux
/// cooked link layer, IPv4, unfragmented).
pub fn heartbeat_datagrams(pcap: &[u8]) -> Vec<Vec<u8>> {
    assert!(pcap.len() >= 24, "pcap too short");
    let u32_at = |b: &[u8], o: usize, le: bool| {
        let a = [b[o], b[o + 1], b[o + 2], b[o + 3]];
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let le = match u32_at(pcap, 0, true) {
        0xa1b2_c3d4 | 0xa1b2_3c4d => true,
        _ => match u32_at(pcap, 0, false) {
            0xa1b2_c3d4 | 0xa1b2_3c4d => false,
            m => panic!("not a pcap file (magic {m:#x})"),
        },
    };
    let link = u32_at(pcap, 20, le);
    let mut out = Vec::new();
    let mut pos = 24;
    while pos + 16 <= pcap.len() {
        let incl = u32_at(pcap, pos + 8, le) as usize;
        let orig = u32_at(pcap, pos + 12, le) as usize;
        let frame = &pcap[pos + 16..pos + 16 + incl];
        pos += 16 + incl;
        assert_eq!(incl, orig, "capture truncated a frame");
        let (ethertype, l3) = match link {
            1 => {
                let mut et = u16::from_be_bytes([frame[12], frame[13]]);
                let mut off = 14;
                if et == 0x8100 {
                    et = u16::from_be_bytes([frame[16], frame[17]]);
                    off = 18;
                }
                (et, &frame[off..])
            }
            113 => (u16::from_be_bytes([frame[14], frame[15]]), &frame[16..]),
            other => panic!("unsupported pcap link type {other}"),
        };
        if ethertype != 0x0800 || l3.len() < 20 {
            continue;
        }
        let ihl = usize::from(l3[0] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([l3[2], l3[3]]));
        let frag = u16::from_be_bytes([l3[6], l3[7]]) & 0x3fff;
        if l3[9] != 17 {
            continue;
        }
        let udp = &l3[ihl..total];
        let dport = u16::from_be_bytes([udp[2], udp[3]]);
        if dport != 694 {
            continue;
        }
        assert_eq!(frag, 0, "fragmented heartbeat datagram");
        let ulen = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
        out.push(udp[8..ulen].to_vec());
    }
    out
}

/// Parses the few lines of an authkeys file.
pub fn key_ring(authkeys: &str) -> KeyRing {
    let mut active = None;
    let mut keys = Vec::new();
    for line in authkeys.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            [w, ..] if w.starts_with('#') => {}
            ["auth", n] => active = Some(n.parse::<u8>().expect("auth index")),
            [i, m, rest @ ..] => {
                let method = Method::from_name(m).expect("method");
                let key = rest
                    .first()
                    .map(|k| k.as_bytes().to_vec())
                    .unwrap_or_default();
                keys.push((i.parse::<u8>().expect("key index"), method, key));
            }
            other => panic!("bad authkeys line {other:?}"),
        }
    }
    KeyRing::new(active.expect("auth line"), keys).expect("valid authkeys")
}

pub fn capture_ring(name: &str) -> KeyRing {
    key_ring(&String::from_utf8(read(&format!("{name}/authkeys"))).expect("utf8"))
}

/// The two directions of a socat `-x` log: `>` bytes and `<` bytes.
pub fn serial_streams(log: &str) -> (Vec<u8>, Vec<u8>) {
    let (mut right, mut left) = (Vec::new(), Vec::new());
    let mut cur: Option<bool> = None;
    for line in log.lines() {
        if (line.starts_with("> ") || line.starts_with("< ")) && line.contains("length=") {
            cur = Some(line.starts_with('>'));
        } else if let (Some(dir), Some(hex)) = (cur, line.strip_prefix(' ')) {
            let target = if dir { &mut right } else { &mut left };
            for h in hex.split_whitespace() {
                target.push(u8::from_str_radix(h, 16).expect("hex byte"));
            }
        } else {
            cur = None;
        }
    }
    (right, left)
}

/// Splits a serial byte stream into `>>>\n`…`<<<\n` frames.
pub fn classic_frames(stream: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut pos = 0;
    while let Some(s) = find(&stream[pos..], b">>>\n") {
        let start = pos + s;
        let Some(e) = find(&stream[start..], b"<<<\n") else {
            break;
        };
        let end = start + e + 4;
        frames.push(stream[start..end].to_vec());
        pos = end;
    }
    frames
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Every captured netstring datagram with the key ring of its capture.
pub fn all_datagrams() -> Vec<(&'static str, KeyRing, Vec<Vec<u8>>)> {
    ["sha1", "md5", "crc"]
        .into_iter()
        .map(|a| {
            let ring = capture_ring(&format!("hb-{a}.config"));
            (a, ring, heartbeat_datagrams(&read(&format!("hb-{a}.pcap"))))
        })
        .collect()
}

/// Every captured serial frame with the serial run's key ring.
pub fn all_serial_frames() -> (KeyRing, Vec<Vec<u8>>) {
    let log = String::from_utf8(read("serial/serial-socat-x.log")).expect("utf8 log");
    let (a, b) = serial_streams(&log);
    let mut frames = classic_frames(&a);
    frames.extend(classic_frames(&b));
    (capture_ring("serial/config"), frames)
}
