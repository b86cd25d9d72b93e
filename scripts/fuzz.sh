#!/bin/sh
# Runs every cargo-fuzz target for N seconds (default 60) and prints a result table.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Needs the nightly toolchain (`rustup toolchain install nightly`); installs cargo-fuzz with
# `cargo install cargo-fuzz` when missing. Seeds are kept in the repository in
# fuzz/seeds/<target>/ (small, hand-made or minimised); the growing working corpus is
# fuzz/corpus/<target>/ (ignored by git). A crash leaves its input in
# fuzz/artifacts/<target>/ and makes the script exit 1. The table (markdown) is also
# written to fuzz/target/fuzz-results.md; docs/reliability.md holds the last one.
# HB_FUZZ_MERGE=1 merges what the run found into the seeds afterwards (cargo fuzz cmin).
set -eu

secs=${1:-60}
[ $# -gt 0 ] && shift
case $secs in
    '' | *[!0-9]*) echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/fuzz"

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzz.sh: the nightly toolchain is missing: rustup toolchain install nightly" >&2
    exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz (cargo install cargo-fuzz)" >&2
    cargo install cargo-fuzz
fi

targets=${*:-$(cargo +nightly fuzz list)}
echo "fuzz.sh: building $(echo "$targets" | wc -w) targets (release, sanitizer)" >&2
cargo +nightly fuzz build -O >&2

mkdir -p target
out=target/fuzz-results.md
{
    echo "| target | seconds | runs | runs/s | coverage (cov / ft) | corpus | crashes |"
    echo "|---|---|---|---|---|---|---|"
} >"$out"
failed=0
for t in $targets; do
    mkdir -p "corpus/$t" "seeds/$t"
    log=target/fuzz-$t.log
    set +e
    cargo +nightly fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1
    rc=$?
    set -e
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)
    runs=$(echo "$done_line" | sed -n 's/^#\([0-9]*\).*/\1/p')
    cov=$(echo "$done_line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$done_line" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$done_line" | sed -n 's/.*corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p')
    rate=$(sed -n 's/^stat::average_exec_per_sec:[[:space:]]*\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
        crashes=0
    else
        crashes="**1** (exit $rc, see fuzz/$log)"
        failed=1
    fi
    echo "| \`$t\` | $secs | ${runs:-?} | ${rate:-?} | ${cov:-?} / ${ft:-?} | ${corp:-?} | $crashes |" >>"$out"
    echo "fuzz.sh: $t: runs ${runs:-?}, cov ${cov:-?}, exit $rc" >&2
    if [ "${HB_FUZZ_MERGE:-0}" = 1 ] && [ "$rc" -eq 0 ]; then
        tmp=$(mktemp -d)
        cargo +nightly fuzz run -O "$t" "$tmp" "seeds/$t" "corpus/$t" -- -merge=1 >/dev/null 2>&1 || true
        rm -rf "seeds/$t" && mv "$tmp" "seeds/$t"
    fi
done
cat "$out"
exit $failed
