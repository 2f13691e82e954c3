"""briefing: a one-page, self-contained HTML comparison of scenarios for non-specialists.

``childsim compare BASE.h5 A.h5 [B.h5 …] -o brief.html`` runs this module
(``python3 -m childsim.briefing BASE.h5 A.h5 … -o brief.html``). The first file is the
baseline; every other run is compared with it. The page has: a headline summary generated
from the numbers; the plan's targets (met or not, from which year, in what share of
replicates); demand against places for nurseries, kindergartens, holiday classes, baby rooms
and (when the runs have them) paediatric clinics, with 90 % ensemble bands; waiting lists and
unmet demand; a map-like panel of the ten streets; costs and cost per additional unit of
service; paired differences from the baseline with 90 % intervals; provenance. With
``--sensitivity SWEEP.h5`` (files of ``childsim sweep``) it adds "What drives the result":
Sobol or Morris indices of an output summary, with a tornado figure (issue #13).

Each section is drawn from the variables it needs and says "not available in these runs"
when they are missing. The page loads nothing from outside (inline CSS, inline PNG figures,
no JavaScript).

Inputs are checked first (:func:`read_runs`): a file that is not HDF5, not a childsim
result, or whose horizon, streets, population scale or variables differ from the baseline's
is refused with a one-line :class:`BriefingError` naming the file; runs with another seed or
replicate count are accepted with a warning, and the page says so. The page is written under
a temporary name and renamed when complete, so a failed run leaves no output file.
"""

import argparse
import datetime as _dt
import os
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from . import _briefing_plots as bp
from ._checks import load_hdf5_input
from ._briefing_decision import section_decision
from ._html import (PAGE_CSS, chip, esc, figure_img, fmt_count, fmt_interval, fmt_money,
                    fmt_share, fmt_signed, table)
from .costs import SERVICE_LABELS, USE_MEASURES, cost_effectiveness, costs_by_service
from .options import DISCOUNT_RATE, DISCOUNT_RATE_RANGE, option_summary, period_years
from .targets import base_data_dir, load_kinds, load_targets, target_summary, targets_met
from .targets import merge_targets, run_targets

__all__ = ["BriefingError", "SweepFileError", "read_runs", "build_briefing", "write_briefing", "main",
           "MEASURES"]

#: Variables every childsim result has; a file without them is not one.
REQUIRED_VARIABLES = ("population", "births", "residents")
REQUIRED_ATTRIBUTES = ("scenario_name", "seed", "scenario")


class BriefingError(ValueError):
    """A result file that cannot be compared; the message names the file (one line).

    ``path`` is the file (None when the problem is not one file's).

    Examples
    --------
    >>> import childsim
    >>> try:
    ...     childsim.read_runs(["missing.h5", "other.h5"])
    ... except childsim.BriefingError as error:
    ...     print(error, "|", error.path)
    missing.h5: no such file | missing.h5
    """

    def __init__(self, message, path=None):
        super().__init__(message)
        self.path = path


class SweepFileError(BriefingError):
    """A ``--sensitivity`` file that is not a saltelli or morris sweep (exit code 1, as for
    any bad input file).

    Examples
    --------
    >>> import childsim
    >>> try:
    ...     childsim.build_briefing(["a.h5", "b.h5"], sensitivity="missing.h5")
    ... except childsim.SweepFileError as error:
    ...     print(str(error).split(" (")[0])
    missing.h5: no such file
    """


# --------------------------------------------------------------------------------------
# Reading and checking the runs


def _open(path):
    path, ds = load_hdf5_input(
        path, BriefingError, missing="no such file",
        directory="is a directory, not a result file",
        not_hdf5="not an HDF5 file (expected a result of 'childsim run')",
        not_ours="an HDF5 file that is not a childsim result ({first})")
    missing_attrs = [a for a in REQUIRED_ATTRIBUTES if a not in ds.attrs]
    missing_vars = [v for v in REQUIRED_VARIABLES if v not in ds.data_vars]
    if missing_attrs or missing_vars or "time" not in ds.dims or "street" not in ds.dims:
        what = ", ".join([f"attribute '{a}'" for a in missing_attrs] +
                         [f"variable '{v}'" for v in missing_vars]) or "dimensions time/street"
        raise BriefingError(f"{path}: not a childsim result file (no {what})", path)
    if "replicate" not in ds.dims:
        raise BriefingError(f"{path}: not a childsim result file (no dimension 'replicate')", path)
    return ds


def _horizon(ds):
    times = ds["time"].values
    return f"{str(times[0])[:7]} to {str(times[-1])[:7]}"


def read_runs(paths, names=None):
    """Open and check the result files to compare; the first is the baseline.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        At least two result files of ``childsim run`` (or :func:`childsim.write`).
    names : sequence of str, optional
        Scenario labels; default each file's ``scenario_name`` (made unique with the file
        name when two runs share one).

    Returns
    -------
    runs : collections.OrderedDict
        name -> xarray.Dataset, the baseline first.
    notes : list of str
        Warnings to show in the page (different seeds or replicate counts).

    Raises
    ------
    BriefingError
        One line naming the file: not HDF5, not a childsim result, or a horizon, street
        list, population scale or set of variables that differs from the baseline's.

    Examples
    --------
    >>> import childsim, pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     bad = pathlib.Path(tmp) / "notes.h5"
    ...     _ = bad.write_text("not a result")
    ...     try:
    ...         childsim.read_runs([bad, bad])
    ...     except childsim.BriefingError as error:
    ...         print(str(error).split(": ", 1)[1])
    not an HDF5 file (expected a result of 'childsim run')
    """
    paths = [Path(os.fspath(p)) for p in paths]
    if len(paths) < 2:
        raise BriefingError("give a baseline and at least one other result file to compare")
    if names is not None and len(names) != len(paths):
        raise BriefingError(f"{len(names)} names for {len(paths)} files")
    datasets = [_open(p) for p in paths]
    base, base_path = datasets[0], paths[0]
    notes = []
    for ds, path in zip(datasets[1:], paths[1:]):
        if ds.sizes["time"] != base.sizes["time"] or not np.array_equal(ds["time"].values, base["time"].values):
            raise BriefingError(f"{path}: horizon {_horizon(ds)} differs from the baseline's "
                                f"{_horizon(base)} ({base_path}); run both over the same months", path)
        if not np.array_equal(ds["street"].values.astype(str), base["street"].values.astype(str)):
            raise BriefingError(f"{path}: streets differ from the baseline's ({base_path}): "
                                f"different base data", path)
        scale, base_scale = ds.attrs.get("population_scale"), base.attrs.get("population_scale")
        if scale is not None and base_scale is not None and float(scale) != float(base_scale):
            raise BriefingError(f"{path}: population_scale {float(scale):g} differs from the "
                                f"baseline's {float(base_scale):g} ({base_path})", path)
        missing = sorted(set(base.data_vars) - set(ds.data_vars))
        extra = sorted(set(ds.data_vars) - set(base.data_vars))
        if missing or extra:
            which = (f"lacks {', '.join(missing[:4])}" if missing else f"has {', '.join(extra[:4])}")
            raise BriefingError(f"{path}: {which}{' …' if len(missing or extra) > 4 else ''} "
                                f"{'unlike' if extra and not missing else 'that'} the baseline "
                                f"({base_path}){' has' if missing else ''}: made by a different "
                                f"version of childsim?", path)
        if int(ds.attrs["seed"]) != int(base.attrs["seed"]):
            notes.append(f"{path.name} was run with seed {int(ds.attrs['seed'])}, the baseline "
                         f"with seed {int(base.attrs['seed'])}: its differences from the baseline "
                         f"are not paired replicate by replicate (no common random numbers), so "
                         f"their intervals are wider than they need be.")
        if ds.sizes["replicate"] != base.sizes["replicate"]:
            notes.append(f"{path.name} has {ds.sizes['replicate']} replicates, the baseline "
                         f"{base.sizes['replicate']}: paired differences use the replicates "
                         f"both have.")
    if names is None:
        names = []
        for ds, path in zip(datasets, paths):
            name = str(ds.attrs.get("scenario_name") or path.stem)
            if name in names:
                name = f"{name} ({path.stem})"
            k = 2
            while name in names:
                name, k = f"{name} #{k}", k + 1
            names.append(name)
    elif len(set(names)) != len(names):
        raise BriefingError(f"scenario names must be distinct, got {list(names)}")
    runs = OrderedDict()
    for name, ds, path in zip(names, datasets, paths):
        ds.attrs["_briefing_file"] = str(path)
        runs[str(name)] = ds
    return runs, notes


# --------------------------------------------------------------------------------------
# Measures: yearly district summaries shared by the tables and the headline


def _has(ds, *names):
    return all(n in ds for n in names)


