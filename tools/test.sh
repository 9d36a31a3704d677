#!/usr/bin/env bash
# README command 2 (and what CI runs): set up a fresh Debian 12 machine (as root), build idgate with
# warnings as errors, start a throwaway PostgreSQL cluster on loopback, and run the whole test suite
# against it -- then again under AddressSanitizer + UndefinedBehaviorSanitizer. A PostgreSQL test that
# would skip is a failure here (IDGATE_REQUIRE_PG=1).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tools/install-deps.sh

jobs=$(nproc)
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"

build() {  # build <dir> <cmake args...>
  local dir=$1; shift
  cmake -S "$root" -B "$dir" -G Ninja -DIDGATE_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

# -- a throwaway PostgreSQL, as the postgres user (it refuses to run as root) ----------------------
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pg_dir=$(mktemp -d /tmp/idgate-pg.XXXXXX)
chown postgres: "$pg_dir"
pg_port=
for p in $(seq 55432 55532); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then pg_port=$p; break; fi
done
[ -n "$pg_port" ] || { echo "no free port for PostgreSQL"; exit 1; }
stop_pg() {
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap stop_pg EXIT
runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust --no-sync >/dev/null
# Loopback only. fsync off: this cluster is thrown away, and the tests measure correctness, not speed.
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$pg_dir -c fsync=off -c max_connections=300" \
  start >/dev/null
echo "== PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port"
export IDGATE_TEST_PG="host=127.0.0.1 port=$pg_port user=postgres dbname=postgres"
export IDGATE_REQUIRE_PG=1

# -- the suite, then the suite under sanitizers ----------------------------------------------------
echo "== build (RelWithDebInfo, -Werror)"
build build/ci -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== tests"
ctest --test-dir build/ci -j "$jobs" --output-on-failure --no-tests=error

echo "== build (ASan + UBSan)"
build build/asan -DCMAKE_BUILD_TYPE=Debug -DIDGATE_SANITIZE=ON -DIDGATE_BUILD_BENCH=OFF
echo "== tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan -j "$jobs" --output-on-failure --no-tests=error
