"""siting: where should the next facility go — optimised on simulated demand, proven by simulation.

A *siting problem* (a YAML file, docs/siting.md describes every key) names a base scenario, the
facility kind to place, candidate sites, capacity options, a budget or a number of sites, an
objective and optional constraints::

    scenario: ../scenarios/baseline.yaml   # relative to the problem file
    kind: inclusive_nursery                # a kind of facilities.yaml
    years: [2026, 2030]                    # plan years whose demand the sites should serve
    opening: 2026-01                       # when new sites open (default: the first plan year)
    candidates:
      streets: true                        # every street's centre
      grid: {spacing_m: 800}               # a regular grid over the streets' discs
      existing: true                       # facilities of the kind that may expand
      csv: my-sites.csv                    # the planner's own: id, lat, lon, ...
    capacities: [30, 60]                   # places per site (options)
    sites: 1                               # or budget: 3000000 (yuan, capital + running)
    objective: covering                    # covering | p_median | equity
    constraints: {max_per_street: 1}
    evaluate: {plans: 3, replicates: 10}

:func:`site` then (1) runs an ensemble of the base scenario and takes the expected unmet
demand by street and plan year from it (:func:`street_demand`); homes are not an output, but
the model draws them uniformly in a disc of each street's area around its centre, so demand
points are placed the same way (:func:`demand_points`); (2) builds the candidate options and
solves the model exactly (the best ``plans``, :func:`childsim.siting_solvers.top_plans`) and
greedily; (3) writes each plan as an ordinary what-if scenario (the base's investments plus
the new sites) and runs it with the base's seed (common random numbers) against the base;
(4) tabulates public cost against net child-years served and the worst street's coverage,
with 90 % intervals over the paired replicates, and marks the Pareto-efficient plans.

Errors in the problem file (or its CSV) name the file, line, column and key, and nothing is
written.
"""

import csv
import json
import math
import numbers
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from . import siting_solvers as _solvers
from ._errors import ScenarioError
from ._mpi_common import parse_on_every_rank
from .sweeps import _close  # the same "did you mean" as design files

__all__ = ["ProblemError", "SitingProblem", "SitingResult", "read_problem", "street_demand",
           "demand_points", "candidate_options", "build_instance", "plan_scenario", "write_plan",
           "evaluate_plans", "clinic_mean_wait", "clinic_visits_per_child_month", "site"]

_KEYS = ("name", "description", "scenario", "kind", "years", "opening", "candidates",
         "capacities", "costs", "budget", "sites", "budget_year", "objective", "walk_minutes", "constraints",
         "facility", "demand", "evaluate", "time_limit")
_CANDIDATE_KEYS = ("streets", "grid", "existing", "csv")
_COST_KEYS = ("capital_per_place", "running_per_place_year")
_CONSTRAINT_KEYS = ("max_per_street", "min_coverage", "kind_mix")
_FACILITY_KEYS = ("price_month", "quality")
_DEMAND_KEYS = ("replicates",)
_EVALUATE_KEYS = ("plans", "replicates", "greedy", "variants")
_CSV_COLUMNS = ("id", "lat", "lon", "street", "max_capacity", "capital_cost",
                "running_cost_year", "earliest_start")

# What "unmet" and "all demand" are for each service, from the run's outputs (by street).
# Holiday demand exists only in session months: only months with seekers are averaged.
# A pair of names as "unmet" is the first minus the second. Baby-room demand is in
# child-sessions a month, the unit of the baby_room kind's capacity.
SERVICE_DEMAND = {
    "nursery": ("nursery_unmet", ("nursery_wanting",)),
    "kindergarten": ("kindergarten_unplaced",
                     ("kindergarten_children_enrolled", "kindergarten_unplaced")),
    "holiday": ("holiday_unmet", ("holiday_seekers",)),
    "babyroom": (("babyroom_sessions_demanded", "babyroom_sessions_served"),
                 ("babyroom_sessions_demanded",)),
    # Paediatric clinics: visits a month. No visit goes unserved in the model: a visit that no
    # district clinic takes (by choice, or refused by the queue or capacity) ends at a clinic
    # outside the district; those are the "unmet" visits, of all the visits the street's
    # children want (docs/siting.md, "Paediatric clinics").
    "clinic": ("clinic_visits_outside", ("clinic_visits_demanded",)),
}
# Demand units a child stands for, a month, where the demand is not counted in children:
# the parameter that converts (net child-years served = the fall in unmet demand / it / 12).
_PER_CHILD = {"babyroom": "babyroom.sessions_per_month"}
# Services whose demand grows with supply (baby-room take-up rises with a room nearer and more
# sessions offered; docs/model.md 7.12): their net effect is the rise in demand served, not
# only the fall in unmet demand, which would miss the families a new room brings in.
_NET_BY_SERVED = ("babyroom",)

# ASSUMED defaults (yuan), as in docs/scenarios.md and scenarios/baseline.yaml: capital
# 10,000 a new place (the national subsidy per new 普惠 place, taken as the fit-out cost);
# running 26,000 a place a year (a nursery class of 25: 3 staff x 150,000 + 25 x 8,000 =
# 650,000 a year, the rule of facilities.yaml, per place). Plausible range: capital
# 5,000-30,000 a place (a rented and fitted building costs more), running 15,000-40,000.
DEFAULT_COSTS = {"capital_per_place": 10000.0, "running_per_place_year": 26000.0}
# Paediatric clinics, per doctor-session a month of capacity (the chc_clinic kind's unit).
# Running: DERIVED from scenarios/changning/facilities.yaml, whose CHC clinics of 40 sessions
# (2 doctors x 20 half-days) cost 900,000 yuan a year (2 doctors x 350,000 + 1 nurse 150,000
# + 50,000 consumables, itself assumed there): 22,500 yuan a session-a-month a year.
# Capital: ASSUMED, about 200,000 yuan to fit out and equip two consulting rooms and a
# waiting area in an existing CHC for 40 sessions, 5,000 a session (plausible 2,500-15,000:
# more where rooms must be built or rented).
CLINIC_COSTS = {"capital_per_place": 5000.0, "running_per_place_year": 22500.0}
# What demand is counted in, where not children (the kind's capacity unit follows it).
_DEMAND_UNIT = {"babyroom": "child-sessions a month", "clinic": "paediatric visits a month"}
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ProblemError(ValueError):
    """A siting problem is not valid: nothing was run or written.

    The message reads ``FILE:LINE:COLUMN: key 'KEY': what is wrong``, as scenario errors do.

    Examples
    --------
    >>> from childsim.siting import ProblemError
    >>> print(ProblemError("expected an integer >= 1, got 0", file="p.yaml", line=4, column=8,
    ...                    key="sites"))
    p.yaml:4:8: key 'sites': expected an integer >= 1, got 0
    """

    def __init__(self, message, *, file="", line=0, column=0, key=""):
        where = f"{file}:{line}:{column}: " if file else ""
        if file and not line and file != "<dict>":  # not about a place in the file
            where = f"{file}: "
        what = f"key '{key}': " if key else ""
        super().__init__(f"{where}{what}{message}")
        self.file, self.line, self.column, self.key = str(file), line, column, key


@dataclass
class SitingProblem:
    """A validated siting problem (what :func:`read_problem` returns); see the module docstring."""

    scenario: Path
    kind: str
    service: str
    years: tuple
    opening: tuple
    objective: str
    capacities: list
    sites: int = None
    budget: float = None
    budget_year: float = None
    streets: bool = False
    grid_spacing_m: float = None
    existing: bool = False
    csv_candidates: list = field(default_factory=list)
    costs: dict = field(default_factory=lambda: dict(DEFAULT_COSTS))
    max_per_street: int = None
    min_coverage: float = None
    price_month: float = None
    quality: float = None
    walk_minutes: float = None
    demand_replicates: int = 4
    plans: int = 3
    evaluate_replicates: int = 10
    greedy: bool = True
    variants: list = field(default_factory=list)
    time_limit: float = 60.0
    demand_per_child: float = 1.0
    visits_per_session: dict = field(default_factory=dict)
    kinds: list = field(default_factory=list)
    kind_mix: dict = field(default_factory=dict)
    name: str = "siting"
    description: str = ""
    file: str = "<dict>"


# --- reading a problem file -----------------------------------------------------------------

