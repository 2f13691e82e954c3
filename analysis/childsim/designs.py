"""designs: sampling designs over named parameters for sweeps and sensitivity analysis.

A design is a ``pandas.DataFrame``: one row per sample (index ``sample``, 0..n-1), one
column per parameter, values in the parameter's own units. ``df.attrs`` records what the
estimators in :mod:`childsim.sensitivity` need to read the rows back: the kind of design,
the bounds, and the kind's structure (Saltelli's base sample count, Morris's trajectories
and grid). Every design is a pure function of its arguments (the random ones take a
``seed``), so a sweep that resumes after an interruption re-creates the same rows.

Kinds:

- ``full_factorial``: every combination of ``levels`` equally spaced values per parameter.
- ``latin_hypercube``: McKay, Beckman and Conover (1979); one sample in each of n equal
  slices of every parameter's range, slices paired at random, position in the slice random.
- ``saltelli``: the A, B, AB_i matrices of Saltelli et al. (2010), Comput. Phys. Commun.
  181:259-270, from a 2d-dimensional Sobol sequence (Joe-Kuo direction numbers, see
  :mod:`childsim.sobol_sequence`): columns 1..d are A, d+1..2d are B, and AB_i is A with
  column i taken from B. Rows are laid out matrix by matrix: A (N rows), B (N rows), then
  AB_1 ... AB_d (N rows each), N(d+2) rows in all.
- ``morris``: r one-at-a-time trajectories on a p-level grid (Morris 1991, Technometrics
  33:161-174), step Delta = p / (2(p-1)) in unit scale; each trajectory is d+1 rows and
  changes one parameter per row, in a random order and direction.
"""

import numbers

import numpy as np
import pandas as pd

from .sobol_sequence import MAX_DIMENSIONS, sobol_sequence

__all__ = ["full_factorial", "latin_hypercube", "saltelli", "morris", "scale_to_bounds"]


def _check_bounds(bounds):
    if not hasattr(bounds, "items") or not bounds:
        raise TypeError("bounds must be a non-empty mapping of parameter name to (low, high)")
    out = {}
    for name, pair in bounds.items():
        if not isinstance(name, str):
            raise TypeError(f"parameter names must be str, got {name!r}")
        try:
            lo, hi = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise TypeError(f"bounds[{name!r}] must be a pair of numbers, got {pair!r}") from None
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError(f"bounds[{name!r}] must be finite with low < high, got {pair!r}")
        out[name] = (lo, hi)
    return out


def _check_count(name, value, lo):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo:
        raise ValueError(f"{name} must be an int >= {lo}, got {value!r}")
    return int(value)


def scale_to_bounds(unit, bounds):
    """Map points of the unit cube onto the bounds, as a design DataFrame.

    Parameters
    ----------
    unit : array-like, shape (n, d)
        Points in [0, 1]^d; column k belongs to the k-th entry of ``bounds``.
    bounds : Mapping of str to (float, float)
        Parameter name to (low, high).

    Returns
    -------
    pandas.DataFrame
        Index ``sample`` (0..n-1), one column per parameter.

    Examples
    --------
    >>> from childsim.designs import scale_to_bounds
    >>> scale_to_bounds([[0.0, 0.5], [1.0, 0.25]], {"a": (0, 10), "b": (1, 3)})
               a    b
    sample
    0        0.0  2.0
    1       10.0  1.5
    """
    bounds = _check_bounds(bounds)
    unit = np.asarray(unit, dtype=float)
    lo = np.array([b[0] for b in bounds.values()])
    hi = np.array([b[1] for b in bounds.values()])
    values = lo + unit * (hi - lo)
    df = pd.DataFrame(values, columns=list(bounds), index=pd.RangeIndex(len(values), name="sample"))
    df.attrs["bounds"] = {k: [lo_, hi_] for k, (lo_, hi_) in bounds.items()}
    return df


def full_factorial(bounds, levels=3):
    """Every combination of equally spaced levels (the first parameter varies slowest).

    Parameters
    ----------
    bounds : Mapping of str to (float, float)
        Parameter name to (low, high); the levels include both ends.
    levels : int or Mapping of str to int, default 3
        Levels per parameter (>= 2).

    Returns
    -------
    pandas.DataFrame
        prod(levels) rows; ``attrs["design"] == "full_factorial"``.

    Examples
    --------
    >>> from childsim.designs import full_factorial
    >>> full_factorial({"a": (0, 1), "b": (10, 20)}, levels={"a": 2, "b": 3})
              a     b
    sample
    0       0.0  10.0
    1       0.0  15.0
    2       0.0  20.0
    3       1.0  10.0
    4       1.0  15.0
    5       1.0  20.0
    """
    bounds = _check_bounds(bounds)
    if isinstance(levels, numbers.Integral):
        levels = {k: levels for k in bounds}
    counts = [_check_count(f"levels[{k!r}]", levels.get(k, 3), 2) for k in bounds]
    grids = [np.linspace(0.0, 1.0, c) for c in counts]
    mesh = np.meshgrid(*grids, indexing="ij")
    unit = np.stack([m.ravel() for m in mesh], axis=1)
    df = scale_to_bounds(unit, bounds)
    df.attrs.update(design="full_factorial", levels=dict(zip(bounds, counts)))
    return df


