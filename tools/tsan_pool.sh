#!/usr/bin/env bash
# tsan_pool: the thread pool's tests (tests/cpp/thread_pool_test.cpp) under ThreadSanitizer.
# The pool (sim/core/thread_pool.cpp) is the one place where threads hand work to each other
# through atomics; the address/undefined sanitizer preset does not look for data races, and
# a whole-project ThreadSanitizer build would report libgomp, which is not instrumented. So
# the pool and its tests alone are compiled with -fsanitize=thread (about 25 CPU-seconds)
# and run; any report fails the run. Called by tools/test.sh; CHILDSIM_SKIP_TSAN=1 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/tsan
mkdir -p "$out"
bin="$out/thread_pool_tsan"
sources=(tests/cpp/main_test.cpp tests/cpp/thread_pool_test.cpp sim/core/thread_pool.cpp)
# Rebuilt only when a source or header changed (fast when nothing did).
if [[ ! -x $bin ]] || [[ -n $(find "${sources[@]}" sim/core/thread_pool.hpp sim/core/parallel.hpp \
  -newer "$bin" 2>/dev/null) ]]; then
  g++ -std=c++17 -O1 -g -fsanitize=thread -fopenmp -I. "${sources[@]}" -o "$bin" -lpthread
fi
TSAN_OPTIONS="halt_on_error=1:exitcode=66" "$bin"