def _monthly_mean(name):
    return lambda ds: bp.yearly(bp.district(ds, name), "mean")


def _months_mean(name, months):
    return lambda ds: bp.in_months(bp.district(ds, name), months, "mean")


def _yearly_sum(name):
    return lambda ds: bp.yearly(bp.district(ds, name), "sum")


def _unserved(ds):
    return bp.yearly(bp.district(ds, "babyroom_sessions_demanded") -
                     bp.district(ds, "babyroom_sessions_served"), "sum")


@dataclass(frozen=True)
class Measure:
    """A yearly district figure: (replicate, year) from a run."""
    key: str
    label: str
    variables: tuple
    compute: object
    service: str
    unmet: bool = False  # a measure of unmet demand or waiting (the waiting-list table)


#: The measures of the waiting-list and difference tables.
MEASURES = [
    Measure("nursery_enrolled", "Children in a full-day nursery place (average month)",
            ("nursery_children_enrolled",), _monthly_mean("nursery_children_enrolled"), "nursery"),
    Measure("nursery_waiting", "Children on nursery waiting lists (average month)",
            ("nursery_children_waiting",), _monthly_mean("nursery_children_waiting"), "nursery",
            unmet=True),
    Measure("nursery_unmet", "Unmet nursery demand: wanting care, no place (average month)",
            ("nursery_unmet",), _monthly_mean("nursery_unmet"), "nursery", unmet=True),
    Measure("kindergarten_unplaced", "Children of kindergarten age wanting a place, none free (average month)",
            ("kindergarten_unplaced",), _monthly_mean("kindergarten_unplaced"), "kindergarten",
            unmet=True),
    Measure("summer_placed", "Pupils placed in a summer class (per session, July–August)",
            ("holiday_placed",), _months_mean("holiday_placed", [7, 8]), "holiday"),
    Measure("summer_unmet", "Pupils seeking a summer class without a place (per session)",
            ("holiday_unmet",), _months_mean("holiday_unmet", [7, 8]), "holiday", unmet=True),
    Measure("winter_placed", "Pupils placed in a winter class (January session)",
            ("holiday_placed",), _months_mean("holiday_placed", [1]), "holiday"),
    Measure("winter_unmet", "Pupils seeking a winter class without a place (January)",
            ("holiday_unmet",), _months_mean("holiday_unmet", [1]), "holiday", unmet=True),
    Measure("babyroom_served", "Baby-room sessions served (per year)",
            ("babyroom_sessions_served",), _yearly_sum("babyroom_sessions_served"), "babyroom"),
    Measure("babyroom_unserved", "Baby-room sessions asked for but not served (per year)",
            ("babyroom_sessions_demanded", "babyroom_sessions_served"), _unserved, "babyroom",
            unmet=True),
    Measure("clinic_served", "Paediatric visits served in the district (per year)",
            ("clinic_visits",), _yearly_sum("clinic_visits"), "clinic"),
    Measure("clinic_outside", "Paediatric visits served outside the district (per year)",
            ("clinic_visits_outside",), _yearly_sum("clinic_visits_outside"), "clinic",
            unmet=True),
]


# --------------------------------------------------------------------------------------
# Context shared by the sections


@dataclass
class _Context:
    runs: "OrderedDict[str, xr.Dataset]"
    notes: list
    colours: dict
    cjk_font: object
    years: np.ndarray
    report_years: list
    mid_year: int
    targets: object = None
    kinds: object = None
    target_tables: dict = field(default_factory=dict)
    costs: dict = field(default_factory=dict)
    measure_cache: dict = field(default_factory=dict)
    # The decision table (issue #11): period, discount rate, options and yearly targets met.
    period: tuple = (2026, 2030)
    rate: float = DISCOUNT_RATE
    decision_year: int = 2030
    options: dict = field(default_factory=dict)
    target_met: dict = field(default_factory=dict)

    @property
    def base_name(self):
        return next(iter(self.runs))

    @property
    def base(self):
        return self.runs[self.base_name]

    @property
    def whatifs(self):
        return OrderedDict(list(self.runs.items())[1:])

    def measure(self, name, measure):
        key = (name, measure.key)
        if key not in self.measure_cache:
            ds = self.runs[name]
            self.measure_cache[key] = measure.compute(ds) if _has(ds, *measure.variables) else None
        return self.measure_cache[key]

    def paired(self, name, measure):
        """what-if − baseline per replicate (common replicates), (replicate, year) or None."""
        a, b = self.measure(name, measure), self.measure(self.base_name, measure)
        if a is None or b is None:
            return None
        common = np.intersect1d(a["replicate"].values, b["replicate"].values)
        return a.sel(replicate=common) - b.sel(replicate=common)


def _stats(da):
    """(mean, low, high) over replicates of a (replicate,) DataArray: the 5 % and 95 %
    quantiles, or the min and max with fewer replicates than a 90 % band needs
    (:func:`_band_words`)."""
    if da is None:
        return (np.nan, np.nan, np.nan)
    values = np.asarray(da.values, dtype=float)
    if values.size == 0 or np.all(np.isnan(values)):
        return (np.nan, np.nan, np.nan)
    low, high = bp.band_quantiles(int(np.isfinite(values).sum()))
    return (float(np.nanmean(values)), float(np.nanquantile(values, low)),
            float(np.nanquantile(values, high)))


def _band_words(ctx):
    """What the page calls an interval over the runs' replicates: "90 % interval" only with
    enough replicates for one, else "range over N replicates"."""
    n = min(int(ds.sizes["replicate"]) for ds in ctx.runs.values())
    return "90 % interval" if n >= bp.MIN_REPLICATES_FOR_BAND else f"range over {n} replicates"


def _at(da, year):
    if da is None or year not in da["year"].values:
        return None
    return da.sel(year=year)


def _missing(what):
    return f'<p class="missing">{esc(what)}: not available in these runs.</p>'


# --------------------------------------------------------------------------------------
# Sections


def _section_header(ctx, title):
    base = ctx.base
    subtitle = (f"Baseline “{ctx.base_name}” compared with {len(ctx.whatifs)} what-if "
                f"scenario{'s' if len(ctx.whatifs) != 1 else ''} · {_horizon(base).replace(' to ', '–')} · "
                f"{base.sizes['replicate']} replicate{'s' if base.sizes['replicate'] != 1 else ''} each · "
                f"made {_dt.date.today().isoformat()}")
    return (f'<header class="top"><div class="inner"><h1>{esc(title)}</h1>'
            f"<p>{esc(subtitle)}</p></div></header>")


def _toc(sensitivity=False, siting=False):
    items = [("decision", "Options"), ("summary", "Summary"), ("targets", "Plan targets"), ("nursery", "Nurseries"),
             ("kindergarten", "Kindergartens"), ("holiday", "Holiday classes"),
             ("babyroom", "Baby rooms"), ("clinic", "Paediatric clinics"),
             ("waiting", "Waiting lists"), ("streets", "Streets"), ("costs", "Costs"),
             ("differences", "Differences"), ("provenance", "Provenance")]
    if siting:
        items.insert(-1, ("siting", "Siting"))
    if sensitivity:
        items.insert(-1, ("sensitivity", "What drives it"))
    return '<nav class="toc">' + "".join(f'<a href="#{k}">{esc(v)}</a>' for k, v in items) + "</nav>"


def _scenario_cards(ctx):
    cards = []
    for i, (name, ds) in enumerate(ctx.runs.items()):
        description = _description(ds)
        role = "baseline" if i == 0 else "what-if"
        cards.append(f'<div class="scenario" style="border-left-color:{ctx.colours[name]}">'
                     f'{chip(ctx.colours[name])}<b>{esc(name)}</b> <span class="note">({role})</span>'
                     f"<br>{esc(description)}</div>")
    return '<div class="scenarios">' + "".join(cards) + "</div>"


def _scenario_yaml(ds):
    import yaml

    try:
        parsed = yaml.safe_load(str(ds.attrs.get("scenario", "")))
        return parsed if isinstance(parsed, dict) else {}
    except yaml.YAMLError:
        return {}


def _description(ds):
    return str(_scenario_yaml(ds).get("description") or "(no description)").strip()


def _lower_first(text):
    return text if text[:2].isupper() else text[:1].lower() + text[1:]


