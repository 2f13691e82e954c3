"""busy_bench: is `childsim run` at 2 threads ever slower than at 1 on a busy machine?

Issue #14, part 2. Times the whole program as a user runs it (`childsim run SCENARIO -o OUT
-q --threads T`: start-up, the OpenMP wait-policy re-execution, the simulation and the file)
while N CPU-bound processes run alongside, the thread counts **interleaved** (1, 2, 1, 2, …)
so that changes in the machine's load hit each alike. Reports per thread count the median
and range of the wall time, and per round the ratio of the 2-thread time to the 1-thread
time of the same round (a round is one run at each thread count, back to back).

The environment's OMP_WAIT_POLICY and GOMP_SPINCOUNT are removed unless --keep-env, so that
the program's own default (passive waiting, sim/run/openmp_wait.hpp) is what is measured.

Usage (from the checkout, after tools/build.sh release):

    /usr/bin/python3 bench/busy_bench.py                       # baseline, 1 busy process, 5 rounds
    /usr/bin/python3 bench/busy_bench.py --busy 0 -n 3         # a quiet machine
    /usr/bin/python3 bench/busy_bench.py --wait active         # OMP_WAIT_POLICY=active, for contrast

Not a test: tests never assert times. Figures and their dates go in docs/performance.md.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_busy(count):
    """`count` CPU-bound processes (a tight loop each), to be stopped with stop_busy."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def stop_busy(processes):
    for p in processes:
        p.kill()
        p.wait()


def time_run(binary, scenario, out, threads, replicates, env):
    """Wall seconds of one `childsim run`; raises if it fails."""
    start = time.perf_counter()
    subprocess.run([str(binary), "run", str(scenario), "-o", str(out), "-q", "--threads",
                    str(threads), "--replicates", str(replicates)], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=str(ROOT / "build/release/sim/childsim"))
    parser.add_argument("--scenario", default=str(ROOT / "scenarios/baseline.yaml"))
    parser.add_argument("-t", "--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("-n", "--rounds", type=int, default=5)
    parser.add_argument("--busy", type=int, default=1, help="CPU-bound processes alongside")
    parser.add_argument("--replicates", type=int, default=1)
    parser.add_argument("--wait", choices=["default", "passive", "active"], default="default",
                        help="OMP_WAIT_POLICY to set (default: the program's own choice)")
    parser.add_argument("--keep-env", action="store_true",
                        help="keep OMP_WAIT_POLICY / GOMP_SPINCOUNT from the environment")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    if not args.keep_env:
        env.pop("OMP_WAIT_POLICY", None)
        env.pop("GOMP_SPINCOUNT", None)
    if args.wait != "default":
        env["OMP_WAIT_POLICY"] = args.wait
    times = {t: [] for t in args.threads}
    busy = start_busy(args.busy)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out.h5"
            time_run(args.binary, args.scenario, out, args.threads[0], args.replicates, env)
            for _ in range(args.rounds):
                for t in args.threads:
                    times[t].append(time_run(args.binary, args.scenario, out, t,
                                             args.replicates, env))
    finally:
        stop_busy(busy)

    load = os.getloadavg()[0]
    print(f"# {Path(args.scenario).name}, {args.replicates} replicate(s), {args.busy} busy "
          f"process(es), OMP_WAIT_POLICY={env.get('OMP_WAIT_POLICY', '(program default)')}, "
          f"{args.rounds} interleaved rounds, load average {load:.1f} at the end")
    print("| threads | median (s) | min–max (s) |")
    print("|---:|---:|---:|")
    for t in args.threads:
        v = times[t]
        print(f"| {t} | {statistics.median(v):.2f} | {min(v):.2f}–{max(v):.2f} |")
    if 1 in times and 2 in times:
        ratios = [b / a for a, b in zip(times[1], times[2])]
        print(f"\n2 threads / 1 thread: median of the rounds' ratios "
              f"{statistics.median(ratios):.2f}, range {min(ratios):.2f}–{max(ratios):.2f}; "
              f"ratio of medians {statistics.median(times[2]) / statistics.median(times[1]):.2f}")
        print("rounds: " + ", ".join(f"{r:.2f}" for r in ratios))


if __name__ == "__main__":
    main()
