"""summaries: ensemble statistics, scenario differences, yearly totals and age groups.

Every function takes the ``xarray`` objects that :func:`childsim.run` and
:func:`childsim.open_run` return (a Dataset, or one of its variables as a DataArray) and
returns the same kind of object, with the variables' attributes kept.
"""

import numbers
from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from ._checks import require_data, require_dims, require_quantiles, require_variable
from ._facilities import align_facilities

__all__ = [
    "AGE_GROUPS",
    "ensemble_mean",
    "ensemble_quantiles",
    "paired_difference",
    "annual",
    "children_by_age_group",
]

#: The plan's age groups: nursery (托育, 0–2), kindergarten (3–5), primary (6–11) and
#: secondary school (12–17); label -> (first age, last age), inclusive.
AGE_GROUPS = {"0-2": (0, 2), "3-5": (3, 5), "6-11": (6, 11), "12-17": (12, 17)}


def ensemble_mean(obj, dim="replicate"):
    """Mean over the replicates of an ensemble.

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataArray
        A run, or one of its variables.
    dim : str, default "replicate"
        The dimension to average over.

    Returns
    -------
    Same type as ``obj``
        Without ``dim``; counts become float64. Attributes are kept.

    See Also
    --------
    ensemble_quantiles : spread over the replicates.

    Examples
    --------
    >>> import childsim
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.1,
    ...                    "end": "2024-12"}, base_dir=childsim.find_root() / "scenarios",
    ...                   replicates=3)
    >>> mean = childsim.ensemble_mean(ds["births"])
    >>> mean.dims, mean.dtype
    (('time', 'street'), dtype('float64'))
    """
    require_data(obj, "obj")
    require_dims(obj, [dim], "obj")
    return obj.mean(dim, keep_attrs=True)


def ensemble_quantiles(obj, q=(0.05, 0.5, 0.95), dim="replicate"):
    """Quantiles over the replicates of an ensemble (linear interpolation, as NumPy).

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataArray
    q : float or sequence of float, default (0.05, 0.5, 0.95)
        Quantiles in [0, 1].
    dim : str, default "replicate"

    Returns
    -------
    Same type as ``obj``
        ``dim`` replaced by a ``quantile`` dimension (first) labelled by ``q``.

    Examples
    --------
    >>> import childsim
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.1,
    ...                    "end": "2024-12"}, base_dir=childsim.find_root() / "scenarios",
    ...                   replicates=3)
    >>> band = childsim.ensemble_quantiles(ds["births"].sum(["time", "street"]), q=(0.05, 0.95))
    >>> band["quantile"].values.tolist()
    [0.05, 0.95]
    """
    require_data(obj, "obj")
    require_dims(obj, [dim], "obj")
    return obj.quantile(list(require_quantiles(q)), dim=dim, keep_attrs=True)


def _seed(obj):
    if "seed" in obj.attrs:
        return int(obj.attrs["seed"])
    if "seed" in obj.coords and obj.coords["seed"].ndim == 0:
        return int(obj.coords["seed"])
    return None


def _name(obj):
    if "scenario_name" in obj.attrs:
        return str(obj.attrs["scenario_name"])
    if "scenario" in obj.coords and obj.coords["scenario"].ndim == 0:
        return str(obj.coords["scenario"].item())
    return "?"


