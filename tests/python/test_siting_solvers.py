# test_siting_solvers: the exact integer programme against brute force on random instances
# (identical optimum), known optima of hand-made instances (covering, p-median, max-min),
# the greedy's (1 - 1/e) bound on covering, lazy greedy equal to plain greedy, infeasibility.
import doctest
import importlib
import math

import numpy as np
import pytest

from childsim.siting_solvers import (InfeasibleError, Instance, brute_force, evaluate,
                                     solve_exact, solve_greedy, top_plans)


def _random_instance(seed, n=12, sites=7, options_per_site=1, streets=3):
    """Demand points and sites scattered on a 3 km square; capacities below total demand."""
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 3000, (n, 2))
    sxy = rng.uniform(0, 3000, (sites, 2))
    site = np.repeat(np.arange(sites), options_per_site)
    cap = rng.choice([5.0, 10.0, 20.0], site.size)
    d = 1.3 * np.hypot(pts[:, None, 0] - sxy[None, site, 0], pts[:, None, 1] - sxy[None, site, 1])
    return Instance(weight=rng.integers(1, 10, n).astype(float),
                    street=rng.integers(0, streets, n), site=site, capacity=cap,
                    cost=rng.choice([1.0, 2.0, 3.0], site.size),
                    option_street=rng.integers(0, streets, sites)[site], distance=d,
                    radius=1200.0, existing=np.full(n, 2500.0), running=cap / 5)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("objective", ["covering", "p_median", "equity"])
def test_exact_equals_brute_force(seed, objective):
    inst = _random_instance(seed, options_per_site=2 if seed % 2 else 1)
    for constraints in ({"sites": 2}, {"budget": 4.0}, {"sites": 3, "max_per_street": 1},
                        {"sites": 3, "budget_year": 5.0}):
        exact = solve_exact(inst, objective, **constraints)
        brute = brute_force(inst, objective, **constraints)
        assert exact.value == pytest.approx(brute.value, rel=1e-6, abs=1e-6), constraints
        assert exact.gap <= 1e-6
        # the exact plan satisfies the constraints it was given
        if "budget" in constraints:
            assert inst.cost[list(exact.options)].sum() <= constraints["budget"] + 1e-9
        if "sites" in constraints:
            assert len(exact.options) <= constraints["sites"]
        if "budget_year" in constraints:
            assert inst.running[list(exact.options)].sum() <= constraints["budget_year"] + 1e-9
            greedy = solve_greedy(inst, objective, **constraints)
            assert inst.running[list(greedy.options)].sum() <= constraints["budget_year"] + 1e-9
        assert len({inst.site[j] for j in exact.options}) == len(exact.options)


def test_covering_known_optimum_capacity_binds():
    # Street A: 30 children at one point; street B: 10 children. One site each side and one
    # in the middle within reach of both, each with capacity 25. With one site, A's or the
    # middle one serves 25 (no more than its capacity); B's serves 10.
    inst = Instance(weight=[30, 10], street=[0, 1], site=[0, 1, 2], capacity=[25, 25, 25],
                    cost=[1, 1, 1], option_street=[0, 1, 0],
                    distance=[[0, 2000, 800], [2000, 0, 800]], radius=1000)
    one = solve_exact(inst, "covering", sites=1)
    assert one.value == 25.0
    # Two sites: A's own (25 of A) and the middle (the other 5 of A and B's 10) serve all 40;
    # A's and B's own sites would serve only 35.
    two = solve_exact(inst, "covering", sites=2)
    assert two.value == 40.0 and two.options == (0, 2)