def _headline(ctx):
    """Three to five sentences generated from the numbers (the page's lead)."""
    sentences = []
    base = ctx.base
    first, last = int(ctx.years[0]), int(ctx.years[-1])
    # 1. Children.
    parts = []
    for label, (lo, hi) in (("0–2", (0, 2)), ("6–11", (6, 11))):
        series = base["population"].sel(age=slice(lo, hi)).sum(["street", "age"])
        series = series.groupby(series["time"].dt.year).last().mean("replicate")
        a, b = float(series.sel(year=first)), float(series.sel(year=last))
        verb = "fall" if b < a else "rise"
        parts.append((label, verb, a, b))
    (l1, v1, a1, b1), (l2, v2, a2, b2) = parts
    if first != last:
        sentences.append(
            f"In the baseline, children aged {l1} {v1} from {fmt_count(a1)} at the end of {first} "
            f"to {fmt_count(b1)} at the end of {last} ({fmt_signed(100 * (b1 - a1) / a1)} %), and "
            f"children aged {l2} {'also ' if v1 == v2 else ''}{v2} from {fmt_count(a2)} to "
            f"{fmt_count(b2)} ({fmt_signed(100 * (b2 - a2) / a2)} %).")
    # 2. Targets.
    if ctx.targets is not None and ctx.target_tables:
        table = ctx.target_tables[ctx.base_name]
        labels = ctx.targets["label"]
        testable = table[~table["status"].isin(["n/a", "after the run"])]
        on_time = (testable["status"] == "met").sum()
        late = (testable["status"] == "late").sum()
        missed = testable[testable["status"].isin(["not met", "lapses"])]
        text = (f"Of the {len(testable)} plan targets these outputs can test, the baseline meets "
                f"{on_time} on time and {late} late")
        if len(missed):
            shown = [_lower_first(labels[t]) for t in missed.index[:3]]
            text += (f", and misses {len(missed)}: " + "; ".join(shown) +
                     (f"; and {len(missed) - 3} more" if len(missed) > 3 else ""))
        sentences.append(text + ".")
        gains = []
        for name in ctx.whatifs:
            other = ctx.target_tables[name]
            ok = ("met", "late")
            better = [t for t in testable.index
                      if other.loc[t, "status"] in ok and table.loc[t, "status"] not in ok]
            worse = [t for t in testable.index
                     if table.loc[t, "status"] in ok and other.loc[t, "status"] not in ok]
            if better:
                gains.append(f"{name} also meets " + " and ".join(_lower_first(labels[t]) for t in better[:2]))
            if worse:
                gains.append(f"{name} misses " + " and ".join(_lower_first(labels[t]) for t in worse[:2]))
        if gains:
            sentences.append("Among the what-ifs, " + "; ".join(gains) + ".")
    # 3. Nursery and holiday demand, and the what-if that reduces it most.
    year = ctx.mid_year
    for key, noun in (("nursery_unmet", "children a month want a nursery place and have none"),
                      ("summer_unmet", "pupils whose parents work find no summer class in each session")):
        measure = next(m for m in MEASURES if m.key == key)
        series = ctx.measure(ctx.base_name, measure)
        if series is None:
            continue
        # The report year, or the latest earlier year the run covers (a run ending in June
        # has no summer session in its last year).
        known = [int(y) for y in series["year"].values
                 if y <= ctx.mid_year and np.isfinite(series.sel(year=y).values).any()]
        if not known:
            continue
        year = known[-1]
        mean, low, high = _stats(series.sel(year=year))
        text = (f"In {year} about {fmt_count(mean)} {noun} in the baseline "
                f"({_band_words(ctx)} {fmt_count(low)}–{fmt_count(high)})")
        best = None
        for name in ctx.whatifs:
            diff = _at(ctx.paired(name, measure), year)
            d = _stats(diff)
            if np.isfinite(d[0]) and d[0] < 0 and (best is None or d[0] < best[1][0]):
                best = (name, d)
        if best and best[1][2] < 0:
            name, (d, lo, hi) = best
            text += (f"; {name} cuts this most, by {fmt_count(-d)} "
                     f"({_band_words(ctx)} {fmt_count(-hi)} to {fmt_count(-lo)})")
        elif best:
            name, (d, lo, hi) = best
            text += (f"; no what-if clearly reduces it ({name}: {fmt_signed(d)}, {_band_words(ctx)} "
                     f"{fmt_signed(lo)} to {fmt_signed(hi)})")
        elif ctx.whatifs:
            text += "; no what-if reduces it"
        sentences.append(text + ".")
    # 4. Extra cost and cost per additional unit of the service it is spent on.
    costs = []
    for name, table in ctx.costs.items():
        spent = table[table["extra_cost"] != 0]
        if spent.empty:
            continue
        total = float(spent["extra_cost"].sum())
        text = f"{name} {'costs' if total > 0 else 'saves'} {fmt_money(abs(total))}"
        per = []
        for service, row in spent.iterrows():
            if np.isfinite(row["cost_per_unit"]):
                per.append(f"{fmt_money(row['cost_per_unit'])} per additional {row['unit']}")
            elif row["extra_cost"] < 0 and np.isfinite(row["use_high"]) and row["use_high"] < 0:
                per.append(f"{fmt_money(row['extra_cost'] / row['use_mean'])} saved per "
                           f"{row['unit']} forgone")
            elif row["extra_cost"] > 0 and np.isfinite(row["use_mean"]):
                per.append(f"with no clear additional {SERVICE_LABELS.get(service, service).lower()} use")
        costs.append(text + (f" ({'; '.join(per)})" if per else ""))
    if ctx.options:
        # Every lever's public cost in the period (decision table), not facilities alone.
        p0, p1 = ctx.period
        parts = []
        for name, o in ctx.options.items():
            public = o["public"][0]
            text = f"{name} {fmt_money(public)}"
            levers = [f"{label} {fmt_money(o[key][0])}" for key, label in
                      (("subsidies", "subsidies"), ("price_cap", "price-cap compensation"))
                      if np.isfinite(o[key][0]) and abs(o[key][0]) >= 1]
            if levers:
                text += " (" + ", ".join(levers) + ")"
            if o["demand_changing"]:
                text += ", which changes demand and is not ranked on cost"
            elif np.isfinite(o["cost_per_net"][0]):
                text += f", {fmt_money(o['cost_per_net'][0])} per net additional child-year"
            parts.append(text)
        sentences.append(f"Extra public cost against the baseline in {p0}–{p1} (discounted at "
                         f"{ctx.rate * 100:g} % a year): " + "; ".join(parts[:5]) + ".")
    elif costs:
        sentences.append(f"Compared with the baseline over {first}–{last}: " + "; ".join(costs[:5]) + ".")
    return '<div class="lead">' + "".join(f"<p>{esc(s)}</p>" for s in sentences) + "</div>"


def _section_summary(ctx):
    out = ['<section id="summary"><h2>Summary</h2>', _headline(ctx)]
    scale = float(ctx.base.attrs.get("population_scale", 1.0))
    if scale != 1.0:
        out.append(f'<div class="warn"><b>Quick trial runs.</b> These runs simulate {fmt_share(scale)} '
                   f"of the district's population (population_scale = {scale:g}) but the full "
                   f"facility capacities, so demand is far below the places and waiting lists, "
                   f"targets that divide by residents or children, and costs per child served "
                   f"are not meaningful. Use population_scale 1 for answers.</div>")
    for note in ctx.notes:
        out.append(f'<div class="warn">{esc(note)}</div>')
    out.append("<h3>Scenarios compared</h3>")
    out.append(_scenario_cards(ctx))
    n = min(int(ds.sizes["replicate"]) for ds in ctx.runs.values())
    band = ("the 5–95 % range over replicates (a 90 % band)" if n >= bp.MIN_REPLICATES_FOR_BAND
            else f"the range over the {n} replicates (min–max: too few replicates for a 90 % "
                 f"band; run {bp.MIN_REPLICATES_FOR_BAND} or more for one)")
    out.append('<p class="note">Every figure shows, for each scenario in its colour, the mean over '
               f"replicates as a line and {band} shaded; every interval on this page is of "
               "that kind. "
               "Replicates are runs of the same scenario with different random histories; "
               "a what-if and the baseline run with the same seed share their random numbers, "
               "so their differences are computed replicate by replicate.</p></section>")
    return "\n".join(out)


_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}


def _target_value(target, threshold):
    """A formatter for a target's indicator: percentages for shares, else numbers."""
    if threshold <= 1.0 and "share" in target:
        return fmt_share
    return lambda x: fmt_count(x, 2 if np.isfinite(x) and abs(x) < 10 and x != round(x) else 0)


def _year_lines(met, target, years, value, skip):
    """"2030: 87 %, met in 100 % of runs" for each of ``years`` in the run (not in ``skip``)."""
    lines = []
    if met is None:
        return lines
    for year in years:
        if year in skip or year not in met["year"].values:
            continue
        m = met["met"].sel(target=target, year=year)
        if not m.notnull().any():
            continue
        v = float(met["value"].sel(target=target, year=year).mean())
        lines.append(f"{year}: {value(v)}, met in {fmt_share(float(m.mean()))} of runs")
    return lines


