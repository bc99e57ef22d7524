#!/usr/bin/env bash
# What a layer's plugin really asks of the kernel: runs jalmd under strace, drives the layer through
# its ops, drains, and prints the sorted unique syscall names of that layer's plugin process only.
#   scripts/strace-layer.sh LAYER            build (debug), trace, print the syscall names
#   scripts/strace-layer.sh --all            the same for the six layers, one "LAYER: a b c" line each
#   JALM_NO_BUILD=1 scripts/strace-layer.sh LAYER   reuse .build/debug as it is
#   scripts/strace-layer.sh --check LAYER    trace, then compare with sandbox/LAYER.yml expanded through
#                                            sandbox/groups.yml: "missing" (used, not allowed: the policy
#                                            would kill the layer) and "unused" (allowed, not seen)
#   KEEP=1 ...                               keep the temp folder (per-pid traces in DIR/trace.PID)
# The plugin today execs without the launcher, so the trace includes the dynamic loader and the Swift
# runtime's start-up: that is what the policy in sandbox/LAYER.yml must allow (sandbox/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
LAYERS="io-http io-db io-file compute-script render-html notify-mq"

if [ "${1:-}" = "--all" ]; then
    for l in $LAYERS; do echo "$l: $(JALM_NO_BUILD=1 "$0" "$l" | tr '\n' ' ')"; done
    exit 0
fi
if [ "${1:-}" = "--check" ]; then
    LAYER=${2:?usage: scripts/strace-layer.sh --check LAYER}
    used=$("$0" "$LAYER" | tr '\n' ' ')
    exec python3 - "$LAYER" "$used" <<'PY'
import sys, yaml
layer, used = sys.argv[1], set(sys.argv[2].split())
policy = yaml.safe_load(open(f"sandbox/{layer}.yml"))
groups = yaml.safe_load(open("sandbox/groups.yml"))
groups = groups.get("groups", groups)
def members(g):  # a group is a list of names, or a mapping with a `syscalls` list
    v = groups[g]
    return set(v["syscalls"] if isinstance(v, dict) else v)
sc = policy["syscalls"]
allowed = set(sc.get("extra") or []) | set((sc.get("errno") or {}).keys()) | {"execve", "execveat"}
for g in sc.get("groups") or []:
    allowed |= members(g)
print(f"{layer}: {len(allowed)} allowed, {len(used)} used")
print("missing:", " ".join(sorted(used - allowed)) or "-")
print("unused: ", " ".join(sorted(allowed - used)) or "-")
sys.exit(1 if used - allowed else 0)
PY
fi
LAYER=${1:?usage: scripts/strace-layer.sh LAYER|--all|--check LAYER}
case " $LAYERS " in *" $LAYER "*) ;; *) echo "unknown layer $LAYER (one of: $LAYERS)" >&2; exit 64 ;; esac
command -v strace >/dev/null || { echo "strace is not installed (apt-get install strace)" >&2; exit 69; }

if [ -z "${JALM_NO_BUILD:-}" ]; then
    swift build >&2
fi
BIN=$(pwd)/.build/debug
DIR=$(mktemp -d /tmp/jalm-strace-XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$DIR"' EXIT
SOCK=$DIR/data/jalmd.sock
mkdir -p "$DIR/data"
# Unconfined (no launcher): the trace shows what the plugin itself needs, which is what the policy allows.
echo "sandbox: off" >"$DIR/trace.yml"
# io-db: with JALM_TRACE_PG_DSN set (a PostgreSQL on loopback), its database "pg" is traced too.
if [ "$LAYER" = io-db ] && [ -n "${JALM_TRACE_PG_DSN:-}" ]; then
    echo "layers: {io-db: {databases: {pg: {engine: postgres, dsn: \"$JALM_TRACE_PG_DSN\"}}}}" >>"$DIR/trace.yml"
fi
if [ "$LAYER" = notify-mq ]; then
    . scripts/strace-notify-mq.sh
    notify_mq_setup "$DIR"
    trap 'notify_mq_stop; [ -n "${KEEP:-}" ] || rm -rf "$DIR"' EXIT
fi
if [ "$LAYER" = io-http ]; then
    # Real requests against the loopback test server (HTTP, HTTPS with its own CA, ::1 when present),
    # which 127.0.0.1 is opened for; names come from /etc/hosts only, so no packet leaves the machine.
    mkdir -p "$DIR/http"
    python3 scripts/http-test-server.py "$DIR/http" >"$DIR/http/ports.json" 2>"$DIR/http/log" &
    HTTP_SERVER_PID=$!
    trap 'kill $HTTP_SERVER_PID 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$DIR"' EXIT
    for _ in $(seq 1 100); do [ -s "$DIR/http/ports.json" ] && break; sleep 0.1; done
    HTTP_PORT=$(jq -r .http "$DIR/http/ports.json")
    HTTPS_PORT=$(jq -r .https "$DIR/http/ports.json")
    python3 -c 'import json,sys; print("layers: " + json.dumps({"io-http": {"allow": ["127.0.0.1/32"],
        "ca_bundles": {"127.0.0.1": open(sys.argv[1]).read()}}}))' "$DIR/http/ca.pem" >>"$DIR/trace.yml"
