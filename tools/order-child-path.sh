#!/usr/bin/env bash
# Writes tools/child-path.order: the functions a spawned child runs, in the dist binary.
#   tools/order-child-path.sh        (needs valgrind; run again when the child's code changes)
# A fork copies no page-table entry of the binary's code, so a child faults once on each
# 64 KB window of code it runs; build.rs hands this file to the linker, which places the
# listed functions together (benches/README.md, "spawn + join, round six").
# The names are mangled with a hash of the crate's build (toolchain, version): a name the
# linker does not find is skipped, and the binary is only as before.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo dist-static
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Counters are dumped (and zeroed) just before each fork, so a child's dump holds what
# the child alone ran, from the fork's return to its exit.
valgrind --tool=callgrind --demangle=no --dump-before=_Fork \
    --callgrind-out-file="$work/cg.%p" \
    target/dist/procscript benches/workloads/spawn.proc 3 >/dev/null 2>&1
child=$(find "$work" -name 'cg.*' | grep -E '/cg\.[0-9]+$' | sort -t. -k2 -n | tail -1)
{
    echo "# The functions a spawned child runs (tools/order-child-path.sh wrote this file)."
    # Functions with their own cost in the child: the frames it inherited from the
    # parent's stack show the child's whole total, and the child never returns to them.
    callgrind_annotate --auto=no --inclusive=no --threshold=100 "$child" | awk '
        /PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 + 0; next }
        total && /^ *[0-9,]+ \(/ {
            count = $1; gsub(",", "", count)
            name = $NF
            if ($NF ~ /^\[/) name = $(NF - 1)
            sub(/^[^:]*:/, "", name)
            sub(/\x27[0-9]+$/, "", name)
            if (count + 0 < total && !(name in seen)) { seen[name] = 1; print name }
        }'
} > tools/child-path.order
echo "tools/child-path.order: $(grep -vc '^#' tools/child-path.order) functions"
# Linked again, now with the list just written.
cargo dist-static
