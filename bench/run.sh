#!/usr/bin/env bash
# Benchmarks with their floor in the same run: builds release binaries and ../shared/bench/pingpong.c,
# runs the C socketpair ping-pong, then jalm-bench (dispatch, end to end, io-file small files beside
# bench/iofile-direct.c doing the same file ops in C), and prints ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
OUT=bench/out
mkdir -p "$OUT"
swift build -c release --product jalm-bench >/dev/null
swift build -c release >/dev/null
BIN=$(swift build -c release --show-bin-path)
FLOOR_SRC=${FLOOR_SRC:-../shared/bench/pingpong.c}
cc -O2 -o "$OUT/pingpong" "$FLOOR_SRC"
echo "== floor: C ping-pong over a socketpair, 200-byte frames"
"$OUT/pingpong" lat 100000 | tee "$OUT/floor-lat.txt"
"$OUT/pingpong" pipe 200000 64 | tee "$OUT/floor-pipe.txt"
MODE=${1:-all}
if [ "$MODE" = all ] || [ "$MODE" = iofile ]; then
    echo "== direct: the same 1 KiB file operations as io-file, in C (bench/iofile-direct.c), 16 threads"
    cc -O2 -pthread -o "$OUT/iofile-direct" bench/iofile-direct.c
    DIRECT_DIR=$(mktemp -d /tmp/jalm-iofile-direct-XXXXXX)
    "$OUT/iofile-direct" "$DIRECT_DIR" 16 5 | tee "$OUT/iofile-direct.txt"
    rm -rf "$DIRECT_DIR"
fi
echo "== jalm"
if [ "$MODE" != iodb ] && [ "$MODE" != iohttp ]; then JALM_SHARE=$PWD "$BIN/jalm-bench" "$MODE" | tee "$OUT/jalm.txt"; else : >"$OUT/jalm.txt"; fi
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
# io-db against SQLite and a PostgreSQL it starts, next to the sqlite3 CLI and pgbench (bench/io-db.sh).
if [ "${1:-all}" = all ] || [ "${1:-all}" = iodb ]; then bench/io-db.sh "$BIN"; fi
# io-http against an nginx it starts, next to wrk and curl (bench/io-http.sh).
if [ "${1:-all}" = all ] || [ "${1:-all}" = iohttp ]; then bench/io-http.sh "$BIN"; fi
