#!/usr/bin/env bash
# One command from a fresh checkout: install what is missing, build, start jalmd on its embedded
# default (SQLite in ./.jalm), run the demo capsule and print its result. jalmd keeps running.
#   scripts/demo.sh          build, start, run the demo
#   scripts/demo.sh --stop   stop the jalmd this script started
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=.jalm
PIDFILE=$DATA/jalmd.pid
if [ "${1:-}" = "--stop" ]; then
    [ -f "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null && echo "jalmd stopped" || echo "no jalmd running from $PIDFILE"
    rm -f "$PIDFILE"
    exit 0
fi
scripts/deps.sh
echo "==> building (first build takes a few minutes)"
swift build 2>&1 | grep -E "error|warning: unre|Compiling|Build complete" | grep -v "^\[" || true
BIN=$(swift build --show-bin-path)
test -x "$BIN/jalmd" || { echo "build failed"; exit 1; }
mkdir -p "$DATA"
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    echo "==> jalmd already running (pid $(cat "$PIDFILE"))"
else
    start() {
        echo "==> starting jalmd (data: $DATA, socket: $DATA/jalmd.sock, HTTP: 127.0.0.1:8888, log: $DATA/jalmd.log)"
        nohup "$BIN/jalmd" --data "$DATA" "$@" >"$DATA/jalmd.log" 2>&1 &
        echo $! >"$PIDFILE"
        for _ in $(seq 1 200); do
            "$BIN/jalm" --socket "$DATA/jalmd.sock" health >/dev/null 2>&1 && return 0
            kill -0 "$(cat "$PIDFILE")" 2>/dev/null || return 1
            sleep 0.1
        done
    }
    if ! start; then
        if grep -q "no usable cgroup controllers" "$DATA/jalmd.log"; then
            # Without root or a delegated cgroup (systemd Delegate=yes) no memory/pids/cpu limit can be set;
            # the demo runs with the rest of the sandbox and says so. docs/security.md has the details.
            echo "==> this machine gives jalmd no cgroup controllers: running the demo with 'sandbox: degraded'"
            echo "sandbox: degraded" >"$DATA/demo-degraded.yml"
            start --config "$DATA/demo-degraded.yml" || { echo "jalmd exited:"; cat "$DATA/jalmd.log"; exit 1; }
        else
            echo "jalmd exited:"; cat "$DATA/jalmd.log"; exit 1
        fi
    fi
fi
"$BIN/jalm" --socket "$DATA/jalmd.sock" layers
echo "==> running examples/demo.yml"
"$BIN/jalm" --socket "$DATA/jalmd.sock" run examples/demo.yml --wait
echo
echo "jalmd is running (pid $(cat "$PIDFILE")). Try: $BIN/jalm --socket $DATA/jalmd.sock ls"
echo "Stop it with: scripts/demo.sh --stop"