def test_p_median_known_optimum_on_a_line():
    # Points at 0, 1000, 2000, 3000 m on a line with weights 1, 1, 1, 10; candidates at
    # each point; no existing facility nearer than 10 km. One median: the weighted median,
    # 3000 (total 3000 + 2000 + 1000 = 6000). Two medians: {3000, 1000} (1000 + 1000 = 2000).
    x = np.array([0.0, 1000, 2000, 3000])
    inst = Instance(weight=[1, 1, 1, 10], street=[0, 0, 0, 0], site=[0, 1, 2, 3],
                    capacity=[1] * 4, cost=[1] * 4, option_street=[0] * 4,
                    distance=np.abs(x[:, None] - x[None, :]), radius=500,
                    existing=np.full(4, 10000.0))
    p1 = solve_exact(inst, "p_median", sites=1)
    assert p1.options == (3,) and p1.value == 6000.0
    p2 = solve_exact(inst, "p_median", sites=2)
    assert p2.value == 2000.0 and 3 in p2.options
    assert solve_greedy(inst, "p_median", sites=1).options == (3,)


def test_equity_known_optimum_lifts_the_worst_street():
    # Street 0: wanting 100, unmet 50 (coverage 0.5); street 1: wanting 100, unmet 20 (0.8).
    # Site 0 reaches street 0 only (capacity 40), site 1 street 1 only (capacity 40). The
    # covering optimum with one site is site 0 (40 > 20) as is max-min: coverage 0.9 / 0.8
    # -> worst 0.8. With a capacity of 10 at site 0, covering picks site 1 (20 > 10) leaving
    # street 0 at 0.5, but max-min picks site 0 (worst 0.6).
    base = dict(weight=[50, 20], street=[0, 1], site=[0, 1], cost=[1, 1], option_street=[0, 1],
                distance=[[0, 5000], [5000, 0]], radius=1000, unmet=[50, 20],
                wanting=[100, 100])
    inst = Instance(capacity=[40, 40], **base)
    assert solve_exact(inst, "equity", sites=1).value == pytest.approx(0.8)
    inst = Instance(capacity=[10, 40], **base)
    assert solve_exact(inst, "covering", sites=1).options == (1,)
    eq = solve_exact(inst, "equity", sites=1)
    assert eq.options == (0,) and eq.value == pytest.approx(0.6)


@pytest.mark.parametrize("seed", range(15))
def test_greedy_within_one_minus_one_over_e_on_covering(seed):
    inst = _random_instance(100 + seed, n=20, sites=9)
    for k in (1, 2, 3):
        opt = solve_exact(inst, "covering", sites=k).value
        greedy = solve_greedy(inst, "covering", sites=k)
        assert greedy.value >= (1 - 1 / math.e) * opt - 1e-9
        assert greedy.value <= opt + 1e-9
        assert len(greedy.options) <= k
        assert opt <= greedy.bound + 1e-9  # the quick bound is a bound
        assert greedy.gap == pytest.approx((greedy.bound - greedy.value) / greedy.bound)


def test_greedy_lazy_saves_evaluations_and_matches_plain_greedy():
    inst = _random_instance(7, n=30, sites=12)
    lazy = solve_greedy(inst, "p_median", sites=4)
    # plain greedy: every remaining option evaluated at every step
    chosen = []
    for _ in range(4):
        rest = [j for j in range(12) if j not in chosen]
        chosen.append(min(rest, key=lambda j: (evaluate(inst, "p_median", chosen + [j]), j)))
    assert set(lazy.options) == set(chosen)
    assert lazy.extra["evaluations"] < 1 + 12 + 11 + 10 + 9


def test_greedy_identical_on_a_toy_with_a_known_answer():
    # Three separate clusters with 30, 20 and 10 children, one site in each (capacity 50):
    # with two sites, the answer is the 30 and 20 clusters, found by both solvers.
    d = np.full((3, 3), 9000.0)
    np.fill_diagonal(d, 100.0)
    inst = Instance(weight=[30, 20, 10], street=[0, 1, 2], site=[0, 1, 2], capacity=[50] * 3,
                    cost=[1] * 3, option_street=[0, 1, 2], distance=d, radius=1000)
    assert solve_greedy(inst, "covering", sites=2).options == (0, 1)
    assert solve_exact(inst, "covering", sites=2).options == (0, 1)


