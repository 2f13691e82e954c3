#!/usr/bin/python3
"""check_data: validate a place's base data (streets, population, fertility, mortality,
parameters, facilities, targets YAML) against the schema and the arithmetic
constraints.

Usage: /usr/bin/python3 tools/check_data.py scenarios/changning [--district-pop N] [--area A]

Every violated constraint is printed as "FILE: key: message"; the exit status is 1 if any
was found, 0 otherwise. Defaults for the totals are Changning's (693,051 people in the 2020
census, 37.19 km²). Needs python3-yaml (Debian). A short summary of the baseline facilities
(totals by kind, nursery places per 1,000 residents, inclusive share, share of kindergartens
with a nursery class) is printed for information.
"""
import argparse
import math
import re
import sys
from pathlib import Path

import yaml  # python3-yaml

STREET_IDS = ["huayanglu", "jiangsulu", "xinhualu", "zhoujiaqiao", "tianshanlu",
              "xianxiaxincun", "hongqiao", "chengjiaqiao", "beixinjing", "xinjing"]
PARAMETER_NAMES = [
    "population.carry_to_2024", "population.women_18_49_share",
    "fertility.sex_ratio_at_birth", "mortality.women_annual",
    "fertility.district_level", "fertility.second_birth_relative",
    "fertility.third_birth_relative", "fertility.higher_order_multiplier",
    "fertility.min_birth_interval_months", "fertility.twin_share",
    "fertility.unpartnered_relative", "household.partnering_rate",
    "migration.out_rate", "migration.between_rate", "migration.neighbour_share",
    "migration.inflow_ratio", "migration.out_base", "migration.out_peak_age",
    "migration.out_rise", "migration.out_fall", "migration.in_peak_age", "migration.in_rise",
    "migration.in_fall", "migration.in_fertility", "household.partnered", "household.mother_works",
    "household.partner_works", "household.grandparent_care", "household.hukou_local",
    "household.income_low", "household.income_high",
    # child services
    "nursery.seek_intercept", "nursery.seek_all_parents_work", "nursery.seek_grandparent",
    "nursery.seek_income_low", "nursery.seek_income_high", "nursery.seek_age_per_year",
    "nursery.seek_taste", "nursery.seek_net_price_per_1000",
    "nursery.beta_distance_per_km", "nursery.beta_net_price_per_1000", "nursery.beta_quality",
    "nursery.asc_nursery_class", "nursery.asc_inclusive_nursery", "nursery.asc_market_nursery",
    "nursery.asc_employer_nursery", "nursery.max_distance_km", "nursery.max_wait_months",
    "babyroom.take_up", "babyroom.sessions_per_month", "kindergarten.take_up", "holiday.take_up",
    "clinic.visits_age0", "clinic.visits_age1_2", "clinic.visits_age3_5", "clinic.visits_age6_11",
    "clinic.visits_age12_17", "clinic.winter_peak", "clinic.service_minutes",
    "clinic.session_hours", "clinic.beta_distance_per_km", "clinic.asc_hospital",
    "clinic.beta_quality", "clinic.outside_distance_km", "policy.childcare_subsidy_year", "access.walk_speed_m_per_min",
    "access.detour_factor", "access.walk_minutes",
]
# who may run a facility (facilities.yaml run_by); the first two are public (公办)
RUN_BY = {"education_bureau", "public_body", "private", "employer"}
# facilities.yaml: the kinds, in this order, with the service each must have
FACILITY_KINDS = {
    "nursery_class": "nursery", "baby_room": "babyroom", "inclusive_nursery": "nursery",
    "market_nursery": "nursery", "employer_nursery": "nursery", "kindergarten": "kindergarten",
    "summer_class": "holiday", "winter_class": "holiday", "chc_clinic": "clinic",
    "mch_hospital": "clinic", "tongren_paediatrics": "clinic", "childrens_hospital": "clinic",
}
CAPACITY_UNITS = {"nursery": {"places"}, "kindergarten": {"places"},
                  "babyroom": {"child_sessions_per_month"}, "holiday": {"places_per_session"},
                  "clinic": {"doctor_sessions_per_month"}}
