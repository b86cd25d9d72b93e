//! The write and read children of a ping medium (docs/protocol.md §11.5–11.6).
//!
//! Unlike the other media these must understand messages: the write child
//! turns each `status` packet it is handed into the echo payload
//! ([`echo_payload`]) and ignores every other packet; the read child
//! authenticates each echoed payload and checks its `info` before passing
//! it on ([`check_echo`]), as the C plugins do. Both therefore get the
//! node's [`KeyRing`].
//!
//! Both loops return the process exit status (as [`crate::write_child_loop`]
//! and [`crate::read_child_loop`] do): [`EXIT_GENERIC`] when the channel to
//! the master closes, [`EXIT_READ_FAILURES`] after
//! [`MAX_FAILED_READS`] unusable replies in a row.

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::time::Duration;

use hb_proto::{KeyRing, Message};

use crate::child::{emit, next_packet, strerror, wait_for_input, Failure, Wake, WriteFailures};
use crate::ping::{parse_reply, PingKind, PingMedium, SeqWindow};
use crate::{StatDelta, EXIT_GENERIC, EXIT_READ_FAILURES, MAX_FAILED_READS};
use hb_proto::ipc::{encode_frame, FrameDecoder};

/// The echo payload for one packet the node sends: for a `status` message
/// with a `ts`, the sealed `t=NS_st st=ping info=<info> src=<node> ts=<ts>`
/// (inner `auth` and trailer added with `keys`); `None` for anything else
/// (including packets that do not open with `keys`).
pub fn echo_payload(keys: &KeyRing, packet: &[u8], kind: PingKind, node: &str) -> Option<Vec<u8>> {
    let msg = keys.open(packet).ok()?;
    if msg.msg_type() != Some("status") {
        return None;
    }
    let ts = msg.get_str("ts")?;
    let mut echo = Message::from_pairs([
        ("t", "NS_st"),
        ("st", "ping"),
        ("info", kind.info()),
        ("src", node),
        ("ts", ts),
    ]);
    keys.add_inner_auth(&mut echo);
    Some(keys.seal(&echo))
}

/// Does an echoed payload authenticate with `keys` and carry our `info`?
pub fn check_echo(keys: &KeyRing, payload: &[u8], kind: PingKind) -> bool {
    keys.open(payload)
        .is_ok_and(|m| m.get_str("info") == Some(kind.info()))
}

/// Runs a ping write child: every `status` packet from the master becomes
/// one echo request to each host (the sequence number counts requests,
/// from 0). Send failures are logged with the write child's usual wording
/// and suppression. Sends never block; `_write_timeout` is accepted for
/// symmetry with [`crate::write_child_loop`].
pub fn ping_write_loop<R, F>(
    medium: &PingMedium,
    keys: &KeyRing,
    mut from_master: R,
    _write_timeout: Duration,
    mut stats: F,
) -> i32
where
    R: Read + AsFd,
    F: FnMut(StatDelta),
{
    let label = medium.label().to_owned();
    let mut dec = FrameDecoder::default();
    let mut fails = WriteFailures::default();
    let mut seq: u16 = 0;
    loop {
        let Some(packet) = next_packet(&mut dec, &mut from_master) else {
            return EXIT_GENERIC;
        };
        let Some(payload) = echo_payload(keys, &packet, medium.kind(), medium.node()) else {
            continue;
        };
        let this = seq;
        seq = seq.wrapping_add(1);
        match medium.send_echo(this, &payload) {
            Ok(()) => {
                stats(StatDelta::Sent {
                    bytes: payload.len(),
                });
                emit(fails.success(&label));
            }
            Err(e) => {
                stats(StatDelta::WriteFailed);
                let failure = Failure {
                    timeout: false,
                    flushed: 0,
                    errno: e.io_error().and_then(io::Error::raw_os_error),
                    text: strerror(e.io_error()),
                };
                let (lines, exit) = fails.failure(&label, &failure);
                emit(lines);
                if exit {
                    return EXIT_GENERIC;
                }
            }
        }
    }
}

/// The read child's filter: which datagrams are replies to our requests.
struct Filter {
    kind: PingKind,
    ident: u16,
    hosts: Vec<std::net::IpAddr>,
    window: SeqWindow,
}

/// What to do with one received datagram.
#[derive(Debug, PartialEq, Eq)]
enum Verdict<'a> {
    /// Not one of our replies (other ICMP traffic, another host, a
    /// duplicate from a second group member): ignore silently.
    NotOurs,
    /// Ours, but the payload does not authenticate or is not a ping echo.
    Bad,
    /// Pass this payload to the master.
    Pass(&'a [u8]),
}

