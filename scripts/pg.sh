#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the Postgres destination's tests.
#
#   scripts/pg.sh start   # initdb (once) and start; prints the connection URL
#   scripts/pg.sh url     # prints the URL of the running cluster
#   scripts/pg.sh stop    # stops it (the data directory stays for the next start)
#
# The cluster lives in ${CARGO_TARGET_DIR:-target}/pg, listens on 127.0.0.1 only, on a free port chosen
# at each start (kept in pg/port), with its socket next to the data directory and trust authentication for the
# `postgres` user. Run as root, initdb and pg_ctl run as the `postgres` system user. Idempotent: start on
# a running cluster prints its URL, stop on a stopped one does nothing.
set -euo pipefail

root="${CARGO_TARGET_DIR:-target}/pg"
mkdir -p "$root"
root="$(cd "$root" && pwd)"

bindir="${PG_BINDIR:-}"
if [ -z "$bindir" ]; then
    for candidate in /usr/lib/postgresql/*/bin; do
        [ -x "$candidate/pg_ctl" ] && bindir="$candidate"
    done
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/pg_ctl" ]; then
    echo "pg.sh: PostgreSQL server binaries not found (install Debian's postgresql, or set PG_BINDIR)" >&2
    exit 1
fi

as_pg() {
    if [ "$(id -u)" = 0 ]; then
        su postgres -s /bin/sh -c "$*"
    else
        sh -c "$*"
    fi
}

url() {
    echo "postgresql://postgres@127.0.0.1:$(cat "$root/port")/postgres?sslmode=disable"
}

running() {
    [ -f "$data/postmaster.pid" ] && as_pg "'$bindir/pg_ctl' -D '$data' status" >/dev/null 2>&1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The server runs as `postgres` when we are root, and that user cannot enter /root (where the target
# dir usually is): the cluster then lives in a directory under /tmp named after $root, which pg/cluster
# points to.
cluster="$root"
if [ "$(id -u)" = 0 ] && ! su postgres -s /bin/sh -c "test -x '$root'" 2>/dev/null; then
    cluster="/tmp/looker-load-pg-$(printf '%s' "$root" | cksum | cut -d' ' -f1)"
    mkdir -p "$cluster"
    ln -sfn "$cluster" "$root/cluster"
fi
data="$cluster/data"
log="$cluster/log"

case "${1:-start}" in
start)
    if [ "$(id -u)" = 0 ]; then
        chown postgres:postgres "$cluster"
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
        as_pg "'$bindir/initdb' -D '$data' -A trust -U postgres --no-sync" >"$root/initdb.log" 2>&1 || {
            cat "$root/initdb.log" >&2
            exit 1
        }
    fi
    if ! running; then
        free_port >"$root/port"
        as_pg "'$bindir/pg_ctl' -D '$data' -o \"-p $(cat "$root/port") -k '$cluster' -c listen_addresses=127.0.0.1 -c fsync=off\" -l '$log' -w start" >/dev/null || {
            tail -20 "$log" >&2
            exit 1
        }
    fi
    url
    ;;
url)
    running || { echo "pg.sh: the cluster in $root is not running" >&2; exit 1; }
    url
    ;;
stop)
    if running; then
        as_pg "'$bindir/pg_ctl' -D '$data' -m fast -w stop" >/dev/null
    fi
    ;;
*)
    echo "usage: $0 start|url|stop" >&2
    exit 2
    ;;
esac
