"""siting_bench: time the siting solvers on a large random instance (docs/performance.md).

1,000 candidate sites x 10,000 demand points spread over a 6.1 km square (the district's
37 km2), walking threshold 1,200 m (distance = straight line x 1.3), capacities 30 or 60 at
each site (2,000 options), 20 sites, maximal covering. Prints the greedy's time, value and
gap to the quick bound min(all demand, the largest capacities), then the exact solver's
(started from the greedy's plan, with what is left of a 55 s limit for both): the size of
its programme before and after the reduction, its time, value and proven gap, and the
screening's total wall time (greedy + exact; making the random instance is not counted).

Usage: PYTHONPATH=analysis /usr/bin/python3 bench/siting_bench.py [--points N] [--sites M]
       [--choose K] [--time-limit S] [--no-reduce] [--no-start] [--cluster C]

``--cluster C`` draws the demand points around C centres (homes in blocks of flats) instead
of uniformly; ``--no-reduce`` solves the full programme (one flow variable per point and
option within the walk); ``--no-start`` leaves out the greedy's plan.
"""

import argparse
import time

import numpy as np

from childsim.siting_solvers import Instance, SolverTimeout, solve_exact, solve_greedy


def instance(points, sites, seed=1, cluster=0):
    rng = np.random.default_rng(seed)
    side = 6100.0
    p = rng.uniform(0, side, (points, 2))
    if cluster:  # homes in C blocks of flats, each 40 m across
        centres = rng.uniform(0, side, (cluster, 2))
        p = centres[rng.integers(0, cluster, points)] + rng.uniform(-20, 20, (points, 2))
    s = rng.uniform(0, side, (sites, 2))
    site = np.repeat(np.arange(sites), 2)
    cap = np.tile([30.0, 60.0], sites)
    d = 1.3 * np.hypot(p[:, None, 0] - s[None, site, 0], p[:, None, 1] - s[None, site, 1])
    street = (p[:, 0] // (side / 3)).astype(int) * 3 + (p[:, 1] // (side / 3)).astype(int)
    sstreet = (s[:, 0] // (side / 3)).astype(int) * 3 + (s[:, 1] // (side / 3)).astype(int)
    return Instance(weight=rng.gamma(0.5, 0.2, points), street=street, site=site,
                    capacity=cap, cost=cap * 10000 + 200000, option_street=sstreet[site],
                    distance=d, radius=1200.0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=10000)
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--choose", type=int, default=20)
    # 55 s: HiGHS looks at the clock now and then and was seen to overrun by up to 4 s
    parser.add_argument("--time-limit", type=float, default=55.0)
    parser.add_argument("--cluster", type=int, default=0)
    parser.add_argument("--no-reduce", action="store_true")
    parser.add_argument("--no-start", action="store_true")
    args = parser.parse_args()
    t0 = time.perf_counter()
    inst = instance(args.points, args.sites, cluster=args.cluster)
    t1 = time.perf_counter()
    print(f"instance: {args.points} points x {len(inst.site)} options, "
          f"{int(inst.covers.sum())} pairs within the walk ({t1 - t0:.1f} s)")
    greedy = solve_greedy(inst, "covering", sites=args.choose)
    t2 = time.perf_counter()
    print(f"greedy: {greedy.value:.2f} children in {t2 - t1:.1f} s "
          f"({greedy.extra['evaluations']} gain evaluations), gap {greedy.gap:.2e} to the "
          f"quick bound {greedy.bound:.2f}")
    cpu = time.process_time()
    try:
        left = args.time_limit - (0.0 if args.no_start else t2 - t1)
        exact = solve_exact(inst, "covering", sites=args.choose, time_limit=left,
                            reduce=not args.no_reduce, start=None if args.no_start else greedy)
    except SolverTimeout as error:
        print(f"exact: {error} ({time.perf_counter() - t2:.1f} s wall, "
              f"{time.process_time() - cpu:.1f} s CPU)")
        return
    t3 = time.perf_counter()
    size = ", ".join(f"{k} {exact.extra[k][0]} -> {exact.extra[k][1]}"
                     for k in ("points", "options", "pairs"))
    print(f"exact: programme {size}")
    print(f"exact: {exact.value:.2f} children, gap {exact.gap:.2e}, bound {exact.bound:.2f}, "
          f"plan from the {exact.extra['source']}, in {t3 - t2:.1f} s wall, "
          f"{time.process_time() - cpu:.1f} s CPU ({exact.status})")
    print(f"screening (greedy + exact): {t3 - t1:.1f} s wall")
    if exact.value > 0:
        print(f"greedy / exact: {greedy.value / exact.value:.4f}")


if __name__ == "__main__":
    main()
