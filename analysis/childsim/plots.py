"""plots: quick figures of a run with matplotlib — children by street, by age, ensemble bands.

Each function returns a ``matplotlib.figure.Figure`` built without ``pyplot`` (so nothing
global changes and no display is needed; it works on any backend, Agg included). In a
notebook the returned figure is shown; elsewhere save it with ``fig.savefig(path)``. Pass
``ax=`` to draw into an existing axes instead (several scenarios in one plot).
"""

import numbers

import numpy as np
import xarray as xr

from ._checks import require_dims, require_quantiles, require_variable

__all__ = ["plot_population_by_street", "plot_children_by_age", "plot_ensemble_band"]


def _axes(ax, figsize):
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    if not hasattr(ax, "figure") or not hasattr(ax, "plot"):
        raise TypeError(f"ax must be matplotlib Axes, got {type(ax).__name__}")
    return ax.figure, ax


def with_cjk_font(fig):
    """Let every text of ``fig`` fall back to a Chinese font (e.g. for 普惠 or 新泾镇).

    Sets the font family of each text to DejaVu Sans followed by the first CJK font found
    (``fonts-wqy-microhei`` on Debian; see ``_briefing_plots.find_cjk_font``), per text, so
    nothing global changes. Without a CJK font installed the figure is returned unchanged.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure()
    >>> _ = fig.add_subplot().set_title("普惠")
    >>> with_cjk_font(fig) is fig
    True
    """
    from matplotlib import font_manager
    from matplotlib.text import Text

    from ._briefing_plots import find_cjk_font

    path = find_cjk_font()
    if path is None:
        return fig
    font_manager.fontManager.addfont(path)  # idempotent: makes the family known by name
    families = ["DejaVu Sans", font_manager.FontProperties(fname=path).get_name()]
    for text in fig.findobj(Text):
        text.set_fontfamily(families)
    return fig


def _check_ages(ages, population):
    if ages is None:
        return population
    try:
        lo, hi = ages
    except (TypeError, ValueError):
        raise TypeError(f"ages must be (first age, last age), got {ages!r}") from None
    if not all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in (lo, hi)):
        raise TypeError(f"ages must be ints, got {ages!r}")
    if lo > hi:
        raise ValueError(f"ages: first age {lo} is above last age {hi}")
    return population.sel(age=slice(lo, hi))


def _street_labels(da):
    if "street_name_en" in da.coords:
        return [str(s) for s in da["street_name_en"].values]
    return [str(s) for s in da["street"].values]


def plot_population_by_street(ds, *, ages=None, ax=None):
    """Children per street over time (ensemble mean), one line per street.

    Parameters
    ----------
    ds : xarray.Dataset or xarray.DataArray
        A run (its ``population``), or the ``population`` variable.
    ages : (int, int), optional
        Only these ages, inclusive, e.g. ``(0, 2)`` for nursery age; default 0–17.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import childsim
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.1,
    ...                    "end": "2025-12"}, base_dir=childsim.find_root() / "scenarios")
    >>> fig = childsim.plot_population_by_street(ds, ages=(0, 2))
    >>> len(fig.axes[0].lines)
    10
    """
    population = require_variable(ds, "population", "ds")
    require_dims(population, ["replicate", "time", "street", "age"], "ds")
    selected = _check_ages(ages, population)
    lo, hi = (int(selected["age"].min()), int(selected["age"].max()))
    series = selected.sum("age").mean("replicate")
    fig, ax = _axes(ax, (9, 5))
    times = series["time"].values
    for label, street in zip(_street_labels(series), series["street"].values):
        ax.plot(times, series.sel(street=street).values, label=label)
    ax.set_ylabel(f"children aged {lo}–{hi} (mean of {population.sizes['replicate']} replicates)")
    ax.set_xlabel("month")
    ax.set_title("Children by street")
    ax.legend(fontsize="small", ncol=2)
    ax.grid(True, alpha=0.3)
    return with_cjk_font(fig)


