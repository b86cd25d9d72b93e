#!/usr/bin/env bash
# scripts/bench.sh -- the project's benchmark (issues 5 and 15): our daemon beside Heartbeat
# 3.0.6 and keepalived 2.2.7, in network-namespace clusters. Sections (--sections, all by default):
#
#   failover   2 nodes, VIP probed every 10 ms from a client: startup, crash failover outage,
#              failback gap, switchover outage per timing (--timings 1s,100ms,5ms, --trials N)
#   footprint  idle 2-node cluster at keepalive 100 ms: PSS/RSS/heap/CPU/wake-ups per process and
#              per node over --window seconds (default 60)
#   load       2 nodes under `stress-ng --cpu 8`: late heartbeats, false deaths, link deaths, pauses
#              detected, worst wire interval (tcpdump) at keepalive 100/10/5/2 ms and keepalived
#              advert 0.1/0.01 s; --load-secs (default 600) at the target 5 ms / 25 ms, --load-other-secs
#              (default 60) for the others
#   scale      2/4/8/16 nodes (--scale-nodes) at keepalive 1 s: last start -> all active, per-node
#              footprint, datagrams/s on the LAN
#   floor      skeletons of the two process shapes (master + write + read child; one process)
#              with no protocol work, at the footprint (2 nodes) and scale (16 nodes) rates: the least CPU a
#              daemon of that shape costs on this machine
#
#   sudo scripts/bench.sh                                   # everything (about an hour)
#   sudo scripts/bench.sh --sections footprint --window 30 --markdown /tmp/fp.md
#   sudo scripts/bench.sh --sections load --load-secs 120 --daemons ours,real
#
# 1. builds the release binaries (our heartbeat and hb-bench);
# 2. runs target/release/hb-bench with the given options (hb-bench --help lists them).
# Needs root, heartbeat, resource-agents, keepalived, stress-ng and tcpdump.
# Everything runs in namespaces hbt<pid>x<n>-* using 198.18.0.0/15 only and is torn down at
# the end, on error and on Ctrl-C; every wait is bounded and --max-minutes (default 90) stops
# new failover trials. The 100-node simulator figures come from
#   cargo test --release -p hb-core --lib -- tests::scale --ignored --nocapture
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "scripts/bench.sh: must run as root (network namespaces): sudo $0" >&2; exit 1; }

echo "==> cargo build --release -p hb-bin -p hb-bench" >&2
cargo build --release -p hb-bin -p hb-bench >&2
exec target/release/hb-bench --ours target/release/heartbeat "$@"