fi

# -ff -o gives one file per pid: trace.PID. -qq hides attach/exit noise; -e trace=all is the default
# made explicit (every syscall, not a class of them).
# compute-script makes one cgroup per run beneath its process's own leaf, which a sandbox-off jalmd does
# not make: the traced jalmd starts in a cgroup of its own (v1 memory, pids, cpu; removed at exit).
CGDIRS=""
if [ "$LAYER" = compute-script ]; then
    for c in memory pids cpu; do
        own=$(awk -F: -v c="$c" '$2 ~ "(^|,)" c "(,|$)" {print $3}' /proc/self/cgroup)
        [ -n "$own" ] && CGDIRS="$CGDIRS /sys/fs/cgroup/$c${own%/}/jalm-strace-$$"
    done
    for d in $CGDIRS; do mkdir -p "$d"; done
    cleanup_cgroups() {  # what is still in them was started by this script's jalmd: kill it by pid, then rmdir
        for _ in $(seq 1 50); do
            left=0
            for d in $CGDIRS; do
                for p in $(cat "$d"/cgroup.procs "$d"/*/cgroup.procs 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; left=1; done
                rmdir "$d"/*/ "$d" 2>/dev/null || left=1
            done
            [ $left = 0 ] && break
            sleep 0.1
        done
        [ -n "${KEEP:-}" ] || rm -rf "$DIR"
    }
    trap cleanup_cgroups EXIT
fi
(
    for d in $CGDIRS; do echo "$BASHPID" >"$d/cgroup.procs"; done
    exec strace -f -ff -qq -e trace=all -o "$DIR/trace" "$BIN/jalmd" --config "$DIR/trace.yml" --data "$DIR/data" \
        --listen none
) >"$DIR/jalmd.log" 2>&1 &
STRACE_PID=$!

api() { curl -sS --unix-socket "$SOCK" -H 'content-type: application/json' "$@"; }
for _ in $(seq 1 300); do
    api http://x/health >/dev/null 2>&1 && break
    kill -0 "$STRACE_PID" 2>/dev/null || { cat "$DIR/jalmd.log" >&2; exit 1; }
    sleep 0.1
done
PLUGIN_PID=$(api "http://x/layers/$LAYER" | jq -r '.processes[0].pid')
[ "$PLUGIN_PID" != "null" ] || { echo "no process for $LAYER: $(api "http://x/layers/$LAYER")" >&2; exit 1; }

run() {  # run STEPS_JSON: one capsule of the given steps, waited for; prints its state on stderr
    local out
    out=$(api -X POST "http://x/exec?wait=30" -d "{\"intent\": \"strace $LAYER\", \"steps\": $1}")
    echo "  $(echo "$out" | jq -c '{state, error: .error.code}')" >&2
}
step() { echo "{\"id\": \"$1\", \"layer\": \"$LAYER\", \"op\": \"$2\", \"input\": $3 ${4:+, $4}}"; }

echo "tracing $LAYER (pid $PLUGIN_PID) in $DIR" >&2
run "[$(step e sys.echo '{"hello": "strace"}'), $(step s sys.sleep '{"ms": 20}')]"
# A sleep cut short by its timeout: the kernel sends cancel, the plugin stops the timer.
run "[$(step c sys.sleep '{"ms": 5000}' '"timeout": "100ms"')]"
if [ "$LAYER" = io-file ]; then
    run "[$(step w write '{"path": "t/a.txt", "content": "hello", "create_dirs": true}'),
          $(step r read '{"path": "t/a.txt"}'),
          $(step a append '{"path": "t/a.txt", "content": " world"}'),
          $(step l list '{"path": "t"}'),
          $(step st stat '{"path": "t/a.txt"}'),
          $(step m mkdir '{"path": "t/sub/deep"}'),
          $(step mv move '{"from": "t/a.txt", "to": "t/sub/b.txt"}'),
          $(step d delete '{"path": "t", "recursive": true}')]"
    run "[$(step w2 write '{"path": "u/a.csv", "content": "h\n1\n", "create_dirs": true, "sha256": true}'),
          $(step cp copy '{"from": "u/a.csv", "to": "u/b.csv", "sha256": true}'),
          $(step ck checksum '{"path": "u/b.csv"}'),
          $(step cr csv.read '{"path": "u/b.csv"}'),
          $(step cw csv.write '{"path": "u/c.csv", "rows": [["a", "b,c"]]}'),
          $(step jw write '{"path": "u/d.json", "content": "[1]"}'),
          $(step jr json.read '{"path": "u/d.json"}'),
          $(step lg list '{"path": ".", "depth": 3, "glob": "*.csv", "limit": 1}'),
          $(step d2 delete '{"path": "u", "recursive": true}')]"
