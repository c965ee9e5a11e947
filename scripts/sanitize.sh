#!/usr/bin/env bash
# Memory and thread checks of the test suite (docs/reliability.md).
#
#   bash scripts/sanitize.sh asan       ASan + UBSan build (build-asan): every suite but slow,
#                                       the example CLI included; leaks via LeakSanitizer
#   bash scripts/sanitize.sh valgrind   memcheck on the normal build (build): unit and data
#                                       suites, zero errors and zero definite leaks
#   bash scripts/sanitize.sh helgrind   helgrind on the normal build: the thread tests and the
#                                       region set (its helper and strip threads)
#   bash scripts/sanitize.sh all        the three, in that order
#
# Each phase ends with "<phase>: N passed, N failed" (scripts/test.sh's count of cmocka
# cases; a sanitizer or valgrind report fails the program it happened in). The exit
# status is non-zero if any phase failed. Suppressions: tests/lsan.supp (LeakSanitizer)
# and tests/valgrind.supp (valgrind), third-party code only, each with its reason.
#
# Environment: BUILD (normal build dir, default build; scripts/setup.sh makes it),
# BUILD_ASAN (default build-asan; set up here when missing).
set -uo pipefail
cd "$(dirname "$0")/.."
B=${BUILD:-build}
BA=${BUILD_ASAN:-build-asan}
phases=("$@")
[ ${#phases[@]} -gt 0 ] || phases=(all)
[ "${phases[0]}" = all ] && phases=(asan valgrind helgrind)

# Run scripts/test.sh with a test setup. meson names the log of a setup
# testlog-<setup>.json while test.sh counts from testlog.json, so for the run testlog.json
# is a link to the setup's log; the previous testlog.json is put back afterwards.
# Prints "<phase>: N passed, N failed".
run_phase() {
    local phase=$1 dir=$2
    shift 2
    local logs="$dir/meson-logs" saved=""
    mkdir -p "$logs"
    if [ -e "$logs/testlog.json" ] && [ ! -L "$logs/testlog.json" ]; then
        saved="$logs/testlog.json.before-$phase"
        mv "$logs/testlog.json" "$saved"
    fi
    rm -f "$logs/testlog.json" "$logs/testlog-$phase.json"
    ln -s "testlog-$phase.json" "$logs/testlog.json"
    local tmp rc last
    tmp=$(mktemp)
    # stream the output, but keep test.sh's own summary line for the prefixed one below
    BUILD="$dir" bash scripts/test.sh --setup "$phase" "$@" 2>&1 |
        tee "$tmp" | grep -v -E '^[0-9]+ passed, [0-9]+ failed$'
    rc=${PIPESTATUS[0]}
    last=$(tail -1 "$tmp")
    rm -f "$tmp" "$logs/testlog.json"
    [ -n "$saved" ] && mv "$saved" "$logs/testlog.json"
    if ! [[ $last =~ ^[0-9]+\ passed,\ [0-9]+\ failed$ ]]; then
        last="0 passed, 1 failed"
    elif [ $rc -ne 0 ] && [[ $last =~ \ 0\ failed$ ]]; then
        last="${last%%,*}, 1 failed" # meson failed without a failing case (setup error)
    fi
    echo "$phase: $last"
    [ $rc -eq 0 ]
}

status=0
for p in "${phases[@]}"; do
    start=$(date +%s)
    case $p in
    asan)
        # No -Dwerror here: the normal build enforces warnings, and GCC's instrumented -O2
        # reports format-truncation false positives that the plain build does not.
        if [ ! -d "$BA" ]; then
            meson setup "$BA" -Db_sanitize=address,undefined -Db_lundef=false \
                >/dev/null || { echo "asan: 0 passed, 1 failed"; status=1; continue; }
        fi
        ninja -C "$BA" >/dev/null || { echo "asan: build failed" >&2; echo "asan: 0 passed, 1 failed"; status=1; continue; }
        run_phase asan "$BA" || status=1
        ;;
    valgrind | helgrind)
        if ! command -v valgrind >/dev/null; then
            echo "$p: valgrind not installed" >&2
            echo "$p: 0 passed, 1 failed"
            status=1
            continue
        fi
        ninja -C "$B" >/dev/null || { echo "$p: build failed" >&2; echo "$p: 0 passed, 1 failed"; status=1; continue; }
        if [ "$p" = valgrind ]; then
            run_phase valgrind "$B" || status=1
        else
            run_phase helgrind "$B" threads regionset || status=1
        fi
        ;;
    *)
        echo "usage: $0 [asan|valgrind|helgrind|all]..." >&2
        exit 2
        ;;
    esac
    echo "$p: $(($(date +%s) - start)) s"
done
exit $status
