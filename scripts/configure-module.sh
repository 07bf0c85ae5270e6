#!/bin/bash
# Configure an nginx tree for building ngx_http_fwgate_module as a dynamic
# module, the way Debian builds its libnginx-mod packages: nginx-dev's
# configure with Debian's conf_flags (so the .so loads into Debian's
# nginx), or, for an upstream source tree, --with-compat alone.
#
# usage: configure-module.sh NGINX_SRC BUILD_DIR MODULE_DIR [EXTRA_CC_OPT]
set -euo pipefail

src=$1 build=$2 module=$3 extra=${4:-}

rm -rf "$build"
mkdir -p "$(dirname "$build")"
cp -a "$src" "$build"
cd "$build"

NGX_CONF_FLAGS=(--with-compat)
if [ -f conf_flags ]; then
    . ./conf_flags
fi

# Debian's hardening flags, as its own module packages use
cc_opt="-g -O2 -fstack-protector-strong -Wformat -Werror=format-security"
cc_opt="$cc_opt -fPIC -D_FORTIFY_SOURCE=2 $extra"

if ! ./configure "${NGX_CONF_FLAGS[@]}" \
        --with-cc-opt="$cc_opt" \
        --with-ld-opt="-Wl,-z,relro -Wl,-z,now -fPIC" \
        --add-dynamic-module="$module" > configure.log 2>&1
then
    tail -30 configure.log >&2
    echo "configure-module.sh: nginx configure failed (log: $build/configure.log)" >&2
    exit 1
fi
