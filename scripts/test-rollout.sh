#!/usr/bin/env bash
# The phased-rollout simulation (docs/fleet-guide.md, "Phased rollouts"):
# two nginx edges on loopback sharing one redis-server, 10,000 simulated
# devices with HMAC keys, a four-phase rollout with a short hold.
# Run 1: every device polls the update check, downloads when offered and
# reports success: the edges advance the rollout to 100 % on their own.
# Run 2: a fraction of the devices report failure in phase 2: it halts.
# Called by `make test-rollout` from the repository root; bounded to a few
# minutes.  Exit 1 on failure.
#
#   SIM_DEVICES=N      devices (default 10000)
#   SIM_PROCS=N        client processes (default 4)

set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
. scripts/lib.sh

for f in build/ngx_http_fwgate_module.so fwgatectl; do
    [ -e "$f" ] || { echo "test-rollout: $f missing: make module cli" >&2
                     exit 2; }
done

trap redis_stop EXIT
redis_start || exit 1

SIM_REDIS_PORT=$REDIS_PORT timeout 600 perl -I. scripts/rollout-sim.pl
