#!/usr/bin/python3
"""check_data: validate a place's base data (streets, population, fertility, mortality,
migration, parameters YAML) against the schema and the arithmetic constraints.

Usage: /usr/bin/python3 tools/check_data.py scenarios/changning [--district-pop N] [--area A]

Every violated constraint is printed as "FILE: key: message"; the exit status is 1 if any
was found, 0 otherwise. Defaults for the totals are Changning's (693,051 people in the 2020
census, 37.19 km²). Needs python3-yaml (Debian).
"""
import argparse
import math
import sys
from pathlib import Path

import yaml  # python3-yaml

STREET_IDS = ["huayanglu", "jiangsulu", "xinhualu", "zhoujiaqiao", "tianshanlu",
              "xianxiaxincun", "hongqiao", "chengjiaqiao", "beixinjing", "xinjing"]
PARAMETER_NAMES = [
    "population.carry_to_2024", "population.women_18_49_share",
    "fertility.sex_ratio_at_birth", "mortality.women_annual",
    "migration.out_rate", "migration.between_rate", "migration.neighbour_share",
    "migration.inflow_ratio", "household.partnered", "household.mother_works",
    "household.partner_works", "household.grandparent_care", "household.hukou_local",
    "household.income_low", "household.income_high",
]
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
    if not keys_exact(f, "(top)", d, ["children_by_age", "women_age_weights"]):
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


def check_migration(d):
    f = "migration.yaml"
    if not keys_exact(f, "(top)", d, ["in_migrant"]):
        return
    m = d["in_migrant"]
    if not keys_exact(f, "in_migrant", m, ["mother_age_weights", "children_count_probabilities"]):
        return
    w = m["mother_age_weights"]
    if keys_exact(f, "in_migrant.mother_age_weights", w, ["ages_from", "values"], ["source", "assumed"]):
        provenance(f, "in_migrant.mother_age_weights", w)
        if w["ages_from"] != 20:
            err(f, "in_migrant.mother_age_weights.ages_from", "must be 20")
        v = num_list(f, "in_migrant.mother_age_weights.values", w["values"], 26, lo=0)
        if v and sum(v) <= 0:
            err(f, "in_migrant.mother_age_weights.values", "must not be all zero")
    p = m["children_count_probabilities"]
    if keys_exact(f, "in_migrant.children_count_probabilities", p, ["values"], ["source", "assumed"]):
        provenance(f, "in_migrant.children_count_probabilities", p)
        v = num_list(f, "in_migrant.children_count_probabilities.values", p["values"], 4, lo=0, hi=1)
        if v and abs(sum(v) - 1.0) > 1e-9:
            err(f, "in_migrant.children_count_probabilities.values", f"sum {sum(v)} != 1")


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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("directory", type=Path, help="folder holding the six YAML files")
    ap.add_argument("--district-pop", type=int, default=693_051, help="required sum of population_2020")
    ap.add_argument("--area", type=float, default=37.19, help="required sum of area_km2 (±0.01)")
    args = ap.parse_args()
    checks = [("streets.yaml", lambda d: check_streets(d, args.district_pop, args.area)),
              ("population.yaml", check_population), ("fertility.yaml", check_fertility),
              ("mortality.yaml", check_mortality), ("migration.yaml", check_migration),
              ("parameters.yaml", check_parameters)]
    for name, check in checks:
        d = load(args.directory, name)
        if d is not None:
            check(d)
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        print(f"check_data: {len(errors)} problem(s) in {args.directory}", file=sys.stderr)
        return 1
    print(f"check_data: {args.directory}: all constraints hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
