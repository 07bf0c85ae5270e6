#!/usr/bin/env bash
# Redis fault scenarios against a real nginx (master + 2 workers) and
# real redis-servers on loopback: t/faults/*.t, see docs/faults.md.
# Called by `make test-faults` from the repository root.
#
#   FAULTS="01 05" scripts/test-faults.sh   only those scenarios
#   FAULTS_VALGRIND=1                        nginx under valgrind
#                                            (master off, one worker),
#                                            the scenarios that need no
#                                            master; errors fail the run
#   FAULTS_KEEP=1                            keep the temp dirs
#
# Prints PASS/FAIL per scenario with its time and the TIMING lines the
# scenarios measure; logs in build/faults/.  Exit 1 on any failure.

set -uo pipefail

cd "$(dirname "$0")/.." || exit 2

for f in build/ngx_http_fwgate_module.so fwgatectl; do
    [ -e "$f" ] || { echo "test-faults: $f missing: make module cli" >&2
                     exit 2; }
done
for b in redis-server redis-cli "${NGINX_BIN:-/usr/sbin/nginx}" perl; do
    command -v "$b" >/dev/null || { echo "test-faults: $b not found" >&2
                                    exit 2; }
done

if [ "${FAULTS_VALGRIND:-0}" != 0 ]; then
    command -v valgrind >/dev/null || {
        echo "test-faults: valgrind not found (apt-get install valgrind)" >&2
        exit 2; }
    # no master: no reload/upgrade; timing-heavy ones are too slow
    default="04 05 07 08 09"
else
    default="01 02 03 04 05 06 07 08 09 10 11"
fi

sel=${FAULTS:-$default}
mkdir -p build/faults
fail=0
t_all=$(date +%s.%N)

for n in $sel; do
    t=$(ls t/faults/"$n"-*.t 2>/dev/null | head -1)
    [ -n "$t" ] || { echo "test-faults: no scenario $n" >&2; fail=1; continue; }
    name=$(basename "$t" .t)
    log=build/faults/$name.log
    t0=$(date +%s.%N)
    timeout -k 5 120 perl "$t" >"$log" 2>&1
    rc=$?
    dt=$(echo "$(date +%s.%N) - $t0" | bc)
    tests=$(grep -cE '^(not )?ok ' "$log")
    bad=$(grep -cE '^not ok ' "$log")
    if [ $rc -eq 0 ] && [ "$bad" -eq 0 ] && grep -qE '^1\.\.[0-9]+' "$log"
    then
        printf 'PASS  %-22s %3d tests  %5.1fs\n' "$name" "$tests" "$dt"
    else
        printf 'FAIL  %-22s %3d tests, %d failed (exit %d)  %5.1fs  see %s\n' \
            "$name" "$tests" "$bad" "$rc" "$dt" "$log"
        grep -E '^not ok ' "$log" | sed 's/^/        /'
        fail=1
    fi
    grep -E '^# TIMING ' "$log" | sed 's/^# TIMING /        timing: /'
done

printf 'test-faults: %s in %.0fs\n' "$([ $fail = 0 ] && echo ok || echo FAILED)" \
    "$(echo "$(date +%s.%N) - $t_all" | bc)"
exit $fail
