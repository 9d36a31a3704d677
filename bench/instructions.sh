#!/usr/bin/env bash
# Instructions per request on the SCIM one-user reads, counted by callgrind: a figure that does not move
# with the machine's load, for comparing two builds of idgate where wrk's rates are too noisy to show a
# change of a few percent. As root on Debian 12:
#   bench/instructions.sh                            # idgate of build/bench (built here)
#   bench/instructions.sh OLD/idgate NEW/idgate      # two builds, one line each
# For each binary: idgate on PostgreSQL with one I/O thread under valgrind --tool=callgrind, one user
# created, then N sequential requests (one keep-alive connection) of `GET /Users/{id}` and of the
# `userName eq` filter, counted from first to last byte of the batch; all of idgate's threads and the
# libraries it calls are counted, PostgreSQL's own work is not.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
N=${N:-300}
tools/install-deps.sh --test
command -v valgrind >/dev/null || apt-get install -y -q --no-install-recommends valgrind >/dev/null
binaries=("$@")
if [ ${#binaries[@]} -eq 0 ]; then
  cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DIDGATE_BUILD_TESTS=OFF >/dev/null
  cmake --build build/bench --target idgate >/dev/null
  binaries=("$root/build/bench/gateway/idgate")
fi

source tools/lib/postgres.sh
start_throwaway_postgres
work=$(mktemp -d /tmp/idgate-instructions.XXXXXX)
vpid=
cleanup() {
  [ -n "$vpid" ] && kill "$vpid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
  stop_throwaway_postgres
}
trap cleanup EXIT
(umask 077 && head -c 32 /dev/urandom | base64 >"$work/idgate.key")

# count URL -> instructions per request of the running idgate ($vpid), over N requests after 3 warm-ups.
count() {
  local url=$1 i total=0 f t
  : >"$work/urls"
  for ((i = 0; i < N; i++)); do printf 'url = "%s"\noutput = /dev/null\n' "$url" >>"$work/urls"; done
  for i in 1 2 3; do curl -sf "${auth[@]}" -o /dev/null "$url"; done
  callgrind_control -z "$vpid" >/dev/null 2>&1
  callgrind_control -i on "$vpid" >/dev/null 2>&1
  curl -sf "${auth[@]}" -K "$work/urls"
  callgrind_control -i off "$vpid" >/dev/null 2>&1
  callgrind_control -d "$vpid" >/dev/null 2>&1
  sleep 2
  for f in "$work"/callgrind.out."$vpid".*; do
    t=$(awk '/^totals:/ {print $2; exit}' "$f")
    total=$((total + ${t:-0}))
  done
  rm -f "$work"/callgrind.out."$vpid".*
  echo $((total / N))
}

port=18977
n=0
for bin in "${binaries[@]}"; do
  n=$((n + 1))
  db=instructions_$n
  "$PG_BIN/psql" -X -q "$PG_CONNINFO" -c "CREATE DATABASE $db"
  cat >"$work/idgate.yaml" <<YAML
server: {address: 127.0.0.1, port: $port, io_threads: 1}
storage: {type: postgres, postgres: {connection: "host=127.0.0.1 port=$PG_PORT user=postgres dbname=$db", pool_size: 4}}
encryption: {key_file: $work/idgate.key}
log: {level: warn, access_log: false}
YAML
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/callgrind.out.%p" \
    "$bin" serve --config "$work/idgate.yaml" >"$work/idgate.out" 2>"$work/idgate.log" &
  vpid=$!
  for _ in $(seq 600); do grep -q listening "$work/idgate.out" 2>/dev/null && break; sleep 0.2; done
  admin=$(sed -n 's/.*store it now): //p' "$work/idgate.out")
  base=http://127.0.0.1:$port
  curl -sf -H "Authorization: Bearer $admin" -d '{"slug":"bench","name":"Bench"}' "$base/api/v1/organizations" >/dev/null
  token=$(curl -sf -H "Authorization: Bearer $admin" -d '{"name":"instructions"}' \
    "$base/api/v1/organizations/bench/scim-tokens" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
  auth=(-H "Authorization: Bearer $token")
  id=$(curl -sf "${auth[@]}" -H 'Content-Type: application/scim+json' "$base/scim/v2/bench/Users" -d \
    '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada.lovelace@example.com","name":{"givenName":"Ada","familyName":"Lovelace"},"emails":[{"value":"ada.lovelace@example.com","type":"work","primary":true}],"active":true}' |
    grep -o '"id":"[^"]*"' | head -1 | cut -d'"' -f4)
  [ -n "$id" ] || { echo "could not create the user; idgate's log:"; cat "$work/idgate.log"; exit 1; }
  get=$(count "$base/scim/v2/bench/Users/$id")
  filter=$(count "$base/scim/v2/bench/Users?filter=userName%20eq%20%22ada.lovelace%40example.com%22")
  echo "$bin: GET /Users/{id} $get instructions per request; userName eq filter $filter"
  kill "$vpid"
  wait "$vpid" 2>/dev/null || true
  vpid=
done
