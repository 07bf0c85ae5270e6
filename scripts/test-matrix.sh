#!/usr/bin/env bash
# make test-matrix: nginx 1.22.1 (Debian 12) and 1.26.3 (Debian 13, the
# current stable line) built from their upstream tarballs, as Debian's
# source archive holds them, with --with-compat, ssl, http_v2 and the
# modules the suites use; the module built against each; every suite run
# against each binary.  Prints a table version x suite.  The machine's
# apt setup is not changed (a private sources list and lists directory).
#
# env: MATRIX_VERSIONS (default "1.22.1:bookworm 1.26.3:trixie"),
#      MATRIX_SUITES (default t/*.t), MATRIX_BUILD_ONLY=1
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

OUT=$ROOT/build/matrix
VERSIONS=${MATRIX_VERSIONS:-"1.22.1:bookworm 1.26.3:trixie"}
read -r -a SUITES <<< "${MATRIX_SUITES:-$(echo t/*.t)}"

need_pkgs build-essential libpcre2-dev zlib1g-dev libssl-dev \
    libhiredis-dev redis-server dpkg-dev
mkdir -p "$OUT"

# build VERSION: nginx and the module in $OUT/nginx-VERSION/objs
build() {
    local ver=$1 src=$OUT/nginx-$1
    local stamp=$src/.built-$(cat "$ROOT"/src/*/*.[ch] "$ROOT"/config "$0" \
                              | sha256sum | cut -c1-16)
    [ -f "$stamp" ] && [ -x "$src/objs/nginx" ] && return 0
    rm -rf "$src"
    tar -xzf "$OUT/nginx_$ver.orig.tar.gz" -C "$OUT"
    (
        cd "$src"
        ./configure \
            --with-compat --with-debug --with-threads --with-pcre-jit \
            --with-http_ssl_module --with-http_v2_module \
            --with-http_auth_request_module --with-http_realip_module \
            --with-http_stub_status_module --with-http_slice_module \
            --with-http_secure_link_module --with-http_sub_module \
            --with-cc-opt="-O2 -g" \
            --add-dynamic-module="$ROOT" > "$src/configure.log" 2>&1 \
            || { tail -30 "$src/configure.log" >&2; exit 1; }
        make -j"$(nproc)" > "$src/make.log" 2>&1 \
            || { grep -E 'error:|Error [0-9]' "$src/make.log" | head -30 >&2
                 exit 1; }
    ) || return 1
    touch "$stamp"
}

[ -x "$ROOT/fwgatectl" ] || make -C "$ROOT" cli >/dev/null

declare -A RESULT
vers=()
for vs in $VERSIONS; do
    ver=${vs%%:*} suite=${vs#*:}
    vers+=("$ver")
    echo "test-matrix: nginx $ver (Debian $suite)" >&2
    if ! fetch_nginx_orig "$ver" "$suite" "$OUT"; then
        for s in "${SUITES[@]}"; do RESULT[$ver,$s]="no source"; done
        continue
    fi
    if ! build "$ver"; then
        for s in "${SUITES[@]}"; do RESULT[$ver,$s]="build FAIL"; done
        continue
    fi
    echo "test-matrix: built $OUT/nginx-$ver/objs/nginx and the module" >&2
    [ "${MATRIX_BUILD_ONLY:-0}" = 1 ] && continue

    for s in "${SUITES[@]}"; do
        log=$OUT/$ver-$(basename "$s" .t).log
        if TEST_NGINX_BINARY=$OUT/nginx-$ver/objs/nginx \
           TEST_NGINX_FWGATE_MODULE=$OUT/nginx-$ver/objs/ngx_http_fwgate_module.so \
           TEST_NGINX_LOAD_MODULES=$OUT/nginx-$ver/objs/ngx_http_fwgate_module.so \
           TEST_NGINX_SERVROOT=$OUT/servroot-$ver \
           bash t/run-suites.sh "$s" > "$log" 2>&1
        then
            n=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$log")
            RESULT[$ver,$s]="pass ($n)"
        else
            RESULT[$ver,$s]="FAIL"
        fi
        echo "  $ver $s: ${RESULT[$ver,$s]}" >&2
    done
done

# the table (written to a file first: a pipe would run the loop in a
# subshell and lose `fail`)
fail=0
{
    printf '%-24s' suite
    for v in "${vers[@]}"; do printf ' %-14s' "nginx $v"; done
    printf '\n'
    for s in "${SUITES[@]}"; do
        printf '%-24s' "$(basename "$s")"
        for v in "${vers[@]}"; do printf ' %-14s' "${RESULT[$v,$s]:-built}"; done
        printf '\n'
    done
} > "$OUT/table.txt"
cat "$OUT/table.txt"

for s in "${SUITES[@]}"; do
    for v in "${vers[@]}"; do
        case ${RESULT[$v,$s]:-built} in pass*|built) ;; *) fail=1 ;; esac
    done
done

if [ $fail = 0 ]; then
    echo "test-matrix: ok"
else
    echo "test-matrix: FAILED (logs in build/matrix/)"
fi
exit $fail
