#!/usr/bin/env bash
# The fleet test: one Redis primary, three replicas each behind a TCP
# delay proxy (50-150 ms per chunk), three nginx edges (2 workers each)
# reading their own replica first, three Sentinels for the failover; all
# on loopback, started and stopped by t/fleet/*.t.  See docs/faults.md,
# "The fleet test".  Called by `make test-fleet` from the repository root.
#
#   FLEET="01 04" scripts/test-fleet.sh    only those scenarios
#   FLEET_ROUNDS=N                         halts per mode (default 10)
#   FLEET_DEBUG=1                          every round's time
#   FAULTS_KEEP=1                          keep the temp dirs
#
# Prints PASS/FAIL/SKIP per scenario with its time, the skips' reasons and
# the TIMING lines the scenarios measure; logs in build/fleet/.  Exit 1 on
# any failure.

set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
. scripts/lib.sh

for f in build/ngx_http_fwgate_module.so fwgatectl; do
    [ -e "$f" ] || { echo "test-fleet: $f missing: make module cli" >&2
                     exit 2; }
done
# redis-sentinel: Debian's Sentinel (scenario 3 runs redis-server --sentinel,
# which the package's configuration and docs come with)
need_pkgs redis-server redis-tools redis-sentinel || exit 2
for b in redis-server redis-cli "${NGINX_BIN:-/usr/sbin/nginx}" perl; do
    command -v "$b" >/dev/null || { echo "test-fleet: $b not found" >&2
                                    exit 2; }
done

sel=${FLEET:-01 02 03 04 05}
mkdir -p build/fleet
fail=0
t_all=$(date +%s.%N)

for n in $sel; do
    t=$(ls t/fleet/"$n"-*.t 2>/dev/null | head -1)
    [ -n "$t" ] || { echo "test-fleet: no scenario $n" >&2; fail=1; continue; }
    name=$(basename "$t" .t)
    log=build/fleet/$name.log
    t0=$(date +%s.%N)
    # bounded: a stuck scenario is killed (its END block kills what it
    # started; -k: KILL 5 s later)
    timeout -k 5 150 perl "$t" >"$log" 2>&1
    rc=$?
    dt=$(echo "$(date +%s.%N) - $t0" | bc)
    tests=$(grep -cE '^(not )?ok ' "$log")
    bad=$(grep -cE '^not ok ' "$log")
    if grep -qiE '^1\.\.0 # skip' "$log"; then
        printf 'SKIP  %-22s %s\n' "$name" \
            "$(sed -n 's/^1\.\.0 # [Ss][Kk][Ii][Pp]\w* *//p' "$log")"
    elif [ $rc -eq 0 ] && [ "$bad" -eq 0 ] && grep -qE '^1\.\.[0-9]+' "$log"
    then
        printf 'PASS  %-22s %3d tests  %5.1fs\n' "$name" "$tests" "$dt"
    else
        printf 'FAIL  %-22s %3d tests, %d failed (exit %d)  %5.1fs  see %s\n' \
            "$name" "$tests" "$bad" "$rc" "$dt" "$log"
        grep -E '^not ok ' "$log" | sed 's/^/        /'
        fail=1
    fi
    grep -E '^# SKIP ' "$log" | sed 's/^# /        /'
    grep -E '^# TIMING ' "$log" | sed 's/^# TIMING /        timing: /'
done

printf 'test-fleet: %s in %.0fs\n' "$([ $fail = 0 ] && echo ok || echo FAILED)" \
    "$(echo "$(date +%s.%N) - $t_all" | bc)"
exit $fail
