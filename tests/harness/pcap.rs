//! The UDP payloads of a classic pcap file: enough to replay the captured Heartbeat traffic in
//! `crates/hb-proto/tests/data` at a daemon. Ethernet or Linux-cooked link layer, IPv4,
//! unfragmented; anything else is skipped. Never panics on a damaged file: it stops at the
//! first record that does not fit.

/// Payloads of the UDP datagrams to `port` in `pcap`, in capture order.
pub fn udp_payloads(pcap: &[u8], port: u16) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Some(le) = byte_order(pcap) else {
        return out;
    };
    let Some(link) = u32_at(pcap, 20, le) else {
        return out;
    };
    let mut pos = 24;
    while let (Some(incl), Some(_)) = (u32_at(pcap, pos + 8, le), u32_at(pcap, pos + 12, le)) {
        let incl = incl as usize;
        let Some(frame) = pcap.get(pos + 16..pos + 16 + incl) else {
            break;
        };
        pos += 16 + incl;
        if let Some(p) = payload(frame, link, port) {
            out.push(p.to_vec());
        }
    }
    out
}

fn byte_order(pcap: &[u8]) -> Option<bool> {
    match u32_at(pcap, 0, true)? {
        0xa1b2_c3d4 | 0xa1b2_3c4d => Some(true),
        _ => match u32_at(pcap, 0, false)? {
            0xa1b2_c3d4 | 0xa1b2_3c4d => Some(false),
            _ => None,
        },
    }
}

fn u32_at(b: &[u8], o: usize, le: bool) -> Option<u32> {
    let a: [u8; 4] = b.get(o..o + 4)?.try_into().ok()?;
    Some(if le {
        u32::from_le_bytes(a)
    } else {
        u32::from_be_bytes(a)
    })
}

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(o..o + 2)?.try_into().ok()?))
}

fn payload(frame: &[u8], link: u32, port: u16) -> Option<&[u8]> {
    let (ethertype, l3) = match link {
        1 => {
            let et = u16_at(frame, 12)?;
            if et == 0x8100 {
                (u16_at(frame, 16)?, frame.get(18..)?)
            } else {
                (et, frame.get(14..)?)
            }
        }
        113 => (u16_at(frame, 14)?, frame.get(16..)?),
        _ => return None,
    };
    if ethertype != 0x0800 || *l3.get(9)? != 17 {
        return None;
    }
    let ihl = usize::from(l3.first()? & 0x0f) * 4;
    let total = usize::from(u16_at(l3, 2)?);
    if u16_at(l3, 6)? & 0x3fff != 0 {
        return None; // a fragment
    }
    let udp = l3.get(ihl..total)?;
    if u16_at(udp, 2)? != port {
        return None;
    }
    udp.get(8..usize::from(u16_at(udp, 4)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_captured_heartbeats_and_survives_damage() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../crates/hb-proto/tests/data/hb-sha1.pcap"
        );
        let Ok(bytes) = std::fs::read(path) else {
            panic!("{path} missing");
        };
        let p = udp_payloads(&bytes, 694);
        assert!(p.len() > 20, "{} datagrams", p.len());
        assert!(p
            .iter()
            .all(|d| d.starts_with(b"###\n") || d.starts_with(b">>>\n")));
        for cut in [0, 10, 24, 100, bytes.len() / 2] {
            let _ = udp_payloads(&bytes[..cut], 694);
        }
        assert!(udp_payloads(&bytes, 695).is_empty());
    }
}
