//! Bounded, deterministic mutation test: thousands of corrupted variants of
//! valid files must never make a parser panic. A tiny xorshift PRNG keeps the
//! run reproducible without extra dependencies.

use std::path::Path;

use hb_config::{parse_authkeys, parse_hacf, parse_haresources, parse_time_ms, FakeSystem};

const HACF: &str = "debugfile /var/log/ha-debug\nlogfile\t/var/log/ha-log\nlogfacility local0\n\
keepalive 2\ndeadtime 30\nwarntime 10\ninitdead 120\nudpport 694\nbaud 19200\nserial /dev/ttyS0\n\
bcast eth0 eth1,eth2\nmcast eth0 225.0.0.1 694 1 0\nucast eth0 192.168.1.2\nucast6 eth0 fe80::1%eth0\n\
mcast6 eth0 ff05::1:3 694 1 0\nauto_failback on\nwatchdog /dev/watchdog\nnode ken3\nnode kathy\n\
ping 10.10.10.254\nping6 fe80::2\nping_group group1 10.10.10.254 10.10.10.253\n\
respawn hacluster /usr/libexec/heartbeat/ipfail\nfailfast root /usr/sbin/x -q\n\
apiauth ipfail gid=haclient uid=hacluster\napiauth default gid=haclient\nstonith baytech /etc/x\n\
stonith_host * baytech 10.0.0.3 login pw\nhopfudge 1\ndeadping 30\nhbgenmethod time\nrealtime off\n\
debug 1\nmsgfmt netstring\nuse_logd no\nconn_logd_time 60\ncompression zlib\ncompression_threshold 2\n\
env FOO=bar\nrtprio 5\nmax_rexmit_delay 250\nmemreserve 6500\ncoreroot /var/lib/heartbeat/cores\n\
crm_daemon_dir /x\npacemaker off\nautojoin none\nuuidfrom file\nnice_failback on # x\n";
const AUTHKEYS: &str = "# keys\nauth 2\n1 crc\n2 sha1 HI!\n3 md5 Hello!\n";
const HARESOURCES: &str = "ken3 135.9.216.110 http\nkathy 135.9.216.3/28/eth0/135.9.216.12 \\\n  \
Filesystem::/dev/sda1::/data1::ext2 # c\n";

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }
}

const ALPHABET: &[&str] = &[
    "#",
    "\\",
    ",",
    " ",
    "\t",
    "\n",
    "\r",
    "\x0c",
    "\0",
    "=",
    ":",
    "::",
    ".",
    "/",
    "-",
    "0",
    "1",
    "9",
    "255",
    "65536",
    "99999999999999999999",
    "a",
    "Z",
    "ms",
    "us",
    "é",
    "€",
    "auth",
    "node",
    "uid=",
    "gid=",
    "%",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..=rng.below(4) {
        let pos = rng.below(chars.len() + 1);
        match rng.below(6) {
            0 if !chars.is_empty() => {
                chars.remove(pos.min(chars.len() - 1));
            }
            1 | 2 => {
                let ins = ALPHABET[rng.below(ALPHABET.len())];
                for (i, c) in ins.chars().enumerate() {
                    chars.insert((pos + i).min(chars.len()), c);
                }
            }
            3 => chars.truncate(pos),
            4 => {
                // Duplicate a random span (repeats directives).
                let end = (pos + rng.below(40)).min(chars.len());
                let span: Vec<char> = chars[pos.min(end)..end].to_vec();
                let at = rng.below(chars.len() + 1);
                for (i, c) in span.into_iter().enumerate() {
                    chars.insert(at + i, c);
                }
            }
            _ => {
                if let Some(c) = chars.get_mut(pos) {
                    *c = char::from(u8::try_from(rng.below(128)).unwrap_or(b'x'));
                }
            }
        }
    }
    chars.into_iter().collect()
}

#[test]
fn mutated_files_never_panic() {
    let sys = FakeSystem::default();
    let path = Path::new("mutant");
    let nodes = vec!["ken3".to_string(), "kathy".to_string()];
    // Sanity: the seeds are valid, so mutations start from accepted input.
    assert!(parse_hacf(HACF, path, "ken3", &sys).is_ok());
    assert!(parse_authkeys(AUTHKEYS, path).is_ok());
    assert!(parse_haresources(HARESOURCES, path, &nodes).is_ok());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut ok, mut failed) = (0usize, 0usize);
    for _ in 0..3000 {
        let h = mutate(&mut rng, HACF);
        let a = mutate(&mut rng, AUTHKEYS);
        let r = mutate(&mut rng, HARESOURCES);
        for result in [
            parse_hacf(&h, path, "ken3", &sys).map(|_| ()),
            parse_authkeys(&a, path).map(|_| ()),
            parse_haresources(&r, path, &nodes).map(|_| ()),
        ] {
            match result {
                Ok(()) => ok += 1,
                Err(errors) => {
                    assert!(!errors.is_empty());
                    for e in errors {
                        assert!(!e.to_string().is_empty());
                    }
                    failed += 1;
                }
            }
        }
        for word in h.split_whitespace().take(5) {
            let _ = parse_time_ms(word);
        }
    }
    // The mutator must exercise both outcomes, or it is not testing much.
    assert!(ok > 500 && failed > 500, "ok {ok}, failed {failed}");
}