fi
if [ "$LAYER" = io-db ]; then
    dbs=main; [ -n "${JALM_TRACE_PG_DSN:-}" ] && dbs="main pg"
    for db in $dbs; do
        long='WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) SELECT count(*) FROM c'
        idcol='id INTEGER PRIMARY KEY'
        [ "$db" = pg ] && { long='SELECT pg_sleep(5)'; idcol='id serial PRIMARY KEY'; }
        run "[$(step x exec "{\"database\": \"$db\", \"sql\": \"CREATE TABLE IF NOT EXISTS tr ($idcol, v TEXT)\"}"),
              $(step b batch "{\"database\": \"$db\", \"statements\": [{\"sql\": \"INSERT INTO tr (v) VALUES (\$1)\", \"params\": [\"a\"]}]}"),
              $(step q query "{\"database\": \"$db\", \"sql\": \"SELECT * FROM tr WHERE v = :v\", \"params\": {\"v\": \"a\"}}")]"
        run "[$(step l query "{\"database\": \"$db\", \"sql\": \"$long\"}" '"timeout": "300ms"')]"
    done
fi
if [ "$LAYER" = render-html ]; then
    mkdir -p "$DIR/data/templates/parts"
    printf '<h1>{{title}}</h1>\n{{#items}}\n  {{>parts/row}}\n{{/items}}\n' >"$DIR/data/templates/page.mustache"
    printf '<li>{{name}}</li>\n' >"$DIR/data/templates/parts/row.mustache"
    printf 'x{{>loop}}' >"$DIR/data/templates/loop.mustache"
    run "[$(step f render '{"template_file": "page.mustache", "data": {"title": "<T>", "items": [{"name": "a"}]}}'),
          $(step i render '{"template": "<%#xs%><%.%><%/xs%>", "delimiters": "<% %>", "data": {"xs": [1, 2]}}'),
          $(step m markdown '{"markdown": "# T\n\n<b>x</b> [l](javascript:alert(1))"}')]"
    run "[$(step l render '{"template_file": "loop.mustache"}')]"
    run "[$(step s render '{"template": "<%nope%>", "delimiters": "<% %>", "strict": true}')]"
    run "[$(step o render '{"template_file": "../trace.yml"}')]"
fi

if [ "$LAYER" = notify-mq ]; then notify_mq_run; fi

if [ "$LAYER" = compute-script ]; then
    # Real runs: python3 (plain, main(input), a file in its temp folder), sh, node when present, and
    # runs that meet each limit or try what the sandbox denies (sockets, a fork bomb, a leftover child).
    py() { step "$1" run "{\"language\": \"python3\", \"code\": $(jq -Rs . <<<"$2") ${3:+, $3}}"; }
    # One capsule per step: a step that fails (the limit runs) ends its capsule.
    steps=(
        "$(py p1 'import json,sys; print(json.dumps({"n": json.load(sys.stdin)}))')"
        "$(py p2 'def main(i):
    import os, time
    open("f.txt", "w").write("x"); os.listdir("."); os.mkdir("d"); os.remove("f.txt")
    return {"now": time.time() > 0, "cpus": os.cpu_count()}')"
        "$(step s1 run '{"language": "sh", "code": "cat; echo; ls >/dev/null; date >/dev/null; echo {}"}')"
        "$(step n1 run '{"language": "node", "code": "process.stdin.resume(); process.stdin.on(\"end\", () => console.log(\"{}\"))"}')"
        "$(py l1 'import socket; socket.socket()')"
        "$(py l2 'import socket; socket.socket(socket.AF_UNIX)')"
        "$(py l3 'x = b"a" * (200 << 20)' '"limits": {"memory_mb": 64}')"
        "$(py l4 'import os, time
for i in range(40): os.fork() or time.sleep(2)' '"limits": {"pids": 8}')"
        "$(py l5 'while True: pass' '"limits": {"cpu_seconds": 1}')"
        "$(py l6 'import time; time.sleep(5)' '"limits": {"wall_ms": 200}')"
        "$(py l7 'print("x" * 100000)' '"limits": {"stdout_bytes": 1000}')"
        "$(py l8 'import os, time
if os.fork() == 0: time.sleep(60)
print(1)')"
    )
    for s in "${steps[@]}"; do run "[$s]"; done