def _status_cell(row, targets, target, met=None):
    """The HTML of one scenario's cell in the target table; ``met`` (from
    :func:`targets_met`) adds the value in 2030 (the end of the 15th Five-Year Plan) and
    2035."""
    status = row["status"]
    value = _target_value(target, targets.loc[target, "threshold"])
    if status == "n/a":
        return '<span class="status s-na">not computable</span><span class="detail">not in these outputs</span>'
    if status == "after the run":
        return '<span class="status s-na">after the run</span>'
    deadline = int(row["deadline"])
    lines = [f"{deadline}: {value(row['value_at_deadline'])}",
             f"met in {fmt_share(row['share_at_deadline'])} of runs"]
    lines += _year_lines(met, target, (2030, 2035), value, {deadline})
    if status == "met":
        badge = f'<span class="status s-met">✓ met from {deadline}</span>'
    elif status == "late":
        badge = f'<span class="status s-late">late: met from {int(row["from_year"])}</span>'
    else:
        badge = '<span class="status s-not">✗ not met</span>'
        if status == "lapses":
            lines.append(f"met in {row['years_met']} of {row['years']} years, not at the end")
        elif (np.isfinite(row.get("value_end", np.nan)) and row.get("end_year", deadline) != deadline
              and row.get("end_year") not in (2030, 2035)):
            lines.append(f"{int(row['end_year'])}: {value(row['value_end'])}")
    return badge + "".join(f'<span class="detail">{esc(line)}</span>' for line in lines)


def _section_targets(ctx):
    out = ['<section id="targets"><h2>The plan’s targets</h2>']
    if ctx.targets is None:
        out.append(_missing("The plan’s targets (targets.yaml of the base data was not found)"))
        return "\n".join(out) + "</section>"
    source = ("the model’s own indicator outputs (indicator_target_met)"
              if "indicator_target_met" in ctx.base else
              "the capacities and populations in the result files, by the definitions of "
              "targets.yaml (the model’s indicator outputs are not in these runs)")
    out.append(f"<p>Each target of the district’s action plan (and the national ones it "
               f"reports), per scenario: whether it is met from the year it applies, from "
               f"which year it stays met to the end of the run, and in what share of "
               f"replicates. Computed from {esc(source)}. A year counts as met when more than "
               f"half of the replicates meet the target.</p>")
    header = ["Target", ("Target value", "num")]
    header += [chip(ctx.colours[n]) + esc(n) for n in ctx.runs]
    rows = []
    for t in ctx.targets.index:
        info = ctx.targets.loc[t]
        item = f"plan item ({info['plan_item']})" if info["plan_item"] else "national / municipal"
        first = f"from {info['year']}" if info["year"] else "every year"
        label = (f"{esc(info['label'])}<span class='detail item'>{esc(item)} · {esc(first)}</span>")
        shown = _target_value(t, info["threshold"])(info["threshold"])
        row = [label, (f"{_SYMBOL[info['comparison']]}&nbsp;{esc(shown)}", "num")]
        for name in ctx.runs:
            row.append(_status_cell(ctx.target_tables[name].loc[t], ctx.targets, t,
                                    ctx.target_met.get(name)))
        rows.append(row)
    share = (100 - 27) / len(ctx.runs)
    widths = ["19%", "8%"] + [f"{share:.2f}%"] * len(ctx.runs)
    out.append(table(header, rows, cls="targets", id_="target-table", raw=True, widths=widths))
    out.append('<p class="note">✓ met: from the year the target applies and in every later '
               "year; late: met only from a later year on; ✗ not met at the end of the run. Under "
               "each status: the indicator in the first year the target applies (its deadline) and the "
               "share of replicates meeting it that year, then the same in 2030 (the end of the "
               "15th Five-Year Plan) and 2035 when the runs reach them. "
               "Counts and shares of facilities do not vary between replicates; ratios to "
               "residents or children do.</p></section>")
    return "\n".join(out)


def _same(a, b):
    """Two DataArrays with identical values (NaN equal to NaN)."""
    if a is None or b is None:
        return a is b
    if a.shape != b.shape:
        return False
    return bool(np.array_equal(np.asarray(a.values, float), np.asarray(b.values, float), equal_nan=True))


def _changed_runs(ctx, panels):
    """The baseline and the what-ifs whose series differ from the baseline's in some panel;
    and the names of those that do not."""
    drawn, same = OrderedDict([(ctx.base_name, ctx.base)]), []
    for name, ds in ctx.whatifs.items():
        differs = False
        for panel in panels:
            for key in ("series", "capacity"):
                fn = panel.get(key)
                if fn is not None and not _same(fn(ds), fn(ctx.base)):
                    differs = True
                    break
            if differs:
                break
        if differs:
            drawn[name] = ds
        else:
            same.append(name)
    return drawn, same


def _figure_section(ctx, key, title, intro, needed, panels, draw, alt):
    """A section with one figure; what-ifs identical to the baseline in it are not drawn."""
    out = [f'<section id="{key}"><h2>{esc(title)}</h2>']
    missing = [v for v in needed if v not in ctx.base]
    if missing:
        out.append(_missing(f"{title} ({', '.join(missing)})"))
        return "\n".join(out) + "</section>"
    out.append(f"<p>{intro}</p>")
    drawn, same = _changed_runs(ctx, panels)
    if same:
        out.append(f'<p class="note">Not drawn, because identical to the baseline here in every '
                   f'replicate: {", ".join(esc(n) for n in same)}.</p>')
    out.append(figure_img(draw(drawn), alt))
    return "\n".join(out) + "</section>"


def _section_nursery(ctx):
    panels = [
        {"title": "Wanting a full-day place vs places", "ylabel": "children / places",
         "series": lambda ds: bp.district(ds, "nursery_wanting"),
         "capacity": lambda ds: bp.capacity(ds, service="nursery"),
         "solid": "families wanting care", "dashed": "nursery places (capacity)"},
        {"title": "Children in a place", "ylabel": "children",
         "series": lambda ds: bp.district(ds, "nursery_children_enrolled")},
        {"title": "Children on waiting lists", "ylabel": "children",
         "series": lambda ds: bp.district(ds, "nursery_children_waiting")},
        {"title": "Unmet demand (waiting, or no nursery within reach)", "ylabel": "children",
         "series": lambda ds: bp.district(ds, "nursery_unmet")},
    ]
    intro = ("Full-day care for children under three: nursery classes in kindergartens (托班), "
             "inclusive (普惠), market and employer nurseries. <b>Wanting</b> counts children whose "
             "family wants formal care (in a place, waiting, or with no nursery within reach); "
             "<b>places</b> (dashed) are the capacities of all nursery kinds, baby rooms not "
             "included. Places can exceed demand overall while waiting lists form at the "
             "facilities that are full (cheap, near, or employer-run).")
    return _figure_section(
        ctx, "nursery", "Nurseries: demand against places", intro,
        ["nursery_wanting", "nursery_children_enrolled", "nursery_children_waiting",
         "nursery_unmet", "facility_capacity"], panels,
        lambda runs: bp.band_figure(runs, ctx.colours, panels, cjk_font=ctx.cjk_font,
                                    ncols=2, height=2.9),
        "Nursery demand, places, enrolment, waiting and unmet demand over time")


def _section_kindergarten(ctx):
    panels = [
        {"title": "Children of kindergarten age vs places", "ylabel": "children / places",
         "series": lambda ds: bp.district(ds, "kindergarten_eligible"),
         "capacity": lambda ds: bp.capacity(ds, service="kindergarten"),
         "solid": "children aged 3–5", "dashed": "kindergarten places"},
        {"title": "Children in a place", "ylabel": "children",
         "series": lambda ds: bp.district(ds, "kindergarten_children_enrolled")},
        {"title": "Wanting a place, none free", "ylabel": "children",
         "series": lambda ds: bp.district(ds, "kindergarten_unplaced")},
    ]
    intro = ("Kindergartens for ages 3–5 (age at 1 September); places are the capacities of all "
             "kindergartens. Falling births leave more and more places empty.")
    return _figure_section(
        ctx, "kindergarten", "Kindergartens", intro,
        ["kindergarten_eligible", "kindergarten_children_enrolled", "kindergarten_unplaced",
         "facility_capacity"], panels,
        lambda runs: bp.band_figure(runs, ctx.colours, panels, cjk_font=ctx.cjk_font, height=3.0),
        "Kindergarten-age children, places, enrolment and unplaced children")


