#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, only those missing (apt-get update once).
set -euo pipefail
need=()
for pkg in libsqlite3-dev sqlite3 libseccomp-dev strace; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "deps: installing ${need[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "deps: swift is not on PATH (Swift 6.3 is required)"; exit 1; }
