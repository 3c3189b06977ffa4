#!/usr/bin/env bash
# The test command: starts the real cluster engines (tools/cluster.sh up), runs `cargo test "$@"`
# against them, and stops the engines again if it was this script that started them.
# As root (CI, a container) the cluster tests run; as another user, where `up` cannot install
# and start Slurm, they skip with a printed reason and the rest of the suite runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export PROCSCRIPT_CLUSTER_DIR="${PROCSCRIPT_CLUSTER_DIR:-/tmp/procscript-cluster}"
if [[ "$(id -u)" != 0 ]]; then
    echo "tools/test.sh: not root, so no cluster: the cluster tests skip" >&2
    unset PROCSCRIPT_CLUSTER_DIR
    exec cargo test "$@"
fi
if [[ ! -f "$PROCSCRIPT_CLUSTER_DIR/env" ]]; then
    # Stop on every way out, a failed `up` or test included.
    trap 'tools/cluster.sh down' EXIT
fi
tools/cluster.sh up
# shellcheck source=/dev/null
. "$PROCSCRIPT_CLUSTER_DIR/env"
cargo test "$@"