def _positions(node, prefix="", out=None):
    """Dotted key path -> (line, column) of every key in a composed YAML node tree."""
    import yaml

    out = {} if out is None else out
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            out[path] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _positions(value_node, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for k, item in enumerate(node.value):
            path = f"{prefix}[{k}]"
            out[path] = (item.start_mark.line + 1, item.start_mark.column + 1)
            _positions(item, path, out)
    return out


def _month(text):
    m = _MONTH.match(str(text)) if isinstance(text, str) else None
    if not m or not 1 <= int(m.group(2)) <= 12:
        return None
    return int(m.group(1)), int(m.group(2))


def _number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def read_problem(source, *, base_dir=None):
    """Read and validate a siting problem (YAML file or dict).

    Parameters
    ----------
    source : str, os.PathLike or Mapping
        The problem file, or the same content as a dict.
    base_dir : str or os.PathLike, optional
        For a dict, where ``scenario`` and ``candidates.csv`` resolve (default: the current
        directory).

    Returns
    -------
    SitingProblem

    Raises
    ------
    ProblemError
        Naming file, line, column and key (for the CSV: its file, line and column name).

    Examples
    --------
    >>> import childsim
    >>> from childsim.siting import read_problem, ProblemError
    >>> scenarios = childsim.find_root() / "scenarios"
    >>> p = read_problem({"scenario": "baseline.yaml", "kind": "inclusive_nursery",
    ...                   "years": [2026, 2030], "candidates": {"streets": True},
    ...                   "capacities": [60], "sites": 1, "objective": "covering"},
    ...                  base_dir=scenarios)
    >>> p.service, p.opening, p.years
    ('nursery', (2026, 1), (2026, 2030))
    >>> try:
    ...     read_problem({"scenario": "baseline.yaml", "kind": "inclusive_nursery",
    ...                   "years": [2026, 2030], "candidates": {"streets": True},
    ...                   "capacities": [60], "sites": 1, "objective": "pmedian"},
    ...                  base_dir=scenarios)
    ... except ProblemError as e:
    ...     print(e)
    <dict>:0:0: key 'objective': expected one of covering, p_median, equity, got 'pmedian' (did you mean 'p_median'?)
    """
    import yaml

    if isinstance(source, (str, os.PathLike)):
        file = os.fspath(source)
        try:
            with open(file, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as error:
            raise ProblemError(f"cannot read the problem file: {error.strerror}",
                               file=file) from None
        try:
            root = yaml.compose(text)
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            raise ProblemError(f"not valid YAML: {getattr(error, 'problem', error)}", file=file,
                               line=(mark.line + 1) if mark else 0,
                               column=(mark.column + 1) if mark else 0) from None
        if not isinstance(data, dict):
            raise ProblemError("expected a map of keys (scenario, kind, years, ...)", file=file,
                               line=1, column=1)
        positions = _positions(root)
        base = Path(file).parent
    elif hasattr(source, "items"):
        file, data, positions = "<dict>", dict(source), {}
        base = Path(base_dir) if base_dir is not None else Path.cwd()
    else:
        raise TypeError(f"source must be a path or a mapping, got {type(source).__name__}")

    def fail(message, key):
        probe = key
        while probe and probe not in positions:
            probe = probe.rpartition(".")[0]
        line, column = positions.get(probe, (1, 1) if file != "<dict>" else (0, 0))
        raise ProblemError(message, file=file, line=line, column=column, key=key)

    def check_keys(mapping, allowed, prefix):
        if not isinstance(mapping, dict):
            fail(f"expected a map with keys {', '.join(allowed)}", prefix)
        for key in mapping:
            if key not in allowed:
                path = f"{prefix}.{key}" if prefix else str(key)
                fail(f"unknown key{_close(key, allowed)}; expected one of {', '.join(allowed)}",
                     path)

    def integer(value, key, lo, hi=None):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo or (
                hi is not None and value > hi):
            limits = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
            fail(f"expected an integer {limits}, got {value!r}", key)
        return int(value)

    def real(value, key, lo, hi=None, open_low=False):
        if not _number(value) or value < lo or (open_low and value <= lo) or (
                hi is not None and value > hi):
            limits = (f"> {lo}" if open_low else f">= {lo}") + ("" if hi is None else f" and <= {hi}")
            fail(f"expected a number {limits}, got {value!r}", key)
        return float(value)

    check_keys(data, _KEYS, "")
    for key in ("scenario", "kind", "years", "candidates", "capacities", "objective"):
        if key not in data:
            fail(f"missing required key '{key}'", key)

    # the base scenario and its base data
    scenario_value = data["scenario"]
    if not isinstance(scenario_value, str) or not scenario_value:
        fail("expected the path of a scenario file", "scenario")
    scenario = base / scenario_value
    if not scenario.is_file():
        fail(f"no such scenario file: '{scenario}'", "scenario")
    from .sweeps import _base_data_of

    try:
        loaded, base_data = _base_data_of(scenario)
    except (ScenarioError, FileNotFoundError) as error:
        fail(f"the scenario is not valid: {error}", "scenario")
    from .targets import load_kinds

    kinds = load_kinds(base_data / "facilities.yaml")
    # one kind, or a list of kinds of one service (a kind mix: constraints.kind_mix)
    kind_list = data["kind"] if isinstance(data["kind"], list) else [data["kind"]]
    if not kind_list:
        fail("expected a facility kind or a list of kinds of one service", "kind")
    for k, kind in enumerate(kind_list):
        key = f"kind[{k}]" if isinstance(data["kind"], list) else "kind"
        if not isinstance(kind, str) or kind not in kinds.index:
            fail(f"unknown facility kind {kind!r}{_close(kind, kinds.index)} (the kinds of "
                 f"facilities.yaml: {', '.join(kinds.index)})", key)
        if kind in kind_list[:k]:
            fail(f"kind {kind!r} is listed twice", key)
        if str(kinds.loc[kind, "service"]) != str(kinds.loc[kind_list[0], "service"]):
            fail(f"kind {kind!r} is a {kinds.loc[kind, 'service']} facility, "
                 f"{kind_list[0]!r} a {kinds.loc[kind_list[0], 'service']} one: a kind mix "
                 f"must be of one service (its demand is what the sites serve)", key)
    kind = kind_list[0]
    service = str(kinds.loc[kind, "service"])
    if service not in SERVICE_DEMAND:
        fail(f"siting a {service} facility is not supported: demand is taken for "
             f"{', '.join(SERVICE_DEMAND)} services", "kind")

    years = data["years"]
    if (not isinstance(years, list) or len(years) != 2
            or not all(isinstance(y, int) and not isinstance(y, bool) for y in years)
            or years[0] > years[1]):
        fail(f"expected [first, last] plan years, got {years!r}", "years")
    first_run, last_run = int(loaded.start[:4]), int(loaded.end[:4])
    if years[0] < first_run or years[1] > last_run:
        fail(f"plan years {years} leave the scenario's horizon {loaded.start} to {loaded.end}",
             "years")
    opening = (years[0], 1)
    if "opening" in data:
        opening = _month(data["opening"])
        if opening is None:
            fail(f"expected a month YYYY-MM, got {data['opening']!r}", "opening")
        if opening > (years[1], 12):
            fail(f"new sites open after the last plan year {years[1]}", "opening")

    objective = data["objective"]
    if objective not in _solvers.OBJECTIVES:
        fail(f"expected one of {', '.join(_solvers.OBJECTIVES)}, got {objective!r}"
             f"{_close(objective, _solvers.OBJECTIVES)}", "objective")

    capacities = data["capacities"]
    if not isinstance(capacities, list) or not capacities:
        fail("expected a non-empty list of capacities (places per site)", "capacities")
    caps = sorted({integer(c, f"capacities[{k}]", 1) for k, c in enumerate(capacities)})

    if ("budget" in data) == ("sites" in data):
        fail("give exactly one of 'budget' (yuan) and 'sites' (a number of sites)",
             "budget" if "budget" in data else "sites")
    sites = integer(data["sites"], "sites", 1) if "sites" in data else None
    budget = real(data["budget"], "budget", 0, open_low=True) if "budget" in data else None
    budget_year = (real(data["budget_year"], "budget_year", 0, open_low=True)
                   if "budget_year" in data else None)

    problem = SitingProblem(scenario=scenario, kind=kind, service=service,
                            years=(int(years[0]), int(years[1])), opening=opening,
                            objective=objective, capacities=caps, sites=sites, budget=budget,
                            budget_year=budget_year,
                            file=file, name=str(data.get("name", Path(file).stem
                                                         if file != "<dict>" else "siting")),
                            description=str(data.get("description", "")))
    problem.kinds = list(kind_list)
    if service in _PER_CHILD:
        problem.demand_per_child = float(loaded.parameters[_PER_CHILD[service]])
    if service == "clinic":
        problem.costs = dict(CLINIC_COSTS)
        problem.demand_per_child = clinic_visits_per_child_month(loaded.parameters)
        problem.visits_per_session = _clinic_visits_per_session(base_data, kind_list,
                                                                loaded.parameters)

    cand = data["candidates"]
    check_keys(cand, _CANDIDATE_KEYS, "candidates")
    for key in ("streets", "existing"):
        if key in cand:
            if not isinstance(cand[key], bool):
                fail(f"expected true or false, got {cand[key]!r}", f"candidates.{key}")
            setattr(problem, key, cand[key])
    if "grid" in cand:
        grid = cand["grid"]
        check_keys(grid, ("spacing_m",), "candidates.grid")
        if "spacing_m" not in grid:
            fail("missing required key 'spacing_m'", "candidates.grid")
        problem.grid_spacing_m = real(grid["spacing_m"], "candidates.grid.spacing_m", 100)
    if "csv" in cand:
        if not isinstance(cand["csv"], str):
            fail("expected the path of a CSV file", "candidates.csv")
        path = base / cand["csv"]
        if not path.is_file():
            fail(f"no such CSV file: '{path}'", "candidates.csv")
        problem.csv_candidates = _read_candidates_csv(path, loaded.streets)
    if not (problem.streets or problem.existing or problem.grid_spacing_m
            or problem.csv_candidates):
        fail("no candidate sites: set streets, grid, existing or csv", "candidates")

    if "costs" in data:
        check_keys(data["costs"], _COST_KEYS, "costs")
        for key, value in data["costs"].items():
            problem.costs[key] = real(value, f"costs.{key}", 0)
    if "constraints" in data:
        con = data["constraints"]
        check_keys(con, _CONSTRAINT_KEYS, "constraints")
        if "max_per_street" in con:
            problem.max_per_street = integer(con["max_per_street"], "constraints.max_per_street", 1)
        if "min_coverage" in con:
            problem.min_coverage = real(con["min_coverage"], "constraints.min_coverage", 0, 1)
            if objective == "p_median":
                fail("min_coverage applies to the covering and equity objectives",
                     "constraints.min_coverage")
        if "kind_mix" in con:
            mix = con["kind_mix"]
            if not isinstance(mix, dict) or not mix:
                fail("expected a map of kinds, each with min and/or max sites "
                     "(e.g. {nursery_class: {min: 1}})", "constraints.kind_mix")
            for name, bounds in mix.items():
                key = f"constraints.kind_mix.{name}"
                if name not in problem.kinds:
                    fail(f"{name!r} is not a kind of this problem{_close(name, problem.kinds)}"
                         f" (kind: {', '.join(problem.kinds)})", key)
                check_keys(bounds, ("min", "max"), key)
                least = integer(bounds["min"], f"{key}.min", 0) if "min" in bounds else None
                most = integer(bounds["max"], f"{key}.max", 0) if "max" in bounds else None
                if least is not None and most is not None and least > most:
                    fail(f"min {least} is above max {most}", key)
                problem.kind_mix[name] = (least, most)
    if "facility" in data:
        fac = data["facility"]
        check_keys(fac, _FACILITY_KEYS, "facility")
        if "price_month" in fac:
            problem.price_month = real(fac["price_month"], "facility.price_month", 0)
        if "quality" in fac:
            problem.quality = real(fac["quality"], "facility.quality", 0, 1)
    if "walk_minutes" in data:
        problem.walk_minutes = real(data["walk_minutes"], "walk_minutes", 0, 120, open_low=True)
    if "demand" in data:
        check_keys(data["demand"], _DEMAND_KEYS, "demand")
        if "replicates" in data["demand"]:
            problem.demand_replicates = integer(data["demand"]["replicates"],
                                                "demand.replicates", 1, 1000)
    if "evaluate" in data:
        ev = data["evaluate"]
        check_keys(ev, _EVALUATE_KEYS, "evaluate")
        if "plans" in ev:
            problem.plans = integer(ev["plans"], "evaluate.plans", 1, 50)
        if "replicates" in ev:
            problem.evaluate_replicates = integer(ev["replicates"], "evaluate.replicates", 2, 1000)
        if "greedy" in ev:
            if not isinstance(ev["greedy"], bool):
                fail(f"expected true or false, got {ev['greedy']!r}", "evaluate.greedy")
            problem.greedy = ev["greedy"]
        if "variants" in ev:
            if not isinstance(ev["variants"], list) or not ev["variants"]:
                fail("expected a list of scenario files (e.g. ../low-fertility.yaml)",
                     "evaluate.variants")
            for k, v in enumerate(ev["variants"]):
                key = f"evaluate.variants[{k}]"
                if not isinstance(v, str) or not (base / v).is_file():
                    fail(f"no such scenario file: {v!r}", key)
                try:
                    other, _ = _base_data_of(base / v)
                except (ScenarioError, FileNotFoundError) as error:
                    fail(f"the scenario is not valid: {error}", key)
                if int(other.start[:4]) > years[0] or int(other.end[:4]) < years[1]:
                    fail(f"its horizon {other.start} to {other.end} does not hold the plan "
                         f"years {years}", key)
                problem.variants.append(base / v)
    if "time_limit" in data:
        problem.time_limit = real(data["time_limit"], "time_limit", 0, open_low=True)
    return problem


def clinic_visits_per_child_month(parameters):
    """Paediatric visits a child makes a month: the parameters' yearly rates over ages 0-17.

    The rate of each single year of age (``clinic.visits_age0``, ``_age1_2``, ``_age3_5``,
    ``_age6_11``, ``_age12_17``), averaged with equal weight per year of age, / 12. It turns
    visits kept in the district into child-years of paediatric care (net child-years served
    by a clinic plan), an approximation: the district's children are not spread evenly over
    the ages.

    Examples
    --------
    >>> from childsim.siting import clinic_visits_per_child_month
    >>> p = {"clinic.visits_age0": 4.0, "clinic.visits_age1_2": 5.0, "clinic.visits_age3_5": 4.0,
    ...      "clinic.visits_age6_11": 2.5, "clinic.visits_age12_17": 1.2}
    >>> round(clinic_visits_per_child_month(p) * 12, 3)   # (4 + 2x5 + 3x4 + 6x2.5 + 6x1.2) / 18
    2.678
    """
    years = (("clinic.visits_age0", 1), ("clinic.visits_age1_2", 2), ("clinic.visits_age3_5", 3),
             ("clinic.visits_age6_11", 6), ("clinic.visits_age12_17", 6))
    return sum(float(parameters[name]) * n for name, n in years) / 18.0 / 12.0


def _clinic_visits_per_session(base_data, kinds, parameters):
    """Visits a doctor sees in a session, as the model counts them (sim/services/clinic.cpp):
    min(the facility's visits_per_session, 60 x clinic.session_hours / clinic.service_minutes),
    the latter where none is stated. By facility id; ``""`` for a new site: the median of the
    stated figures of the problem's kinds (a plan's new clinics are written with it)."""
    import yaml

    most = 60.0 * float(parameters["clinic.session_hours"]) / float(
        parameters["clinic.service_minutes"])
    with open(Path(base_data) / "facilities.yaml", encoding="utf-8") as handle:
        rows = yaml.safe_load(handle).get("facilities", [])
    out = {}
    for f in rows:
        stated = float(f.get("visits_per_session", 0) or 0)
        out[str(f["id"])] = min(stated, most) if stated > 0 else most
    stated = [float(f["visits_per_session"]) for f in rows
              if f.get("kind") in kinds and float(f.get("visits_per_session", 0) or 0) > 0]
    out[""] = min(float(np.median(stated)), most) if stated else most
    return out


def _read_candidates_csv(path, streets):
    """The planner's candidate sites; errors name the CSV file, its line and the column."""
    file = os.fspath(path)
    rows = []
    with open(file, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise ProblemError("empty CSV: expected a header with id, lat, lon", file=file,
                               line=1, column=1) from None
        for k, name in enumerate(header):
            if name not in _CSV_COLUMNS:
                raise ProblemError(f"unknown column{_close(name, _CSV_COLUMNS)}; expected "
                                   f"{', '.join(_CSV_COLUMNS)}", file=file, line=1,
                                   column=k + 1, key=name)
        for name in ("id", "lat", "lon"):
            if name not in header:
                raise ProblemError(f"missing required column '{name}'", file=file, line=1,
                                   column=1, key=name)
        seen = set()
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise ProblemError(f"expected {len(header)} columns, found {len(row)}",
                                   file=file, line=line, column=1)
            rec = dict(zip(header, (c.strip() for c in row)))

            def bad(column, message):
                raise ProblemError(message, file=file, line=line,
                                   column=header.index(column) + 1, key=column)

            def num(column, lo, hi=None):
                try:
                    value = float(rec[column])
                except ValueError:
                    bad(column, f"expected a number, got {rec[column]!r}")
                if not math.isfinite(value) or value < lo or (hi is not None and value > hi):
                    bad(column, f"expected a number in [{lo}, {hi if hi is not None else 'inf'}]"
                                f", got {rec[column]!r}")
                return value

            if not re.match(r"^[a-z0-9][a-z0-9_-]*$", rec["id"]):
                bad("id", f"expected an id of lower-case letters, digits, - and _, got "
                          f"{rec['id']!r}")
            if rec["id"] in seen:
                bad("id", f"duplicate id {rec['id']!r}")
            seen.add(rec["id"])
            site = {"id": rec["id"], "lat": num("lat", -90, 90), "lon": num("lon", -180, 180)}
            if rec.get("street"):
                if rec["street"] not in streets:
                    bad("street", f"unknown street {rec['street']!r}"
                                  f"{_close(rec['street'], streets)}")
                site["street"] = rec["street"]
            if rec.get("max_capacity"):
                site["max_capacity"] = num("max_capacity", 1)
            for column in ("capital_cost", "running_cost_year"):
                if rec.get(column):
                    site[column] = num(column, 0)
            if rec.get("earliest_start"):
                month = _month(rec["earliest_start"])
                if month is None:
                    bad("earliest_start", f"expected a month YYYY-MM, got "
                                          f"{rec['earliest_start']!r}")
                site["earliest_start"] = month
            rows.append(site)
    if not rows:
        raise ProblemError("no candidate rows", file=file, line=2, column=1)
    return rows


# --- demand from the simulation -------------------------------------------------------------

def _service_frames(ds, service, years):
    """Unmet and all demand by (replicate, time, street) within the years, for a service."""
    unmet_name, wanting_names = SERVICE_DEMAND[service]
    unmet_names = (unmet_name,) if isinstance(unmet_name, str) else tuple(unmet_name)
    missing = [v for v in (*unmet_names, *wanting_names) if v not in ds]
    if missing:
        raise ValueError(f"the run has no {', '.join(missing)}: cannot take {service} demand")
    in_years = (ds["time"].dt.year >= years[0]) & (ds["time"].dt.year <= years[1])
    unmet = ds[unmet_names[0]].sel(time=in_years).astype(float)
    for name in unmet_names[1:]:
        unmet = unmet - ds[name].sel(time=in_years).astype(float)
    wanting = sum(ds[v].sel(time=in_years).astype(float) for v in wanting_names)
    if service == "holiday":  # only months in session count
        session = wanting.sum(("street", "replicate")) > 0
        unmet, wanting = unmet.sel(time=session), wanting.sel(time=session)
    return unmet, wanting


def street_demand(ds, service, years):
    """Expected unmet and all demand by plan year and street, from an ensemble.

    Parameters
    ----------
    ds : xarray.Dataset
        A run of the base scenario (several replicates).
    service : {"nursery", "kindergarten", "holiday", "babyroom"}
        Whose demand: nursery ``nursery_unmet`` of ``nursery_wanting``; kindergarten
        ``kindergarten_unplaced`` of enrolled + unplaced; holiday ``holiday_unmet`` of
        ``holiday_seekers`` (session months only); baby rooms ``babyroom_sessions_demanded``
        - ``babyroom_sessions_served`` of ``babyroom_sessions_demanded`` (child-sessions a
        month, the baby_room kind's capacity unit).
    years : (int, int)
        First and last plan year.

    Returns
    -------
    pandas.DataFrame
        Index (``year``, ``street``); columns ``unmet`` and ``wanting`` (children: the mean
        over the year's months and the replicates) and ``unmet_sd`` (standard deviation of
        the yearly mean over replicates).

    Examples
    --------
    >>> import numpy as np, pandas as pd, xarray as xr
    >>> from childsim.siting import street_demand
    >>> t = pd.date_range("2026-01-01", periods=24, freq="MS")
    >>> u = xr.DataArray(np.ones((2, 24, 2)), dims=("replicate", "time", "street"),
    ...                  coords={"time": t, "street": ["a", "b"]})
    >>> ds = xr.Dataset({"nursery_unmet": u, "nursery_wanting": 4 * u})
    >>> street_demand(ds, "nursery", (2026, 2027)).loc[(2027, "b")].tolist()
    [1.0, 4.0, 0.0]
    """
    unmet, wanting = _service_frames(ds, service, years)
    year = unmet["time"].dt.year.rename("year")
    u = unmet.groupby(year).mean("time")
    w = wanting.groupby(year).mean("time")
    out = pd.DataFrame({
        "unmet": u.mean("replicate").to_series(),
        "wanting": w.mean("replicate").to_series(),
        "unmet_sd": (u.std("replicate", ddof=1) if u.sizes["replicate"] > 1
                     else xr.zeros_like(u.isel(replicate=0))).to_series(),
    })
    return out.reorder_levels(["year", "street"]).sort_index()


def street_table(ds):
    """Streets of a run: id, centre (x, y metres), disc radius (m), English name.

    Examples
    --------
    >>> import xarray as xr
    >>> from childsim.siting import street_table
    >>> ds = xr.Dataset({"street_x": ("street", [0.0]), "street_y": ("street", [0.0]),
    ...                  "street_area": ("street", [3.14159265])}, coords={"street": ["a"]})
    >>> round(float(street_table(ds).loc["a", "radius_m"]))
    1000
    """
    names = ds["street_name_en"].values if "street_name_en" in ds else ds["street"].values
    return pd.DataFrame({"x": ds["street_x"].values.astype(float),
                         "y": ds["street_y"].values.astype(float),
                         "radius_m": np.sqrt(ds["street_area"].values.astype(float) * 1e6 / math.pi),
                         "name": [str(n) for n in names]},
                        index=pd.Index([str(s) for s in ds["street"].values], name="street"))


def demand_points(streets, demand, *, rings=4, per_ring=8):
    """Spread each street's demand over its disc: ``rings`` x ``per_ring`` equal points.

    Homes are not an output; the model draws them uniformly in the disc of the street's
    area around its centre (sim/demography/population.cpp), and the points here are those
    the model itself uses for clinic distances (sim/services/clinic.cpp): rings at the radii
    that split the disc into equal areas, every other ring turned by half a step, each point
    standing for the same share of the street's children.

    Parameters
    ----------
    streets : pandas.DataFrame
        From :func:`street_table`.
    demand : pandas.DataFrame
        Index ``street``; columns ``unmet``, ``wanting``.

    Returns
    -------
    pandas.DataFrame
        One row per point: ``street``, ``x``, ``y``, ``unmet``, ``wanting``.

    Examples
    --------
    >>> import pandas as pd
    >>> from childsim.siting import demand_points
    >>> s = pd.DataFrame({"x": [0.0], "y": [0.0], "radius_m": [1000.0]},
    ...                  index=pd.Index(["a"], name="street"))
    >>> d = pd.DataFrame({"unmet": [32.0], "wanting": [64.0]}, index=pd.Index(["a"], name="street"))
    >>> p = demand_points(s, d)
    >>> len(p), p["unmet"].sum(), round(float((p.x**2 + p.y**2).max() ** 0.5))
    (32, 32.0, 935)
    """
    rows = []
    n = rings * per_ring
    for street, s in streets.iterrows():
        for i in range(rings):
            radius = s["radius_m"] * math.sqrt((i + 0.5) / rings)
            for k in range(per_ring):
                angle = 2 * math.pi * (k + 0.5 * (i % 2)) / per_ring
                rows.append({"street": street, "x": s["x"] + radius * math.cos(angle),
                             "y": s["y"] + radius * math.sin(angle),
                             "unmet": float(demand.loc[street, "unmet"]) / n,
                             "wanting": float(demand.loc[street, "wanting"]) / n})
    return pd.DataFrame(rows)


# --- candidates -------------------------------------------------------------------------------

def _reference(base_data):
    import yaml

    with open(Path(base_data) / "streets.yaml", encoding="utf-8") as handle:
        ref = yaml.safe_load(handle)["reference_point"]
    return float(ref["lat"]), float(ref["lon"])


def _to_local(lat, lon, ref):
    # as BaseData::to_local (sim/data/base_data.cpp)
    return ((lon - ref[1]) * 111320.0 * math.cos(math.radians(ref[0])),
            (lat - ref[0]) * 110574.0)


def _to_latlon(x, y, ref):
    return (ref[0] + y / 110574.0, ref[1] + x / (111320.0 * math.cos(math.radians(ref[0]))))


def _nearest_street(streets, x, y):
    d = np.hypot(streets["x"].to_numpy() - x, streets["y"].to_numpy() - y)
    return str(streets.index[int(np.argmin(d))])


def _months_to_end(start, last_year):
    return (last_year * 12 + 12) - (start[0] * 12 + start[1] - 1)


def candidate_options(problem, ds, ref):
    """The candidate options: every site with every capacity it may take, and its costs.

    Sites come from the problem's ``candidates``: street centres (``street-<id>``), grid
    points inside a street's disc (``grid-<row>-<col>``), open facilities of the kind
    (expansions, ``expand-<facility>``) and the CSV's rows (their ``id``). A site's public
    cost over the plan is the capital cost plus the running cost of each year (pro rata by
    month) from its opening to the end of the last plan year, undiscounted:
    ``capital_per_place x places + capital_cost`` and
    ``running_per_place_year x places + running_cost_year`` (the last two from the CSV).

    Returns
    -------
    pandas.DataFrame
        One row per option: ``site``, ``source``, ``facility`` (the expanded facility or
        empty), ``x``, ``y``, ``street``, ``kind`` (each kind of the problem for a new site;
        an expansion keeps its facility's), ``lat``, ``lon``, ``capacity``, ``start``
        (YYYY-MM), ``capital``, ``running_year``, ``cost``.
    """
    streets = street_table(ds)
    sites = []
    if problem.streets:
        for s, row in streets.iterrows():
            sites.append({"site": f"street-{s}", "source": "street", "facility": "",
                          "x": row["x"], "y": row["y"], "street": s})
    if problem.grid_spacing_m:
        h = problem.grid_spacing_m
        lo_x = (streets["x"] - streets["radius_m"]).min()
        hi_x = (streets["x"] + streets["radius_m"]).max()
        lo_y = (streets["y"] - streets["radius_m"]).min()
        hi_y = (streets["y"] + streets["radius_m"]).max()
        for r, y in enumerate(np.arange(lo_y, hi_y + 1e-9, h)):
            for c, x in enumerate(np.arange(lo_x, hi_x + 1e-9, h)):
                d = np.hypot(streets["x"] - x, streets["y"] - y)
                inside = d <= streets["radius_m"]
                if inside.any():
                    sites.append({"site": f"grid-{r:03d}-{c:03d}", "source": "grid",
                                  "facility": "", "x": float(x), "y": float(y),
                                  "street": str(d[inside].idxmin())})
    kinds_of_problem = problem.kinds or [problem.kind]
    if problem.existing:
        open_now = _open_facilities(ds, problem.opening)
        if problem.service == "clinic":
            # a CHC without a paediatric clinic (capacity 0) may open one (plan item 31)
            inside = np.isfinite(ds["facility_x"].values.astype(float))
            open_now = [int(f) for f in np.nonzero(inside)[0]]
        kinds = ds["facility_kind"].values
        for f in open_now:
            if str(kinds[f]) in kinds_of_problem:  # an expansion keeps the facility's kind
                fid = str(ds["facility"].values[f])
                sites.append({"site": f"expand-{fid}", "source": "existing", "facility": fid,
                              "kinds": [str(kinds[f])],
                              "x": float(ds["facility_x"].values[f]),
                              "y": float(ds["facility_y"].values[f]),
                              "street": str(ds["facility_street"].values[f])})
    for row in problem.csv_candidates:
        x, y = _to_local(row["lat"], row["lon"], ref)
        sites.append({"site": row["id"], "source": "csv", "facility": "", "x": x, "y": y,
                      "street": row.get("street") or _nearest_street(streets, x, y),
                      "csv": row})
    options = []
    for s in sites:
        row = s.pop("csv", {})
        start = max(problem.opening, row.get("earliest_start", problem.opening))
        months = _months_to_end(start, problem.years[1])
        if months <= 0:
            continue
        caps = problem.capacities
        if "max_capacity" in row:
            caps = [c for c in caps if c <= row["max_capacity"]] or [int(row["max_capacity"])]
        lat, lon = _to_latlon(s["x"], s["y"], ref)
        for kind in s.pop("kinds", kinds_of_problem):  # a new site may take any kind
            for cap in caps:
                capital = problem.costs["capital_per_place"] * cap + row.get("capital_cost", 0.0)
                running = (problem.costs["running_per_place_year"] * cap
                           + row.get("running_cost_year", 0.0))
                options.append({**s, "kind": kind, "lat": round(lat, 6), "lon": round(lon, 6),
                                "capacity": int(cap), "start": f"{start[0]:04d}-{start[1]:02d}",
                                "capital": capital, "running_year": running,
                                "cost": capital + running * months / 12.0})
    if not options:
        raise ProblemError("no candidate site can open within the plan years", file=problem.file,
                           key="candidates")
    table = pd.DataFrame(options)
    if problem.service == "clinic":
        # demand is in visits a month: an option serves sessions x visits a doctor sees in one
        per = problem.visits_per_session
        table["serves"] = [c * per.get(f, per.get("", 0.0)) for c, f
                           in zip(table["capacity"], table["facility"])]
    table.index.name = "option"
    return table


def _open_facilities(ds, month, service_kinds=None):
    """Indices of facilities with capacity > 0 in a month (the run's last month if later)."""
    cap = ds["facility_capacity"]
    times = pd.DatetimeIndex(cap["time"].values)
    target = pd.Timestamp(year=month[0], month=month[1], day=1)
    k = int(np.searchsorted(times, target, side="right") - 1)
    k = min(max(k, 0), len(times) - 1)
    return [int(f) for f in np.nonzero(cap.isel(time=k).values > 0)[0]]


def build_instance(problem, points, options, ds, parameters):
    """The solver's instance: demand points x options, walking distances, the threshold.

    Walking distance is the straight line x ``access.detour_factor``; the threshold is
    ``access.walk_speed_m_per_min`` x ``walk_minutes`` (the problem's, else
    ``access.walk_minutes``). For p-median, a point's current distance is that to the
    nearest facility of the same service open at the opening month.

    Examples
    --------
    See :func:`site`.
    """
    detour = float(parameters["access.detour_factor"])
    minutes = problem.walk_minutes or float(parameters["access.walk_minutes"])
    radius = float(parameters["access.walk_speed_m_per_min"]) * minutes
    streets = list(street_table(ds).index)
    px, py = points["x"].to_numpy(), points["y"].to_numpy()
    ox, oy = options["x"].to_numpy(), options["y"].to_numpy()
    distance = detour * np.hypot(px[:, None] - ox[None, :], py[:, None] - oy[None, :])
    from .targets import load_kinds
    from .sweeps import _base_data_of

    _, base_data = _base_data_of(problem.scenario)
    kinds = load_kinds(Path(base_data) / "facilities.yaml")
    same = [f for f in _open_facilities(ds, problem.opening)
            if kinds["service"].get(str(ds["facility_kind"].values[f])) == problem.service]
    same = [f for f in same if np.isfinite(float(ds["facility_x"].values[f]))]  # not outside
    if same:
        fx = ds["facility_x"].values[same].astype(float)
        fy = ds["facility_y"].values[same].astype(float)
        existing = detour * np.hypot(px[:, None] - fx[None, :], py[:, None] - fy[None, :]).min(1)
    else:
        existing = np.full(len(points), 3 * radius)
    street_index = {s: k for k, s in enumerate(streets)}
    by_street = points.groupby("street")[["unmet", "wanting"]].sum().reindex(streets).fillna(0)
    weight = points["wanting" if problem.objective == "p_median" else "unmet"].to_numpy()
    site_codes = pd.factorize(options["site"])[0]
    return _solvers.Instance(
        weight=weight, street=points["street"].map(street_index).to_numpy(),
        site=site_codes,
        capacity=options["serves" if "serves" in options else "capacity"].to_numpy(dtype=float),
        cost=options["cost"].to_numpy(dtype=float),
        option_street=options["street"].map(street_index).to_numpy(), distance=distance,
        radius=radius, existing=existing, unmet=by_street["unmet"].to_numpy(),
        wanting=by_street["wanting"].to_numpy(),
        running=options["running_year"].to_numpy(dtype=float),
        kind=_kind_codes(problem, options))


def _kind_codes(problem, options):
    """Each option's kind as its index in the problem's kinds (0 without a ``kind`` column)."""
    if "kind" not in options:
        return np.zeros(len(options), dtype=int)
    order = {k: i for i, k in enumerate(problem.kinds or [problem.kind])}
    return options["kind"].map(order).to_numpy(dtype=int)


# --- plans as scenarios -----------------------------------------------------------------------

def _kind_defaults(base_data, kind):
    """Median price and quality of the base data's facilities of a kind (0 and 0.5 if none)."""
    import yaml

    with open(Path(base_data) / "facilities.yaml", encoding="utf-8") as handle:
        rows = [f for f in yaml.safe_load(handle).get("facilities", []) if f.get("kind") == kind]
    price = float(np.median([float(f.get("price_month", 0)) for f in rows])) if rows else 0.0
    quality = float(np.median([float(f.get("quality", 0.5)) for f in rows])) if rows else 0.5
    return price, quality


def _per_kind(value, kind):
    return value[kind] if isinstance(value, dict) else value


def plan_scenario(problem, chosen, *, name, base_investments, extends, price_month, quality):
    """A plan as an ordinary what-if scenario (YAML text) extending the base scenario.

    ``base_investments`` are written first and the plan's sites follow (pass the base's list
    where ``extends`` replaces lists whole, an empty one where it adds to them; see
    :func:`write_plan`): ``open`` at the site's coordinates (and
    street) for new sites, ``add_capacity`` for expansions, each with its capital and running
    cost.

    Parameters
    ----------
    problem : SitingProblem
    chosen : pandas.DataFrame
        The chosen rows of :func:`candidate_options`.
    name : str
        The scenario's name.
    base_investments : list of dict
        The base scenario's resolved ``investments``.
    extends : str
        The base scenario's path as the plan file should name it.
    price_month, quality : float or dict
        Of the new facilities (a dict: by kind).

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> from childsim.siting import SitingProblem, plan_scenario
    >>> p = SitingProblem("b.yaml", "inclusive_nursery", "nursery", (2026, 2030), (2026, 1),
    ...                   "covering", [60], sites=1)
    >>> rows = pd.DataFrame([{"site": "street-xinjing", "source": "street", "facility": "",
    ...                       "lat": 31.2, "lon": 121.37, "street": "xinjing", "capacity": 60,
    ...                       "start": "2026-01", "capital": 600000.0, "running_year": 1560000.0}])
    >>> text = plan_scenario(p, rows, name="exact-1", base_investments=[], extends="b.yaml",
    ...                      price_month=2000, quality=0.6)
    >>> print(text.splitlines()[2])
    extends: b.yaml
    >>> "location: {lat: 31.2, lon: 121.37}" in text
    True
    """
    import yaml

    items = []
    unit = "sessions" if problem.service == "clinic" else "places"
    for row in chosen.itertuples(index=False):
        kind = getattr(row, "kind", problem.kind)
        common = {"start": row.start, "capital_cost": round(float(row.capital), 2),
                  "running_cost_year": round(float(row.running_year), 2)}
        if row.source == "existing":
            items.append({"name": f"siting {name}: +{row.capacity} at {row.facility}",
                          "action": "add_capacity", "facility": row.facility,
                          "amount": int(row.capacity), **common})
        else:
            extra = ({"visits_per_session": float(problem.visits_per_session[""])}
                     if problem.service == "clinic" and "" in problem.visits_per_session else {})
            items.append({"name": f"siting {name}: {row.capacity} {unit} at {row.site}",
                          "action": "open", "id": f"site-{row.site}", "kind": kind,
                          "street": row.street,
                          "location": {"lat": float(row.lat), "lon": float(row.lon)},
                          "capacity": int(row.capacity),
                          "price_month": float(_per_kind(price_month, kind)),
                          "quality": float(_per_kind(quality, kind)), **extra, **common})
    head = (f"# Siting plan '{name}' for {', '.join(problem.kinds or [problem.kind])} "
            f"({problem.objective}), written by "
            f"`childsim site` from {Path(problem.file).name}.\n"
            + ("# The base scenario's investments are repeated (lists replace whole), then the "
               "plan's sites.\n" if base_investments else
               "# The base scenario's investments are inherited; these are the plan's sites.\n"))
    body = {"extends": str(extends), "name": f"siting-{name}",
            "description": f"{problem.name}: plan {name}",
            "investments": list(base_investments) + items}

    class _Flow(yaml.SafeDumper):
        pass

    def _map(dumper, value):
        flow = set(value) == {"lat", "lon"}
        return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=flow)

    _Flow.add_representer(dict, _map)
    return head + yaml.dump(body, Dumper=_Flow, sort_keys=False, allow_unicode=True, width=100)


def write_plan(path, problem, chosen, *, name, base, extends, price_month, quality):
    """Write a plan's scenario so that it holds the base's investments and the plan's sites.

    How ``extends`` treats lists changed between versions of the scenario language: older
    versions replace a list whole (a what-if repeats the base's investments), newer ones
    inherit and add to it (repeating an inherited item is an error). The plan is first
    written with its own items only and loaded; if the base's investments are not in the
    result, it is written again with them repeated in front.

    Returns
    -------
    str
        The text written.
    """
    import yaml

    from ._scenario import load_scenario

    loaded = load_scenario(base)
    inherited = (yaml.safe_load(loaded.yaml) or {}).get("investments") or []
    text = plan_scenario(problem, chosen, name=name, base_investments=[], extends=extends,
                         price_month=price_month, quality=quality)
    Path(path).write_text(text, encoding="utf-8")
    resolved = (yaml.safe_load(load_scenario(path).yaml) or {}).get("investments") or []
    if inherited and len(resolved) < len(inherited) + len(chosen):
        text = plan_scenario(problem, chosen, name=name, base_investments=inherited,
                             extends=extends, price_month=price_month, quality=quality)
        Path(path).write_text(text, encoding="utf-8")
    return text


# --- proof by simulation ----------------------------------------------------------------------

def _interval(values, confidence=0.9):
    """Mean and a t-interval of the mean (NaN interval with one value)."""
    from scipy import stats

    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if values.size < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + confidence / 2, values.size - 1)
                 * values.std(ddof=1) / math.sqrt(values.size))
    return mean, mean - half, mean + half


