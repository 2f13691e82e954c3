#!/usr/bin/python3
"""make_shanghai_pack: write a synthetic whole-Shanghai data pack (16 districts, 215 streets).

Usage: /usr/bin/python3 tools/make_shanghai_pack.py OUT_DIR [--scale-streets N]

Writes OUT_DIR/{pack,streets,population,fertility,mortality,parameters,facilities,targets}.yaml
and OUT_DIR/shanghai.yaml (a scenario: one replicate, all services, 2024-01 to 2035-12), in
the data-pack format of docs/data-packs.md. The pack is generated on demand (about 2 MB of
YAML, not committed); the same command always writes the same bytes.

What is derived from what (every number in the files says it again, `source:` or `assumed:`):
  - districts: the 2020 census population of each of the 16 districts
    (shared/data/shanghai-districts.md L6-L21, "SD L<n>" below); they sum to 24,870,895 (L22).
  - streets: Changning keeps its 10 real streets (scenarios/changning/streets.yaml). The real
    street lists of the other districts are NOT in shared data: each gets synthetic streets
    ("<district>-01", ...), their number the district's share of the 205 units left of
    Shanghai's about 215 (SD L26), largest remainder, at least 3; populations an equal split of
    the district's census total (whole people, summing exactly). District centres are
    approximate seats from general knowledge (ASSUMED, +-5 km); areas from an assumed density
    by ring; streets are laid out on a hexagonal spiral around the centre.
  - population.yaml: Shanghai's children by single year at 1 Jan 2024 as derived in
    scenarios/changning/population.yaml (step 4 of its header, before the Changning share and
    the central-district factor); the age shapes of women and adults are Shanghai's already.
  - fertility, mortality, parameters, targets: Changning's files unchanged (Shanghai figures
    or assumptions that the pack carries over; see each file's header line added here).
  - facilities: Changning's facilities in Changning's streets; in every other district, the
    count of each kind = Changning's count per resident x the district's population (largest
    remainder), each a clone of a Changning facility of that kind taken in turn (capacity,
    price, quality, running cost, run_by), placed in the district's streets by largest
    remainder on population; a kindergarten cloned from a Changning kindergarten that hosts a
    nursery class gets a clone of that class. One CHC per street (clones in turn, so about
    3 in 10 have no paediatric clinic, as in Changning), one MCH hospital and one district
    hospital paediatrics per district with sessions scaled by population, and three
    children's hospitals inside the city (Changning's one "outside" hospital, cloned). ALL
    ASSUMED.
"""
import argparse
import math
import sys
from pathlib import Path

import yaml  # python3-yaml

ROOT = Path(__file__).resolve().parent.parent
CHANGNING = ROOT / "scenarios" / "changning"
CHANGNING_POP = 693_051

