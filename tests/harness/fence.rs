//! A real cluster-glue `external` STONITH plugin that fences harness nodes.
//!
//! [`install_fence_plugin`] writes `external/hbtest-fence` into a node's private copy of
//! `/usr/lib/stonith/plugins/external` (see [`crate::nodefs`]) and, next to it, the map file
//! `/etc/ha.d/hbtest-fence.map` that tells the plugin how to find the other nodes: their
//! network-namespace inode and name, and the addresses the Lan gave them. cluster-glue's
//! `stonith` command (run by either daemon) executes the plugin inside the fencing node; its
//! `reset <node>` really fences: it SIGKILLs every process whose network namespace is the
//! victim's (compared by inode, never by name) and deletes every IPv4 address of the victim
//! except the Lan's own, entering the victim's namespace through
//! `/proc/<test process>/root/run/netns/…` (the node's own `/run` is private; the test process
//! lives in the host's mount namespace for as long as the Lan). Every call is recorded with its wall-clock time in the
//! fencing node's `/var/log/hbtest-fence.log`.
//!
//! [`set_device_failing`] makes the device fail (`status` and `reset` exit 1, as an
//! unreachable power switch would) until it is cleared.

use std::fmt::Write as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::lan::Lan;
use crate::node::Node;
use crate::nodefs;

/// The plugin's type as `stonith_host` names it.
pub const FENCE_PLUGIN: &str = "external/hbtest-fence";
/// Its device id (`getinfo-devid`), as the daemons log it in `Resetting node X with [...]`.
pub const FENCE_DEVICE_ID: &str = "hbtest fencing device";
/// The plugin's log inside the fencing node.
pub const FENCE_LOG: &str = "/var/log/hbtest-fence.log";
const MAP: &str = "/etc/ha.d/hbtest-fence.map";
const FAIL: &str = "/etc/ha.d/hbtest-fence.fail";

const PLUGIN: &str = r#"#!/bin/sh
# hb-tests fencing device (cluster-glue external STONITH plugin; tests/harness/fence.rs).
# reset <node>: SIGKILL every process in <node>'s network namespace, delete its extra addresses.
MAP=/etc/ha.d/hbtest-fence.map
FAIL=/etc/ha.d/hbtest-fence.fail
LOG=/var/log/hbtest-fence.log
now() { date +%s.%N; }
case $1 in
gethosts) for h in $hostlist; do echo "$h"; done; exit 0 ;;
getconfignames) echo hostlist; exit 0 ;;
getinfo-devid) echo "hbtest fencing device"; exit 0 ;;
getinfo-devname) echo "hb-tests namespace fencing device"; exit 0 ;;
getinfo-devdescr) echo "Kills every process of a test node and removes its extra addresses"; exit 0 ;;
getinfo-devurl) echo "file:///tests/harness/fence.rs"; exit 0 ;;
getinfo-xml)
	cat <<XML
<parameters>
<parameter name="hostlist" unique="1" required="1">
<content type="string" />
<shortdesc lang="en">Hostlist</shortdesc>
<longdesc lang="en">The test nodes this device can fence</longdesc>
</parameter>
</parameters>
XML
	exit 0 ;;
status)
	if [ -e "$FAIL" ]; then echo "$(now) status failing" >> "$LOG"; exit 1; fi
	echo "$(now) status ok" >> "$LOG"; exit 0 ;;
on|off) exit 1 ;;
reset)
	target=$(echo "$2" | tr A-Z a-z)
	echo "$(now) reset $target" >> "$LOG"
	if [ -e "$FAIL" ]; then echo "$(now) reset $target failing" >> "$LOG"; exit 1; fi
	line=$(grep "^$target " "$MAP") || { echo "$(now) reset $target unknown" >> "$LOG"; exit 1; }
	set -- $line
	ino=$2; nspath=$3; keep0=$4; keep1=$5
	i=0
	while [ $i -lt 100 ]; do
		found=
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p/ns/net" 2>/dev/null)" = "net:[$ino]" ] || continue
			kill -9 "${p#/proc/}" 2>/dev/null && found=1
		done
		[ -z "$found" ] && break
		i=$((i + 1)); sleep 0.05
	done
	if [ -n "$found" ]; then echo "$(now) reset $target: processes survive" >> "$LOG"; exit 1; fi
	for iface in eth0 eth1; do
		keep=$keep0; [ "$iface" = eth1 ] && keep=$keep1
		[ "$keep" = - ] && continue
		addrs=$(nsenter --net="$nspath" ip -4 -o addr show dev "$iface") || {
			echo "$(now) reset $target: cannot enter $nspath" >> "$LOG"; exit 1; }
		for a in $(echo "$addrs" | awk '{print $4}'); do
			[ "$a" = "$keep/24" ] || nsenter --net="$nspath" ip addr del "$a" dev "$iface" || exit 1
		done
	done
	echo "$(now) reset $target done" >> "$LOG"
	exit 0 ;;
esac
exit 1
"#;

/// Installs the plugin and the map of every other node of `lan` into `node`.
pub fn install_fence_plugin(lan: &Lan, node: &Node) -> Result<()> {
    let dir = node.host_path(&format!("/{}", nodefs::STONITH_EXTERNAL))?;
    nodefs::write_file(&dir.join("hbtest-fence"), PLUGIN, 0o755)?;
    let mut map = String::new();
    for other in lan.nodes().iter().filter(|n| n.name() != node.name()) {
        let _ = writeln!(
            map,
            "{} {} /proc/{}/root/run/netns/{} {} {}",
            other.name(),
            other.netns_inode(),
            std::process::id(),
            other.netns(),
            other.ip(),
            other.ip2().map_or("-".to_string(), |ip| ip.to_string())
        );
    }
    nodefs::write_file(&node.host_path(MAP)?, &map, 0o644)
}

/// Makes the device of `node` fail (`true`) or work again (`false`).
pub fn set_device_failing(node: &Node, failing: bool) -> Result<()> {
    let path = node.host_path(FAIL)?;
    if failing {
        nodefs::write_file(&path, "failing\n", 0o644)
    } else {
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::Invalid(format!("remove {}: {e}", path.display()))),
        }
    }
}

/// The plugin's calls on `node`: (wall-clock time, text) such as `reset nodea done`.
pub fn fence_calls(node: &Node) -> Vec<(SystemTime, String)> {
    let text = node
        .host_path(FENCE_LOG)
        .map(|p| nodefs::read_text(&p))
        .unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let (t, rest) = l.split_once(' ')?;
            let secs: f64 = t.parse().ok()?;
            let since = Duration::try_from_secs_f64(secs).ok()?;
            Some((UNIX_EPOCH + since, rest.to_string()))
        })
        .collect()
}

/// Converts a wall-clock time to the monotonic clock (to compare with probe replies).
pub fn to_instant(t: SystemTime) -> Instant {
    let (now_wall, now_mono) = (SystemTime::now(), Instant::now());
    match now_wall.duration_since(t) {
        Ok(ago) => now_mono.checked_sub(ago).unwrap_or(now_mono),
        Err(e) => now_mono + e.duration(),
    }
}