impl Filter {
    fn new(medium: &PingMedium) -> Filter {
        Filter {
            kind: medium.kind(),
            ident: medium.ident(),
            hosts: medium.hosts().to_vec(),
            window: SeqWindow::default(),
        }
    }

    fn judge<'a>(
        &mut self,
        keys: &KeyRing,
        datagram: &'a [u8],
        from: Option<std::net::IpAddr>,
    ) -> Verdict<'a> {
        let Some(reply) = parse_reply(self.kind == PingKind::Ping6, datagram, self.ident) else {
            return Verdict::NotOurs;
        };
        if !from.is_some_and(|a| self.hosts.contains(&a)) {
            return Verdict::NotOurs;
        }
        if !check_echo(keys, reply.payload, self.kind) {
            return Verdict::Bad;
        }
        if self.kind == PingKind::Group && !self.window.first(reply.seq) {
            return Verdict::NotOurs;
        }
        Verdict::Pass(reply.payload)
    }
}

/// Runs a ping read child: every echo reply of ours (identifier, source
/// address, authenticated payload with our `info`; first reply per
/// sequence number for a group) is framed and handed to the master.
pub fn ping_read_loop<W, F>(
    medium: &PingMedium,
    keys: &KeyRing,
    mut to_master: W,
    mut stats: F,
) -> i32
where
    W: Write + AsFd,
    F: FnMut(StatDelta),
{
    const IPC_DISCONNECT: i32 = 3;
    let mut buf = vec![0u8; crate::MAXMSG];
    let mut filter = Filter::new(medium);
    let mut failed = 0u32;
    loop {
        match wait_for_input(medium.fd(), &to_master, medium.label()) {
            Wake::ChannelGone => {
                log::error!("read_child channel status: {IPC_DISCONNECT} - returning.");
                return EXIT_GENERIC;
            }
            Wake::Nothing => continue,
            Wake::Packet => {}
            Wake::Failed => {
                // Do not spin on a persistent poll error.
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        }
        // Drain everything queued; most of it may be other ICMP traffic.
        loop {
            let (n, from) = match medium.recv_raw(&mut buf) {
                Ok(Some(got)) => got,
                Ok(None) => break,
                Err(e) => {
                    stats(StatDelta::ReadFailed);
                    log::error!("{e}");
                    failed += 1;
                    if failed > MAX_FAILED_READS {
                        log::error!(
                            "{MAX_FAILED_READS} NULL vf->read() returns in a row. Exiting."
                        );
                        return EXIT_READ_FAILURES;
                    }
                    break;
                }
            };
            let datagram = buf.get(..n).unwrap_or(&[]);
            match filter.judge(keys, datagram, from) {
                Verdict::NotOurs => {}
                Verdict::Bad => {
                    stats(StatDelta::ReadFailed);
                    failed += 1;
                    if failed > MAX_FAILED_READS {
                        log::error!(
                            "{MAX_FAILED_READS} NULL vf->read() returns in a row. Exiting."
                        );
                        return EXIT_READ_FAILURES;
                    }
                }
                Verdict::Pass(payload) => {
                    failed = 0;
                    stats(StatDelta::Received {
                        bytes: payload.len(),
                    });
                    if let Err(e) = to_master.write_all(&encode_frame(payload)) {
                        log::error!("read_child send: {e}");
                        log::error!("read_child channel status: {IPC_DISCONNECT} - returning.");
                        return EXIT_GENERIC;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hb_proto::auth::Method;

    fn keys() -> KeyRing {
        KeyRing::new(1, vec![(1, Method::Sha1, b"ping secret".to_vec())]).expect("keyring")
    }

    fn status_packet(keys: &KeyRing, t: &str) -> Vec<u8> {
        let mut m = Message::from_pairs([
            ("t", t),
            ("st", "active"),
            ("src", "nodea"),
            ("seq", "2a"),
            ("ts", "65f0a1b2"),
        ]);
        keys.add_inner_auth(&mut m);
        keys.seal(&m)
    }

    #[test]
    fn status_becomes_a_sealed_ns_st_echo() {
        let k = keys();
        let p = echo_payload(
            &k,
            &status_packet(&k, "status"),
            PingKind::Ping,
            "198.18.0.50",
        )
        .expect("status → echo");
        let m = k.open(&p).expect("echo authenticates");
        let fields: Vec<(&str, &str)> = ["t", "st", "info", "src", "ts"]
            .iter()
            .map(|f| (*f, m.get_str(f).unwrap_or("")))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("t", "NS_st"),
                ("st", "ping"),
                ("info", "ping"),
                ("src", "198.18.0.50"),
                ("ts", "65f0a1b2")
            ]
        );
        assert!(m.get_str("auth").is_some(), "inner auth present");
        assert!(check_echo(&k, &p, PingKind::Ping));
        assert!(!check_echo(&k, &p, PingKind::Group), "info must match");
        let g = echo_payload(&k, &status_packet(&k, "status"), PingKind::Group, "grp")
            .expect("group echo");
        assert!(check_echo(&k, &g, PingKind::Group));
    }

    #[test]
    fn other_messages_and_foreign_keys_give_no_echo() {
        let k = keys();
        assert_eq!(
            echo_payload(&k, &status_packet(&k, "ack"), PingKind::Ping, "h"),
            None
        );
        assert_eq!(echo_payload(&k, b"garbage", PingKind::Ping, "h"), None);
        let other = KeyRing::new(1, vec![(1, Method::Sha1, b"other".to_vec())]).expect("keys");
        let p = echo_payload(&k, &status_packet(&k, "status"), PingKind::Ping, "h").expect("echo");
        assert!(
            !check_echo(&other, &p, PingKind::Ping),
            "foreign key must fail"
        );
        let mut no_ts = Message::from_pairs([("t", "status"), ("src", "a"), ("seq", "1")]);
        k.add_inner_auth(&mut no_ts);
        assert_eq!(echo_payload(&k, &k.seal(&no_ts), PingKind::Ping, "h"), None);
    }

    fn reply(ident: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
        let mut icmp = crate::ping::echo_request(false, ident, seq, payload);
        icmp[0] = crate::ping::ICMP_ECHOREPLY;
        let mut d = vec![0x45];
        d.extend_from_slice(&[0; 19]);
        d.extend_from_slice(&icmp);
        d
    }

    #[test]
    fn read_filter_checks_ident_source_auth_and_group_duplicates() {
        let k = keys();
        let a: std::net::IpAddr = "198.18.0.1".parse().expect("ip");
        let b: std::net::IpAddr = "198.18.0.2".parse().expect("ip");
        let stranger: std::net::IpAddr = "198.18.0.9".parse().expect("ip");
        let echo =
            echo_payload(&k, &status_packet(&k, "status"), PingKind::Group, "grp").expect("echo");
        let mut f = Filter {
            kind: PingKind::Group,
            ident: 77,
            hosts: vec![a, b],
            window: SeqWindow::default(),
        };
        let d = reply(77, 5, &echo);
        assert_eq!(f.judge(&k, &d, Some(a)), Verdict::Pass(&echo[..]));
        // The second member answers the same request: dropped.
        assert_eq!(f.judge(&k, &d, Some(b)), Verdict::NotOurs);
        // Next request, answered first by b.
        let d6 = reply(77, 6, &echo);
        assert_eq!(f.judge(&k, &d6, Some(b)), Verdict::Pass(&echo[..]));
        // Not a member, another identifier, no source.
        assert_eq!(
            f.judge(&k, &reply(77, 7, &echo), Some(stranger)),
            Verdict::NotOurs
        );
        assert_eq!(f.judge(&k, &reply(78, 8, &echo), Some(a)), Verdict::NotOurs);
        assert_eq!(f.judge(&k, &reply(77, 9, &echo), None), Verdict::NotOurs);
        // Ours, but the payload is forged or of the wrong plugin.
        assert_eq!(
            f.judge(&k, &reply(77, 10, b"###\nforged"), Some(a)),
            Verdict::Bad
        );
        let ping_echo =
            echo_payload(&k, &status_packet(&k, "status"), PingKind::Ping, "grp").expect("echo");
        assert_eq!(
            f.judge(&k, &reply(77, 11, &ping_echo), Some(a)),
            Verdict::Bad
        );
        // A plain ping medium does not de-duplicate.
        let mut p = Filter {
            kind: PingKind::Ping,
            ident: 77,
            hosts: vec![a],
            window: SeqWindow::default(),
        };
        let d = reply(77, 1, &ping_echo);
        assert_eq!(p.judge(&k, &d, Some(a)), Verdict::Pass(&ping_echo[..]));
        assert_eq!(p.judge(&k, &d, Some(a)), Verdict::Pass(&ping_echo[..]));
    }
}