def plan_effects(base, run, service, years, per_child=1.0):
    """Per replicate: net child-years served and the worst street's coverage, paired with the base.

    Net child-years served is the fall in unmet demand (for baby rooms, whose take-up grows
    with supply: the rise in demand served, all demand - unmet), summed over the streets and
    the plan years' months, divided by 12 (a child served for a year is one child-year) and by
    ``per_child`` where demand is not counted in children (baby rooms: the child-sessions a
    using family asks for a month, ``babyroom.sessions_per_month``). A street's coverage
    is 1 - unmet / all demand over the plan years; the worst is the lowest over the streets
    with demand.

    Returns
    -------
    pandas.DataFrame
        Index ``replicate``; columns ``net_child_years``, ``worst_coverage``,
        ``base_worst_coverage`` and ``worst_street`` (the plan's worst street).

    Examples
    --------
    >>> import numpy as np, pandas as pd, xarray as xr
    >>> from childsim.siting import plan_effects
    >>> t = pd.date_range("2026-01-01", periods=12, freq="MS")
    >>> def ds(u):
    ...     a = xr.DataArray(np.full((2, 12, 2), u, dtype=float), dims=("replicate", "time", "street"),
    ...                      coords={"time": t, "street": ["a", "b"]})
    ...     return xr.Dataset({"nursery_unmet": a, "nursery_wanting": 0 * a + 10})
    >>> plan_effects(ds(4), ds(1), "nursery", (2026, 2026)).loc[0].tolist()
    [6.0, 0.9, 0.6, 'a']

    Demand in child-sessions, 4 a child a month: 3 sessions less unmet each month in two
    streets for a year is 6 x 12 / 4 / 12 = 1.5 child-years.

    >>> plan_effects(ds(4), ds(1), "nursery", (2026, 2026), per_child=4).loc[0].tolist()[0]
    1.5

    Baby rooms: sessions asked for rise from 10 to 14 a month and street, served from 8 to
    13; served rises by 5 (unmet falls by only 1): 5 x 2 x 12 / 4 / 12 = 2.5 child-years.

    >>> def rooms(asked, served):
    ...     a = xr.DataArray(np.full((2, 12, 2), asked, dtype=float),
    ...                      dims=("replicate", "time", "street"),
    ...                      coords={"time": t, "street": ["a", "b"]})
    ...     return xr.Dataset({"babyroom_sessions_demanded": a,
    ...                        "babyroom_sessions_served": 0 * a + served})
    >>> plan_effects(rooms(10, 8), rooms(14, 13), "babyroom", (2026, 2026),
    ...              per_child=4).loc[0, "net_child_years"]
    2.5
    """
    bu, bw = _service_frames(base, service, years)
    pu, pw = _service_frames(run, service, years)
    if service in _NET_BY_SERVED:
        net = ((pw - pu) - (bw - bu)).sum(("time", "street")) / 12.0 / float(per_child)
    else:
        net = (bu - pu).sum(("time", "street")) / 12.0 / float(per_child)

    def coverage(u, w):
        tw = w.sum("time")
        return (1 - u.sum("time") / tw).where(tw > 0)

    plan_cov = coverage(pu, pw)
    worst_street = plan_cov.fillna(np.inf).argmin("street").values
    out = pd.DataFrame({"net_child_years": net.values,
                        "worst_coverage": plan_cov.min("street").values,
                        "base_worst_coverage": coverage(bu, bw).min("street").values,
                        "worst_street": [str(x) for x in
                                         np.asarray(plan_cov["street"].values)[worst_street]]},
                       index=pd.Index(np.asarray(base["replicate"].values), name="replicate"))
    if service == "clinic":
        # visits kept in the district over the plan years, and the mean wait for a doctor
        out["net_visits"] = (bu - pu).sum(("time", "street")).values
        out["wait_minutes"] = clinic_mean_wait(run, years).values
        out["base_wait_minutes"] = clinic_mean_wait(base, years).values
    return out


