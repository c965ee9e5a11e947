#!/usr/bin/env bash
# Run the test suite (default setup: every suite but 'slow') and print one line
# "N passed, N failed" counting the individual cmocka test cases.
# Usage: bash scripts/test.sh [meson test arguments...]   (BUILD=dir to pick a build)
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
# A throwaway PostGIS server for the 'pg' suite (tests/test_pg.c), when PostgreSQL is
# installed and no server was given in TCLAIMS_TEST_PG; stopped and removed on exit.
if [ -z "${TCLAIMS_TEST_PG:-}" ] && [ -x /usr/lib/postgresql/15/bin/initdb ]; then
    if pg_env=$(bash scripts/pg.sh start); then
        eval "$pg_env"
        trap 'bash scripts/pg.sh stop "$TC_PG_DIR"' EXIT
    else
        echo "test.sh: the PostGIS test server did not start (the pg suite will say so)" >&2
    fi
fi
meson test -C "$BUILD" --print-errorlogs "$@"
status=$?
python3 - "$BUILD/meson-logs/testlog.json" <<'PY'
import json, re, sys
passed = failed = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    ok = len(re.findall(r'^ok \d+', t.get('stdout') or '', re.M))
    bad = len(re.findall(r'^not ok \d+', t.get('stdout') or '', re.M))
    if t['result'] not in ('OK', 'SKIP', 'EXPECTEDFAIL') and bad == 0:
        bad = 1          # crashed, timed out or failed without a TAP line
    if ok == 0 and bad == 0 and t['result'] == 'OK':
        ok = 1           # a test without TAP cases (e.g. a script) counts once
    passed += ok
    failed += bad
print(f"{passed} passed, {failed} failed")
PY
exit $status
