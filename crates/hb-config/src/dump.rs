//! `heartbeat -v`: the configuration as 3.0.6 prints it after validation
//! (docs/behaviour.md §2.1): every recorded directive with its value and
//! description, the node table with each node's status, the media.

use crate::directives::DIRECTIVES;
use crate::hacf::HaCf;
use crate::media::Medium;

/// The media description 3.0.6's plugins give.
fn description(m: &Medium) -> &'static str {
    match m.kind() {
        "bcast" => "UDP/IP broadcast",
        "mcast" | "mcast6" => "UDP/IP multicast",
        "ucast" => "UDP/IP unicast",
        "ucast6" => "UDP/IPv6 unicast",
        "serial" => "serial ring",
        "ping" => "ping membership",
        "ping6" => "ping6 membership",
        _ => "ping group membership",
    }
}

impl HaCf {
    /// The text `heartbeat -v` prints on `local` before the daemon starts
    /// (every node's status is still `init`).
    pub fn dump(&self, local: &str) -> String {
        let mut out = format!("#\n#\tLinux-HA heartbeat configuration (on {local})\n#\n");
        out.push_str("\n#---------------------------------------------------\n");
        out.push_str("#\n#\tHA configuration and status\n#\n");
        for d in DIRECTIVES.iter().filter(|d| d.record) {
            let Some(v) = self.param(d.name) else {
                continue;
            };
            out.push_str(&format!("{}\t{v}", d.name));
            if let Some(e) = d.explanation {
                out.push_str(&format!("\t#\t{e}"));
            }
            out.push('\n');
        }
        out.push_str("#\n#\tHA Cluster nodes:\n#\n");
        for n in &self.node_table {
            out.push_str(&format!("node {}\t#\t current status: init\n", n.name));
        }
        out.push_str("#\n#\tCommunications media:\n");
        for m in &self.media {
            out.push_str("#\n");
            out.push_str(&format!(
                "# {} heartbeat channel -------------\n",
                description(m)
            ));
            out.push_str(&format!("{} {}\n", m.kind(), m.name()));
        }
        out.push_str("#---------------------------------------------------\n");
        out
    }
}