def clinic_mean_wait(ds, years):
    """Per replicate: the mean wait for a doctor (minutes) of the visits served in the district.

    ``clinic_wait_minutes`` of each clinic and month (NaN when closed or outside the
    district), weighted by the visits it served (``clinic_visits``), over the plan years.

    Examples
    --------
    >>> import numpy as np, pandas as pd, xarray as xr
    >>> from childsim.siting import clinic_mean_wait
    >>> t = pd.date_range("2026-01-01", periods=2, freq="MS")
    >>> dims = ("replicate", "time", "facility")
    >>> ds = xr.Dataset({"clinic_wait_minutes": (dims, [[[10.0, np.nan], [30.0, np.nan]]]),
    ...                  "clinic_visits": (dims, [[[100, 50], [300, 50]]])}, coords={"time": t})
    >>> clinic_mean_wait(ds, (2026, 2026)).values.tolist()   # (10 x 100 + 30 x 300) / 400
    [25.0]
    """
    in_years = (ds["time"].dt.year >= years[0]) & (ds["time"].dt.year <= years[1])
    wait = ds["clinic_wait_minutes"].sel(time=in_years).astype(float)
    visits = ds["clinic_visits"].sel(time=in_years).astype(float).where(np.isfinite(wait), 0.0)
    return (wait.fillna(0.0) * visits).sum(("time", "facility")) / visits.sum(("time", "facility"))


