"""sensitivity: global sensitivity indices from a design and its outputs (Sobol, Morris).

Given a design from :mod:`childsim.designs` and one scalar output per sample (for example
unmet nursery demand in 2030, averaged over an ensemble's replicates), these functions say
how much of the output's variation each parameter drives.

**Sobol indices** (variance-based; design ``saltelli``). With f_A, f_B, f_ABi the outputs on
the rows of A, B and AB_i, and V the variance of f over the rows of A and B together:

- first order, Saltelli et al. (2010), Comput. Phys. Commun. 181:259-270, eq. (b) of
  Table 2: S_i = mean(f_B (f_ABi - f_A)) / V — the share of V that parameter i explains
  alone;
- total, Jansen (1999), Comput. Phys. Commun. 117:35-43, as recommended in Saltelli et al.
  (2010) Table 2 (f): ST_i = mean((f_A - f_ABi)^2) / (2V) — the share of V that involves
  parameter i at all, alone or with others.

Confidence intervals come from the percentile bootstrap over the N base rows (a resampled
row j brings its A, B and AB_i outputs along). The bootstrap treats the rows as
independent; on a Sobol sequence the estimate is in fact more precise than that, so the
intervals are on the cautious side.

**Morris** elementary effects (design ``morris``): along each trajectory, the step in
parameter i by +-Delta (in units of its range) gives EE_i = (y_after - y_before) / (+-Delta);
mu is the mean of EE_i over the trajectories, mu* the mean of |EE_i| (Campolongo, Cariboni and
Saltelli 2007, Environ. Model. Softw. 22:1509-1518), sigma their standard deviation (ddof 1).
Effects are per whole range of the parameter, so they compare across parameters.
"""

import numpy as np
import pandas as pd

__all__ = ["sobol_indices", "morris_indices", "plot_sensitivity"]


def _outputs(design, y):
    values = np.asarray(getattr(y, "values", y), dtype=float).reshape(-1)
    if len(values) != len(design):
        raise ValueError(f"y has {len(values)} values but the design has {len(design)} rows")
    if not np.all(np.isfinite(values)):
        raise ValueError("y has non-finite values (NaN or inf)")
    return values


def _check_kind(design, kind):
    if not isinstance(design, pd.DataFrame):
        raise TypeError(f"design must be a pandas.DataFrame from childsim.designs, got {type(design).__name__}")
    found = design.attrs.get("design")
    if found != kind:
        raise ValueError(f"this estimator needs a {kind!r} design, got {found!r}")


def _sobol_point(fa, fb, fab):
    """S1 and ST for every parameter; fa, fb shape (n,), fab shape (d, n)."""
    # Centring on the mean leaves the estimators' expectations unchanged and lowers the
    # variance of the first-order one (it is not shift-invariant otherwise).
    both = np.concatenate([fa, fb])
    mean = both.mean()
    fa, fb, fab = fa - mean, fb - mean, fab - mean
    v = np.var(both, ddof=1)
    if v == 0:
        raise ValueError("the output does not vary over the design (variance 0)")
    s1 = np.mean(fb * (fab - fa), axis=1) / v
    st = 0.5 * np.mean((fa - fab) ** 2, axis=1) / v
    return s1, st


def sobol_indices(design, y, *, bootstrap=1000, confidence=0.95, seed=0):
    """First-order (Saltelli 2010) and total (Jansen) Sobol indices with bootstrap intervals.

    Parameters
    ----------
    design : pandas.DataFrame
        A ``saltelli`` design (:func:`childsim.designs.saltelli`).
    y : array-like, pandas.Series or xarray.DataArray
        One output per design row, in row order.
    bootstrap : int, default 1000
        Bootstrap resamples for the intervals (0: no intervals).
    confidence : float, default 0.95
        Coverage of the percentile intervals.
    seed : int, default 0
        Seed of the bootstrap's generator.

    Returns
    -------
    pandas.DataFrame
        Index ``parameter``; columns ``S1``, ``S1_low``, ``S1_high``, ``ST``, ``ST_low``,
        ``ST_high``.

    Examples
    --------
    A linear function y = x_a + 2 x_b on [0, 1]^2: S_a = ST_a = 1/5, S_b = ST_b = 4/5.

    >>> from childsim.designs import saltelli
    >>> from childsim.sensitivity import sobol_indices
    >>> d = saltelli({"a": (0, 1), "b": (0, 1)}, 1024)
    >>> s = sobol_indices(d, d["a"] + 2 * d["b"], bootstrap=200)
    >>> s[["S1", "ST"]].round(2)
                 S1    ST
    parameter
    a          0.2  0.2
    b          0.8  0.8
    """
    _check_kind(design, "saltelli")
    f = _outputs(design, y)
    n = int(design.attrs["base_samples"])
    names = list(design.columns)
    d = len(names)
    fa, fb, fab = f[:n], f[n:2 * n], f[2 * n:].reshape(d, n)
    s1, st = _sobol_point(fa, fb, fab)
    out = pd.DataFrame({"S1": s1, "ST": st}, index=pd.Index(names, name="parameter"))
    if bootstrap:
        rng = np.random.Generator(np.random.PCG64(int(seed)))
        b1 = np.empty((int(bootstrap), d))
        bt = np.empty((int(bootstrap), d))
        for k in range(int(bootstrap)):
            j = rng.integers(0, n, n)
            try:
                b1[k], bt[k] = _sobol_point(fa[j], fb[j], fab[:, j])
            except ValueError:  # a resample without variance (small N): left out
                b1[k], bt[k] = np.nan, np.nan
        tail = 50.0 * (1.0 - confidence)
        out["S1_low"], out["S1_high"] = np.nanpercentile(b1, [tail, 100 - tail], axis=0)
        out["ST_low"], out["ST_high"] = np.nanpercentile(bt, [tail, 100 - tail], axis=0)
        out = out[["S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"]]
    out.attrs.update(method="sobol", base_samples=n, bootstrap=int(bootstrap),
                     confidence=float(confidence))
    return out


