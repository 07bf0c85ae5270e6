# shellcheck shell=bash
# The shell helpers of fwgate's scripts, in one place.  Sourced (bash),
# from the repository root or through the script's own path:
#
#   . "$(dirname "$0")/lib.sh"          (scripts/*.sh)
#   . scripts/lib.sh                    (after cd to the repository root)
#
#   free_port            prints a free loopback TCP port
#   redis_start          starts a private redis-server on a free loopback
#                        port, in a temp dir (its log: $REDIS_DIR/redis.log);
#                        sets REDIS_PORT, REDIS_PID, REDIS_DIR
#   redis_stop           stops it (by pid) and removes its temp dir
#   as_root CMD...       runs CMD as root (directly, or through sudo)
#   need_pkgs [-OPT...] PKG...
#                        installs the Debian packages not installed yet
#                        (dpkg's 'install ok installed'); apt-get update
#                        runs only when something is missing; -OPTs go to
#                        apt-get install; sets NEED_PKGS_INSTALLED
#   fetch_nginx_orig VERSION SUITE OUTDIR
#                        downloads nginx_VERSION.orig.tar.gz from Debian's
#                        source archive (SUITE: bookworm has 1.22.1,
#                        trixie 1.26.3) into OUTDIR, through a private apt
#                        sources list: the machine's apt setup is unchanged
#
# Messages name the calling script, as DIR/NAME (bench/run.sh).

case $0 in
*/*) _lib_who=${0%/*}; _lib_who=${_lib_who##*/}/${0##*/}
     _lib_who=${_lib_who#./} ;;
*)   _lib_who=$0 ;;
esac

# redis refuses --port 0, so pick a free port and hand it over.  It is
# drawn below Linux's ephemeral range (32768-60999): a port from that range
# can be taken as the local port of an outgoing connection between the
# check and the server's bind (seen with nginx restarting per test block
# under load).  A lost race shows up as a failed start (redis_start
# retries).
free_port() {
    perl -MIO::Socket::INET -e '
        for (1 .. 1000) {
            my $p = 10000 + int(rand(22000));
            my $s = IO::Socket::INET->new(LocalAddr => "0.0.0.0",
                                          LocalPort => $p, Listen => 1)
                or next;
            print "$p\n";
            exit 0;
        }
        die "no free port\n";'
}

REDIS_PORT=
REDIS_PID=
REDIS_DIR=

redis_start() {
    local try

    command -v redis-server >/dev/null || {
        echo "$_lib_who: redis-server not found (make deps)" >&2; return 1; }
    command -v redis-cli >/dev/null || {
        echo "$_lib_who: redis-cli not found (make deps)" >&2; return 1; }
    REDIS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/fwgate-redis.XXXXXX")

    for try in 1 2 3; do
        REDIS_PORT=$(free_port)
        redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
            --appendonly no --dir "$REDIS_DIR" --daemonize no \
            --logfile "$REDIS_DIR/redis.log" &
        REDIS_PID=$!
        for _ in $(seq 1 100); do
            if redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG
            then
                return 0
            fi
            kill -0 "$REDIS_PID" 2>/dev/null || break
            sleep 0.05
        done
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
        REDIS_PID=
        echo "$_lib_who: redis-server start $try failed" \
             "(port $REDIS_PORT)" >&2
    done

    echo "$_lib_who: redis-server did not start; its log:" >&2
    cat "$REDIS_DIR/redis.log" >&2 || true
    return 1
}

redis_stop() {
    if [ -n "$REDIS_PID" ] && kill -0 "$REDIS_PID" 2>/dev/null; then
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
    fi
    REDIS_PID=
    if [ -n "$REDIS_DIR" ]; then
        rm -rf "$REDIS_DIR"
    fi
    REDIS_DIR=
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# shellcheck disable=SC2034  # read by the callers
NEED_PKGS_INSTALLED=()

need_pkgs() {
    local opts=() missing=() p
    # shellcheck disable=SC2034  # read by the callers
NEED_PKGS_INSTALLED=()
    for p in "$@"; do
        case "$p" in
        -*) opts+=("$p") ;;
        *)  dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
                | grep -q 'install ok installed' || missing+=("$p") ;;
        esac
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "$_lib_who: installing ${missing[*]}" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq "${opts[@]}" "${missing[@]}"
    # shellcheck disable=SC2034
    NEED_PKGS_INSTALLED=("${missing[@]}")
}