fi

if [ "$LAYER" = compute-script ]; then  # expr and wasm (the wrap module of compute-script.wasm.yml)
    WRAP=$(grep -m1 -Eo 'AGFzbQ[A-Za-z0-9+/=]{200,}' kernel/step_cards/compute-script.wasm.yml)
    mkdir -p "$DIR/data/wasm" && echo "$WRAP" | base64 -d >"$DIR/data/wasm/wrap.wasm"
    run "[$(step x expr '{"expr": "sum(map($.a, x => x * 2))", "data": {"a": [1, 2]}}'),
          $(step w wasm "{\"module_base64\": \"$WRAP\", \"input\": {\"a\": 1}}"),
          $(step p wasm '{"path": "wrap.wasm", "input": [1]}'),
          $(step f wasm "{\"module_base64\": \"$WRAP\", \"fuel\": 5}")]"
fi

if [ "$LAYER" = io-http ]; then
    H=http://127.0.0.1:$HTTP_PORT
    run "[$(step j request "{\"url\": \"$H/json\"}"),
          $(step p request "{\"method\": \"POST\", \"url\": \"$H/echo\", \"json\": {\"a\": 1}}"),
          $(step g get "{\"url\": \"$H/gzip\"}"),
          $(step c get "{\"url\": \"$H/chunked\"}"),
          $(step r get "{\"url\": \"$H/redirect?to=/binary\"}"),
          $(step t get "{\"url\": \"https://127.0.0.1:$HTTPS_PORT/text\"}"),
          $(step l llm.chat "{\"base_url\": \"$H/v1\", \"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"api_key\": \"test-llm-key\"}")]"
    # Failures: TLS without a CA, names from /etc/hosts refused by the guard, a body cut, a timeout.
    run "[$(step n get "{\"url\": \"https://localhost:$HTTPS_PORT/text\"}")]"
    run "[$(step h get "{\"url\": \"http://localhost:$HTTP_PORT/headers\"}")]"
    run "[$(step m get "{\"url\": \"http://169.254.169.254/\"}")]"
    run "[$(step b get "{\"url\": \"$H/huge?bytes=100000\", \"max_response_bytes\": 1000}")]"
    run "[$(step s get "{\"url\": \"$H/slow?ms=2000\", \"timeout_ms\": 200}")]"
fi

# SIGTERM: jalmd drains (the plugin gets `drain` and exits 0), then strace exits with it.
kill -TERM "$(pgrep -P "$STRACE_PID" -x jalmd || echo "$STRACE_PID")" 2>/dev/null || true
wait "$STRACE_PID" || true

# The plugin's own pid plus every thread it started (clone/clone3 results in its trace, recursively).
pids=("$PLUGIN_PID"); seen=" $PLUGIN_PID "; i=0
while [ $i -lt ${#pids[@]} ]; do
    f="$DIR/trace.${pids[$i]}"
    if [ -f "$f" ]; then
        for child in $(grep -Eo '^(clone3?|fork|vfork)\(.*= [0-9]+' "$f" | grep -Eo '[0-9]+$' || true); do
            case "$seen" in *" $child "*) ;; *) pids+=("$child"); seen="$seen$child " ;; esac
        done
    fi
    i=$((i + 1))
done
# In the plugin's own pid, what runs before its successful execve is jalmd's spawn code (setsid, dup2,
# close_range): under jalm-launch the filter is loaded just before that execve, so count from it on.
for p in "${pids[@]}"; do
    f="$DIR/trace.$p"
    [ -f "$f" ] || continue
    if [ "$p" = "$PLUGIN_PID" ]; then sed -n '/^execve(.* = 0$/,$p' "$f"; else cat "$f"; fi
done | grep -Eo '^[a-z_0-9]+\(' | tr -d '(' | sort -u
