#!/usr/bin/env bash
# test: install what is missing, build, and run every test (C++ and Python) in the release
# build, then the C++ tests again under AddressSanitizer and UndefinedBehaviorSanitizer.
# Set CHILDSIM_SKIP_SANITIZE=1 to skip the sanitizer pass locally. Last, the libFuzzer targets
# (clang, ASan + UBSan) run for 20 s each, as many at a time as there are cores (tools/fuzz.sh;
# about 2 min with their build); CHILDSIM_SKIP_FUZZ=1 skips them. Beside them, the thread
# pool's tests run under ThreadSanitizer (tools/tsan_pool.sh, about 30 s; CHILDSIM_SKIP_TSAN=1
# skips it).
#
# The sanitizer build (the longest step of a fresh run: ~560 CPU-seconds) is compiled while
# the release tests run: those tests leave the cores idle part of the time (each pytest worker
# waits on a childsim or chromium process; the last C++ tests and pytest files run alone), and
# CI's two cores then build instead of waiting. Its output goes to build/sanitize-build.log and
# is shown after the release tests; a failure of either fails the run. The tests never assert
# times (and their time-outs are minutes), so the load does not change what they check.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each step's start with the seconds since this script's (CI's time budget is 20 minutes).
step() { echo "== $* (at ${SECONDS} s)"; }
tools/install-deps.sh
tools/build.sh release
if [[ -x tools/install-python-path.sh ]]; then
  tools/install-python-path.sh "$PWD/build/release"
fi
sanitize=$([[ "${CHILDSIM_SKIP_SANITIZE:-0}" != 1 ]] && echo 1 || echo 0)
if [[ $sanitize == 1 ]]; then
  mkdir -p build
  # Only the C++ tests: the sanitizer pass runs nothing else (the CLI, the MPI program and the
  # benchmarks would be a quarter of its compile time).
  tools/build.sh sanitize childsim_tests > build/sanitize-build.log 2>&1 &
  sanitize_build=$!
  # A failed release test still waits for the build, so no compiler is left running.
  trap 'kill "$sanitize_build" 2>/dev/null || true' EXIT
fi
release_rc=0
step "the release tests (C++ and Python)"
ctest --preset release -j2 || release_rc=$?
if [[ $sanitize == 1 ]]; then
  build_rc=0
  wait "$sanitize_build" || build_rc=$?
  trap - EXIT
  step "the sanitizer build (built while the release tests ran): build/sanitize-build.log"
  cat build/sanitize-build.log
  [[ $release_rc == 0 ]] || exit "$release_rc"
  [[ $build_rc == 0 ]] || { echo "test: the sanitizer build failed" >&2; exit "$build_rc"; }
  step "the C++ tests under AddressSanitizer and UndefinedBehaviorSanitizer"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset sanitize -j2
fi
[[ $release_rc == 0 ]] || exit "$release_rc"
# The pool's ThreadSanitizer pass (one compiler, then one test process) beside the fuzz pass,
# whose last target runs alone on one core; its output is shown when both are done.
tsan=""
if [[ "${CHILDSIM_SKIP_TSAN:-0}" != 1 ]]; then
  tools/tsan_pool.sh > build/tsan-pool.log 2>&1 &
  tsan=$!
  trap 'kill "$tsan" 2>/dev/null || true' EXIT
fi
fuzz_rc=0
if [[ "${CHILDSIM_SKIP_FUZZ:-0}" != 1 ]]; then
  step "the fuzz targets (tools/fuzz.sh)"
  tools/fuzz.sh || fuzz_rc=$?
fi
if [[ -n $tsan ]]; then
  tsan_rc=0
  wait "$tsan" || tsan_rc=$?
  trap - EXIT
  step "the thread pool's tests under ThreadSanitizer (tools/tsan_pool.sh): build/tsan-pool.log"
  cat build/tsan-pool.log
  if [[ $tsan_rc != 0 ]]; then
    echo "test: the thread pool's ThreadSanitizer pass failed" >&2
    exit "$tsan_rc"
  fi
fi
step "done"
exit "$fuzz_rc"
