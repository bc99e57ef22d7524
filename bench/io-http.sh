#!/usr/bin/env bash
# io-http benchmark: GETs/s and latency p50/p99 of a 1 KiB JSON file through the whole runner (jalm-bench
# iohttp: capsule -> kernel -> confined io-http -> server), next to the same GET without the runner, in the
# same run and against the same server: wrk (keep-alive, the server's own ceiling here), one curl process
# fetching the URL over and over (keep-alive, no process start), and curl started once per request in a
# loop (what a cron script does). The server is nginx (Debian), one worker, on a free loopback port.
# Usage: bench/io-http.sh BIN_DIR (release binaries; bench/run.sh passes it). IOHTTP_BENCH_SECS (5) is the
# length of each timed phase, IOHTTP_BENCH_CURL_N (300) the number of curl starts, BENCH_OUT (bench/out)
# where the figures go; the test suite runs it briefly on debug binaries so that it cannot rot.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:?usage: bench/io-http.sh BIN_DIR}
SECS=${IOHTTP_BENCH_SECS:-5}
CURL_N=${IOHTTP_BENCH_CURL_N:-300}
DIR=$(mktemp -d /tmp/jalm-bench-iohttp-XXXXXX)
chmod 755 "$DIR"  # nginx's worker runs as nobody when we are root and must read $DIR/www
NGINX_PID=
cleanup() { [ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT
OUT=${BENCH_OUT:-bench/out}
mkdir -p "$OUT" "$DIR/www" "$DIR/logs"

# A 1 KiB JSON document: io-http decodes it (content type application/json), as a capsule would use an API.
python3 -c '
import json, sys
items = [{"id": i, "name": f"item-{i}", "price": i * 1.25} for i in range(64)]
while len(json.dumps({"ok": True, "items": items})) > 1024: items.pop()
sys.stdout.write(json.dumps({"ok": True, "items": items}))' >"$DIR/www/item.json"
BYTES=$(stat -c %s "$DIR/www/item.json")
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
USER_LINE=; [ "$(id -u)" = 0 ] && USER_LINE="user nobody nogroup;"
cat >"$DIR/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes 1;
$USER_LINE
pid $DIR/nginx.pid;
error_log $DIR/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    types { application/json json; }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$PORT;
        root $DIR/www;
    }
}
CONF
nginx -p "$DIR" -c "$DIR/nginx.conf" &
NGINX_PID=$!
URL="http://127.0.0.1:$PORT/item.json"
for _ in $(seq 100); do curl -fso /dev/null "$URL" && break; sleep 0.05; done
curl -fso /dev/null "$URL" || { echo "nginx did not start:"; cat "$DIR/logs/error.log"; exit 1; }
echo "== server: nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), 1 worker, $URL ($BYTES bytes, application/json)"

echo "== floor: wrk, keep-alive, ${SECS}s each"
wrk_run() {  # wrk_run CONNECTIONS THREADS
    local out
    out=$(wrk -t"$2" -c"$1" -d"${SECS}s" --latency "$URL")
    echo "$out" | sed 's/^/    /' >&2
    python3 - "$1" <<PY "$out"
import re, sys
c, out = sys.argv[1], sys.argv[2]
def us(v, unit): return float(v) * {"us": 1, "ms": 1e3, "s": 1e6}[unit]
rate = re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1)
print(f"RESULT floor_wrk_c{c}_per_s {float(rate):.0f}")
for p in ("50", "99"):
    m = re.search(rf"^\s+{p}(?:\.000)?%\s+([0-9.]+)(us|ms|s)\s*$", out, re.M)
    print(f"RESULT floor_wrk_c{c}_p{p}_us {us(*m.groups()):.1f}")
PY
}
{ wrk_run 1 1; wrk_run 16 2; } | tee "$OUT/iohttp-floor.txt"

echo "== floor: curl, one process fetching the URL $((CURL_N * 10)) times (keep-alive)"
for _ in $(seq $((CURL_N * 10))); do printf 'url = "%s"\noutput = "/dev/null"\n' "$URL"; done >"$DIR/curl.cfg"
python3 - "$DIR/curl.cfg" <<'PY' | tee -a "$OUT/iohttp-floor.txt"
import subprocess, sys, time
t0 = time.monotonic()
out = subprocess.run(["curl", "-s", "-K", sys.argv[1], "-w", "%{http_code} %{time_total}\n"],
                     check=True, capture_output=True, text=True).stdout.split("\n")
