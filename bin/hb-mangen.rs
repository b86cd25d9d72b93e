//! `hb-mangen --out DIR`: writes heartbeat(8), hb_standby(1) and
//! hb_takeover(1) generated from the very clap definitions the binaries
//! parse with, so the OPTIONS sections can never drift from the code.
//! Sections clap knows nothing about (files, signals, exit status) are
//! appended as roff here. Run by scripts/package.sh; not installed.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};
use hb_tools::admin::cli;

/// Generate the man pages of heartbeat-rs from the command-line definitions.
#[derive(Debug, Parser)]
#[command(name = "hb-mangen")]
struct Opts {
    /// Directory to write heartbeat.8, hb_standby.1 and hb_takeover.1 into.
    #[arg(long, value_name = "DIR", default_value = "target/man")]
    out: PathBuf,
}

const MANUAL: &str = "Heartbeat (heartbeat-rs)";

fn source() -> String {
    format!("heartbeat-rs {}", env!("CARGO_PKG_VERSION"))
}

const HEARTBEAT_EXTRA: &str = r#".SH FILES
.TP
\fI/etc/ha.d/ha.cf\fR
Main configuration, see \fBha.cf\fR(5).
.TP
\fI/etc/ha.d/authkeys\fR
Authentication keys; must not be readable by group or others, see \fBauthkeys\fR(5).
.TP
\fI/etc/ha.d/haresources\fR
Resource groups and their preferred nodes, see \fBharesources\fR(5).
.TP
\fI/etc/ha.d/harc\fR, \fI/etc/ha.d/rc.d/\fR
Event hooks: for a peer's status change, a dead node's takeover (\fBst=dead\fR), a link
status change (\fBifstat\fR), \fBip\-request\fR, \fBip\-request\-resp\fR and every other
message type no handler claims (\fBhb_takeover\fR, \fBstonith\fR, custom types sent through
the FIFO), heartbeat runs \fBharc\fR \fItype\fR if \fIrc.d/type\fR exists (rc.d is listed
once, at the first event), one at a time, in its own process group, with every message
field as \fBHA_\fR\fIfield\fR plus \fBHA_OSTATUS\fR, \fBHA_NICEFAILBACK\fR and
\fBHA_LOGD\fR. The packaged hooks only log: heartbeat takes over, answers ip\-request and
goes standby itself.
.TP
\fI/usr/sbin/stonith\fR
cluster\-glue's STONITH command, run in a helper to reset a dead node (see \fBstonith\fR
in \fBha.cf\fR(5)).
.TP
\fI/etc/ha.d/resource.d/\fR
Heartbeat\-style resource scripts (wrappers around OCF agents).
.TP
\fI/run/heartbeat.pid\fR
PID of the master control process.
.TP
\fI/run/heartbeat/register\fR
API socket used by \fBcl_status\fR(1), ipfail and other clients.
.TP
\fI/var/lib/heartbeat/fifo\fR
Root\-only FIFO through which \fBhb_standby\fR(1), \fBhb_takeover\fR(1) and resource helpers inject cluster messages.
.TP
\fI/var/lib/heartbeat/hb_generation\fR, \fI/var/lib/heartbeat/hb_uuid\fR
Generation counter and node UUID; keep them when reinstalling.
.TP
\fI/var/lib/heartbeat/delhostcache\fR
Nodes removed with \fBhb_delnode\fR(1); read at start, so they stay removed.
.TP
\fI/var/lib/heartbeat/cores/\fR
Working directories (and core dumps) of the daemon processes (ha.cf \fBcoreroot\fR).
.SH "MOVING TO PACEMAKER"
\fBheartbeat \-\-export\-pacemaker\fR \fIOUTDIR\fR [\fB\-\-confdir\fR \fIDIR\fR]
[\fB\-\-addr\fR \fINODE\fR:\fIIFACE\fR=\fIIP\fR ...] reads ha.cf, authkeys and haresources with
the daemon's own parser and writes, into \fIOUTDIR\fR, \fIcorosync.conf\fR (Corosync 3, knet,
aes256/sha256, one link per heartbeat interface), \fIauthkey\fR (a fresh random Corosync key;
\fBcorosync\-keygen\fR makes an equivalent one), \fIcib.xml\fR (one Pacemaker group per
haresources line with a location preference for its node, auto_failback as
resource\-stickiness, ping nodes and ipfail as an ocf:pacemaker:ping clone and rules,
stonith_host lines as fence_legacy devices), the same configuration as \fIpcs\-commands.sh\fR
and \fIcrm\-commands.txt\fR, and \fIMIGRATION.txt\fR: every directive and resource with its
FILE:LINE marked mapped, approximated or not mapped, and the switch\-over steps. A node's address
on a link comes from \fB\-\-addr\fR, this host's interface, a ucast line or name resolution;
when none applies the export stops with exit status 6 and names the \fB\-\-addr\fR to add.
.SH SIGNALS
.TP
\fBSIGTERM\fR
Graceful shutdown: release resources, tell the peers, exit (what \fB\-k\fR sends).
.TP
\fBSIGHUP\fR
Reread the configuration (what \fB\-r\fR sends after validating it). A changed \fIha.cf\fR that is
valid (with haresources and authkeys) is applied by a quick restart: the daemon stops its
clients and core children without releasing any resource and execs itself with
\fB\-R \-C\fR \fIheld\fR (same pid and pid file); the new image keeps the generation and
sequence numbers, so peers see no restart and no death, and the virtual addresses never drop.
A changed authkeys alone is applied in place. A file with errors is refused (errors logged as
\fIFILE:LINE\fR) and the running configuration stays.
.TP
\fBSIGUSR1\fR, \fBSIGUSR2\fR
Raise or lower the debug level.
.SH REBOOTS
Like 3.0.6, heartbeat reboots the machine (sync, then \fBreboot\fR(2)) when a
\fBfailfast\fR client dies and when a resource cannot be stopped; see \fBha.cf\fR(5)
and \fBharesources\fR(5).
.SH "EXIT STATUS"
LSB codes: 0 success (also "already running" and "already stopped"), 1 generic failure or stale
PID file (\fB\-s\fR), 2 invalid usage, 3 not running (\fB\-s\fR), 4 insufficient privilege,
6 configuration error.
.SH "SEE ALSO"
\fBha.cf\fR(5), \fBauthkeys\fR(5), \fBharesources\fR(5), \fBcl_status\fR(1),
\fBhb_standby\fR(1), \fBhb_takeover\fR(1), \fBhb_addnode\fR(1), \fBhb_delnode\fR(1),
\fBcorosync.conf\fR(5), \fBcrm_verify\fR(8)
"#;

