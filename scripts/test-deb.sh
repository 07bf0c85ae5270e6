#!/usr/bin/env bash
# make test-deb: installs build/deb's packages into this machine's nginx
# with dpkg -i, checks that `nginx -t` loads the module through
# /etc/nginx/modules-enabled (no load_module written by hand), serves a
# gated request through a private nginx that reads the same
# modules-enabled and a private redis-server on loopback, then removes
# the packages (dpkg -r, nginx -t still fine; dpkg -P, nothing left).
# Needs root: it changes the machine's packages.  Stops what it started.
set -uo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
OUT=$PWD/build/deb
MOD=libnginx-mod-http-fwgate
LINK=/etc/nginx/modules-enabled/50-mod-http-fwgate.conf
fails=0

ok()  { echo "ok    $*"; }
bad() { echo "FAIL  $*"; fails=$((fails + 1)); }

[ "$(id -u)" = 0 ] || { echo "test-deb: needs root (dpkg -i)" >&2; exit 2; }
ls "$OUT"/${MOD}_*.deb "$OUT"/fwgatectl_*.deb >/dev/null 2>&1 \
    || { echo "test-deb: no packages: make deb" >&2; exit 2; }

work=$(mktemp -d /tmp/fwgate-deb.XXXXXX)
chmod 755 "$work"
nginx_pid=

cleanup() {
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
    redis_stop
    dpkg -P "$MOD" fwgatectl >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

# --- install --------------------------------------------------------------

if dpkg -i "$OUT"/${MOD}_*_*.deb "$OUT"/fwgatectl_*_*.deb \
       > "$work/dpkg-i.log" 2>&1
then
    ok "dpkg -i $MOD fwgatectl"
else
    bad "dpkg -i"; cat "$work/dpkg-i.log"; exit 1
fi

[ -L "$LINK" ] && ok "modules-enabled link: $(readlink "$LINK")" \
    || bad "no $LINK"
grep -q 'load_module modules/ngx_http_fwgate_module.so;' "$LINK" \
    && ok "it loads modules/ngx_http_fwgate_module.so" \
    || bad "the link does not load the module"
nginx -t > "$work/t.log" 2>&1 && ok "nginx -t (the machine's config)" \
    || { bad "nginx -t"; cat "$work/t.log"; }
[ -x /usr/bin/fwgatectl ] && /usr/bin/fwgatectl --help >/dev/null \
    && ok "/usr/bin/fwgatectl runs" || bad "/usr/bin/fwgatectl"
man -w fwgatectl >/dev/null 2>&1 && ok "man fwgatectl" \
    || bad "no fwgatectl(1)"

# --- a gated request through the installed module ----------------------------

redis_start || { bad "redis-server"; exit 1; }
rport=$REDIS_PORT

ctl() { /usr/bin/fwgatectl --redis "127.0.0.1:$rport" "$@"; }
mkdir -p "$work/www/firmware" "$work/logs" "$work/keys"
head -c 4096 /dev/urandom > "$work/www/firmware/ls6000i-2.5.0.bin"
ctl sig keygen --alg hmac-sha256 --out "$work/keys/dev" >/dev/null 2>&1
ctl device add LS6-000001 --model LS-6000i --alg hmac-sha256 \
    --key "$work/keys/dev.key" >/dev/null
ctl artifact add ls6000i-2.5.0.bin --version 2.5.0 --models LS-6000i \
    --file "$work/www/firmware/ls6000i-2.5.0.bin" \
    --path /firmware/ls6000i-2.5.0.bin >/dev/null
ctl rollout start LS-6000i --artifact ls6000i-2.5.0.bin --percent 100 \
    >/dev/null && ok "registry seeded with the installed fwgatectl" \
    || bad "seeding the registry"

hport=$(free_port)
cat > "$work/nginx.conf" <<EOC
# as Debian's nginx.conf does: modules come from modules-enabled
include /etc/nginx/modules-enabled/*.conf;
daemon off;
master_process on;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log info;
events { worker_connections 64; }
http {
    access_log $work/logs/access.log;
    client_body_temp_path $work/tmp/body;
    proxy_temp_path $work/tmp/proxy;
    fastcgi_temp_path $work/tmp/fastcgi;
    uwsgi_temp_path $work/tmp/uwsgi;
    scgi_temp_path $work/tmp/scgi;
    fwgate_redis 127.0.0.1:$rport;
    fwgate_cache fwgate_cache:1m;
    server {
        listen 127.0.0.1:$hport;
        location /firmware/ {
            root $work/www;
            fwgate on;
            fwgate_expose_reason on;
        }
    }
}
EOC
# nginx's own prefix, so that modules-enabled's relative "modules/..."
# resolves as on the machine; every other path is absolute
mkdir -p "$work/tmp"
nginx -c "$work/nginx.conf" -e "$work/logs/error.log" &
nginx_pid=$!
for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$hport/" && break
    sleep 0.05
done

request() {
    local model=$1 args=() line
    while IFS= read -r line; do args+=(-H "$line"); done < <(
        ctl sig sign --alg hmac-sha256 --key "$work/keys/dev.key" \
            --keyid LS6-000001 -H "X-Device-Model: $model" \
            -H "X-Firmware-Version: 2.4.1" \
            GET "http://127.0.0.1:$hport/firmware/ls6000i-2.5.0.bin")
    curl -s -o "$work/body" -D "$work/headers" "${args[@]}" \
        -H "X-Device-Model: $model" -H "X-Firmware-Version: 2.4.1" \
        "http://127.0.0.1:$hport/firmware/ls6000i-2.5.0.bin"
    awk 'NR == 1 { print $2 }' "$work/headers"
}

st=$(request LS-6000i)
if [ "$st" = 200 ] && cmp -s "$work/body" \
       "$work/www/firmware/ls6000i-2.5.0.bin"
then
    ok "signed download through the packaged module: 200, the image"
else
    bad "signed download: $st"; cat "$work/headers" "$work/logs/error.log"
fi
st=$(curl -s -o /dev/null -w '%{http_code}' \
         "http://127.0.0.1:$hport/firmware/ls6000i-2.5.0.bin")
[ "$st" = 401 ] && ok "unsigned: 401" || bad "unsigned: $st"
st=$(request LS-7000i)
[ "$st" = 403 ] && ok "claiming another model: 403" || bad "other model: $st"

kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null; nginx_pid=
redis_stop

# --- remove -------------------------------------------------------------------

dpkg -r "$MOD" fwgatectl > "$work/dpkg-r.log" 2>&1 && ok "dpkg -r" \
    || { bad "dpkg -r"; cat "$work/dpkg-r.log"; }
[ -e "$LINK" ] && bad "$LINK still loads the module" \
    || ok "modules-enabled no longer loads it"
[ -e /usr/lib/nginx/modules/ngx_http_fwgate_module.so ] \
    && bad "the module file is still there" || ok "module file removed"
nginx -t > "$work/t.log" 2>&1 && ok "nginx -t after removal" \
    || { bad "nginx -t after removal"; cat "$work/t.log"; }
dpkg -P "$MOD" fwgatectl > /dev/null 2>&1
ls /etc/nginx/modules-enabled/ | grep -q fwgate \
    && bad "dpkg -P left a modules-enabled entry" \
    || ok "dpkg -P: nothing left in modules-enabled"

echo "test-deb: $([ $fails = 0 ] && echo ok || echo "$fails FAILED")"
[ $fails = 0 ]
