#!/usr/bin/env bash
# scripts/demo.sh -- the main job: a two-node heartbeat-rs cluster with a virtual IP in network
# namespaces (embedded configuration, the project's own packaging/ha.d), a crash of the active
# node, the measured failover, and the failback.
#
#   sudo scripts/demo.sh             run it and tear everything down
#   sudo scripts/demo.sh --keep      leave the cluster running and print the commands to look at it
#   sudo scripts/demo.sh down        remove a cluster left by --keep
#   sudo scripts/demo.sh --no-build  use the binaries already in target/debug (no cargo)
#
# Needs root, iproute2 and our build only: not the heartbeat package, not the host's /etc/ha.d.
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
args=()
for arg in "$@"; do
    case $arg in
        --no-build) build=0 ;;
        --keep | down) args+=("$arg") ;;
        -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
        *) printf '%s: unknown argument %s (see --help)\n' "$0" "$arg" >&2; exit 2 ;;
    esac
done

PREREQS=demo
NEED_CARGO=$build
# shellcheck source=scripts/prereqs.sh
source scripts/prereqs.sh
if [ "$build" = 1 ]; then
    say "cargo build (daemon, cl_status, admin tools, demo)"
    cargo build -q -p hb-bin -p hb-client -p hb-tests --bins
fi
for bin in hb-demo heartbeat cl_status; do
    [ -x "target/debug/$bin" ] || die "target/debug/$bin is missing: run without --no-build"
done
export HB_HA_D="$PWD/packaging/ha.d"
exec target/debug/hb-demo "${args[@]}"
