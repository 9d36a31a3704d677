#!/usr/bin/env bash
# Reruns every figure in docs/benchmarks.md. As root on Debian 12 (installs what it needs):
#   bench/run.sh                 # 10 s per measurement
#   DURATION=30 bench/run.sh
# Each result is a ratio to a ceiling measured in the same run on the same machine:
#   HTTP:   idgate (router, request ids, metrics, access log) vs a minimal Beast server returning the
#           same bytes; wrk -t2 -c50, both servers on one I/O thread.
#   writes: users created through idgate's storage layer (user + emails + audit record + change event,
#           one transaction) vs pgbench doing raw single-row INSERTs, 16 clients, on a durable
#           PostgreSQL (fsync and synchronous_commit on).
#   scim:   SCIM end to end on PostgreSQL (ServiceProviderConfig against a bare Beast server returning
#           the same bytes; POST, GET by id, userName filter, PATCH active against pgbench running the
#           bare statement and the same SQL idgate sends), memory, and POST on SQLite against raw
#           SQLite inserts (bench/sqlite_insert_bench.cpp).
#   polis:  the best peer, Ory Polis's directory-sync SCIM API (npm @boxyhq/saml-jackson, bench/polis) on
#           the same PostgreSQL with the same wrk scripts: POST, GET by id, userName filter, PATCH, memory.
#   scale:  SCIM userName / externalId / emails.value equality filters at 10k, 100k and 1M users, one
#           request at a time (SCALE_CONNECTIONS), with the query plans. Target: p99 under 5 ms, flat.
#   groups: SCIM PATCH adding one member to a 100,000-member group vs the same on a 10-member group.
#           Target: within 2x.
#   users:  the /api/v1/users admin list with search, filters and sorting over 1,000,000 users on
#           PostgreSQL, at the concurrency of people using an admin console (USERS_CONNECTIONS, 1), against
#           the same page query run raw through pgbench. Target: p99 under 20 ms.
#   oidc:   ID token validation as the OpenID Connect callback does it (cached JWKS; split, algorithm,
#           RS256 signature through liboauth2's JOSE library, every claim) vs raw OpenSSL RS256
#           verification of the same tokens, one core. Target: 60% (aim 80%).
#   saml:   the SAML assertion consumer on a ~6 KB RSA-2048-signed response (form field, base64, parse,
#           signature, every check) vs a bare libxmlsec1 verification of the same response with the key
#           loaded once, one core. Target: 75% (aim 90%).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tools/install-deps.sh --test
DURATION=${DURATION:-10}
PARTS=${PARTS:-http,writes,scim,polis,scale,groups,users,oidc,saml}  # a subset, e.g. PARTS=http, for quick iterations
CONNECTIONS=${CONNECTIONS:-50}
WRITERS=${WRITERS:-16}

cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DIDGATE_BUILD_TESTS=OFF >/dev/null
cmake --build build/bench >/dev/null
bin=$root/build/bench

source tools/lib/postgres.sh
start_throwaway_postgres   # durable defaults
work=$(mktemp -d /tmp/idgate-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
  stop_throwaway_postgres
}
trap cleanup EXIT

free_port() {
  local p
  for p in $(seq "$1" $(($1 + 100))); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
}

