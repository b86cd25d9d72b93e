//! Directive parity with Heartbeat 3.0.6 (issue 13): Debian's sample `ha.cf`
//! (`/usr/share/doc/heartbeat/ha.cf.gz`) with each of its commented directive lines
//! switched on in turn. The real 3.0.6 daemon, started in a namespace node, and our
//! `heartbeat --check-config` must agree on accept / refuse for every one, and every
//! line we accept either has an effect or our check prints a line saying it has none.
//!
//! The sample alone configures nothing, so a minimal working base (the node, one
//! `bcast` medium, log files) is put **before** the sample text: the sample's `udpport`
//! and `baud` lines then come after a medium, the order 3.0.6 accepts with a note.
//! authkeys is Debian's sample with its `auth 2` / `2 sha1 HI!` lines switched on;
//! haresources is Debian's sample unchanged (all comments).
//!
//! 3.0.6 validates the whole configuration before it forks: its launcher exits 0
//! when it accepted the files and 6 when it refused them. Each accepted start is
//! killed at once (the node is reset between lines).

use std::process::Command;
use std::time::Duration;

use hb_tests::{require_root, Daemon, Lan, Node, Result, REAL_HEARTBEAT};

const SAMPLE_DIR: &str = "/usr/share/doc/heartbeat";

const BASE: &str = "# base: what the sample leaves out\n\
                    node nodea\n\
                    bcast eth0\n\
                    logfile /var/log/ha-log\n\
                    debugfile /var/log/ha-debug\n";

fn zcat(path: &str) -> String {
    let out = Command::new("zcat")
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("zcat {path}: {e} (install gzip)"));
    assert!(
        out.status.success(),
        "{path} missing: install Debian's heartbeat (scripts/test.sh does)"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Index of every commented directive line of the sample: `#word ...` where the word
/// is lower-case letters and underscores (prose comments start with `#` + blank).
fn directive_lines(sample: &str) -> Vec<usize> {
    sample
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            let Some(rest) = l.strip_prefix('#') else {
                return false;
            };
            let word: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                .collect();
            !word.is_empty()
                && word.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && rest[word.len()..].starts_with([' ', '\t'])
        })
        .map(|(i, _)| i)
        .collect()
}

fn switched_on(sample: &str, index: usize) -> String {
    let mut out = String::from(BASE);
    for (i, l) in sample.lines().enumerate() {
        if i == index {
            out.push_str(&l[1..]);
        } else {
            out.push_str(l);
        }
        out.push('\n');
    }
    out
}

fn sample_authkeys() -> String {
    let text = std::fs::read_to_string(format!("{SAMPLE_DIR}/authkeys"))
        .expect("Debian's sample authkeys (package heartbeat)");
    let mut out = String::new();
    for l in text.lines() {
        match l {
            "#auth 1" => out.push_str("auth 2\n"),
            "#2 sha1 HI!" => out.push_str("2 sha1 HI!\n"),
            _ => {
                out.push_str(l);
                out.push('\n');
            }
        }
    }
    assert!(out.contains("\nauth 2\n") && out.contains("\n2 sha1 HI!\n"));
    out
}

/// What the real 3.0.6 makes of the files in the node: `true` = accepted.
fn real_accepts(node: &Node) -> Result<(bool, String)> {
    let out = node.exec_timeout(&[REAL_HEARTBEAT], Duration::from_secs(20))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let code = out.status.code();
    node.reset()?;
    match code {
        Some(0) => Ok((true, text)),
        Some(6) | Some(4) | Some(1) => Ok((false, text)),
        other => panic!("3.0.6 exited {other:?}: {text}"),
    }
}

fn our_check(node: &Node, ours: &str) -> Result<(bool, String)> {
    let out = node.exec(&[ours, "--check-config"])?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match out.status.code() {
        Some(0) => Ok((true, text)),
        Some(6) => Ok((false, text)),
        other => panic!("--check-config exited {other:?}: {text}"),
    }
}

/// The directive word of a switched-on line.
fn word(line: &str) -> &str {
    line.trim_start_matches('#')
        .split([' ', '\t'])
        .next()
        .unwrap_or("")
}

