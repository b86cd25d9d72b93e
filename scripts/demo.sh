#!/usr/bin/env bash
# scripts/demo.sh -- the main job: a two-node heartbeat-rs cluster with a virtual IP in network
# namespaces (embedded configuration), a crash of the active node, and the measured failover.
# Run as root; installs what it needs (like scripts/test.sh) and cleans up after itself.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/prereqs.sh
source scripts/prereqs.sh
say "cargo build (daemon, cl_status, demo)"
cargo build -q -p hb-bin -p hb-client -p hb-tests --bins
exec target/debug/hb-demo