fetch_nginx_orig() {
    local ver=$1 suite=$2 out=$3 tmp rc=0
    local tarball=$out/nginx_$ver.orig.tar.gz
    local keyring=/usr/share/keyrings/debian-archive-keyring.gpg

    [ -f "$tarball" ] && return 0
    mkdir -p "$out"
    [ -f "$keyring" ] || need_pkgs debian-archive-keyring
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/fwgate-apt.XXXXXX")
    mkdir -p "$tmp/lists/partial"
    echo "deb-src [signed-by=$keyring] http://deb.debian.org/debian" \
         "$suite main" > "$tmp/sources.list"
    # a private sources list and lists dir, and no package cache file:
    # nothing of the machine's apt state is read or written
    local apt=(apt-get -q
               -o "Dir::Etc::sourcelist=$tmp/sources.list"
               -o Dir::Etc::sourceparts=-
               -o "Dir::State::Lists=$tmp/lists"
               -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)

    echo "$_lib_who: fetching nginx $ver source ($suite) into $out" >&2
    if ! "${apt[@]}" update > "$tmp/update.log" 2>&1; then
        cat "$tmp/update.log" >&2
        echo "$_lib_who: apt-get update of deb-src $suite failed" >&2
        rm -rf "$tmp"
        return 1
    fi
    # the Debian part (.debian.tar.xz, .dsc) may fail to download: only
    # the upstream tarball matters
    (cd "$out" && "${apt[@]}" source --download-only nginx) \
        > "$tmp/source.log" 2>&1 || rc=$?
    if [ ! -f "$tarball" ]; then
        cat "$tmp/source.log" >&2
        echo "$_lib_who: $suite's deb-src did not give" \
             "nginx_$ver.orig.tar.gz (apt-get source exit $rc; got:" \
             "$(cd "$out" && echo nginx_*.orig.tar.* 2>/dev/null))" >&2
        rm -rf "$tmp"
        return 1
    fi
    rm -rf "$tmp"
}


# run_scenarios DIR LOGDIR TIMEOUT N...: the Perl scenarios DIR/N-*.t, each
# bounded by TIMEOUT seconds (KILL 5 s later), their output in LOGDIR;
# prints PASS/FAIL/SKIP with the time, failed checks, `# SKIP` and
# `# TIMING` lines (test-faults.sh, test-fleet.sh).  Returns 1 on a failure.
run_scenarios() {
    local dir=$1 logdir=$2 tmo=$3 n t name log t0 rc dt tests bad fail=0
    shift 3
    mkdir -p "$logdir"
    for n in "$@"; do
        t=$(ls "$dir/$n"-*.t 2>/dev/null | head -1)
        [ -n "$t" ] || { echo "$_lib_who: no scenario $n" >&2; fail=1
                         continue; }
        name=$(basename "$t" .t)
        log=$logdir/$name.log
        t0=$(date +%s.%N)
        timeout -k 5 "$tmo" perl "$t" >"$log" 2>&1
        rc=$?
        dt=$(echo "$(date +%s.%N) - $t0" | bc)
        tests=$(grep -cE '^(not )?ok ' "$log")
        bad=$(grep -cE '^not ok ' "$log")
        if grep -qiE '^1\.\.0 # skip' "$log"; then
            printf 'SKIP  %-22s %s\n' "$name" \
                "$(sed -n 's/^1\.\.0 # [Ss][Kk][Ii][Pp]\w* *//p' "$log")"
        elif [ $rc -eq 0 ] && [ "$bad" -eq 0 ] \
             && grep -qE '^1\.\.[0-9]+' "$log"
        then
            printf 'PASS  %-22s %3d tests  %5.1fs\n' "$name" "$tests" "$dt"
        else
            printf 'FAIL  %-22s %3d tests, %d failed (exit %d)  %5.1fs  see %s\n' \
                "$name" "$tests" "$bad" "$rc" "$dt" "$log"
            grep -E '^not ok ' "$log" | sed 's/^/        /'
            fail=1
        fi
        grep -E '^# SKIP ' "$log" | sed 's/^# /        /'
        grep -E '^# TIMING ' "$log" | sed 's/^# TIMING /        timing: /'
    done
    return $fail
}

