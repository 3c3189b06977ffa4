#!/usr/bin/env bash
# Fuzzes procscript for a bounded time: the parser, parse-and-run, then prompt sessions.
#   tools/fuzz.sh [SECONDS_PER_TARGET]     (default 300)
# Needs the nightly toolchain and cargo-fuzz (cargo install cargo-fuzz).
# Seeds come from the tests and example scripts; crashes land in fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
for target in parse run session; do
    mkdir -p "fuzz/corpus/$target"
    find tests/cases scripts -name '*.proc' -exec cp {} "fuzz/corpus/$target/" \;
    # Leak detection is off (per input and at exit): values are reference
    # counted, and cycles through functions local to a function that returned
    # are only freed at exit (documented in docs/language.md, Limits).
    ASAN_OPTIONS=detect_leaks=0 cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=10 -detect_leaks=0
done
