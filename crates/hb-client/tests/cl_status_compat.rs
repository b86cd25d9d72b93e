//! The REAL Debian `/usr/bin/cl_status` and OUR `cl_status` against the
//! same hb-api server (docs/behaviour.md §8): identical stdout and exit codes,
//! both equal to what docs/behaviour.md §8 derives for the docs/behaviour.md §7.10 cluster.
//!
//! The C tool connects to the fixed path `/var/run/heartbeat/register`,
//! so each run happens in a private mount namespace where the test
//! server's socket directory is bind-mounted on `/run/heartbeat`; the
//! host's `/run/heartbeat` is never touched. Needs root (the real tool
//! checks credentials through `SO_PEERCRED`).

mod server;

use hb_api::{AuthTable, TableView};
use hb_client::{Client, SignOnOptions};
use server::TestServer;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const REAL: &str = "/usr/bin/cl_status";
const OURS: &str = env!("CARGO_BIN_EXE_cl_status");

/// Runs `tool args…` with `/run/heartbeat` replaced by `dir` in a private
/// mount namespace; returns (stdout, exit code, stderr without the
/// syslog time/host/pid prefix).
fn run_in_ns(dir: &Path, tool: &str, args: &[&str]) -> (String, i32, String) {
    let script = r#"set -e
d="$1"; shift
if [ -d /run/heartbeat ]; then
  mount --bind "$d" /run/heartbeat
else
  mount -t tmpfs none /run && mkdir /run/heartbeat && mount --bind "$d" /run/heartbeat
fi
set +e
exec "$@""#;
    let out = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .arg(dir)
        .arg(tool)
        .args(args)
        .env("HA_LOGFACILITY", "none")
        .output()
        .expect("run unshare");
    let err: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(|l| match l.find("]: ") {
            Some(i) if l.contains(" cl_status: [") => l[i + 3..].to_string(),
            _ => l.to_string(),
        })
        .collect();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
        err.join("\n"),
    )
}

fn need_real_tool() {
    assert!(
        Path::new(REAL).exists(),
        "{REAL} is missing: install the Debian heartbeat package (scripts/test.sh does)"
    );
    hb_testutil::require_root("unshare --mount, SO_PEERCRED checks of the real cl_status");
}

const NODES_V: &str = "\nghost\tdead\t(nodetype: normal)\n\tlo\tdead\n\nvm\tactive\t(nodetype: normal)\n\tlo\tup\n\n127.0.0.1\tping\t(nodetype: ping)\n\t127.0.0.1\tup\n";

#[test]
fn real_and_our_cl_status_agree_with_the_spec() {
    need_real_tool();
    let tmp = std::env::temp_dir().join(format!("hb-api-compat-{}", std::process::id()));
    let mut auth = AuthTable::with_builtins(102, 105);
    // Let this (root) test sign on as ipfail.
    auth.set("ipfail", vec![0], vec![]);
    let srv = TestServer::start(&tmp, TableView::observed(), auth);
    // A named client, so that clientstatus has someone online.
    let ipfail = Client::signon(&SignOnOptions {
        path: srv.dir.join("register"),
        client_id: Some("ipfail".into()),
        timeout: Some(Duration::from_secs(5)),
    })
    .expect("ipfail signs on");
    assert!(srv.online("ipfail"));

    let hbstatus_v = format!(
        "version:\t3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)\nmanaged by:\t\"haresources\"\n{NODES_V}"
    );
    let hbstatus_vm = format!(
        "Heartbeat version 3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)\nResources controlled by \"haresources\"\nThe nodes are as follow:\n{}",
        NODES_V.replace(")\n\t", ")\n\tthis node has the following heartbeat links:\n\t")
    );
    let cases: Vec<(Vec<&str>, String, i32)> = vec![
        (
            vec!["hbstatus"],
            "Heartbeat is running on this machine.\n".into(),
            0,
        ),
        (vec!["hbstatus", "-v"], hbstatus_v.clone(), 0),
        (vec!["hbstatus", "-m", "-v"], hbstatus_vm, 0),
        (vec!["listnodes"], "ghost\nvm\n127.0.0.1\n".into(), 0),
        (vec!["listnodes", "-p"], "127.0.0.1\n".into(), 0),
        (vec!["listnodes", "-n"], "ghost\nvm\n".into(), 0),
        (
            vec!["listnodes", "-n", "-p"],
            "ghost\nvm\n127.0.0.1\n".into(),
            0,
        ),
        (
            vec!["listnodes", "-m"],
            "The nodes are as follow:\nghost\nvm\n127.0.0.1\n".into(),
            0,
        ),
        (vec!["listnodes", "-v"], NODES_V.into(), 0),
        (vec!["listnodes", "-x"], "".into(), 11),
        (vec!["nodestatus", "vm"], "active\n".into(), 0),
        (vec!["nodestatus", "ghost"], "dead\n".into(), 1),
        (vec!["nodestatus", "127.0.0.1"], "ping\n".into(), 0),
        (
            vec!["nodestatus", "vm", "-m"],
            "The cluster node vm is active\n".into(),
            0,
        ),
        (vec!["nodestatus", "nosuch"], "".into(), 11),
        (vec!["nodestatus"], "".into(), 11),
        (vec!["nodetype", "127.0.0.1"], "ping\n".into(), 0),
        (
            vec!["nodetype", "-m", "vm"],
            "The node vm's type: normal\n".into(),
            0,
        ),
        (vec!["nodetype", "nosuch"], "".into(), 11),
        (vec!["nodeweight", "vm"], "100\n".into(), 0),
        (vec!["nodesite", "vm"], "\n".into(), 0),
        (vec!["listhblinks", "vm"], "\tlo\n".into(), 0),
        (vec!["listhblinks", "-v", "ghost"], "\tlo\tdead\n".into(), 0),
        (
            vec!["listhblinks", "-m", "127.0.0.1"],
            "\tthis node has the following heartbeat links:\n\t127.0.0.1\n".into(),
            0,
        ),
        (vec!["listhblinks", "nosuch"], "".into(), 13),
        (vec!["hblinkstatus", "vm", "lo"], "up\n".into(), 0),
        (vec!["hblinkstatus", "ghost", "lo"], "dead\n".into(), 1),
        (
            vec!["hblinkstatus", "-m", "vm", "lo"],
            "The node vm's heartbeat link lo is up\n".into(),
            0,
        ),
        (vec!["hblinkstatus", "vm", "eth9"], "".into(), 13),
        (vec!["clientstatus", "vm", "ipfail"], "online\n".into(), 0),
        (vec!["clientstatus", "vm", "ccm"], "offline\n".into(), 1),
        (
            vec!["clientstatus", "ghost", "ipfail", "200"],
            "offline\n".into(),
            1,
        ),
        (vec!["clientstatus", "vm"], "".into(), 11),
        (vec!["rscstatus"], "transition\n".into(), 0),
        (
            vec!["rscstatus", "-m"],
            "This node is holding transition resources.\n".into(),
            0,
        ),
        (vec!["hbparameter", "-p", "deadtime"], "5\n".into(), 0),
        (
            vec!["hbparameter", "-m", "-p", "keepalive"],
            "Heartbeat parameter keepalive's value: 1\n".into(),
            0,
        ),
        (
            vec!["hbparameter", "-p", "hbversion"],
            "3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)\n".into(),
            0,
        ),
        (vec!["hbparameter", "-p", "nosuchparam"], "".into(), 1),
        (vec!["hbparameter"], "".into(), 11),
        (vec!["bogus"], "".into(), 11),
    ];
    let mut failures = Vec::new();
    for (args, want_out, want_rc) in &cases {
        let mut stderrs = Vec::new();
        for tool in [REAL, OURS] {
            let (out, rc, err) = run_in_ns(&srv.dir, tool, args);
            if (&out, rc) != (want_out, *want_rc) {
                failures.push(format!(
                    "{tool} {args:?}: got rc {rc} {out:?}, want rc {want_rc} {want_out:?}"
                ));
            }
            stderrs.push(err);
        }
        // stderr: same messages, apart from the real tool's failed attempt
        // to reach a CCM daemon (hbstatus -v), which we do not make.
        let ccm_attempt = args[0] == "hbstatus" && args.contains(&"-v");
        if !ccm_attempt && stderrs[0] != stderrs[1] {
            failures.push(format!(
                "stderr of {args:?} differs:\n  real: {:?}\n  ours: {:?}",
                stderrs[0], stderrs[1]
            ));
        }
    }
    ipfail.signoff().unwrap();
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}

