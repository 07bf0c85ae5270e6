#!/bin/bash
# make test-token: a stock updater's download with a download token, end
# to end against a real nginx with fwgate and a real redis-server (docs/
# testing.md).  One signed update check gets the token_url; then curl
# fetches the whole 1.5 MiB image with ONLY that URL and Range headers, in
# 64 KiB ranges, and the sha256 must match; then `fwgatectl rollout halt`
# and the next range must be refused within 1 s (the time is printed).
# Exits non-zero on any failure and stops what it started.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
ctl=$root/fwgatectl
module=$root/build/ngx_http_fwgate_module.so
nginx_bin=${NGINX_BINARY:-/usr/sbin/nginx}

for f in "$ctl" "$module" "$nginx_bin"; do
    [ -x "$f" ] || [ -f "$f" ] || {
        echo "token-e2e: $f missing: run make" >&2; exit 1; }
done

work=$(mktemp -d /tmp/fwgate-token.XXXXXX)
chmod 755 "$work"
nginx_pid='' failed=0

stop() {
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
    sleep 0.2
    redis_stop
    rm -rf "$work"
}
trap stop EXIT

ok()  { printf '   ok   %s\n' "$*"; }
bad() { printf '   FAIL %s\n' "$*"; failed=1; }
die() { printf '   FAIL %s\n' "$*"; exit 1; }

redis_start || exit 1
redis_port=$REDIS_PORT
http_port=$(free_port)
ctl_r() { "$ctl" --redis "127.0.0.1:$redis_port" "$@"; }

mkdir -p "$work/logs" "$work/html/firmware" "$work/keys" "$work/tmp"
head -c 48 /dev/urandom | base64 > "$work/token.secret"
chmod 600 "$work/token.secret"

cat > "$work/nginx.conf" <<EOF
load_module $module;
worker_processes 2;
error_log $work/logs/error.log info;
pid $work/logs/nginx.pid;
daemon off;
events { worker_connections 256; }
http {
    log_format tok '\$request \$status \$fwgate_auth \$fwgate_reason';
    access_log $work/logs/access.log tok;
    client_body_temp_path $work/tmp;
    proxy_temp_path $work/tmp;
    fastcgi_temp_path $work/tmp;
    uwsgi_temp_path $work/tmp;
    scgi_temp_path $work/tmp;

    fwgate_redis 127.0.0.1:$redis_port timeout=1s;
    fwgate_cache fwgate:4m ttl=60s poll=200ms;
    fwgate_replay_zone fwgate_nonces:1m;
    fwgate_token_secret $work/token.secret;
    fwgate_token_ttl 1h;

    server {
        listen 127.0.0.1:$http_port;
        root $work/html;

        location /firmware/ {
            fwgate on;
            fwgate_expose_reason on;
        }

        location = /fw/check {
            fwgate_manifest base_url=http://127.0.0.1:$http_port;
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
kill -0 "$nginx_pid" 2>/dev/null || {
    cat "$work/nginx.stderr" >&2; die "nginx did not start"; }

echo "== registry: a device, a 1.5 MiB image, a rollout"

art=rauc-bundle-2.5.0.raucb
img=$work/html/firmware/$art
head -c $((1536 * 1024 + 123)) /dev/urandom > "$img"
size=$(stat -c %s "$img")
want=$(sha256sum "$img" | cut -d' ' -f1)
dev=LS6-900001

ctl_r sig keygen --alg hmac-sha256 --out "$work/keys/$dev" > /dev/null
ctl_r device add "$dev" --model LS-6000i --alg hmac-sha256 \
    --key "$work/keys/$dev.key" || die "device add"
ctl_r artifact add "$art" --version 2.5.0 --models LS-6000i \
    --file "$img" --path "/firmware/$art" || die "artifact add"
ctl_r rollout start LS-6000i --artifact "$art" --percent 100 \
    || die "rollout start"
ok "device $dev, artifact $art ($size bytes), rollout 100%"

echo "== one signed update check"

check=http://127.0.0.1:$http_port/fw/check
hdrs=$(ctl_r sig sign --alg hmac-sha256 --key "$work/keys/$dev.key" \
           --keyid "$dev" --nonce random \
           -H "X-Device-Model: LS-6000i" -H "X-Firmware-Version: 2.4.1" \
           GET "$check")
args=()
while IFS= read -r line; do args+=(-H "$line"); done <<< "$hdrs"
body=$(curl -s -f "${args[@]}" -H "X-Device-Model: LS-6000i" \
           -H "X-Firmware-Version: 2.4.1" "$check") \
    || die "update check failed"
url=$(printf '%s' "$body" | sed -n 's/.*"token_url":"\([^"]*\)".*/\1/p')
tok=$(printf '%s' "$body" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$url" ] && [ -n "$tok" ] || die "no token_url in: $body"
ok "token_url: ${url%%fwt=*}fwt=<${#tok} chars>"

if ctl_r explain --token "$tok" --token-secret "$work/token.secret" \
       > "$work/explain" 2>&1; then
    ok "fwgatectl explain --token: $(tail -1 "$work/explain")"
else
    bad "fwgatectl explain --token: $(cat "$work/explain")"
fi

echo "== the image in 64 KiB ranges, ONLY the token URL and Range"

: > "$work/got"
off=0 n=0
while [ "$off" -lt "$size" ]; do
    end=$((off + 65535))
    [ "$end" -ge "$size" ] && end=$((size - 1))
    code=$(curl -s -o "$work/part" -w '%{http_code}' \
               -H "Range: bytes=$off-$end" "$url")
    [ "$code" = 206 ] || die "range $off-$end: $code"
    cat "$work/part" >> "$work/got"
    off=$((end + 1)) n=$((n + 1))
done
got=$(sha256sum "$work/got" | cut -d' ' -f1)
if [ "$got" = "$want" ]; then
    ok "$n ranges, sha256 $got matches"
else
    bad "sha256 $got, want $want"
fi

if grep -q "$tok" "$work/logs/access.log" "$work/logs/error.log"; then
    bad "the token appears in a log"
else
    ok "the token appears in no log (access log: fwt=***)"
fi

echo "== rollout halt: the next range is refused"

t0=$(date +%s.%N)
ctl_r rollout halt LS-6000i > /dev/null || die "rollout halt"
code=
while :; do
    code=$(curl -s -o /dev/null -w '%{http_code}' \
               -H "Range: bytes=0-65535" "$url")
    [ "$code" != 206 ] && break
    now=$(date +%s.%N)
    if [ "$(echo "$now - $t0 > 3" | bc)" = 1 ]; then
        break
    fi
    sleep 0.02
done
t1=$(date +%s.%N)
dt=$(echo "$t1 - $t0" | bc)
printf '   halt to refusal: %.3f s (status %s)\n' "$dt" "$code"
if [ "$code" = 403 ] && [ "$(echo "$dt <= 1" | bc)" = 1 ]; then
    ok "refused within 1 s"
else
    bad "not refused within 1 s"
fi

[ "$failed" = 0 ] && echo "token-e2e: PASS" || echo "token-e2e: FAIL"
exit "$failed"