NURSERY_PLACE_KINDS = ["nursery_class", "inclusive_nursery", "market_nursery", "employer_nursery"]
TARGET_COMPARISONS = {">=", ">", "<=", "<"}
ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MONTH_RE = re.compile(r"^(20[0-9]{2})-(0[1-9]|1[0-2])$")
SHARE_UNITS = {"share", "probability per year"}

errors = []


def err(file, key, msg):
    errors.append(f"{file}: {key}: {msg}")


def is_num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def keys_exact(file, key, node, required, optional=()):
    """The node is a mapping with all `required` keys and nothing beyond `optional`."""
    if not isinstance(node, dict):
        err(file, key, f"expected a mapping, got {type(node).__name__}")
        return False
    ok = True
    for k in required:
        if k not in node:
            err(file, key, f"missing key '{k}'")
            ok = False
    for k in node:
        if k not in required and k not in optional:
            err(file, key, f"unknown key '{k}'")
            ok = False
    return ok


def provenance(file, key, node):
    """Exactly one of source / assumed, a non-empty string."""
    has = [k for k in ("source", "assumed") if k in node]
    if len(has) != 1:
        err(file, key, "needs exactly one of 'source' or 'assumed'")
        return
    text = node[has[0]]
    if not isinstance(text, str) or not text.strip():
        err(file, key, f"'{has[0]}' must be a non-empty string")


def ranged_value(file, key, node, integer=False):
    """{value, range, source|assumed}: value inside range."""
    if not keys_exact(file, key, node, ["value", "range"], ["source", "assumed"]):
        return None
    provenance(file, key, node)
    v, r = node["value"], node["range"]
    if not is_num(v) or (integer and not isinstance(v, int)):
        err(file, key, f"value must be {'an integer' if integer else 'a number'}, got {v!r}")
        return None
    if not (isinstance(r, list) and len(r) == 2 and all(is_num(x) for x in r) and r[0] <= r[1]):
        err(file, key, f"range must be [lo, hi] with lo <= hi, got {r!r}")
    elif not (r[0] <= v <= r[1]):
        err(file, key, f"value {v} outside range {r}")
    return v


def num_list(file, key, values, n, lo=None, hi=None, integer=False):
    if not isinstance(values, list) or len(values) != n:
        err(file, key, f"expected a list of exactly {n} numbers, got "
            f"{len(values) if isinstance(values, list) else type(values).__name__}")
        return None
    for i, x in enumerate(values):
        if not is_num(x) or (integer and not isinstance(x, int)):
            err(file, f"{key}[{i}]", f"expected {'an integer' if integer else 'a number'}, got {x!r}")
            return None
        if (lo is not None and x < lo) or (hi is not None and x > hi):
            err(file, f"{key}[{i}]", f"{x} outside [{lo}, {hi}]")
    return values


def load(directory, name):
    path = directory / name
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        err(name, "(file)", f"cannot read: {e}")
        return None


