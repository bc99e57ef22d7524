# The checks of scripts/systemd-test.sh, run against the booted container. Sourced: uses C (a command in
# the container), say/pass/fail/skip, ROOT and RUN. Each check says what it proves.

SOCK=/run/jalm/jalmd.sock
# curl inside the container, as USER, against the control socket; extra arguments follow.
api() { local user=$1; shift; C runuser -u "$user" -- curl -sS --max-time 40 --unix-socket "$SOCK" "$@"; }
main_pid() { C systemctl show -p MainPID --value jalmd.service; }
prop() { C systemctl show -p "$1" --value jalmd.service; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# A capsule that sleeps MS on io-file (side effect none: re-run after a crash), submitted by client.
submit_sleep() {
    api client -H 'content-type: application/json' \
        -d "{\"intent\":\"nap\",\"steps\":[{\"id\":\"nap\",\"layer\":\"io-file\",\"op\":\"sys.sleep\",\"input\":{\"ms\":$1}}]}" \
        http://jalm/exec | sed -n 's/.*"execution_id" *: *"\([^"]*\)".*/\1/p'
}
# The execution's own state: the first "state" key (keys are sorted: it precedes "steps").
exec_state() { api client "http://jalm/exec/$1" | grep -o '"state" *: *"[a-z_]*"' | head -1 | sed 's/.*"\([a-z_]*\)"$/\1/'; }
wait_state() {  # ID STATE SECONDS
    for _ in $(seq $(( $3 * 5 ))); do [ "$(exec_state "$1")" = "$2" ] && return 0; sleep 0.2; done
    return 1
}
wait_new_main() {  # OLD_PID SECONDS: a new main process that is active again
    for _ in $(seq $(( $2 * 5 ))); do
        local p; p=$(main_pid)
        [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$1" ] && [ "$(C systemctl is-active jalmd.service)" = active ] && return 0
        sleep 0.2
    done
    return 1
}

check_verify() {
    local out
    if out=$(C systemd-analyze verify jalmd.service 2>&1); then pass "systemd-analyze verify jalmd.service"
    else fail "systemd-analyze verify: $out"; fi
}

check_ready_waits_for_layers() {
    # io-http is the fixture that greets after 3 s: `systemctl start` must block until READY=1.
    local t; t=$(now)
    C systemctl start jalmd.service
    local took; took=$(elapsed "$t")
    local state; state=$(C systemctl is-active jalmd.service)
    local status; status=$(prop StatusText)
    say "systemctl start returned after ${took}s: $state, \"$status\""
    if [ "$state" = active ] && awk -v t="$took" 'BEGIN { exit !(t >= 3.0) }' && [[ "$status" == ready:* ]]; then
        pass "active only after READY=1 (the slow layer's 3 s hello delayed it)"
    else
        fail "start: active=$state after ${took}s, status \"$status\""
        C journalctl -u jalmd.service --no-pager -n 30 | sed 's/^/    /'
    fi
}

check_socket_activation() {
    # journald may not have stored jalmd's line yet when start returns: look for up to 5 s.
    local found=1
    for _ in $(seq 1 25); do
        if C journalctl -u jalmd.service --no-pager -o cat | grep -q 'control socket listening (from systemd)'; then
            found=0; break
        fi
        sleep 0.2
    done
    if [ "$found" = 0 ]; then
        pass "jalmd took its control socket from jalmd.socket ($(C systemctl is-active jalmd.socket))"
    else fail "jalmd did not get its socket from jalmd.socket"; fi
}

check_cgroups() {
    local cg; cg=$(prop ControlGroup)
    local mode; mode=$(C journalctl -u jalmd.service --no-pager -o cat | sed -n 's/.*sandbox.cgroups=\([a-z0-9]*\).*/\1/p' | tail -1)
    say "cgroup of jalmd: $cg (layers limited through: ${mode:-?})"
    if [ "$mode" = v2 ]; then
        if C test -d "/sys/fs/cgroup$cg/supervisor"; then pass "delegation: jalmd moved itself into $cg/supervisor"
        else fail "delegation: no $cg/supervisor leaf"; fi
    else
        skip "cgroup delegation and MemoryMax=/TasksMax= cannot be checked: the container's cgroup2 tree has no controllers on this host (hybrid cgroups); jalmd runs with sandbox: degraded here"
    fi
}

check_group_access() {
    local body='{"intent":"hello","steps":[{"id":"w","layer":"io-file","op":"write","input":{"path":"t/hello.txt","content":"hi","create_dirs":true}},{"id":"r","layer":"io-file","op":"read","input":{"path":"{{ steps.w.output.path }}"}}]}'
    local out; out=$(api client -H 'content-type: application/json' -d "$body" 'http://jalm/exec?wait=30')
    if [[ "$out" == *'"state":"completed"'* || "$out" == *'"state" : "completed"'* ]]; then
        pass "a member of group jalm ran a capsule over $SOCK (curl --unix-socket)"
    else fail "member's capsule: $out"; fi
    out=$(C runuser -u client -- jalm --socket "$SOCK" health 2>&1)
    if [ $? = 0 ]; then pass "jalm health as a member: $(echo "$out" | head -1)"; else fail "jalm health as a member: $out"; fi
    out=$(C runuser -u outsider -- jalm --socket "$SOCK" health 2>&1)
    local rc=$?
    if [ $rc = 3 ] && [[ "$out" == *"ermission denied"* ]]; then
        pass "a user outside group jalm is refused: $(echo "$out" | head -1)"
    else fail "outsider got rc=$rc: $out"; fi
}

check_kill9_resumes() {
    local id; id=$(submit_sleep 5000)
    sleep 1
    local old; old=$(main_pid)
    local restarts; restarts=$(prop NRestarts)
    C /bin/kill -9 "$old"
    # In the gap, jalmd.socket holds the connection until the new jalmd accepts it.
    local t; t=$(now)
    local health; health=$(api client http://jalm/health 2>&1)
    if [[ "$health" == *'"status"'* ]]; then pass "a client connecting right after the kill was served after $(elapsed "$t")s (socket activation)"
    else fail "connecting during the restart: $health"; fi
    if wait_new_main "$old" 30; then pass "kill -9 $old: systemd restarted jalmd (pid $(main_pid))"
    else fail "no restart after kill -9"; return; fi
    [ "$(prop NRestarts)" -gt "$restarts" ] || fail "NRestarts did not grow"
    if wait_state "$id" completed 30; then pass "the execution running at the kill ($id) resumed and completed"
    else fail "execution $id: $(exec_state "$id")"; fi
}

check_watchdog() {
    local old; old=$(main_pid)
    local t; t=$(now)
    C /bin/kill -STOP "$old"
    if wait_new_main "$old" 30; then
        pass "kill -STOP $old: the watchdog restarted jalmd after $(elapsed "$t")s (WatchdogSec=$(prop WatchdogUSec))"
    else fail "no watchdog restart after SIGSTOP"; fi
    local said; said=$(C journalctl --no-pager -o cat -u jalmd.service | grep 'Watchdog timeout' | tail -1)
    if [ -n "$said" ]; then pass "systemd says: $said"; else fail "no 'Watchdog timeout' in the journal"; fi
}

check_reload() {
    local id; id=$(submit_sleep 4000)
    sleep 0.5
    local old; old=$(main_pid)
    local http_before; http_before=$(api client http://jalm/layers/io-http | grep -o '"pid" *: *[0-9]*' | head -1)
    # An upgrade by reload: io-http goes back to its real plugin (manifest changed → live swap), and a
    # restart-only key changes (logged, not applied).
    cp "$RUN/io-http.plugin.yml" "$ROOT/usr/share/jalm/plugins/io-http/plugin.yml"
    C sed -i 's/^hello_timeout: .*/hello_timeout: 9s/' /etc/jalm/jalmd.yml
    C systemctl reload jalmd.service
    sleep 1
    local http_after; http_after=$(api client http://jalm/layers/io-http | grep -o '"pid" *: *[0-9]*' | head -1)
    [ "$(main_pid)" = "$old" ] && pass "systemctl reload kept the main process ($old)" || fail "reload replaced the main process"
    [ "$http_before" != "$http_after" ] && pass "reload swapped io-http to its new manifest" || fail "io-http not swapped ($http_before)"
    if wait_state "$id" completed 20; then pass "the execution running across the reload completed"
    else fail "execution across reload: $(exec_state "$id")"; fi
    C journalctl -u jalmd.service --no-pager -o cat | grep -E 'reload' | tail -4 | sed 's/^/    /'
}

check_stop_drains() {
    local id; id=$(submit_sleep 2000)
    sleep 0.3
    local cg; cg=$(prop ControlGroup)
    local t; t=$(now)
    C systemctl stop jalmd.service
    local stopped_ms; stopped_ms=$(date +%s%3N)
    say "systemctl stop took $(elapsed "$t")s (drained an execution of 2 s)"
    local left; left=$(C sh -c "cat /sys/fs/cgroup$cg/cgroup.procs 2>/dev/null; for d in /sys/fs/cgroup/*/$cg; do cat \$d/cgroup.procs 2>/dev/null; done" | wc -l)
    local jalm_uid; jalm_uid=$(C id -u jalm)
    local procs; procs=$(C sh -c "grep -l '^Uid:.*\b$jalm_uid\b' /proc/[0-9]*/status 2>/dev/null" | wc -l)
    if [ "$left" = 0 ] && [ "$procs" = 0 ]; then pass "stop left no process behind (cgroup $cg empty, no process of user jalm)"
    else fail "after stop: $left in the cgroup, $procs processes of jalm"; fi
    if C journalctl -u jalmd.service --no-pager -o cat | grep -q 'executions still running at shutdown'; then
        fail "stop did not drain the execution"
    else pass "stop drained the running execution before exiting"; fi
    C systemctl start jalmd.service
    local finished; finished=$(api client "http://jalm/exec/$id" | grep -o '"finished_at" *: *[0-9]*' | head -1 | grep -o '[0-9]*$')
    if [ "$(exec_state "$id")" = completed ] && [ -n "$finished" ] && [ "$finished" -le "$stopped_ms" ]; then
        pass "the execution finished before systemctl stop returned (drained, not resumed later)"
    else fail "drained execution: $(exec_state "$id"), finished_at ${finished:-none} vs stop at $stopped_ms"; fi
    C systemctl stop jalmd.service
}

check_journal_fields() {
    # Structured fields: one layer's lines selected by its field, and the priority of a notice.
    local n; n=$(C journalctl --no-pager -o cat -u jalmd.service LAYER_NAME=io-file | wc -l)
    local p; p=$(C journalctl --no-pager -o verbose -u jalmd.service LAYER_NAME=io-file -n 1 | grep -c 'PRIORITY=')
    if [ "$n" -gt 0 ] && [ "$p" = 1 ]; then pass "journald has structured fields: $n lines with LAYER_NAME=io-file"
    else fail "no structured LAYER_NAME field in the journal ($n lines)"; fi
}

check_uninstall() {
    # make uninstall, into the same root: program files and units go, config and state stay (no --purge).
    scripts/install.sh --uninstall --root "$ROOT" | sed 's/^/  /'
    local left=""
    for f in /usr/lib/jalm/bin/jalmd /usr/bin/jalm /usr/share/jalm /usr/lib/systemd/system/jalmd.service \
             /usr/lib/systemd/system/jalmd.socket /usr/lib/sysusers.d/jalm.conf; do
        [ -e "$ROOT$f" ] || [ -L "$ROOT$f" ] && left="$left $f"
    done
    if [ -z "$left" ] && [ -e "$ROOT/etc/jalm/jalmd.yml" ] && [ -e "$ROOT/var/lib/jalm/journal.sqlite" ]; then
        pass "uninstall removed the program and units, kept /etc/jalm/jalmd.yml and /var/lib/jalm"
    else fail "uninstall left:$left (or removed the config or the journal)"; fi
    scripts/install.sh --uninstall --purge --root "$ROOT" >/dev/null
    [ ! -e "$ROOT/etc/jalm" ] && [ ! -e "$ROOT/var/lib/jalm" ] && pass "uninstall --purge removed /etc/jalm and /var/lib/jalm" \
        || fail "purge left /etc/jalm or /var/lib/jalm"
}

run_checks() {
    # A client service's user in group jalm, and one outside it.
    C useradd --system --no-create-home --groups jalm client
    C useradd --system --no-create-home outsider
    # No cgroup v2 controllers in this container (hybrid host): limits cannot apply, say so and run.
    if ! C sh -c 'grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null'; then
        C sh -c 'sed -i "s/^sandbox: .*/sandbox: degraded/" /etc/jalm/jalmd.yml'
    fi
    # The unit is enabled, so the boot may have started it already: measure a start from stopped.
    C systemctl stop jalmd.service 2>/dev/null
    C systemctl reset-failed jalmd.service 2>/dev/null
    check_verify
    check_ready_waits_for_layers
    check_socket_activation
    check_cgroups
    check_group_access
    check_journal_fields
    check_kill9_resumes
    check_watchdog
    check_reload
    check_stop_drains
    C systemctl stop jalmd.socket
    check_uninstall
}
