#!/usr/bin/env bash
# `make bench`: plain nginx beside the fwgate gate, in one run, on
# loopback.  Starts a private redis-server and Debian's nginx with the
# built module (a warm instance with the shared cache, a cold one whose
# cache ttl is 0, so every request costs a Redis round trip), provisions
# the registry with fwgatectl, pre-signs every request with bench/gen
# (libfwgcore.a: each request has its own nonce, so each is verified),
# then runs wrk alternately against a plain location serving the same file
# and the gated one.  Prints the table (also build/bench/report.txt) and
# the targets of issue 6.  See docs/benchmarks.md.
#
# env (defaults): BENCH_DURATION (3) seconds per wrk run, BENCH_ROUNDS (2)
# plain/gated pairs per scenario, BENCH_DEVICES (100000) hmac devices for
# the many-devices scenario, BENCH_KEYS (100) ed25519 and P-256 devices,
# BENCH_WORKERS ("1 2") worker_processes values, BENCH_THREADS (1) and
# BENCH_CONNS (32) for wrk, BENCH_RATE_CAP (75000) the highest gated
# req/s expected (sizes the signed sets), BENCH_SCENARIOS (all),
# BENCH_MEMO (on) the decision memo, BENCH_RELEASE=1 requires release
# signatures, BENCH_KEEP=1 keeps the temp dir.  Scenario `token` (not in the
# default list): one device's download token, the token URL only.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
D=${BENCH_DURATION:-3}
ROUNDS=${BENCH_ROUNDS:-2}
NDEV=${BENCH_DEVICES:-100000}
NKEYS=${BENCH_KEYS:-100}
WPS=${BENCH_WORKERS:-1 2}
THREADS=${BENCH_THREADS:-1}
CONNS=${BENCH_CONNS:-32}
RATE_CAP=${BENCH_RATE_CAP:-75000}
SCENARIOS=${BENCH_SCENARIOS:-hmac1 hmacmany ed25519 ecdsa cold big manifest authreq}
NGINX=${NGINX_BIN:-/usr/sbin/nginx}
MODULE=$ROOT/build/ngx_http_fwgate_module.so
OUT=$ROOT/build/bench
T0=$(date +%s)

log() { echo "bench: $*" >&2; }

need_pkgs wrk redis-server redis-tools nginx python3 openssl libssl-dev \
    libhiredis-dev
[ -f "$MODULE" ] && [ -x fwgatectl ] || make -s all >&2

mkdir -p "$OUT"
cc -std=c99 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra \
    -Wno-deprecated-declarations -Isrc/core -o "$OUT/gen" bench/gen.c \
    build/libfwgcore.a -lcrypto

W=$(mktemp -d "${TMPDIR:-/tmp}/fwgate-bench.XXXXXX")
chmod 755 "$W"         # nginx workers (nobody) read www/ below
PIDS=()

cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    redis_stop
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        log "kept $W"
    else
        rm -rf "$W"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

wait_port() {
    local i
    for i in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    log "nothing listens on port $1"
    return 1
}

# --- redis, files, registry ---------------------------------------------

redis_start || exit 1
RPORT=$REDIS_PORT
CTL=("$ROOT/fwgatectl" --redis "127.0.0.1:$RPORT")

mkdir -p "$W/www/firmware" "$W/keys" "$W/cores"
chmod 777 "$W/cores"     # workers (nobody) may dump core there
# a private copy: a rebuild that rewrites build/*.so in place under a
# running nginx crashes its workers
cp "$MODULE" "$W/ngx_http_fwgate_module.so"
MODULE=$W/ngx_http_fwgate_module.so
head -c 1024 /dev/urandom > "$W/www/firmware/bench-1k.bin"
head -c 48 /dev/urandom | base64 > "$W/token.secret"
head -c $((16 * 1024 * 1024)) /dev/urandom > "$W/www/firmware/bench-16m.bin"

log "keys for $NDEV hmac, $NKEYS ed25519 and $NKEYS P-256 devices"
{
    "$OUT/gen" keys hmac-sha256 "$NDEV" BH- BENCH-A "$W/keys"
    "$OUT/gen" keys ed25519 "$NKEYS" BE- BENCH-A "$W/keys"
    "$OUT/gen" keys ecdsa-p256-sha256 "$NKEYS" BC- BENCH-A "$W/keys"
    "$OUT/gen" keys hmac-sha256 1 BB- BENCH-B "$W/keys"
} > "$W/devices.csv"

