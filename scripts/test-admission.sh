#!/usr/bin/env bash
# The two-edge admission check (docs/fleet-guide.md, "Admission"): one
# redis-server, two nginx edges (2 workers each) sharing it, a rollout
# with max_starts_per_min N, and DEVICES devices racing for their first
# download, half on each edge, all at once.  The limit lives in Redis, so
# the edges together admit N (within a few percent is the contract; the
# script is atomic, so exactly N is expected) and throttle the rest with
# 503 rollout_throttled and Retry-After.  Prints the figures.  Called by
# `make test-admission` from the repository root.
#
#   DEVICES=300 LIMIT=60 scripts/test-admission.sh
#   ADM_KEEP=1    keep the temp dir (logs, configs)

set -uo pipefail

cd "$(dirname "$0")/.." || exit 2

DEVICES=${DEVICES:-300}
LIMIT=${LIMIT:-60}
NGINX=${NGINX_BIN:-/usr/sbin/nginx}
ROOT=$(pwd)
CTL=$ROOT/fwgatectl
MOD=$ROOT/build/ngx_http_fwgate_module.so
ART=ls6000i-2.5.0.bin

for f in "$MOD" "$CTL"; do
    [ -e "$f" ] || { echo "test-admission: $f missing: make all" >&2; exit 2; }
done
for b in redis-server redis-cli curl "$NGINX"; do
    command -v "$b" >/dev/null || { echo "test-admission: $b not found" >&2
                                    exit 2; }
done

dir=$(mktemp -d /tmp/fwgate-admission.XXXXXX)
chmod 755 "$dir"   # nginx workers read the firmware file
pids=()

cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for e in a b; do
        [ -s "$dir/$e/nginx.pid" ] && kill "$(cat "$dir/$e/nginx.pid")" 2>/dev/null
    done
    wait 2>/dev/null
    [ -n "${ADM_KEEP:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$dir" >"$dir/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
    redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break
    sleep 0.1
done

ctl() { "$CTL" --redis "127.0.0.1:$RPORT" --prefix adm: "$@"; }

# the registry: DEVICES hmac devices, the artifact, a limited rollout

mkdir -p "$dir/root/firmware"
head -c 65536 /dev/urandom >"$dir/root/firmware/$ART"
chmod -R a+rX "$dir/root"
ctl artifact add "$ART" --version 2.5.0 --models LS-6000i \
    --file "$dir/root/firmware/$ART" --path "/firmware/$ART" >/dev/null \
    || exit 1

mkdir -p "$dir/keys"
: >"$dir/devices.csv"
for i in $(seq 1 "$DEVICES"); do
    id=$(printf 'LS6-%06d' "$i")
    key=$(head -c 32 /dev/urandom | base64)
    printf '%s' "$key" >"$dir/keys/$id.key"
    echo "$id,LS-6000i,,hmac-sha256,$key" >>"$dir/devices.csv"
done
ctl device import "$dir/devices.csv" >/dev/null || exit 1
ctl rollout start LS-6000i --artifact "$ART" --percent 100 \
    --max-starts-per-min "$LIMIT" >/dev/null || exit 1

# two edges

for e in a b; do
    mkdir -p "$dir/$e/tmp"
    port=$(free_port)
    echo "$port" >"$dir/$e/port"
    cat >"$dir/$e/nginx.conf" <<_EOC_
load_module $MOD;
worker_processes 2;
error_log $dir/$e/error.log notice;
pid $dir/$e/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/$e/tmp/body;
    proxy_temp_path $dir/$e/tmp/proxy;
    fastcgi_temp_path $dir/$e/tmp/fastcgi;
    uwsgi_temp_path $dir/$e/tmp/uwsgi;
    scgi_temp_path $dir/$e/tmp/scgi;
    fwgate_redis 127.0.0.1:$RPORT prefix=adm:;
    fwgate_cache adm_cache:4m poll=200ms;
    fwgate_replay_zone adm_replay:4m;
    server {
        listen 127.0.0.1:$port;
        location /firmware/ {
            root $dir/root;
            fwgate on;
            fwgate_expose_reason on;
        }
    }
}
_EOC_
    "$NGINX" -p "$dir/$e" -c "$dir/$e/nginx.conf" \
        || { echo "test-admission: nginx $e did not start" >&2; exit 1; }