def latin_hypercube(bounds, samples, *, seed=0):
    """A Latin hypercube sample (McKay, Beckman and Conover 1979).

    Parameters
    ----------
    bounds : Mapping of str to (float, float)
        Parameter name to (low, high).
    samples : int
        Number of samples n (>= 1); each parameter's range is cut into n equal slices
        and every slice holds exactly one sample.
    seed : int, default 0
        Seed of numpy's PCG64 generator; the same seed gives the same design.

    Returns
    -------
    pandas.DataFrame
        n rows; ``attrs["design"] == "latin_hypercube"``.

    Examples
    --------
    >>> import numpy as np
    >>> from childsim.designs import latin_hypercube
    >>> d = latin_hypercube({"a": (0, 1), "b": (0, 100)}, 5, seed=1)
    >>> np.sort(np.floor(d["a"] * 5)).tolist(), np.sort(np.floor(d["b"] / 20)).tolist()
    ([0.0, 1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 2.0, 3.0, 4.0])
    """
    bounds = _check_bounds(bounds)
    n = _check_count("samples", samples, 1)
    rng = np.random.Generator(np.random.PCG64(int(seed)))
    d = len(bounds)
    unit = np.empty((n, d))
    for k in range(d):
        unit[:, k] = (rng.permutation(n) + rng.random(n)) / n
    df = scale_to_bounds(unit, bounds)
    df.attrs.update(design="latin_hypercube", seed=int(seed))
    return df


def saltelli(bounds, base_samples, *, skip=0):
    """A Saltelli (2010) design for first-order and total Sobol indices.

    Parameters
    ----------
    bounds : Mapping of str to (float, float)
        Parameter name to (low, high); at most 64 parameters.
    base_samples : int
        N, the rows of A and of B (best a power of two); the design has N(d+2) rows.
    skip : int, default 0
        First point of the Sobol sequence used (see :func:`sobol_sequence`).

    Returns
    -------
    pandas.DataFrame
        Rows A (0..N-1), B (N..2N-1), AB_1, ..., AB_d; ``attrs["design"] == "saltelli"``,
        ``attrs["base_samples"] == N``.

    Examples
    --------
    >>> from childsim.designs import saltelli
    >>> d = saltelli({"a": (0, 1), "b": (0, 1)}, 4)
    >>> len(d), d.attrs["base_samples"]
    (16, 4)
    >>> A, B, AB_a = d.iloc[0:4], d.iloc[4:8], d.iloc[8:12]
    >>> (AB_a["a"].values == B["a"].values).all(), (AB_a["b"].values == A["b"].values).all()
    (True, True)
    """
    bounds = _check_bounds(bounds)
    n = _check_count("base_samples", base_samples, 2)
    d = len(bounds)
    if 2 * d > MAX_DIMENSIONS:
        raise ValueError(f"a Saltelli design takes at most {MAX_DIMENSIONS // 2} parameters, got {d}")
    base = sobol_sequence(n, 2 * d, skip=skip)
    a, b = base[:, :d], base[:, d:]
    blocks = [a, b]
    for i in range(d):
        ab = a.copy()
        ab[:, i] = b[:, i]
        blocks.append(ab)
    df = scale_to_bounds(np.concatenate(blocks), bounds)
    df.attrs.update(design="saltelli", base_samples=n, skip=int(skip))
    return df


def morris(bounds, trajectories, *, levels=4, seed=0):
    """Morris (1991) one-at-a-time trajectories for elementary effects.

    Parameters
    ----------
    bounds : Mapping of str to (float, float)
        Parameter name to (low, high).
    trajectories : int
        r, the number of trajectories (>= 2; 10-50 is usual).
    levels : int, default 4
        p, the grid levels (even, >= 2); the step is Delta = p / (2(p-1)) of each range.
    seed : int, default 0
        Seed of numpy's PCG64 generator.

    Returns
    -------
    pandas.DataFrame
        r(d+1) rows, trajectory after trajectory; ``attrs["design"] == "morris"``,
        ``attrs["trajectories"]``, ``attrs["levels"]``.

    Examples
    --------
    >>> import numpy as np
    >>> from childsim.designs import morris
    >>> d = morris({"a": (0, 1), "b": (0, 1), "c": (0, 1)}, 2, seed=3)
    >>> len(d)
    8
    >>> steps = np.abs(np.diff(d.iloc[0:4].values, axis=0))   # one trajectory
    >>> ((steps > 0).sum(axis=1) == 1).all(), np.unique(steps[steps > 0].round(4)).tolist()
    (True, [0.6667])
    """
    bounds = _check_bounds(bounds)
    r = _check_count("trajectories", trajectories, 2)
    p = _check_count("levels", levels, 2)
    if p % 2:
        raise ValueError(f"levels must be even (so that Delta = p/(2(p-1)) lies on the grid), got {p}")
    d = len(bounds)
    delta = p / (2.0 * (p - 1))
    # Base values: grid points x with x + Delta <= 1, i.e. the first p/2 levels.
    base_levels = np.arange(p // 2) / (p - 1)
    rng = np.random.Generator(np.random.PCG64(int(seed)))
    unit = np.empty((r * (d + 1), d))
    for t in range(r):
        x_star = rng.choice(base_levels, size=d)
        up = rng.random(d) < 0.5
        order = rng.permutation(d)
        x = np.where(up, x_star, x_star + delta)
        rows = [x.copy()]
        for k in order:
            x[k] += delta if up[k] else -delta
            rows.append(x.copy())
        unit[t * (d + 1):(t + 1) * (d + 1)] = rows
    # Round off the float noise of x_star + delta - delta so grid values are exact.
    unit = np.round(unit * (p - 1)) / (p - 1)
    df = scale_to_bounds(unit, bounds)
    df.attrs.update(design="morris", trajectories=r, levels=p, seed=int(seed))
    return df
