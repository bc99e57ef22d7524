#!/usr/bin/env bash
# Installs jalmd as a systemd service, or removes it (docs/operations.md, "Install and uninstall").
#
#   scripts/install.sh                      build release binaries, install, enable and start jalmd
#   scripts/install.sh --uninstall          stop, disable and remove it; keeps /etc/jalm and /var/lib/jalm
#   scripts/install.sh --uninstall --purge  ... and removes /etc/jalm and /var/lib/jalm too
#
# Options:
#   --root DIR     install into DIR as if it were / (env DESTDIR does the same); nothing is started there,
#                  the unit is only enabled (systemctl --root)
#   --bin-dir DIR  install the binaries already in DIR (e.g. .build/debug) instead of building release ones
#   --no-start     install and enable, but do not start (or restart) the service
#
# Layout: /usr/lib/jalm/bin (jalmd, jalm-launch, the six plugins, jalm), /usr/bin/jalm -> it,
# /usr/share/jalm/{kernel,plugins,sandbox}, /etc/jalm/jalmd.yml (never overwritten),
# /usr/lib/systemd/system/jalmd.service, /usr/lib/sysusers.d/jalm.conf, /usr/lib/tmpfiles.d/jalm.conf.
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT="${DESTDIR:-}"
BIN_SRC=""
START=1
MODE=install
PURGE=0
while [ $# -gt 0 ]; do
    case "$1" in
        --root) ROOT="$2"; shift 2 ;;
        --bin-dir) BIN_SRC="$2"; shift 2 ;;
        --no-start) START=0; shift ;;
        --uninstall) MODE=uninstall; shift ;;
        --purge) PURGE=1; shift ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
ROOT="${ROOT%/}"
LIB=/usr/lib/jalm/bin
SHARE=/usr/share/jalm
ETC=/etc/jalm
UNITS=/usr/lib/systemd/system
PROGRAMS=(jalmd jalm jalm-launch jalm-layer-io-http jalm-layer-io-db jalm-layer-io-file
          jalm-layer-compute-script jalm-layer-render-html jalm-layer-notify-mq)
live() { [ -z "$ROOT" ]; }
say() { echo "install.sh: $*"; }

if [ "$MODE" = install ] && [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run as root (it writes /usr, /etc and creates the jalm user)" >&2
    exit 1
fi

uninstall() {
    if live && [ -d /run/systemd/system ]; then
        systemctl disable --now jalmd.service jalmd.socket 2>/dev/null || true
    elif ! live; then
        systemctl --root="$ROOT" disable jalmd.socket jalmd.service >/dev/null 2>&1 || true
    fi
    rm -rf "$ROOT/usr/lib/jalm" "$ROOT$SHARE" "$ROOT/usr/share/doc/jalm"
    rm -f "$ROOT/usr/bin/jalm" "$ROOT$UNITS/jalmd.service" "$ROOT$UNITS/jalmd.socket" \
          "$ROOT/usr/lib/sysusers.d/jalm.conf" "$ROOT/usr/lib/tmpfiles.d/jalm.conf"
    if [ "$PURGE" = 1 ]; then
        rm -rf "$ROOT$ETC" "$ROOT/var/lib/jalm"
        say "purged $ETC and /var/lib/jalm (the jalm user and group are kept, as Debian keeps system users)"
    else
        say "kept $ETC and /var/lib/jalm (--purge removes them)"
    fi
    live && [ -d /run/systemd/system ] && systemctl daemon-reload
    say "uninstalled"
}

build() {
    if [ -n "$BIN_SRC" ]; then return; fi
    say "building release binaries (static Swift runtime, so the plugins need no toolchain on this host)"
    for p in "${PROGRAMS[@]}"; do
        swift build -c release --static-swift-stdlib --product "$p" >/dev/null
    done
    BIN_SRC="$(swift build -c release --static-swift-stdlib --show-bin-path)"
}

# The gid of group jalm as the target root's /etc/group says (the host's may differ, or lack it).
jalm_gid() { awk -F: '$1 == "jalm" { print $3 }' "$ROOT/etc/group"; }

install_files() {
    for p in "${PROGRAMS[@]}"; do
        [ -x "$BIN_SRC/$p" ] || { echo "install.sh: $BIN_SRC/$p is missing" >&2; exit 1; }
        install -D -m 0755 "$BIN_SRC/$p" "$ROOT$LIB/$p"
    done
    mkdir -p "$ROOT/usr/bin"
    ln -sfn ../lib/jalm/bin/jalm "$ROOT/usr/bin/jalm"
    # The catalog, manifests and policies are replaced whole, so that a removed card or op does not linger.
    rm -rf "$ROOT$SHARE"
    mkdir -p "$ROOT$SHARE"
    cp -R kernel plugins sandbox "$ROOT$SHARE/"
    install -D -m 0644 systemd/jalmd.service "$ROOT$UNITS/jalmd.service"
    install -D -m 0644 systemd/jalmd.socket "$ROOT$UNITS/jalmd.socket"
    install -D -m 0644 systemd/sysusers.d/jalm.conf "$ROOT/usr/lib/sysusers.d/jalm.conf"
    install -D -m 0644 systemd/tmpfiles.d/jalm.conf "$ROOT/usr/lib/tmpfiles.d/jalm.conf"
    install -D -m 0644 docs/operations.md "$ROOT/usr/share/doc/jalm/operations.md"
    if live; then systemd-sysusers jalm.conf; else systemd-sysusers --root="$ROOT" "$ROOT/usr/lib/sysusers.d/jalm.conf"; fi
    local gid
    gid="$(jalm_gid)"
    install -d -m 0750 -o 0 -g "$gid" "$ROOT$ETC"
    if [ -e "$ROOT$ETC/jalmd.yml" ]; then
        say "kept $ETC/jalmd.yml (the new defaults are in $SHARE/kernel/jalmd.yml)"
    else
        # The defaults, with the paths of this layout: state in /var/lib/jalm (StateDirectory=), the socket
        # in /run/jalm (RuntimeDirectory=), no TCP listener (the control socket and its group are the door).
        sed -e 's|^data: .*|data: /var/lib/jalm|' -e 's|^socket: .*|socket: /run/jalm/jalmd.sock|' \
            -e 's|^listen: .*|listen: none|' -e "s|^share: .*|share: $SHARE|" \
            kernel/jalmd.yml > "$ROOT$ETC/jalmd.yml"
        chown 0:"$gid" "$ROOT$ETC/jalmd.yml"
        chmod 0640 "$ROOT$ETC/jalmd.yml"
        say "wrote $ETC/jalmd.yml"
    fi
}

activate() {
    if ! live; then
        systemctl --root="$ROOT" enable jalmd.socket jalmd.service >/dev/null 2>&1
        say "installed into $ROOT and enabled jalmd.socket and jalmd.service there"
        return
    fi
    systemd-tmpfiles --create jalm.conf
    systemctl daemon-reload
    systemctl enable jalmd.socket jalmd.service >/dev/null 2>&1
    if [ "$START" = 1 ]; then
        # restart, not start: an upgrade must run the new binaries. jalmd drains before it stops; the
        # socket stays, so clients wait meanwhile instead of being refused.
        systemctl start jalmd.socket
        systemctl restart jalmd.service
        say "jalmd is $(systemctl is-active jalmd.service): $(systemctl show -p StatusText --value jalmd.service)"
    else
        say "installed and enabled; start it with: systemctl start jalmd"
    fi
}

if [ "$MODE" = uninstall ]; then
    uninstall
else
    build
    install_files
    activate
fi
