#!/usr/bin/env bash
# Prints the release bin folder of another checkout (BASELINE_BIN, or CHECKOUT/.build/release) for
# jalm-bench --bin, building it there with `swift build -c release` first if its jalmd is missing, so that
# bench/run.sh and bench/engine.sh can measure an older daemon in the same run as this one.
# Usage: bench/baseline-bin.sh CHECKOUT. The build's output goes to stderr; stdout is the folder alone.
set -euo pipefail
CHECKOUT=${1:?usage: bench/baseline-bin.sh CHECKOUT}
BASE_BIN=${BASELINE_BIN:-$CHECKOUT/.build/release}
if [ ! -x "$BASE_BIN/jalmd" ]; then
    echo "== building the baseline in $CHECKOUT (swift build -c release)" >&2
    (cd "$CHECKOUT" && swift build -c release >&2)
fi
[ -x "$BASE_BIN/jalmd" ] || { echo "no jalmd in $BASE_BIN" >&2; exit 1; }
echo "$BASE_BIN"