def test_no_feasible_plan_is_a_clear_error():
    inst = _random_instance(3)
    with pytest.raises(InfeasibleError, match="no plan meets the constraints"):
        solve_exact(inst, "covering", sites=1, min_coverage=0.99)
    with pytest.raises(InfeasibleError):
        solve_exact(inst, "covering", budget=0.5, min_coverage=0.1)


def test_top_plans_are_distinct_and_ordered():
    inst = _random_instance(5)
    plans = top_plans(inst, "covering", 4, sites=2)
    assert len({p.options for p in plans}) == len(plans) == 4
    values = [p.value for p in plans]
    assert values == sorted(values, reverse=True)


def test_siting_solvers_docstrings_run():
    mod = importlib.import_module("childsim.siting_solvers")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize("seed", range(5))
def test_fast_covering_gains_equal_exact_gains_without_binding_capacity(seed):
    # With capacities above all demand, the covering gain of an option is the remaining
    # demand within its walk, which is what the fast gains compute: the two greedy runs agree.
    inst = _random_instance(200 + seed, n=25, sites=10)
    inst.capacity[:] = inst.weight.sum() + 1
    for k in (1, 2, 3):
        exact = solve_greedy(inst, "covering", sites=k, exact_gains=True)
        fast = solve_greedy(inst, "covering", sites=k, exact_gains=False)
        assert fast.options == exact.options
        assert fast.value == pytest.approx(exact.value)
        assert fast.value >= (1 - 1 / math.e) * solve_exact(inst, "covering", sites=k).value - 1e-9


