#!/usr/bin/env bash
# Builds nginx 1.22.1 from its upstream source with AddressSanitizer and
# UBSan, with ngx_http_fwgate_module (also sanitized) as a dynamic module,
# then runs the t/ suites against that binary and fails on any sanitizer
# report.  Called by `make test-asan` from the repository root.
#
# The upstream tarball comes from Debian's source archive: bookworm's
# deb-src, through a private apt sources list (fetch_nginx_orig in
# scripts/lib.sh; the machine's apt setup is left as it is).  No network
# or no tarball: the script stops and says so.
#
# env: ASAN_CC (default gcc), SKIP_TESTS=1 (build only),
#      arguments: .t files to run (default: all of t/*.t)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
OUT=$ROOT/build/asan
VER=1.22.1
TARBALL=$OUT/nginx_$VER.orig.tar.gz
SRC=$OUT/nginx-$VER
CCBIN=${ASAN_CC:-gcc}
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer"

mkdir -p "$OUT"

unpack() {
    rm -rf "$SRC"
    fetch_nginx_orig "$VER" bookworm "$OUT" || {
        echo "build-asan-nginx: cannot get nginx $VER source from" \
             "Debian's source archive (deb.debian.org, bookworm)" >&2
        exit 1; }
    echo "build-asan-nginx: using $TARBALL" >&2
    tar -xzf "$TARBALL" -C "$OUT"
}

build() {
    local stamp
    stamp=$OUT/.built-$(cat "$ROOT"/src/*/*.[ch] "$ROOT"/config \
                         "$0" | sha256sum | cut -c1-16)
    if [ -f "$stamp" ] && [ -x "$SRC/objs/nginx" ]; then
        echo "build-asan-nginx: up to date" >&2
        return 0
    fi
    rm -f "$OUT"/.built-*
    [ -f "$SRC/auto/configure" ] || unpack
    (
        cd "$SRC"
        rm -rf objs
        CC=$CCBIN ./configure \
            --with-compat --with-debug --with-http_ssl_module \
            --with-pcre-jit --with-threads \
            --with-http_auth_request_module --with-http_stub_status_module \
            --with-http_realip_module --with-http_v2_module \
            --with-http_dav_module --with-http_slice_module \
            --with-http_addition_module --with-http_flv_module \
            --with-http_gunzip_module --with-http_gzip_static_module \
            --with-http_mp4_module --with-http_random_index_module \
            --with-http_secure_link_module --with-http_sub_module \
            --with-cc-opt="-O1 -g $SAN" \
            --with-ld-opt="$SAN" \
            --add-dynamic-module="$ROOT" > "$OUT/configure.log" 2>&1 \
            || { tail -30 "$OUT/configure.log" >&2; exit 1; }
        make -j"$(nproc)" > "$OUT/make.log" 2>&1 \
            || { grep -E 'error|Error' "$OUT/make.log" | head -30 >&2;
                 exit 1; }
    )
    touch "$stamp"
}

need_pkgs build-essential libpcre2-dev zlib1g-dev libssl-dev \
    libhiredis-dev redis-server
[ "$CCBIN" = clang ] && need_pkgs clang libclang-rt-14-dev
build
echo "build-asan-nginx: $SRC/objs/nginx" \
     "+ $SRC/objs/ngx_http_fwgate_module.so" >&2

[ "${SKIP_TESTS:-0}" = 1 ] && exit 0

# fwgatectl (suites that use it) comes from the normal build
[ -x "$ROOT/fwgatectl" ] || make -C "$ROOT" cli >/dev/null

LOGS=$OUT/reports
rm -rf "$LOGS"
mkdir -p "$LOGS"

# UBSan findings inside nginx itself, not in the module, each checked
# and benign: ngx_pstrdup() copies an empty ngx_str_t whose data is NULL
# (memcpy(dst, NULL, 0)).  Only nginx's own files are named here.
cat > "$OUT/ubsan.supp" <<'EOF'
nonnull-attribute:src/core/ngx_string.c
EOF

# nginx's pools are freed at exit without free(): leaks are noise.  Every
# dynamic module defines its own ngx_module_names, as does the binary, by
# nginx's design: ASan's ODR check would flag that on each load.
export ASAN_OPTIONS="detect_leaks=0:detect_odr_violation=0:log_path=$LOGS/asan"
export UBSAN_OPTIONS="print_stacktrace=1:suppressions=$OUT/ubsan.supp:log_path=$LOGS/ubsan"
export TEST_NGINX_BINARY=$SRC/objs/nginx
export TEST_NGINX_FWGATE_MODULE=$SRC/objs/ngx_http_fwgate_module.so
export TEST_NGINX_LOAD_MODULES=$TEST_NGINX_FWGATE_MODULE
# a server root and port of our own: `make test` may run beside us
export TEST_NGINX_SERVROOT=$OUT/servroot
TEST_NGINX_PORT=$(free_port)
export TEST_NGINX_PORT

set +e
bash t/run-suites.sh "$@" 2>&1 | tee "$OUT/suites.log"
rc=${PIPESTATUS[0]}
set -e

# sanitizer children of tools (perl, redis) write nothing here: any file
# is a report from the nginx binary or the module
reports=$(find "$LOGS" -type f | sort)
# a report that reached nginx's stderr instead shows in the suites' output
if grep -qE 'runtime error:|ERROR: AddressSanitizer' "$OUT/suites.log"; then
    grep -E -A8 'runtime error:|ERROR: AddressSanitizer' "$OUT/suites.log" \
        > "$LOGS/from-stderr.txt"
    reports="$reports $LOGS/from-stderr.txt"
fi
if [ -n "${reports// /}" ]; then
    echo "build-asan-nginx: sanitizer reports:" >&2
    for f in $reports; do
        echo "==== $f" >&2
        head -60 "$f" >&2
    done
    exit 1
fi

if [ "$rc" != 0 ]; then
    echo "build-asan-nginx: suites failed (rc $rc), no sanitizer report" >&2
    exit "$rc"
fi
echo "build-asan-nginx: suites passed, no sanitizer report" >&2
