#!/usr/bin/env bash
# quickstart: install what is missing, build, run the baseline and one what-if end to end,
# and write the briefing that compares them:
#   out/baseline.h5, out/nursery-expansion.h5 and out/brief.html (open it in a browser).
# Safe to run again: nothing is reinstalled or rebuilt when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh release
if [[ -x tools/install-python-path.sh ]]; then
  tools/install-python-path.sh "$PWD/build/release"
fi
mkdir -p out
# Idle OpenMP threads sleep rather than spin (a shared machine); results do not depend on it.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
./build/release/sim/childsim run scenarios/baseline.yaml -o out/baseline.h5
./build/release/sim/childsim run scenarios/nursery-expansion.yaml -o out/nursery-expansion.h5 -q
./build/release/sim/childsim compare out/baseline.h5 out/nursery-expansion.h5 -o out/brief.html
