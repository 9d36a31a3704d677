# Sourced by tools/test.sh and bench/run.sh: starts a throwaway PostgreSQL cluster in a temporary
# directory, on loopback only, as the `postgres` user (PostgreSQL refuses to run as root), and stops
# and deletes it when the calling script exits.
#   start_throwaway_postgres [extra postgres -c options...]
# Sets PG_PORT, PG_DIR and PG_CONNINFO ("host=127.0.0.1 port=... user=postgres dbname=postgres").

start_throwaway_postgres() {
  local pg_bin
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  PG_BIN=$pg_bin
  PG_DIR=$(mktemp -d /tmp/idgate-pg.XXXXXX)
  chown postgres: "$PG_DIR"
  trap stop_throwaway_postgres EXIT
  runuser -u postgres -- "$pg_bin/initdb" -D "$PG_DIR/data" -U postgres -A trust --no-sync >/dev/null
  local extra base_options="-c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_DIR -c max_connections=300"
  for extra in "$@"; do base_options+=" -c $extra"; done
  # A free port now can be taken a moment later (another run, a server still shutting down): try a few.
  local p attempts=0
  PG_PORT=
  for p in $(seq 55432 55532); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
    if runuser -u postgres -- "$pg_bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
         -o "$base_options -c port=$p" start >/dev/null; then
      PG_PORT=$p
      break
    fi
    attempts=$((attempts + 1))
    if [ "$attempts" -ge 5 ]; then
      echo "PostgreSQL did not start; its log:" >&2
      cat "$PG_DIR/server.log" >&2 || true
      return 1
    fi
  done
  [ -n "$PG_PORT" ] || { echo "no free port for PostgreSQL" >&2; return 1; }
  PG_CONNINFO="host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres"
  echo "== PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($*)"
}

stop_throwaway_postgres() {
  [ -n "${PG_DIR:-}" ] || return 0
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
