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
# a running cluster prints its URL (after reloading the settings below), stop on a stopped one does nothing.
#
# TLS and authentication for the error and TLS tests (set up at every start; needs the openssl CLI, else
# the cluster runs without TLS and says so on stderr):
#   * ssl=on with a throwaway CA (ca.crt in the cluster directory) and a server certificate for
#     localhost and 127.0.0.1 signed by it; other-ca.crt is a second CA that signed nothing. The URL
#     printed carries sslrootcert=<ca.crt> (with sslmode=disable, so plain clients are unaffected).
#   * members of the role looker_load_password log in with scram-sha-256 (a password);
#   * members of looker_load_tls_only may log in over TLS only (hostssl; plain text is rejected);
#   * everyone else: trust.
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
    local tls=""
    [ -f "$cluster/ca.crt" ] && tls="&sslrootcert=$cluster/ca.crt"
    echo "postgresql://postgres@127.0.0.1:$(cat "$root/port")/postgres?sslmode=disable$tls"
}

# Certificates (once) and the TLS and authentication settings (every start).
configure() {
    if command -v openssl >/dev/null 2>&1; then
        if [ ! -f "$cluster/ca.crt" ] || [ ! -f "$data/server.crt" ]; then
            local tmp
            tmp="$(mktemp -d)"
            local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
            openssl req -x509 "${ec[@]}" -days 3650 -subj "/CN=looker-load test CA" \
                -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
                -keyout "$tmp/ca.key" -out "$tmp/ca.crt" 2>/dev/null
            openssl req -x509 "${ec[@]}" -days 3650 -subj "/CN=looker-load other CA" \
                -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
                -keyout "$tmp/other-ca.key" -out "$tmp/other-ca.crt" 2>/dev/null
            openssl req "${ec[@]}" -subj "/CN=localhost" -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
            printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
                "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$tmp/ext"
            openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial \
                -days 3650 -extfile "$tmp/ext" -out "$tmp/server.crt" 2>/dev/null
            install -m 0644 "$tmp/ca.crt" "$tmp/other-ca.crt" "$cluster/"
            install -m 0644 "$tmp/server.crt" "$data/server.crt"
            install -m 0600 "$tmp/server.key" "$data/server.key"
            if [ "$(id -u)" = 0 ]; then
                chown postgres:postgres "$data/server.crt" "$data/server.key"
            fi
            rm -rf "$tmp"
        fi
        printf '%s\n' "ssl = on" "ssl_cert_file = 'server.crt'" "ssl_key_file = 'server.key'" \
            "password_encryption = 'scram-sha-256'" >"$data/looker_load.conf"
    else
        echo "pg.sh: openssl not found (Debian package: openssl): the cluster runs without TLS" >&2
        : >"$data/looker_load.conf"
    fi
    grep -q "^include_if_exists = 'looker_load.conf'" "$data/postgresql.conf" ||
        echo "include_if_exists = 'looker_load.conf'" >>"$data/postgresql.conf"
    cat >"$data/pg_hba.conf" <<'HBA'
# written by scripts/pg.sh
local     all all                              trust
hostssl   all +looker_load_tls_only 127.0.0.1/32 trust
hostnossl all +looker_load_tls_only 127.0.0.1/32 reject
host      all +looker_load_password 127.0.0.1/32 scram-sha-256
host      all all 127.0.0.1/32                 trust
host      all all ::1/128                      trust
HBA
    if [ "$(id -u)" = 0 ]; then
        chown postgres:postgres "$data/looker_load.conf" "$data/pg_hba.conf"
    fi
}

# The group roles the pg_hba.conf lines above name.
roles() {
    as_pg "'$bindir/psql' -h '$cluster' -p $(cat "$root/port") -U postgres -d postgres -qAtX -v ON_ERROR_STOP=1" <<'SQL' >/dev/null
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'looker_load_password') THEN
    CREATE ROLE looker_load_password NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'looker_load_tls_only') THEN
    CREATE ROLE looker_load_tls_only NOLOGIN;
  END IF;
END $$;
SQL
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
    configure
    if ! running; then
        free_port >"$root/port"
        as_pg "'$bindir/pg_ctl' -D '$data' -o \"-p $(cat "$root/port") -k '$cluster' -c listen_addresses=127.0.0.1 -c fsync=off\" -l '$log' -w start" >/dev/null || {
            tail -20 "$log" >&2
            exit 1
        }
    else
        as_pg "'$bindir/pg_ctl' -D '$data' reload" >/dev/null
    fi
    roles
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