def plot_children_by_age(ds, *, time=None, street=None, q=(0.05, 0.95), ax=None):
    """Children by single year of age at one month: bars of the mean, whiskers of the band.

    Parameters
    ----------
    ds : xarray.Dataset or xarray.DataArray
        A run (its ``population``), or the ``population`` variable.
    time : str or datetime-like, optional
        The month, e.g. ``"2030-12"``; default the last simulated month.
    street : str or list of str, optional
        Street id(s) to include; default the whole district.
    q : (float, float), default (0.05, 0.95)
        Quantiles over replicates for the whiskers.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import childsim
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.1,
    ...                    "end": "2025-12"}, base_dir=childsim.find_root() / "scenarios",
    ...                   replicates=2)
    >>> fig = childsim.plot_children_by_age(ds, time="2025-12", street="xinjing")
    >>> len(fig.axes[0].patches)
    18
    """
    population = require_variable(ds, "population", "ds")
    require_dims(population, ["replicate", "time", "street", "age"], "ds")
    lo_q, hi_q = _two_quantiles(q)
    where = "Changning"
    if street is not None:
        streets = [street] if isinstance(street, str) else list(street)
        unknown = [s for s in streets if s not in population["street"].values]
        if unknown:
            raise ValueError(f"unknown street {unknown[0]!r} (streets: {population['street'].values.tolist()})")
        population = population.sel(street=streets)
        where = ", ".join(_street_labels(population))
    if time is None:
        month = population.isel(time=-1)
    else:
        try:
            month = population.sel(time=time)
        except KeyError:
            raise ValueError(f"time {time!r} is not a simulated month") from None
        if "time" in month.dims:  # a partial date such as "2030" selects several months
            month = month.isel(time=-1)
    counts = month.sum("street")
    mean = counts.mean("replicate").values
    low = counts.quantile(lo_q, dim="replicate").values
    high = counts.quantile(hi_q, dim="replicate").values
    ages = counts["age"].values
    fig, ax = _axes(ax, (6, 6))
    ax.barh(ages, mean, xerr=np.vstack([mean - low, high - mean]), color="tab:blue",
            alpha=0.8, error_kw={"elinewidth": 1, "capsize": 2})
    ax.set_yticks(ages)
    ax.set_ylabel("age (completed years)")
    ax.set_xlabel(f"children (mean; whiskers {lo_q:.0%}–{hi_q:.0%} of replicates)")
    ax.set_title(f"Children by age, {where}, {str(month['time'].values)[:7]}")
    ax.grid(True, axis="x", alpha=0.3)
    return with_cjk_font(fig)


def _two_quantiles(q):
    q = require_quantiles(q)
    if len(q) != 2 or q[0] >= q[1]:
        raise ValueError(f"q must be two increasing quantiles (low, high), got {q}")
    return q


def plot_ensemble_band(da, *, q=(0.05, 0.95), label=None, color=None, ax=None):
    """An ensemble over time: the mean as a line, the spread between quantiles as a band.

    Parameters
    ----------
    da : xarray.DataArray
        With exactly the dimensions ``replicate`` and ``time`` (sum or select the others
        first, e.g. ``ds["births"].sum("street")``).
    q : (float, float), default (0.05, 0.95)
        The band: a 90 % band by default.
    label : str, optional
        Legend label; default the variable's ``long_name`` or name.
    color : str, optional
        A matplotlib colour.
    ax : matplotlib.axes.Axes, optional
        Draw here (e.g. to overlay a second scenario).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import childsim
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.1,
    ...                    "end": "2025-12"}, base_dir=childsim.find_root() / "scenarios",
    ...                   replicates=3)
    >>> fig = childsim.plot_ensemble_band(ds["births"].sum("street"), label="baseline")
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['baseline']
    """
    if not isinstance(da, xr.DataArray):
        raise TypeError(f"da must be an xarray.DataArray, got {type(da).__name__}")
    if set(da.dims) != {"replicate", "time"}:
        raise ValueError(
            f"da must have exactly the dimensions ('replicate', 'time'), got {da.dims}: "
            f"reduce the others first, e.g. .sum('street') or .sel(street='xinjing')"
        )
    lo_q, hi_q = _two_quantiles(q)
    mean = da.mean("replicate")
    low = da.quantile(lo_q, dim="replicate")
    high = da.quantile(hi_q, dim="replicate")
    label = label if label is not None else da.attrs.get("long_name", da.name or "value")
    fig, ax = _axes(ax, (9, 4.5))
    times = da["time"].values
    (line,) = ax.plot(times, mean.values, label=label, color=color)
    ax.fill_between(times, low.values, high.values, color=line.get_color(), alpha=0.25,
                    linewidth=0, label=f"_{label} {lo_q:.0%}–{hi_q:.0%}")
    units = da.attrs.get("units")
    if units:
        ax.set_ylabel(units)
    ax.set_xlabel("month")
    ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    return with_cjk_font(fig)