def _section_holiday(ctx):
    def capacity_in(months, word):
        def f(ds):
            cap = bp.capacity(ds, kind_contains=word).expand_dims(replicate=[0])
            return bp.in_months(cap, months, "mean").isel(replicate=0)
        return f

    def series(name, months):
        return lambda ds: bp.in_months(bp.district(ds, name), months)

    rows = []
    for label, months, word in (("Summer", [7, 8], "summer"), ("Winter", [1], "winter")):
        rows.append({"label": label, "panels": [
            {"title": f"{label}: pupils seeking a place vs places", "ylabel": "pupils per session",
             "series": series("holiday_seekers", months), "capacity": capacity_in(months, word)},
            {"title": f"{label}: pupils placed", "ylabel": "pupils per session",
             "series": series("holiday_placed", months)},
            {"title": f"{label}: pupils without a place", "ylabel": "pupils per session",
             "series": series("holiday_unmet", months)},
        ]})
    intro = ("Holiday day-care classes (爱心暑托班 / 寒托班) for primary pupils aged 6–11 whose "
             "parents all work and who have no grandparent care. Per session: the mean of the "
             "July and August sessions in summer, the January session in winter. Dashed: places "
             "per session (classes × class size). Points are means over replicates, whiskers "
             f"the {_band_words(ctx)}.")
    return _figure_section(
        ctx, "holiday", "Holiday classes", intro,
        ["holiday_seekers", "holiday_placed", "holiday_unmet", "facility_capacity"],
        [p for row in rows for p in row["panels"]],
        lambda runs: bp.holiday_figure(runs, ctx.colours, rows, cjk_font=ctx.cjk_font),
        "Holiday-class seekers, places, placed and unmet pupils by year")


def _section_babyroom(ctx):
    panels = [
        {"title": "Sessions asked for vs sessions offered", "ylabel": "child-sessions a month",
         "series": lambda ds: bp.district(ds, "babyroom_sessions_demanded"),
         "capacity": lambda ds: bp.capacity(ds, service="babyroom"),
         "solid": "sessions asked for", "dashed": "sessions offered (capacity)"},
        {"title": "Sessions served", "ylabel": "child-sessions a month",
         "series": lambda ds: bp.district(ds, "babyroom_sessions_served")},
        {"title": "Asked for, not served", "ylabel": "child-sessions a month",
         "series": lambda ds: bp.district(ds, "babyroom_sessions_demanded") -
         bp.district(ds, "babyroom_sessions_served")},
    ]
    intro = ("Community baby rooms (宝宝屋): short 3-hour sessions for children aged 1–2 who are "
             "not in full-day care. Sessions asked for include those of families with no baby "
             "room within reach, which go unserved.")
    return _figure_section(
        ctx, "babyroom", "Baby rooms", intro,
        ["babyroom_sessions_demanded", "babyroom_sessions_served", "facility_capacity"], panels,
        lambda runs: bp.band_figure(runs, ctx.colours, panels, cjk_font=ctx.cjk_font, height=3.0),
        "Baby-room sessions asked for, offered and served over time")


def _section_clinic(ctx):
    panels = [
        {"title": "Visits wanted", "ylabel": "visits a month",
         "series": lambda ds: bp.district(ds, "clinic_visits_demanded")},
        {"title": "Served in the district", "ylabel": "visits a month",
         "series": lambda ds: bp.district(ds, "clinic_visits")},
        {"title": "Served outside the district", "ylabel": "visits a month",
         "series": lambda ds: bp.district(ds, "clinic_visits_outside")},
    ]
    intro = ("Paediatric outpatient visits of the district's children: wanted, served by clinics "
             "in the district (community health centres, the maternal and child health "
             "hospital, Tongren Hospital) and served outside it.")
    return _figure_section(
        ctx, "clinic", "Paediatric clinics", intro,
        ["clinic_visits_demanded", "clinic_visits", "clinic_visits_outside"], panels,
        lambda runs: bp.band_figure(runs, ctx.colours, panels, cjk_font=ctx.cjk_font, height=3.0),
        "Paediatric visits wanted, served in and outside the district")


def _section_waiting(ctx):
    out = ['<section id="waiting"><h2>Waiting lists and unmet demand</h2>']
    measures = [m for m in MEASURES if m.unmet and _has(ctx.base, *m.variables)]
    if not measures:
        out.append(_missing("Waiting lists and unmet demand"))
        return "\n".join(out) + "</section>"
    out.append(f"<p>Mean over replicates and, below it, the {_band_words(ctx)}, in {', '.join(map(str, ctx.report_years))}. "
               "Stocks (waiting lists, unmet nursery and kindergarten demand) are averaged over "
               "the months of the year; holiday figures are per session; baby-room sessions are "
               "summed over the year.</p>")
    head = "".join(f"<th class='num'>{chip(ctx.colours[n])}{esc(n)}</th>" for n in ctx.runs)
    body = []
    for m in measures:
        for k, year in enumerate(ctx.report_years):
            cells = []
            if k == 0:
                cells.append(f"<td rowspan='{len(ctx.report_years)}' class='measure'>{esc(m.label)}</td>")
            cells.append(f"<td class='num'>{year}</td>")
            for name in ctx.runs:
                mean, low, high = _stats(_at(ctx.measure(name, m), year))
                text = (f"{fmt_count(mean)} <span class='ci block'>{fmt_count(low)}–{fmt_count(high)}</span>"
                        if np.isfinite(mean) else "—")
                cells.append(f"<td class='num'>{text}</td>")
            body.append(f"<tr class='{'first' if k == 0 else 'more'}'>" + "".join(cells) + "</tr>")
    out.append("<div class='scroll'><table id='waiting-table' class='grouped'><thead><tr>"
               f"<th>Measure</th><th class='num'>Year</th>{head}</tr></thead><tbody>"
               + "\n".join(body) + "</tbody></table></div>")
    return "\n".join(out) + "</section>"


def _street_values(ds, year):
    """Per street in ``year``: children aged 0–2 (December), nursery places in the street per
    1,000 of them, unmet nursery demand (average month) and pupils without a summer class
    (per session); means over replicates, each a DataArray over ``street``."""
    streets = ds["street"].values.astype(str)
    out = {}
    months = ds["time"].dt.year == year
    dec = int(np.flatnonzero(months.values)[-1])
    children = ds["population"].isel(time=dec).sel(age=slice(0, 2)).sum("age").mean("replicate")
    out["children"] = children
    if "facility_capacity" in ds:
        services = bp._services(ds)
        fstreet = ds["facility_street"].values.astype(str)
        cap = ds["facility_capacity"].isel(time=dec).values
        places = np.array([cap[(services == "nursery") & (fstreet == s)].sum() for s in streets], float)
        c = children.values
        out["places"] = xr.DataArray(places * 1000.0 / np.where(c > 0, c, np.nan),
                                     dims="street", coords={"street": streets})
    if "nursery_unmet" in ds:
        out["unmet"] = ds["nursery_unmet"].isel(time=np.flatnonzero(months.values)).mean(["time", "replicate"])
    if "holiday_unmet" in ds:
        sel = np.flatnonzero((months & ds["time"].dt.month.isin([7, 8])).values)
        if len(sel):
            out["summer"] = ds["holiday_unmet"].isel(time=sel).mean(["time", "replicate"])
    return out