def check_streets(d, total_pop, total_area):
    f = "streets.yaml"
    if not keys_exact(f, "(top)", d, ["reference_point", "streets", "neighbours", "neighbours_source"]):
        return
    rp = d["reference_point"]
    if keys_exact(f, "reference_point", rp, ["lat", "lon", "source"]):
        if not (is_num(rp["lat"]) and is_num(rp["lon"])):
            err(f, "reference_point", "lat and lon must be numbers")
    streets = d["streets"]
    if not isinstance(streets, list):
        err(f, "streets", "expected a list")
        return
    ids = [s.get("id") if isinstance(s, dict) else None for s in streets]
    if ids != STREET_IDS:
        err(f, "streets", f"ids must be exactly {STREET_IDS} in this order, got {ids}")
    pop = 0
    area = 0.0
    for s in streets:
        k = f"streets.{s.get('id') if isinstance(s, dict) else '?'}"
        if not keys_exact(f, k, s, ["id", "name_zh", "name_en", "kind", "lat", "lon",
                                     "area_km2", "population_2020"]):
            continue
        want_kind = "town" if s["id"] == "xinjing" else "street"
        if s["kind"] != want_kind:
            err(f, k + ".kind", f"expected '{want_kind}', got {s['kind']!r}")
        for c, lo, hi in (("lat", 31.0, 31.4), ("lon", 121.2, 121.6)):
            node = s[c]
            if keys_exact(f, f"{k}.{c}", node, ["value"], ["source", "assumed"]):
                provenance(f, f"{k}.{c}", node)
                if not is_num(node["value"]) or not (lo <= node["value"] <= hi):
                    err(f, f"{k}.{c}", f"value {node['value']!r} not a number in [{lo}, {hi}]")
        a = ranged_value(f, k + ".area_km2", s["area_km2"])
        p = ranged_value(f, k + ".population_2020", s["population_2020"], integer=True)
        if a is not None:
            if a <= 0:
                err(f, k + ".area_km2", "must be positive")
            area += a
        if p is not None:
            if p <= 0:
                err(f, k + ".population_2020", "must be positive")
            pop += p
    if pop != total_pop:
        err(f, "population_2020", f"sum {pop} != {total_pop}")
    if abs(area - total_area) > 0.01 + 1e-9:
        err(f, "area_km2", f"sum {area:.4f} differs from {total_area} by more than 0.01")
    seen = set()
    nb = d["neighbours"]
    if not isinstance(nb, list) or not nb:
        err(f, "neighbours", "expected a non-empty list of pairs")
    else:
        for i, pair in enumerate(nb):
            if not (isinstance(pair, list) and len(pair) == 2
                    and all(x in STREET_IDS for x in pair) and pair[0] != pair[1]):
                err(f, f"neighbours[{i}]", f"expected a pair of two different street ids, got {pair!r}")
                continue
            key = frozenset(pair)
            if key in seen:
                err(f, f"neighbours[{i}]", f"duplicate pair {pair}")
            seen.add(key)
        linked = {x for p in seen for x in p}
        for sid in STREET_IDS:
            if sid not in linked:
                err(f, "neighbours", f"street '{sid}' has no neighbour")
    if not isinstance(d["neighbours_source"], str) or not d["neighbours_source"].strip():
        err(f, "neighbours_source", "must be a non-empty string")


def check_population(d):
    f = "population.yaml"
    if not keys_exact(f, "(top)", d, ["children_by_age", "women_age_weights",
                                      "adult_age_weights"]):
        return
    c = d["children_by_age"]
    if keys_exact(f, "children_by_age", c, ["values", "range_factor"], ["source", "assumed"]):
        provenance(f, "children_by_age", c)
        num_list(f, "children_by_age.values", c["values"], 18, lo=0, integer=True)
        rf = c["range_factor"]
        if not (isinstance(rf, list) and len(rf) == 2 and all(is_num(x) for x in rf)
                and 0 < rf[0] <= 1 <= rf[1]):
            err(f, "children_by_age.range_factor", f"expected [lo <= 1 <= hi], got {rf!r}")
    w = d["women_age_weights"]
    if keys_exact(f, "women_age_weights", w, ["ages_from", "values"], ["source", "assumed"]):
        provenance(f, "women_age_weights", w)
        if w["ages_from"] != 18:
            err(f, "women_age_weights.ages_from", "must be 18")
        v = num_list(f, "women_age_weights.values", w["values"], 32, lo=0)
        if v and sum(v) <= 0:
            err(f, "women_age_weights.values", "must not be all zero")
    a = d["adult_age_weights"]
    if keys_exact(f, "adult_age_weights", a, ["ages_from", "values"], ["source", "assumed"]):
        provenance(f, "adult_age_weights", a)
        if a["ages_from"] != 18:
            err(f, "adult_age_weights.ages_from", "must be 18")
        v = num_list(f, "adult_age_weights.values", a["values"], 93, lo=0)  # ages 18..110
        if v and sum(v) <= 0:
            err(f, "adult_age_weights.values", "must not be all zero")


