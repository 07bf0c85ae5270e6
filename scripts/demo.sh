#!/bin/bash
# make demo: the lock maker's incident, replayed against a real nginx with
# fwgate and a real redis-server, both on free loopback ports.  Every step
# prints the request, the status and the reason; the script exits non-zero
# if any step does not behave as it should, and stops what it started.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
ctl=$root/fwgatectl
module=$root/build/ngx_http_fwgate_module.so
nginx_bin=${NGINX_BINARY:-/usr/sbin/nginx}

for f in "$ctl" "$module" "$nginx_bin"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "demo: $f missing: run make" >&2; exit 1; }
done

work=$(mktemp -d /tmp/fwgate-demo.XXXXXX)
chmod 755 "$work"
nginx_pid='' failed=0

stop() {
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
    sleep 0.2
    redis_stop
    rm -rf "$work"
}
trap stop EXIT

if [ -t 1 ]; then B=$'\033[1m' G=$'\033[32m' E=$'\033[31m' N=$'\033[0m'
else B= G= E= N=; fi
bold() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
ok()   { printf '   %sok%s   %s\n' "$G" "$N" "$*"; }
bad()  { printf '   %sFAIL%s %s\n' "$E" "$N" "$*"; failed=1; }

redis_start || exit 1
redis_port=$REDIS_PORT
http_port=$(free_port)
# a second edge server that requires signed release metadata
rel_port=$(free_port)
while [ "$rel_port" = "$http_port" ]; do rel_port=$(free_port); done
ctl_r() { "$ctl" --redis "127.0.0.1:$redis_port" "$@"; }

mkdir -p "$work/logs" "$work/html/firmware" "$work/keys"

# the fleet owner's offline release key (scene 8)
"$ctl" release-key gen --out "$work/keys/release" > /dev/null || exit 1

cat > "$work/nginx.conf" <<EOF
load_module $module;
worker_processes 2;
error_log $work/logs/error.log info;
pid $work/logs/nginx.pid;
daemon off;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $work/tmp;
    proxy_temp_path $work/tmp;
    fastcgi_temp_path $work/tmp;
    uwsgi_temp_path $work/tmp;
    scgi_temp_path $work/tmp;

    fwgate_redis 127.0.0.1:$redis_port timeout=1s;
    fwgate_cache fwgate:4m ttl=60s poll=200ms;
    fwgate_replay_zone fwgate_nonces:1m;

    server {
        listen 127.0.0.1:$http_port;
        root $work/html;

        location /firmware/ {
            fwgate on;
            fwgate_expose_reason on;
        }
    }

    server {
        listen 127.0.0.1:$rel_port;
        root $work/html;
        fwgate_release_keys $work/keys/release.pub;

        location /firmware/ {
            fwgate on;
            fwgate_expose_reason on;
        }
    }
}
EOF

"$nginx_bin" -p "$work" -c "$work/nginx.conf" 2> "$work/nginx.stderr" &
nginx_pid=$!

for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$http_port/" && break
    sleep 0.1
done

bold "fwgate demo: redis on 127.0.0.1:$redis_port, nginx on 127.0.0.1:$http_port"

# --- provisioning ----------------------------------------------------------

bold "Provisioning: two lock models, their devices, one image each"

head -c 65536 /dev/urandom > "$work/html/firmware/ls6000i-2.5.0.bin"
head -c 65536 /dev/urandom > "$work/html/firmware/ls7000i-3.0.0.bin"

devices6="LS6-000101 LS6-000102 LS6-000103 LS6-000104 LS6-000105 LS6-000106"
for d in $devices6 LS7-000201; do
    ctl_r sig keygen --alg hmac-sha256 --out "$work/keys/$d" > /dev/null
done
for d in $devices6; do
    ctl_r device add "$d" --model LS-6000i --alg hmac-sha256 \
        --key "$work/keys/$d.key"
done
ctl_r device add LS7-000201 --model LS-7000i --alg hmac-sha256 \
    --key "$work/keys/LS7-000201.key"

ctl_r artifact add ls6000i-2.5.0.bin --version 2.5.0 --models LS-6000i \
    --file "$work/html/firmware/ls6000i-2.5.0.bin" \
    --path /firmware/ls6000i-2.5.0.bin
ctl_r artifact add ls7000i-3.0.0.bin --version 3.0.0 --models LS-7000i \
    --file "$work/html/firmware/ls7000i-3.0.0.bin" \
    --path /firmware/ls7000i-3.0.0.bin

ctl_r rollout start LS-7000i --artifact ls7000i-3.0.0.bin --percent 100
ctl_r rollout start LS-6000i --artifact ls6000i-2.5.0.bin --percent 50 \
    --from '>=2.0.0 <2.5.0'

# request DEVICE MODEL ARTIFACT: prints the request, status and reason;
# sets $status and $reason
request() {
    local dev=$1 model=$2 art=$3 port=${4:-$http_port} hdrs
    hdrs=$(ctl_r sig sign --alg hmac-sha256 --key "$work/keys/$dev.key" \
               --keyid "$dev" --nonce random \
               -H "X-Device-Model: $model" -H "X-Firmware-Version: 2.4.1" \
               GET "http://127.0.0.1:$port/firmware/$art")
    local args=()
    while IFS= read -r line; do args+=(-H "$line"); done <<< "$hdrs"
    curl -s -o "$work/body" -D "$work/headers" "${args[@]}" \
        -H "X-Device-Model: $model" -H "X-Firmware-Version: 2.4.1" \
        "http://127.0.0.1:$port/firmware/$art"
    status=$(awk 'NR==1 {print $2}' "$work/headers")
    reason=$(awk -F': ' 'tolower($1)=="x-fwgate-reason" {print $2}' \
                 "$work/headers" | tr -d '\r')
    printf '   %s (%s, runs 2.4.1)  GET /firmware/%s\n   -> %s %s\n' \
        "$dev" "$model" "$art" "$status" "$reason"
}