def _pareto(table):
    """True for plans no other plan beats on cost (lower), net served and worst coverage."""
    c = table["public_cost_yuan"].to_numpy()
    n = table["net_child_years"].to_numpy()
    w = table["worst_coverage"].to_numpy()
    out = []
    for i in range(len(table)):
        dominated = any(c[j] <= c[i] and n[j] >= n[i] and w[j] >= w[i]
                        and (c[j] < c[i] or n[j] > n[i] or w[j] > w[i])
                        for j in range(len(table)) if j != i)
        out.append(not dominated)
    return out


def evaluate_plans(problem, scenarios, plans, *, threads=None, runs_dir=None, runner=None):
    """Run the base and every plan as ensembles with common random numbers; the Pareto table.

    Parameters
    ----------
    problem : SitingProblem
    scenarios : dict
        Plan name -> scenario file.
    plans : pandas.DataFrame
        Index ``plan``; at least ``public_cost_yuan``.
    threads : int, optional
    runs_dir : path, optional
        Where to write each run (``base.h5``, ``<plan>.h5``) for ``childsim compare``.
    runner : callable, optional
        Makes a run, as :func:`childsim.run` (``childsim-mpi site`` passes one that takes
        runs made on other MPI ranks).

    Returns
    -------
    (pandas.DataFrame, dict)
        The table (one row per plan: the columns of ``plans`` plus the means and 90 %
        intervals of ``net_child_years`` and ``worst_coverage``, ``cost_per_child_year``,
        ``pareto``) and the per-replicate effects of each plan.
    """
    from ._io import write
    from ._run import run as _run_here
    from ._scenario import load_scenario

    run = runner or _run_here
    seed = load_scenario(problem.scenario).seed
    reps = problem.evaluate_replicates
    base = run(problem.scenario, replicates=reps, seed=seed, threads=threads)
    if runs_dir is not None:
        write(base, Path(runs_dir) / "base.h5")
    rows, effects = [], {}
    for plan, path in scenarios.items():
        ds = run(path, replicates=reps, seed=seed, threads=threads)
        if runs_dir is not None:
            write(ds, Path(runs_dir) / f"{plan}.h5")
        eff = plan_effects(base, ds, problem.service, problem.years, problem.demand_per_child)
        effects[plan] = eff
        net = _interval(eff["net_child_years"])
        worst = _interval(eff["worst_coverage"])
        rows.append({"plan": plan, "net_child_years": net[0], "net_child_years_lo": net[1],
                     "net_child_years_hi": net[2], "worst_coverage": worst[0],
                     "worst_coverage_lo": worst[1], "worst_coverage_hi": worst[2],
                     "base_worst_coverage": float(eff["base_worst_coverage"].mean()),
                     # the street most often worst over the replicates (ties: first in order)
                     "worst_street": eff["worst_street"].value_counts(sort=False).idxmax(),
                     **_clinic_columns(eff)})
    table = plans.join(pd.DataFrame(rows).set_index("plan"))
    with np.errstate(divide="ignore", invalid="ignore"):
        table["cost_per_child_year"] = np.where(table["net_child_years"] > 0,
                                                table["public_cost_yuan"] / table["net_child_years"],
                                                np.nan)
    table["pareto"] = _pareto(table)
    return table, effects


