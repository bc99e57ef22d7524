#!/usr/bin/env bash
# Installs what the build and the tests need, only what is missing: the Debian packages listed in
# scripts/deps.d/*.apt and the PyPI packages in scripts/deps.d/*.pip (one name per line, # comments).
# Each part of the runner keeps its own list there, with the reason.
set -euo pipefail
cd "$(dirname "$0")/deps.d"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
apt_need=()
for pkg in $(cat ./*.apt 2>/dev/null | sed 's/#.*//'); do
    dpkg -s "$pkg" >/dev/null 2>&1 || apt_need+=("$pkg")
done
if [ ${#apt_need[@]} -gt 0 ]; then
    echo "deps: installing ${apt_need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_need[@]}" >/dev/null
fi
pip_need=()
for pkg in $(cat ./*.pip 2>/dev/null | sed 's/#.*//'); do
    python3 -m pip show -q "${pkg%%[=<>]*}" >/dev/null 2>&1 || pip_need+=("$pkg")
done
if [ ${#pip_need[@]} -gt 0 ]; then
    echo "deps: installing from PyPI ${pip_need[*]}"
    python3 -m pip install -q "${pip_need[@]}"
fi
command -v swift >/dev/null || { echo "deps: swift is not on PATH (Swift 6.3 is required)"; exit 1; }
