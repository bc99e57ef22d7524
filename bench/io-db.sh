#!/usr/bin/env bash
# io-db benchmark: single-row inserts/s and point selects/s through the runner (jalm-bench iodb), next to
# the same statements without the runner, in the same run: the sqlite3 CLI on a WAL database with the
# same pragmas (one process, one statement per transaction), and pgbench (custom scripts, -M extended:
# parse/bind/execute per statement, as io-db's PQsendQueryParams does) on a PostgreSQL this script starts on a free
# loopback port. Usage: bench/io-db.sh BIN_DIR (release binaries; bench/run.sh passes it).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:?usage: bench/io-db.sh BIN_DIR}
N=${IODB_BENCH_N:-20000}
SECS=5
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
DIR=$(mktemp -d /tmp/jalm-bench-iodb-XXXXXX)
chmod 755 "$DIR"  # postgres runs as nobody when we are root and must reach $DIR/pg
PGPID=
cleanup() { [ -n "$PGPID" ] && kill -INT "$PGPID" 2>/dev/null && wait "$PGPID" 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT
OUT=bench/out
mkdir -p "$OUT"

echo "== floor: sqlite3 CLI, $N statements, each its own transaction (WAL, synchronous=NORMAL)"
DB=$DIR/floor.sqlite
sqlite3 "$DB" "PRAGMA journal_mode=WAL; CREATE TABLE bench (id INTEGER PRIMARY KEY, v TEXT NOT NULL);" >/dev/null
{ echo "PRAGMA synchronous=NORMAL;"; for _ in $(seq "$N"); do echo "INSERT INTO bench (v) VALUES ('hello');"; done; } >"$DIR/ins.sql"
{ for _ in $(seq "$N"); do echo "SELECT v FROM bench WHERE id = 1;"; done; } >"$DIR/sel.sql"
floor() {  # floor NAME FILE: statements/s of the sqlite3 CLI over FILE
    local t0 t1
    t0=$(date +%s.%N); sqlite3 "$DB" <"$2" >/dev/null; t1=$(date +%s.%N)
    python3 -c "print(f'RESULT floor_sqlite_$1_per_s {$N/($t1-$t0):.0f}')"
}
{ floor insert "$DIR/ins.sql"; floor select "$DIR/sel.sql"; } | tee "$OUT/iodb-floor.txt"

echo "== floor: pgbench on PostgreSQL (loopback TCP), same statements, ${SECS}s each"
mkdir -p "$DIR/pg"; echo benchpw >"$DIR/pg/pw"
AS=(); [ "$(id -u)" = 0 ] && { chown -R nobody:nogroup "$DIR/pg"; AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups --); }
"${AS[@]}" "$PGBIN/initdb" -D "$DIR/pg/data" -U jalm --auth=scram-sha-256 --pwfile="$DIR/pg/pw" -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${AS[@]}" "$PGBIN/postgres" -D "$DIR/pg/data" -p "$PORT" -k "$DIR/pg" -c listen_addresses=127.0.0.1 \
    -c max_connections=60 -c shared_buffers=64MB >"$DIR/pg.log" 2>&1 &
PGPID=$!
export PGPASSWORD=benchpw
for _ in $(seq 100); do "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break; sleep 0.1; done
PSQL=("$PGBIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U jalm -d postgres)
"${PSQL[@]}" -c "CREATE TABLE pgb (id serial PRIMARY KEY, v text NOT NULL); INSERT INTO pgb (v) VALUES ('hello');"
echo "INSERT INTO pgb (v) VALUES ('hello');" >"$DIR/pgins.sql"
echo "SELECT v FROM pgb WHERE id = 1;" >"$DIR/pgsel.sql"
pgb() {  # pgb NAME SCRIPT CLIENTS
    local tps
    tps=$("$PGBIN/pgbench" -n -M extended -h 127.0.0.1 -p "$PORT" -U jalm -f "$2" -c "$3" -j "$3" -T "$SECS" postgres 2>/dev/null \
        | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
    echo "RESULT floor_pg_$1_c$3_per_s ${tps%.*}"
}
{ for c in 1 16; do pgb insert "$DIR/pgins.sql" $c; pgb select "$DIR/pgsel.sql" $c; done; } | tee -a "$OUT/iodb-floor.txt"

echo "== jalm: 1-step io-db capsules through jalmd (API, journal, confined plugin), ${SECS}s each"
JALM_SHARE=$PWD JALM_BENCH_PG_DSN="postgresql://jalm:benchpw@127.0.0.1:$PORT/postgres" "$BIN/jalm-bench" iodb | tee "$OUT/iodb.txt"

python3 - "$OUT" <<'PY'
import re, sys, pathlib
out = pathlib.Path(sys.argv[1])
r = dict(re.findall(r"RESULT (\S+) (\S+)", out.joinpath("iodb-floor.txt").read_text() + out.joinpath("iodb.txt").read_text()))
print("== io-db ratios (same run; runner / direct)")
for engine in ("sqlite", "pg"):
    for op in ("insert", "select"):
        for c in (1, 16):
            j = r.get(f"iodb_{engine}_{op}_c{c}_per_s")
            f = r.get(f"floor_{engine}_{op}_per_s") if engine == "sqlite" else r.get(f"floor_pg_{op}_c{c}_per_s")
            if j and f:
                what = "sqlite3 CLI, 1 process" if engine == "sqlite" else f"pgbench -c {c}"
                print(f"{engine} {op} {c} client(s): {j}/s through jalm vs {f}/s {what}: {float(j)/float(f):.3f}")
PY