def _proof_jobs(problem, scenarios, found, options, plan_dir, price, quality):
    """Every run of the proof, ``(scenario path, replicates, seed)``, in the order
    :func:`evaluate_plans` and :func:`_evaluate_variants` make them (``childsim-mpi site``
    deals them to the ranks). Writes the plans' files on the variants first, as
    :func:`_evaluate_variants` does, so that every rank finds them."""
    from ._scenario import load_scenario

    reps = problem.evaluate_replicates
    seed = load_scenario(problem.scenario).seed
    jobs = [(problem.scenario, reps, seed)] + [(path, reps, seed) for path in scenarios.values()]
    for variant in problem.variants:
        loaded = load_scenario(variant)
        stem = Path(variant).stem
        jobs.append((variant, reps, loaded.seed))
        extends = os.path.relpath(Path(variant).resolve(), Path(plan_dir).resolve())
        for name, plan in found:
            if name not in scenarios:
                continue
            path = Path(plan_dir) / f"{name}@{stem}.yaml"
            write_plan(path, problem, options.iloc[list(plan.options)], name=f"{name}@{stem}",
                       base=variant, extends=extends, price_month=price, quality=quality)
            jobs.append((path, reps, loaded.seed))
    return jobs


def _clinic_columns(eff):
    """Clinic plans: visits kept in the district and the change in the mean wait (plan - base),
    means and 90 % intervals of the paired replicates (nothing for other services)."""
    if "net_visits" not in eff:
        return {}
    visits = _interval(eff["net_visits"])
    change = _interval(eff["wait_minutes"] - eff["base_wait_minutes"])
    return {"net_visits": visits[0], "net_visits_lo": visits[1], "net_visits_hi": visits[2],
            "wait_minutes": float(eff["wait_minutes"].mean()),
            "base_wait_minutes": float(eff["base_wait_minutes"].mean()),
            "wait_change_minutes": change[0], "wait_change_minutes_lo": change[1],
            "wait_change_minutes_hi": change[2]}


def _evaluate_variants(problem, plans, unique, options, plan_dir, price, quality, threads, say,
                       runner=None):
    """Net child-years of every plan on top of each variant scenario, and each plan's regret.

    A plan's regret in a scenario is the best plan's net child-years there minus its own;
    ``max_regret`` is the largest over the base and the variants (minimax regret picks the
    plan that is never far from the best, whichever future comes).
    """
    from ._run import run as _run_here
    from ._scenario import load_scenario

    run = runner or _run_here
    nets = {"base": plans["net_child_years"]}
    for variant in problem.variants:
        loaded = load_scenario(variant)
        stem = Path(variant).stem
        say(f"variant {stem}: base and {len(unique)} plan(s) x {problem.evaluate_replicates} "
            f"replicates")
        reps = problem.evaluate_replicates
        base = run(variant, replicates=reps, seed=loaded.seed, threads=threads)
        extends = os.path.relpath(Path(variant).resolve(), Path(plan_dir).resolve())
        net = {}
        for name, chosen in unique.items():
            path = Path(plan_dir) / f"{name}@{stem}.yaml"
            write_plan(path, problem, options.iloc[list(chosen)], name=f"{name}@{stem}",
                       base=variant, extends=extends, price_month=price, quality=quality)
            ds = run(path, replicates=reps, seed=loaded.seed, threads=threads)
            net[name] = float(plan_effects(base, ds, problem.service, problem.years,
                                           problem.demand_per_child)
                              ["net_child_years"].mean())
        series = pd.Series({n: net[plans.loc[n, "same_as"] or n] for n in plans.index})
        plans[f"net_child_years_{stem}"] = series
        nets[stem] = series
    regret = pd.DataFrame({k: v.max() - v for k, v in nets.items()})
    for k in regret:
        plans[f"regret_{k}"] = regret[k]
    plans["max_regret"] = regret.max(axis=1)
    return plans


# --- the whole pipeline -----------------------------------------------------------------------

@dataclass
class SitingResult:
    """What :func:`site` returns.

    Attributes
    ----------
    problem : SitingProblem
    demand : pandas.DataFrame
        Expected unmet and all demand by (year, street), from the demand ensemble.
    candidates : pandas.DataFrame
        Every option (site x capacity) with its costs (:func:`candidate_options`).
    plans : pandas.DataFrame
        One row per plan (``exact-1`` ... and ``greedy``): method, screening value, gap,
        sites, public cost; after simulation also the Pareto table's columns
        (:func:`evaluate_plans`).
    scenarios : dict
        Plan name -> the what-if scenario (YAML text) written for it as
        ``plans/<plan>.yaml`` (plans found twice are written once).
    effects : dict
        Plan name -> per-replicate effects (:func:`plan_effects`); empty without simulation.
    """

    problem: SitingProblem
    demand: pd.DataFrame
    candidates: pd.DataFrame
    plans: pd.DataFrame
    scenarios: dict
    effects: dict = field(default_factory=dict)


