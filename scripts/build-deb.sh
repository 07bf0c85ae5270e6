#!/usr/bin/env bash
# make deb: the Debian packages, built the way Debian builds its own nginx
# module packages (debian/: `dh $@ --with nginx`, nginx-dev's nginx_mod
# build system against the installed nginx's ABI) from a copy of the
# working tree in build/deb/src, so the tree itself stays clean.  Leaves
# build/deb/libnginx-mod-http-fwgate_<version>_<arch>.deb and
# build/deb/fwgatectl_<version>_<arch>.deb, and lintian's report in
# build/deb/lintian.txt (summarised on stdout).
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

need_pkgs dpkg-dev debhelper nginx-dev libhiredis-dev libssl-dev \
    libpcre2-dev lintian

OUT=$PWD/build/deb
SRC=$OUT/src/fwgate

rm -rf "$OUT"
mkdir -p "$SRC"

# the tracked (and new, not ignored) files as they are in the working tree
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$SRC"

(cd "$SRC" && dpkg-buildpackage -b -us -uc) > "$OUT/build.log" 2>&1 || {
    tail -40 "$OUT/build.log" >&2
    echo "build-deb: dpkg-buildpackage failed, see $OUT/build.log" >&2
    exit 1
}

mv "$OUT"/src/*.deb "$OUT"/src/*.changes "$OUT"/src/*.buildinfo "$OUT"/ \
    2>/dev/null || true

lintian --pedantic --info "$OUT"/*.changes > "$OUT/lintian.txt" 2>&1 || true
echo "build-deb: packages:"
ls -1 "$OUT"/*.deb | sed 's/^/  /'
echo "build-deb: lintian --pedantic (build/deb/lintian.txt):"
tags=$(grep -E '^[EWIPX]: ' "$OUT/lintian.txt" | cut -d' ' -f1-3 | sort \
       | uniq -c | sed 's/^/  /' || true)
echo "${tags:-  no tags}"