expect() {
    if [ "$status" = "$1" ] && [ "$reason" = "$2" ]; then
        ok "$1 $2"
    else
        bad "expected $1 $2, got $status $reason"
    fi
}

# --- the incident ------------------------------------------------------------

bold "1. A 6000i asks for the 7000i image"
request LS6-000101 LS-6000i ls7000i-3.0.0.bin
expect 403 incompatible

bold "2. The fleet owner points the 6000i rollout at the 7000i image"
if ctl_r rollout start LS-6000i --artifact ls7000i-3.0.0.bin --percent 100
then
    bad "fwgatectl accepted an incompatible rollout"
else
    ok "fwgatectl refused it"
fi

bold "3. Someone writes the same mistake straight into Redis"
echo "   redis-cli HSET fwgate:rollout:LS-6000i artifact ls7000i-3.0.0.bin percent 100"
redis-cli -p "$redis_port" HSET fwgate:rollout:LS-6000i \
    artifact ls7000i-3.0.0.bin percent 100 > /dev/null
redis-cli -p "$redis_port" INCR fwgate:epoch > /dev/null
sleep 0.5
request LS6-000101 LS-6000i ls7000i-3.0.0.bin
expect 403 incompatible
redis-cli -p "$redis_port" HSET fwgate:rollout:LS-6000i \
    artifact ls6000i-2.5.0.bin percent 50 > /dev/null
redis-cli -p "$redis_port" INCR fwgate:epoch > /dev/null
sleep 0.5

bold "4. The rollout at 50%: who is in the cohort (fwgatectl explain)"
in_dev= out_dev=
for d in $devices6; do
    if ctl_r explain --device "$d" --artifact ls6000i-2.5.0.bin \
           --version 2.4.1 > /dev/null; then
        in_dev=${in_dev:-$d}; echo "   $d: in the cohort"
    else
        out_dev=${out_dev:-$d}; echo "   $d: not in the cohort"
    fi
done
[ -n "$in_dev" ] || { ctl_r canary add LS-6000i LS6-000101; in_dev=LS6-000101; }
[ -n "$out_dev" ] || { ctl_r exclude add LS-6000i LS6-000106; out_dev=LS6-000106; }
sleep 0.5

bold "5. A 6000i in the cohort gets its own image"
request "$in_dev" LS-6000i ls6000i-2.5.0.bin
expect 200 ok
want=$(redis-cli -p "$redis_port" HGET fwgate:artifact:ls6000i-2.5.0.bin sha256)
got=$(sha256sum "$work/body" | cut -d' ' -f1)
grep -i '^repr-digest' "$work/headers" | sed 's/^/   /'
if [ "$want" = "$got" ]; then ok "sha256 of the body matches the registry"
else bad "sha256 mismatch: $got vs $want"; fi

bold "6. A 6000i outside the cohort waits its turn"
request "$out_dev" LS-6000i ls6000i-2.5.0.bin
expect 403 not_in_cohort

bold "7. The rollout starts failing: halt it"
ctl_r rollout halt LS-6000i
t0=$(date +%s%N)
for _ in $(seq 40); do
    request "$in_dev" LS-6000i ls6000i-2.5.0.bin > /dev/null
    [ "$status" = 403 ] && break
    sleep 0.05
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
request "$in_dev" LS-6000i ls6000i-2.5.0.bin
expect 403 rollout_halted
if [ "$ms" -le 1000 ]; then ok "refused ${ms} ms after the halt"
else bad "halt took ${ms} ms to reach the edge"; fi

bold "8. LockState: whoever can write Redis rewrites the 7000i image's models"
echo "   (offline) fwgatectl artifact sign ls7000i-3.0.0.bin --key release.key"
ctl_r artifact sign ls7000i-3.0.0.bin --key "$work/keys/release.key"
echo "   edge on :$rel_port has: fwgate_release_keys release.pub;"
request LS7-000201 LS-7000i ls7000i-3.0.0.bin "$rel_port"
expect 200 ok
echo "   redis-cli HSET fwgate:artifact:ls7000i-3.0.0.bin models \"LS-7000i LS-6000i\""
redis-cli -p "$redis_port" HSET fwgate:artifact:ls7000i-3.0.0.bin \
    models "LS-7000i LS-6000i" > /dev/null
echo "   redis-cli HSET fwgate:rollout:LS-6000i artifact ls7000i-3.0.0.bin percent 100 state active"
redis-cli -p "$redis_port" HSET fwgate:rollout:LS-6000i \
    artifact ls7000i-3.0.0.bin percent 100 state active > /dev/null
redis-cli -p "$redis_port" INCR fwgate:epoch > /dev/null
sleep 0.5
echo "   an edge without release keys trusts the registry: the incident"
request LS6-000101 LS-6000i ls7000i-3.0.0.bin
expect 200 ok
echo "   the edge with release keys refuses the rewritten record"
request LS6-000101 LS-6000i ls7000i-3.0.0.bin "$rel_port"
expect 403 unsigned_artifact
ctl_r explain --device LS6-000101 --artifact ls7000i-3.0.0.bin \
    --version 2.4.1 --release-keys "$work/keys/release.pub" | tail -2 \
    | sed 's/^/   /'

bold "What nginx logged"
grep -E 'fwgate: deny|release signature' "$work/logs/error.log" | sed -E 's/^.*fwgate: /   /; s/, client:.*//' | tail -8

if [ "$failed" = 0 ]; then
    bold "demo passed"
else
    bold "demo FAILED"
fi
exit "$failed"
