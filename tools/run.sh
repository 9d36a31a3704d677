#!/usr/bin/env bash
# README command 1: set up a fresh Debian 12 machine (as root), build idgate, and run it on the
# embedded SQLite database with examples/config/idgate.sqlite.yaml. Data goes to ./data (override with
# IDGATE_DATA_DIR). On first start it prints a one-time bootstrap admin token. Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DIDGATE_BUILD_TESTS=OFF >/dev/null
cmake --build build/release --target idgate
export IDGATE_DATA_DIR="${IDGATE_DATA_DIR:-$PWD/data}"
mkdir -p "$IDGATE_DATA_DIR"
echo "== idgate: data in $IDGATE_DATA_DIR"
exec build/release/gateway/idgate serve --config examples/config/idgate.sqlite.yaml