#[test]
fn each_sample_directive_is_accepted_or_refused_as_3_0_6_does() -> Result<()> {
    require_root()?;
    let sample = zcat(&format!("{SAMPLE_DIR}/ha.cf.gz"));
    let haresources = zcat(&format!("{SAMPLE_DIR}/haresources.gz"));
    let authkeys = sample_authkeys();
    let lines = directive_lines(&sample);
    assert!(
        lines.len() >= 30,
        "expected the sample's ~38 commented directives, found {}",
        lines.len()
    );
    let ours = Daemon::ours()?.binary().to_string_lossy().into_owned();
    let lan = Lan::new(1)?;
    let node = lan.node(0);

    // The base alone must be accepted by both, or the comparison means nothing.
    node.write_config(&format!("{BASE}{sample}"), &authkeys, &haresources)?;
    let (real_ok, real_text) = real_accepts(node)?;
    let (our_ok, our_text) = our_check(node, &ours)?;
    assert!(real_ok, "3.0.6 refused the base configuration: {real_text}");
    assert!(our_ok, "we refused the base configuration: {our_text}");

    let mut disagreements = Vec::new();
    let mut silent = Vec::new();
    let mut report = String::new();
    for &i in &lines {
        let line = sample.lines().nth(i).unwrap_or_default();
        node.write_config(&switched_on(&sample, i), &authkeys, &haresources)?;
        let (real_ok, real_text) = real_accepts(node)?;
        let (our_ok, our_text) = our_check(node, &ours)?;
        let verdict = |ok| if ok { "accept" } else { "refuse" };
        report.push_str(&format!(
            "{:<55} 3.0.6: {}  ours: {}\n",
            line.trim(),
            verdict(real_ok),
            verdict(our_ok)
        ));
        if real_ok != our_ok {
            disagreements.push(format!(
                "line {} `{}`: 3.0.6 {}s, we {}\n  3.0.6 said: {}\n  we said: {}",
                i + 1,
                line.trim(),
                verdict(real_ok),
                verdict(our_ok),
                real_text.trim(),
                our_text.trim()
            ));
        }
        if our_ok {
            let name = word(line);
            let has_effect = hb_config::directives::no_effect(name).is_none();
            let said = our_text.contains(&format!("'{name}'")) && our_text.contains("no effect");
            if !has_effect && !said {
                silent.push(format!(
                    "`{}`: accepted, no effect, and --check-config did not say so:\n{}",
                    line.trim(),
                    our_text.trim()
                ));
            }
        }
    }
    eprintln!("{report}");
    assert!(
        disagreements.is_empty(),
        "{} of {} lines disagree:\n{}",
        disagreements.len(),
        lines.len(),
        disagreements.join("\n")
    );
    assert!(silent.is_empty(), "{}", silent.join("\n"));
    Ok(())
}

/// `heartbeat -v` prints the configuration as 3.0.6 does (same directives, values,
/// descriptions, node table and media).
#[test]
fn dash_v_prints_the_configuration_as_3_0_6_does() -> Result<()> {
    require_root()?;
    let ours = Daemon::ours()?.binary().to_string_lossy().into_owned();
    let lan = Lan::new(1)?;
    let node = lan.node(0);
    let ha_cf = "node nodea nodeb\nbcast eth0\nucast eth0 198.18.0.99\n\
                 mcast eth0 239.0.0.1 694 1 0\nping 198.18.0.1\nkeepalive 2\n\
                 deadtime 10\nlogfile /var/log/ha-log\nauto_failback on\n";
    node.write_config(ha_cf, "auth 1\n1 sha1 secret\n", "")?;
    let run = |bin: &str| -> Result<String> {
        let out = node.exec_timeout(&[bin, "-v"], Duration::from_secs(20))?;
        node.reset()?;
        assert!(out.status.success(), "{bin} -v: {out:?}");
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let real = run(REAL_HEARTBEAT)?;
    let ours = run(&ours)?;
    assert!(real.contains("Linux-HA heartbeat configuration"), "{real}");
    assert_eq!(ours, real);
    Ok(())
}
