#!/usr/bin/env bash
# Runs the Test::Nginx suites (t/*.t, or the .t files given as arguments)
# against Debian's nginx with the fwgate module and a private redis-server.
# Called by `make test-nginx` from the repository root.  See docs/testing.md.
#
# Uses the real Test::Nginx when `perl -MTest::Nginx::Socket -e1` works,
# else our work-alike in t/compat (TEST_NGINX_HARNESS=compat forces ours,
# =real insists on the real one).  Exit status: prove's.

set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

# shellcheck source=scripts/lib.sh
. scripts/lib.sh
trap redis_stop EXIT

redis_start || exit 1
export TEST_NGINX_REDIS_PORT=$REDIS_PORT

export TEST_NGINX_BINARY=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
export FWGATECTL=${FWGATECTL:-$ROOT/fwgatectl}
export TEST_NGINX_FWGATE_MODULE=${TEST_NGINX_FWGATE_MODULE:-$ROOT/build/ngx_http_fwgate_module.so}

if [ -f "$TEST_NGINX_FWGATE_MODULE" ]; then
    export TEST_NGINX_LOAD_MODULES=${TEST_NGINX_LOAD_MODULES:-$TEST_NGINX_FWGATE_MODULE}
else
    echo "run-suites: warning: $TEST_NGINX_FWGATE_MODULE not built;" \
         "suites that use fwgate will fail (make module)" >&2
fi

case "${TEST_NGINX_HARNESS:-auto}" in
compat)
    harness=compat ;;
real)
    harness=real ;;
*)
    if perl -MTest::Nginx::Socket -e1 2>/dev/null; then
        harness=real
    else
        harness=compat
    fi ;;
esac

if [ "$harness" = compat ]; then
    export PERL5LIB=$ROOT/t/compat${PERL5LIB:+:$PERL5LIB}
fi

# a free port rather than Test::Nginx's fixed 1984, so a run never
# collides with another nginx on this machine
export TEST_NGINX_SERVER_PORT=${TEST_NGINX_SERVER_PORT:-$(free_port)}

if [ $# -gt 0 ]; then
    suites=("$@")
else
    suites=(t/*.t)
fi

echo "run-suites: harness=$harness redis=127.0.0.1:$TEST_NGINX_REDIS_PORT" \
     "port=$TEST_NGINX_SERVER_PORT nginx=$TEST_NGINX_BINARY" >&2

rc=0
prove -I. "${suites[@]}" || rc=$?
exit "$rc"
