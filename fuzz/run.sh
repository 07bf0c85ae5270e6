#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined,
# the core sources compiled in) and runs each for FUZZ_SECONDS (default
# 60) on a copy of its seed corpus in fuzz/corpus/<target>/.  Fails on any
# crash, sanitizer report, leak or timeout; prints executions, execs/s and
# coverage.  Called by `make fuzz` from the repository root.
#
# env: FUZZ_SECONDS, FUZZ_TARGETS (default: all), FUZZ_JOBS (parallel
# targets, default: number of CPUs)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
OUT=$ROOT/build/fuzz
SECS=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-fuzz_sf fuzz_sig fuzz_sigfast fuzz_ecdsa fuzz_semver fuzz_decide
         fuzz_record fuzz_report fuzz_token}
JOBS=${FUZZ_JOBS:-$(nproc)}

need_pkgs clang libclang-rt-14-dev libssl-dev libhiredis-dev

mkdir -p "$OUT"
CFLAGS="-std=c99 -D_POSIX_C_SOURCE=200809L -g -O1 -fno-omit-frame-pointer
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
        -Isrc/core -Wall -Wextra -Werror -Wno-unused-parameter -Wno-unused-function"

for t in $TARGETS; do
    echo "fuzz: building $t" >&2
    extra=()
    # fuzz_record reads RESP with hiredis and runs the module's own reply
    # checks, src/core/fwg_reply.c (hiredis types, no nginx headers)
    [ "$t" = fuzz_record ] && extra=(-lhiredis)
    # shellcheck disable=SC2086
    clang $CFLAGS -o "$OUT/$t" "fuzz/$t.c" src/core/*.c "${extra[@]}" -lcrypto
done

run_one() {
    local t=$1 corpus=$OUT/corpus/$t log=$OUT/$t.log dict=
    rm -rf "$corpus" "$OUT/artifacts/$t"
    mkdir -p "$corpus" "$OUT/artifacts/$t"
    cp fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
    [ -f "fuzz/$t.dict" ] && dict=-dict=fuzz/$t.dict
    # the corpus dir gathers what the run finds; the seeds stay as they are
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ASAN_OPTIONS=detect_leaks=1 \
    "$OUT/$t" $dict -max_total_time="$SECS" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$OUT/artifacts/$t/" "$corpus" > "$log" 2>&1
}

pids=() names=()
running=0
for t in $TARGETS; do
    run_one "$t" &
    pids+=($!) names+=("$t")
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done

fail=0
printf '%-12s %8s %12s %10s %8s %8s %s\n' target seconds execs execs/s \
    cov ft result
for i in "${!pids[@]}"; do
    t=${names[$i]}
    rc=0
    wait "${pids[$i]}" || rc=$?
    log=$OUT/$t.log
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    res=ok
    if [ "$rc" != 0 ] || grep -qE 'ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error:' "$log"
    then
        res="FAIL (rc $rc, log $log)"
        fail=1
    fi
    printf '%-12s %8s %12s %10s %8s %8s %s\n' "$t" "$SECS" "${execs:-?}" \
        "${eps:-?}" "${cov:-?}" "${ft:-?}" "$res"
done

if [ "$fail" != 0 ]; then
    for t in $TARGETS; do
        if ls "$OUT/artifacts/$t"/* >/dev/null 2>&1; then
            echo "== $t: crashing inputs in $OUT/artifacts/$t/" >&2
            grep -A30 -E '^==[0-9]+==ERROR|runtime error' "$OUT/$t.log" \
                | head -50 >&2
        fi
    done
    exit 1
fi
