"""options: each what-if as a costed option — public cost in a period, gross and net effect.

A planner ranks options by what they buy and what they cost the public purse. For one
what-if against the baseline (same seed: replicate r of one is paired with replicate r of
the other), over a period of years (default the 15th Five-Year Plan, 2026–2030):

- **public cost** = the change in capital and running costs of facilities, plus the change in
  spending on childcare subsidies (``policy_subsidy_cost``) and in compensation to providers
  for the price cap (``policy_price_cap_cost``); **families' out-of-pocket** spending
  (``family_nursery_fees``) is kept apart. Yearly amounts are discounted to the first year of
  the period at :data:`DISCOUNT_RATE` (or the rate given).
- **gross** child-years = the change in children in care at the facilities whose capacity the
  what-if changed (new facilities count whole); **net** = the change district-wide;
  **displacement** = gross − net: children who, without the option, would have been in care
  at another facility. A child-year is one child in care for twelve months.
- **cost per net child-year** = discounted public cost ÷ discounted net child-years (both at
  the same rate, so a child-year in 2030 weighs as much as the money spent in 2030).
- An option that changes **demand** (new housing, a fertility path) adds children, not care
  for the same children: it is marked and not given a cost per child-year to rank it by.

Intervals are the 5th–95th percentiles over the paired replicates; with fewer than
:data:`MIN_REPLICATES_FOR_QUANTILES` replicates they are the minimum–maximum and are called a
"range over N replicates".
"""

import numpy as np
import pandas as pd
import xarray as xr
import yaml

__all__ = ["DISCOUNT_RATE", "DISCOUNT_RATE_RANGE", "FIFTEENTH_FYP", "MIN_REPLICATES_FOR_QUANTILES",
           "period_years", "public_costs", "gross_net", "changes_demand", "option_summary"]

#: Yearly discount rate for costs and child-years: the social discount rate (社会折现率) of
#: 8 % set for public investment appraisal by NDRC and the Ministry of Construction in
#: 《建设项目经济评价方法与参数》(3rd edition, 2006). Plausible range 0–8 %: 0 % is the
#: undiscounted view; China's Guidelines for Pharmacoeconomic Evaluations (2020) recommend
#: 5 % for health and social programmes, with 0–8 % in sensitivity analysis.
DISCOUNT_RATE = 0.08
DISCOUNT_RATE_RANGE = (0.0, 0.08)
#: The years of the 15th Five-Year Plan (十五五), the default period of a comparison.
FIFTEENTH_FYP = (2026, 2030)
#: Below this many paired replicates an interval is the min–max ("range over N replicates").
MIN_REPLICATES_FOR_QUANTILES = 20

_CARE = {"nursery": "nursery_enrolled", "kindergarten": "kindergarten_enrolled"}
#: Services used by the session (not by a place held for months): an option that changes
#: their capacity is costed per extra unit of use (:data:`childsim.costs.USE_MEASURES`).
_SESSIONS = ("babyroom", "holiday", "clinic")


def period_years(ds, start=None, end=None):
    """The period of a comparison: the given years, else the 15th FYP years in the run.

    Parameters
    ----------
    ds : xarray.Dataset
        A run (its years bound the period).
    start, end : int, optional
        First and last year. Default: 2026–2030 cut to the run's years (the whole run when
        it has none of them).

    Returns
    -------
    (int, int)

    Raises
    ------
    ValueError
        When a given year is outside the run or ``start > end``.

    Examples
    --------
    >>> import childsim
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.05,
    ...                    "end": "2026-12"}, base_dir=childsim.find_root() / "scenarios",
    ...                   replicates=1)
    >>> childsim.period_years(ds)
    (2026, 2026)
    """
    years = np.unique(ds["time"].dt.year.values).astype(int)
    first, last = int(years[0]), int(years[-1])
    for label, year in (("--from", start), ("--to", end)):
        if year is not None and not first <= int(year) <= last:
            raise ValueError(f"{label} {year} is outside the runs' years {first}–{last}")
    if start is None and end is None:
        lo, hi = max(FIFTEENTH_FYP[0], first), min(FIFTEENTH_FYP[1], last)
        return (lo, hi) if lo <= hi else (first, last)
    lo = int(start) if start is not None else max(FIFTEENTH_FYP[0], first)
    hi = int(end) if end is not None else min(FIFTEENTH_FYP[1], last)
    if lo > hi:
        raise ValueError(f"--from {lo} is after --to {hi}")
    return lo, hi


def _weights(years, period, rate):
    """Discount weight per year (0 outside the period)."""
    years = np.asarray(years, dtype=int)
    w = (1.0 + rate) ** -(years - period[0]).astype(float)
    return np.where((years >= period[0]) & (years <= period[1]), w, 0.0)