def check_fertility(d):
    f = "fertility.yaml"
    if not keys_exact(f, "(top)", d, ["asfr_shape", "tfr_paths"]):
        return
    s = d["asfr_shape"]
    if keys_exact(f, "asfr_shape", s, ["ages_from", "values"], ["source", "assumed"]):
        provenance(f, "asfr_shape", s)
        if s["ages_from"] != 18:
            err(f, "asfr_shape.ages_from", "must be 18")
        v = num_list(f, "asfr_shape.values", s["values"], 32, lo=0)
        if v:
            tot = sum(v)
            if tot <= 0:
                err(f, "asfr_shape.values", "must not be all zero")
            else:
                mean = sum((18 + i + 0.5) * x for i, x in enumerate(v)) / tot
                if not 31.0 <= mean <= 33.0:
                    err(f, "asfr_shape.values", f"mean age at birth {mean:.2f} outside [31, 33]")
    t = d["tfr_paths"]
    if not keys_exact(f, "tfr_paths", t, ["medium", "low", "high"]):
        return
    paths = {}
    for name in ("medium", "low", "high"):
        node = t[name]
        k = f"tfr_paths.{name}"
        if not keys_exact(f, k, node, ["values"], ["source", "assumed"]):
            continue
        provenance(f, k, node)
        vals = node["values"]
        if not isinstance(vals, dict) or not vals:
            err(f, k + ".values", "expected a mapping year: TFR")
            continue
        good = True
        for y, x in vals.items():
            if not isinstance(y, int) or not 2000 <= y <= 2100:
                err(f, k + ".values", f"bad year {y!r}")
                good = False
            if not is_num(x) or not 0 < x < 5:
                err(f, k + ".values", f"bad TFR {x!r} for {y}")
                good = False
        if good:
            paths[name] = vals
    if len(paths) == 3:
        def at(vals, year):
            ys = sorted(vals)
            if year <= ys[0]:
                return vals[ys[0]]
            if year >= ys[-1]:
                return vals[ys[-1]]
            for a, b in zip(ys, ys[1:]):
                if a <= year <= b:
                    return vals[a] + (vals[b] - vals[a]) * (year - a) / (b - a)
        years = sorted(set().union(*[set(p) for p in paths.values()]))
        for y in range(years[0], years[-1] + 1):
            lo, me, hi = (at(paths[n], y) for n in ("low", "medium", "high"))
            if not lo <= me + 1e-12 <= hi + 2e-12:
                err(f, "tfr_paths", f"in {y} low {lo:.3f} <= medium {me:.3f} <= high {hi:.3f} fails")


def check_mortality(d):
    f = "mortality.yaml"
    if not keys_exact(f, "(top)", d, ["child_death_probability"]):
        return
    c = d["child_death_probability"]
    if keys_exact(f, "child_death_probability", c, ["values", "range_factor"], ["source", "assumed"]):
        provenance(f, "child_death_probability", c)
        num_list(f, "child_death_probability.values", c["values"], 18, lo=0, hi=0.1)
        rf = c["range_factor"]
        if not (isinstance(rf, list) and len(rf) == 2 and all(is_num(x) for x in rf)
                and 0 < rf[0] <= 1 <= rf[1]):
            err(f, "child_death_probability.range_factor", f"expected [lo <= 1 <= hi], got {rf!r}")


def check_parameters(d):
    f = "parameters.yaml"
    if not keys_exact(f, "(top)", d, ["parameters"]):
        return
    rows = d["parameters"]
    if not isinstance(rows, list):
        err(f, "parameters", "expected a list")
        return
    values = {}
    names = set()
    for i, row in enumerate(rows):
        name = row.get("name", f"[{i}]") if isinstance(row, dict) else f"[{i}]"
        k = f"parameters.{name}"
        if name in names:
            err(f, k, "duplicate name")
        names.add(name)
        if not keys_exact(f, k, row, ["name", "value", "unit", "range", "description"],
                          ["source", "assumed"]):
            continue
        for t in ("unit", "description"):
            if not isinstance(row[t], str) or not row[t].strip():
                err(f, f"{k}.{t}", "must be a non-empty string")
        v = ranged_value(f, k, {x: row[x] for x in ("value", "range", "source", "assumed") if x in row})
        if v is not None and row["unit"] in SHARE_UNITS:
            r = row["range"]
            if not (0 <= r[0] and r[1] <= 1):
                err(f, k, f"a {row['unit']} must lie in [0, 1], range is {r}")
        values[name] = v
    for n in PARAMETER_NAMES:
        if n not in names:
            err(f, "parameters", f"missing parameter '{n}'")
    lo, hi = values.get("household.income_low"), values.get("household.income_high")
    if lo is not None and hi is not None and lo + hi > 1:
        err(f, "household.income_*", f"income_low + income_high = {lo + hi} > 1")


