#!/usr/bin/env bash
# quickstart: install what is missing, build, and run the baseline scenario end to end.
# Writes out/baseline.h5 and prints a short summary. Safe to run again: nothing is
# reinstalled or rebuilt when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh release
if [[ -x tools/install-python-path.sh ]]; then
  tools/install-python-path.sh "$PWD/build/release"
fi
mkdir -p out
./build/release/sim/childsim run scenarios/baseline.yaml -o out/baseline.h5
