#!/bin/sh
# Rewrites citations of the reference notes that lived outside the repository into citations of
# the repository's own docs:
#
#   protocol.md §N            (with or without a shared/docs/ prefix) -> docs/protocol.md §N
#   daemon.md §N              (idem)                                  -> docs/behaviour.md §N
#   STYLE.md §6.N             (idem)                                  -> docs/style.md §N
#   ecosystem.md [§N]         (idem)                                  -> docs/architecture.md
#   shared/docs/              (any other mention)                     -> docs/
#   "<doc> section N" and "<doc> § N" after a rewritten name          -> "<doc> §N"
#
# Section numbers of docs/protocol.md and docs/behaviour.md equal those of the old notes, so only
# the file name changes; docs/style.md numbers the old STYLE.md §6.N as §N.
#
# Idempotent: a name already preceded by a path (docs/protocol.md) is left alone, so running it
# again, or after merging branches that still use the old form, only touches old citations.
# tests/doc_refs.rs checks the result (`cargo test -p hb-tests --test doc_refs`).
#
# Usage: scripts/rewrite-doc-refs.sh [--check]
#   --check   change nothing; list the files that still need rewriting and exit 1 if any.
set -eu

cd "$(dirname "$0")/.."

check=0
if [ "${1:-}" = "--check" ]; then
    check=1
fi

self=scripts/rewrite-doc-refs.sh
pattern='(shared/docs|(^|[^A-Za-z0-9_./-])(protocol|daemon|STYLE|ecosystem)\.md)'

files=$(
    for d in crates bin tests docs bench fuzz scripts packaging README.md; do
        [ -e "$d" ] || continue
        grep -rlIE --exclude-dir=target --exclude-dir=.git "$pattern" "$d" || true
    done | grep -vxF "$self" || true
)

if [ -z "$files" ]; then
    echo "rewrite-doc-refs: nothing to rewrite"
    exit 0
fi

if [ "$check" -eq 1 ]; then
    echo "rewrite-doc-refs: old-style citations in:"
    echo "$files" | sed 's/^/  /'
    exit 1
fi

# Perl in slurp mode, so a citation broken across comment lines ("STYLE.md\n//! §6.3") is seen
# whole. `(?<![\w./-])` keeps names that already carry a path from being rewritten again.
echo "$files" | while IFS= read -r f; do
    perl -0777 -pi -e '
        my $gap = qr{[ \t]*(?:\n[ \t]*(?://[/!]?|#|\*)?[ \t]*)?};
        s{(?:\bshared/docs/|(?<![\w./-]))STYLE\.md($gap)§[ \t]*6\.(\d+)}{docs/style.md$1§$2}g;
        s{(?:\bshared/docs/|(?<![\w./-]))STYLE\.md}{docs/style.md}g;
        s{(?:\bshared/docs/|(?<![\w./-]))ecosystem\.md(?:[ \t]+§[ \t]*\d+(?:\.\d+)*)?}{docs/architecture.md}g;
        s{(?:\bshared/docs/|(?<![\w./-]))protocol\.md}{docs/protocol.md}g;
        s{(?:\bshared/docs/|(?<![\w./-]))daemon\.md}{docs/behaviour.md}g;
        s{\bshared/docs/}{docs/}g;
        s{(docs/(?:protocol|behaviour|style)\.md)([ \t]+)section[ \t]+(\d)}{$1$2§$3}g;
        s{(docs/(?:protocol|behaviour|style)\.md)([ \t]+)§[ \t]+(\d)}{$1$2§$3}g;
    ' "$f"
    echo "rewrote $f"
done
