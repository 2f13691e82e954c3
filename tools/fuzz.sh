#!/usr/bin/env bash
# fuzz: build the libFuzzer targets (the `fuzz` preset: clang, ASan, UBSan) and run them.
#
# Usage: tools/fuzz.sh [--long | --seconds N] [target ...]
#   (default)    60 s in all, shared equally by the targets: the bounded run of tools/test.sh
#                (the targets run as many at a time as there are cores)
#   --seconds N  N seconds in all, shared equally
#   --long       until 1,000,000 executions per target (the documented run, docs/reliability.md)
# Targets: config_fuzz scenario_fuzz base_data_fuzz (default: all three).
#
# The seed corpus is every YAML file of tests/data/, scenarios/ and calibration/ (for
# base_data_fuzz, each base-data file prefixed with the byte that selects it). New inputs go
# to build/fuzz/corpus/<target>/; a crash is saved as build/fuzz/crash-<target>-* and the
# script exits non-zero. Each crash must become a regression test (tests/cpp/input_limits_test.cpp).
# Limits per input: 10 s, 2 GB (-timeout, -rss_limit_mb); inputs up to 64 kB.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=()
total=60
if [[ "${1:-}" == "--long" ]]; then
  shift
  runs=(-runs=1000000)
  total=0  # no time limit
elif [[ "${1:-}" == "--seconds" ]]; then
  [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: --seconds needs a whole number of seconds > 0" >&2; exit 2; }
  total=$2
  shift 2
fi
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(config_fuzz scenario_fuzz base_data_fuzz)
seconds=$((total / ${#targets[@]}))
[[ $total -gt 0 && $seconds -eq 0 ]] && seconds=1

command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (apt-get install clang libclang-rt-dev)" >&2; exit 1; }
[[ -f build/fuzz/CMakeCache.txt ]] || cmake --preset fuzz >/dev/null
# Only the targets and childsim_fuzz_core (the part of the core they need) are built: about
# 110 CPU-seconds from scratch at the preset's -O1 -g1 (tests/fuzz/CMakeLists.txt).
cmake --build build/fuzz -j"$(nproc)" --target "${targets[@]}" 2>&1 |
  { grep -vE '^\[ *[0-9]+%\]|^Consolidate compiler|^Scanning dependencies' || true; }

base_files=(streets population fertility mortality parameters facilities targets)
# One target: its seeds, then libFuzzer (one single-threaded process) with its log in
# build/fuzz/<target>.log; fails if the target found a crash.
fuzz_one() {
  local target=$1
  local corpus=build/fuzz/corpus/$target seeds=build/fuzz/seeds/$target
  mkdir -p "$corpus" "$seeds"
  if [[ $target == base_data_fuzz ]]; then
    for k in "${!base_files[@]}"; do
      { printf "\\x$(printf %02x "$k")"; cat "scenarios/changning/${base_files[$k]}.yaml"; } \
        >"$seeds/${base_files[$k]}.yaml"
    done
  else
    cp tests/data/*.yaml scenarios/*.yaml calibration/*.yaml "$seeds/"
  fi
  # UBSan reports are fatal (-fno-sanitize-recover); ASan's leak check is on.
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "build/fuzz/tests/fuzz/$target" "$corpus" "$seeds" -max_total_time="$seconds" "${runs[@]}" \
    -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="build/fuzz/crash-$target-" 2>"build/fuzz/$target.log"
}
# The targets side by side, as many at a time as there are cores: one after another, they
# left all cores but one idle for the whole run (each still has its own core and its time).
pids=()
for target in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= $(nproc))); do wait -n || true; done
  echo "fuzz: $target (${runs[*]:-${seconds} s})" >&2
  fuzz_one "$target" &
  pids+=($!)
done
status=0
for k in "${!targets[@]}"; do
  target=${targets[$k]}
  if ! wait "${pids[$k]}"; then
    echo "fuzz: $target FAILED; see build/fuzz/$target.log and build/fuzz/crash-$target-*" >&2
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb|^Done|ERROR" "build/fuzz/$target.log" >&2 || true
done
exit $status