def paired_difference(a, b, *, dim="replicate", check_seed=True):
    """Per-replicate difference ``a − b`` of two scenarios run with the same seed.

    With the same seed, replicate *r* of both scenarios draws the same random numbers
    wherever they do the same thing (common random numbers, DESIGN.md decision 1), so the
    difference replicate by replicate has much less noise than the difference of the means.
    Summarise the result with :func:`ensemble_mean` and :func:`ensemble_quantiles`.

    Parameters
    ----------
    a, b : xarray.Dataset or xarray.DataArray
        Two runs (or the same variable of two runs), e.g. a what-if and the baseline; all
        coordinates must be equal, except the facilities: a facility that only one run has
        (a what-if that opens one) counts as zero capacity, zero use and zero cost in the
        other (rates and shares are NaN there).
    dim : str, default "replicate"
    check_seed : bool, default True
        Refuse runs made with different seeds (their difference is still an estimate, only
        noisier); pass False to allow it.

    Returns
    -------
    Same type as ``a``
        ``a − b``, with the coordinates and attributes of ``a``; ``long_name`` says
        "difference", and the global attributes name both scenarios.

    Raises
    ------
    ValueError
        If coordinates differ or the seeds differ.

    Examples
    --------
    >>> import childsim
    >>> scenarios = childsim.find_root() / "scenarios"
    >>> quick = {"population_scale": 0.1, "end": "2026-12"}
    >>> base = childsim.run({"extends": "baseline.yaml", **quick}, base_dir=scenarios, replicates=2)
    >>> low = childsim.run({"extends": "low-fertility.yaml", **quick}, base_dir=scenarios, replicates=2)
    >>> diff = childsim.paired_difference(low, base)
    >>> diff.attrs["scenario_a"], diff.attrs["scenario_b"], diff["births"].dims
    ('low-fertility', 'baseline', ('replicate', 'time', 'street'))
    """
    require_data(a, "a")
    require_data(b, "b")
    if type(a) is not type(b):
        raise TypeError(f"a and b must be of one type, got {type(a).__name__} and {type(b).__name__}")
    require_dims(a, [dim], "a")
    require_dims(b, [dim], "b")
    if check_seed:
        seed_a, seed_b = _seed(a), _seed(b)
        if seed_a is not None and seed_b is not None and seed_a != seed_b:
            raise ValueError(
                f"the runs have different seeds ({seed_a} and {seed_b}): their replicates "
                f"do not share random numbers; run both with the same seed, or pass "
                f"check_seed=False"
            )
    # A what-if may open facilities the other run lacks: outer join on facility ids, an
    # absent facility having zero capacity (``_facilities.align_facilities``).
    a, b = align_facilities([a, b])
    try:
        a_aligned, b_aligned = xr.align(a, b, join="exact")
    except ValueError as error:
        raise ValueError(
            f"a and b must have equal coordinates (same horizon, streets, replicates): {error}"
        ) from error
    diff = a_aligned - b_aligned  # arithmetic drops attributes: set them below
    seed = _seed(a)
    labels = {
        "title": f"childsim paired difference: {_name(a)} - {_name(b)}",
        "scenario_a": _name(a),
        "scenario_b": _name(b),
        **({"seed": np.int64(seed)} if seed is not None else {}),
    }
    if isinstance(diff, xr.Dataset):
        for name in diff.data_vars:
            diff[name].attrs = _difference_attrs(a[name])
        diff.attrs = labels
    else:
        diff.attrs = {**_difference_attrs(a), **labels}
    return diff


def _difference_attrs(source):
    """Units, long_name ("difference in ...") and description of a variable's difference."""
    attrs = {k: v for k, v in source.attrs.items() if k in ("units", "long_name", "description")}
    if "long_name" in attrs:
        attrs["long_name"] = f"difference in {attrs['long_name']}"
    return attrs


def _how_reduce(grouped, how):
    if how == "sum":
        return grouped.sum(keep_attrs=True)
    if how == "mean":
        return grouped.mean(keep_attrs=True)
    return grouped.last(keep_attrs=True)


def _in_time_order(result, source):
    """Each variable's dimensions in the source's order, ``year`` where ``time`` was
    (grouping a Dataset moves the group's dimension first)."""

    def order(dims):
        return ["year" if d == "time" else d for d in dims]

    if isinstance(result, xr.DataArray):
        return result.transpose(*order(source.dims))
    for name in result.data_vars:
        result[name] = result[name].transpose(*order(source[name].dims))
    return result


