#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `scripts/pg_cluster.sh start DIR` makes one in DIR
# (initdb on first use), listening on 127.0.0.1 only on a free port and on a socket inside DIR,
# and prints the SQLAlchemy URL of an empty database on it; `scripts/pg_cluster.sh stop DIR` stops it.
# PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user.
set -euo pipefail

action=${1:?usage: pg_cluster.sh start|stop DIR}
dir=$(mkdir -p "${2:?usage: pg_cluster.sh start|stop DIR}" && cd "$2" && pwd)

bindir() {
    if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$found" ] || { echo "PostgreSQL is not installed (no initdb); apt-get install postgresql" >&2; exit 3; }
    echo "$found"
}

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

bin=$(bindir)
data="$dir/data"
case "$action" in
start)
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; fi
    if [ ! -f "$data/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --no-sync --no-locale -E UTF8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # fsync off: a test cluster that loses its data in a power cut loses nothing of value.
    as_owner "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    psql=$(command -v psql || echo "$bin/psql")
    as_owner "$psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS tb_test" -c "CREATE DATABASE tb_test" >/dev/null
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/tb_test"
    ;;
stop)
    [ -f "$data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    ;;
*)
    echo "usage: pg_cluster.sh start|stop DIR" >&2; exit 2
    ;;
esac
