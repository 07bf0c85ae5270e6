#!/usr/bin/env bash
# Installs the Debian 12 packages fwgate needs to build and test, only the
# missing ones (apt-get update runs only then).  Idempotent.  `make deps`.
#
# The test suites need no Perl modules beyond core Perl: without the real
# Test::Nginx, t/run-suites.sh uses our work-alike in t/compat.

set -euo pipefail

PACKAGES=(
    build-essential
    perl
    nginx
    nginx-dev
    libpcre2-dev
    libssl-dev
    libhiredis-dev
    redis-server
    python3-prometheus-client
    curl
    openssl
    redis-sentinel
    tmux
)

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

need_pkgs --no-install-recommends "${PACKAGES[@]}"
if [ ${#NEED_PKGS_INSTALLED[@]} -eq 0 ]; then
    echo "deps: all ${#PACKAGES[@]} packages present"
    exit 0
fi

# Installing nginx or redis-server may start Debian's own services (nginx
# on port 80).  The tests use their own nginx (t/servroot, on a free port) and
# their own redis-server on a free port, so stop the packaged ones that
# this run just installed.
for p in "${NEED_PKGS_INSTALLED[@]}"; do
    case "$p" in
    nginx|redis-server|redis-sentinel)
        if command -v invoke-rc.d >/dev/null; then
            as_root invoke-rc.d "$p" stop >/dev/null 2>&1 || true
        fi
        if [ "$p" = nginx ] && [ -s /run/nginx.pid ] &&
           kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
            as_root /usr/sbin/nginx -s quit 2>/dev/null || true
        fi
        ;;
    esac
done

echo "deps: done"