def public_costs(ds, period=None, rate=DISCOUNT_RATE):
    """Public and families' spending of one run in a period, discounted, per replicate.

    Parameters
    ----------
    ds : xarray.Dataset
        A run.
    period : (int, int), optional
        First and last year (default :func:`period_years`).
    rate : float, default :data:`DISCOUNT_RATE`
        Yearly discount rate; amounts are discounted to the period's first year.

    Returns
    -------
    xarray.Dataset
        (replicate,) in yuan: ``facilities`` (capital + running), ``subsidies``,
        ``price_cap``, ``public`` (their sum) and ``family_fees``. A variable the run lacks
        (older files) counts as 0 and is named in the attribute ``missing``.

    Examples
    --------
    >>> import childsim
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.05,
    ...                    "end": "2025-12"}, base_dir=childsim.find_root() / "scenarios",
    ...                   replicates=1)
    >>> c = childsim.public_costs(ds, (2025, 2025), rate=0.0)
    >>> float(c["facilities"][0]) == float(ds["facility_capital_cost"].sel(year=2025).sum()
    ...                                    + ds["facility_running_cost"].sel(year=2025).sum())
    True
    """
    period = period or period_years(ds)
    replicates = ds["replicate"].values
    out, missing = {}, []

    def yearly(name, per_replicate):
        if name not in ds:
            missing.append(name)
            return xr.DataArray(np.zeros(len(replicates)), dims="replicate",
                                coords={"replicate": replicates})
        da = ds[name]
        extra = [d for d in da.dims if d not in ("replicate", "year")]
        da = da.sum(extra) if extra else da
        w = xr.DataArray(_weights(da["year"].values, period, rate), dims="year",
                         coords={"year": da["year"].values})
        total = (da * w).sum("year")
        if not per_replicate or "replicate" not in total.dims:
            total = total.expand_dims(replicate=replicates).copy()
        return total.astype(np.float64)

    out["facilities"] = (yearly("facility_capital_cost", False) +
                         yearly("facility_running_cost", False))
    out["subsidies"] = yearly("policy_subsidy_cost", True)
    out["price_cap"] = yearly("policy_price_cap_cost", True)
    out["public"] = out["facilities"] + out["subsidies"] + out["price_cap"]
    out["family_fees"] = yearly("family_nursery_fees", True)
    result = xr.Dataset(out)
    result.attrs = {"units": "yuan", "period": f"{period[0]}-{period[1]}", "discount_rate": rate,
                    "missing": ", ".join(missing)}
    return result


def _capacity_changed(base, alt, period):
    """Facilities of ``alt`` whose capacity differs from ``base`` in some month of the
    period, by an outer join on the facility id (a facility absent from a run has zero
    capacity)."""
    ids_alt = alt["facility"].values.astype(str)
    ids_base = base["facility"].values.astype(str)
    years = alt["time"].dt.year.values
    months = (years >= period[0]) & (years <= period[1])
    cap_alt = alt["facility_capacity"].values[months]
    cap_base = base["facility_capacity"].values[months]
    index = {f: i for i, f in enumerate(ids_base)}
    changed = []
    for j, f in enumerate(ids_alt):
        b = cap_base[:, index[f]] if f in index else np.zeros(cap_alt.shape[0])
        if np.any(cap_alt[:, j] != b):
            changed.append(f)
    return changed


def _care(ds, service, facilities, replicates, months):
    """Child-months in care at ``facilities`` (all when None), per replicate, in ``months``."""
    da = ds[_CARE[service]]
    ids = da["facility"].values.astype(str)
    if facilities is not None:
        keep = np.isin(ids, facilities)
        da = da.isel(facility=np.flatnonzero(keep))
    return da.sel(replicate=replicates).isel(time=months)