def check_facilities(d, street_pop_total, carry):
    """facilities.yaml: kinds (all, in order, with consistent service and unit), facilities
    (unique ids, known kinds and streets, capacity >= 0, hosts that are kindergartens of the
    same street, provenance on every entry). Returns a summary dict or None."""
    f = "facilities.yaml"
    if not keys_exact(f, "(top)", d, ["kinds", "facilities"]):
        return None
    kinds = d["kinds"]
    if not isinstance(kinds, dict):
        err(f, "kinds", "expected a mapping")
        return None
    if list(kinds) != list(FACILITY_KINDS):
        err(f, "kinds", f"must be exactly {list(FACILITY_KINDS)} in this order, got {list(kinds)}")
    for name, k in kinds.items():
        key = f"kinds.{name}"
        if not keys_exact(f, key, k, ["label_zh", "service", "capacity_unit", "min_age_months",
                                      "max_age_months", "inclusive", "run_by"],
                          ["source", "assumed"]):
            continue
        provenance(f, key, k)
        want = FACILITY_KINDS.get(name)
        if want is not None and k["service"] != want:
            err(f, key + ".service", f"expected '{want}', got {k['service']!r}")
        if k["capacity_unit"] not in CAPACITY_UNITS.get(k["service"], set()):
            err(f, key + ".capacity_unit", f"{k['capacity_unit']!r} does not fit service {k['service']!r}")
        lo, hi = k["min_age_months"], k["max_age_months"]
        if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo < hi <= 216):
            err(f, key, f"ages must be integers 0 <= min < max <= 216, got {lo!r}..{hi!r}")
        if not isinstance(k["inclusive"], bool):
            err(f, key + ".inclusive", "must be true or false")
        if k["run_by"] not in RUN_BY:
            err(f, key + ".run_by", f"must be one of {sorted(RUN_BY)}, got {k['run_by']!r}")
        if not isinstance(k["label_zh"], str) or not k["label_zh"].strip():
            err(f, key + ".label_zh", "must be a non-empty string")
    rows = d["facilities"]
    if not isinstance(rows, list) or not rows:
        err(f, "facilities", "expected a non-empty list")
        return None
    by_id = {}
    for i, r in enumerate(rows):
        fid = r.get("id", f"[{i}]") if isinstance(r, dict) else f"[{i}]"
        key = f"facilities.{fid}"
        if not keys_exact(f, key, r, ["id", "name", "kind", "street", "capacity", "price_month",
                                      "quality"],
                          ["opens", "closes", "location", "running_cost_year", "visits_per_session",
                           "host", "run_by", "inclusive", "source", "assumed"]):
            continue
        provenance(f, key, r)
        if not isinstance(fid, str) or not ID_RE.match(fid):
            err(f, key, "id must be lowercase [a-z0-9-], e.g. 'huayanglu-kg-1'")
        if fid in by_id:
            err(f, key, "duplicate id")
        by_id[fid] = r
        if not isinstance(r["name"], str) or not r["name"].strip():
            err(f, key + ".name", "must be a non-empty string")
        if r["kind"] not in kinds:
            err(f, key + ".kind", f"unknown kind {r['kind']!r}")
        if r["street"] not in STREET_IDS and r["street"] != "outside":
            err(f, key + ".street", f"unknown street {r['street']!r} (a streets.yaml id or 'outside')")
        if r["street"] == "outside" and r["kind"] != "childrens_hospital":
            err(f, key + ".street", "only a childrens_hospital may be 'outside'")
        if not (isinstance(r["capacity"], int) and not isinstance(r["capacity"], bool) and r["capacity"] >= 0):
            err(f, key + ".capacity", f"must be an integer >= 0, got {r['capacity']!r}")
        if not (is_num(r["price_month"]) and r["price_month"] >= 0):
            err(f, key + ".price_month", f"must be a number >= 0, got {r['price_month']!r}")
        if not (is_num(r["quality"]) and 0 <= r["quality"] <= 1):
            err(f, key + ".quality", f"must be a number in [0, 1], got {r['quality']!r}")
        for m in ("opens", "closes"):
            if m in r and not (isinstance(r[m], str) and MONTH_RE.match(r[m])):
                err(f, f"{key}.{m}", f"must be YYYY-MM, got {r[m]!r}")
        if "opens" in r and "closes" in r and isinstance(r["opens"], str) and isinstance(r["closes"], str) \
                and r["closes"] <= r["opens"]:
            err(f, key, f"closes {r['closes']} is not after opens {r['opens']}")
        if "location" in r:
            loc = r["location"]
            if not (keys_exact(f, key + ".location", loc, ["lat", "lon"])
                    and is_num(loc["lat"]) and is_num(loc["lon"])
                    and 31.0 <= loc["lat"] <= 31.4 and 121.2 <= loc["lon"] <= 121.6):
                err(f, key + ".location", f"expected {{lat, lon}} inside Shanghai's centre, got {loc!r}")
        if "running_cost_year" in r and not (is_num(r["running_cost_year"]) and r["running_cost_year"] >= 0):
            err(f, key + ".running_cost_year", "must be a number >= 0")
        service = kinds.get(r["kind"], {}).get("service") if isinstance(kinds.get(r["kind"]), dict) else None
        if service == "clinic":
            v = r.get("visits_per_session")
            if not (is_num(v) and v > 0):
                err(f, key + ".visits_per_session", f"a clinic needs visits_per_session > 0, got {v!r}")
        elif "visits_per_session" in r:
            err(f, key + ".visits_per_session", "only clinics have visits_per_session")
        if "run_by" in r and r["run_by"] not in RUN_BY:
            err(f, key + ".run_by", f"must be one of {sorted(RUN_BY)}, got {r['run_by']!r}")
        if "inclusive" in r and not isinstance(r["inclusive"], bool):
            err(f, key + ".inclusive", "must be true or false")
        if "host" in r and r["kind"] != "nursery_class":
            err(f, key + ".host", "only nursery_class entries have a host")
    # hosts: after all ids are known
    for fid, r in by_id.items():
        if "host" not in r:
            continue
        h = by_id.get(r["host"])
        key = f"facilities.{fid}.host"
        if h is None:
            err(f, key, f"unknown facility {r['host']!r}")
        elif h.get("kind") != "kindergarten":
            err(f, key, f"{r['host']!r} is a {h.get('kind')!r}, not a kindergarten")
        elif h.get("street") != r.get("street"):
            err(f, key, f"host street {h.get('street')!r} differs from {r.get('street')!r}")
        elif "location" in h and r.get("location") != h["location"]:
            err(f, key, "location differs from the host kindergarten's")

    # summary of the January-2024 state (entries without `opens` or opening by 2024-01)
    def open_2024(r):
        return r.get("opens", "2024-01") <= "2024-01" and r.get("closes", "9999-12") > "2024-01"
    now = [r for r in by_id.values() if open_2024(r) and r.get("kind") in kinds]
    cap = {k: sum(r["capacity"] for r in now if r["kind"] == k and isinstance(r["capacity"], int))
           for k in kinds}
    count = {k: sum(1 for r in now if r["kind"] == k) for k in kinds}
    places = sum(cap.get(k, 0) for k in NURSERY_PLACE_KINDS)
    def inclusive(r):
        k = kinds.get(r["kind"])
        return r.get("inclusive", isinstance(k, dict) and k.get("inclusive") is True) is True
    incl = sum(r["capacity"] for r in now if r["kind"] in NURSERY_PLACE_KINDS and inclusive(r)
               and isinstance(r["capacity"], int))
    kgs = {r["id"] for r in now if r["kind"] == "kindergarten"}
    hosted = {r["host"] for r in now if r["kind"] == "nursery_class" and r.get("capacity", 0) > 0
              and r.get("host") in kgs}
    residents = street_pop_total * carry if street_pop_total and carry else None
    return dict(count=count, cap=cap, places=places, incl=incl, kgs=len(kgs), hosted=len(hosted),
                residents=residents,
                babyroom_streets=len({r["street"] for r in now if r["kind"] == "baby_room" and r["capacity"] > 0}),
                chc_open=sum(1 for r in now if r["kind"] == "chc_clinic" and r["capacity"] > 0))