#[test]
fn refused_signon_means_apparently_running() {
    need_real_tool();
    let tmp = std::env::temp_dir().join(format!("hb-api-refused-{}", std::process::id()));
    // No `anon` entry: every casual client is refused with a reason.
    let srv = TestServer::start(&tmp, TableView::observed(), AuthTable::new());
    let cases: Vec<(Vec<&str>, &str, i32)> = vec![
        (
            vec!["hbstatus"],
            "Heartbeat is apparently running on this machine, but refuses my connection\n",
            0,
        ),
        (
            vec!["hbstatus", "-v"],
            "Heartbeat is apparently running on this machine, but refuses my connection\n(apiauth anon missing)\n",
            0,
        ),
        (vec!["listnodes"], "", 1),
    ];
    let mut failures = Vec::new();
    for (args, want_out, want_rc) in &cases {
        let mut stderrs = Vec::new();
        for tool in [REAL, OURS] {
            let (out, rc, err) = run_in_ns(&srv.dir, tool, args);
            if (out.as_str(), rc) != (*want_out, *want_rc) {
                failures.push(format!("{tool} {args:?}: got rc {rc} {out:?}"));
            }
            stderrs.push(err);
        }
        if stderrs[0] != stderrs[1] {
            failures.push(format!("stderr of {args:?}: {stderrs:?}"));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}

#[test]
fn silent_daemon_ends_in_alarm_exit_12() {
    need_real_tool();
    let tmp = std::env::temp_dir().join(format!("hb-api-silent-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    // Accepts connections and never answers.
    let listener = std::os::unix::net::UnixListener::bind(tmp.join("register")).unwrap();
    let keep = std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().take(4) {
            held.push(s);
        }
        std::thread::sleep(Duration::from_secs(8));
    });
    let runs: Vec<_> = [REAL, OURS]
        .iter()
        .flat_map(|tool| {
            let dir = tmp.clone();
            [vec!["hbstatus"], vec!["listnodes"]].map(move |args| {
                let dir = dir.clone();
                std::thread::spawn(move || {
                    let t0 = std::time::Instant::now();
                    let (out, rc, _) = run_in_ns(&dir, tool, &args);
                    (tool.to_string(), args, out, rc, t0.elapsed())
                })
            })
        })
        .collect();
    for r in runs {
        let (tool, args, out, rc, took) = r.join().unwrap();
        assert_eq!((rc, out.as_str()), (12, ""), "{tool} {args:?}");
        assert!(
            took >= Duration::from_millis(4500) && took < Duration::from_secs(9),
            "{tool} {took:?}"
        );
    }
    drop(keep);
    let _ = std::fs::remove_dir_all(&tmp);
}
