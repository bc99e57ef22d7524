#!/usr/bin/env bash
# The whole test suite: unit tests and end-to-end tests that start the real daemon, its real plugins and
# fixture plugins, over real sockets and real SQLite files. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
swift build --build-tests
# Suites start daemons; one at a time keeps timings honest on a 2-core machine.
swift test --skip-build --no-parallel "$@"