def _clustered_instance(seed, n=16, sites=5, streets=2):
    """Demand points in a few tight clusters (many share their reach), sites with three
    capacity options each, some of them dominated (dearer and no bigger than another)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 3000, (4, 2))
    pts = centres[rng.integers(0, 4, n)] + rng.uniform(-30, 30, (n, 2))
    sxy = rng.uniform(0, 3000, (sites, 2))
    site = np.repeat(np.arange(sites), 3)
    cap = np.tile([5.0, 10.0, 10.0], sites)
    cost = np.tile([1.0, 2.0, 2.0], sites) + rng.choice([0.0, 0.5], site.size)
    d = 1.3 * np.hypot(pts[:, None, 0] - sxy[None, site, 0], pts[:, None, 1] - sxy[None, site, 1])
    d[:, 1::3] = np.round(d[:, 1::3], -2)  # p-median: identical distance rows after rounding
    d[:, ::3] = d[:, 1::3]
    d[:, 2::3] = d[:, 1::3]
    pts_street = rng.integers(0, streets, n)
    pts_street[: n // 2] = 0  # so that several points of a cluster share a street
    return Instance(weight=rng.integers(0, 8, n).astype(float), street=pts_street, site=site,
                    capacity=cap, cost=cost, option_street=rng.integers(0, streets, sites)[site],
                    distance=d, radius=1500.0, existing=np.full(n, 2200.0), running=cap / 5)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("objective", ["covering", "p_median", "equity"])
def test_reduced_model_has_the_unreduced_optimum(seed, objective):
    # Merging points that reach the same sites, sharing a site's flow variables and dropping
    # dominated options make the programme smaller (checked) but not its optimum: the reduced
    # and the full programme and brute force agree on random clustered instances.
    inst = _clustered_instance(seed)
    shrunk = False
    for constraints in ({"sites": 2}, {"budget": 3.5}, {"sites": 2, "max_per_street": 1},
                        {"sites": 2, "budget_year": 3.0}):
        small = solve_exact(inst, objective, **constraints)
        full = solve_exact(inst, objective, reduce=False, **constraints)
        brute = brute_force(inst, objective, **constraints)
        assert small.value == pytest.approx(full.value, rel=1e-6, abs=1e-6), constraints
        assert small.value == pytest.approx(brute.value, rel=1e-6, abs=1e-6), constraints
        assert small.gap <= 1e-6 and full.gap <= 1e-6
        before_points, after_points = small.extra["points"]
        before_pairs, after_pairs = small.extra["pairs"]
        before_options, after_options = small.extra["options"]
        assert full.extra["pairs"][1] == before_pairs and full.extra["points"][1] == before_points
        assert after_points <= before_points and after_pairs <= before_pairs
        assert after_options <= before_options
        shrunk |= after_pairs < before_pairs and after_options < before_options
        # the plan found on the reduced model is a plan of the original instance
        assert len({inst.site[j] for j in small.options}) == len(small.options)
        if "budget" in constraints:
            assert inst.cost[list(small.options)].sum() <= constraints["budget"] + 1e-9
        if "budget_year" in constraints:
            assert inst.running[list(small.options)].sum() <= constraints["budget_year"] + 1e-9
    assert shrunk


def test_dominated_options_are_kept_when_plans_are_excluded():
    # top_plans excludes plans found; the next best may use a dominated option, so the
    # reduction keeps every option then, and the k best plans equal brute-force ranks.
    inst = _clustered_instance(3)
    plans = top_plans(inst, "covering", 3, sites=1)
    values = sorted((evaluate(inst, "covering", [j]) for j in range(len(inst.site))),
                    reverse=True)
    assert [p.value for p in plans] == pytest.approx(values[:3])
    assert plans[1].extra["options"][1] == len(inst.site)


def test_start_plan_is_returned_when_better_or_when_the_solver_finds_none():
    # A start plan (the greedy's) is kept when the solver stops early: with a time limit of
    # zero the solver finds nothing, and the start comes back with the gap to the bound.
    inst = _random_instance(11, n=20, sites=9)
    greedy = solve_greedy(inst, "covering", sites=2)
    quick = solve_exact(inst, "covering", sites=2, time_limit=0.0, start=greedy)
    assert quick.options == greedy.options and quick.value == greedy.value
    assert quick.extra["source"] == "start"
    assert quick.bound >= solve_exact(inst, "covering", sites=2).value - 1e-9
    assert quick.gap == pytest.approx((quick.bound - quick.value) / quick.bound)
    # given time, the solver's optimum wins over a worse start
    worst = min(range(len(inst.site)), key=lambda j: evaluate(inst, "covering", [j]))
    best = solve_exact(inst, "covering", sites=2, start=[worst])
    assert best.extra["source"] == "solver" and best.gap == 0.0
    assert best.value == pytest.approx(brute_force(inst, "covering", sites=2).value)


@pytest.mark.parametrize("objective", ["covering", "p_median", "equity"])
def test_kind_mix_exact_equals_brute_force(objective):
    # Each site may take a small option of kind 0 or a larger one of kind 1:
    # with least and most numbers per kind, exact (reduced) = brute force, the plan keeps the
    # mix, and the greedy never exceeds a kind's most.
    binding = False
    for seed in range(3):
        inst = _clustered_instance(seed, n=12, sites=4)
        inst.kind = np.tile([0, 1, 1], len(inst.site) // 3)
        for constraints in ({"sites": 3, "kind_mix": {0: (2, None)}},
                            {"sites": 2, "kind_mix": {1: (None, 0)}},
                            {"budget": 4.0, "kind_mix": {0: (None, 1), 1: (1, 1)}},
                            {"budget": 4.5, "kind_mix": {1: (2, None)}}):
            exact = solve_exact(inst, objective, **constraints)
            brute = brute_force(inst, objective, **constraints)
            assert exact.value == pytest.approx(brute.value, rel=1e-6, abs=1e-6), constraints
            counts = np.bincount(inst.kind[list(exact.options)], minlength=2)
            for k, (least, most) in constraints["kind_mix"].items():
                assert least is None or counts[k] >= least
                assert most is None or counts[k] <= most
            free = {k: v for k, v in constraints.items() if k != "kind_mix"}
            binding = binding or abs(brute_force(inst, objective, **free).value
                                     - brute.value) > 1e-6
            greedy = solve_greedy(inst, objective, **constraints)
            counts = np.bincount(inst.kind[list(greedy.options)], minlength=2)
            for k, (_, most) in constraints["kind_mix"].items():
                assert most is None or counts[k] <= most
    assert binding  # the mix changed the optimum somewhere: the test tests it
