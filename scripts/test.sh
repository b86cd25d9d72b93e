#!/usr/bin/env bash
# scripts/test.sh -- the one command that runs every test of the project.
#
# Run it as root on a Debian machine (CI does: .ci/run calls this script):
#   1. installs the test prerequisites with apt if any is missing (the real Heartbeat 3.0.6
#      that our daemon is tested against, resource-agents, socat, iproute2, nftables, ...),
#      with a temporary /usr/sbin/policy-rc.d so that no packaged service gets started;
#   2. cargo fmt --check and cargo clippy --workspace --all-targets -- -D warnings (the
#      workspace lints, e.g. undocumented_unsafe_blocks, are enforced here);
#   3. cargo build --workspace --all-targets;
#   4. cargo test --workspace (the cluster tests build private network namespaces, hence root;
#      crates/hb-daemon/tests/structure.rs checks hb-daemon's module graph has no cycle and
#      no source file is over 800 lines);
#   5. cargo check of the fuzz targets (fuzz/ is outside the workspace; its build script
#      compiles libFuzzer with the C++ compiler prereqs.sh installs; stable Rust suffices
#      to check it, running it needs nightly and cargo-fuzz: fuzz/README.md).
# When everything is installed it touches no package database and no network.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/prereqs.sh
source scripts/prereqs.sh

for tool in fmt clippy; do
    cargo "$tool" --version >/dev/null 2>&1 \
        || die "cargo $tool not found: rustup component add rustfmt clippy"
done

say "cargo fmt --check"
cargo fmt --all --check

say "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

say "cargo build --workspace --all-targets"
cargo build --workspace --all-targets

say "cargo test --workspace --no-fail-fast"
cargo test --workspace --no-fail-fast

say "cargo check of the fuzz targets (fuzz/Cargo.toml)"
cargo check --manifest-path fuzz/Cargo.toml --bins --target-dir target/fuzz-check

say "all tests passed"
