#!/usr/bin/env bash
# jalmd under a real systemd: debootstrap a minimal Debian root once (cached), install jalmd into an
# overlay of it with scripts/install.sh --root, boot it with systemd-nspawn and check the unit's promises.
# Called by Tests/EndToEndTests/SystemdTests.swift; runs alone too (as root):
#
#   scripts/systemd-test.sh [--bin-dir DIR]      (default .build/debug; JALM_TEST_CACHE: where the root is kept)
#
# Exit 0: every check passed (some may print SKIP: with the reason); 1: a check failed; 77: cannot run here.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
BIN="${JALM_BIN_DIR:-$REPO/.build/debug}"
[ "${1:-}" = "--bin-dir" ] && BIN="$2"
CACHE="${JALM_TEST_CACHE:-$REPO/.build}"
BASE="$CACHE/nspawn-root"
# procps: /bin/kill for ExecReload=; curl: the client checks. A change of this list makes a new root.
PACKAGES=systemd,systemd-sysv,dbus,libsqlite3-0,libseccomp2,curl,procps
MIRROR="${JALM_DEBIAN_MIRROR:-}"
T0=$(date +%s.%N)
FAILED=0

say() { printf '[systemd-test %5.1fs] %s\n' "$(echo "$(date +%s.%N) - $T0" | bc)" "$*"; }
skip_all() { echo "SKIP: $*"; exit 77; }
pass() { say "PASS: $*"; }
fail() { say "FAIL: $*"; FAILED=1; }
skip() { say "SKIP: $*"; }

[ "$(id -u)" -eq 0 ] || skip_all "needs root (debootstrap, overlay mount, systemd-nspawn)"
for tool in systemd-nspawn debootstrap nsenter bc; do
    command -v "$tool" >/dev/null || skip_all "$tool is not installed (scripts/deps.d/systemd.apt)"
done
[ -x "$BIN/jalmd" ] && [ -x "$BIN/jalm-fixture-layer" ] || skip_all "no built jalmd and jalm-fixture-layer in $BIN"