def check_targets(d):
    f = "targets.yaml"
    if not keys_exact(f, "(top)", d, ["targets"]):
        return
    rows = d["targets"]
    if not isinstance(rows, list) or not rows:
        err(f, "targets", "expected a non-empty list")
        return
    seen = set()
    for i, r in enumerate(rows):
        tid = r.get("id", f"[{i}]") if isinstance(r, dict) else f"[{i}]"
        key = f"targets.{tid}"
        if not keys_exact(f, key, r, ["id", "description", "threshold", "comparison", "plan_item"],
                          ["year", "source", "assumed", "plan_text"]):
            continue
        provenance(f, key, r)
        if not isinstance(tid, str) or not re.match(r"^[a-z0-9_]+$", tid):
            err(f, key, "id must be lowercase [a-z0-9_]")
        if tid in seen:
            err(f, key, "duplicate id")
        seen.add(tid)
        if not isinstance(r["description"], str) or not r["description"].strip():
            err(f, key + ".description", "must be a non-empty string")
        if not is_num(r["threshold"]):
            err(f, key + ".threshold", f"must be a number, got {r['threshold']!r}")
        if r["comparison"] not in TARGET_COMPARISONS:
            err(f, key + ".comparison", f"must be one of {sorted(TARGET_COMPARISONS)}, got {r['comparison']!r}")
        if "year" in r and not (isinstance(r["year"], int) and 2024 <= r["year"] <= 2035):
            err(f, key + ".year", f"must be a year 2024..2035, got {r['year']!r}")
        pi = r["plan_item"]
        if pi is not None and not (isinstance(pi, int) and not isinstance(pi, bool) and 1 <= pi <= 90):
            err(f, key + ".plan_item", f"must be null or an action number 1..90, got {pi!r}")
        if isinstance(pi, int) and not str(r.get("plan_text", "")).startswith(f"({pi})"):
            err(f, key + ".plan_text", f"a target of plan item {pi} quotes the item: plan_text "
                f"starting \"({pi})\"")
        text = r.get("source", r.get("assumed", ""))
        if isinstance(pi, int) and isinstance(text, str) and f"({pi})" not in text:
            err(f, key, f"plan_item {pi} but its source text does not cite item ({pi})")


