#!/usr/bin/env bash
# Instructions per request, gated against plain, under callgrind: one
# nginx in single-process mode (master_process off), a real redis-server
# with one artifact and rollout, wrk through bench/req.lua.  Instruction
# counts do not move with the machine's clock or its neighbours, which a
# shared two-vCPU machine's timings do by 10-20 %; use it to see what a
# change costs, make bench to see what it is worth.  Crypto runs on
# valgrind's emulated CPU (no SHA extensions), so OpenSSL's share is
# larger than on the hardware.
#
#   bash bench/instr.sh [warm|cold] [DEVICES] [REQUESTS]
#
# warm: fwgate_cache ttl=3600s (memo hits); cold: ttl=0 (every decision
# reads Redis).  Prints the instructions per request of the whole worker
# for the gated and the plain run, then the functions that differ most.
# The callgrind files stay in the directory printed last.

set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
MODE=${1:-warm} NDEV=${2:-1} N=${3:-3000}
_lib_who=bench-instr
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

need_pkgs valgrind wrk redis-server redis-tools nginx python3
[ -f build/ngx_http_fwgate_module.so ] && [ -x fwgatectl ] || make -s all
mkdir -p build/bench
[ -x build/bench/gen ] || cc -std=c99 -D_POSIX_C_SOURCE=200809L -O2 \
    -Wall -Wextra -Wno-deprecated-declarations -Isrc/core \
    -o build/bench/gen bench/gen.c build/libfwgcore.a -lcrypto

W=$(mktemp -d "${TMPDIR:-/tmp}/fwgate-instr.XXXXXX")
chmod 755 "$W"
NG=
cleanup() {
    [ -z "$NG" ] || kill "$NG" 2>/dev/null || true
    redis_stop
}
trap cleanup EXIT

redis_start
CTL=("$ROOT/fwgatectl" --redis "127.0.0.1:$REDIS_PORT")
mkdir -p "$W/www/firmware" "$W/keys"
head -c 1024 /dev/urandom > "$W/www/firmware/bench-1k.bin"
build/bench/gen keys hmac-sha256 "$NDEV" BH- BENCH-A "$W/keys" \
    > "$W/devices.csv"
"${CTL[@]}" device import "$W/devices.csv" >/dev/null 2>&1
"${CTL[@]}" artifact add bench-1k.bin --version 2.5.0 --models BENCH-A \
    --file "$W/www/firmware/bench-1k.bin" --path /firmware/bench-1k.bin \
    >/dev/null
"${CTL[@]}" rollout start BENCH-A --artifact bench-1k.bin --percent 100 \
    >/dev/null

# warm-up: every device three times (the memo, the key table, the zone);
# each run's lines go 40 past its count, for the requests wrk has in
# flight when it is stopped (a line used twice is a replay: 401)
WARM=$(( NDEV * 3 > 2000 ? NDEV * 3 : 2000 ))
build/bench/gen sign hmac-sha256 "$NDEV" BH- "$W/keys" $((WARM + N + 200)) \
    /firmware/bench-1k.bin fw.bench BENCH-A 2.4.1 "$(date +%s)" ni \
    > "$W/set.req"

[ "$MODE" = cold ] && TTL=0 || TTL=3600s
PORT=$(free_port)
cat > "$W/instr.conf" <<EOF
load_module $ROOT/build/ngx_http_fwgate_module.so;
master_process off;
daemon off;
worker_processes 1;
pid $W/instr.pid;
error_log $W/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    default_type application/octet-stream;
    fwgate_redis 127.0.0.1:$REDIS_PORT;
    fwgate_cache instr:64m ttl=$TTL;
    fwgate_replay_zone nonce_instr:64m;
    server {
        listen 127.0.0.1:$PORT;
        root $W/www;
        fwgate_max_age 3600;
        location /plain/ { alias $W/www/firmware/; }
        location /firmware/ { fwgate on; }
    }
}
EOF

valgrind --tool=callgrind --callgrind-out-file="$W/cg.%p" \
    /usr/sbin/nginx -p "$W" -c "$W/instr.conf" 2>"$W/valgrind.log" &
NG=$!
for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done

run() {         # path offset count [any]: count responses, then stop
    local p
    rm -f "$W"/done.*
    BENCH_LIMIT=$3 BENCH_DONE=$W/done wrk -t1 -c8 -d600s --timeout 60s \
        -s bench/req.lua "http://127.0.0.1:$PORT$1" -- "$W/set.req" "$1" \
        BENCH-A 2.4.1 "$2" $(($3 + 40)) > "$W/wrk.out" 2>&1 &
    p=$!
    while [ ! -e "$W/done.0" ] && kill -0 "$p" 2>/dev/null; do
        sleep 0.2
    done
    kill -INT "$p" 2>/dev/null || true
    wait "$p" || true
    # the warm-up may meet a worker still connecting to Redis (503)
    [ -n "${4:-}" ] || grep -q "non2xx=0 " "$W/wrk.out" || {
        echo "bench-instr: non-2xx answers: $(grep BENCH "$W/wrk.out")" >&2
        exit 1
    }
}

run /firmware/bench-1k.bin 0 "$WARM" any
run /plain/bench-1k.bin 0 500 any
callgrind_control -z "$NG" >/dev/null 2>&1
run /firmware/bench-1k.bin "$((WARM + 50))" "$N"
callgrind_control -d gated "$NG" >/dev/null 2>&1
run /plain/bench-1k.bin 0 "$N"
callgrind_control -d plain "$NG" >/dev/null 2>&1
kill -QUIT "$NG"
wait "$NG" || true
NG=

echo "bench-instr: $MODE, $NDEV device(s), $N requests each"
python3 bench/instr.py "$W"/cg.*.1 "$W"/cg.*.2 "$N"
echo "bench-instr: callgrind files in $W"
