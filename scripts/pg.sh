#!/usr/bin/env bash
# A throwaway PostGIS server for the tests (tests/test_pg.c), on a Unix socket only.
#   eval "$(bash scripts/pg.sh start)"   # exports TCLAIMS_TEST_PG and TC_PG_DIR
#   bash scripts/pg.sh stop "$TC_PG_DIR"
# The cluster lives in a fresh temporary directory (no TCP port, trust authentication,
# fsync off) and is removed by "stop". PostgreSQL refuses to run as root: as root the
# server runs as the 'postgres' user that Debian's package creates. Needs Debian's
# postgresql-15 and postgresql-15-postgis-3 (scripts/setup.sh installs them).
set -euo pipefail
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$cmd" in
start)
    [ -x "$BIN/initdb" ] || { echo "pg.sh: no PostgreSQL in $BIN" >&2; exit 1; }
    dir=$(mktemp -d /tmp/tclaims-pg.XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    as_owner "$BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off -c port=5432" \
        start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$BIN/createdb" -h "$dir" -U postgres tclaims_test
    as_owner "$BIN/psql" -q -h "$dir" -U postgres -d tclaims_test -c 'CREATE EXTENSION postgis' >/dev/null
    echo "export TC_PG_DIR='$dir'"
    echo "export TCLAIMS_TEST_PG='PG:host=$dir port=5432 user=postgres dbname=tclaims_test'"
    ;;
stop)
    dir=${2:?usage: pg.sh stop DIR}
    case "$dir" in /tmp/tclaims-pg.*) ;; *) echo "pg.sh: not a test cluster: $dir" >&2; exit 1 ;; esac
    as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: pg.sh start | stop DIR" >&2
    exit 2
    ;;
esac
