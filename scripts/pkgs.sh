# Sourced by the scripts that need Debian packages beyond `make deps`
# (fuzzing, the ASan build, the bench, valgrind).
#
#   as_root CMD...     runs CMD as root (directly, or through sudo)
#   need_pkgs PKG...   installs the packages not installed yet; apt-get
#                      update runs only when something is missing

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

need_pkgs() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
            | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq "${missing[@]}"
}
