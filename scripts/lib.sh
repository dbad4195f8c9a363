# Shared by scripts/demo and scripts/test. Source it; do not run it.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${LVSD_BUILD_DIR:-$ROOT/build}
JOBS=${JOBS:-$(nproc)}

log() { printf '\n=== %s\n' "$*"; }

# configure_and_build DIR [cmake args...] [-- ninja targets...]
configure_and_build() {
  local dir=$1; shift
  local cmake_args=() targets=()
  while [ $# -gt 0 ]; do
    if [ "$1" = "--" ]; then shift; targets=("$@"); break; fi
    cmake_args+=("$1"); shift
  done
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S "$ROOT" -B "$dir" -G Ninja "${cmake_args[@]}"
  fi
  ninja -C "$dir" -j "$JOBS" "${targets[@]}"
}

build_release() {
  # The unit binaries run from the sanitizer build (scripts/test).
  configure_and_build "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLVSD_UNIT_TESTS=OFF
}
