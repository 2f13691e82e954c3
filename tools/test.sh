#!/usr/bin/env bash
# test: install what is missing, build, and run every test (C++ and Python) in the release
# build, then the C++ tests again under AddressSanitizer and UndefinedBehaviorSanitizer.
# Set CHILDSIM_SKIP_SANITIZE=1 to skip the sanitizer pass locally. Last, the libFuzzer targets
# (clang, ASan + UBSan) run for 60 s in all (tools/fuzz.sh; about 2 min with their build);
# CHILDSIM_SKIP_FUZZ=1 skips them.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh release
if [[ -x tools/install-python-path.sh ]]; then
  tools/install-python-path.sh "$PWD/build/release"
fi
ctest --preset release -j2
if [[ "${CHILDSIM_SKIP_SANITIZE:-0}" != 1 ]]; then
  tools/build.sh sanitize
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset sanitize -j2
fi
if [[ "${CHILDSIM_SKIP_FUZZ:-0}" != 1 ]]; then
  tools/fuzz.sh
fi