def gross_net(base, alt, service="nursery", period=None, rate=DISCOUNT_RATE):
    """Gross and net child-years of care an option adds, and the displacement between them.

    Parameters
    ----------
    base, alt : xarray.Dataset
        The baseline and the what-if (same seed; their facility lists may differ).
    service : {"nursery", "kindergarten"}
    period : (int, int), optional
        Default :func:`period_years`.
    rate : float
        Discount rate for the ``*_discounted`` columns.

    Returns
    -------
    pandas.DataFrame
        One row per paired replicate: ``gross``, ``net``, ``displacement`` (child-years, not
        discounted) and ``gross_discounted``, ``net_discounted``; the attribute
        ``changed_facilities`` lists the facilities whose capacity changed.

    Examples
    --------
    >>> import childsim
    >>> scenarios = childsim.find_root() / "scenarios"
    >>> quick = {"population_scale": 0.05, "end": "2025-12", "replicates": 2}
    >>> base = childsim.run({"extends": "baseline.yaml", **quick}, base_dir=scenarios)
    >>> alt = childsim.run({"extends": "nursery-expansion.yaml", **quick}, base_dir=scenarios)
    >>> g = childsim.gross_net(base, alt, period=(2025, 2025))
    >>> bool(((g["gross"] - g["net"] - g["displacement"]).abs() < 1e-9).all())
    True
    """
    if service not in _CARE:
        raise ValueError(f"service must be one of {list(_CARE)}, got {service!r}")
    period = period or period_years(base)
    replicates = np.intersect1d(base["replicate"].values, alt["replicate"].values)
    years = alt["time"].dt.year.values
    months = np.flatnonzero((years >= period[0]) & (years <= period[1]))
    w = _weights(years[months], period, rate)
    changed = _capacity_changed(base, alt, period)
    rows = {}
    for label, facilities in (("gross", changed), ("net", None)):
        a = _care(alt, service, facilities, replicates, months).sum("facility").values
        b_ids = base["facility"].values.astype(str)
        b_fac = None if facilities is None else [f for f in facilities if f in b_ids]
        b = (_care(base, service, b_fac, replicates, months).sum("facility").values
             if b_fac is None or b_fac else np.zeros_like(a))
        diff = (a - b).astype(np.float64)  # (replicate, month)
        rows[label] = diff.sum(axis=1) / 12.0
        rows[f"{label}_discounted"] = (diff * w).sum(axis=1) / 12.0
    table = pd.DataFrame(rows, index=pd.Index(replicates, name="replicate"))
    table["displacement"] = table["gross"] - table["net"]
    table.attrs["changed_facilities"] = changed
    return table[["gross", "net", "displacement", "gross_discounted", "net_discounted"]]


def _scenario(ds):
    try:
        return yaml.safe_load(ds.attrs.get("scenario", "")) or {}
    except yaml.YAMLError:
        return {}


def changes_demand(base, alt):
    """Whether a what-if changes demand: new housing or a fertility path unlike the base's.

    Examples
    --------
    >>> import xarray as xr
    >>> b = xr.Dataset(attrs={"scenario": "demography: {fertility: medium}"})
    >>> a = xr.Dataset(attrs={"scenario": "demography: {fertility: medium, new_housing: "
    ...                                   "[{street: beixinjing, households: 4000}]}"})
    >>> changes_demand(b, a), changes_demand(b, b)
    (True, False)
    """
    db = _scenario(base).get("demography") or {}
    da = _scenario(alt).get("demography") or {}
    return (db.get("new_housing") or []) != (da.get("new_housing") or []) or \
        db.get("fertility") != da.get("fertility")


