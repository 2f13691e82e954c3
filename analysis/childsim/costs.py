"""costs: what a scenario spends on each service, and what each additional unit of service costs.

Costs are scenario inputs (``facility_capital_cost`` and ``facility_running_cost``, by year
and facility, the same in every replicate); use is an output (children in places, sessions
served, …, per replicate). Comparing a what-if with the baseline run with the same seed,
the additional use is taken replicate by replicate (common random numbers), so its spread
shows the model's randomness, not the noise of two independent runs.

Definitions (also written in the briefing page):

- *extra cost* of a service = capital + running costs of the facilities of that service
  over the whole run, what-if minus baseline (yuan, undiscounted);
- *additional use* = use of that service over the whole run, what-if minus baseline, per
  replicate (:data:`USE_MEASURES` says what is counted for each service);
- *cost per additional unit* = extra cost / mean additional use; its 90 % interval is the
  extra cost divided by the 95th and the 5th percentiles of the additional use, given only
  when both are positive (otherwise the what-if does not clearly add use of the service).
"""

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["USE_MEASURES", "costs_by_service", "service_use", "cost_effectiveness"]

#: How the use of each service is measured: service -> (variable(s), what a unit is, divisor
#: applied to the sum over months and streets, facility filter). Nursery and kindergarten use
#: are child-months in a place, reported as child-years (/12).
USE_MEASURES = {
    "nursery": {"variables": ["nursery_children_enrolled"], "unit": "child-year of nursery care",
                "divide": 12.0,
                "definition": "children holding a full-day nursery place, summed over months "
                              "and divided by 12 (one child-year = one child in care for a "
                              "year)"},
    "kindergarten": {"variables": ["kindergarten_children_enrolled"],
                     "unit": "child-year of kindergarten", "divide": 12.0,
                     "definition": "children holding a kindergarten place, summed over months "
                                   "and divided by 12"},
    "babyroom": {"variables": ["babyroom_sessions_served"], "unit": "baby-room session",
                 "divide": 1.0,
                 "definition": "baby-room child-sessions served (one child, one 3-hour "
                               "session)"},
    "holiday": {"variables": ["holiday_placed"], "unit": "pupil placed per session",
                "divide": 1.0,
                "definition": "pupils placed in a holiday class, summed over the session "
                              "months (a pupil placed in both July and August counts twice)"},
    "clinic": {"variables": ["clinic_visits"], "unit": "paediatric visit in the district",
               "divide": 1.0, "inside_only": True,
               "definition": "paediatric visits served by clinics in the district"},
}

SERVICE_LABELS = {
    "nursery": "Nurseries",
    "kindergarten": "Kindergartens",
    "babyroom": "Baby rooms",
    "holiday": "Holiday classes",
    "clinic": "Paediatric clinics",
}


def _facility_service(ds):
    kinds = dict(zip(ds["kind"].values.astype(str), ds["kind_service"].values.astype(str)))
    return np.array([kinds.get(k, "") for k in ds["facility_kind"].values.astype(str)])


def costs_by_service(ds):
    """Capital and running costs by year and service.

    Parameters
    ----------
    ds : xarray.Dataset
        A run with ``facility_capital_cost`` and ``facility_running_cost``.

    Returns
    -------
    xarray.Dataset
        ``capital``, ``running`` and ``total`` (year, service), yuan.

    Examples
    --------
    >>> import childsim
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.05,
    ...                    "end": "2024-12"}, base_dir=childsim.find_root() / "scenarios")
    >>> costs = childsim.costs_by_service(ds)
    >>> int(costs["capital"].sel(year=2024, service="nursery"))   # the 2024 nursery classes
    2500000
    """
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset, got {type(ds).__name__}")
    for name in ("facility_capital_cost", "facility_running_cost"):
        if name not in ds:
            raise ValueError(f"ds has no variable {name!r}")
    service = xr.DataArray(_facility_service(ds), dims="facility", name="service")
    capital = ds["facility_capital_cost"].groupby(service).sum("facility")
    running = ds["facility_running_cost"].groupby(service).sum("facility")
    out = xr.Dataset({"capital": capital, "running": running})
    out["total"] = out["capital"] + out["running"]
    for name in out.data_vars:
        out[name].attrs = {"units": "yuan"}
    return out


