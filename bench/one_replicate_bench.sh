#!/usr/bin/env bash
# one_replicate_bench: one Changning baseline replicate with every service, 2 threads against 1
# (issue #14's targets: 2 threads >= 1.7x faster than 1 thread; <= 0.35 s at 2 threads on a
# quiet machine). Two measurements, each with 1 and 2 threads interleaved (1, 2, 1, 2, ...) so
# that a change in the machine's load hits both alike; medians with the range:
#  1. the model alone: bench/childsim_bench (the scenario built once; each repeat is a whole
#     replicate: initial population, the services' spin-up, 144 months), with the CPU time of
#     the process (all threads: the work) and of the main thread (the serial parts and its
#     share of the parallel ones: on a busy machine, where wall times say little, the work
#     split shows as main-thread CPU / process CPU);
#  2. the program as a user runs it, `childsim run scenarios/baseline.yaml --replicates 1`, with
#     its wall and CPU time (user + sys) from /usr/bin/time: what a planner waits for, the
#     fixed cost of a process included.
# First it prints the cores' round trip of a cache line (bench/core_latency) and each core's
# latency of a load by working set (bench/core_memory); the model's series also times 1 thread
# pinned to each core (--each-core), and the 2-thread bound the two cores' speeds give.
# Usage: bench/one_replicate_bench.sh [repeats]   (default 7; run from anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-7}
build=build/release
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
# How fast the two cores pass a cache line: on this kind of VM it changes from hour to hour,
# and with it how much 2 threads gain (docs/performance.md, "Two cores that talk slowly").
"$build/bench/core_latency" -n 3 | tee "$out/before"
# Whether the two cores are alike: on this kind of VM one may share its caches with a busy
# neighbour and run a replicate up to half as fast again (docs/performance.md, "Two cores that
# are not alike").
"$build/bench/core_memory" -n 3
echo "== 1. the model alone (childsim_bench)"
"$build/bench/childsim_bench" scenarios/baseline.yaml -t 1 2 -n "$repeats" --each-core
# And the round trip again: the VM can pass from a quick state (100-200 ns) to a slow one
# (350-600 ns) within a series, and a series is one state's only if both ends agree.
echo -n "after the series: " && "$build/bench/core_latency" -n 3 | tail -n 1 | tee "$out/after"
# The state in words, from the two medians (quick below 250 ns): the 2-thread figure of a
# series that began or ended in the slow state says more about the VM than about the program.
before=$(awk '{print $NF}' "$out/before" | tail -n 1)
after=$(awk '{print $NF}' "$out/after")
if ! [[ $before =~ ^[0-9]+$ && $after =~ ^[0-9]+$ ]]; then
  echo "the cores' state: unknown (round trips '${before}' and '${after}')"
elif ((before < 250 && after < 250)); then
  echo "the cores' state: quick at both ends of the series (${before} and ${after} ns)"
elif ((before >= 250 && after >= 250)); then
  echo "the cores' state: slow at both ends of the series (${before} and ${after} ns)"
else
  echo "the cores' state: changed during the series (${before} ns, then ${after} ns)"
fi
echo "== 2. the whole program (childsim run, one replicate)"
for ((k = 0; k < repeats; ++k)); do
  for t in 1 2; do
    /usr/bin/time -a -o "$out/times" -f "$t %e %U %S" \
      "$build/sim/childsim" run scenarios/baseline.yaml --replicates 1 --threads "$t" -q \
      -o "$out/run.h5"
  done
done
/usr/bin/python3 - "$out/times" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line[:1].isdigit()]
print(f"{'threads':>8} {'median wall (s)':>16} {'min-max (s)':>14} {'median CPU (s)':>15}")
for t in ("1", "2"):
    wall = [float(r[1]) for r in rows if r[0] == t]
    cpu = [float(r[2]) + float(r[3]) for r in rows if r[0] == t]
    print(f"{t:>8} {statistics.median(wall):>16.3f} {min(wall):>6.2f}-{max(wall):<7.2f} "
          f"{statistics.median(cpu):>15.3f}")
w1 = [float(r[1]) for r in rows if r[0] == "1"]
w2 = [float(r[1]) for r in rows if r[0] == "2"]
ratios = sorted(a / b for a, b in zip(w1, w2))
print(f"1 thread / 2 threads, per round: median {statistics.median(ratios):.2f}, "
      f"range {ratios[0]:.2f}-{ratios[-1]:.2f}")
PY
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
