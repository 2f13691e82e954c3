"""targets: the action plan's targets — each year's indicator, whether it is met, and when.

The targets are those of the base data's ``targets.yaml`` (``scenarios/changning/targets.yaml``:
id, description, threshold, comparison, first year, plan item), with those a scenario adds or
overrides in its own ``targets:`` list; a run stores the result as its ``target_*``
coordinates (:func:`run_targets`). A run made by a model with the
indicator outputs holds ``indicator_target_met`` (replicate, year, target); for runs without
them the indicators are computed here from the raw outputs, following the definitions written
in ``targets.yaml``:

- values are those of the last simulated month of each year (December), except the holiday
  classes, counted in July (summer) and January (winter);
- nursery places are the capacities of the facility kinds of the ``nursery`` service (baby
  rooms are a service of their own and are not counted); the inclusive (普惠) ones are the
  facilities designated at the capped price (the ``facility_inclusive`` coordinate, from each
  entry's ``inclusive`` in ``facilities.yaml``, else its kind's);
- "public" (公办) places are those of facilities run by the education bureau or another
  public body (the ``facility_run_by`` coordinate); item 19's +250 counts only these;
- a kindergarten "has a nursery class" when an open nursery class names it as its host
  (the ``facility_host`` coordinate).

Two targets cannot be computed from the outputs (the share of 1–3-year-olds who used a baby
room in the year, and the 15-minute walk to a clinic) unless the run has the indicator
outputs; they are reported as not available (NaN).
"""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ._checks import require_dims

__all__ = [
    "load_targets",
    "run_targets",
    "merge_targets",
    "load_kinds",
    "base_data_dir",
    "target_indicators",
    "targets_met",
    "target_summary",
    "SHORT_LABELS",
]

#: Short labels for the plan's targets (the table's first column); others use their
#: description up to the first full stop.
SHORT_LABELS = {
    "nursery_places_per_1000": "Nursery places per 1,000 residents",
    "kindergarten_nursery_class_share_2024": "Kindergartens with a nursery class (托幼一体), 2024",
    "kindergarten_nursery_class_share_2025": "Kindergartens with a nursery class (托幼一体), 2025",
    "inclusive_nursery_share": "Inclusive (普惠) share of nursery places",
    "public_nursery_places_added_2024": "Public nursery-class places added in 2024",
    "babyroom_street_share": "Streets with a baby room (宝宝屋)",
    "babyroom_served_share_1_3": "1–3-year-olds using a baby room in the year",
    "summer_classes": "Summer holiday classes (暑托班)",
    "winter_classes": "Winter holiday classes (寒托班)",
    "chc_paediatric_clinic_share": "Health centres with a paediatric clinic",
    "paediatric_doctors_per_1000_children": "Paediatric doctors per 1,000 children (0–14)",
    "walk_15min_chc_share": "Children within a 15-minute walk of a paediatric clinic",
}

_COMPARE = {
    ">=": np.greater_equal,
    ">": np.greater,
    "<=": np.less_equal,
    "<": np.less,
}


def base_data_dir(ds, root=None):
    """The base-data directory a run was made with (``scenarios/<base_data>``).

    Parameters
    ----------
    ds : xarray.Dataset
        A run; its ``scenario`` attribute names ``base_data``.
    root : str or os.PathLike, optional
        The repository root; default :func:`childsim.find_root`.

    Returns
    -------
    pathlib.Path or None
        The directory, or None if it cannot be found.

    Examples
    --------
    >>> import childsim, xarray as xr
    >>> childsim.base_data_dir(xr.Dataset(attrs={"scenario": "base_data: changning\\n"})).name
    'changning'
    """
    import yaml

    from ._scenario import find_root

    name = "changning"
    text = ds.attrs.get("scenario") if isinstance(ds, xr.Dataset) else None
    if text:
        try:
            parsed = yaml.safe_load(str(text))
            if isinstance(parsed, dict) and parsed.get("base_data"):
                name = str(parsed["base_data"])
        except yaml.YAMLError:
            pass
    try:
        root = Path(root) if root is not None else find_root()
    except FileNotFoundError:
        return None
    candidate = root / "scenarios" / name
    return candidate if candidate.is_dir() else None