t=$(date +%s.%N)
"${CTL[@]}" device import "$W/devices.csv" 2>/dev/null | tail -1 >&2
IMPORT_S=$(echo "$(date +%s.%N) - $t" | bc)
IMPORT_N=$(wc -l < "$W/devices.csv")

# the artifacts carry release signatures; BENCH_RELEASE=1 has the edges
# require them (fwgate_release_keys), to show what the check costs
"${CTL[@]}" release-key gen --out "$W/release" >/dev/null
"${CTL[@]}" artifact add bench-1k.bin --version 2.5.0 --models BENCH-A \
    --file "$W/www/firmware/bench-1k.bin" --path /firmware/bench-1k.bin \
    --sign-key "$W/release.key" >/dev/null
"${CTL[@]}" artifact add bench-16m.bin --version 2.5.0 --models BENCH-B \
    --file "$W/www/firmware/bench-16m.bin" --path /firmware/bench-16m.bin \
    --sign-key "$W/release.key" >/dev/null
"${CTL[@]}" rollout start BENCH-A --artifact bench-1k.bin --percent 100 \
    >/dev/null
"${CTL[@]}" rollout start BENCH-B --artifact bench-16m.bin --percent 100 \
    >/dev/null

# --- pre-signed requests ------------------------------------------------

NOW=$(date +%s)
NW=0
for wp in $WPS; do NW=$((NW + 1)); done
PER=$((D * ROUNDS * NW))          # gated seconds per scenario, all wps
ASYM_CAP=$((RATE_CAP < 30000 ? RATE_CAP : 30000))

declare -A SET_PATH SET_COUNT
sign_set() {    # name alg ndev idprefix count path
    local name=$1 alg=$2 n=$3 prefix=$4 count=$5 path=$6
    # only the sets the chosen scenarios use (cold runs on hmac1's)
    [[ " $SCENARIOS " == *" $name "* ]] \
        || { [ "$name" = hmac1 ] && [[ " $SCENARIOS " == *" cold "* ]]; } \
        || return 0
    SET_PATH[$name]=$path
    SET_COUNT[$name]=$count
    "$OUT/gen" sign "$alg" "$n" "$prefix" "$W/keys" "$count" "$path" \
        fw.bench "$7" 2.4.1 "$NOW" "n$name" > "$W/$name.req"
}

log "signing requests"
t=$(date +%s.%N)
sign_set hmac1 hmac-sha256 1 BH- $((RATE_CAP * PER)) \
    /firmware/bench-1k.bin BENCH-A
sign_set hmacmany hmac-sha256 "$NDEV" BH- $((8 * NDEV + RATE_CAP * PER)) \
    /firmware/bench-1k.bin BENCH-A
sign_set ed25519 ed25519 "$NKEYS" BE- $((ASYM_CAP * PER)) \
    /firmware/bench-1k.bin BENCH-A
sign_set ecdsa ecdsa-p256-sha256 "$NKEYS" BC- $((ASYM_CAP * PER)) \
    /firmware/bench-1k.bin BENCH-A
sign_set big hmac-sha256 1 BB- $((2000 * PER)) \
    /firmware/bench-16m.bin BENCH-B
sign_set manifest hmac-sha256 1 BH- $((RATE_CAP * PER)) /update BENCH-A
sign_set authreq hmac-sha256 1 BH- $((20000 * PER)) \
    /authreq/bench-1k.bin BENCH-A
if [[ " $SCENARIOS " == *" token "* ]]; then
    # a download token of one device, reused: the URL is the request
    TOKEN=$("$OUT/gen" token "$W/token.secret" BH-000000 BENCH-A 2.4.1 \
                bench-1k.bin 86400)
    echo NOSIG > "$W/token.req"
    SET_PATH[token]="/firmware/bench-1k.bin?fwt=$TOKEN"
    SET_COUNT[token]=1