def _section_streets(ctx):
    out = ['<section id="streets"><h2>The ten streets</h2>']
    year = ctx.mid_year
    values = _street_values(ctx.base, year)
    if not {"street_x", "street_y"} <= set(ctx.base.coords):
        out.append(_missing("Street coordinates (street_x, street_y)"))
        return "\n".join(out) + "</section>"
    panels = [{"title": f"Children aged 0–2, end of {year}", "values": values["children"],
               "cmap": "Purples", "fmt": lambda v: fmt_count(v), "label": "children", "vmin": 0.0}]
    if "places" in values:
        panels.append({"title": f"Nursery places per 1,000 children aged 0–2, {year}",
                       "values": values["places"], "cmap": "Blues", "fmt": lambda v: fmt_count(v),
                       "label": "places per 1,000 children aged 0–2", "vmin": 0.0})
    if "unmet" in values:
        panels.append({"title": f"Unmet nursery demand, {year}", "values": values["unmet"],
                       "cmap": "YlOrRd", "fmt": lambda v: fmt_count(v, 1 if v < 10 else 0),
                       "label": "children a month (mean)", "vmin": 0.0})
    if "summer" in values:
        panels.append({"title": f"Pupils without a summer class, {year}", "values": values["summer"],
                       "cmap": "Oranges", "fmt": lambda v: fmt_count(v),
                       "label": "pupils per session (mean)", "vmin": 0.0})
    out.append(f"<p>The baseline in {year}, street by street. Each circle is a street, its area "
               "proportional to the street’s; circles stand near the street centres, moved apart "
               "just enough not to overlap (a schematic map, north up). Nursery places are those "
               "located in the street; unmet demand and pupils without a class are counted where "
               "the children live (families may use places in a neighbouring street).</p>")
    if not ctx.cjk_font:
        out.append('<p class="note">No Chinese font was found for the figure, so it shows the '
                   "English names only (install the Debian package fonts-wqy-microhei).</p>")
    fig = bp.street_map_figure(ctx.base, panels, cjk_font=ctx.cjk_font)
    out.append(figure_img(fig, f"Schematic map of the ten streets of Changning, {year}"))
    # Table: baseline values and paired changes by street.
    streets = ctx.base["street"].values.astype(str)
    zh = ctx.base["street_name"].values.astype(str) if "street_name" in ctx.base.coords else streets
    en = [bp.short_street_name(s) for s in (ctx.base["street_name_en"].values
                                           if "street_name_en" in ctx.base.coords else streets)]
    columns = [("children", "children aged 0–2", 0), ("places", "places per 1,000 aged 0–2", 0),
               ("unmet", "unmet nursery demand", 1), ("summer", "pupils without a summer class", 0)]
    columns = [c for c in columns if c[0] in values]
    changes = []
    for name in ctx.whatifs:
        other = _street_values(ctx.runs[name], year)
        for key, label in (("unmet", "unmet nursery demand"), ("summer", "no summer class")):
            if key in other and key in values:
                delta = other[key] - values[key]
                if np.nanmax(np.abs(delta.values)) >= 0.5:
                    changes.append((name, label, delta))
    header = ["Street"] + [(esc(label), "num") for _, label, _ in columns]
    header += [(f"{chip(ctx.colours[name])}{esc(name)}<span class='detail'>change in {esc(label)}</span>", "num")
               for name, label, _ in changes]
    rows = []
    for i in range(len(streets)):
        row = [f"<span class='nowrap'>{esc(zh[i])}</span> <span class='nowrap'>{esc(en[i])}</span>"]
        for key, _, digits in columns:
            v = float(values[key].values[i])
            row.append((fmt_count(v, digits if np.isfinite(v) and v < 10 else 0), "num"))
        for _, _, delta in changes:
            row.append((fmt_signed(float(delta.values[i])), "num"))
        rows.append(row)
    out.append(table(header, rows, raw=True, id_="street-table"))
    out.append(f'<p class="note">Baseline values for {year}: children at the end of the year, '
               "places in December, the others averaged over the year’s months (sessions). "
               + ("Changes are what-if minus baseline, mean over replicates, for the what-ifs "
                  "that change some street by half a child or more." if changes else
                  "No what-if changes these by half a child or more in any street.") + "</p>")
    return "\n".join(out) + "</section>"


def _section_costs(ctx):
    out = ['<section id="costs"><h2>Costs and cost per additional child served</h2>']
    if "facility_capital_cost" not in ctx.base or "facility_running_cost" not in ctx.base:
        out.append(_missing("Facility costs (facility_capital_cost, facility_running_cost)"))
        return "\n".join(out) + "</section>"
    years = ctx.years
    out.append(f"<p>Capital and running costs of all facilities, {int(years[0])}–{int(years[-1])}, "
               "in yuan, undiscounted. Subsidies and price-cap compensation are not facility "
               "costs: with them, in the chosen period and discounted, every option’s public cost "
               "is in <a href=\"#decision\">the options at a glance</a>. Costs are scenario inputs (the same in every replicate): "
               "the running costs of facilities while open and of the investments in effect, and "
               "the capital cost of each investment in the month it takes effect.</p>")
    header = ["Scenario", ("Capital", "num"), ("Running", "num"), ("Total", "num"),
              ("Extra vs baseline", "num")]
    rows = []
    base_total = None
    for name, ds in ctx.runs.items():
        c = costs_by_service(ds)
        capital, running = float(c["capital"].sum()), float(c["running"].sum())
        total = capital + running
        base_total = total if base_total is None else base_total
        rows.append([chip(ctx.colours[name]) + esc(name), (fmt_money(capital), "num"),
                     (fmt_money(running), "num"), (fmt_money(total), "num"),
                     ("—" if name == ctx.base_name else fmt_money(total - base_total), "num")])
    out.append(table(header, rows, raw=True, id_="cost-table"))
    out.append("<h3>What each what-if buys</h3>")
    header = ["What-if", "Service", ("Extra capital", "num"), ("Extra running", "num"),
              (f"Additional use ({_band_words(ctx)})", "num"), "Unit", ("Cost per additional unit", "num")]
    rows = []
    for name, tab in ctx.costs.items():
        for service, r in tab.iterrows():
            clear = np.isfinite(r["use_low"]) and (r["use_low"] > 0 or r["use_high"] < 0)
            if r["extra_cost"] == 0 and not clear:
                continue  # only noise in the use of a service the what-if does not touch
            if np.isfinite(r["cost_per_unit"]):
                per = fmt_money(r["cost_per_unit"])
                if np.isfinite(r["cost_per_unit_low"]):
                    per += (f" <span class='ci'>({fmt_money(r['cost_per_unit_low'])}–"
                            f"{fmt_money(r['cost_per_unit_high'])})</span>")
            elif r["extra_cost"] < 0 and np.isfinite(r["use_mean"]) and r["use_high"] < 0:
                per = f"saves {fmt_money(r['extra_cost'] / r['use_mean'])} per unit forgone"
            elif r["extra_cost"] > 0 and np.isfinite(r["use_mean"]):
                per = "no clear additional use"
            else:
                per = "—"
            use = (fmt_interval(r["use_mean"], r["use_low"], r["use_high"])
                   if np.isfinite(r["use_mean"]) else "use not in these runs")
            rows.append([chip(ctx.colours[name]) + esc(name), esc(SERVICE_LABELS.get(service, service)),
                         (fmt_money(r["extra_capital"]), "num"), (fmt_money(r["extra_running"]), "num"),
                         (use, "num"), esc(r["unit"] or "—"), (per, "num")])
    if rows:
        out.append(table(header, rows, raw=True, id_="cost-effect-table"))
    else:
        out.append('<p class="note">No what-if changes costs or use of any service.</p>')
    out.append('<dl class="defs"><dt>Definitions</dt>'
               "<dd><b>Extra cost</b> of a service: capital plus running costs of the facilities "
               "of that service over the whole run, what-if minus baseline.</dd>"
               "<dd><b>Additional use</b>: use of that service over the whole run, what-if minus "
               "baseline, replicate by replicate (same seed, so the same random histories); "
               f"the interval is the {_band_words(ctx)}. Use is counted as: "
               + "; ".join(f"{esc(SERVICE_LABELS[s])}: {esc(spec['definition'])}"
                           for s, spec in USE_MEASURES.items()) +
               ".</dd><dd><b>Cost per additional unit</b> = extra cost ÷ mean additional use; its "
               "interval is the extra cost divided by the 95th and the 5th percentiles of the "
               "additional use, shown only when both are positive. A child-year is one child in "
               "care for twelve months (e.g. two children for six months each).</dd></dl>")
    return "\n".join(out) + "</section>"


def _section_differences(ctx):
    out = ['<section id="differences"><h2>Differences from the baseline</h2>']
    if not ctx.whatifs:
        out.append(_missing("What-if scenarios"))
        return "\n".join(out) + "</section>"
    out.append(f"<p>What-if minus baseline, computed replicate by replicate and summarised as "
               f"the mean and the {_band_words(ctx)} of the paired differences. "
               f"Main figure {ctx.mid_year}; below it the first and last years. “no change”: "
               f"identical in every replicate.</p>")
    measures = [m for m in MEASURES if _has(ctx.base, *m.variables)]
    header = ["Measure"] + [chip(ctx.colours[n]) + esc(n) for n in ctx.whatifs]
    rows = []
    other_years = [y for y in ctx.report_years if y != ctx.mid_year]
    for m in measures:
        row = [esc(m.label)]
        for name in ctx.whatifs:
            diff = ctx.paired(name, m)
            if diff is None:
                row.append("—")
                continue
            if float(np.nanmax(np.abs(diff.values))) == 0.0 if np.isfinite(diff.values).any() else True:
                row.append(("<span class='ci'>no change</span>", "num"))
                continue
            main = _at(diff, ctx.mid_year)
            text = fmt_interval(*_stats(main)) if main is not None else "—"
            extra = " · ".join(f"{y}: {fmt_signed(_stats(_at(diff, y))[0])}" for y in other_years
                               if _at(diff, y) is not None)
            row.append((f"{text}<span class='detail'>{esc(extra)}</span>", "num"))
        rows.append(row)
    out.append(table(header, rows, raw=True, id_="difference-table"))
    # Figure: paired differences over time.
    if _has(ctx.base, "nursery_children_enrolled", "nursery_unmet"):
        fig = _difference_figure(ctx)
        if fig is not None:
            out.append("<p>Over time, month by month (what-ifs that change none of these are not "
                       "drawn):</p>")
            out.append(figure_img(fig, "Paired differences from the baseline over time"))
    return "\n".join(out) + "</section>"


