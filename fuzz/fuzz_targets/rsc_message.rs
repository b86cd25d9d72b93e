//! The resource manager's message input (`hb_rsc::ResourceManager::message`) and the other
//! inputs it gets from the daemon (node status, comm up, finished operations, timers), in any
//! order. Besides "no panic": every operation it starts is a configured group, and the
//! queue of outputs stays bounded.
//!
//! Input: ops. `0 n`: node b's status (`n` picks one of init/up/active/dead/ping). `1 n`:
//! comm up. `2 n`: time step `n * 100` ms and tick. `3 n`: the oldest pending operation
//! finishes (ok when `n` is even). Otherwise `len bytes[len]`: a message of `name=value`
//! lines (from b when the op is even, our own looped back when odd).
#![no_main]

use hb_proto::Message;
use hb_rsc::{GroupSpec, Mode, Output, ResourceManager, RscConfig};
use libfuzzer_sys::fuzz_target;

fn message(text: &[u8]) -> Message {
    let mut m = Message::new();
    for line in text.split(|&b| b == b'\n') {
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            continue;
        };
        let name = String::from_utf8_lossy(&line[..eq]).into_owned();
        m.push_str(&name, &line[eq + 1..]);
    }
    m
}

const KEYS: [&str; 2] = ["198.18.99.1", "198.18.99.2"];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut rest)) = data.split_first() else {
        return;
    };
    let mode = match mode % 3 {
        0 => Mode::Legacy,
        1 => Mode::On,
        _ => Mode::Off,
    };
    let mut rm = ResourceManager::new(RscConfig {
        local: "a".into(),
        nodes: vec!["a".into(), "b".into()],
        groups: vec![
            GroupSpec { key: KEYS[0].into(), node: "a".into() },
            GroupSpec { key: KEYS[1].into(), node: "b".into() },
        ],
        mode,
    });
    let mut now = 0u64;
    let mut pending = std::collections::VecDeque::new();
    while let [op, arg, tail @ ..] = rest {
        rest = tail;
        match op {
            0 => {
                let st = ["init", "up", "active", "dead", "ping"][usize::from(*arg) % 5];
                rm.node_status("b", st);
            }
            1 => rm.comm_up(now, &["b".to_string()]),
            2 => {
                now += u64::from(*arg) * 100;
                rm.tick(now);
            }
            3 => {
                if let Some(id) = pending.pop_front() {
                    rm.action_done(id, arg % 2 == 0, now);
                }
            }
            _ => {
                let len = usize::from(*arg).min(tail.len());
                let mut m = message(&tail[..len]);
                rest = &tail[len..];
                let from_self = op % 2 == 1;
                if !from_self && m.get_str("src").is_none() {
                    m.push_str("src", "b");
                }
                rm.message(&m, from_self, now);
            }
        }
        let mut n = 0;
        while let Some(out) = rm.poll() {
            n += 1;
            assert!(n < 10_000, "outputs never end");
            match out {
                Output::Acquire { id, key } | Output::Release { id, key } => {
                    assert!(KEYS.contains(&key.as_str()), "unknown group {key}");
                    pending.push_back(id);
                }
                _ => {}
            }
        }
        assert!(pending.len() < 10_000);
    }
});