fi
SIGN_S=$(echo "$(date +%s.%N) - $t" | bc)
SIGN_N=$(cat "$W"/*.req | wc -l)
log "signed $SIGN_N requests in ${SIGN_S}s"
# the signed sets are gigabytes: written back now, not by the kernel's
# flusher during the first scenario's runs
sync

# --- the auth_request alternative ---------------------------------------

APORT=$(free_port)
python3 bench/authsvc.py "$APORT" "$RPORT" &
AUTH_PID=$!
PIDS+=($!)
wait_port "$APORT"

# --- nginx instances ----------------------------------------------------

declare -A NPORT NPID
write_conf() {  # name wp cache-args
    local name=$1 wp=$2 cache=$3 port=${NPORT[$1]}
    cat > "$W/$name.conf" <<EOF
load_module $MODULE;
worker_processes $wp;
daemon off;
pid $W/$name.pid;
error_log $W/$name-error.log warn;
worker_rlimit_core 2g;
working_directory $W/cores;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    default_type application/octet-stream;
    fwgate_redis 127.0.0.1:$RPORT;
    fwgate_cache bench_$name:$cache;
    fwgate_replay_zone nonce_$name:256m;
    fwgate_token_secret $W/token.secret;
    fwgate_decision_memo ${BENCH_MEMO:-on};
    $([ "${BENCH_RELEASE:-0}" = 1 ] && echo "fwgate_release_keys $W/release.pub;")
    upstream authsvc {
        server 127.0.0.1:$APORT;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$port backlog=4096;
        root $W/www;
        fwgate_max_age 3600;
        location /plain/ {
            alias $W/www/firmware/;
        }
        location /firmware/ {
            fwgate on;
        }
        location = /update {
            fwgate_manifest;
        }
        location = /status {
            fwgate_status;
        }
        location /authreq/ {
            auth_request /_auth;
            alias $W/www/firmware/;
        }
        location = /_auth {
            internal;
            proxy_pass http://authsvc;
            proxy_http_version 1.1;
            proxy_pass_request_body off;
            proxy_set_header Connection "";
            proxy_set_header Content-Length "";
            proxy_set_header Host \$http_host;
            proxy_set_header X-Original-URI \$request_uri;
            proxy_set_header X-Original-Method \$request_method;
        }
    }
}
EOF
}

declare -A OFF
start_nginx() { # name wp cache-args
    local name=$1
    [ -n "${NPORT[$name]:-}" ] || NPORT[$name]=$(free_port)
    write_conf "$@"
    "$NGINX" -p "$W" -c "$W/$name.conf" -e "$W/$name-error.log" &
    NPID[$name]=$!
    PIDS+=($!)
    wait_port "${NPORT[$name]}"
    # fresh zones: every nonce may be used again
    for k in "${!OFF[@]}"; do
        [[ $k == "$name:"* ]] && unset "OFF[$k]"
    done
    return 0
}

stop_nginx() {
    local name=$1 i
    kill -QUIT "${NPID[$name]}" 2>/dev/null || true
    for i in $(seq 1 100); do
        kill -0 "${NPID[$name]}" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "${NPID[$name]}" 2>/dev/null || true
    wait "${NPID[$name]}" 2>/dev/null || true
    # a crashed worker is a finding, not noise
    if grep -q 'exited on signal' "$W/$name-error.log"; then
        CRASHES+=("$name: $(grep -c 'exited on signal' "$W/$name-error.log") worker crashes, e.g. $(grep -m1 'exited on signal' "$W/$name-error.log")")
        cp "$W/$name-error.log" "$OUT/$name-error.log"
        log "nginx $name: workers crashed (build/bench/$name-error.log)"
    fi
}
CRASHES=()

workers_of() {
    pgrep -P "${NPID[$1]}" | tr '\n' ' '
}

# KiB: RssAnon (private heap) and RssShmem (zones touched), summed
rss_of() {
    local p anon=0 shm=0 a s
    for p in $(workers_of "$1"); do
        a=$(awk '/^RssAnon/ {print $2}' "/proc/$p/status")
        s=$(awk '/^RssShmem/ {print $2}' "/proc/$p/status")
        anon=$((anon + a)) shm=$((shm + s))
    done
    echo "$anon $shm"
}

status_val() {  # instance metric-regex: sums matching lines
    curl -s -m 5 "http://127.0.0.1:${NPORT[$1]}/status" \
        | awk -v re="$2" '$0 !~ /^#/ && $1 ~ re {s += $2} END {print s + 0}'
}

# --- wrk ----------------------------------------------------------------

RES=$OUT/results.tsv
printf 'scenario\twp\tside\tround\trequests\tduration_us\tbytes\tp50_us\tp99_us\tnon2xx\tsockerr\tnginx_ticks\tredis_ticks\tauthsvc_ticks\tnginx_user_ticks\n' > "$RES"

# CPU clock ticks (utime + stime; FIELDS='$14' for utime alone) of
# processes, summed
ticks_of() {
    local p t=0 x
    for p in "$@"; do
        x=$(awk "{print ${FIELDS:-\$14 + \$15}}" "/proc/$p/stat" \
            2>/dev/null || echo 0)
        t=$((t + x))
    done
    echo "$t"
}

# "nginx redis authsvc nginx-user" ticks of an instance's workers and the
# helpers: user time apart shows how much of a cost is the kernel's
snap_cpu() {
    # shellcheck disable=SC2046
    echo "$(ticks_of $(workers_of "$1")) $(ticks_of "$REDIS_PID")" \
         "$(ticks_of "$AUTH_PID")" \
         "$(FIELDS='$14' ticks_of $(workers_of "$1"))"
}

# run_wrk instance path set offset count [extra env] -> BENCH line
run_wrk() {
    local inst=$1 path=$2 set=$3 off=$4 count=$5 dur=${6:-$D}
    wrk -t"$THREADS" -c"$CONNS" -d"${dur}s" --timeout 10s \
        -s bench/req.lua "http://127.0.0.1:${NPORT[$inst]}$path" -- \
        "$W/$set.req" "$path" "$(model_of "$set")" 2.4.1 "$off" "$count" \
        2>&1 | grep '^BENCH' || echo "BENCH requests=0 duration_us=1"
}

model_of() { [ "$1" = big ] && echo BENCH-B || echo BENCH-A; }

field() { sed -n "s/.*\<$1=\([0-9]*\).*/\1/p" <<<"$2"; }

record() {      # scenario wp side round BENCH-line cpu-before cpu-after
    local l=$5 b=($6) a=($7)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$1" "$2" "$3" \
        "$4" "$(field requests "$l")" "$(field duration_us "$l")" \
        "$(field bytes "$l")" "$(field p50_us "$l")" "$(field p99_us "$l")" \
        "$(field non2xx "$l")" "$(field sockerr "$l")" \
        $((a[0] - b[0])) $((a[1] - b[1])) $((a[2] - b[2])) \
        $((a[3] - b[3])) >> "$RES"
}

# one scenario: ROUNDS pairs of (plain, gated) runs on one instance
scenario() {    # name wp instance set plain-path gated-path
    local name=$1 wp=$2 inst=$3 set=$4 ppath=$5 gpath=$6 r line k off n
    local perf= c0 c1
    k="$inst:$set"
    # the auth service keeps its nonces across nginx restarts
    [ "$set" != authreq ] || k="authsvc:$set"
    for r in $(seq 1 "$ROUNDS"); do
        perf=
        if [ "$r" = 1 ] && [[ " ${BENCH_PERF:-} " == *" $name "* ]]; then
            perf_run "$inst" "$name-wp$wp-plain" &
            perf=$!
        fi
        c0=$(snap_cpu "$inst")
        line=$(run_wrk "$inst" "$ppath" "$set" 0 $((RATE_CAP * D)))
        c1=$(snap_cpu "$inst")
        [ -z "$perf" ] || wait "$perf" || true
        perf=
        record "$name" "$wp" plain "$r" "$line" "$c0" "$c1"
        off=${OFF[$k]:-0}
        n=$(( SET_COUNT[$set] - off ))
        # a token is not spent: the one request again and again
        [ "$set" != token ] || { off=0; n=1; }
        if [ "$r" = 1 ] && [[ " ${BENCH_PERF:-} " == *" $name "* ]]; then
            perf_run "$inst" "$name-wp$wp" &
            perf=$!
        fi
        c0=$(snap_cpu "$inst")
        [ "$n" -le $((2 * RATE_CAP * D)) ] || n=$((2 * RATE_CAP * D))
        [ "$n" -ge 1 ] || n=1
        line=$(run_wrk "$inst" "$gpath" "$set" "$off" "$n")
        c1=$(snap_cpu "$inst")
        [ -z "$perf" ] || wait "$perf" || true
        record "$name" "$wp" gated "$r" "$line" "$c0" "$c1"
        OFF[$k]=$(( off + $(field requests "$line") + CONNS ))
        log "$name wp=$wp round $r: plain $(rate_of "$(tail -2 "$RES" | head -1)") gated $(rate_of "$(tail -1 "$RES")") req/s"
    done
}

# BENCH_PERF="scenario ...": perf profile of the workers during the first
# plain and gated runs of those scenarios, into
# build/bench/perf-<scenario>-wp<N>[-plain].txt
perf_run() {    # instance tag
    local pids
    pids=$(workers_of "$1" | tr ' ' ',' | sed 's/,$//')
    sleep 0.5
    perf stat -e raw_syscalls:sys_enter -p "$pids" -o "$W/perf-$2.stat" \
        -- sleep 1 >/dev/null 2>&1 &
    perf record -q -g -p "$pids" -o "$W/perf-$2.data" -- \
        sleep $(( D > 2 ? D - 1 : 1 )) >/dev/null 2>&1 || return 0
    wait
    {
        echo "syscalls in 1 s:"
        grep raw_syscalls "$W/perf-$2.stat"
        echo
        perf report -q --stdio --no-children -i "$W/perf-$2.data" \
            --sort dso -g none
        echo
        perf report -q --stdio --no-children -i "$W/perf-$2.data" \
            --percent-limit 0.7 -g none
    } > "$OUT/perf-$2.txt" 2>/dev/null || true
}

rate_of() {
    awk -F'\t' '{ if ($6 > 0) printf "%d", $5 * 1e6 / $6; else print 0 }' <<<"$1"
}

# cache warm-up over every device of a set: each thread stops after its
# share, then wrk is interrupted (it would otherwise sleep out -d)
warm_up() {     # instance set path count
    local inst=$1 set=$2 path=$3 count=$4 k="$1:$2" off pid i line
    off=${OFF[$k]:-0}
    rm -f "$W"/warm.done.*
    BENCH_LIMIT=$(( (count + THREADS - 1) / THREADS )) \
    BENCH_DONE=$W/warm.done \
        wrk -t"$THREADS" -c"$CONNS" -d120s --timeout 10s -s bench/req.lua \
        "http://127.0.0.1:${NPORT[$inst]}$path" -- "$W/$set.req" "$path" \
        BENCH-A 2.4.1 "$off" $((count + 2 * CONNS)) > "$W/warm.out" 2>&1 &
    pid=$!
    for i in $(seq 1 1200); do
        [ "$(ls "$W"/warm.done.* 2>/dev/null | wc -l)" -ge "$THREADS" ] \
            && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -INT "$pid" 2>/dev/null || true
    wait "$pid" || true
    line=$(grep '^BENCH' "$W/warm.out" || echo "BENCH requests=0")
    OFF[$k]=$(( off + $(field requests "$line") + CONNS ))
    WARM_LINE=$line
}

# --- openssl speed --------------------------------------------------------

log "openssl speed (one core)"
openssl speed -seconds 2 ed25519 ecdsap256 > "$W/speed.txt" 2>/dev/null
ED_VERIFY=$(awk '/Ed25519/ && /bits/ {print $NF}' "$W/speed.txt" | tail -1)
EC_VERIFY=$(awk '/nistp256/ && /bits/ {print $NF}' "$W/speed.txt" | tail -1)
log "verify/s: ed25519 $ED_VERIFY, ecdsa-p256 $EC_VERIFY"

# --- the runs -------------------------------------------------------------

has() { [[ " $SCENARIOS " == *" $1 "* ]]; }
MEM_LINES=()

for wp in $WPS; do
    start_nginx warm "$wp" "256m ttl=3600s"
    start_nginx cold "$wp" "16m ttl=0"
    sleep 0.3

    has hmac1 && scenario hmac-1k-1dev "$wp" warm hmac1 \
        /plain/bench-1k.bin /firmware/bench-1k.bin

    if has hmacmany; then
        rss0=$(rss_of warm)
        req0=$(status_val warm '^fwgate_requests_total')
        zu0=$(status_val warm '^fwgate_cache_zone_used_bytes')
        ze0=$(status_val warm '^fwgate_cache_entries')
        # two passes: the first brings every device's records into the
        # cache (a Redis round trip each, not memoized), the second decides
        # each device once from the cache and the worker's decision memo
        # keeps it, as a fleet's steady state has it (a device pays one
        # full decision per record ttl)
        # (each worker keeps its own memo, and a device's request reaches
        # a worker at random: with 2 workers, the 6 passes after the first
        # leave about 1 device in 64 unmemoized in a worker)
        log "warming the cache and the memo with $NDEV devices"
        for pass in $(seq 1 $((wp == 1 ? 2 : 1 + 3 * wp))); do
            warm_up warm hmacmany /firmware/bench-1k.bin "$NDEV"
            log "warm-up pass $pass: $WARM_LINE"
        done
        # after the warm-up every device is cached and memoized and the
        # worker's key and first-level tables are full: from here on RSS
        # must stay flat
        rssw=$(rss_of warm)
        reqw=$(status_val warm '^fwgate_requests_total')
        zu1=$(status_val warm '^fwgate_cache_zone_used_bytes')
        ze1=$(status_val warm '^fwgate_cache_entries')
        MEM_LINES+=("wp=$wp cache zone after $NDEV devices: zone pages in use +$((zu1 - zu0)) bytes, entries +$((ze1 - ze0)): about $(( (zu1 - zu0) / NDEV )) bytes and $(( (ze1 - ze0) * 100 / NDEV ))/100 entries per device")
        mh0=$(status_val warm 'result="hit"')
        mm0=$(status_val warm 'result="miss"')
        scenario "hmac-1k-${NDEV}dev" "$wp" warm hmacmany \
            /plain/bench-1k.bin /firmware/bench-1k.bin
        mh1=$(status_val warm 'result="hit"')
        mm1=$(status_val warm 'result="miss"')
        MEM_LINES+=("wp=$wp $NDEV devices, the measured runs: decision memo hits $((mh1 - mh0)), misses $((mm1 - mm0))")
        rss1=$(rss_of warm)
        req1=$(status_val warm '^fwgate_requests_total')
        MEM_LINES+=("wp=$wp $NDEV devices: warm-up $((reqw - req0)) requests, then $((req1 - reqw)) more; workers RssAnon ${rss0% *} -> ${rssw% *} -> ${rss1% *} KiB, RssShmem ${rss0#* } -> ${rssw#* } -> ${rss1#* } KiB (before warm-up -> after warm-up -> after the runs)")
    fi

    has token && scenario token-1k-1dev "$wp" warm token \
        /plain/bench-1k.bin "${SET_PATH[token]}"

    has ed25519 && scenario ed25519-1k "$wp" warm ed25519 \
        /plain/bench-1k.bin /firmware/bench-1k.bin
    has ecdsa && scenario ecdsa-p256-1k "$wp" warm ecdsa \
        /plain/bench-1k.bin /firmware/bench-1k.bin
    has cold && scenario cold-hmac-1k "$wp" cold hmac1 \
        /plain/bench-1k.bin /firmware/bench-1k.bin
    has big && scenario hmac-16m "$wp" warm big \
        /plain/bench-16m.bin /firmware/bench-16m.bin
    has manifest && scenario update-check "$wp" warm manifest \
        /plain/bench-1k.bin /update
    has authreq && scenario auth_request-py "$wp" warm authreq \
        /plain/bench-1k.bin /authreq/bench-1k.bin

    # health: what the gate decided (denials would be a bench bug)
    log "wp=$wp warm: $(curl -s -m 5 "http://127.0.0.1:${NPORT[warm]}/status" | grep -E '^fwgate_requests_total' | grep -v ' 0$' | tr '\n' ' ')"

    curl -s -m 5 "http://127.0.0.1:${NPORT[warm]}/status" > "$OUT/status-warm-wp$wp.txt"
    curl -s -m 5 "http://127.0.0.1:${NPORT[cold]}/status" > "$OUT/status-cold-wp$wp.txt"
    stop_nginx warm
    stop_nginx cold
done

# --- the table ------------------------------------------------------------

python3 bench/report.py "$RES" "$ED_VERIFY" "$EC_VERIFY" "$(nproc)" \
    "$THREADS" "$CONNS" "$D" "$ROUNDS" > "$OUT/report.txt"
{
    echo
    echo "registry: imported $IMPORT_N devices in ${IMPORT_S}s;" \
         "signed $SIGN_N requests in ${SIGN_S}s"
    for l in "${MEM_LINES[@]}"; do echo "memory: $l"; done
    for l in "${CRASHES[@]}"; do echo "CRASH: $l"; done
    echo "elapsed: $(( $(date +%s) - T0 )) s"
} >> "$OUT/report.txt"
cat "$OUT/report.txt"
[ ${#CRASHES[@]} -eq 0 ] || exit 1
