"""indicators: the planners' tables, as pandas DataFrames (ensemble statistics by year).

For now the outputs allow two: births per year, and children by age group (nursery 0–2,
kindergarten 3–5, primary 6–11, secondary 12–17) by street at the end of each year. Each
table has one column (or row) per street and a ``district`` total; the district total is
summed within each replicate before the statistic is taken, so quantiles stay right.
"""

import numbers

import xarray as xr

from ._checks import require_dims, require_variable
from .summaries import annual, children_by_age_group

__all__ = ["births_per_year", "children_by_street_and_year"]


def _statistic(da, statistic):
    """Mean, or a quantile, over ``replicate``."""
    if statistic == "mean":
        return da.mean("replicate")
    if isinstance(statistic, numbers.Real) and not isinstance(statistic, bool):
        if not 0 <= statistic <= 1:
            raise ValueError(f"statistic as a quantile must be in [0, 1], got {statistic}")
        return da.quantile(float(statistic), dim="replicate").drop_vars("quantile")
    raise ValueError(f"statistic must be 'mean' or a quantile in [0, 1], got {statistic!r}")


def _with_district(da):
    """Streets followed by their sum, labelled ``district``."""
    district = da.sum("street").expand_dims(street=["district"])
    streets = da.drop_vars([c for c in da.coords if c != "street" and "street" in da[c].dims])
    return xr.concat([streets, district], dim="street")


def births_per_year(ds, *, statistic="mean"):
    """Births per calendar year, by street and for the district.

    Parameters
    ----------
    ds : xarray.Dataset or xarray.DataArray
        A run (its ``births``), or the ``births`` variable.
    statistic : "mean" or float, default "mean"
        Over replicates: the mean, or the quantile with this probability (e.g. 0.95).

    Returns
    -------
    pandas.DataFrame
        Index ``year``; columns the street ids, then ``district``. Years the horizon covers
        only in part hold the births of the simulated months.

    Examples
    --------
    >>> import childsim
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.1,
    ...                    "end": "2025-12"}, base_dir=childsim.find_root() / "scenarios")
    >>> table = childsim.births_per_year(ds)
    >>> table.index.tolist(), table.columns[-1]
    ([2024, 2025], 'district')
    >>> bool(abs(table["district"] - table.drop(columns="district").sum(axis=1)).max() < 1e-9)
    True
    """
    births = require_variable(ds, "births", "ds")
    require_dims(births, ["replicate", "time", "street"], "ds")
    yearly = _with_district(annual(births, "sum").drop_vars("months"))
    table = _statistic(yearly, statistic).transpose("year", "street").to_pandas()
    table.columns.name = None
    return table


def children_by_street_and_year(ds, *, statistic="mean", groups=None):
    """Children by age group, street and year (at the end of each year).

    Parameters
    ----------
    ds : xarray.Dataset or xarray.DataArray
        A run (its ``population``), or the ``population`` variable.
    statistic : "mean" or float, default "mean"
        Over replicates: the mean, or the quantile with this probability.
    groups : Mapping of str to (int, int), optional
        Age groups (default :data:`childsim.AGE_GROUPS`).

    Returns
    -------
    pandas.DataFrame
        Index (``street``, ``year``), streets in output order then ``district``; one column
        per age group. A year's value is that of its last simulated month.

    Examples
    --------
    >>> import childsim
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.1,
    ...                    "end": "2025-12"}, base_dir=childsim.find_root() / "scenarios")
    >>> table = childsim.children_by_street_and_year(ds)
    >>> table.columns.tolist()
    ['0-2', '3-5', '6-11', '12-17']
    >>> table.loc["district"].index.tolist()
    [2024, 2025]
    """
    population = require_variable(ds, "population", "ds")
    require_dims(population, ["replicate", "time", "street", "age"], "ds")
    groups = children_by_age_group(population, groups)
    yearly = annual(groups.drop_vars(["age_min", "age_max"]), "last").drop_vars("months")
    stat = _statistic(_with_district(yearly), statistic)
    table = stat.transpose("street", "year", "age_group").to_series().unstack("age_group")
    table = table[list(stat["age_group"].values)]
    table.columns.name = None
    return table