def annual(obj, how):
    """Monthly values to calendar years.

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataArray
        With a ``time`` dimension of dates (as from :func:`run`). Of a Dataset, only the
        variables along ``time`` are kept.
    how : {"sum", "last", "mean"}
        ``"sum"`` for flows (births, deaths, moves: the year's total), ``"last"`` for
        stocks (population, women, residents: the value at the end of the year's last
        simulated month), ``"mean"`` for the average stock over the year. There is no
        default because summing a stock, or taking the last month of a flow, is a silent
        error.

    Returns
    -------
    Same type as ``obj``
        ``time`` replaced by ``year`` (int); the coordinate ``months`` along ``year`` says
        how many simulated months each year has (12 except at the ends of a horizon that
        does not cover whole years).

    Examples
    --------
    >>> import childsim
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.1,
    ...                    "end": "2025-06"}, base_dir=childsim.find_root() / "scenarios")
    >>> births = childsim.annual(ds["births"], "sum")
    >>> births["year"].values.tolist(), births["months"].values.tolist()
    ([2024, 2025], [12, 6])
    """
    require_data(obj, "obj")
    require_dims(obj, ["time"], "obj")
    if how not in ("sum", "last", "mean"):
        raise ValueError(f"how must be 'sum', 'last' or 'mean', got {how!r}")
    if not np.issubdtype(obj["time"].dtype, np.datetime64):
        raise TypeError("obj['time'] must hold dates (datetime64), as decoded from a run")
    if isinstance(obj, xr.Dataset):
        keep = [name for name in obj.data_vars if "time" in obj[name].dims]
        if not keep:
            raise ValueError("obj has no variable along 'time'")
        obj = obj[keep]
    years = obj["time"].dt.year.rename("year")
    result = _in_time_order(_how_reduce(obj.groupby(years), how), obj)
    months = years.groupby(years).count().astype(np.int64)
    result = result.assign_coords(months=("year", months.values))
    result["year"].attrs = {"long_name": "calendar year"}
    result["months"].attrs = {"long_name": "simulated months in the year"}
    return result


def _check_groups(groups, ages):
    if not isinstance(groups, Mapping) or not groups:
        raise TypeError("groups must be a non-empty mapping label -> (first age, last age)")
    checked = {}
    for label, bounds in groups.items():
        if not isinstance(label, str):
            raise TypeError(f"age group labels must be str, got {label!r}")
        try:
            lo, hi = bounds
        except (TypeError, ValueError):
            raise TypeError(f"age group {label!r}: expected (first age, last age), got {bounds!r}") from None
        if not all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in (lo, hi)):
            raise TypeError(f"age group {label!r}: ages must be int, got {bounds!r}")
        if lo > hi:
            raise ValueError(f"age group {label!r}: first age {lo} is above last age {hi}")
        missing = sorted(set(range(lo, hi + 1)) - ages)
        if missing:
            raise ValueError(f"age group {label!r}: age {missing[0]} is not in the data")
        checked[label] = (int(lo), int(hi))
    return checked


def children_by_age_group(obj, groups=None):
    """Children summed into age groups.

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataArray
        A run (its ``population`` is used) or a DataArray with an ``age`` dimension.
    groups : Mapping of str to (int, int), optional
        Label -> (first age, last age), inclusive. Default :data:`AGE_GROUPS`:
        ``0-2``, ``3-5``, ``6-11``, ``12-17``.

    Returns
    -------
    xarray.DataArray
        ``age`` replaced by ``age_group`` (last dimension), with coordinates ``age_min`` and
        ``age_max``; int64 counts.

    Examples
    --------
    >>> import childsim
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.1,
    ...                    "end": "2024-12"}, base_dir=childsim.find_root() / "scenarios")
    >>> groups = childsim.children_by_age_group(ds)
    >>> groups["age_group"].values.tolist()
    ['0-2', '3-5', '6-11', '12-17']
    >>> bool((groups.sum("age_group") == ds["population"].sum("age")).all())
    True
    """
    population = require_variable(obj, "population", "obj")
    require_dims(population, ["age"], "obj")
    ages = {int(a) for a in population["age"].values}
    groups = _check_groups(AGE_GROUPS if groups is None else groups, ages)
    parts = [
        population.sel(age=slice(lo, hi)).sum("age", dtype=np.int64, keep_attrs=True)
        for lo, hi in groups.values()
    ]
    index = pd.Index(list(groups), name="age_group")
    result = xr.concat(parts, dim=index, combine_attrs="override")
    result = result.assign_coords(
        age_min=("age_group", [lo for lo, _ in groups.values()]),
        age_max=("age_group", [hi for _, hi in groups.values()]),
    )
    order = [d for d in population.dims if d != "age"] + ["age_group"]
    result = result.transpose(*order)
    result.name = "children"
    result.attrs = {
        "units": population.attrs.get("units", "children"),
        "long_name": "children by age group",
    }
    return result