def load_targets(path=None):
    """The plan's targets as a table.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A ``targets.yaml``; default that of the Changning base data in the repository.

    Returns
    -------
    pandas.DataFrame
        Index ``target`` (id); columns ``label`` (short), ``description``, ``threshold``
        (float), ``comparison`` (``>=``, ``>``, ``<=``, ``<``), ``year`` (first year the
        target applies; 0 when it applies every year), ``plan_item`` (str, empty when the
        target is national or municipal), ``plan_text`` (the plan's sentence, quoted; empty
        when none).

    Examples
    --------
    >>> import childsim
    >>> targets = childsim.load_targets()
    >>> targets.loc["summer_classes", ["threshold", "comparison", "plan_item"]].tolist()
    [26.0, '>=', '44']
    """
    import yaml

    from ._scenario import find_root

    if path is None:
        path = find_root() / "scenarios" / "changning" / "targets.yaml"
    path = Path(os.fspath(path))
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict) or not isinstance(data.get("targets"), list):
        raise ValueError(f"{path}: expected a map with a list 'targets'")
    rows = []
    for item in data["targets"]:
        comparison = str(item.get("comparison", ">="))
        if comparison not in _COMPARE:
            raise ValueError(f"{path}: target {item.get('id')!r}: unknown comparison {comparison!r}")
        plan_item = item.get("plan_item")
        rows.append({
            "target": str(item["id"]),
            "label": SHORT_LABELS.get(str(item["id"]), _short(str(item.get("description", "")))),
            "description": str(item.get("description", "")),
            "threshold": float(item["threshold"]),
            "comparison": comparison,
            "year": int(item.get("year") or 0),
            "plan_item": "" if plan_item is None else str(plan_item),
            "plan_text": str(item.get("plan_text") or ""),
        })
    return pd.DataFrame(rows).set_index("target")


def run_targets(ds, *, fallback=True):
    """The targets a run was tested against: the base data's with the scenario's own.

    A scenario's ``targets:`` list adds targets or overrides those of ``targets.yaml``
    (docs/scenarios.md); the model stores the result as the ``target_*`` coordinates of the
    run, which this reads. A run without them (an older file) gets the base data's
    ``targets.yaml`` when ``fallback`` is true.

    Parameters
    ----------
    ds : xarray.Dataset
        A run (``childsim.run`` or ``childsim.open_run``).
    fallback : bool, default True
        Read the base data's ``targets.yaml`` when the run has no ``target`` coordinates.

    Returns
    -------
    pandas.DataFrame
        As :func:`load_targets`: index ``target``; columns ``label``, ``description``,
        ``threshold``, ``comparison``, ``year``, ``plan_item``.

    Examples
    --------
    >>> import childsim
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.05,
    ...                    "end": "2024-12", "targets": [
    ...                        {"id": "nursery_places_per_1000_2030", "threshold": 5.0,
    ...                         "variable": "indicator_nursery_places_per_1000", "year": 2030,
    ...                         "assumed": "a 15th Five-Year Plan target under study"}]},
    ...                   base_dir=childsim.find_root() / "scenarios")
    >>> childsim.run_targets(ds).loc["nursery_places_per_1000_2030", ["threshold", "year"]].tolist()
    [5.0, 2030]
    """
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset, got {type(ds).__name__}")
    if "target" not in ds.coords or "target_threshold" not in ds.coords:
        if not fallback:
            raise ValueError("the run has no target coordinates")
        base_dir = base_data_dir(ds)
        return load_targets(base_dir / "targets.yaml" if base_dir else None)

    def column(name, default):
        if name in ds.coords:
            return ds[name].values
        return np.full(ds.sizes["target"], default, dtype=object)

    ids = [str(t) for t in ds["target"].values]
    descriptions = [str(d) for d in column("target_description", "")]
    rows = []
    for k, t in enumerate(ids):
        rows.append({
            "target": t,
            "label": SHORT_LABELS.get(t, _short(descriptions[k])),
            "description": descriptions[k],
            "threshold": float(column("target_threshold", np.nan)[k]),
            "comparison": str(column("target_comparison", ">=")[k]),
            "year": int(column("target_first_year", 0)[k]),
            "plan_item": str(column("target_plan_item", "")[k]),
        })
    columns = ["target", "label", "description", "threshold", "comparison", "year", "plan_item"]
    return pd.DataFrame(rows, columns=columns).set_index("target")


