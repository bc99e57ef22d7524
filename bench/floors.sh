#!/usr/bin/env bash
# The floors that jalm's figures are divided by, measured in the same run (bench/run.sh and bench/engine.sh
# call this first):
#   floor-lat.txt    C ping-pong over a socketpair, 1 frame in flight (bench/pingpong.c, a copy of ../shared/bench/pingpong.c, `lat`)
#   floor-pipe.txt   the same with 64 frames in flight (`pipe`)
#   floor-fsync.txt  512-byte write + fdatasync (bench/fsync-floor.c) under DATA_ROOT, where jalm-bench puts
#                    its data folders: the cost of one durable journal commit on that disk
# Each ping-pong file gets a second line with the CPU both processes used per round trip (getrusage of the
# reaped children, warm-up round trips included), the floor for the daemon's CPU per dispatch.
# Usage: bench/floors.sh OUT DATA_ROOT. FLOOR_SRC (bench/pingpong.c), FLOOR_LAT_N (100000),
# FLOOR_PIPE_N (200000), FLOOR_FSYNC_N (2000) change what runs; the test suite shortens them.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: bench/floors.sh OUT DATA_ROOT}
DATA_ROOT=${2:?usage: bench/floors.sh OUT DATA_ROOT}
FLOOR_SRC=${FLOOR_SRC:-bench/pingpong.c}
LAT_N=${FLOOR_LAT_N:-100000}
PIPE_N=${FLOOR_PIPE_N:-200000}
FSYNC_N=${FLOOR_FSYNC_N:-2000}
WARMUP=1000  # pingpong.c's own warm-up round trips, inside the CPU figure
mkdir -p "$OUT"
cc -O2 -o "$OUT/pingpong" "$FLOOR_SRC"
cc -O2 -o "$OUT/fsync-floor" bench/fsync-floor.c

# cpu_per_msg N CMD...: runs CMD (its output passes through), then prints the user+system CPU of CMD and
# everything it reaped, per message.
cpu_per_msg() {
    local n=$1; shift
    python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[2:], check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"cpu_us_per_msg={(r.ru_utime + r.ru_stime) * 1e6 / int(sys.argv[1]):.2f} (both processes, getrusage)")' "$n" "$@"
}
echo "== floor: C ping-pong over a socketpair, 200-byte frames"
cpu_per_msg $((LAT_N + WARMUP)) "$OUT/pingpong" lat "$LAT_N" | tee "$OUT/floor-lat.txt"
cpu_per_msg $((PIPE_N + WARMUP)) "$OUT/pingpong" pipe "$PIPE_N" 64 | tee "$OUT/floor-pipe.txt"
echo "== floor: 512-byte write + fdatasync in $DATA_ROOT ($(stat -f -c %T "$DATA_ROOT"))"
"$OUT/fsync-floor" "$DATA_ROOT" "$FSYNC_N" | tee "$OUT/floor-fsync.txt"