# ---- the Debian root, made once -------------------------------------------------------------------
if [ -z "$MIRROR" ]; then
    # The mirror this machine's apt uses (deb822 URIs: or a one-line deb entry).
    MIRROR=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null \
        | grep -v security | head -1 | awk '{ print ($1 == "deb") ? $2 : $2 }')
    MIRROR=${MIRROR:-http://deb.debian.org/debian}
fi
if [ "$(cat "$BASE/.jalm-complete" 2>/dev/null)" != "$PACKAGES" ]; then
    say "debootstrap bookworm from $MIRROR into $BASE (once; reused by later runs)"
    rm -rf "$BASE.tmp"
    mkdir -p "$CACHE"
    if ! debootstrap --variant=minbase --include="$PACKAGES" \
            bookworm "$BASE.tmp" "$MIRROR" > "$CACHE/debootstrap.log" 2>&1; then
        tail -5 "$CACHE/debootstrap.log"
        skip_all "debootstrap failed (no network to $MIRROR?); log: $CACHE/debootstrap.log"
    fi
    echo "$PACKAGES" > "$BASE.tmp/.jalm-complete"
    rm -rf "$BASE"
    mv "$BASE.tmp" "$BASE"
fi
say "root: $BASE"

# ---- a fresh overlay of it for this run ------------------------------------------------------------
RUN=$(mktemp -d /tmp/jalm-nspawn-XXXXXX)
ROOT="$RUN/root"
mkdir -p "$RUN/upper" "$RUN/work" "$ROOT"
NSPAWN_PID=""
cleanup() {
    if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
        kill -TERM "$NSPAWN_PID" 2>/dev/null   # nspawn forwards it as a clean poweroff (SIGRTMIN+3)
        for _ in $(seq 50); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$NSPAWN_PID" 2>/dev/null
        wait "$NSPAWN_PID" 2>/dev/null
    fi
    mountpoint -q "$ROOT" && umount "$ROOT"
    rm -rf "$RUN"
}
trap cleanup EXIT
if ! mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$RUN/upper,workdir=$RUN/work" "$ROOT" 2>/dev/null; then
    say "no overlayfs here: copying the root instead"
    cp -a "$BASE/." "$ROOT/"
fi

# ---- install, as an operator would (DESTDIR), plus the test's fixture plugin -----------------------
scripts/install.sh --root "$ROOT" --bin-dir "$BIN" | sed 's/^/  /' || { echo "install.sh failed"; exit 1; }
install -m 0755 "$BIN/jalm-fixture-layer" "$ROOT/usr/lib/jalm/bin/jalm-fixture-layer"
HTTP_OPS=$(awk -F, '$2 == "io-http" { sub(/^io-http\./, "", $1); printf "%s%s", sep, $1; sep = "," }' kernel/atoms.csv)
cp "$ROOT/usr/share/jalm/plugins/io-http/plugin.yml" "$RUN/io-http.plugin.yml"
cat > "$ROOT/usr/share/jalm/plugins/io-http/plugin.yml" <<EOF
# Test: io-http greets only after 3 s, so readiness (and systemctl start) must wait for it.
name: io-http
executable: jalm-fixture-layer
args: [slow-hello]
pool: 1
env: {JALM_FIXTURE_LAYER: io-http, JALM_FIXTURE_HELLO_DELAY_MS: "3000", JALM_FIXTURE_OPS: "$HTTP_OPS"}
limits: {memory: 256M, pids: 64, cpu: 1.0}
EOF
# A short watchdog keeps the SIGSTOP check quick; the mechanism is the shipped unit's.
mkdir -p "$ROOT/etc/systemd/system/jalmd.service.d"
printf '[Service]\nWatchdogSec=3s\n' > "$ROOT/etc/systemd/system/jalmd.service.d/test.conf"
# Debug binaries find the Swift runtime in the toolchain through their RUNPATH: lend it, read-only.
BINDS=()
RUNPATH=$(readelf -d "$BIN/jalmd" 2>/dev/null | sed -n 's/.*R.*PATH.*\[\(.*\)\]/\1/p' | tr ':' '\n' | grep '^/' | head -1)
if [ -n "$RUNPATH" ] && [ -d "$RUNPATH" ]; then BINDS+=("--bind-ro=$RUNPATH"); fi
echo "jalm-test" > "$ROOT/etc/hostname"

# ---- host-side checks on the installed unit --------------------------------------------------------
SECURITY=$(systemd-analyze security --offline=yes --root="$ROOT" jalmd.service 2>&1)
SCORE=$(echo "$SECURITY" | sed -n 's/.*Overall exposure level for jalmd.service: \([0-9.]*\).*/\1/p')
say "systemd-analyze security jalmd.service: exposure $SCORE; what remains exposed:"
echo "$SECURITY" | grep '✗' | sed 's/  */ /g; s/^/    /'
if [ -n "$SCORE" ] && [ "$(echo "$SCORE <= 2.0" | bc)" = 1 ]; then pass "exposure $SCORE <= 2.0"; else fail "exposure '$SCORE' > 2.0"; fi

# ---- boot ----------------------------------------------------------------------------------------------
say "booting the container"
systemd-nspawn -D "$ROOT" --register=no --keep-unit --boot --machine="jalmtest$$" "${BINDS[@]}" \
    > "$RUN/console.log" 2>&1 &
NSPAWN_PID=$!
LEADER=""
for _ in $(seq 200); do
    LEADER=$(pgrep -P "$NSPAWN_PID" | head -1)
    [ -n "$LEADER" ] && [ "$(cat /proc/$LEADER/comm 2>/dev/null)" = systemd ] && break
    kill -0 "$NSPAWN_PID" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$LEADER" ] || ! kill -0 "$NSPAWN_PID" 2>/dev/null; then
    tail -20 "$RUN/console.log"
    skip_all "systemd-nspawn could not boot the container on this host"
fi
C() { nsenter -t "$LEADER" -a "$@"; }
for _ in $(seq 150); do
    state=$(C systemctl is-system-running 2>/dev/null)
    case "$state" in running|degraded) break ;; esac
    sleep 0.2
done
say "container up (leader pid $LEADER, state ${state:-unknown})"
[ "${state:-}" = degraded ] && C systemctl --failed --no-legend | sed 's/^/    failed: /'

source "$REPO/scripts/systemd-checks.sh"
run_checks

say "done: $([ $FAILED = 0 ] && echo 'all checks passed' || echo 'SOME CHECKS FAILED')"
exit $FAILED