def morris_indices(design, y):
    """Morris elementary-effect statistics mu, mu* and sigma per parameter.

    Parameters
    ----------
    design : pandas.DataFrame
        A ``morris`` design (:func:`childsim.designs.morris`).
    y : array-like, pandas.Series or xarray.DataArray
        One output per design row, in row order.

    Returns
    -------
    pandas.DataFrame
        Index ``parameter``; columns ``mu``, ``mu_star``, ``sigma``, sorted by ``mu_star``
        (largest first). Effects are per whole range of each parameter.

    Examples
    --------
    For y = 3 a - b on [0, 1]^2 every elementary effect of a is 3 and of b is -1:

    >>> from childsim.designs import morris
    >>> from childsim.sensitivity import morris_indices
    >>> d = morris({"a": (0, 1), "b": (0, 1)}, 10)
    >>> morris_indices(d, 3 * d["a"] - d["b"]).round(6)
                mu  mu_star  sigma
    parameter
    a          3.0      3.0    0.0
    b         -1.0      1.0    0.0
    """
    _check_kind(design, "morris")
    f = _outputs(design, y)
    names = list(design.columns)
    d = len(names)
    r = int(design.attrs["trajectories"])
    bounds = design.attrs["bounds"]
    lo = np.array([bounds[k][0] for k in names])
    hi = np.array([bounds[k][1] for k in names])
    unit = (design.values - lo) / (hi - lo)
    effects = np.full((r, d), np.nan)
    for t in range(r):
        rows = slice(t * (d + 1), (t + 1) * (d + 1))
        x, fy = unit[rows], f[rows]
        step = np.diff(x, axis=0)                      # (d, d): one non-zero per row
        k = np.argmax(np.abs(step), axis=1)
        if sorted(k.tolist()) != list(range(d)):
            raise ValueError(f"rows of trajectory {t} do not change each parameter once")
        effects[t, k] = np.diff(fy) / step[np.arange(d), k]
    out = pd.DataFrame(
        {"mu": effects.mean(axis=0), "mu_star": np.abs(effects).mean(axis=0),
         "sigma": effects.std(axis=0, ddof=1)},
        index=pd.Index(names, name="parameter"),
    )
    out.attrs.update(method="morris", trajectories=r)
    return out.sort_values("mu_star", ascending=False, kind="stable")


def plot_sensitivity(indices, *, ax=None, title=None):
    """A tornado-style bar chart of sensitivity indices, largest at the top.

    Parameters
    ----------
    indices : pandas.DataFrame
        From :func:`sobol_indices` (bars for S1 and ST with their intervals) or
        :func:`morris_indices` (bars for mu* with sigma as whiskers).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if omitted.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from childsim.sensitivity import plot_sensitivity
    >>> s = pd.DataFrame({"S1": [0.2, 0.7], "ST": [0.25, 0.75]},
    ...                  index=pd.Index(["a", "b"], name="parameter"))
    >>> fig = plot_sensitivity(s)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['a', 'b']
    """
    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 0.45 * len(indices) + 1.2), layout="constrained")
    else:
        fig = ax.figure
    if "ST" in indices:
        order = indices.sort_values("ST", ascending=True, kind="stable")
        y = np.arange(len(order))
        h = 0.38
        for col, offset, colour, label in (("ST", h / 2, "#1f4e79", "total (ST)"),
                                           ("S1", -h / 2, "#7fb3d5", "first order (S1)")):
            err = None
            if f"{col}_low" in order:
                err = np.vstack([order[col] - order[f"{col}_low"],
                                 order[f"{col}_high"] - order[col]]).clip(min=0)
            ax.barh(y + offset, order[col], height=h, color=colour, xerr=err,
                    capsize=2, label=label)
        ax.set_xlabel("share of output variance")
    elif "mu_star" in indices:
        order = indices.sort_values("mu_star", ascending=True, kind="stable")
        y = np.arange(len(order))
        ax.barh(y, order["mu_star"], color="#1f4e79", label="mu* (mean |elementary effect|)")
        ax.errorbar(order["mu_star"], y, xerr=order["sigma"], fmt="none", ecolor="#c0504d",
                    capsize=2, label="sigma")
        ax.set_xlabel("effect of moving the parameter over its whole range")
    else:
        raise ValueError("indices must come from sobol_indices or morris_indices")
    ax.set_yticks(y, list(order.index))
    ax.axvline(0, color="grey", lw=0.8)
    ax.legend(loc="lower right", fontsize="small")
    if title:
        ax.set_title(title)
    from .plots import with_cjk_font

    return with_cjk_font(fig)
