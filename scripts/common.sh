# Shared by scripts/bench.sh and scripts/test.sh: find the repository root and
# install missing Debian packages (as root, through apt-get) before building.

MEMKV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MEMKV_JOBS=${MEMKV_JOBS:-$(nproc 2>/dev/null || echo 2)}

log() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

# ensure_packages PKG... : installs the Debian packages that are not installed.
ensure_packages() {
    local missing=()
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            log "installing ${missing[*]} (sudo apt-get)"
            sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
            return
        fi
        echo "error: missing Debian packages: ${missing[*]} (run as root or install them)" >&2
        exit 1
    fi
    log "installing ${missing[*]} (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# configure_and_build DIR CMAKE_ARGS... : configures with Ninja and builds
# (only the targets in MEMKV_TARGETS when it is set).
configure_and_build() {
    local dir=$1
    shift
    cmake -S "$MEMKV_ROOT" -B "$dir" -G Ninja "$@" >/dev/null
    cmake --build "$dir" -j "$MEMKV_JOBS" ${MEMKV_TARGETS:+--target $MEMKV_TARGETS} >&2
}
