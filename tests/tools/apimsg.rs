//! `hb-apimsg`: a named API client for the tests (run inside a node).
//!
//! * `hb-apimsg send <client-id> <bytes>`: signs on, sends one cluster message
//!   `t=hbtest-big` whose `data` field holds `<bytes>` bytes of text, signs off.
//! * `hb-apimsg recv <client-id> <seconds>`: signs on, prints `ready`, waits for the
//!   first `t=hbtest-big` message and prints `received <n> bytes from <node> ok|corrupt`;
//!   exits 1 if none arrives in time.

use std::io::Write;
use std::time::{Duration, Instant};

use hb_client::{Client, SignOnOptions};
use hb_proto::Message;

/// Text whose content can be checked at the receiver (and that compresses well).
fn payload(n: usize) -> String {
    (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect()
}

fn signon(id: &str) -> Client {
    let opts = SignOnOptions {
        client_id: Some(id.to_string()),
        ..SignOnOptions::default()
    };
    Client::signon(&opts).unwrap_or_else(|e| {
        eprintln!("hb-apimsg: sign-on as {id} failed: {e}");
        std::process::exit(2)
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["send", id, bytes] => {
            let n: usize = bytes.parse().expect("byte count");
            let mut c = signon(id);
            let mut m = Message::from_pairs([("t", "hbtest-big")]);
            m.push_str("data", payload(n));
            if let Err(e) = c.send_cluster_message(&m) {
                eprintln!("hb-apimsg: send failed: {e}");
                std::process::exit(1);
            }
            // Let the daemon read the whole frame before the socket closes.
            std::thread::sleep(Duration::from_millis(300));
            let _ = c.signoff();
            println!("sent {n} bytes");
        }
        ["recv", id, secs] => {
            let limit = Duration::from_secs(secs.parse().expect("seconds"));
            let mut c = signon(id);
            println!("ready");
            let _ = std::io::stdout().flush();
            let until = Instant::now() + limit;
            while let Some(left) = until.checked_duration_since(Instant::now()) {
                match c.recv(Some(left)) {
                    Ok(Some(m)) if m.msg_type() == Some("hbtest-big") => {
                        let data = m.get_str("data").unwrap_or("");
                        let ok = data == payload(data.len());
                        println!(
                            "received {} bytes from {} {}",
                            data.len(),
                            m.get_str("src").unwrap_or("?"),
                            if ok { "ok" } else { "corrupt" }
                        );
                        return;
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(e) => {
                        eprintln!("hb-apimsg: receive failed: {e}");
                        std::process::exit(1);
                    }
                }
            }
            println!("nothing received");
            std::process::exit(1);
        }
        _ => {
            eprintln!("usage: hb-apimsg send <client-id> <bytes> | recv <client-id> <seconds>");
            std::process::exit(2);
        }
    }
}