# (id, Chinese name, English name, 2020 census, line of shared/data/shanghai-districts.md,
#  approximate centre lat, lon (ASSUMED: district seats from general knowledge, +-5 km),
#  ring: assumed density class)
DISTRICTS = [
    ("baoshan", "宝山区", "Baoshan", 2_235_218, 6, 31.405, 121.450, "inner_suburb"),
    ("changning", "长宁区", "Changning", 693_051, 7, None, None, "central"),
    ("chongming", "崇明区", "Chongming", 637_921, 8, 31.623, 121.397, "island"),
    ("fengxian", "奉贤区", "Fengxian", 1_140_872, 9, 30.918, 121.474, "outer_suburb"),
    ("hongkou", "虹口区", "Hongkou", 757_498, 10, 31.265, 121.495, "central"),
    ("huangpu", "黄浦区", "Huangpu", 662_030, 11, 31.222, 121.480, "central"),
    ("jiading", "嘉定区", "Jiading", 1_834_258, 12, 31.375, 121.266, "outer_suburb"),
    ("jingan", "静安区", "Jing'an", 975_707, 13, 31.260, 121.450, "central"),
    ("jinshan", "金山区", "Jinshan", 822_776, 14, 30.742, 121.342, "outer_suburb"),
    ("minhang", "闵行区", "Minhang", 2_653_489, 15, 31.113, 121.382, "inner_suburb"),
    ("pudong", "浦东新区", "Pudong", 5_681_512, 16, 31.160, 121.620, "inner_suburb"),
    ("putuo", "普陀区", "Putuo", 1_239_800, 17, 31.250, 121.397, "central"),
    ("qingpu", "青浦区", "Qingpu", 1_271_424, 18, 31.151, 121.124, "outer_suburb"),
    ("songjiang", "松江区", "Songjiang", 1_909_713, 19, 31.032, 121.228, "outer_suburb"),
    ("xuhui", "徐汇区", "Xuhui", 1_113_078, 20, 31.170, 121.437, "central"),
    ("yangpu", "杨浦区", "Yangpu", 1_242_548, 21, 31.290, 121.526, "central"),
]
SHANGHAI_2020 = 24_870_895  # SD L22
UNITS = 215                 # SD L26: "about 215 township-level units"
# persons per km² by ring (ASSUMED): central = Changning's 693,051 / 37.19 km² (changning.md
# L12, L14) = 18,636 rounded; the suburbs and the island are rough guesses (no district areas
# are in shared data), chosen only so that synthetic streets have plausible sizes.
DENSITY = {"central": 18_600, "inner_suburb": 4_000, "outer_suburb": 2_000, "island": 500}
# Shanghai residents aged 0..17 on 1 January 2024: scenarios/changning/population.yaml,
# header step 4 (derived there from births, a fitted retention and the 2020 census).
SHANGHAI_CHILDREN = [96819, 105348, 109010, 129655, 149065, 167242, 184184, 178920, 173656,
                     168392, 163128, 157864, 152600, 132667, 132667, 132667, 132667, 132667]
# Children's hospitals inside the city (ASSUMED placements from general knowledge): the
# district and which of its synthetic streets.
CHILDRENS_HOSPITALS = [("jingan", "shanghai-childrens-hospital", "Shanghai Children's Hospital (上海市儿童医院)"),
                       ("minhang", "fudan-childrens-hospital", "Children's Hospital of Fudan University (复旦大学附属儿科医院)"),
                       ("pudong", "shanghai-childrens-medical-center", "Shanghai Children's Medical Center (上海儿童医学中心)")]