# wrk_run URL [wrk options...] -> "requests_per_second p99_ms non_2xx"
wrk_run() {
  local url=$1 out
  shift
  local threads=$(( CONNECTIONS < 2 ? CONNECTIONS : 2 ))  # wrk needs a connection per thread
  wrk -t"$threads" -c"$threads" -d1s "$@" "$url" >/dev/null  # warm-up
  out=$(wrk -t"$threads" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" "$url")
  local rps p99 bad
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  bad=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; print v}' <<<"$out")
  echo "$rps $p99 ${bad:-0}"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", 100 * a / b }'; }

# start_idgate NAME PORT STORAGE_YAML [SERVER_EXTRA]: starts idgate on one I/O thread with that storage,
# waits until it listens; sets started_pid and started_admin (the bootstrap admin token).
start_idgate() {
  # PostgreSQL has no default encryption key file (every node must share it): one for all the runs.
  [ -f "$work/idgate.key" ] || (umask 077 && head -c 32 /dev/urandom | base64 >"$work/idgate.key")
  cat >"$work/idgate-$1.yaml" <<YAML
server: {address: 127.0.0.1, port: $2, io_threads: 1${4:+, $4}}
storage: $3
encryption: {key_file: $work/idgate.key}
log: {level: warn, access_log: false}
YAML
  "$bin/gateway/idgate" serve --config "$work/idgate-$1.yaml" >"$work/idgate-$1.out" 2>"$work/idgate-$1.log" &
  started_pid=$!
  pids+=($!)
  for _ in $(seq 100); do grep -q "listening" "$work/idgate-$1.out" 2>/dev/null && break; sleep 0.1; done
  started_admin=$(sed -n 's/.*store it now): //p' "$work/idgate-$1.out")
}

# -- HTTP: idgate vs the baseline ------------------------------------------------------------------
idgate_port=$(free_port 18080)
cat >"$work/idgate.yaml" <<YAML
server: {address: 127.0.0.1, port: $idgate_port, io_threads: 1}
storage: {type: sqlite, sqlite: {path: $work/idgate.db}}
log: {level: info, access_log: true}
YAML
"$bin/gateway/idgate" serve --config "$work/idgate.yaml" >"$work/idgate.out" 2>"$work/idgate.log" &
pids+=($!)
base_port=$(free_port 19080)
"$bin/bench/baseline_server" "$base_port" >/dev/null &
pids+=($!)
for _ in $(seq 100); do
  grep -q "listening" "$work/idgate.out" 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$base_port") 2>/dev/null && break
  sleep 0.1
done

rows=()
has() { [[ ",$PARTS," == *",$1,"* ]]; }
has http && for path in /healthz /api/v1/version; do
  # Best of two, interleaved: background noise on a 2-core machine moves single runs by 10%.
  read -r base_rps base_p99 _ < <(wrk_run "http://127.0.0.1:$base_port$path")
  read -r idg_rps idg_p99 _ < <(wrk_run "http://127.0.0.1:$idgate_port$path")
  read -r base2_rps base2_p99 _ < <(wrk_run "http://127.0.0.1:$base_port$path")
  read -r idg2_rps idg2_p99 _ < <(wrk_run "http://127.0.0.1:$idgate_port$path")
  if awk -v a="$base2_rps" -v b="$base_rps" 'BEGIN { exit !(a > b) }'; then base_rps=$base2_rps base_p99=$base2_p99; fi
  if awk -v a="$idg2_rps" -v b="$idg_rps" 'BEGIN { exit !(a > b) }'; then idg_rps=$idg2_rps idg_p99=$idg2_p99; fi
  rows+=("| \`GET $path\`, $CONNECTIONS connections | $(printf '%.0f' "$base_rps")/s (p99 ${base_p99} ms) | $(printf '%.0f' "$idg_rps")/s (p99 ${idg_p99} ms) | **$(ratio "$idg_rps" "$base_rps")** | 80% |")
done

# -- oidc: the callback's own cost, one core --------------------------------------------------------
if has oidc; then
  read -r raw_rate idg_rate _ < <(taskset -c 0 "$bin/bench/id_token_bench" 4000 "$(( DURATION > 5 ? 5 : DURATION ))")
  rows+=("| ID token validation (OIDC callback, cached JWKS, RS256, distinct tokens), one core | $(printf '%.0f' "$raw_rate")/s raw OpenSSL RS256 verify | $(printf '%.0f' "$idg_rate")/s | **$(ratio "$idg_rate" "$raw_rate")** | 60% (aim 80%) |")
fi

if has saml; then
  read -r bare_rate acs_rate _ acs_size < <(taskset -c 0 "$bin/bench/saml_acs_bench" "$(( DURATION > 5 ? 5 : DURATION ))")
  rows+=("| SAML ACS (${acs_size}-byte signed response: base64, parse, signature, every check), one core | $(printf '%.0f' "$bare_rate")/s bare xmlsec1 verify | $(printf '%.0f' "$acs_rate")/s | **$(ratio "$acs_rate" "$bare_rate")** | 75% (aim 90%) |")
fi

psql_() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$PG_CONNINFO" "$@"; }
# -- writes: storage layer vs raw INSERT -----------------------------------------------------------
if has writes || has scim; then
psql_ -c "CREATE DATABASE raw_bench" -c "CREATE DATABASE store_bench"
raw_conninfo="host=127.0.0.1 port=$PG_PORT user=postgres dbname=raw_bench"
# The same columns and unique index a user row has, written by one statement per transaction.
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$raw_conninfo" <<'SQL'
CREATE TABLE raw_users (id TEXT PRIMARY KEY DEFAULT gen_random_uuid()::text, organization_id TEXT NOT NULL,
  user_name TEXT NOT NULL, user_name_folded TEXT NOT NULL, given_name TEXT NOT NULL, family_name TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, version BIGINT NOT NULL DEFAULT 1);
CREATE UNIQUE INDEX raw_users_name ON raw_users (organization_id, user_name_folded);
SQL
cat >"$work/insert.sql" <<'SQL'
\set n random(1, 1000000000000)
INSERT INTO raw_users (organization_id, user_name, user_name_folded, given_name, family_name, created_at, updated_at)
VALUES ('org', 'u' || :client_id || '-' || :n, 'u' || :client_id || '-' || :n, 'Given', 'Family',
        '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z') RETURNING id;
SQL
# raw_insert -> "tps latency_ms"
raw_insert() {
  local out
  out=$("$PG_BIN/pgbench" -n -c "$WRITERS" -j 2 -T "$DURATION" -r -f "$work/insert.sql" "$raw_conninfo" 2>&1)
  echo "$(awk '/^tps = / {print $3}' <<<"$out") $(awk '/^latency average = / {print $4}' <<<"$out")"
}
# better A B -> the larger of two rates
better() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; }
read -r raw_tps raw_lat < <(raw_insert)
store_out=$("$bin/bench/store_write_bench" "host=127.0.0.1 port=$PG_PORT user=postgres dbname=store_bench" "$WRITERS" "$DURATION")
store_rate=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$store_out")
store_p50=$(sed -n 's/.* p50_ms=\([0-9.]*\).*/\1/p' <<<"$store_out")
store_p99=$(sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p' <<<"$store_out")
has writes && rows+=("| create a user, $WRITERS writers, PostgreSQL durable | $(printf '%.0f' "$raw_tps")/s raw INSERT (avg ${raw_lat} ms) | $(printf '%.0f' "$store_rate")/s (p50 ${store_p50} ms, p99 ${store_p99} ms) | **$(ratio "$store_rate" "$raw_tps")** | - |")

fi

# -- SCIM on PostgreSQL: idgate end to end vs pgbench ------------------------------------------------
# Two ceilings per operation, both pgbench at $WRITERS clients on the same database in the same run:
#   raw:      the single bare statement the issue names (INSERT ... RETURNING, SELECT by key, UPDATE);
#   same SQL: the statements idgate itself sends for that request (store/src/sql_runner.hpp), prepared,
#             in the same transaction shape -- what the database can do for idgate's own work.
if has scim; then
psql_ -c "CREATE DATABASE idgate_bench"
scim_port=$(free_port 18180)
# Two write transactions at once (the default); the writers beyond them share those transactions' commits
# (group commit). A writer waiting for its commit holds a blocking thread, so there are twice as many
# threads as connections: with only as many, a batch could never carry more than a few writes.
start_idgate pg "$scim_port" "{type: postgres, postgres: {connection: \"host=127.0.0.1 port=$PG_PORT user=postgres dbname=idgate_bench\", pool_size: $WRITERS, write_transactions: 2}}" "blocking_threads: $((2 * WRITERS))"
scim_pid=$started_pid admin=$started_admin
curl -sf -H "Authorization: Bearer $admin" -d '{"slug":"bench","name":"Bench"}' "http://127.0.0.1:$scim_port/api/v1/organizations" >/dev/null
scim_token=$(curl -sf -H "Authorization: Bearer $admin" -d '{"name":"bench"}' \
  "http://127.0.0.1:$scim_port/api/v1/organizations/bench/scim-tokens" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
auth=(-H "Authorization: Bearer $scim_token")
bench_conninfo="host=127.0.0.1 port=$PG_PORT user=postgres dbname=idgate_bench"
org_id=$("$PG_BIN/psql" -X -At "$bench_conninfo" -c "SELECT id FROM organizations WHERE slug = 'bench'")
idle_before=$(awk '/^VmRSS/ {print $2}' "/proc/$scim_pid/status")

# pg_run FILE [MODE] [CLIENTS] -> "tps p99_ms" (p99 from pgbench's per-transaction log). CLIENTS defaults
# to $WRITERS (the throughput ceilings); p99s are compared at $CONNECTIONS, wrk's concurrency.
pg_run() {
  local out p99
  rm -f "$work"/pgb.*
  out=$(cd "$work" && "$PG_BIN/pgbench" -n -M "${2:-prepared}" -c "${3:-$WRITERS}" -j 2 -T "$DURATION" -l --log-prefix=pgb -f "$1" "$bench_conninfo" 2>&1)
  p99=$(cat "$work"/pgb.* | awk '{print $3}' | sort -n | awk '{v[NR]=$1} END {i=int(NR*0.99); if (i<1) i=1; printf "%.2f", v[i]/1000}')
  echo "$(awk '/^tps = / {print $3}' <<<"$out") $p99"
}

# ServiceProviderConfig with the bearer check, against a bare Beast server returning the same bytes.
spc_path=/scim/v2/bench/ServiceProviderConfig
curl -sf "${auth[@]}" "http://127.0.0.1:$scim_port$spc_path" >"$work/spc.json"
spc_port=$(free_port 19180)
"$bin/bench/baseline_server" "$spc_port" "$spc_path=$work/spc.json" >/dev/null &
pids+=($!)
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$spc_port") 2>/dev/null && break; sleep 0.1; done
read -r spc_base _ < <(wrk_run "http://127.0.0.1:$spc_port$spc_path" "${auth[@]}")
read -r spc_rps spc_p99 spc_bad < <(wrk_run "http://127.0.0.1:$scim_port$spc_path" "${auth[@]}")
read -r spc_base2 _ < <(wrk_run "http://127.0.0.1:$spc_port$spc_path" "${auth[@]}")
read -r spc_rps2 spc_p992 spc_bad2 < <(wrk_run "http://127.0.0.1:$scim_port$spc_path" "${auth[@]}")
if awk -v a="$spc_base2" -v b="$spc_base" 'BEGIN { exit !(a > b) }'; then spc_base=$spc_base2; fi
if awk -v a="$spc_rps2" -v b="$spc_rps" 'BEGIN { exit !(a > b) }'; then spc_rps=$spc_rps2 spc_p99=$spc_p992 spc_bad=$spc_bad2; fi
rows+=("| SCIM \`GET /ServiceProviderConfig\` with bearer check | $(printf '%.0f' "$spc_base")/s bare Beast, same bytes | $(printf '%.0f' "$spc_rps")/s (p99 ${spc_p99} ms, non-2xx: ${spc_bad}) | **$(ratio "$spc_rps" "$spc_base")** | 60% (aim 80%) |")

# POST /Users: creates the users the reads below use (10,000 or more).
export IDGATE_BENCH_SCIM_TOKEN=$scim_token IDGATE_BENCH_SCIM_PATH=/scim/v2/bench/Users
export IDGATE_BENCH_RUN=$(date +%s%N)
read -r post_rps post_p99 post_bad < <(wrk_run "http://127.0.0.1:$scim_port" -s bench/scim_create_user.lua)
# Write rates move by 10-30% from one minute to the next on this shared 2-core machine (the disk's fsync
# rate above all), so the write rows measure the ceiling and idgate twice, interleaved, and keep the better
# of each (like the HTTP rows).
read -r raw_tps2 _ < <(raw_insert)
read -r post_rps2 post_p992 post_bad2 < <(wrk_run "http://127.0.0.1:$scim_port" -s bench/scim_create_user.lua)
raw_tps=$(better "$raw_tps" "$raw_tps2")
if awk -v a="$post_rps2" -v b="$post_rps" 'BEGIN { exit !(a > b) }'; then post_rps=$post_rps2 post_p99=$post_p992 post_bad=$post_bad2; fi
peak_rss=$(awk '/^VmHWM/ {print $2}' "/proc/$scim_pid/status")
# The same transaction idgate runs for it: the user, its email, the audit record with the change event,
# sent as idgate sends them, in one pipeline. (A JSON document of the same size without colons, which
# pgbench would take for variables.)
cat >"$work/post_same.sql" <<SQL
\set n random(1, 1000000000000)
\startpipeline
BEGIN;
INSERT INTO users (id, organization_id, user_name, user_name_folded, email_folded, external_id, formatted_name, family_name, given_name, middle_name, honorific_prefix, honorific_suffix, display_name, nick_name, profile_url, title, department, user_type, preferred_language, locale, timezone, status, extensions, active, password_hash, created_at, updated_at, version) VALUES ('pgb-' || :client_id || '-' || :n, '$org_id', 'pgb-' || :client_id || '-' || :n || '@example.com', 'pgb-' || :client_id || '-' || :n || '@example.com', 'pgb-' || :client_id || '-' || :n || '@example.com', '', '', 'User', 'Bench', '', '', '', '', '', '', '', '', '', '', '', '', 'active', '', 1, NULL, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 1);
INSERT INTO user_emails (user_id, organization_id, position, value, value_folded, type, display, is_primary) VALUES ('pgb-' || :client_id || '-' || :n, '$org_id', 0, 'pgb@example.com', 'pgb@example.com', 'work', '', 1);
WITH audit AS (INSERT INTO audit_records (organization_id, at, actor_kind, actor_id, actor_display, client_address, request_id, action, target_type, target_id, target_display, details) VALUES ('$org_id', '2026-01-01T00:00:00.000Z', 'scim_client', 'token', 'bench', '127.0.0.1', '0123456789abcdef', 'user.create', 'user', 'pgb-user', 'pgb@example.com', '["' || repeat('x', 104) || '"]')) INSERT INTO change_events (organization_id, at, type, resource_type, resource_id, payload) VALUES ('$org_id', '2026-01-01T00:00:00.000Z', 'user.created', 'user', 'pgb-user', '["' || repeat('x', 104) || '"]');
COMMIT;
\endpipeline
SQL
read -r post_same _ < <(pg_run "$work/post_same.sql")
read -r _ post_same_p99 < <(pg_run "$work/post_same.sql" prepared "$CONNECTIONS")
# The same SQL as idgate's group commit sends it under this load (store/src/write_batch.hpp): eight
# writes per transaction, each in its own savepoint, two transactions at once (write_transactions).
{
  printf '%s\n' '\set n random(1, 1000000000000)' '\startpipeline' 'BEGIN;'
  for k in 1 2 3 4 5 6 7 8; do
    echo 'SAVEPOINT idgate_write;'
    grep -E '^(INSERT|WITH)' "$work/post_same.sql" | sed "s/:n/:n || '-$k'/g"
    echo 'RELEASE idgate_write;'
  done
  printf '%s\n' 'COMMIT;' '\endpipeline'
} >"$work/post_batched.sql"
read -r post_batched_tps _ < <(pg_run "$work/post_batched.sql" prepared 2)
post_batched=$(awk -v t="$post_batched_tps" 'BEGIN { print t * 8 }')
"$PG_BIN/psql" -X -q "$bench_conninfo" -c "DELETE FROM users WHERE id LIKE 'pgb-%'" -c "DELETE FROM change_events WHERE resource_id LIKE 'pgb-%'" -c "DELETE FROM audit_records WHERE target_id LIKE 'pgb-%'"
# The writes above leave work for autovacuum (and dirty pages for the next checkpoint) that would land on
# whichever measurement comes next: the reads and PATCHes start from a vacuumed, checkpointed database.
"$PG_BIN/psql" -X -q "$bench_conninfo" -c "VACUUM ANALYZE" -c "CHECKPOINT"
rows+=("| SCIM \`POST /Users\`, $CONNECTIONS connections, PostgreSQL durable | $(printf '%.0f' "$raw_tps")/s raw INSERT; $(printf '%.0f' "$post_same")/s same SQL (p99 ${post_same_p99} ms at $CONNECTIONS clients) | $(printf '%.0f' "$post_rps")/s (p99 ${post_p99} ms, non-2xx: ${post_bad}) | **$(ratio "$post_rps" "$raw_tps")** raw, **$(ratio "$post_rps" "$post_same")** same SQL; p99 $(awk -v a="$post_p99" -v b="$post_same_p99" 'BEGIN {printf "%.1f", a/b}')x | 50% (aim 70%); p99 5x (aim 3x) |")
rows+=("| (reference) same SQL as \`POST /Users\`, 8 writes per transaction in savepoints, 2 transactions at once (group commit) | | $(printf '%.0f' "$post_batched") users/s | idgate $(ratio "$post_rps" "$post_batched") of it | - |")

# Reads: one user by id, and by userName filter.
read -r user_id user_name < <("$PG_BIN/psql" -X -At -F ' ' "$bench_conninfo" -c "SELECT id, user_name_folded FROM users LIMIT 1")
users_total=$("$PG_BIN/psql" -X -At "$bench_conninfo" -c "SELECT COUNT(*) FROM users")
echo "SELECT * FROM users WHERE organization_id = '$org_id' AND id = '$user_id';" >"$work/by_id.sql"
echo "SELECT * FROM users WHERE organization_id = '$org_id' AND user_name_folded = '$user_name';" >"$work/by_name.sql"
user_select="u.id, u.organization_id, u.user_name, u.external_id, u.formatted_name, u.family_name, u.given_name, u.middle_name, u.honorific_prefix, u.honorific_suffix, u.display_name, u.nick_name, u.profile_url, u.title, u.department, u.user_type, u.preferred_language, u.locale, u.timezone, u.status, u.extensions, u.created_at, u.updated_at, u.last_login_at, u.active, u.version, (SELECT COALESCE(json_agg(json_build_object('p', m.position, 'v', m.value, 't', m.type, 'd', m.display, 'pr', m.is_primary)), '[]')::text FROM user_emails m WHERE m.user_id = u.id), (SELECT COALESCE(json_agg(json_build_object('p', m.position, 'v', m.value, 't', m.type, 'd', m.display, 'pr', m.is_primary)), '[]')::text FROM user_phone_numbers m WHERE m.user_id = u.id), (SELECT COALESCE(json_agg(json_build_object('v', g.id, 'd', g.display_name) ORDER BY g.display_name), '[]')::text FROM group_members gm JOIN directory_groups g ON g.id = gm.group_id WHERE gm.user_id = u.id)"
echo "SELECT $user_select FROM users u WHERE u.organization_id = '$org_id' AND u.id = '$user_id';" >"$work/by_id_same.sql"
# A filter that is only `userName eq` reads the one row (store::sole_user_name), like GET by id.
echo "SELECT $user_select FROM users u WHERE u.organization_id = '$org_id' AND u.user_name_folded = '$user_name';" >"$work/by_name_same.sql"
read -r raw_by_id raw_by_id_p99 < <(pg_run "$work/by_id.sql")
read -r raw_by_name raw_by_name_p99 < <(pg_run "$work/by_name.sql")
read -r same_by_id _ < <(pg_run "$work/by_id_same.sql")
read -r same_by_name _ < <(pg_run "$work/by_name_same.sql")
read -r _ same_by_id_p99 < <(pg_run "$work/by_id_same.sql" prepared "$CONNECTIONS")
read -r _ same_by_name_p99 < <(pg_run "$work/by_name_same.sql" prepared "$CONNECTIONS")
read -r get_rps get_p99 get_bad < <(wrk_run "http://127.0.0.1:$scim_port/scim/v2/bench/Users/$user_id" "${auth[@]}")
read -r flt_rps flt_p99 flt_bad < <(wrk_run "http://127.0.0.1:$scim_port/scim/v2/bench/Users?filter=userName%20eq%20%22$user_name%22" "${auth[@]}")
rows+=("| SCIM \`GET /Users/{id}\`, ${users_total} users | $(printf '%.0f' "$raw_by_id")/s raw SELECT by key; $(printf '%.0f' "$same_by_id")/s same SQL (p99 ${same_by_id_p99} ms at $CONNECTIONS clients) | $(printf '%.0f' "$get_rps")/s (p99 ${get_p99} ms, non-2xx: ${get_bad}) | **$(ratio "$get_rps" "$raw_by_id")** raw, **$(ratio "$get_rps" "$same_by_id")** same SQL; p99 $(awk -v a="$get_p99" -v b="$same_by_id_p99" 'BEGIN {printf "%.1f", a/b}')x | 25% (aim 40%); p99 5x (aim 3x) |")
rows+=("| SCIM \`GET /Users?filter=userName eq\` | $(printf '%.0f' "$raw_by_name")/s raw SELECT by userName; $(printf '%.0f' "$same_by_name")/s same SQL (p99 ${same_by_name_p99} ms at $CONNECTIONS clients) | $(printf '%.0f' "$flt_rps")/s (p99 ${flt_p99} ms, non-2xx: ${flt_bad}) | **$(ratio "$flt_rps" "$raw_by_name")** raw, **$(ratio "$flt_rps" "$same_by_name")** same SQL; p99 $(awk -v a="$flt_p99" -v b="$same_by_name_p99" 'BEGIN {printf "%.1f", a/b}')x | 25% (aim 40%); p99 5x (aim 3x) |")

# PATCH replace active: each request a different user, against a raw UPDATE of one user by key.
"$PG_BIN/psql" -X -At "$bench_conninfo" -c "SELECT id FROM users WHERE user_name LIKE 'bench-%' ORDER BY created_at" >"$work/ids.txt"
id_count=$(wc -l <"$work/ids.txt")
"$PG_BIN/psql" -X -q "$bench_conninfo" -c "CREATE TABLE bench_ids AS SELECT row_number() OVER (ORDER BY created_at) AS n, id FROM users WHERE user_name LIKE 'bench-%'" -c "CREATE UNIQUE INDEX ON bench_ids (n)"
cat >"$work/update.sql" <<SQL
\set i random(1, $id_count)
UPDATE users SET active = 1 - active, updated_at = '2026-01-01T00:00:00.000Z', version = version + 1 WHERE organization_id = '$org_id' AND id = (SELECT id FROM bench_ids WHERE n = :i);
SQL
read -r raw_update _ < <(pg_run "$work/update.sql")
# The same transaction idgate runs for a PATCH of `active`, in its two round trips: the row locked and read;
# then the whole row written (the status follows `active`) with the status's row in inactive_users, the
# mapping re-evaluation queue, the deactivated user's sessions, the audit record with the change event, and the commit.
patch_id="(SELECT id FROM bench_ids WHERE n = :i)"
user_set="user_name = user_name, user_name_folded = user_name_folded, email_folded = email_folded, external_id = external_id, formatted_name = formatted_name, family_name = family_name, given_name = given_name, middle_name = middle_name, honorific_prefix = honorific_prefix, honorific_suffix = honorific_suffix, display_name = display_name, nick_name = nick_name, profile_url = profile_url, title = title, department = department, user_type = user_type, preferred_language = preferred_language, locale = locale, timezone = timezone, extensions = extensions, updated_at = '2026-01-01T00:00:00.000Z', version = version + 1"
flip="status = CASE WHEN active = 1 THEN 'disabled' ELSE 'active' END, active = 1 - active"
patch_audit="WITH audit AS (INSERT INTO audit_records (organization_id, at, actor_kind, actor_id, actor_display, client_address, request_id, action, target_type, target_id, target_display, details) VALUES ('$org_id', '2026-01-01T00:00:00.000Z', 'scim_client', 'token', 'bench', '127.0.0.1', '0123456789abcdef', 'user.update', 'user', 'pgb-user', 'pgb@example.com', '[\"' || repeat('x', 60) || '\"]')) INSERT INTO change_events (organization_id, at, type, resource_type, resource_id, payload) VALUES ('$org_id', '2026-01-01T00:00:00.000Z', 'user.updated', 'user', 'pgb-user', '[\"' || repeat('x', 300) || '\"]');"
# The status's other copy (migration 10), as idgate writes it when the status changes: the row of a user who
# is not active, inserted on deactivation, deleted on reactivation. idgate knows which and sends one of the two;
# pgbench sends both, one of which finds nothing to do.
status_sync="DELETE FROM inactive_users WHERE user_id = $patch_id AND EXISTS (SELECT 1 FROM users WHERE id = $patch_id AND status = 'active');
INSERT INTO inactive_users (user_id, organization_id, status, created_at) SELECT id, organization_id, status, created_at FROM users WHERE id = $patch_id AND status <> 'active' ON CONFLICT (user_id) DO UPDATE SET status = excluded.status;"
write_patch_sql() {  # write_patch_sql FILE SET_CLAUSE STATUS_STATEMENTS AUDIT_STATEMENT
  cat >"$1" <<SQL
\set i random(1, $id_count)
\startpipeline
BEGIN;
SELECT id FROM users WHERE organization_id = '$org_id' AND id = $patch_id FOR UPDATE;
SELECT $user_select FROM users u WHERE u.organization_id = '$org_id' AND u.id = $patch_id;
\endpipeline
\startpipeline
UPDATE users SET $2 WHERE organization_id = '$org_id' AND id = $patch_id;
$3
INSERT INTO mapping_pending (user_id, connection_id, organization_id, ticket, queued_at) SELECT b.user_id, b.connection_id, b.organization_id, 't', 'q' FROM identity_bindings b WHERE b.user_id = $patch_id ON CONFLICT (user_id, connection_id) DO UPDATE SET ticket = excluded.ticket;
DELETE FROM sessions WHERE user_id = $patch_id;
$4
COMMIT;
\endpipeline
SQL
}
write_patch_sql "$work/patch_same.sql" "$user_set, $flip" "$status_sync" "$patch_audit"
read -r patch_same _ < <(pg_run "$work/patch_same.sql")
# The same SQL as idgate's group commit sends it under this load (store/src/write_batch.hpp): eight PATCHes
# of different users per transaction, their row locks and reads sent together first, then each write in
# its own savepoint, two transactions at once.
{
  for k in 1 2 3 4 5 6 7 8; do echo "\\set i$k random(1, $id_count)"; done
  printf '%s\n' '\startpipeline' 'BEGIN;' "SET LOCAL lock_timeout = '100ms';"
  for k in 1 2 3 4 5 6 7 8; do grep -E '^SELECT' "$work/patch_same.sql" | sed "s/:i)/:i$k)/g"; done
  printf '%s\n' '\endpipeline' '\startpipeline'
  for k in 1 2 3 4 5 6 7 8; do
    echo 'SAVEPOINT idgate_write;'
    sed -n '/^UPDATE users SET/,/^WITH audit/p' "$work/patch_same.sql" | sed "s/:i)/:i$k)/g"
    echo 'RELEASE idgate_write;'
  done
  printf '%s\n' 'COMMIT;' '\endpipeline'
} >"$work/patch_batched.sql"
read -r patch_batched_tps _ < <(pg_run "$work/patch_batched.sql" prepared 2)
patch_batched=$(awk -v t="$patch_batched_tps" 'BEGIN { print t * 8 }')
read -r _ patch_same_p99 < <(pg_run "$work/patch_same.sql" prepared "$CONNECTIONS")
export IDGATE_BENCH_IDS=$work/ids.txt
read -r patch_rps patch_p99 patch_bad < <(wrk_run "http://127.0.0.1:$scim_port" -s bench/scim_patch_user.lua)
read -r raw_update2 _ < <(pg_run "$work/update.sql")
read -r patch_rps2 patch_p992 patch_bad2 < <(wrk_run "http://127.0.0.1:$scim_port" -s bench/scim_patch_user.lua)
raw_update=$(better "$raw_update" "$raw_update2")
if awk -v a="$patch_rps2" -v b="$patch_rps" 'BEGIN { exit !(a > b) }'; then patch_rps=$patch_rps2 patch_p99=$patch_p992 patch_bad=$patch_bad2; fi
rows+=("| SCIM \`PATCH /Users/{id}\` replace active, PostgreSQL durable | $(printf '%.0f' "$raw_update")/s raw UPDATE by key; $(printf '%.0f' "$patch_same")/s same SQL (p99 ${patch_same_p99} ms at $CONNECTIONS clients) | $(printf '%.0f' "$patch_rps")/s (p99 ${patch_p99} ms, non-2xx: ${patch_bad}) | **$(ratio "$patch_rps" "$raw_update")** raw, **$(ratio "$patch_rps" "$patch_same")** same SQL; p99 $(awk -v a="$patch_p99" -v b="$patch_same_p99" 'BEGIN {printf "%.1f", a/b}')x | 35% (aim 55%) |")

rows+=("| (reference) same SQL as \`PATCH\`, 8 users per transaction, their reads sent together, then each write in a savepoint, 2 transactions at once (group commit) | | $(printf '%.0f' "$patch_batched") PATCHes/s | idgate $(ratio "$patch_rps" "$patch_batched") of it | - |")

# Where a write's database time goes: the same SQL without one of its parts, in the same run. Not targets:
# the parts are what the issues ask for (the audit record and change event of every change, the status
# that deactivation sets and the admin list filters on).
write_patch_sql "$work/patch_no_audit.sql" "$user_set, $flip" "$status_sync" ""
write_patch_sql "$work/patch_no_status.sql" "$user_set, active = 1 - active" "" "$patch_audit"
sed '/^WITH audit AS/d' "$work/post_same.sql" >"$work/post_no_audit.sql"
read -r post_no_audit _ < <(pg_run "$work/post_no_audit.sql")
read -r patch_no_audit _ < <(pg_run "$work/patch_no_audit.sql")
read -r patch_no_status _ < <(pg_run "$work/patch_no_status.sql")
rows+=("| (cost) same SQL as \`POST /Users\` without the audit record and change event | $(printf '%.0f' "$post_same")/s with them | $(printf '%.0f' "$post_no_audit")/s | $(ratio "$post_same" "$post_no_audit") | - |")
rows+=("| (cost) same SQL as \`PATCH\` without the audit record and change event | $(printf '%.0f' "$patch_same")/s with them | $(printf '%.0f' "$patch_no_audit")/s | $(ratio "$patch_same" "$patch_no_audit") | - |")
rows+=("| (cost) same SQL as \`PATCH\` leaving the status alone (its column and its \`inactive_users\` row) | $(printf '%.0f' "$patch_same")/s with it | $(printf '%.0f' "$patch_no_status")/s | $(ratio "$patch_same" "$patch_no_status") | - |")

# Idle: 75 s after idgate's last work, by when it has let go of the pool threads and database connections
# a burst made it open (after 60 s without work, by default) and handed their memory back. Its last work is
# not its last request: the runs of the same SQL above insert change events into the bench organisation,
# and idgate's change relay numbers them as they commit.
sleep 75
idle_rss=$(awk '/^VmRSS/ {print $2}' "/proc/$scim_pid/status")
# Most of the resident set is shared libraries' code (file-backed, shared with other processes, and given
# back under memory pressure); the anonymous part is idgate's own heap and stacks.
idle_anon=$(awk '/^RssAnon/ {print $2}' "/proc/$scim_pid/status")
rows+=("| idgate resident memory: at start / idle, 75 s after its last work (${users_total} users) / peak under the POST load | | $((idle_before / 1024)) / $((idle_rss / 1024)) / $((peak_rss / 1024)) MB (idle: $((idle_anon / 1024)) MB anonymous, the rest shared libraries' code) | | idle 20 MB, peak 64 MB |")

# POST /Users on SQLite (WAL, synchronous=FULL) against raw single-row SQLite inserts, one writer.
read -r sqlite_raw_rate sqlite_raw_p99 < <("$bin/bench/sqlite_insert_bench" "$work/raw.sqlite" "$DURATION" | sed 's/rate=\([0-9.]*\) p99_ms=\([0-9.]*\)/\1 \2/')
lite_port=$(free_port 18380)
start_idgate lite "$lite_port" "{type: sqlite, sqlite: {path: $work/lite.db}}" "blocking_threads: $WRITERS"
lite_admin=$started_admin
curl -sf -H "Authorization: Bearer $lite_admin" -d '{"slug":"bench","name":"Bench"}' "http://127.0.0.1:$lite_port/api/v1/organizations" >/dev/null
export IDGATE_BENCH_SCIM_TOKEN=$(curl -sf -H "Authorization: Bearer $lite_admin" -d '{"name":"bench"}' \
  "http://127.0.0.1:$lite_port/api/v1/organizations/bench/scim-tokens" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
export IDGATE_BENCH_RUN=$(date +%s%N)
read -r lite_rps lite_p99 lite_bad < <(wrk_run "http://127.0.0.1:$lite_port" -s bench/scim_create_user.lua)
rows+=("| SCIM \`POST /Users\` on SQLite (WAL, synchronous=FULL), $CONNECTIONS connections | $(printf '%.0f' "$sqlite_raw_rate")/s raw SQLite INSERT, one writer (p99 ${sqlite_raw_p99} ms) | $(printf '%.0f' "$lite_rps")/s (p99 ${lite_p99} ms, non-2xx: ${lite_bad}) | **$(ratio "$lite_rps" "$sqlite_raw_rate")** | 60% (aim 80%) |")
fi

# -- the best peer: Ory Polis's directory-sync SCIM API on the same PostgreSQL ------------------------
# @boxyhq/saml-jackson (bench/polis, pinned by its lockfile; the newest release that runs on Debian 12's
# Node 18), served as the Polis app serves it (bench/polis/server.mjs), with the same wrk scripts and
# concurrency as idgate's rows above. Its numbers are for comparison, not targets.
if has polis; then
if ! command -v npm >/dev/null || ! npm ci --prefix bench/polis --no-audit --no-fund --loglevel=error >&2; then
  rows+=("| Ory Polis | | not measured: its npm packages could not be installed | | |")
else
psql_ -c "CREATE DATABASE polis_bench"
polis_port=$(free_port 18680)
node bench/polis/server.mjs "$polis_port" "postgres://postgres@127.0.0.1:$PG_PORT/polis_bench" >"$work/polis.out" 2>"$work/polis.log" &
polis_pid=$!
pids+=($!)
for _ in $(seq 300); do grep -q "listening" "$work/polis.out" 2>/dev/null && break; sleep 0.1; done
polis_base=$(sed -n 's/.*listening http:\/\/[^/]*\([^ ]*\) .*/\1/p' "$work/polis.out")
polis_secret=$(sed -n 's/.*listening [^ ]* \(.*\)/\1/p' "$work/polis.out")
polis_version=$(node -e "console.log(require('./bench/polis/node_modules/@boxyhq/saml-jackson/package.json').version)")
polis_url="http://127.0.0.1:$polis_port"
polis_auth=(-H "Authorization: Bearer $polis_secret")
polis_start_rss=$(awk '/^VmRSS/ {print $2}' "/proc/$polis_pid/status")
probe=$(curl -sf "${polis_auth[@]}" -H "Content-Type: application/scim+json" -d '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"probe@polis.test","name":{"givenName":"P","familyName":"Q"},"emails":[{"value":"probe@polis.test","type":"work","primary":true}],"active":true}' \
  "$polis_url$polis_base/Users" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
export IDGATE_BENCH_SCIM_TOKEN=$polis_secret IDGATE_BENCH_SCIM_PATH=$polis_base/Users IDGATE_BENCH_RUN=$(date +%s%N)
read -r p_post p_post_p99 p_post_bad < <(wrk_run "$polis_url" -s bench/scim_create_user.lua)
polis_peak_rss=$(awk '/^VmHWM/ {print $2}' "/proc/$polis_pid/status")
read -r p_get p_get_p99 p_get_bad < <(wrk_run "$polis_url$polis_base/Users/$probe" "${polis_auth[@]}")
read -r p_flt p_flt_p99 p_flt_bad < <(wrk_run "$polis_url$polis_base/Users?filter=userName%20eq%20%22probe%40polis.test%22" "${polis_auth[@]}")
for start in $(seq 1 100 2000); do
  curl -sf "${polis_auth[@]}" "$polis_url$polis_base/Users?startIndex=$start&count=100" | grep -o '"id":"[^"]*"' | sed 's/"id":"//; s/"$//'
done | sort -u >"$work/polis-ids.txt"
export IDGATE_BENCH_IDS=$work/polis-ids.txt IDGATE_BENCH_SCIM_PATH=$polis_base/Users
read -r p_patch p_patch_p99 p_patch_bad < <(wrk_run "$polis_url" -s bench/scim_patch_user.lua)
polis_idle_rss=$(awk '/^VmRSS/ {print $2}' "/proc/$polis_pid/status")
beside() {  # beside POLIS_RPS IDGATE_RPS -> "idgate N.Nx" when idgate was measured in this run
  [ -n "$2" ] && awk -v a="$2" -v b="$1" 'BEGIN {printf "idgate %.1fx", a/b}'
}
rows+=("| Ory Polis $polis_version \`POST /Users\`, $CONNECTIONS connections, same PostgreSQL | | $(printf '%.0f' "$p_post")/s (p99 ${p_post_p99} ms, non-2xx: ${p_post_bad}) | $(beside "$p_post" "${post_rps:-}") | best peer |")
rows+=("| Ory Polis $polis_version \`GET /Users/{id}\` | | $(printf '%.0f' "$p_get")/s (p99 ${p_get_p99} ms, non-2xx: ${p_get_bad}) | $(beside "$p_get" "${get_rps:-}") | best peer |")
rows+=("| Ory Polis $polis_version \`GET /Users?filter=userName eq\` | | $(printf '%.0f' "$p_flt")/s (p99 ${p_flt_p99} ms, non-2xx: ${p_flt_bad}) | $(beside "$p_flt" "${flt_rps:-}") | best peer |")
rows+=("| Ory Polis $polis_version \`PATCH /Users/{id}\` replace active ($(wc -l <"$work/polis-ids.txt") users walked) | | $(printf '%.0f' "$p_patch")/s (p99 ${p_patch_p99} ms, non-2xx: ${p_patch_bad}) | $(beside "$p_patch" "${patch_rps:-}") | best peer |")
rows+=("| Ory Polis $polis_version resident memory: at start / idle after the runs / peak under the POST load | | $((polis_start_rss / 1024)) / $((polis_idle_rss / 1024)) / $((polis_peak_rss / 1024)) MB | | best peer |")
fi
fi

# -- SCIM filters from 10,000 to 1,000,000 users -----------------------------------------------------
# The same three equality filters Okta and Entra send (userName, externalId, emails.value) at 10k, 100k and
# 1M users in one organisation (seeded in SQL), each for a third of DURATION at SCALE_CONNECTIONS (1: the
# latency of one request, not of a queue), with the query plans printed. Flat = the p99 does not grow.
if has scale; then
SCALE_CONNECTIONS=${SCALE_CONNECTIONS:-1}
psql_ -c "CREATE DATABASE idgate_scale"
scale_conninfo="host=127.0.0.1 port=$PG_PORT user=postgres dbname=idgate_scale"
scale_port=$(free_port 18480)
start_idgate scale "$scale_port" "{type: postgres, postgres: {connection: \"$scale_conninfo\", pool_size: 8}}"
curl -sf -H "Authorization: Bearer $started_admin" -d '{"slug":"scale","name":"Scale"}' "http://127.0.0.1:$scale_port/api/v1/organizations" >/dev/null
scale_token=$(curl -sf -H "Authorization: Bearer $started_admin" -d '{"name":"bench"}' \
  "http://127.0.0.1:$scale_port/api/v1/organizations/scale/scim-tokens" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
seeded=0
saved_connections=$CONNECTIONS saved_duration=$DURATION
for size in 10000 100000 1000000; do
  echo "== seeding users $((seeded + 1))..$size" >&2
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$scale_conninfo" <<SQL
INSERT INTO users (id, organization_id, user_name, user_name_folded, email_folded, external_id, given_name,
                   family_name, status, active, created_at, updated_at)
SELECT 's' || i, o.id, 'user' || i || '@scale.test', 'user' || i || '@scale.test', 'user' || i || '@scale.test',
       'ext-' || i, 'Given', 'Family', 'active', 1,
       to_char(timestamp '2020-01-01' + i * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       to_char(timestamp '2020-01-01' + i * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
FROM generate_series($((seeded + 1)), $size) AS i, organizations o WHERE o.slug = 'scale';
INSERT INTO user_emails (user_id, organization_id, position, value, value_folded, type, is_primary)
SELECT 's' || i, o.id, 0, 'user' || i || '@scale.test', 'user' || i || '@scale.test', 'work', 1
FROM generate_series($((seeded + 1)), $size) AS i, organizations o WHERE o.slug = 'scale';
ANALYZE;
SQL
  seeded=$size
  CONNECTIONS=$SCALE_CONNECTIONS DURATION=$(( saved_duration > 9 ? saved_duration / 3 : 3 ))
  for filter in 'userName eq "user5000@scale.test"' 'externalId eq "ext-5000"' 'emails.value eq "user5000@scale.test"'; do
    encoded=$(sed 's/ /%20/g; s/"/%22/g' <<<"$filter")
    url="http://127.0.0.1:$scale_port/scim/v2/scale/Users?filter=$encoded"
    total=$(curl -sf -H "Authorization: Bearer $scale_token" "$url" | sed -n 's/.*"totalResults":\([0-9]*\).*/\1/p')
    read -r s_rps s_p99 s_bad < <(wrk_run "$url" -H "Authorization: Bearer $scale_token")
    rows+=("| SCIM \`filter=$filter\`, $size users, $SCALE_CONNECTIONS connection(s) | | $(printf '%.0f' "$s_rps")/s (**p99 ${s_p99} ms**, matches: ${total:-?}, non-2xx: ${s_bad}) | | p99 < 5 ms at 1M, flat |")
  done
  CONNECTIONS=$saved_connections DURATION=$saved_duration
done
scale_org=$("$PG_BIN/psql" -X -At "$scale_conninfo" -c "SELECT id FROM organizations WHERE slug = 'scale'")
# The conditions idgate sends: the userName check reads one row of the directory (store::read_user), the
# other filters a page of it (the organisation's local-only accounts left out by id, migration 9).
directory="u.id NOT IN (SELECT l.id FROM users l WHERE l.organization_id = '$scale_org' AND l.local_only = 1)"
for where in "u.user_name_folded = 'user5000@scale.test' AND u.local_only = 0" "u.external_id = 'ext-5000' AND $directory" \
             "EXISTS (SELECT 1 FROM user_emails e WHERE e.user_id = u.id AND e.organization_id = u.organization_id AND e.value_folded = 'user5000@scale.test') AND $directory"; do
  "$PG_BIN/psql" -X "$scale_conninfo" -c "EXPLAIN ANALYZE SELECT u.id FROM users u WHERE u.organization_id = '$scale_org' AND ($where) ORDER BY u.created_at, u.id LIMIT 100" >>"$work/scale-plan.txt"
done
grep -E "Index|Bitmap|Seq Scan|Execution" "$work/scale-plan.txt" | sed 's/^/    plan: /' >&2
fi

# -- adding one member to a 10-member and to a 100,000-member group ----------------------------------
# Membership changes are set-based (no read-modify-write of the member list), so the big group's PATCH
# should cost what the small one's does (target: within 2x). Each request adds a different user; the
# groups grow by the requests made (a few thousand), which the big group does not notice.
if has groups; then
psql_ -c "CREATE DATABASE idgate_groups"
groups_conninfo="host=127.0.0.1 port=$PG_PORT user=postgres dbname=idgate_groups"
groups_port=$(free_port 18580)
start_idgate groups "$groups_port" "{type: postgres, postgres: {connection: \"$groups_conninfo\", pool_size: $WRITERS}}" "blocking_threads: $WRITERS"
curl -sf -H "Authorization: Bearer $started_admin" -d '{"slug":"groups","name":"Groups"}' "http://127.0.0.1:$groups_port/api/v1/organizations" >/dev/null
export IDGATE_BENCH_SCIM_TOKEN=$(curl -sf -H "Authorization: Bearer $started_admin" -d '{"name":"bench"}' \
  "http://127.0.0.1:$groups_port/api/v1/organizations/groups/scim-tokens" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
group_id() {
  curl -sf -H "Authorization: Bearer $IDGATE_BENCH_SCIM_TOKEN" -H "Content-Type: application/scim+json" \
    -d '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"'"$1"'"}' \
    "http://127.0.0.1:$groups_port/scim/v2/groups/Groups" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p' | head -1
}
small_group=$(group_id small) big_group=$(group_id big)
echo "== seeding 100,010 members and 2 x 40,000 users to add" >&2
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$groups_conninfo" <<SQL
INSERT INTO users (id, organization_id, user_name, user_name_folded, email_folded, given_name, family_name, status,
                   active, created_at, updated_at)
SELECT 'g' || i, o.id, 'member' || i || '@groups.test', 'member' || i || '@groups.test', '', 'Given', 'Family',
       'active', 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'
FROM generate_series(1, 180010) AS i, organizations o WHERE o.slug = 'groups';
INSERT INTO group_members (group_id, user_id, organization_id, added_at)
SELECT '$small_group', 'g' || i, o.id, '2026-01-01T00:00:00.000Z' FROM generate_series(1, 10) AS i, organizations o WHERE o.slug = 'groups';
INSERT INTO group_members (group_id, user_id, organization_id, added_at)
SELECT '$big_group', 'g' || i, o.id, '2026-01-01T00:00:00.000Z' FROM generate_series(11, 100010) AS i, organizations o WHERE o.slug = 'groups';
ANALYZE;
SQL
seq 100011 140010 | sed 's/^/g/' >"$work/small-adds.txt"
seq 140011 180010 | sed 's/^/g/' >"$work/big-adds.txt"
export IDGATE_BENCH_IDS=$work/small-adds.txt IDGATE_BENCH_GROUP_PATH=/scim/v2/groups/Groups/$small_group
read -r small_rps small_p99 small_bad < <(wrk_run "http://127.0.0.1:$groups_port" -s bench/scim_group_add.lua)
export IDGATE_BENCH_IDS=$work/big-adds.txt IDGATE_BENCH_GROUP_PATH=/scim/v2/groups/Groups/$big_group
read -r big_rps big_p99 big_bad < <(wrk_run "http://127.0.0.1:$groups_port" -s bench/scim_group_add.lua)
big_size=$("$PG_BIN/psql" -X -At "$groups_conninfo" -c "SELECT COUNT(*) FROM group_members WHERE group_id = '$big_group'")
rows+=("| SCIM \`PATCH /Groups/{id}\` add one member, 100,000-member group (${big_size} after), $CONNECTIONS connections | $(printf '%.0f' "$small_rps")/s (p99 ${small_p99} ms, non-2xx: ${small_bad}) on a 10-member group, same run | $(printf '%.0f' "$big_rps")/s (p99 ${big_p99} ms, non-2xx: ${big_bad}) | **$(ratio "$big_rps" "$small_rps")**; p99 $(awk -v a="$big_p99" -v b="$small_p99" 'BEGIN {printf "%.1f", a/b}')x | within 2x |")
fi

# -- the admin user list over a million users ----------------------------------------------------------
if has users; then
USERS=${USERS:-1000000}
USERS_CONNECTIONS=${USERS_CONNECTIONS:-1}  # one admin at a time; USERS_CONNECTIONS=4 for a busier console
psql_ -c "CREATE DATABASE idgate_users"
users_port=$(free_port 18280)
users_conninfo="host=127.0.0.1 port=$PG_PORT user=postgres dbname=idgate_users"
start_idgate users "$users_port" "{type: postgres, postgres: {connection: \"$users_conninfo\", pool_size: 8}}"
admin=$started_admin
base="http://127.0.0.1:$users_port/api/v1"
curl -sf -H "Authorization: Bearer $admin" -d '{"slug":"big","name":"Big"}' "$base/organizations" >/dev/null
invite=$(curl -sf -H "Authorization: Bearer $admin" -d '{"email":"owner@big.test"}' "$base/organizations/big/users" |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
curl -sf -d '{"token":"'"$invite"'","password":"Bench-Pass1"}' "$base/invitations/accept" >/dev/null
session=$(curl -sf -d '{"organization":"big","login":"owner@big.test","password":"Bench-Pass1"}' "$base/login" |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
echo "== seeding $USERS users" >&2
# Names from small lists, so that a first or last name matches 1 user in 20 or 50; 1% pending, 1% disabled,
# 1% admins; one email each; creation one second apart.
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$users_conninfo" <<SQL
INSERT INTO users (id, organization_id, user_name, user_name_folded, email_folded, given_name, family_name,
                   display_name, status, active, system_role, created_at, updated_at)
SELECT 'u' || i, o.id, 'user' || i || '@big.test', 'user' || i || '@big.test', 'user' || i || '@big.test',
       (ARRAY['Olivia','Noah','Ava','Liam','Emma','Mia','Lucas','Amelia','Ethan','Sofia','Mateo','Isla','Leo',
              'Chloe','Hugo','Zoe','Ivan','Nora','Omar','Lina'])[1 + i % 20],
       (ARRAY['Smith','Garcia','Muller','Rossi','Silva','Nowak','Kim','Sato','Dubois','Jensen','Novak','Haddad',
              'Okafor','Singh','Cohen','Ivanova','Costa','Moreau','Larsen','Tanaka','Brown','Lopez','Weber','Russo',
              'Santos','Kowalski','Park','Suzuki','Martin','Hansen','Horvat','Aziz','Mensah','Patel','Levi','Popov',
              'Ferreira','Fournier','Berg','Ito','Taylor','Perez','Wagner','Bruno','Gomes','Wojcik','Lee','Kato',
              'Bernard','Nielsen'])[1 + (i / 20) % 50],
       'user' || i,
       CASE WHEN i % 100 = 1 THEN 'pending' WHEN i % 100 = 2 THEN 'disabled' ELSE 'active' END,
       CASE WHEN i % 100 IN (1, 2) THEN 0 ELSE 1 END,
       CASE WHEN i % 100 = 3 THEN 'admin' ELSE 'member' END,
       to_char(timestamp '2020-01-01' + i * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       to_char(timestamp '2020-01-01' + i * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
FROM generate_series(1, $USERS) AS i, organizations o WHERE o.slug = 'big';
INSERT INTO user_emails (user_id, organization_id, position, value, value_folded, type, is_primary)
SELECT u.id, u.organization_id, 0, u.user_name, u.user_name_folded, 'work', 1 FROM users u WHERE u.id LIKE 'u%';
-- What the store writes beside a status other than active (migration 10): the list's status filter reads it.
INSERT INTO inactive_users (user_id, organization_id, status, created_at)
SELECT u.id, u.organization_id, u.status, u.created_at FROM users u WHERE u.id LIKE 'u%' AND u.status <> 'active';
INSERT INTO role_assignments (organization_id, user_id, role_id, scope_id, is_system, source, created_at)
SELECT u.organization_id, u.id, CASE WHEN substr(u.id, 2)::bigint % 100 = 3 THEN 'system:admin' ELSE 'system:member' END,
       '', 1, 'local', u.created_at FROM users u WHERE u.id LIKE 'u%';
ANALYZE;
SQL
org_id=$("$PG_BIN/psql" -X -At "$users_conninfo" -c "SELECT id FROM organizations WHERE slug = 'big'")
# The ceiling: the page query itself (a prefix search, 50 rows of the user columns), raw through pgbench.
cat >"$work/user_page.sql" <<SQL
SELECT u.id, u.user_name, u.given_name, u.family_name, u.status, u.created_at FROM users u
WHERE u.organization_id = '$org_id' AND (u.user_name_folded LIKE 'olivia%' OR u.email_folded LIKE 'olivia%'
  OR lower(u.display_name) LIKE 'olivia%' OR lower(u.given_name) LIKE 'olivia%' OR lower(u.family_name) LIKE 'olivia%')
ORDER BY u.created_at, u.id LIMIT 50;
SQL
raw_page=$("$PG_BIN/pgbench" -n -c "$USERS_CONNECTIONS" -j "$(( USERS_CONNECTIONS < 2 ? USERS_CONNECTIONS : 2 ))" -T "$DURATION" -r -f "$work/user_page.sql" "$users_conninfo" 2>&1)
raw_page_tps=$(awk '/^tps = / {print $3}' <<<"$raw_page")
raw_page_lat=$(awk '/^latency average = / {print $4}' <<<"$raw_page")
export IDGATE_BENCH_SESSION=$session
saved_connections=$CONNECTIONS saved_duration=$DURATION
CONNECTIONS=$USERS_CONNECTIONS DURATION=$(( DURATION > 9 ? DURATION / 3 : 3 ))
total=$("$PG_BIN/psql" -X -At "$users_conninfo" -c "SELECT COUNT(*) FROM users")
# One row per kind of question an admin asks the list: a username, a common first name, a last name, an
# email prefix, the first page, a deeper page, pending invitations, the admins by name, active and pending
# newest first.
for query in "q=user123456" "q=olivia" "q=garcia" "q=user77%40" "" "offset=500" "status=pending" \
             "role=admin&sort=user_name" "include_disabled=false&sort=created&order=desc"; do
  export IDGATE_BENCH_PATH="/api/v1/users?limit=50${query:+&$query}"
  read -r q_rps q_p99 q_bad < <(wrk_run "http://127.0.0.1:$users_port" -s bench/user_list.lua)
  rows+=("| \`GET $IDGATE_BENCH_PATH\`, $total users, $USERS_CONNECTIONS connections | $(printf '%.0f' "$raw_page_tps")/s raw page query | $(printf '%.0f' "$q_rps")/s (**p99 ${q_p99} ms**, non-2xx: ${q_bad}) | $(ratio "$q_rps" "$raw_page_tps") | p99 < 20 ms |")
done
CONNECTIONS=$saved_connections DURATION=$saved_duration
for prefix in user123456 olivia; do
  "$PG_BIN/psql" -X "$users_conninfo" -c "EXPLAIN ANALYZE SELECT u.id FROM users u WHERE u.organization_id = '$org_id' AND (u.user_name_folded LIKE '$prefix%' OR u.email_folded LIKE '$prefix%' OR lower(u.display_name) LIKE '$prefix%' OR lower(u.given_name) LIKE '$prefix%' OR lower(u.family_name) LIKE '$prefix%') ORDER BY u.created_at, u.id LIMIT 50" >>"$work/plan.txt"
done
grep -E "Index|Bitmap|Seq Scan|Execution" "$work/plan.txt" | sed 's/^/    plan: /' >&2
fi

echo
echo "Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(awk '/^model name/ {sub(/^[^:]*: /,""); print; exit}' /proc/cpuinfo), DURATION=${DURATION}s"
echo
echo "| measurement | ceiling (same run) | idgate | ratio | target |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
