#!/usr/bin/env bash
# The engine's figures in one go (the table of the engine rewrite): the floors (bench/floors.sh), then
# `jalm-bench engine` on this checkout's binaries (e2e 1-step and 3-step at 64 clients, 3-step at 1 client,
# the daemon's CPU per capsule for each, idle RSS/PSS, journal bytes per 3-step capsule), and, with
# BASELINE=/path/to/checkout, the same jalm-bench driving that checkout's release jalmd and layers (built
# there with `swift build -c release` if its jalmd is missing). Prints a markdown table: figure, value,
# floor, ratio (and the baseline's column and the ratio of the two).
# Usage: bench/engine.sh BIN_DIR (bench/run.sh engine passes the release folder). BENCH_OUT (bench/out) is
# where the figures go; JALM_BENCH_DATA (TMPDIR or /tmp) where the data folders and the fdatasync floor go;
# JALM_BENCH_SECONDS, JALM_BENCH_WARMUP_SECS, JALM_BENCH_IDLE_SECS, JALM_BENCH_JOURNAL_N and FLOOR_*_N
# shorten it (the test suite runs it briefly on debug binaries).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:?usage: bench/engine.sh BIN_DIR}
OUT=${BENCH_OUT:-bench/out}
export JALM_BENCH_DATA=${JALM_BENCH_DATA:-${TMPDIR:-/tmp}}
mkdir -p "$OUT"
bench/floors.sh "$OUT" "$JALM_BENCH_DATA"
echo "== jalm: this checkout ($(git log -1 --format='%h %s' 2>/dev/null || echo '?'))"
JALM_SHARE=$PWD "$BIN/jalm-bench" engine | tee "$OUT/engine.txt"
if [ -n "${BASELINE:-}" ]; then
    BASE_BIN=$(bench/baseline-bin.sh "$BASELINE")
    echo "== jalm: baseline $BASELINE ($(git -C "$BASELINE" log -1 --format='%h %s' 2>/dev/null || echo '?')), binaries $BASE_BIN"
    JALM_SHARE=$BASELINE "$BIN/jalm-bench" engine --bin "$BASE_BIN" | tee "$OUT/engine-baseline.txt"
    echo "== engine figures (same run; baseline = $BASELINE)"
    python3 bench/engine-table.py "$OUT" "$OUT/engine.txt" "$OUT/engine-baseline.txt" | tee "$OUT/engine-table.md"
else
    echo "== engine figures (same run)"
    python3 bench/engine-table.py "$OUT" "$OUT/engine.txt" | tee "$OUT/engine-table.md"
fi