def largest_remainder(total, weights, minimum=0):
    """Whole numbers summing to `total`, proportional to `weights`, each >= minimum; ties go
    to the lower index."""
    n = len(weights)
    base = [minimum] * n
    rest = total - minimum * n
    s = sum(weights)
    exact = [rest * w / s for w in weights]
    out = [b + math.floor(e) for b, e in zip(base, exact)]
    order = sorted(range(n), key=lambda i: (-(exact[i] - math.floor(exact[i])), i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def q(text):
    """A YAML double-quoted string."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def hex_spiral(n):
    """n points of a hexagonal lattice with unit spacing, nearest the origin first."""
    pts = [(0.0, 0.0)]
    ring = 1
    while len(pts) < n:
        # corners of ring k: k steps in each of six directions
        x, y = ring * 1.0, 0.0
        dirs = [(math.cos(math.radians(120 + 60 * k)), math.sin(math.radians(120 + 60 * k)))
                for k in range(6)]
        for dx, dy in dirs:
            for _ in range(ring):
                pts.append((x, y))
                x, y = x + dx, y + dy
        ring += 1
    return pts[:n]


def make_streets(cn_streets):
    """Street rows (dicts) of every district, in district order."""
    others = [d for d in DISTRICTS if d[0] != "changning"]
    n_other = UNITS - len(cn_streets)
    counts = dict(zip([d[0] for d in others],
                      largest_remainder(n_other, [d[3] for d in others], minimum=3)))
    rows = []
    for did, zh, en, pop, line, lat0, lon0, ring in DISTRICTS:
        if did == "changning":
            for s in cn_streets:
                rows.append({"changning": True, "district": did, **s})
            continue
        n = counts[did]
        pops = largest_remainder(pop, [1] * n)
        area = pop / n / DENSITY[ring]
        radius_km = math.sqrt(area / math.pi)
        spacing_km = 2 * radius_km
        for k, ((px, py), p) in enumerate(zip(hex_spiral(n), pops)):
            lat = lat0 + py * spacing_km / 110.574
            lon = lon0 + px * spacing_km / (111.320 * math.cos(math.radians(lat0)))
            rows.append({
                "changning": False, "district": did, "id": f"{did}-{k + 1:02d}",
                "name_zh": f"{zh}合成街道{k + 1}", "name_en": f"{en} synthetic street {k + 1}",
                "kind": "street", "lat": round(lat, 4), "lon": round(lon, 4),
                "area_km2": round(area, 3), "population_2020": p, "n_in_district": n,
                "ring": ring, "sd_line": line, "district_pop": pop})
    return rows


def write_pack_yaml(out):
    lines = [
        "# pack.yaml: the districts of the synthetic whole-Shanghai pack (docs/data-packs.md).",
        "# GENERATED by tools/make_shanghai_pack.py; \"SD L<n>\" is a line of",
        "# shared/data/shanghai-districts.md. The 16 districts sum to Shanghai's 24,870,895 (SD L22).",
        "pack: shanghai",
        "description: " + q("Synthetic whole-Shanghai pack: 16 districts from the 2020 census; "
                            "Changning's 10 real streets, synthetic streets elsewhere; facilities "
                            "cloned from Changning's per-capita provision (all assumed)"),
        "population_2020: {value: %d, source: %s}" % (SHANGHAI_2020, q("SD L22: Shanghai 2020 census")),
        "districts:",
    ]
    for did, zh, en, pop, line, *_ in DISTRICTS:
        lines.append("  - {id: %s, name_zh: %s, name_en: %s, population_2020: {value: %d, source: %s}}"
                     % (did, zh, q(en + " District" if did != "pudong" else "Pudong New Area"), pop,
                        q(f"SD L{line}: 2020 census")))
    (out / "pack.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_streets(out, rows, cn):
    lines = [
        "# streets.yaml: the 215 street-level units of the synthetic whole-Shanghai pack.",
        "# GENERATED by tools/make_shanghai_pack.py (its docstring says how each number is made).",
        "# changning's ten streets are copied from scenarios/changning/streets.yaml with their",
        "# sources; every other street is SYNTHETIC (the real street lists are not in shared data).",
        "reference_point: {lat: 31.2304, lon: 121.4737, assumed: \"People's Square, approximate "
        "(general knowledge); the centre of the local plane only\"}",
        "streets:",
    ]
    for r in rows:
        if r["changning"]:
            s = r
            def sv(node):
                prov = "source" if "source" in node else "assumed"
                extra = f", range: [{node['range'][0]}, {node['range'][1]}]" if "range" in node else ""
                return "{value: %s%s, %s: %s}" % (node["value"], extra, prov, q(node[prov]))
            lines.append(
                "  - {id: %s, district: changning, name_zh: %s, name_en: %s, kind: %s, lat: %s, lon: %s, "
                "area_km2: %s, population_2020: %s}"
                % (s["id"], s["name_zh"], q(s["name_en"]), s["kind"], sv(s["lat"]), sv(s["lon"]),
                   sv(s["area_km2"]), sv(s["population_2020"])))
            continue
        pos = q(f"synthetic: hexagonal spiral around {r['district']}'s assumed centre, spacing = 2 x radius")
        area = q(f"density {DENSITY[r['ring']]:,}/km2 assumed for a {r['ring'].replace('_', ' ')} district")
        pop = q(f"equal split of SD L{r['sd_line']} ({r['district_pop']:,}) over {r['n_in_district']} synthetic streets")
        lines.append(
            "  - {id: %s, district: %s, name_zh: %s, name_en: %s, kind: street, lat: {value: %s, assumed: %s}, "
            "lon: {value: %s, assumed: %s}, area_km2: {value: %s, assumed: %s}, population_2020: {value: %d, assumed: %s}}"
            % (r["id"], r["district"], r["name_zh"], q(r["name_en"]), r["lat"], pos, r["lon"], pos,
               r["area_km2"], area, r["population_2020"], pop))
    # Neighbours: Changning's own pairs, and any two streets whose discs (radius from the area)
    # come within 20 % of touching.
    ids = [r["id"] for r in rows]
    pairs = [tuple(p) for p in cn["neighbours"]]
    have = {frozenset(p) for p in pairs}
    geo = []
    for r in rows:
        lat = r["lat"]["value"] if r["changning"] else r["lat"]
        lon = r["lon"]["value"] if r["changning"] else r["lon"]
        area = r["area_km2"]["value"] if r["changning"] else r["area_km2"]
        geo.append((lat * 110.574, lon * 111.320 * math.cos(math.radians(31.23)),
                    math.sqrt(area / math.pi)))
    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            if frozenset((ids[i], ids[j])) in have:
                continue
            if rows[i]["changning"] and rows[j]["changning"]:
                continue
            d = math.hypot(geo[i][0] - geo[j][0], geo[i][1] - geo[j][1])
            if d <= 1.2 * (geo[i][2] + geo[j][2]):
                pairs.append((ids[i], ids[j]))
                have.add(frozenset((ids[i], ids[j])))
    lines.append("neighbours:")
    lines += [f"  - [{a}, {b}]" for a, b in pairs]
    lines.append("neighbours_source: " + q(
        "changning's pairs from scenarios/changning/streets.yaml; every other pair ASSUMED: two "
        "streets whose discs come within 20 % of touching on the synthetic layout"))
    (out / "streets.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_population(out):
    text = (CHANGNING / "population.yaml").read_text(encoding="utf-8")
    # Keep the women's and adults' shapes (Shanghai's) as written there.
    women = text[text.index("# women_age_weights"):]
    lines = [
        "# population.yaml: Shanghai's children by single year of age at 1 January 2024 and the",
        "# relative numbers of women and adults by age (synthetic whole-Shanghai pack).",
        "# GENERATED by tools/make_shanghai_pack.py from scenarios/changning/population.yaml:",
        "# children_by_age is step 4 of that file's header (Shanghai residents by age, before the",
        "# Changning share and the 0.85 central-district factor); the shapes below are Shanghai's.",
        "# The model splits each age over the streets by population_2020, so every district has",
        "# the city's share of children per resident (central districts are older: ASSUMED away).",
        "children_by_age:",
        "  values: [" + ", ".join(str(v) for v in SHANGHAI_CHILDREN) + "]",
        "  range_factor: [0.85, 1.15]",
        "  assumed: " + q("Shanghai residents aged 0-17 on 1 Jan 2024 as derived in "
                          "scenarios/changning/population.yaml, header step 4 (observed births "
                          "2017, 2021-2023, interpolated 2018-2020, assumed flat 2011-2016, a "
                          "retention fitted to the 2020 census aged 0-9, the census 10-14 spread "
                          "evenly)"),
        "",
    ]
    (out / "population.yaml").write_text("\n".join(lines) + women, encoding="utf-8")


def copy_with_note(out, name, note):
    text = (CHANGNING / name).read_text(encoding="utf-8")
    head = (f"# {name} of the synthetic whole-Shanghai pack: GENERATED by "
            f"tools/make_shanghai_pack.py as a copy of scenarios/changning/{name}.\n# {note}\n")
    (out / name).write_text(head + text, encoding="utf-8")


def facility_line(f):
    keys = ["id", "name", "kind", "street", "run_by", "host", "inclusive", "capacity",
            "price_month", "quality", "running_cost_year", "visits_per_session", "opens",
            "closes", "source", "assumed"]
    parts = []
    for k in keys:
        if k not in f:
            continue
        v = f[k]
        if isinstance(v, bool):
            v = "true" if v else "false"
        elif isinstance(v, str) and k in ("name", "source", "assumed", "opens", "closes"):
            v = q(v)
        parts.append(f"{k}: {v}")
    return "  - {" + ", ".join(parts) + "}"


def write_facilities(out, rows):
    cn = yaml.safe_load((CHANGNING / "facilities.yaml").read_text(encoding="utf-8"))
    kinds_text = (CHANGNING / "facilities.yaml").read_text(encoding="utf-8")
    kinds_block = kinds_text[kinds_text.index("\nkinds:\n") + 1: kinds_text.index("\nfacilities:\n") + 1]
    cn_fac = cn["facilities"]
    by_kind = {}
    for f in cn_fac:
        by_kind.setdefault(f["kind"], []).append(f)
    hosted = {f["host"]: f for f in cn_fac if "host" in f}
    streets_of = {}
    for r in rows:
        streets_of.setdefault(r["district"], []).append(r)
    out_rows = []
    for f in cn_fac:
        if f["street"] == "outside":
            continue  # children's hospitals are inside the city here (below)
        out_rows.append(f)
    per_capita = ["baby_room", "inclusive_nursery", "market_nursery", "employer_nursery",
                  "kindergarten", "summer_class", "winter_class"]
    rule = "count = Changning's {n} per 693,051 residents x {pop:,} (largest remainder over its streets)"
    for did, zh, en, pop, line, *_ in DISTRICTS:
        if did == "changning":
            continue
        streets = streets_of[did]
        spop = [s["population_2020"] for s in streets]
        for kind in per_capita:
            templates = by_kind[kind]
            n = round(len(templates) * pop / CHANGNING_POP)
            per_street = largest_remainder(n, spop) if n else [0] * len(streets)
            k = 0
            for s, m in zip(streets, per_street):
                for j in range(m):
                    t = templates[k % len(templates)]
                    k += 1
                    fid = f"{s['id']}-{kind.replace('_', '-')}-{j + 1}"
                    g = {x: t[x] for x in ("kind", "run_by", "inclusive", "capacity", "price_month",
                                           "quality", "running_cost_year", "visits_per_session")
                         if x in t}
                    g.update(id=fid, name=f"{en} {kind.replace('_', ' ')} {s['id'][-2:]}-{j + 1} (synthetic)",
                             street=s["id"],
                             assumed=f"synthetic clone of Changning's {t['id']}; "
                                     + rule.format(n=len(templates), pop=pop))
                    out_rows.append(g)
                    if kind == "kindergarten" and t["id"] in hosted:
                        c = hosted[t["id"]]
                        h = {x: c[x] for x in ("kind", "run_by", "inclusive", "capacity",
                                               "price_month", "quality", "running_cost_year")
                             if x in c}
                        h.update(id=fid + "-nc", name=g["name"].replace("(synthetic)", "nursery class (synthetic)"),
                                 street=s["id"], host=fid,
                                 assumed=f"synthetic clone of Changning's {c['id']} (its host "
                                         f"{t['id']} is the template of {fid})")
                        out_rows.append(h)
        # one CHC per street, clones in turn
        chcs = by_kind["chc_clinic"]
        for k, s in enumerate(streets):
            t = chcs[k % len(chcs)]
            g = {x: t[x] for x in ("kind", "run_by", "inclusive", "capacity", "price_month",
                                   "quality", "running_cost_year", "visits_per_session")}
            g.update(id=f"{s['id']}-chc", name=f"{en} synthetic street {s['id'][-2:]} CHC paediatric clinic (synthetic)",
                     street=s["id"], assumed=f"synthetic: one CHC per street (changning.md L87), clone of Changning's {t['id']}")
            out_rows.append(g)
        for kind in ("mch_hospital", "tongren_paediatrics"):
            t = by_kind[kind][0]
            g = {x: t[x] for x in ("kind", "run_by", "inclusive", "price_month", "quality",
                                   "visits_per_session")}
            g.update(id=f"{did}-{kind.replace('_', '-')}",
                     name=f"{en} {'MCH hospital' if kind == 'mch_hospital' else 'district hospital paediatrics'} (synthetic)",
                     street=streets[0]["id"], capacity=max(1, round(t["capacity"] * pop / CHANGNING_POP)),
                     running_cost_year=round(t["running_cost_year"] * pop / CHANGNING_POP),
                     assumed=f"synthetic: one per district in its first street; sessions = Changning's "
                             f"{t['id']} {t['capacity']} x {pop:,} / 693,051")
            out_rows.append(g)
    t = by_kind["childrens_hospital"][0]
    for did, fid, name in CHILDRENS_HOSPITALS:
        g = {x: t[x] for x in ("kind", "run_by", "inclusive", "capacity", "price_month",
                               "quality", "running_cost_year", "visits_per_session")}
        g.update(id=fid, name=name, street=streets_of[did][0]["id"],
                 assumed=f"placed in {did}'s first synthetic street (general knowledge of the "
                         f"district, street synthetic); sessions as Changning's {t['id']} "
                         f"(its whole throughput, changning.md L85), for each of the three")
        out_rows.append(g)
    head = ("# facilities.yaml of the synthetic whole-Shanghai pack: GENERATED by\n"
            "# tools/make_shanghai_pack.py. Changning's facilities as in scenarios/changning/;\n"
            "# every other facility is a SYNTHETIC clone of a Changning facility of its kind, in\n"
            "# Changning's number per resident (each entry says which). Kinds are Changning's;\n"
            "# tongren_paediatrics stands for each district's general-hospital paediatrics.\n")
    body = [facility_line(f) for f in out_rows]
    (out / "facilities.yaml").write_text(head + kinds_block + "facilities:\n" + "\n".join(body) + "\n",
                                         encoding="utf-8")
    return len(out_rows)


def write_scenario(out):
    text = """# shanghai.yaml: one replicate of the synthetic whole-Shanghai pack with all services
# (docs/data-packs.md, docs/performance.md "Whole Shanghai"). GENERATED by
# tools/make_shanghai_pack.py next to the pack it uses.
name: shanghai
description: >-
  Synthetic whole Shanghai (16 districts, 215 streets, 24.9 M residents in 2020), medium
  fertility, no investments; a benchmark and a demonstration of the pack format, not a plan.
base_data: .
start: 2024-01
end: 2035-12
replicates: 1
seed: 20240327
demography:
  fertility: medium
"""
    (out / "shanghai.yaml").write_text(text, encoding="utf-8")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="directory to write (created if missing)")
    args = ap.parse_args()
    assert sum(d[3] for d in DISTRICTS) == SHANGHAI_2020, "districts must sum to the census total"
    args.out.mkdir(parents=True, exist_ok=True)
    cn = yaml.safe_load((CHANGNING / "streets.yaml").read_text(encoding="utf-8"))
    rows = make_streets(cn["streets"])
    write_pack_yaml(args.out)
    write_streets(args.out, rows, cn)
    write_population(args.out)
    copy_with_note(args.out, "fertility.yaml", "Shanghai's age shape and TFR paths (as written for Changning, which uses Shanghai's).")
    copy_with_note(args.out, "mortality.yaml", "Shanghai's child mortality (as written for Changning, which uses Shanghai's).")
    copy_with_note(args.out, "parameters.yaml",
                   "ASSUMED for the whole city: migration.out_* there describe leaving Changning; for the city they "
                   "overstate leaving Shanghai (moves to other districts are internal moves here).")
    copy_with_note(args.out, "targets.yaml", "ASSUMED: Changning's plan and national targets applied to the whole city.")
    n_fac = write_facilities(args.out, rows)
    write_scenario(args.out)
    print(f"make_shanghai_pack: {args.out}: {len(DISTRICTS)} districts, {len(rows)} streets, "
          f"{sum(r['population_2020'] if not r['changning'] else r['population_2020']['value'] for r in rows):,} "
          f"residents (2020), {n_fac} facilities")
    return 0


if __name__ == "__main__":
    sys.exit(main())