def _difference_figure(ctx):
    """Paired differences over time (what-if − baseline, mean and 90 % band), for the
    what-ifs that change something drawn."""
    variables = [v for v in ("nursery_children_enrolled", "nursery_unmet", "babyroom_sessions_served")
                 if v in ctx.base]
    diffs = OrderedDict()
    for name, ds in ctx.whatifs.items():
        common = np.intersect1d(ds["replicate"].values, ctx.base["replicate"].values)
        d = xr.Dataset({v: (bp.district(ds, v) - bp.district(ctx.base, v)).sel(replicate=common)
                        for v in variables})
        if any(float(np.nanmax(np.abs(d[v].values))) > 0 for v in variables):
            diffs[name] = d
    if not diffs:
        return None
    titles = {"nursery_children_enrolled": ("Change in children in a nursery place", "children"),
              "nursery_unmet": ("Change in unmet nursery demand", "children"),
              "babyroom_sessions_served": ("Change in baby-room sessions served", "sessions a month")}
    panels = [{"title": titles[v][0], "ylabel": titles[v][1], "series": (lambda v: lambda d: d[v])(v)}
              for v in variables]
    fig = bp.band_figure(diffs, {n: ctx.colours[n] for n in diffs}, panels, cjk_font=ctx.cjk_font,
                         height=3.0, baseline_last=False)
    for ax in fig.axes[1:]:  # the first holds the legend
        ax.autoscale()
        ax.axhline(0, color="#333", linewidth=0.8)
    return fig


def _section_sensitivity(sweeps, output):
    if not sweeps:
        return ""
    from . import _briefing_sensitivity as bs

    try:
        return bs.section(sweeps, *output)
    except bs.SweepProblem as error:  # e.g. an output that does not vary over the design
        raise SweepFileError(str(error), error.path) from None


def _section_provenance(ctx):
    out = ['<section id="provenance"><h2>Provenance</h2>',
           "<p>Where every number on this page comes from. The scenarios’ full text (after "
           "<code>extends</code>) is stored in each result file and shown below.</p>"]
    header = ["Scenario", "Scenario file", "Result file", ("Seed", "num"), ("Replicates", "num"),
              ("Population scale", "num"), "Horizon", "Version", "Git commit", "Created"]
    rows = []
    for name, ds in ctx.runs.items():
        a = ds.attrs
        rows.append([chip(ctx.colours[name]) + esc(name), esc(a.get("scenario_file", "—")),
                     esc(a.get("_briefing_file", "—")), (esc(a.get("seed", "—")), "num"),
                     (esc(ds.sizes["replicate"]), "num"),
                     (esc(f"{float(a.get('population_scale', 1.0)):g}"), "num"),
                     f"<span class='nowrap'>{esc(_horizon(ds).replace(' to ', '–'))}</span>",
                     esc(a.get("version", "—")), esc(a.get("git_commit", "—")),
                     f"<span class='nowrap'>{esc(a.get('created', '—'))}</span>"])
    out.append(table(header, rows, raw=True, id_="provenance-table"))
    for name, ds in ctx.runs.items():
        out.append(f"<details><summary>Scenario text of <b>{esc(name)}</b></summary>"
                   f"<pre>{esc(ds.attrs.get('scenario', ''))}</pre></details>")
    return "\n".join(out) + "</section>"


# --------------------------------------------------------------------------------------
# The page


def build_briefing(paths, *, names=None, title=None, period=None, discount_rate=DISCOUNT_RATE,
                   sensitivity=None, sensitivity_output=None, siting=None):
    """The briefing page as an HTML string.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        Result files; the first is the baseline.
    names : sequence of str, optional
        Scenario labels (default: each run's ``scenario_name``).
    title : str, optional
        The page title.
    period : (int, int), optional
        First and last year of the decision table's costs and child-years (default the 15th
        Five-Year Plan years 2026–2030 within the runs; :func:`childsim.period_years`).
    discount_rate : float, default :data:`childsim.options.DISCOUNT_RATE`
        Yearly discount rate, in [0, 0.2].
    sensitivity : str, os.PathLike or sequence of them, optional
        Sweep files of ``childsim sweep`` (saltelli or morris design): adds the section
        "What drives the result" with their sensitivity indices (docs/research.md).
    sensitivity_output : str, optional
        The output summarised per sample, ``VARIABLE`` or ``VARIABLE:YEAR`` (default
        ``nursery_unmet`` if the sweep kept it, else its first output with a time
        dimension; year 2030 if covered, else the sweep's last year).
    siting : str or os.PathLike, optional
        The output directory of ``childsim site PROBLEM.yaml -o DIR``: adds the section
        "Siting" (map of the chosen sites over the unmet demand, Pareto chart, per plan the
        sites, cost, net child-years served and regret; docs/siting.md).

    Returns
    -------
    str
        A complete, self-contained HTML document.

    Raises
    ------
    BriefingError
        If a file cannot be compared (see :func:`read_runs`); :class:`SweepFileError` if a
        ``sensitivity`` file is not a saltelli or morris sweep; if ``siting`` is not a
        directory written by ``childsim site``.

    Examples
    --------
    >>> import childsim, pathlib, tempfile
    >>> scenarios = childsim.find_root() / "scenarios"
    >>> quick = {"population_scale": 0.05, "end": "2025-12", "replicates": 2}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     files = [childsim.write(childsim.run({"extends": f, **quick}, base_dir=scenarios),
    ...                             pathlib.Path(tmp) / f"{i}.h5")
    ...              for i, f in enumerate(["baseline.yaml", "holiday-classes-30-12.yaml"])]
    ...     page = childsim.build_briefing(files)
    >>> page.startswith("<!DOCTYPE html>") and 'id="decision-table"' in page
    True
    """
    sweeps, output = read_sweeps(sensitivity, sensitivity_output)
    siting_html = read_siting(siting)
    runs, notes = read_runs(paths, names)
    period = check_period(runs, period, discount_rate)
    return _render(runs, notes, title=title, period=period, rate=discount_rate,
                   sweeps=sweeps, sweep_output=output, siting=siting_html)


def read_siting(directory):
    """The siting section from ``childsim site``'s output directory, read before anything is
    written; "" without one. Raises BriefingError naming the file.
    """
    if directory is None:
        return ""
    from .siting_report import SitingDirError, siting_section_from_dir

    try:
        return siting_section_from_dir(directory)
    except SitingDirError as error:
        raise BriefingError(str(error), error.path) from None


def read_sweeps(paths, output=None):
    """Read and check the ``--sensitivity`` sweeps before anything is written.

    Returns (list of datasets, (variable, year)); raises SweepFileError naming the file.
    """
    from . import _briefing_sensitivity as bs

    if paths is None:
        return [], (None, None)
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    try:
        variable, year = bs.parse_output(output)
        sweeps = [bs.read_sweep(p) for p in paths]
        for ds in sweeps:
            bs.choose_output(ds, variable, year)
    except bs.SweepProblem as error:
        raise SweepFileError(str(error), error.path) from None
    return sweeps, (variable, year)


def check_period(runs, period, rate):
    """The period of the decision table, checked against the runs; raises BriefingError."""
    base = next(iter(runs.values()))
    if not (isinstance(rate, (int, float)) and np.isfinite(rate) and 0.0 <= rate <= 0.2):
        raise BriefingError(f"--discount-rate {rate}: expected a yearly rate in [0, 0.2] "
                            f"(default {DISCOUNT_RATE}, plausible {DISCOUNT_RATE_RANGE[0]}–"
                            f"{DISCOUNT_RATE_RANGE[1]})")
    start, end = period if period is not None else (None, None)
    try:
        return period_years(base, start, end)
    except ValueError as error:
        raise BriefingError(str(error)) from None


def _render(runs, notes, *, title=None, period=None, rate=DISCOUNT_RATE, sweeps=(),
            sweep_output=(None, None), siting=""):
    import warnings

    with warnings.catch_warnings():
        # Means and quantiles of years a run does not cover (e.g. no summer session in a run
        # ending in June) are NaN by design.
        warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        return _render_page(runs, notes, title=title, period=period, rate=rate,
                            sweeps=sweeps, sweep_output=sweep_output, siting=siting)


