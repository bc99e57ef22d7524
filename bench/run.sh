#!/usr/bin/env bash
# Benchmarks with their floor in the same run: builds release binaries, runs the floors (bench/floors.sh:
# the C socketpair ping-pong of bench/pingpong.c (a copy of ../shared/bench/pingpong.c), and a write + fdatasync on the data folders'
# disk), then jalm-bench (dispatch, end to end, io-file small files beside bench/iofile-direct.c doing the
# same file ops in C), and prints ratios. `bench/run.sh engine` is bench/engine.sh: the engine figures as one
# table. BASELINE=/path/to/checkout also runs the end-to-end figures against that checkout's release jalmd
# and layers (built there if missing) and prints both columns.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
OUT=bench/out
mkdir -p "$OUT"
swift build -c release --product jalm-bench >/dev/null
swift build -c release >/dev/null
BIN=$(swift build -c release --show-bin-path)
MODE=${1:-all}
if [ "$MODE" = engine ]; then exec bench/engine.sh "$BIN"; fi
# The data folders of jalm-bench and the fdatasync floor go on the same filesystem.
export JALM_BENCH_DATA=${JALM_BENCH_DATA:-${TMPDIR:-/tmp}}
bench/floors.sh "$OUT" "$JALM_BENCH_DATA"
if [ "$MODE" = all ] || [ "$MODE" = iofile ]; then
    echo "== direct: the same 1 KiB file operations as io-file, in C (bench/iofile-direct.c), 16 threads"
    cc -O2 -pthread -o "$OUT/iofile-direct" bench/iofile-direct.c
    DIRECT_DIR=$(mktemp -d /tmp/jalm-iofile-direct-XXXXXX)
    "$OUT/iofile-direct" "$DIRECT_DIR" 16 5 | tee "$OUT/iofile-direct.txt"
    rm -rf "$DIRECT_DIR"
fi
echo "== jalm"
if [ "$MODE" != iodb ] && [ "$MODE" != iohttp ]; then JALM_SHARE=$PWD "$BIN/jalm-bench" "$MODE" | tee "$OUT/jalm.txt"; else : >"$OUT/jalm.txt"; fi
rm -f "$OUT/baseline.txt"
if [ -n "${BASELINE:-}" ] && { [ "$MODE" = all ] || [ "$MODE" = e2e ]; }; then
    BASE_BIN=$(bench/baseline-bin.sh "$BASELINE")
    echo "== jalm e2e: baseline $BASELINE ($(git -C "$BASELINE" log -1 --format='%h %s' 2>/dev/null || echo '?')), binaries $BASE_BIN"
    JALM_SHARE=$BASELINE "$BIN/jalm-bench" e2e --bin "$BASE_BIN" | tee "$OUT/baseline.txt"
fi
python3 - "$OUT" <<'PY'
import re, sys, pathlib
out = pathlib.Path(sys.argv[1])
lat = out.joinpath("floor-lat.txt").read_text()
pipe = out.joinpath("floor-pipe.txt").read_text()
jalm = dict(re.findall(r"RESULT (\S+) (\S+)", out.joinpath("jalm.txt").read_text()))
m = re.search(r"median=([0-9.]+)", lat)
floor_p50 = float(m.group(1)) if m else None
m = re.search(r"msgs/s=([0-9.]+)", pipe)
floor_rate = float(m.group(1)) if m else None
print("== ratios (same run)")
if floor_p50 and "dispatch_p50_us" in jalm:
    print(f"dispatch p50 {jalm['dispatch_p50_us']} us vs floor {floor_p50} us: {float(jalm['dispatch_p50_us'])/floor_p50:.2f}x (target <= 1.5x)")
if floor_rate and "dispatch_calls_per_s_64" in jalm:
    print(f"dispatch 64 in flight {jalm['dispatch_calls_per_s_64']} calls/s vs floor {floor_rate:.0f}/s: {float(jalm['dispatch_calls_per_s_64'])/floor_rate:.2f} of floor (target >= 100k calls/s)")
plain = jalm.get("script_plain_p50_us")
for k, name in (("script_bwrap_p50_us", "bwrap --unshare-all"), ("script_firejail_p50_us", "firejail"),
                ("script_runner_p50_us", "confined compute-script run, whole runner"),
                ("script_zygote_p50_us", "confined compute-script run, inside the zygote")):
    if plain and k in jalm:
        print(f"{name}: p50 {float(jalm[k])/1000:.2f} ms = {float(jalm[k])/float(plain):.2f}x plain python3 -c pass ({float(plain)/1000:.2f} ms; target <= 3 ms)")
