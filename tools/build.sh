#!/usr/bin/env bash
# build: configure (once) and build a CMake preset; fast when nothing changed.
# Usage: tools/build.sh [preset [target ...]]   (default: release, every target)
set -uo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
shift $(($# > 0 ? 1 : 0))
targets=()
[[ $# -gt 0 ]] && targets=(--target "$@")
if [[ ! -f build/$preset/CMakeCache.txt ]]; then
  launcher=()
  # ccache, when installed, makes rebuilds in other checkouts (git worktrees) fast; it is not
  # a dependency and a fresh machine builds without it.
  if command -v ccache >/dev/null && [[ "${CHILDSIM_NO_CCACHE:-0}" != 1 ]]; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  cmake --preset "$preset" "${launcher[@]}" >/dev/null || exit 1
fi
# Show warnings and errors, not the progress lines.
cmake --build "build/$preset" -j"$(nproc)" "${targets[@]}" 2>&1 |
  { grep -vE '^\[ *[0-9]+%\]|^Consolidate compiler|^Scanning dependencies' || true; }
exit "${PIPESTATUS[0]}"
