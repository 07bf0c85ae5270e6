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
t_all=$(date +%s.%N)

# bounded: a stuck scenario is killed (its END block kills what it
# started)
# shellcheck disable=SC2086
run_scenarios t/fleet build/fleet 150 $sel
fail=$?

printf 'test-fleet: %s in %.0fs\n' "$([ $fail = 0 ] && echo ok || echo FAILED)" \
    "$(echo "$(date +%s.%N) - $t_all" | bc)"
exit $fail
