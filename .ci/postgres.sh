# Sourced by .ci/run: a throwaway PostgreSQL server on loopback for the shared-study test.
# start_postgres exports TSFM_TEST_POSTGRES_URL; stop_postgres stops it and removes its files.
# Uses the machine's PostgreSQL binaries, installing Debian's postgresql package if there are none.

find_postgres_bin() {
  local dir
  for dir in /usr/local/bin /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

start_postgres() {
  if ! PG_BIN=$(find_postgres_bin); then
    echo "ci: no PostgreSQL binaries; installing Debian's postgresql" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      postgresql >/dev/null
    PG_BIN=$(find_postgres_bin)
  fi
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tsfm-postgres.XXXXXX")
  PG_AS=()
  if [ "$(id -u)" -eq 0 ]; then  # initdb and postgres refuse to run as root
    local user=postgres
    id -u "$user" >/dev/null 2>&1 || user=nobody
    chown "$user" "$PG_DIR"
    PG_AS=(runuser -u "$user" --)
  fi
  "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U tsfm --auth=trust >/dev/null
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR" start >/dev/null
  export TSFM_TEST_POSTGRES_URL="postgresql+psycopg2://tsfm@127.0.0.1:$port/postgres"
  echo "ci: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
}

stop_postgres() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ]; then
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
