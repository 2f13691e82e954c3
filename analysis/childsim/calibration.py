"""calibration: read and plot the posterior file written by ``childsim calibrate``.

The posterior file (docs/calibration.md) is netCDF-4 HDF5 with dimensions ``generation``,
``particle``, ``parameter`` and ``target``. The last generation is the posterior: its
``particles`` with their ``weights``. This module depends only on NumPy, xarray and
matplotlib (not on the rest of the package or on the compiled core), so it can be used on
its own::

    from childsim.calibration import open_posterior, plot_posterior
    ds = open_posterior("posterior.h5")
    plot_posterior(ds).savefig("posterior.png")

Figures are built without ``pyplot`` (nothing global changes; any backend, Agg included).
"""

from pathlib import Path

import numpy as np
import xarray as xr

__all__ = ["open_posterior", "posterior_summary", "plot_posterior"]

_REQUIRED = ("particles", "weights", "tolerance", "prior_lo", "prior_hi")


def open_posterior(path):
    """Open a posterior file written by ``childsim calibrate``.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.h5`` file.

    Returns
    -------
    xarray.Dataset
        Loaded into memory (the file is closed), with dimensions ``generation``,
        ``particle``, ``parameter`` and ``target``.

    Raises
    ------
    TypeError
        If `path` is not a path.
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not a childsim posterior.

    See Also
    --------
    plot_posterior, posterior_summary

    Examples
    --------
    >>> ds = open_posterior("posterior.h5")  # doctest: +SKIP
    >>> ds.particles.isel(generation=-1).sizes  # doctest: +SKIP
    Frozen({'particle': 200, 'parameter': 3})
    """
    if not isinstance(path, (str, Path)) and not hasattr(path, "__fspath__"):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"posterior file {str(path)!r} does not exist")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        ds = ds.load()
    missing = [v for v in _REQUIRED if v not in ds.variables]
    if missing:
        raise ValueError(f"{str(path)!r} is not a childsim posterior (missing {missing})")
    return ds


def _check_posterior(ds):
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset (open_posterior), got {type(ds).__name__}")
    missing = [v for v in _REQUIRED if v not in ds.variables]
    if missing:
        raise ValueError(f"ds is not a childsim posterior (missing {missing})")


def _weighted_quantile(values, weights, q):
    order = np.argsort(values, kind="stable")
    c = np.cumsum(weights[order])
    return values[order][np.searchsorted(c, q * c[-1])]


def posterior_summary(ds, *, generation=-1):
    """Weighted mean, standard deviation, median and 5 %/95 % quantiles of each parameter.

    Parameters
    ----------
    ds : xarray.Dataset
        A posterior (:func:`open_posterior`).
    generation : int, default -1
        Which generation (position); -1 is the posterior.

    Returns
    -------
    pandas.DataFrame
        One row per parameter: ``mean``, ``sd``, ``q05``, ``q95``, ``prior_lo``,
        ``prior_hi``, ``default`` and ``median`` (the weighted 50 % quantile, the value
        adopted into parameters.yaml by docs/calibration.md's migration calibration).

    Examples
    --------
    >>> posterior_summary(open_posterior("posterior.h5"))  # doctest: +SKIP
                                      mean      sd  ...
    parameter
    population.women_18_49_share    0.2553  0.0035  ...
    """
    import pandas as pd

    _check_posterior(ds)
    g = ds.isel(generation=generation)
    w = g.weights.values
    rows = {}
    for k, name in enumerate(ds.parameter.values):
        x = g.particles.values[:, k]
        mean = float(np.sum(w * x))
        rows[str(name)] = {
            "mean": mean,
            "sd": float(np.sqrt(np.sum(w * (x - mean) ** 2))),
            "q05": float(_weighted_quantile(x, w, 0.05)),
            "q95": float(_weighted_quantile(x, w, 0.95)),
            "prior_lo": float(ds.prior_lo.values[k]),
            "prior_hi": float(ds.prior_hi.values[k]),
            "default": float(ds.parameter_default.values[k])
            if "parameter_default" in ds
            else np.nan,
            "median": float(_weighted_quantile(x, w, 0.5)),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("parameter")


def plot_posterior(ds, *, generation=-1, bins=30):
    """Marginal histograms of the posterior and the tolerance by generation.

    One panel per parameter: the weighted histogram of the particles of `generation` over
    the prior range (the x axis spans exactly the uniform prior; the value in
    parameters.yaml is a dotted line), then a panel with the tolerance ε of each generation
    (log scale; generation 0 has ε = ∞ and is not drawn) and the acceptance rate.

    Parameters
    ----------
    ds : xarray.Dataset
        A posterior (:func:`open_posterior`).
    generation : int, default -1
        Which generation (position) to histogram; -1 is the posterior.
    bins : int, default 30
        Histogram bins across the prior range.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    TypeError
        If `ds` is not an xarray.Dataset or `bins` not a positive int.
    ValueError
        If `ds` is not a posterior.

    See Also
    --------
    open_posterior, posterior_summary

    Examples
    --------
    >>> fig = plot_posterior(open_posterior("posterior.h5"))  # doctest: +SKIP
    >>> fig.savefig("posterior.png")  # doctest: +SKIP
    """
    from matplotlib.figure import Figure

    _check_posterior(ds)
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise TypeError(f"bins must be a positive int, got {bins!r}")
    names = [str(n) for n in ds.parameter.values]
    n = len(names) + 1
    cols = min(n, 3)
    rows = -(-n // cols)
    fig = Figure(figsize=(4.2 * cols, 3.2 * rows), layout="constrained")
    axes = [fig.add_subplot(rows, cols, i + 1) for i in range(n)]
    g = ds.isel(generation=generation)
    w = g.weights.values
    label = int(g.generation.values)
    for k, (ax, name) in enumerate(zip(axes, names)):
        lo, hi = float(ds.prior_lo.values[k]), float(ds.prior_hi.values[k])
        ax.hist(g.particles.values[:, k], bins=np.linspace(lo, hi, bins + 1), weights=w,
                density=True, color="C0", alpha=0.8, label=f"generation {label}")
        ax.axhline(1.0 / (hi - lo), color="0.5", linestyle="--", linewidth=1, label="prior")
        if "parameter_default" in ds:
            ax.axvline(float(ds.parameter_default.values[k]), color="C3", linestyle=":",
                       label="parameters.yaml")
        ax.set_xlim(lo, hi)
        unit = str(ds.parameter_unit.values[k]) if "parameter_unit" in ds else ""
        ax.set_xlabel(f"{name}" + (f" ({unit})" if unit else ""), fontsize=8)
        ax.set_ylabel("density")
        if k == 0:
            ax.legend(fontsize=7)
    ax = axes[-1]
    tol = ds.tolerance.values
    gens = ds.generation.values
    finite = np.isfinite(tol)
    ax.plot(gens[finite], tol[finite], "o-", color="C0", label="tolerance ε")
    if finite.any():
        ax.set_yscale("log")
    ax.set_xlabel("generation")
    ax.set_ylabel("tolerance ε")
    if "acceptance_rate" in ds:
        ax2 = ax.twinx()
        ax2.plot(gens, ds.acceptance_rate.values, "s--", color="C1", label="acceptance rate")
        ax2.set_ylabel("acceptance rate")
        ax2.set_ylim(0, 1.05)
    ax.set_title("tolerance (o) and acceptance rate (s)", fontsize=9)
    return fig