def _solve(problem, inst, say=lambda text: None):
    order = {k: i for i, k in enumerate(problem.kinds or [problem.kind])}
    constraints = {"sites": problem.sites, "budget": problem.budget,
                   "budget_year": problem.budget_year, "max_per_street": problem.max_per_street,
                   "kind_mix": {order[k]: v for k, v in problem.kind_mix.items()} or None}
    least = any(low for low, _ in problem.kind_mix.values())
    # The greedy's plan starts the exact solver (it is feasible unless min_coverage binds,
    # which the greedy does not enforce): if the solver stops at time_limit with nothing
    # better, exact-1 is that plan with the gap to the solver's bound.
    greedy = (None if problem.min_coverage or least
              else _solvers.solve_greedy(inst, problem.objective, **constraints))
    try:
        exact = _solvers.top_plans(inst, problem.objective, problem.plans, start=greedy,
                                   min_coverage=problem.min_coverage,
                                   time_limit=problem.time_limit, **constraints)
    except _solvers.SolverTimeout as error:
        if problem.min_coverage or least:  # the greedy does not enforce them
            raise
        say(f"warning: {error}; going on with the greedy's plan")
        exact = []
    for plan in exact:
        if plan.extra.get("source") == "start":
            say(f"the exact solver reached time_limit = {problem.time_limit:g} s with no plan "
                f"better than the greedy's; its gap to the proven bound: {plan.gap:.2%}")
    found = [(f"exact-{k + 1}", p) for k, p in enumerate(exact)]
    if problem.greedy or not found:
        if greedy is None:
            greedy = _solvers.solve_greedy(inst, problem.objective, **constraints)
        bound = exact[0].bound if exact else float("nan")
        if math.isfinite(bound) and not problem.min_coverage and not least:
            # the exact solver's bound on the optimum bounds the greedy's gap too
            if problem.objective == "p_median":
                gap = (greedy.value - bound) / greedy.value if greedy.value > 0 else 0.0
            else:
                gap = (bound - greedy.value) / bound if bound > 0 else 0.0
            if not gap >= greedy.gap:  # also when the greedy's own gap is NaN
                greedy.gap, greedy.bound = max(gap, 0.0), bound
        found.append(("greedy", greedy))
    return found


def _plans_table(found, options):
    rows = []
    for name, plan in found:
        chosen = options.iloc[list(plan.options)]
        same = next((other for other, p in found if other != name and p.options == plan.options
                     and other < name), "")
        rows.append({"plan": name, "method": plan.method, "objective_value": plan.value,
                     "gap": plan.gap, "bound": plan.bound, "same_as": same,
                     "sites": ";".join(f"{s}:{c}" for s, c in zip(chosen["site"],
                                                                  chosen["capacity"])),
                     "streets": ";".join(chosen["street"]),
                     "kinds": ";".join(chosen["kind"]) if "kind" in chosen else "",
                     "places": int(chosen["capacity"].sum()),
                     "capital_yuan": float(chosen["capital"].sum()),
                     "running_yuan_year": float(chosen["running_year"].sum()),
                     "public_cost_yuan": float(chosen["cost"].sum())})
    return pd.DataFrame(rows).set_index("plan")


def site(problem, output=None, *, threads=None, simulate=True, base_dir=None, progress=None,
         comm=None):
    """Solve a siting problem on simulated demand and prove its best plans by simulation.

    Parameters
    ----------
    problem : str, os.PathLike, Mapping or SitingProblem
        The problem file (docs/siting.md), a dict of the same, or :func:`read_problem`'s
        result.
    output : str or os.PathLike, optional
        A directory (created if missing; its parent must exist) for ``plans/<plan>.yaml``,
        ``runs/*.h5``, ``demand.csv``, ``candidates.csv``, ``plans.csv``, ``map.png`` and
        ``report.md``. Without it, the plan scenarios go to a temporary directory.
    threads : int, optional
        OpenMP threads per run (results do not depend on it).
    simulate : bool, default True
        Run the base and the plans as ensembles (the proof); False stops after the solvers.
    base_dir : str or os.PathLike, optional
        For a dict problem, where its paths resolve.
    progress : callable, optional
        Called with one line of text at each stage.
    comm : mpi4py.MPI.Comm, optional
        Spread the proof's runs over the ranks of this communicator (``childsim-mpi site``;
        every rank calls :func:`site` with the same arguments): rank 0 does everything else
        and writes every file, byte-identical to one process (:mod:`childsim._mpi_site`).

    Returns
    -------
    SitingResult
        With ``comm``: on rank 0; the other ranks return their exit code (0 or 1).

    Raises
    ------
    ProblemError
        If the problem file is not valid (nothing is written).
    childsim.siting_solvers.InfeasibleError
        If no plan meets the constraints (nothing is written).

    Examples
    --------
    The best street for 60 inclusive nursery places, screened on a tiny ensemble (no proof
    run):

    >>> import childsim, tempfile, pathlib
    >>> root = childsim.find_root()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     tmp = pathlib.Path(tmp)
    ...     _ = (tmp / "quick.yaml").write_text(
    ...         f"extends: {root / 'scenarios' / 'baseline.yaml'}\\nend: 2026-12\\n")
    ...     r = childsim.site({"scenario": "quick.yaml", "kind": "inclusive_nursery",
    ...                        "years": [2026, 2026], "candidates": {"streets": True},
    ...                        "capacities": [60], "sites": 1, "objective": "covering",
    ...                        "demand": {"replicates": 2}, "evaluate": {"plans": 2}},
    ...                       base_dir=tmp, simulate=False, threads=1)
    >>> list(r.plans.index), r.plans.loc["exact-1", "places"], r.plans.loc["exact-1", "gap"]
    (['exact-1', 'exact-2', 'greedy'], 60, 0.0)
    >>> bool(r.plans.loc["greedy", "objective_value"] <= r.plans.loc["exact-1", "objective_value"])
    True
    """
    if comm is not None:
        from . import _mpi_site

        if comm.Get_rank() != 0:
            return _mpi_site.serve(comm)
        shared = []  # whether the ranks were sent the runs (else they are released at the end)
        try:
            return _site(problem, output, threads=threads, simulate=simulate,
                         base_dir=base_dir, progress=progress, comm=comm, shared=shared)
        except BaseException as error:
            if shared:  # other ranks may be waiting to hand over runs: stop the job
                sys.stderr.write(f"error (rank 0): {error}\n")
                sys.stderr.flush()
                comm.Abort(1)
            raise
        finally:
            if not shared:
                _mpi_site.release(comm)
    return _site(problem, output, threads=threads, simulate=simulate, base_dir=base_dir,
                 progress=progress)


def _site(problem, output, *, threads, simulate, base_dir, progress, comm=None, shared=None):
    import tempfile

    from ._run import run
    from .sweeps import _base_data_of

    say = progress or (lambda text: None)
    if not isinstance(problem, SitingProblem):
        problem = read_problem(problem, base_dir=base_dir)
    out = Path(output) if output is not None else None
    if out is not None:
        if out.exists() and not out.is_dir():
            raise ProblemError(f"output path '{out}' is not a directory", file=problem.file)
        if not out.parent.is_dir():
            raise ProblemError(f"output directory '{out.parent}' does not exist",
                               file=problem.file)
    loaded, base_data = _base_data_of(problem.scenario)
    ref = _reference(base_data)

    # 1. demand: an ensemble with the seed after the base's, so that the plans are not
    # chosen on the very noise they are then evaluated on (the evaluation uses the base seed)
    say(f"demand: {problem.demand_replicates} replicate(s) of {loaded.name}")
    ds = run(problem.scenario, replicates=problem.demand_replicates,
             seed=(loaded.seed + 1) % (2**63 - 1), threads=threads)
    demand = street_demand(ds, problem.service, problem.years)
    mean_demand = demand.groupby("street", sort=False).mean().reindex(
        [str(s) for s in ds["street"].values])
    streets = street_table(ds)
    points = demand_points(streets, mean_demand)

    # 2. candidates and the solvers
    options = candidate_options(problem, ds, ref)
    inst = build_instance(problem, points, options, ds, loaded.parameters)
    say(f"screening: {len(options)} options at {options['site'].nunique()} sites x "
        f"{len(points)} demand points ({problem.objective})")
    found = _solve(problem, inst, say)
    plans = _plans_table(found, options)

    # 3. the plans as scenarios
    price, quality = {}, {}
    for kind in problem.kinds or [problem.kind]:  # the median of each kind's facilities
        price[kind], quality[kind] = _kind_defaults(base_data, kind)
        if problem.price_month is not None:
            price[kind] = problem.price_month
        if problem.quality is not None:
            quality[kind] = problem.quality

    holder = None
    if out is None:
        holder = tempfile.TemporaryDirectory()
        plan_dir = Path(holder.name)
    else:
        out.mkdir(exist_ok=True)
        plan_dir = out / "plans"
        plan_dir.mkdir(exist_ok=True)
    scenarios, texts = {}, {}
    try:
        for name, plan in found:
            if plans.loc[name, "same_as"]:
                continue
            path = plan_dir / f"{name}.yaml"
            extends = os.path.relpath(Path(problem.scenario).resolve(), plan_dir.resolve())
            texts[name] = write_plan(path, problem, options.iloc[list(plan.options)],
                                     name=name, base=problem.scenario, extends=extends,
                                     price_month=price, quality=quality)
            scenarios[name] = path
        effects = {}
        if simulate:
            say(f"simulation: base and {len(scenarios)} plan(s) x "
                f"{problem.evaluate_replicates} replicates, common random numbers")
            runs_dir = None
            if out is not None:
                runs_dir = out / "runs"
                runs_dir.mkdir(exist_ok=True)
            unique = plans.loc[list(scenarios)]
            runner = None
            if comm is not None:  # childsim-mpi site: the runs are dealt to the ranks
                from . import _mpi_site

                jobs = _proof_jobs(problem, scenarios, found, options, plan_dir, price, quality)
                say(f"{len(jobs)} runs over {comm.Get_size()} MPI rank(s)")
                runner = _mpi_site.share(comm, jobs, threads)
                shared.append(True)
            table, effects = evaluate_plans(problem, scenarios, unique, threads=threads,
                                            runs_dir=runs_dir, runner=runner)
            for name in plans.index:  # a plan found twice is simulated once
                same = plans.loc[name, "same_as"]
                if same:
                    row = table.loc[same].copy()
                    row[plans.columns] = plans.loc[name]
                    table.loc[name] = row
                    effects[name] = effects[same]
            plans = table.reindex(plans.index)
            plans["pareto"] = _pareto(plans)
            if problem.variants:
                unique = {name: plan.options for name, plan in found if name in scenarios}
                plans = _evaluate_variants(problem, plans, unique, options, plan_dir,
                                           price, quality, threads, say, runner=runner)
        result = SitingResult(problem=problem, demand=demand, candidates=options, plans=plans,
                              scenarios=texts, effects=effects)
        if out is not None:
            _write_outputs(result, out, streets, mean_demand)
    finally:
        if holder is not None:
            holder.cleanup()
    return result


# --- writing ----------------------------------------------------------------------------------

_FLOAT = "%.10g"