def print_summary(sm):
    """Baseline (January 2024) facts of facilities.yaml, for information."""
    print("facilities in January 2024 (count, capacity):")
    for k in FACILITY_KINDS:
        if k in sm["count"]:
            print(f"  {k:20s} {sm['count'][k]:4d} {sm['cap'][k]:9,}")
    if sm["residents"] and sm["places"]:
        print(f"  nursery places {sm['places']:,} = {sm['places'] / sm['residents'] * 1000:.2f} per 1,000 "
              f"residents ({sm['residents']:,.0f}); inclusive share {sm['incl'] / sm['places']:.3f}")
    if sm["kgs"]:
        print(f"  kindergartens with a nursery class {sm['hosted']} / {sm['kgs']} = {sm['hosted'] / sm['kgs']:.3f}; "
              f"streets with a baby room {sm['babyroom_streets']} / 10; CHCs with a paediatric clinic "
              f"{sm['chc_open']} / 10")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("directory", type=Path, help="folder holding the seven YAML files")
    ap.add_argument("--district-pop", type=int, default=693_051, help="required sum of population_2020")
    ap.add_argument("--area", type=float, default=37.19, help="required sum of area_km2 (±0.01)")
    args = ap.parse_args()
    checks = [("streets.yaml", lambda d: check_streets(d, args.district_pop, args.area)),
              ("population.yaml", check_population), ("fertility.yaml", check_fertility),
              ("mortality.yaml", check_mortality),
              ("parameters.yaml", check_parameters), ("targets.yaml", check_targets)]
    loaded = {}
    for name, check in checks:
        d = load(args.directory, name)
        loaded[name] = d
        if d is not None:
            check(d)
    # facilities: needs the residents of January 2024 for the summary
    carry = None
    params = loaded.get("parameters.yaml")
    if isinstance(params, dict) and isinstance(params.get("parameters"), list):
        for row in params["parameters"]:
            if isinstance(row, dict) and row.get("name") == "population.carry_to_2024":
                carry = row.get("value")
    fd = load(args.directory, "facilities.yaml")
    summary = check_facilities(fd, args.district_pop, carry) if fd is not None else None
    if summary:
        print_summary(summary)
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        print(f"check_data: {len(errors)} problem(s) in {args.directory}", file=sys.stderr)
        return 1
    print(f"check_data: {args.directory}: all constraints hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
