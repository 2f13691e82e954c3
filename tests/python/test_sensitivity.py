# test_sensitivity: designs (Sobol sequence, Latin hypercube, full factorial, Saltelli, Morris)
# and the sensitivity estimators against functions whose indices are known analytically.
import math

import numpy as np
import pytest

from childsim.designs import full_factorial, latin_hypercube, morris, saltelli
from childsim.sensitivity import morris_indices, plot_sensitivity, sobol_indices
from childsim.sobol_sequence import MAX_DIMENSIONS, sobol_sequence


# --- the Sobol sequence -------------------------------------------------------------------

def test_sobol_sequence_matches_scipy_joe_kuo():
    qmc = pytest.importorskip("scipy.stats.qmc")
    for skip in (0, 256):
        ref = qmc.Sobol(MAX_DIMENSIONS, scramble=False)
        if skip:
            ref.fast_forward(skip)
        assert np.array_equal(sobol_sequence(512, MAX_DIMENSIONS, skip=skip), ref.random(512))


def test_sobol_sequence_is_a_0_m_net_in_every_2d_projection_of_early_dims():
    # A property of every dimension on its own: the first 2^m points put
    # exactly one point in each of the 2^m equal slices of [0, 1).
    x = sobol_sequence(1024, MAX_DIMENSIONS)
    for k in range(MAX_DIMENSIONS):
        counts = np.bincount(np.floor(x[:, k] * 1024).astype(int), minlength=1024)
        assert (counts == 1).all(), k
    # and the first two dimensions form a (0, 10, 2)-net: one point per 32 x 32 square.
    cells = np.floor(x[:, 0] * 32).astype(int) * 32 + np.floor(x[:, 1] * 32).astype(int)
    assert (np.bincount(cells, minlength=1024) == 1).all()


def test_sobol_sequence_blocks_join_up():
    whole = sobol_sequence(300, 7)
    assert np.array_equal(np.vstack([sobol_sequence(100, 7), sobol_sequence(200, 7, skip=100)]), whole)


# --- designs --------------------------------------------------------------------------------

def test_full_factorial_has_every_combination_once():
    d = full_factorial({"a": (0, 1), "b": (-1, 1), "c": (5, 6)}, levels={"a": 2, "b": 3, "c": 4})
    assert len(d) == 2 * 3 * 4
    assert len({tuple(r) for r in d.values}) == 24
    assert sorted(set(d["b"])) == [-1.0, 0.0, 1.0]


def test_latin_hypercube_one_sample_per_slice_and_seeded():
    bounds = {f"p{i}": (i, 2 * i + 1) for i in range(6)}
    d = latin_hypercube(bounds, 50, seed=7)
    for name, (lo, hi) in bounds.items():
        slices = np.floor((d[name] - lo) / (hi - lo) * 50).astype(int)
        assert sorted(slices) == list(range(50))
    assert d.equals(latin_hypercube(bounds, 50, seed=7))
    assert not d.equals(latin_hypercube(bounds, 50, seed=8))


def test_morris_trajectories_step_each_parameter_once_by_delta():
    bounds = {"a": (0, 10), "b": (1, 2), "c": (-5, 5), "d": (0, 1)}
    d = morris(bounds, 20, levels=6, seed=2)
    delta = 6 / (2 * 5)
    lo = np.array([v[0] for v in bounds.values()])
    hi = np.array([v[1] for v in bounds.values()])
    unit = (d.values - lo) / (hi - lo)
    assert unit.min() >= -1e-12 and unit.max() <= 1 + 1e-12
    for t in range(20):
        steps = np.diff(unit[t * 5:(t + 1) * 5], axis=0)
        changed = np.abs(steps) > 1e-12
        assert (changed.sum(axis=1) == 1).all()
        assert sorted(np.argmax(changed, axis=1)) == [0, 1, 2, 3]
        assert np.allclose(np.abs(steps[changed]), delta)


def test_design_bad_bounds_are_refused():
    with pytest.raises(ValueError, match="low < high"):
        latin_hypercube({"a": (1, 1)}, 3)
    with pytest.raises(TypeError, match="pair of numbers"):
        saltelli({"a": "x"}, 8)
    with pytest.raises(ValueError, match="even"):
        morris({"a": (0, 1)}, 4, levels=3)


# --- Sobol indices against analytic values ------------------------------------------------

def _within(est, name, analytic):
    lo, hi = est[f"{name}_low"].values, est[f"{name}_high"].values
    bad = ~((lo <= analytic) & (analytic <= hi))
    assert not bad.any(), (name, est, analytic)
    # The interval must be informative, not merely wide enough to contain anything.
    assert (hi - lo).max() < 0.12