def merge_targets(tables):
    """One table of targets from several runs' (:func:`run_targets`): the union of their ids.

    The first table's rows come first and win where runs define the same id differently (a
    scenario overriding a threshold); ids added by later runs follow in order.

    Parameters
    ----------
    tables : sequence of pandas.DataFrame
        From :func:`run_targets` or :func:`load_targets`.

    Returns
    -------
    pandas.DataFrame
        The union, same columns.

    Examples
    --------
    >>> import childsim
    >>> base = childsim.load_targets()
    >>> extra = base.loc[["summer_classes"]].rename(index={"summer_classes": "summer_2030"})
    >>> merged = childsim.merge_targets([base, extra])
    >>> len(merged) == len(base) + 1, merged.index[-1]
    (True, 'summer_2030')
    """
    tables = list(tables)
    if not tables:
        raise ValueError("tables is empty")
    merged = tables[0]
    for table in tables[1:]:
        extra = table.loc[[t for t in table.index if t not in merged.index]]
        merged = pd.concat([merged, extra])
    return merged


def _short(description):
    text = description.split(". ")[0].split(" (")[0]
    return text[:80]


def load_kinds(path=None):
    """Facility kinds of the base data: service and whether they count as inclusive (普惠).

    Parameters
    ----------
    path : str or os.PathLike, optional
        A ``facilities.yaml``; default that of the Changning base data.

    Returns
    -------
    pandas.DataFrame
        Index ``kind``; columns ``service``, ``inclusive`` (bool: the default of the kind's
        facilities), ``run_by`` (the default operator), ``label_zh``.

    Examples
    --------
    >>> import childsim
    >>> kinds = childsim.load_kinds()
    >>> bool(kinds.loc["nursery_class", "inclusive"]), kinds.loc["baby_room", "service"]
    (True, 'babyroom')
    """
    import yaml

    from ._scenario import find_root

    if path is None:
        path = find_root() / "scenarios" / "changning" / "facilities.yaml"
    with open(os.fspath(path), encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    rows = [
        {"kind": str(k), "service": str(v.get("service", "")), "inclusive": bool(v.get("inclusive", False)),
         "run_by": str(v.get("run_by", "public_body")), "label_zh": str(v.get("label_zh", ""))}
        for k, v in (data.get("kinds") or {}).items()
    ]
    return pd.DataFrame(rows).set_index("kind")


def _year_end(da):
    """Values in the last simulated month of each calendar year: ``time`` -> ``year``."""
    years = da["time"].dt.year
    last = [int(np.flatnonzero(years.values == y)[-1]) for y in np.unique(years.values)]
    out = da.isel(time=last)
    return out.assign_coords(time=years.values[last]).rename(time="year")


def _in_month(da, month):
    """Values in the given calendar month of each year (NaN for years the run misses it)."""
    years = np.unique(da["time"].dt.year.values)
    picked = da.where(da["time"].dt.month == month, drop=True)
    if picked.sizes["time"] == 0:
        shape = {d: da.sizes[d] for d in da.dims if d != "time"}
        empty = xr.DataArray(np.full((len(years), *shape.values()), np.nan),
                             dims=("year", *shape), coords={"year": years})
        return empty
    picked = picked.assign_coords(time=picked["time"].dt.year.values).rename(time="year")
    return picked.reindex(year=years)


def _facility_kind_service(ds, kinds):
    kind = ds["facility_kind"].values.astype(str)
    services = dict(zip(ds["kind"].values.astype(str), ds["kind_service"].values.astype(str))) \
        if "kind_service" in ds.coords else {}
    if kinds is not None:
        for k, row in kinds.iterrows():
            services.setdefault(str(k), row["service"])
    service = np.array([services.get(k, "") for k in kind])
    return kind, service


def target_indicators(ds, targets=None, kinds=None):
    """Each target's indicator per replicate and year, computed from a run's outputs.

    Parameters
    ----------
    ds : xarray.Dataset
        A run (``childsim.run`` or ``childsim.open_run``).
    targets : pandas.DataFrame, optional
        From :func:`load_targets`; default the run's own (:func:`run_targets`: the base
        data's ``targets.yaml`` with the scenario's ``targets:``).
    kinds : pandas.DataFrame, optional
        From :func:`load_kinds`; default the run's base data's ``facilities.yaml``.

    Returns
    -------
    xarray.DataArray
        float64 (replicate, year, target); NaN where the outputs cannot give the indicator.

    Examples
    --------
    >>> import childsim
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.05,
    ...                    "end": "2025-12"}, base_dir=childsim.find_root() / "scenarios",
    ...                   replicates=1)
    >>> values = childsim.target_indicators(ds)
    >>> values.sel(target="summer_classes").values.tolist()
    [[24.0, 26.0]]
    """
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset, got {type(ds).__name__}")
    require_dims(ds, ["replicate", "time", "street"], "ds")
    base_dir = base_data_dir(ds)
    if targets is None:
        targets = run_targets(ds)
    if kinds is None:
        kinds = load_kinds(base_dir / "facilities.yaml" if base_dir else None)
    years = np.unique(ds["time"].dt.year.values)
    replicates = ds["replicate"].values
    values = {}
    for target in targets.index:
        values[target] = _indicator(ds, target, kinds)
    out = np.full((len(replicates), len(years), len(targets.index)), np.nan)
    for k, target in enumerate(targets.index):
        v = values[target]
        if v is None:
            continue
        v = v.reindex(year=years)
        if "replicate" not in v.dims:
            v = v.expand_dims(replicate=replicates)
        out[:, :, k] = v.transpose("replicate", "year").values
    return xr.DataArray(out, dims=("replicate", "year", "target"),
                        coords={"replicate": replicates, "year": years,
                                "target": list(targets.index)},
                        name="target_indicator")


def _indicator(ds, target, kinds):
    """One target's indicator (year[, replicate]) or None when it cannot be computed."""
    has_fac = "facility_capacity" in ds and "facility_kind" in ds.coords
    if not has_fac:
        return None
    cap = ds["facility_capacity"].astype(np.float64)
    kind, service = _facility_kind_service(ds, kinds)
    street = ds["facility_street"].values.astype(str) if "facility_street" in ds.coords else \
        np.array(["?"] * ds.sizes["facility"])
    inside = street != "outside"
    if "facility_inclusive" in ds.coords:
        inclusive = ds["facility_inclusive"].values.astype(bool)
    else:
        inclusive = np.array([bool(kinds["inclusive"].get(k, False)) if kinds is not None else False
                              for k in kind])
    if "facility_run_by" in ds.coords:
        run_by = ds["facility_run_by"].values.astype(str)
    elif kinds is not None and "run_by" in kinds:
        run_by = np.array([str(kinds["run_by"].get(k, "")) for k in kind])
    else:
        run_by = np.array([""] * len(kind))
    public = np.isin(run_by, ["education_bureau", "public_body"])
    year_end = _year_end(cap)

    def places(mask):
        return year_end.isel(facility=np.flatnonzero(mask)).sum("facility")

    nursery = (service == "nursery") & inside
    if target == "nursery_places_per_1000":
        residents = _year_end(ds["residents"].sum("street").astype(np.float64))
        return places(nursery) * 1000.0 / residents
    if target == "inclusive_nursery_share":
        total = places(nursery)
        return places(nursery & inclusive) / total.where(total > 0)
    if target.startswith("kindergarten_nursery_class_share"):
        if "facility_host" not in ds.coords:
            return None
        host = ds["facility_host"].values.astype(str)
        ids = ds["facility"].values.astype(str)
        kg = np.flatnonzero((service == "kindergarten") & inside)
        classes = np.flatnonzero((service == "nursery") & (host != ""))
        open_kg = year_end.isel(facility=kg) > 0
        open_class = year_end.isel(facility=classes) > 0
        with_class = np.zeros(open_kg.shape, dtype=bool)
        position = {fid: i for i, fid in enumerate(ids[kg])}
        for j, c in enumerate(classes):
            i = position.get(host[c])
            if i is not None:
                with_class[:, i] |= open_class.values[:, j]
        n_open = open_kg.sum("facility")
        share = (open_kg & xr.DataArray(with_class, dims=open_kg.dims)).sum("facility") / n_open
        return share.where(n_open > 0)
    if target == "public_nursery_places_added_2024":
        if "facility_host" in ds.coords:
            classes = ds["facility_host"].values.astype(str) != ""
        else:
            classes = kind == "nursery_class"
        mask = np.flatnonzero(classes & nursery & public)
        first = cap.isel(time=0, facility=mask).sum("facility")
        return places(classes & nursery & public) - first
    if target == "babyroom_street_share":
        rooms = np.flatnonzero((service == "babyroom") & inside)
        open_rooms = year_end.isel(facility=rooms) > 0
        streets = ds["street"].values.astype(str)
        has = np.zeros((year_end.sizes["year"], len(streets)), dtype=bool)
        for j, f in enumerate(rooms):
            s = np.flatnonzero(streets == street[f])
            if len(s):
                has[:, s[0]] |= open_rooms.values[:, j]
        return xr.DataArray(has.mean(axis=1), dims=("year",), coords={"year": year_end["year"]})
    if target in ("summer_classes", "winter_classes"):
        which, month = ("summer", 7) if target == "summer_classes" else ("winter", 1)
        mask = np.flatnonzero(np.char.find(kind.astype(str), which) >= 0)
        in_month = _in_month(cap.isel(facility=mask), month)
        return (in_month > 0).sum("facility").where(in_month.notnull().all("facility"))
    if target == "chc_paediatric_clinic_share":
        chc = np.flatnonzero(kind == "chc_clinic")
        if len(chc) == 0:
            return None
        return (year_end.isel(facility=chc) > 0).mean("facility")
    if target == "paediatric_doctors_per_1000_children":
        clinics = np.flatnonzero(np.isin(kind, ["chc_clinic", "mch_hospital", "tongren_paediatrics"]))
        if len(clinics) == 0 or "population" not in ds:
            return None
        doctors = year_end.isel(facility=clinics).sum("facility") / 20.0
        children = _year_end(ds["population"].sel(age=slice(0, 14)).sum(["street", "age"]))
        return doctors * 1000.0 / children.astype(np.float64)
    return None


def targets_met(ds, targets=None, kinds=None):
    """Whether each target is met, per replicate and year (NaN: not applicable or unknown).

    A target applies from its first year (``year`` in ``targets.yaml``; every year when
    none) to the end of the run. A run with the model's own ``indicator_target_met`` output
    is read from it; otherwise the indicators of :func:`target_indicators` are compared
    with the thresholds.

    Parameters
    ----------
    ds : xarray.Dataset
    targets, kinds : pandas.DataFrame, optional
        As for :func:`target_indicators`.

    Returns
    -------
    xarray.Dataset
        ``met`` (float64: 1 met, 0 not met, NaN not applicable or not computable) and
        ``value`` (the indicator), both (replicate, year, target).

    Examples
    --------
    >>> import childsim
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.05,
    ...                    "end": "2025-12"}, base_dir=childsim.find_root() / "scenarios",
    ...                   replicates=1)
    >>> met = childsim.targets_met(ds)["met"]
    >>> met.sel(target="winter_classes").values.tolist()   # 8 in 2024, 10 from 2025
    [[0.0, 1.0]]
    """
    if targets is None:
        targets = run_targets(ds)
    years = np.unique(ds["time"].dt.year.values)
    applies = np.array([[t_year == 0 or y >= t_year for t_year in targets["year"]] for y in years])
    applies = xr.DataArray(applies, dims=("year", "target"),
                           coords={"year": years, "target": list(targets.index)})
    values = target_indicators(ds, targets, kinds)
    if "indicator_target_met" in ds and "target" in ds["indicator_target_met"].dims:
        model = ds["indicator_target_met"].astype(np.float64)
        model = model.assign_coords(target=model["target"].values.astype(str))
        common = [t for t in targets.index if t in model["target"].values]
        met = xr.full_like(values, np.nan)
        met.loc[{"target": common}] = model.sel(target=common).transpose(*met.dims).values
        for t in common:
            indicator = (str(ds["target_indicator"].sel(target=t).values)
                         if "target_indicator" in ds.coords else "")
            if indicator in ds and set(ds[indicator].dims) == {"replicate", "year"}:
                values.loc[{"target": t}] = ds[indicator].transpose("replicate", "year").values
    else:
        met = xr.full_like(values, np.nan)
        for t in targets.index:
            compare = _COMPARE[targets.loc[t, "comparison"]]
            v = values.sel(target=t)
            met.loc[{"target": t}] = xr.where(v.notnull(), compare(v, targets.loc[t, "threshold"]), np.nan)
    met = met.where(applies)
    return xr.Dataset({"met": met, "value": values})


def target_summary(met, targets, *, majority=0.5):
    """When and how surely each target is met, from :func:`targets_met` of one run.

    Parameters
    ----------
    met : xarray.Dataset
        From :func:`targets_met`.
    targets : pandas.DataFrame
        From :func:`load_targets`.
    majority : float, default 0.5
        A year counts as met when the target is met in more than this share of replicates.

    Returns
    -------
    pandas.DataFrame
        Index ``target``; columns ``deadline`` (first year the target applies in the run),
        ``share_at_deadline`` (share of replicates meeting it that year), ``value_at_deadline``
        (mean indicator), ``from_year`` (first year from which it is met in every later year
        of the run, or NaN), ``years_met`` and ``years`` (applicable years met / all),
        ``status``: ``met`` (from the deadline on), ``late`` (from a later year on),
        ``lapses`` (met in some years but not at the end of the run), ``not met``, or
        ``n/a`` (not computable from the outputs).

    Examples
    --------
    >>> import childsim
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.05,
    ...                    "end": "2025-12"}, base_dir=childsim.find_root() / "scenarios")
    >>> targets = childsim.load_targets()
    >>> table = childsim.target_summary(childsim.targets_met(ds, targets), targets)
    >>> table.loc["winter_classes", ["status", "from_year"]].tolist()
    ['late', 2025.0]
    """
    rows = []
    years = met["year"].values
    for t in targets.index:
        m = met["met"].sel(target=t)
        v = met["value"].sel(target=t)
        applicable = m.notnull().any("replicate").values
        known = np.flatnonzero(applicable)
        row = {"target": t, "deadline": np.nan, "share_at_deadline": np.nan,
               "value_at_deadline": np.nan, "from_year": np.nan, "years_met": 0, "years": 0,
               "status": "n/a"}
        first_year = targets.loc[t, "year"] or int(years[0])
        if first_year > years[-1]:
            row["status"] = "after the run"
            rows.append(row)
            continue
        if len(known) == 0:
            rows.append(row)
            continue
        shares = m.mean("replicate").values  # NaN where not applicable
        ok = shares > majority
        deadline = known[0]
        row["deadline"] = int(years[deadline])
        row["share_at_deadline"] = float(shares[deadline])
        row["value_at_deadline"] = float(v.isel(year=deadline).mean())
        row["years"] = int(len(known))
        row["years_met"] = int(ok[known].sum())
        since = None
        for i in reversed(known):
            if not ok[i]:
                break
            since = i
        if since is not None:
            row["from_year"] = int(years[since])
            row["status"] = "met" if since == deadline else "late"
        else:
            row["status"] = "lapses" if row["years_met"] > 0 else "not met"
        row["value_end"] = float(v.isel(year=known[-1]).mean())
        row["end_year"] = int(years[known[-1]])
        rows.append(row)
    table = pd.DataFrame(rows).set_index("target")
    return table
