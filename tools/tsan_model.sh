#!/usr/bin/env bash
# tsan_model: whole replicates at 2 threads under ThreadSanitizer, for the steps that run beside
# each other (par::Beside, sim/core/parallel.hpp): the clinics and holiday classes beside the
# places' steps, the resident counts beside the agents' steps. Each pair must share no data
# that one writes; a mistake there is a
# data race that the thread-count identity tests see only when the timing happens to bite.
# (They did: the residents' flows shared arrays with the agents' steps, found by them and by
# this script, which reported it at once.) The program is built with -fsanitize=thread in
# build/tsan-model (about 6 minutes on 2 cores the first time; then only what changed) and runs
# one replicate of the baseline and of the scenario with every service and investment, with
# the pool never running alone (CHILDSIM_POOL_ALONE=never), so that the jobs do run beside.
# Any report fails the run. Not part of tools/test.sh (the build would take a third of CI's
# time budget); run it after changing what a Beside step reads or writes.
# Usage: tools/tsan_model.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/tsan-model
if [[ ! -f $out/CMakeCache.txt ]]; then
  launcher=()
  if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCHILDSIM_BUILD_TESTS=OFF \
    -DCMAKE_CXX_FLAGS="-fsanitize=thread -O1" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" "${launcher[@]}" >/dev/null
fi
cmake --build "$out" -j"$(nproc)" --target childsim 2>&1 | { grep -E 'error|warning' || true; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for scenario in scenarios/baseline.yaml tests/data/every_service.yaml; do
  echo "== $scenario, 1 replicate, 2 threads, under ThreadSanitizer"
  CHILDSIM_POOL_ALONE=never TSAN_OPTIONS="halt_on_error=1:exitcode=66" \
    "$out/sim/childsim" run "$scenario" --replicates 1 --threads 2 -q -o "$tmp/out.h5"
done
echo "no data race reported"