const ADMIN_EXTRA: &str = r#".SH FILES
.TP
\fI/var/lib/heartbeat/fifo\fR
The daemon's FIFO (mode 0600, root only). The request is written in one atomic write.
.SH "EXIT STATUS"
0 when the request was handed to the daemon (the standby itself happens asynchronously and is
logged by heartbeat), 1 on a usage error or when heartbeat is not running.
.SH "SEE ALSO"
\fBheartbeat\fR(8), \fBhb_standby\fR(1), \fBhb_takeover\fR(1), \fBcl_status\fR(1), \fBha.cf\fR(5)
"#;

fn render(cmd: clap::Command, section: &str, extra: &str) -> std::io::Result<Vec<u8>> {
    let man = clap_mangen::Man::new(cmd)
        .section(section)
        .source(source())
        .manual(MANUAL);
    let mut buf = Vec::new();
    man.render_title(&mut buf)?;
    man.render_name_section(&mut buf)?;
    man.render_synopsis_section(&mut buf)?;
    man.render_description_section(&mut buf)?;
    man.render_options_section(&mut buf)?;
    buf.write_all(extra.as_bytes())?;
    Ok(buf)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), String> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("{}", path.display());
    Ok(())
}

fn run(opts: &Opts) -> Result<(), String> {
    std::fs::create_dir_all(&opts.out)
        .map_err(|e| format!("cannot create {}: {e}", opts.out.display()))?;
    let pages = [
        (
            "heartbeat.8",
            hb_daemon::args::Args::command(),
            "8",
            HEARTBEAT_EXTRA,
        ),
        (
            "hb_standby.1",
            cli::command(cli::Tool::Standby),
            "1",
            ADMIN_EXTRA,
        ),
        (
            "hb_takeover.1",
            cli::command(cli::Tool::Takeover),
            "1",
            ADMIN_EXTRA,
        ),
    ];
    for (file, cmd, section, extra) in pages {
        let bytes = render(cmd, section, extra).map_err(|e| format!("rendering {file}: {e}"))?;
        write(&opts.out, file, &bytes)?;
    }
    Ok(())
}

fn main() {
    let opts = Opts::parse();
    if let Err(e) = run(&opts) {
        eprintln!("hb-mangen: {e}");
        std::process::exit(1);
    }
}