wall = time.monotonic() - t0
rows = [line.split() for line in out if line]
assert all(code == "200" for code, _ in rows), "curl: a request did not answer 200"
lat = sorted(float(t) * 1e6 for _, t in rows)
print(f"RESULT floor_curl_keepalive_per_s {len(lat) / wall:.0f}")
print(f"RESULT floor_curl_keepalive_p50_us {lat[len(lat) // 2]:.1f}")
print(f"RESULT floor_curl_keepalive_p99_us {lat[int(len(lat) * 0.99)]:.1f}")
PY

echo "== floor: curl started once per request, $CURL_N times in a loop"
python3 - "$URL" "$CURL_N" <<'PY' | tee -a "$OUT/iohttp-floor.txt"
import subprocess, sys, time
url, n = sys.argv[1], int(sys.argv[2])
lat = []
t0 = time.monotonic()
for _ in range(n):
    t = time.monotonic()
    subprocess.run(["curl", "-fso", "/dev/null", url], check=True)
    lat.append((time.monotonic() - t) * 1e6)
wall = time.monotonic() - t0
lat.sort()
print(f"RESULT floor_curl_loop_per_s {n / wall:.0f}")
print(f"RESULT floor_curl_loop_p50_us {lat[n // 2]:.1f}")
print(f"RESULT floor_curl_loop_p99_us {lat[int(n * 0.99)]:.1f}")
PY

echo "== jalm: 1-step io-http.get capsules through jalmd (API, journal, confined plugin), ${SECS}s each"
JALM_SHARE=$PWD JALM_BENCH_HTTP_URL="$URL" JALM_BENCH_SECONDS=$SECS "$BIN/jalm-bench" iohttp | tee "$OUT/iohttp.txt"

python3 - "$OUT" <<'PY'
import re, sys, pathlib
out = pathlib.Path(sys.argv[1])
r = {k: float(v) for k, v in re.findall(r"RESULT (\S+) (\S+)",
     out.joinpath("iohttp-floor.txt").read_text() + out.joinpath("iohttp.txt").read_text())}
print("== io-http ratios (same run, same nginx)")
for c in (1, 16):
    j = f"iohttp_c{c}"
    if f"{j}_per_s" not in r: continue
    print(f"runner, {c} client(s): {r[j+'_per_s']:.0f} GETs/s, p50 {r[j+'_p50_us']:.0f} us, p99 {r[j+'_p99_us']:.0f} us")
    w = f"floor_wrk_c{c}"
    if f"{w}_per_s" in r:
        print(f"  vs wrk -c{c}: {r[w+'_per_s']:.0f}/s, p50 {r[w+'_p50_us']:.0f} us: rate {r[j+'_per_s']/r[w+'_per_s']:.3f} of wrk, "
              f"p50 {r[j+'_p50_us']/r[w+'_p50_us']:.1f}x")
    if c == 1:
        for name, what in (("floor_curl_keepalive", "one curl process, keep-alive"), ("floor_curl_loop", "curl per request in a loop")):
            if f"{name}_per_s" in r:
                print(f"  vs {what}: {r[name+'_per_s']:.0f}/s, p50 {r[name+'_p50_us']:.0f} us: rate {r[j+'_per_s']/r[name+'_per_s']:.2f}x, "
                      f"p50 {r[j+'_p50_us']/r[name+'_p50_us']:.2f}x")
    n = f"iohttp_inprocess_c{c}"
    if f"{n}_per_s" in r:
        lo, hi = r[f"iohttp_echo_small_c{c}_p50_us"], r[f"iohttp_echo_c{c}_p50_us"]
        print(f"  where it goes: JALMNet alone in process {r[n+'_per_s']:.0f}/s, p50 {r[n+'_p50_us']:.0f} us; "
              f"the runner's own share (sys.echo of the GET's input / of its output): p50 {lo:.0f} / {hi:.0f} us, "
              f"{lo/r[j+'_p50_us']:.0%} to {hi/r[j+'_p50_us']:.0%} of the GET's p50")
PY