def _render_page(runs, notes, *, title=None, period=None, rate=DISCOUNT_RATE, sweeps=(),
                 sweep_output=(None, None), siting=""):
    base = next(iter(runs.values()))
    years = np.unique(base["time"].dt.year.values)
    report_years = [y for y in (2025, 2030, 2035) if y in years] or [int(years[0]), int(years[-1])]
    if len(report_years) == 1 and int(years[-1]) not in report_years:
        report_years.append(int(years[-1]))
    mid_year = 2030 if 2030 in years else int(years[-1])
    ctx = _Context(runs=runs, notes=list(notes), colours=bp.scenario_colours(list(runs)),
                   cjk_font=bp.find_cjk_font(), years=years, report_years=sorted(set(report_years)),
                   mid_year=mid_year)
    directory = base_data_dir(base)
    try:
        ctx.targets = load_targets(directory / "targets.yaml" if directory else None)
        ctx.kinds = load_kinds(directory / "facilities.yaml" if directory else None)
    except (OSError, ValueError) as error:
        ctx.notes.append(f"The plan's targets could not be read ({error}); the target table is left out.")
        ctx.targets = None
    if ctx.targets is not None:
        # The scenarios' own targets (a `targets:` list) join the base data's; each run is
        # tested against its own thresholds (the model's indicator_target_met).
        ctx.targets = merge_targets([ctx.targets] + [run_targets(ds) for ds in runs.values()])
        for name, ds in runs.items():
            ctx.target_met[name] = targets_met(ds, ctx.targets, ctx.kinds)
            ctx.target_tables[name] = target_summary(ctx.target_met[name], ctx.targets)
    if "facility_capital_cost" in base and "facility_running_cost" in base:
        for name, ds in ctx.whatifs.items():
            n = min(int(base.sizes["replicate"]), int(ds.sizes["replicate"]))
            ctx.costs[name] = cost_effectiveness(base, ds, q=bp.band_quantiles(n))
    ctx.period = period or period_years(base)
    ctx.rate = rate
    ctx.decision_year = 2030 if 2030 in years else int(years[-1])
    if "facility_capacity" in base and "nursery_enrolled" in base:
        for name, ds in ctx.whatifs.items():
            ctx.options[name] = option_summary(base, ds, ctx.period, rate)
    title = title or "Child services in Changning 长宁区: scenario briefing"
    body = [
        _section_header(ctx, title),
        _toc(bool(sweeps), bool(siting)),
        "<main>",
        section_decision(ctx) if ctx.options else "",
        _section_summary(ctx),
        _section_targets(ctx),
        _section_nursery(ctx),
        _section_kindergarten(ctx),
        _section_holiday(ctx),
        _section_babyroom(ctx),
        _section_clinic(ctx),
        _section_waiting(ctx),
        _section_streets(ctx),
        _section_costs(ctx),
        _section_differences(ctx),
        siting,
        _section_sensitivity(sweeps, sweep_output),
        _section_provenance(ctx),
        "</main>",
        '<footer>Made with childsim, an agent-based model of child-service demand in Changning '
        "District, Shanghai (monthly, 2024–2035). Numbers are model results under the "
        "scenarios’ assumptions, not forecasts; see docs/model.md and docs/data.md for the "
        "model and every assumption.</footer>",
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{esc(title)}</title>\n<link rel=\"icon\" href=\"data:,\">\n"
            f"<style>{PAGE_CSS}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n")


def write_briefing(paths, output, *, names=None, title=None, period=None,
                   discount_rate=DISCOUNT_RATE, sensitivity=None, sensitivity_output=None,
                   siting=None):
    """Write the briefing page to ``output`` (under a temporary name, then renamed).

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        Result files; the first is the baseline.
    output : str or os.PathLike
        The HTML file to write; its directory must exist.
    names, title, period, discount_rate, sensitivity, sensitivity_output, siting : optional
        As for :func:`build_briefing`.

    Returns
    -------
    pathlib.Path
        ``output``.

    Raises
    ------
    BriefingError
        If an input cannot be compared or the output directory does not exist; no file is
        written then.

    Examples
    --------
    >>> import childsim, pathlib, tempfile
    >>> scenarios = childsim.find_root() / "scenarios"
    >>> quick = {"population_scale": 0.05, "end": "2025-06", "replicates": 2}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     tmp = pathlib.Path(tmp)
    ...     files = [childsim.write(childsim.run({"extends": f, **quick}, base_dir=scenarios),
    ...                             tmp / f"{i}.h5")
    ...              for i, f in enumerate(["baseline.yaml", "baby-room-every-street.yaml"])]
    ...     page = childsim.write_briefing(files, tmp / "brief.html")
    ...     print(page.name, page.stat().st_size > 100_000)
    brief.html True
    """
    output = _check_output(output)
    page = build_briefing(paths, names=names, title=title, period=period,
                          discount_rate=discount_rate, sensitivity=sensitivity,
                          sensitivity_output=sensitivity_output, siting=siting)
    _write_atomic(page, output)
    return output


def _check_output(output):
    """The output's directory must exist and the output must not be a directory."""
    output = Path(os.fspath(output))
    directory = output.parent if str(output.parent) else Path(".")
    if not directory.is_dir():
        raise BriefingError(f"{output}: output directory '{directory}' does not exist", output)
    if output.is_dir():
        raise BriefingError(f"{output}: is a directory", output)
    return output


def _write_atomic(page, output):
    """Write ``page`` to a temporary file beside ``output`` and rename it into place."""
    output = _check_output(output)
    temporary = output.with_name(f".{output.name}.tmp{os.getpid()}")
    try:
        temporary.write_text(page, encoding="utf-8")
        os.replace(temporary, output)
    finally:
        if temporary.exists():
            temporary.unlink()


def _numbers(args):
    """--from, --to (years) and --discount-rate (a number), or a one-line BriefingError."""
    years = []
    for flag, text in (("--from", args.start), ("--to", args.end)):
        if text is None:
            years.append(None)
            continue
        try:
            years.append(int(text))
        except ValueError:
            raise BriefingError(f"{flag} {text!r}: expected a year such as 2026") from None
    rate = DISCOUNT_RATE
    if args.discount_rate is not None:
        try:
            rate = float(args.discount_rate)
        except ValueError:
            raise BriefingError(f"--discount-rate {args.discount_rate!r}: expected a number "
                                f"such as 0.08") from None
    return years[0], years[1], rate


def main(argv=None):
    """Command line: ``python3 -m childsim.briefing BASE.h5 A.h5 [B.h5 …] -o OUT.html``.

    Returns the exit code: 0 written, 1 an input or output error, including a
    ``--sensitivity`` file that is not a saltelli or morris sweep (one line on stderr
    starting with ``error:``), 2 a usage error.
    """
    parser = argparse.ArgumentParser(
        prog="childsim compare",
        description="Compare scenario runs (the first is the baseline) in a self-contained "
                    "HTML briefing page.")
    parser.add_argument("files", nargs="+", metavar="RESULT.h5",
                        help="result files of 'childsim run'; the first is the baseline")
    parser.add_argument("-o", "--output", required=True, help="the HTML page to write")
    parser.add_argument("--title", default=None, help="the page title")
    parser.add_argument("--names", default=None,
                        help="comma-separated scenario labels, one per file (default: each "
                             "run's scenario_name)")
    parser.add_argument("--from", dest="start", default=None,
                        help="first year of the decision table's costs and child-years "
                             "(default 2026, the 15th Five-Year Plan)")
    parser.add_argument("--to", dest="end", default=None,
                        help="last year of the period (default 2030)")
    parser.add_argument("--discount-rate", default=None,
                        help=f"yearly discount rate for costs and child-years (default "
                             f"{DISCOUNT_RATE}; docs/scenarios.md)")
    parser.add_argument("--sensitivity", action="append", default=None, metavar="SWEEP.h5",
                        help="a file of 'childsim sweep' (saltelli or morris design; "
                             "repeatable): adds the section 'What drives the result'")
    parser.add_argument("--sensitivity-output", default=None, metavar="VARIABLE[:YEAR]",
                        help="the output summarised per sample (default nursery_unmet, "
                             "district monthly mean in 2030)")
    parser.add_argument("--siting", default=None, metavar="DIR",
                        help="the output directory of 'childsim site PROBLEM.yaml -o DIR': "
                             "adds the section 'Siting' (docs/siting.md)")
    args = parser.parse_args(argv)
    if len(args.files) < 2:
        parser.print_usage(sys.stderr)
        print("error: give a baseline and at least one other result file", file=sys.stderr)
        return 2
    names = [n.strip() for n in args.names.split(",")] if args.names else None
    try:
        start, end, rate = _numbers(args)
        _check_output(args.output)
        sweeps, output = read_sweeps(args.sensitivity, args.sensitivity_output)
        siting = read_siting(args.siting)
        runs, notes = read_runs(args.files, names)
        period = check_period(runs, (start, end), rate)
        for note in notes:
            print(f"warning: {note}", file=sys.stderr)
        page = _render(runs, notes, title=args.title, period=period, rate=rate,
                       sweeps=sweeps, sweep_output=output, siting=siting)
        _write_atomic(page, args.output)
    except BriefingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: {args.output}: cannot write ({error.strerror or error})", file=sys.stderr)
        return 1
    print(f"Wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
