#!/usr/bin/env bash
# scripts/test.sh -- the one command that runs every test of the project.
#
# Run it as root on a Debian machine (CI does: .ci/run calls this script):
#   1. installs the test prerequisites with apt if any is missing (the real Heartbeat 3.0.6
#      that our daemon is tested against, resource-agents, socat, iproute2, nftables, ...),
#      with a temporary /usr/sbin/policy-rc.d so that no packaged service gets started;
#   2. cargo build --workspace --all-targets;
#   3. cargo test --workspace (the cluster tests build private network namespaces, hence root).
# When everything is installed it touches no package database and no network.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/prereqs.sh
source scripts/prereqs.sh

say "cargo build --workspace --all-targets"
cargo build --workspace --all-targets

say "cargo test --workspace"
cargo test --workspace

say "all tests passed"
