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
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

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
    default="01 02 03 04 05 06 07 08 09 10 11 12 13"
fi

sel=${FAULTS:-$default}
t_all=$(date +%s.%N)

# bounded: a stuck scenario is killed (its END block kills what it
# started)
# shellcheck disable=SC2086
run_scenarios t/faults build/faults 120 $sel
fail=$?

printf 'test-faults: %s in %.0fs\n' "$([ $fail = 0 ] && echo ok || echo FAILED)" \
    "$(echo "$(date +%s.%N) - $t_all" | bc)"
exit $fail
