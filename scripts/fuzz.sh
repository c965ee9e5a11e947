#!/usr/bin/env bash
# Build the libFuzzer targets (tests/fuzz) and run each for a fixed time.
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]     default: 60 s each, every target
#
# SECONDS is per target; targets run one after another (one core). Each run starts from
# the committed seed corpus (tests/fuzz/corpus/<dir>) plus what earlier runs on this
# machine found (build-fuzz/fuzz-corpus/<target>, not committed). A crash, UBSan report,
# timeout, oversized allocation or failed check leaves the input in
# build-fuzz/fuzz-artifacts/ and fails the target.
#
# Leaks are checked in a second pass: GEOS and libstdc++ have no frame pointers, so with
# ASan's fast unwinder a leak inside GEOS shows only malloc and operator new, and the
# third-party suppressions of tests/lsan.supp cannot match it; the full unwinder makes
# GEOS-heavy targets 20 times slower (6 frames: 5 to 10 times). So the timed run has leak detection off, and then
# the whole corpus (seeds and everything the run kept) is executed once more with the full
# unwinder and LeakSanitizer on. Prints one line per target (executions and exec/s of the
# timed run) and then "fuzz: N passed, N failed"; exits non-zero if a target failed.
#
# Environment: BUILD_FUZZ (default build-fuzz), FUZZ_CC (default clang-14, else clang),
# FUZZ_RSS_MB (default 2048), FUZZ_LOG_DIR (default $BUILD_FUZZ/fuzz-logs), FUZZ_SEED
# (libFuzzer's -seed: the same mutations every run, as CI wants; unset: a random seed, to
# find new inputs).
set -uo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))
ALL=(layer snapshot date lookup wkt report report_geom cache tiles)
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")
B=${BUILD_FUZZ:-build-fuzz}
CCFUZZ=${FUZZ_CC:-$(command -v clang-14 || command -v clang || true)}
if [ -z "$CCFUZZ" ]; then
    echo "fuzz: clang not found (Debian 12: apt-get install clang-14 libclang-rt-14-dev)" >&2
    echo "fuzz: 0 passed, 1 failed"
    exit 1
fi

# target -> corpus dir, max_len, extra options
declare -A CORPUS=([layer]=geojson [snapshot]=geojson [report]=report [date]=date
                   [lookup]=names [wkt]=wkt [report_geom]=geom [cache]=cache
                   [tiles]=tiles)
declare -A MAXLEN=([layer]=4096 [snapshot]=4096 [report]=4096 [date]=256 [lookup]=512
                   [wkt]=1024 [report_geom]=512 [cache]=8192 [tiles]=65536)
declare -A EXTRA=([layer]="-dict=tests/fuzz/geojson.dict" [snapshot]="-dict=tests/fuzz/geojson.dict"
                  [report]="-dict=tests/fuzz/geojson.dict" [wkt]="-dict=tests/fuzz/wkt.dict")

if [ ! -d "$B" ]; then
    CC=$CCFUZZ meson setup "$B" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
        -Dexamples=false -Ddocs=disabled >/dev/null || { echo "fuzz: 0 passed, 1 failed"; exit 1; }
fi
ninja -C "$B" $(for t in "${TARGETS[@]}"; do echo "tests/fuzz/fuzz_$t"; done) >/dev/null ||
    { echo "fuzz: build failed" >&2; echo "fuzz: 0 passed, 1 failed"; exit 1; }

LOGS=${FUZZ_LOG_DIR:-$B/fuzz-logs}
mkdir -p "$LOGS" "$B/fuzz-artifacts"
# LeakSanitizer: third-party suppressions only (tests/lsan.supp); UBSan findings are fatal.
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
passed=0
failed=0
printf '%-12s %6s %12s %9s  %s\n' target seconds executions exec/s result
for t in "${TARGETS[@]}"; do
    exe="$B/tests/fuzz/fuzz_$t"
    work="$B/fuzz-corpus/$t"
    mkdir -p "$work"
    log="$LOGS/fuzz_$t.log"
    start=$(date +%s)
    # first corpus dir receives new inputs; the seeds are only read
    ASAN_OPTIONS=detect_leaks=0 "$exe" "$work" "tests/fuzz/corpus/${CORPUS[$t]}" \
        -max_total_time="$SECS" -max_len="${MAXLEN[$t]}" -timeout=20 ${FUZZ_SEED:+-seed=$FUZZ_SEED} \
        -rss_limit_mb="${FUZZ_RSS_MB:-2048}" -detect_leaks=0 -print_final_stats=1 \
        -artifact_prefix="$B/fuzz-artifacts/$t-" ${EXTRA[$t]:-} >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [ $rc -eq 0 ]; then # the leak pass over every input kept
        # six frames reach the GEOS function a suppression names, at a third of the cost
        # of full stacks; no timeout here: a slow input was already judged above
        ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:malloc_context_size=6 \
            "$exe" "$work" "tests/fuzz/corpus/${CORPUS[$t]}" -runs=0 \
            -max_len="${MAXLEN[$t]}" -timeout=0 -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
            -artifact_prefix="$B/fuzz-artifacts/$t-" >>"$log" 2>&1
        rc=$?
    fi
    secs=$(( $(date +%s) - start ))
    if [ $rc -eq 0 ]; then
        result=ok
        passed=$((passed + 1))
    else
        result="FAILED (exit $rc; see $log and $B/fuzz-artifacts/$t-*)"
        failed=$((failed + 1))
        grep -m1 -E "ERROR: |fuzz check failed|runtime error" "$log" >&2 || tail -20 "$log" >&2
    fi
    printf '%-12s %6s %12s %9s  %s\n' "$t" "$secs" "${execs:-?}" "${rate:-?}" "$result"
done
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