def ishigami(x, a=7.0, b=0.1):
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_indices_ishigami_match_analytic_within_ci():
    a, b = 7.0, 0.1
    pi = math.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = 8 * b**2 * pi**8 / 225
    v = v1 + v2 + v13
    s1 = np.array([v1, v2, 0.0]) / v
    st = np.array([v1 + v13, v2, v13]) / v
    assert np.allclose(s1, [0.3139, 0.4424, 0.0], atol=1e-4)   # the published values
    d = saltelli({"x1": (-pi, pi), "x2": (-pi, pi), "x3": (-pi, pi)}, 2**13)
    est = sobol_indices(d, ishigami(d.values), bootstrap=500)
    _within(est, "S1", s1)
    _within(est, "ST", st)


@pytest.mark.parametrize("a", [(0, 1, 4.5, 9, 99, 99), (0, 0.5, 3, 9, 99, 99, 99, 99)])
def test_sobol_indices_g_function_match_analytic_within_ci(a):
    a = np.array(a, dtype=float)
    vi = 1 / (3 * (1 + a) ** 2)
    v = np.prod(1 + vi) - 1
    s1 = vi / v
    st = np.array([vi[i] * np.prod(np.delete(1 + vi, i)) for i in range(len(a))]) / v
    d = saltelli({f"x{i}": (0, 1) for i in range(len(a))}, 2**13)
    y = np.prod((np.abs(4 * d.values - 2) + a) / (1 + a), axis=1)
    est = sobol_indices(d, y, bootstrap=500)
    _within(est, "S1", s1)
    _within(est, "ST", st)


def test_sobol_indices_linear_toy_exact_shares():
    # y = sum c_i x_i with x_i ~ U(lo_i, hi_i): S_i = ST_i = c_i^2 (hi_i - lo_i)^2 / sum(...)
    bounds = {"a": (0, 1), "b": (2, 4), "c": (-1, 2), "d": (0, 1)}
    c = np.array([1.0, -2.0, 0.5, 0.0])
    w = np.array([(c[i] * (hi - lo)) ** 2 for i, (lo, hi) in enumerate(bounds.values())])
    d = saltelli(bounds, 2**12)
    est = sobol_indices(d, d.values @ c, bootstrap=300)
    assert np.allclose(est["S1"], w / w.sum(), atol=0.01)
    assert np.allclose(est["ST"], w / w.sum(), atol=0.01)
    assert est.loc["d", "ST"] == 0 and est.loc["d", "S1"] == 0
    _within(est, "S1", w / w.sum())


def test_sobol_indices_refuse_wrong_design_or_length():
    d = saltelli({"a": (0, 1)}, 8)
    with pytest.raises(ValueError, match="rows"):
        sobol_indices(d, np.zeros(5))
    with pytest.raises(ValueError, match="'saltelli' design"):
        sobol_indices(latin_hypercube({"a": (0, 1)}, 24), np.arange(24.0))


# --- Morris ------------------------------------------------------------------------------

def test_morris_linear_toy_effects_are_exact():
    bounds = {"a": (0, 2), "b": (10, 20), "c": (-1, 1)}
    c = np.array([3.0, -0.5, 0.0])
    d = morris(bounds, 12, seed=5)
    m = morris_indices(d, d.values @ c)
    widths = np.array([2.0, 10.0, 2.0])
    assert np.allclose(m.loc[["a", "b", "c"], "mu_star"], np.abs(c) * widths)
    assert np.allclose(m.loc[["a", "b", "c"], "mu"], c * widths)
    assert np.allclose(m["sigma"], 0, atol=1e-9)


def test_morris_ranks_g_function_parameters_by_importance():
    # In the G function, parameter i matters less the larger a_i; with a strictly increasing
    # the true order of mu* is x0 > x1 > x2 > x3 > x4.
    a = np.array([0.0, 1.0, 4.5, 9.0, 99.0])
    d = morris({f"x{i}": (0, 1) for i in range(5)}, 60, levels=6, seed=11)
    y = np.prod((np.abs(4 * d.values - 2) + a) / (1 + a), axis=1)
    m = morris_indices(d, y)
    assert list(m.index) == ["x0", "x1", "x2", "x3", "x4"]
    # x0 interacts (sigma > 0); the nearly inert x4 has tiny effects
    assert m.loc["x0", "sigma"] > 0.1 and m.loc["x4", "mu_star"] < 0.02 * m.loc["x0", "mu_star"]


def test_plot_sensitivity_orders_bars_by_total_index():
    d = saltelli({"a": (0, 1), "b": (0, 1), "c": (0, 1)}, 256)
    est = sobol_indices(d, d["a"] + 3 * d["b"] + 0.1 * d["c"], bootstrap=50)
    fig = plot_sensitivity(est, title="toy")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["c", "a", "b"]           # barh: bottom to top, largest at the top