def service_use(ds, service):
    """Use of one service over the whole run, per replicate (see :data:`USE_MEASURES`).

    Parameters
    ----------
    ds : xarray.Dataset
    service : str
        A key of :data:`USE_MEASURES`.

    Returns
    -------
    xarray.DataArray or None
        (replicate,), in the service's unit; None when the run lacks the variables.

    Examples
    --------
    >>> import childsim
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.05,
    ...                    "end": "2024-12"}, base_dir=childsim.find_root() / "scenarios")
    >>> childsim.service_use(ds, "holiday").dims
    ('replicate',)
    """
    if service not in USE_MEASURES:
        raise ValueError(f"unknown service {service!r} (expected one of {list(USE_MEASURES)})")
    spec = USE_MEASURES[service]
    total = None
    for name in spec["variables"]:
        if name not in ds:
            return None
        da = ds[name].astype(np.float64)
        if spec.get("inside_only") and "facility" in da.dims and "facility_street" in da.coords:
            da = da.where(da["facility_street"] != "outside", 0.0)
        part = da.sum([d for d in da.dims if d != "replicate"])
        total = part if total is None else total + part
    return total / spec["divide"]


def cost_effectiveness(base, alt, *, q=(0.05, 0.95)):
    """Extra cost and additional use of each service of a what-if against the baseline.

    Parameters
    ----------
    base, alt : xarray.Dataset
        Two runs with the same horizon (and, for paired differences, the same seed and
        replicates).
    q : (float, float), default (0.05, 0.95)
        Quantiles of the additional use for the interval.

    Returns
    -------
    pandas.DataFrame
        Index ``service``; columns ``extra_capital``, ``extra_running``, ``extra_cost``
        (yuan), ``use_mean``, ``use_low``, ``use_high`` (additional use; mean and quantiles
        over replicates), ``unit``, ``cost_per_unit``, ``cost_per_unit_low``,
        ``cost_per_unit_high`` (yuan; NaN when not defined). Services whose costs and use
        both do not change are left out.

    Examples
    --------
    >>> import childsim
    >>> scenarios = childsim.find_root() / "scenarios"
    >>> quick = {"population_scale": 0.05, "end": "2025-12", "replicates": 2}
    >>> base = childsim.run({"extends": "baseline.yaml", **quick}, base_dir=scenarios)
    >>> alt = childsim.run({"extends": "holiday-classes-30-12.yaml", **quick}, base_dir=scenarios)
    >>> table = childsim.cost_effectiveness(base, alt)
    >>> int(table.loc["holiday", "extra_capital"])
    100000
    """
    cb, ca = costs_by_service(base), costs_by_service(alt)
    services = sorted(set(cb["service"].values.astype(str)) | set(ca["service"].values.astype(str)))
    rows = []
    replicates = np.intersect1d(base["replicate"].values, alt["replicate"].values)
    for service in services:
        def total(costs, name):
            if service not in costs["service"].values:
                return 0.0
            return float(costs[name].sel(service=service).sum())

        extra_capital = total(ca, "capital") - total(cb, "capital")
        extra_running = total(ca, "running") - total(cb, "running")
        row = {"service": service, "extra_capital": extra_capital,
               "extra_running": extra_running, "extra_cost": extra_capital + extra_running,
               "use_mean": np.nan, "use_low": np.nan, "use_high": np.nan,
               "unit": USE_MEASURES.get(service, {}).get("unit", ""),
               "cost_per_unit": np.nan, "cost_per_unit_low": np.nan,
               "cost_per_unit_high": np.nan}
        if service in USE_MEASURES:
            ub, ua = service_use(base, service), service_use(alt, service)
            if ub is not None and ua is not None:
                diff = ua.sel(replicate=replicates) - ub.sel(replicate=replicates)
                row["use_mean"] = float(diff.mean())
                row["use_low"] = float(diff.quantile(q[0]))
                row["use_high"] = float(diff.quantile(q[1]))
                if row["extra_cost"] > 0 and row["use_mean"] > 0:
                    row["cost_per_unit"] = row["extra_cost"] / row["use_mean"]
                    if row["use_low"] > 0:
                        row["cost_per_unit_low"] = row["extra_cost"] / row["use_high"]
                        row["cost_per_unit_high"] = row["extra_cost"] / row["use_low"]
        changed = row["extra_cost"] != 0 or (np.isfinite(row["use_mean"]) and row["use_mean"] != 0)
        if changed:
            rows.append(row)
    columns = ["service", "extra_capital", "extra_running", "extra_cost", "use_mean", "use_low",
               "use_high", "unit", "cost_per_unit", "cost_per_unit_low", "cost_per_unit_high"]
    return pd.DataFrame(rows, columns=columns).set_index("service")