def _interval(values):
    """(mean, low, high, label) of per-replicate values."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.nan, np.nan, np.nan, ""
    if values.size < MIN_REPLICATES_FOR_QUANTILES:
        return (float(values.mean()), float(values.min()), float(values.max()),
                f"range over {values.size} replicates")
    return (float(values.mean()), float(np.quantile(values, 0.05)),
            float(np.quantile(values, 0.95)), "90 % interval")


def _changed_services(base, alt, period):
    """The service of every facility whose capacity the option changes (empty when the runs
    carry no facility kinds)."""
    changed = _capacity_changed(base, alt, period)
    if not changed or "facility_kind" not in alt:
        return []
    kinds = dict(zip(alt["kind"].values.astype(str), alt["kind_service"].values.astype(str)))
    facility_kind = dict(zip(alt["facility"].values.astype(str),
                             alt["facility_kind"].values.astype(str)))
    return [kinds.get(facility_kind[f], "") for f in changed]


def _main_service(base, alt, period):
    """The service whose capacity the option changes most (nursery when none)."""
    care = [s for s in _changed_services(base, alt, period) if s in _CARE]
    return max(set(care), key=care.count) if care else "nursery"


def _session_service(base, alt, period):
    """The session service (baby rooms, holiday classes, clinics) whose capacity the option
    changes most, or None."""
    sessions = [s for s in _changed_services(base, alt, period) if s in _SESSIONS]
    return max(set(sessions), key=sessions.count) if sessions else None


def _period_use(ds, service, replicates, period, rate):
    """Discounted use of a session service in the period, per replicate (the unit of
    :data:`childsim.costs.USE_MEASURES`), or None when the run lacks the variable."""
    from .costs import USE_MEASURES

    spec = USE_MEASURES[service]
    total = 0.0
    for name in spec["variables"]:
        if name not in ds or "time" not in ds[name].dims:
            return None
        da = ds[name].sel(replicate=replicates).astype(np.float64)
        if spec.get("inside_only") and "facility" in da.dims and "facility_street" in da.coords:
            da = da.where(da["facility_street"] != "outside", 0.0)
        w = xr.DataArray(_weights(da["time"].dt.year.values, period, rate), dims="time",
                         coords={"time": da["time"].values})
        total = total + (da * w).sum([d for d in da.dims if d != "replicate"])
    return total / spec["divide"]


def option_summary(base, alt, period=None, rate=DISCOUNT_RATE):
    """One what-if as an option: public cost, gross/net effect, cost per net child-year.

    Parameters
    ----------
    base, alt : xarray.Dataset
    period : (int, int), optional
        Default :func:`period_years`.
    rate : float, default :data:`DISCOUNT_RATE`

    Returns
    -------
    dict
        ``service``, ``demand_changing`` (bool), ``changed_facilities``; for ``public``,
        ``facilities``, ``subsidies``, ``price_cap``, ``family_fees`` (extra yuan,
        discounted), ``gross``, ``net``, ``displacement`` (child-years) and
        ``cost_per_net`` (yuan per discounted net child-year) a tuple (mean, low, high,
        label); ``cost_per_net_note`` says why it is not given when it is not. An option
        that changes the capacity of baby rooms, holiday classes or clinics and no nursery or
        kindergarten places also has ``session_service``, ``session_unit``, ``extra_use``
        (discounted extra units used, interval) and ``cost_per_use`` (extra public yuan per
        extra unit used: per baby-room session, pupil-session or visit; an interval), when
        the extra use is positive in every replicate.

    Examples
    --------
    >>> import childsim
    >>> scenarios = childsim.find_root() / "scenarios"
    >>> quick = {"population_scale": 0.05, "end": "2026-12", "replicates": 2}
    >>> base = childsim.run({"extends": "baseline.yaml", **quick}, base_dir=scenarios)
    >>> alt = childsim.run({"extends": "subsidy-price-cap-2026.yaml", **quick},
    ...                    base_dir=scenarios)
    >>> s = childsim.option_summary(base, alt)
    >>> s["subsidies"][0] > 0, s["facilities"][0] == 0
    (True, True)
    """
    period = period or period_years(base)
    replicates = np.intersect1d(base["replicate"].values, alt["replicate"].values)
    cb = public_costs(base, period, rate).sel(replicate=replicates)
    ca = public_costs(alt, period, rate).sel(replicate=replicates)
    service = _main_service(base, alt, period)
    effect = gross_net(base, alt, service, period, rate)
    out = {"service": service, "demand_changing": changes_demand(base, alt),
           "changed_facilities": effect.attrs["changed_facilities"], "period": period,
           "rate": rate, "replicates": int(len(replicates))}
    for name in ("public", "facilities", "subsidies", "price_cap", "family_fees"):
        out[name] = _interval((ca[name] - cb[name]).values)
    for name in ("gross", "net", "displacement"):
        out[name] = _interval(effect[name].values)
    cost = (ca["public"] - cb["public"]).values
    net = effect["net_discounted"].values
    out["cost_per_net"] = (np.nan, np.nan, np.nan, "")
    out["cost_per_net_note"] = ""
    if out["demand_changing"]:
        out["cost_per_net_note"] = "not ranked: the option changes demand (new families)"
    elif np.all(cost == 0):
        out["cost_per_net_note"] = "no extra public cost"
    elif not np.all(net > 0):
        out["cost_per_net_note"] = "not defined: the net gain is not positive in every replicate"
    else:
        ratio = cost / net
        mean = float(cost.mean() / net.mean())
        _, low, high, label = _interval(ratio)
        out["cost_per_net"] = (mean, low, high, label)
    session = _session_service(base, alt, period)
    if session and not out["demand_changing"] and not _care_changed(base, alt, period):
        from .costs import USE_MEASURES

        use_a = _period_use(alt, session, replicates, period, rate)
        use_b = _period_use(base, session, replicates, period, rate)
        if use_a is not None and use_b is not None:
            extra = (use_a - use_b).values
            out.update(session_service=session, session_unit=USE_MEASURES[session]["unit"],
                       extra_use=_interval(extra), cost_per_use=(np.nan, np.nan, np.nan, ""))
            if np.all(extra > 0) and not np.all(cost == 0):
                _, low, high, label = _interval(cost / extra)
                out["cost_per_use"] = (float(cost.mean() / extra.mean()), low, high, label)
    return out


def _care_changed(base, alt, period):
    """Whether the option changes the capacity of any nursery or kindergarten facility."""
    return any(s in _CARE for s in _changed_services(base, alt, period))