if floor_p50 and "render_runner_p50_us" in jalm:
    print(f"render via runner p50 {jalm['render_runner_p50_us']} us = in-process {jalm.get('render_inprocess_p50_us')} us "
          f"+ dispatch (echo of the same bytes {jalm.get('render_echo_p50_us')} us); floor round trip {floor_p50} us")
for k in ("render_inprocess_per_s", "render_runner_per_s", "render_runner_per_s_2"):
    if k in jalm: print(f"{k}: {jalm[k]}")
for k in ("e2e_1step_per_s", "e2e_3step_per_s"):
    if k in jalm: print(f"{k}: {jalm[k]} (target 3-step >= 5000/s)")
# A 3-step capsule at 1 client cannot beat three dispatch round trips and one durable commit.
fsync = out.joinpath("floor-fsync.txt")
m = re.search(r"p50_us=([0-9.]+)", fsync.read_text()) if fsync.exists() else None
fsync_p50 = float(m.group(1)) if m else None
if floor_p50 and fsync_p50 and "e2e_3step_c1_p50_us" in jalm:
    floor3 = 3 * floor_p50 + fsync_p50
    print(f"e2e 3-step, 1 client, p50 {jalm['e2e_3step_c1_p50_us']} us vs floor 3 x ping-pong p50 + fdatasync p50 = "
          f"3 x {floor_p50} + {fsync_p50} = {floor3:.1f} us: {float(jalm['e2e_3step_c1_p50_us'])/floor3:.2f}x")
# The daemon's CPU per capsule beside the CPU both ping-pong processes spend per round trip.
cpu = {}
for name, text in (("lat", lat), ("pipe", pipe)):
    m = re.search(r"cpu_us_per_msg=([0-9.]+)", text)
    if m: cpu[name] = float(m.group(1))
for k, steps, floor in (("e2e_1step_cpu_us", 1, "pipe"), ("e2e_3step_cpu_us", 3, "pipe"), ("e2e_3step_c1_cpu_us", 3, "lat")):
    if k in jalm and floor in cpu:
        f = steps * cpu[floor]
        print(f"{k} {jalm[k]} us per capsule vs {steps} x ping-pong {floor} CPU per round trip {cpu[floor]} us = {f:.1f} us: {float(jalm[k])/f:.1f}x")
base = out.joinpath("baseline.txt")
if base.exists():
    old = dict(re.findall(r"RESULT (\S+) (\S+)", base.read_text()))
    print("== this checkout vs the baseline (same run)")
    for k in sorted(set(jalm) & set(old)):
        if k.startswith("e2e_") and float(old[k]):
            print(f"{k}: {jalm[k]} vs baseline {old[k]}: {float(jalm[k])/float(old[k]):.2f}x")
direct = out.joinpath("iofile-direct.txt")
if direct.exists():
    d = dict(re.findall(r"(\S+)/s=([0-9.]+)", direct.read_text()))
    for op in ("write", "read"):
        k = f"iofile_{op}_per_s"
        if k in jalm and op in d:
            print(f"io-file 1 KiB {op}s: {jalm[k]}/s through the runner vs {d[op]}/s direct in C: {float(jalm[k])/float(d[op]):.3f} of direct")
    if floor_p50 and "iofile_read_p50_us" in jalm:
        print(f"io-file read p50 {jalm['iofile_read_p50_us']} us vs floor round trip {floor_p50} us: {float(jalm['iofile_read_p50_us'])/floor_p50:.1f}x")
PY
if [ "$MODE" = all ] || [ "$MODE" = e2e ]; then
    BASE_TXT=(); [ -f "$OUT/baseline.txt" ] && BASE_TXT=("$OUT/baseline.txt")
    python3 bench/engine-table.py "$OUT" "$OUT/jalm.txt" "${BASE_TXT[@]}"
fi
# io-db against SQLite and a PostgreSQL it starts, next to the sqlite3 CLI and pgbench (bench/io-db.sh).
if [ "${1:-all}" = all ] || [ "${1:-all}" = iodb ]; then bench/io-db.sh "$BIN"; fi
# io-http against an nginx it starts, next to wrk and curl (bench/io-http.sh).
if [ "${1:-all}" = all ] || [ "${1:-all}" = iohttp ]; then bench/io-http.sh "$BIN"; fi
