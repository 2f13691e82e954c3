#!/usr/bin/env bash
# paired_bench: two builds of childsim_bench compared on one Changning baseline replicate, in
# interleaved pairs (A then B, N times), each run's figure the median of two replicates; prints
# each build's median and the median of the pairs' ratios B/A, with how many pairs B won. On a
# virtual machine whose speed drifts from minute to minute (docs/performance.md, "Two cores
# that talk slowly") a pair is taken within about two seconds, so the ratio of a pair sees the
# same machine, where medians of separate series need not.
# Usage: bench/paired_bench.sh A_BENCH B_BENCH [pairs, default 20] [threads, default 2]
#   e.g. bench/paired_bench.sh /tmp/before/childsim_bench build/release/bench/childsim_bench 20
set -euo pipefail
cd "$(dirname "$0")/.."
a=$1 b=$2 pairs=${3:-20} threads=${4:-2}
one() { "$1" scenarios/baseline.yaml -t "$threads" -n 2 2>/dev/null | awk '$1 ~ /^[0-9]+$/ {print $2}'; }
for ((k = 0; k < pairs; ++k)); do
  echo "$(one "$a") $(one "$b")"
done | /usr/bin/python3 -c '
import statistics, sys
p = [tuple(map(float, line.split())) for line in sys.stdin if line.strip()]
r = [b / a for a, b in p]
print(f"{len(p)} pairs at '"$threads"' thread(s): A median {statistics.median(a for a, _ in p):.3f} s, "
      f"B median {statistics.median(b for _, b in p):.3f} s; B/A median of the pairs {statistics.median(r):.3f}, "
      f"B faster in {sum(x < 1 for x in r)} of {len(r)}")
'