def _markdown(table, floats=None):
    """A DataFrame as a Markdown table (index included)."""
    floats = floats or {}
    cols = [table.index.name or ""] + [str(c) for c in table.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for idx, row in table.iterrows():
        cells = [str(idx)]
        for c in table.columns:
            v = row[c]
            if isinstance(v, (float, np.floating)):
                cells.append("" if math.isnan(v) else format(v, floats.get(c, ",.1f")))
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def map_figure(result, streets, mean_demand):
    """The chosen sites of each plan over the streets' expected unmet demand (a Figure)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle

    fig, ax = plt.subplots(figsize=(7, 6), dpi=100)
    unmet = mean_demand["unmet"].reindex(streets.index).fillna(0).to_numpy()
    top = max(float(unmet.max()), 1e-9)
    cmap = plt.get_cmap("Reds")
    for (street, s), u in zip(streets.iterrows(), unmet):
        ax.add_patch(Circle((s["x"], s["y"]), s["radius_m"], facecolor=cmap(0.15 + 0.75 * u / top),
                            edgecolor="grey", alpha=0.5))
        ax.annotate(f"{street}\n{u:.1f}", (s["x"], s["y"]), ha="center", va="center", fontsize=7)
    cand = result.candidates.drop_duplicates("site")
    ax.scatter(cand["x"], cand["y"], s=6, color="black", alpha=0.4, label="candidate sites")
    markers = "o^sDvP*Xh<>"
    for k, (plan, row) in enumerate(result.plans.iterrows()):
        if row["same_as"]:
            continue
        ids = [part.rpartition(":")[0] for part in str(row["sites"]).split(";") if part]
        chosen = cand[cand["site"].isin(ids)]
        ax.scatter(chosen["x"], chosen["y"], s=90, marker=markers[k % len(markers)],
                   facecolor="none", edgecolor=f"C{k}", linewidth=2, label=plan)
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_xlabel("metres east of the district reference point")
    ax.set_ylabel("metres north")
    ax.set_title(f"Chosen sites over expected unmet {result.problem.service} demand "
                 f"({_DEMAND_UNIT.get(result.problem.service, 'children')}, "
                 f"{result.problem.years[0]}-{result.problem.years[1]})", fontsize=9)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def _write_map(result, out, streets, mean_demand):
    import matplotlib.pyplot as plt

    fig = map_figure(result, streets, mean_demand)
    fig.savefig(out / "map.png", metadata={"Software": None})
    plt.close(fig)


def _mix_words(p):
    """', kind mix: at least 1 nursery_class, at most 2 inclusive_nursery' (or '')."""
    words = []
    for kind, (least, most) in p.kind_mix.items():
        if least is not None:
            words.append(f"at least {least} {kind}")
        if most is not None:
            words.append(f"at most {most} {kind}")
    return f", kind mix: {', '.join(words)}" if words else ""


def _write_outputs(result, out, streets, mean_demand):
    p = result.problem
    result.demand.to_csv(out / "demand.csv", float_format=_FLOAT)
    result.candidates.to_csv(out / "candidates.csv", float_format=_FLOAT)
    result.plans.to_csv(out / "plans.csv", float_format=_FLOAT)
    _write_map(result, out, streets, mean_demand)
    from .siting_report import problem_summary, siting_page

    (out / "problem.json").write_text(
        json.dumps(problem_summary(p), indent=1, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8")

    (out / "report.html").write_text(siting_page(result, streets, mean_demand),
                                     encoding="utf-8")
    limit = (f"at most {p.sites} site(s)" if p.sites is not None
             else f"a budget of {p.budget:,.0f} yuan (capital + running, {p.years[0]}-{p.years[1]})")
    if p.budget_year is not None:
        limit += f" and running costs of at most {p.budget_year:,.0f} yuan a year"
    lines = [
        f"# Siting: {p.name}", "",
        f"Problem `{p.file}`: place `{'`, `'.join(p.kinds or [p.kind])}` ({p.service}) with "
        f"{limit}{_mix_words(p)}, objective "
        f"**{p.objective}**, capacities {p.capacities}, plan years {p.years[0]}-{p.years[1]}, "
        f"new sites open from {p.opening[0]:04d}-{p.opening[1]:02d}. Base scenario "
        f"`{p.scenario}`.", "",
        "## Demand the sites should serve", "",
        f"Expected unmet demand and all demand ({_DEMAND_UNIT.get(p.service, 'children')}, "
        f"mean over the plan years' months and "
        f"{p.demand_replicates} replicate(s) of the base scenario run with its seed + 1), by "
        f"street; homes are spread over each street's disc as the model draws them.", "",
        _markdown(mean_demand[["unmet", "wanting"]]), "",
        "## Plans", "",
        f"{len(result.candidates)} options at {result.candidates['site'].nunique()} candidate "
        f"sites. `objective_value` is the screening model's (covering: children served within "
        f"the walk; p-median: children x metres; equity: worst street's coverage); `gap` is "
        f"the optimality gap HiGHS proved; for the greedy, the gap to the exact solver's bound "
        f"(or, for covering under a number of sites, to min(all unmet demand, the largest "
        f"capacities) if tighter).", "",
        _markdown(result.plans[["method", "sites"]
                               + (["kinds"] if len(p.kinds or [p.kind]) > 1 else [])
                               + ["places", "public_cost_yuan", "objective_value", "gap"]],
                  {"objective_value": ",.3f", "gap": ".2g", "public_cost_yuan": ",.0f"}), "",
        "Map: [map.png](map.png). Scenario files: `plans/<plan>.yaml` (run them with "
        "`childsim run`; compare with `childsim compare runs/base.h5 runs/<plan>.h5`).", "",
    ]
    if "net_child_years" in result.plans:
        table = result.plans[["public_cost_yuan", "net_child_years", "net_child_years_lo",
                               "net_child_years_hi", "worst_coverage", "worst_coverage_lo",
                               "worst_coverage_hi", "worst_street", "cost_per_child_year",
                               "pareto"]]
        lines += [
            "## Proof by simulation", "",
            f"The base and each plan, {p.evaluate_replicates} replicates each with the base's "
            f"seed (common random numbers: differences are paired replicate by replicate). "
            f"Net child-years served: the fall in unmet demand over the plan years (children "
            f"x years), with the 90 % t-interval of the paired mean (`_lo`, `_hi`). Worst "
            f"coverage: the lowest street share of demand met over the plan years (base: "
            f"{float(result.plans['base_worst_coverage'].iloc[0]):.3f}). `pareto`: no other plan "
            f"is cheaper, serves more and leaves the worst street better at once (on the means).",
            "",
            _markdown(table, {"public_cost_yuan": ",.0f", "cost_per_child_year": ",.0f",
                              "worst_coverage": ".3f", "worst_coverage_lo": ".3f",
                              "worst_coverage_hi": ".3f"}), "",
            *(["Across the fertility (or other) variants, net child-years served by each plan "
               "and its regret (the best plan's net child-years in that scenario minus its "
               "own; `max_regret` the largest):", "",
               _markdown(result.plans[[c for c in result.plans.columns
                                       if c.startswith(("net_child_years_", "regret_"))
                                       and not c.endswith(("_lo", "_hi"))] + ["max_regret"]]),
               ""] if "max_regret" in result.plans else []),
            *(["Paediatric clinics: visits kept in the district over the plan years (the fall "
               "in visits ending at a clinic outside it; net child-years above are these / "
               f"{p.demand_per_child * 12:.3f}, the visits a child makes a year) and the mean "
               "wait for a doctor of the visits served in the district (minutes; change = plan "
               "- base, 90 % intervals of the paired replicates):", "",
               _markdown(result.plans[["net_visits", "net_visits_lo", "net_visits_hi",
                                       "base_wait_minutes", "wait_minutes",
                                       "wait_change_minutes", "wait_change_minutes_lo",
                                       "wait_change_minutes_hi"]],
                         {c: ",.1f" for c in ("net_visits", "net_visits_lo", "net_visits_hi")}
                         | {c: ".2f" for c in ("base_wait_minutes", "wait_minutes",
                                               "wait_change_minutes", "wait_change_minutes_lo",
                                               "wait_change_minutes_hi")}), ""]
              if "net_visits" in result.plans else []),
            "Costs are the problem's per-place assumptions (docs/siting.md), undiscounted. "
            "Intervals reflect Monte Carlo error only, not parameter uncertainty.", ""]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")


# --- the command line -------------------------------------------------------------------------

def main(argv=None, *, comm=None):
    """``childsim site PROBLEM.yaml -o DIR``: the command line (see docs/siting.md).

    With ``comm`` (``childsim-mpi site``, :mod:`childsim._mpi_site`) the proof's runs are
    spread over its ranks and only rank 0 prints, errors included.
    """
    import argparse

    rank = comm.Get_rank() if comm is not None else 0
    parser = argparse.ArgumentParser(
        prog="childsim site" if comm is None else "childsim-mpi site",
        description="Choose sites for new facilities on the demand an ensemble of the base "
                    "scenario projects (exact integer programme and lazy greedy), write the "
                    "best plans as what-if scenarios and prove them by simulation against "
                    "the base (common random numbers).")
    parser.add_argument("problem", help="the siting problem file (YAML; docs/siting.md)")
    parser.add_argument("-o", "--output", required=True, help="the directory to write")
    parser.add_argument("--threads", type=int, help="OpenMP threads per run")
    parser.add_argument("--no-simulate", action="store_true",
                        help="stop after the solvers (write plans, no proof runs)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    try:
        args = parse_on_every_rank(parser, argv, rank)
    except SystemExit as stop:  # --help, or bad arguments: every rank stops alike
        return stop.code
    if rank != 0:  # the proof's runs rank 0 deals out (none if it stops first)
        return site(None, args.output, threads=args.threads, comm=comm)

    def progress(text):
        if not args.quiet:
            print(text, flush=True)

    try:
        result = site(args.problem, args.output, threads=args.threads,
                      simulate=not args.no_simulate, progress=progress, comm=comm)
    except (ProblemError, ScenarioError) as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    except _solvers.InfeasibleError as error:
        sys.stderr.write(f"error: {args.problem}: {error}\n")
        return 2
    except (ValueError, OSError, ImportError, RuntimeError) as error:
        sys.stderr.write(f"error: {error}\n")
        return 1
    best = result.plans.iloc[0]
    print(f"Wrote {args.output}: {len(result.plans)} plan(s); best: {best['sites']} "
          f"(cost {best['public_cost_yuan']:,.0f} yuan)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
