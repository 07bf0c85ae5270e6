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

REDIS_PID=
REDIS_DIR=

stop_redis() {
    if [ -n "$REDIS_PID" ] && kill -0 "$REDIS_PID" 2>/dev/null; then
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
    fi
    if [ -n "$REDIS_DIR" ]; then
        rm -rf "$REDIS_DIR"
    fi
}
trap stop_redis EXIT

# redis refuses --port 0, so ask the kernel for a free loopback port and
# hand it over; a lost race shows up as a failed start and is retried
free_port() {
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
                                      LocalPort => 0, Listen => 1)
            or die "no free port: $!\n";
        print $s->sockport, "\n";'
}

start_redis() {
    local try port i

    command -v redis-server >/dev/null || {
        echo "run-suites: redis-server not found (make deps)" >&2; exit 1; }
    REDIS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/fwgate-redis.XXXXXX")

    for try in 1 2 3; do
        port=$(free_port)
        redis-server --port "$port" --bind 127.0.0.1 --save '' \
            --appendonly no --dir "$REDIS_DIR" --daemonize no \
            --logfile "$REDIS_DIR/redis.log" &
        REDIS_PID=$!
        for i in $(seq 1 100); do
            if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
                TEST_NGINX_REDIS_PORT=$port
                return 0
            fi
            kill -0 "$REDIS_PID" 2>/dev/null || break
            sleep 0.05
        done
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
        REDIS_PID=
    done

    echo "run-suites: redis-server did not start; its log:" >&2
    cat "$REDIS_DIR/redis.log" >&2 || true
    exit 1
}

start_redis
export TEST_NGINX_REDIS_PORT

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
