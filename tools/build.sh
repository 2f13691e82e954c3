#!/usr/bin/env bash
# build: configure (once) and build a CMake preset; fast when nothing changed.
# Usage: tools/build.sh [preset]   (default: release)
set -uo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
if [[ ! -f build/$preset/CMakeCache.txt ]]; then
  cmake --preset "$preset" >/dev/null || exit 1
fi
# Show warnings and errors, not the progress lines.
cmake --build "build/$preset" -j"$(nproc)" 2>&1 |
  { grep -vE '^\[ *[0-9]+%\]|^Consolidate compiler|^Scanning dependencies' || true; }
exit "${PIPESTATUS[0]}"