done
sleep 0.5

# one signed request per device, odd devices on edge a, even on b

mkdir -p "$dir/req" "$dir/out"
for i in $(seq 1 "$DEVICES"); do
    id=$(printf 'LS6-%06d' "$i")
    e=$([ $((i % 2)) = 1 ] && echo a || echo b)
    port=$(cat "$dir/$e/port")
    ctl sig sign --key "$dir/keys/$id.key" --keyid "$id" --alg hmac-sha256 \
        --nonce random -H 'X-Device-Model: LS-6000i' \
        -H 'X-Firmware-Version: 2.4.1' \
        GET "http://127.0.0.1:$port/firmware/$ART" >"$dir/req/$id" \
        || exit 1
    echo "$port" >"$dir/req/$id.port"
done

t0=$(date +%s.%N)
cpids=()
for i in $(seq 1 "$DEVICES"); do
    id=$(printf 'LS6-%06d' "$i")
    port=$(cat "$dir/req/$id.port")
    hdrs=()
    while IFS= read -r l; do
        [ -n "$l" ] && hdrs+=(-H "$l")
    done <"$dir/req/$id"
    curl -s -o /dev/null -D "$dir/out/$id.h" -w '%{http_code}\n' \
        -H 'X-Device-Model: LS-6000i' -H 'X-Firmware-Version: 2.4.1' \
        "${hdrs[@]}" "http://127.0.0.1:$port/firmware/$ART" \
        >"$dir/out/$id" 2>/dev/null &
    cpids+=($!)
done
wait "${cpids[@]}"
t1=$(date +%s.%N)

ok=$(cat "$dir"/out/LS6-?????? | grep -c '^200$')
thr=$(grep -li '^x-fwgate-reason: rollout_throttled' "$dir"/out/*.h | wc -l)
ra=$(grep -li '^retry-after: [1-9]' "$dir"/out/*.h | wc -l)
other=$((DEVICES - ok - thr))
oka=0; okb=0
for i in $(seq 1 "$DEVICES"); do
    id=$(printf 'LS6-%06d' "$i")
    if grep -q '^200$' "$dir/out/$id"; then
        if [ $((i % 2)) = 1 ]; then oka=$((oka + 1)); else okb=$((okb + 1)); fi
    fi
done
starts=$(redis-cli -p "$RPORT" zcard "adm:starts:LS-6000i:$ART")
dls=$(redis-cli -p "$RPORT" zcard "adm:downloads:LS-6000i:$ART")
counted=$(redis-cli -p "$RPORT" hget "adm:stats:LS-6000i:$ART" throttled)

printf 'test-admission: %d devices, 2 edges x 2 workers, limit %d starts/min, %.2fs\n' \
    "$DEVICES" "$LIMIT" "$(echo "$t1 - $t0" | bc)"
printf '  admitted %d (edge a %d, edge b %d), throttled %d (with Retry-After %d), other %d\n' \
    "$ok" "$oka" "$okb" "$thr" "$ra" "$other"
printf '  redis: starts %s, downloads %s, stats throttled %s\n' \
    "$starts" "$dls" "${counted:-0}"

# within a few percent (5 %, at least 1) of the limit, and consistent
tol=$(( LIMIT / 20 > 1 ? LIMIT / 20 : 1 ))
fail=0
[ $((ok - LIMIT)) -le "$tol" ] && [ $((LIMIT - ok)) -le "$tol" ] \
    || { echo "  FAIL: admitted $ok, limit $LIMIT (tolerance $tol)"; fail=1; }
[ "$other" = 0 ] || { echo "  FAIL: $other answers neither 200 nor throttled"; fail=1; }
[ "$ra" = "$thr" ] || { echo "  FAIL: a throttled answer without Retry-After"; fail=1; }
[ "$starts" = "$ok" ] && [ "$dls" = "$ok" ] \
    || { echo "  FAIL: redis records disagree with the answers"; fail=1; }

[ $fail = 0 ] && echo "test-admission: ok" || echo "test-admission: FAILED"
exit $fail
