#!/usr/bin/env bash
# scripts/bench.sh -- the failover benchmark (issue 5): our daemon vs Heartbeat 3.0.6 vs
# keepalived 2.2.7, in 2-node network-namespace clusters probed every 10 ms from a client.
#
#   sudo scripts/bench.sh                         # 5 trials, both timing profiles, all daemons
#   sudo scripts/bench.sh --trials 7 --markdown bench/RESULTS.md
#   sudo scripts/bench.sh --daemons ours --timings 100ms --trials 3
#
# 1. builds the release binaries (our heartbeat and hb-bench);
# 2. runs target/release/hb-bench with the given options (hb-bench --help lists them) and
#    prints the table: startup to VIP, crash failover outage, failback gap, switchover
#    outage, median (min-max) in ms, per daemon and timing profile.
# Needs root, heartbeat, resource-agents and keepalived (scripts/test.sh installs them).
# Everything runs in namespaces hbt<pid>x<n>-* using 198.18.0.0/15 only and is torn down at
# the end, on error and on Ctrl-C; every wait is bounded and --max-minutes (default 90)
# bounds the run. The default run takes about 15 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "scripts/bench.sh: must run as root (network namespaces): sudo $0" >&2; exit 1; }

echo "==> cargo build --release -p hb-bin -p hb-bench" >&2
cargo build --release -p hb-bin -p hb-bench >&2
exec target/release/hb-bench --ours target/release/heartbeat "$@"
