#!/usr/bin/python3
"""make_facilities: write scenarios/changning/facilities.yaml, the child-service facilities of
Changning in January 2024 (the plan's baseline), from the assumptions collected below.

Usage: /usr/bin/python3 tools/make_facilities.py [--out scenarios/changning/facilities.yaml]
       /usr/bin/python3 tools/make_facilities.py --check   # exit 1 if the file is out of date

Deterministic: no random numbers. Every choice (how many facilities of a kind, in which
street, which kindergartens lack a nursery class, which streets lack a baby room or a
paediatric clinic) follows a rule written here, so a reviewer changes an assumption in one
place and regenerates. Citations "changning.md L<n>" are lines of shared/data/changning.md;
"plan item (n)" is an action of the district plan (shared/seed/000_38c623323a78a7b9.txt).
docs/data.md ("facilities.yaml") explains every number in more words.
"""
import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STREETS_FILE = ROOT / "scenarios/changning/streets.yaml"
DEFAULT_OUT = ROOT / "scenarios/changning/facilities.yaml"

# ------------------------------------------------------------------------------------------
# Sourced figures (changning.md line numbers)
# ------------------------------------------------------------------------------------------
CN_POP_2020 = 693_051            # L12
SH_POP_2020 = 24_870_895         # L24
CN_SHARE = CN_POP_2020 / SH_POP_2020   # 0.027866 (L110: 2.79 %)
CARRY_TO_2024 = 0.998            # parameters.yaml population.carry_to_2024
CN_POP_2024 = round(CN_POP_2020 * CARRY_TO_2024)   # residents on 1 Jan 2024
CHILD_ADJ = 0.85                 # population.yaml: assumed central-district adjustment
CHILDREN_0_2 = 2293 + 2495 + 2582          # population.yaml, 1 Jan 2024
CHILDREN_3_5 = 3071 + 3531 + 3961
CHILDREN_6_11 = 4363 + 4238 + 4113 + 3989 + 3864 + 3739
CHILDREN_0_14 = 52_138
CHILDREN_0_17 = 61_564

SH_KINDERGARTENS = 1_708         # L47 (end 2022)
SH_PUBLIC_KINDERGARTENS = 1_052  # L47
SH_KG_PUPILS = 534_000           # L47
SH_NURSERY_FACILITIES = 1_309    # L49 (end 2022)
SH_NURSERY_PLACES = 58_000       # L49
SH_SUMMER_CLASSES_2023 = 579     # L72
SH_SUMMER_CHILDREN_2023 = 60_000 # L72
SH_SUMMER_SITES_2024 = 700       # L72
SH_WINTER_SITES_2024 = 229       # L76
SH_WINTER_CHILDREN_2024 = 10_000 # L76
SH_CHILDRENS_HOSPITAL_VISITS = 2_386_000  # L85 (2021)

# ------------------------------------------------------------------------------------------
# Assumptions: counts (all checked against the plan's targets in the header comment)
# ------------------------------------------------------------------------------------------
N_KINDERGARTENS = 48             # 1,708 x 0.027866 = 47.6 -> 48 (population share)
N_PUBLIC_KG = 30                 # 0.616 x 48 = 29.6 -> 30 (L47)
N_PUBLIC_KG_WITHOUT_NC = 2       # public kindergartens still without a nursery class
N_PRIVATE_HOSTS = 9              # private 普惠-priced kindergartens with a nursery class
N_INCLUSIVE_NURSERIES = 7
N_MARKET_NURSERIES = 14
EMPLOYER_NURSERIES = [           # (street, places, reasoning)
    ("hongqiao", 60, "Hongqiao/Gubei business area"),
    ("xinjing", 40, "Linkong business park area"),
]
N_SUMMER = 24                    # plan target >= 26 (item 44): a little below
N_WINTER = 8                     # plan target >= 10 (item 44): a little below
BABYROOM_LACKING = ["jiangsulu", "chengjiaqiao"]   # the two streets with fewest residents
BABYROOM_FLAGSHIP = "xinhualu"   # the most populous street (L51: a flagship takes 45 at once)
# CHCs without a paediatric clinic in Jan 2024 (capacity 0): the three least populous streets
# other than jiangsulu, whose CHC the plan names for a paediatric tuina specialty (item 30).
CHC_LACKING = ["chengjiaqiao", "beixinjing", "xinjing"]
GUBEI_STREET = "hongqiao"        # 古北路第一幼儿园 (item 21): Gubei area, assumed Hongqiao street
TONGREN_STREET = "xianxiaxincun" # 同仁医院: assumed (its main campus is on Xianxia Road)
MCH_STREET = "zhoujiaqiao"       # 妇幼保健院: street not found; nearest point to district centre

# ------------------------------------------------------------------------------------------
# Assumptions: sizes, prices, quality, costs
# ------------------------------------------------------------------------------------------
KG_CLASS_SIZE = 30               # L67 (GB 50180-93: 30 per kindergarten class)
KG_CLASSES_CYCLE = [8, 9, 10, 11, 12]   # mean 10 classes = 300 places (534,000/1,708 = 313)
NC_PLACES_SMALL, NC_PLACES_LARGE = 20, 25   # L50 (18-20 per class), L67 (25 old standard)
INCLUSIVE_SIZES = [50, 60, 70]
MARKET_SIZES = [50, 60, 70, 80, 90]
SUMMER_PLACES = 100              # 60,000 / 579 = 103.6 (L72-73)
WINTER_PLACES = 44               # 10,000 / 229 = 43.7 (L76)
BABYROOM_AT_ONCE, BABYROOM_FLAGSHIP_AT_ONCE = 15, 45   # 45: L51; 15 assumed
BABYROOM_SESSIONS_PER_DAY, BABYROOM_DAYS_PER_MONTH = 2, 22   # 3-hour sessions (L51), weekdays

PUBLIC_KG_MODEL_EVERY = 6        # every 6th public kindergarten is a model (示范) one
PUBLIC_KG_PRICE = {"model": 800, "grade1": 270, "grade2": 220}   # L52 (see kinds text)
PUBLIC_KG_QUALITY = {"model": 0.8, "grade1": 0.65, "grade2": 0.55}
NC_PRICE = {"model": 270, "grade1": 270, "grade2": 220}          # L52
PRIVATE_KG_PRICE_CYCLE = [3000, 4500, 6000, 9000]   # assumed; hosts only at <= 4,500
PRIVATE_KG_QUALITY_CYCLE = [0.55, 0.6, 0.7, 0.75]
PRIVATE_NC_PRICE = 2000          # 托班 in a private 普惠 kindergarten, under the 2,500 cap
INCLUSIVE_PRICE_CYCLE = [2000, 2200, 2500]    # cap assumed 2,500
INCLUSIVE_QUALITY = 0.55
MARKET_PRICE_CYCLE = [5000, 6000, 7500, 9000, 10000]   # L53: 5,000-10,000
MARKET_QUALITY_CYCLE = [0.6, 0.65, 0.7, 0.75, 0.8]
EMPLOYER_PRICE, EMPLOYER_QUALITY = 1500, 0.6
HOLIDAY_PRICE = 600              # L75 (per child per session)
CLINIC_PRICE = {"chc": 20, "mch": 30, "tongren": 40, "childrens": 50}   # yuan per visit, assumed

STAFF_COST = 150_000             # yuan per care-staff year incl. on-costs (assumed)
DOCTOR_COST = 350_000            # yuan per doctor year incl. on-costs (assumed)
NURSE_COST = 150_000
SESSIONS_PER_DOCTOR = 20         # half-day clinic sessions per doctor per month
RENT_PER_PLACE = 14_600          # 10 m2 x 4 yuan/m2/day x 365 (private nurseries)
KG_OTHER_PER_PLACE = 6_000       # meals, utilities, materials per place per year
NURSERY_OTHER_PER_PLACE = 8_000

CHC_SESSIONS = 40                # 2 doctors x 20 half-days
MCH_SESSIONS = 80                # 4 doctors x 20
TONGREN_SESSIONS = 300           # 15 doctors x 20
CHC_VISITS_PER_SESSION = 20      # 4 h x 60 / 12 min
MCH_VISITS_PER_SESSION = 15      # 16-minute consultations (screening, nutrition, high-risk)
HOSPITAL_VISITS_PER_SESSION = 24 # 4 h x 60 / 10 min
CHILDRENS_VISITS_PER_SESSION = 30
CHILDRENS_SESSIONS = round(SH_CHILDRENS_HOSPITAL_VISITS / 12 / CHILDRENS_VISITS_PER_SESSION)

KIND_ORDER = ["nursery_class", "baby_room", "inclusive_nursery", "market_nursery",
              "employer_nursery", "kindergarten", "summer_class", "winter_class",
              "chc_clinic", "mch_hospital", "tongren_paediatrics", "childrens_hospital"]

KINDS = {
    "nursery_class": dict(
        label_zh="托班", service="nursery", capacity_unit="places",
        min_age_months=24, max_age_months=36, inclusive=True, run_by="education_bureau",
        assumed="托班 inside a kindergarten (托幼一体, plan item 19). "
        "Ages 24-36 months: nursery classes take 2-3-year-olds (BRIEF.md); the child moves to the "
        "kindergarten at the September intake. Most hosts are public (fee 220-270 yuan a month, "
        "changning.md L52); a few are private kindergartens charging 2,000 (assumed). Places per "
        "class 20-25 (L50: 18-20 per class; L67: 25 old standard). run_by and inclusive are the "
        "host's: a class in a public kindergarten is run by the education bureau (公办) at the "
        "government-set fee of L52, hence designated 普惠; a class in a private kindergarten is "
        "private and NOT counted as 普惠 (ASSUMED: no 普惠 designation of private kindergartens' "
        "托班 was found, and a price under the assumed cap is not a designation)"),
    "baby_room": dict(
        label_zh="宝宝屋", service="babyroom", capacity_unit="child_sessions_per_month",
        min_age_months=12, max_age_months=36, inclusive=True, run_by="public_body",
        assumed="Community baby room (社区托育宝宝屋, plan item 20): 3-hour sessions, first 12 "
        "sessions free (changning.md L51). Ages 12-36 months assumed because Shanghai's target "
        "is stated for 1-3-year-olds (L51); younger infants may come with a parent, which is "
        "not modelled (plausible lower bound 6 months). Capacity = children at once x 2 "
        "sessions a day x 22 weekdays; not counted as nursery places (not full-day care). Run by the "
        "street office (public_body, assumed: 社区托育 is a street-level service, L51); free, "
        "hence inclusive"),
    "inclusive_nursery": dict(
        label_zh="普惠性托育机构", service="nursery", capacity_unit="places",
        min_age_months=12, max_age_months=36, inclusive=True, run_by="private",
        assumed="Private nursery with a 普惠 (price-capped, publicly supported) agreement: run "
        "privately, designated 普惠 (the kind's definition). The "
        "Shanghai price cap was not found (changning.md L57): assumed <= 2,500 yuan a month, "
        "near the national average childcare cost of about 2,700 (2020) -> 1,900 (2025) (L54). "
        "Ages 12-36 months assumed (private nurseries commonly take toddlers from about 1 year)"),
    "market_nursery": dict(
        label_zh="市场化托育机构", service="nursery", capacity_unit="places",
        min_age_months=6, max_age_months=36, inclusive=False, run_by="private",
        assumed="Private full-day nursery at market prices, 5,000-10,000 yuan a month (one chain, "
        "changning.md L53): private, not 普惠. Ages from 6 months assumed (some high-price providers take infants; "
        "DESIGN.md models nursery demand from about 6 months)"),
    "employer_nursery": dict(
        label_zh="用人单位办托", service="nursery", capacity_unit="places",
        min_age_months=12, max_age_months=36, inclusive=False, run_by="employer",
        assumed="Employer-run nursery (plan item 19: \"支持有条件的用人单位为职工提供托育服务\", "
        "a sentence of its own after the 普惠 share). Run by the employer and NOT counted as "
        "普惠 (ASSUMED): Shanghai's measures ask employer care to be priced below market "
        "(changning.md L94), but no 普惠 designation of these places was found and they are "
        "reserved for employees' children (which this file cannot say: no eligibility key). "
        "A scenario may open one with inclusive: true. Ages 12-36 months assumed as for "
        "inclusive nurseries"),
    "kindergarten": dict(
        label_zh="幼儿园", service="kindergarten", capacity_unit="places",
        min_age_months=36, max_age_months=72, inclusive=True, run_by="education_bureau",
        assumed="Kindergarten for ages 3-6 (BRIEF.md), public or private (61.6 % public, "
        "changning.md L47). Each entry says run_by: a public one is run by the education bureau "
        "at the government-set fee (inclusive); a private one is private and not counted as "
        "普惠 (ASSUMED: which private kindergartens hold a 普惠 designation was not found); the "
        "flag enters no target (the 普惠 share counts nursery places only), but a nursery class "
        "opened in a kindergarten takes its host's run_by and inclusive. Places = classes x 30 "
        "(L67)"),
    "summer_class": dict(
        label_zh="爱心暑托班", service="holiday", capacity_unit="places_per_session",
        min_age_months=72, max_age_months=144, inclusive=True, run_by="public_body",
        source="Holiday day-care class for primary pupils (plan item 44), about 6-11 years "
        "(BRIEF.md), hence 72-144 months. Two 3-week sessions in July-August (changning.md L74); "
        "about 100 children per class (60,000 / 579, L72-73); 600 yuan per child per session "
        "incl. lunch and insurance (L75). Publicly organised (public_body) and price-capped: inclusive"),
    "winter_class": dict(
        label_zh="爱心寒托班", service="holiday", capacity_unit="places_per_session",
        min_age_months=72, max_age_months=144, inclusive=True, run_by="public_body",
        source="Winter holiday class, first run in 2024 (changning.md L76): 229 sites in 16 "
        "districts, 2 weeks, about 10,000 children, i.e. about 44 per site (10,000 / 229). Ages as "
        "the summer class; publicly organised (public_body), inclusive. The winter fee was not found: "
        "assumed equal to the summer fee (L75)"),
    "chc_clinic": dict(
        label_zh="社区卫生服务中心儿科门诊", service="clinic",
        capacity_unit="doctor_sessions_per_month", min_age_months=0, max_age_months=216,
        inclusive=True, run_by="public_body",
        source="Paediatric clinic of the community health service centre (public: run by the "
        "district health commission, public_body); one centre per "
        "street/town (changning.md L87); plan item 31: every centre opens one. Ages 0-17 "
        "(BRIEF.md); in practice adolescents of 14+ often use adult departments, which the "
        "assumed low visit rate at 12-17 reflects (parameters.yaml clinic.visits_age12_17)"),
    "mch_hospital": dict(
        label_zh="区妇幼保健院", service="clinic", capacity_unit="doctor_sessions_per_month",
        min_age_months=0, max_age_months=84, inclusive=True, run_by="public_body",
        assumed="长宁区妇幼保健院 (public hospital, public_body) (plan items 29, 33): its child clinics are nutrition, "
        "development screening and high-risk infants (item 33), so ages 0-6 (under 84 months) "
        "are assumed; its general paediatric role was not found"),
    "tongren_paediatrics": dict(
        label_zh="同仁医院儿科", service="clinic", capacity_unit="doctor_sessions_per_month",
        min_age_months=0, max_age_months=216, inclusive=True, run_by="public_body",
        assumed="Paediatric department of 上海市同仁医院 (public hospital, public_body), the district's referral hospital (plan "
        "item 30: green referral lanes from every CHC). Ages 0-17 as the CHC clinics"),
    "childrens_hospital": dict(
        label_zh="区外儿童专科医院", service="clinic", capacity_unit="doctor_sessions_per_month",
        min_age_months=0, max_age_months=216, inclusive=True, run_by="public_body",
        assumed="A children's hospital outside the district, the overflow for visits the "
        "district cannot serve (plan item 30: the western paediatric alliance of Shanghai "
        "Children's Hospital). Street `outside`; its capacity is large on purpose"),
}


# ------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------
def load_streets():
    """Street ids, English stems and 2020 populations, in streets.yaml order (parsed by hand
    so the generator needs only the standard library)."""
    import re
    text = STREETS_FILE.read_text(encoding="utf-8")
    ids = re.findall(r"^  - id: (\w+)$", text, re.M)
    pops = [int(x) for x in re.findall(r"population_2020: \{value: (\d+)", text)]
    names = re.findall(r"name_en: (\w+)", text)
    assert len(ids) == len(pops) == len(names) == 10, "cannot parse streets.yaml"
    return ids, dict(zip(ids, pops)), dict(zip(ids, names))


STREET_IDS, STREET_POP, STREET_NAME = load_streets()


def allocate(total, weights, order):
    """Largest-remainder allocation of `total` over `order` in proportion to `weights`;
    ties go to the street listed first."""
    wsum = sum(weights[s] for s in order)
    quota = {s: total * weights[s] / wsum for s in order}
    n = {s: int(quota[s]) for s in order}
    rest = total - sum(n.values())
    ranked = sorted(order, key=lambda s: (-(quota[s] - n[s]), order.index(s)))
    for s in ranked[:rest]:
        n[s] += 1
    return n


def hash_rank(ids):
    """A fixed pseudo-random order: ids sorted by the SHA-256 of the id."""
    return sorted(ids, key=lambda i: hashlib.sha256(i.encode()).hexdigest())


def q(s):
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(s, ensure_ascii=False)


# ------------------------------------------------------------------------------------------
# Build
# ------------------------------------------------------------------------------------------
def build():
    fac = []
    # --- kindergartens ------------------------------------------------------------------
    kg_per_street = allocate(N_KINDERGARTENS, STREET_POP, STREET_IDS)
    pub_per_street = allocate(N_PUBLIC_KG, kg_per_street, STREET_IDS)
    kgs = []
    i_kg = i_pub = i_priv = 0
    for s in STREET_IDS:
        for k in range(kg_per_street[s]):
            public = k < pub_per_street[s]
            classes = KG_CLASSES_CYCLE[i_kg % len(KG_CLASSES_CYCLE)]
            i_kg += 1
            kg = dict(street=s, public=public, classes=classes)
            if public:
                i_pub += 1
                grade = ("model" if i_pub % PUBLIC_KG_MODEL_EVERY == 0
                         else "grade1" if i_pub % 2 == 1 else "grade2")
                kg.update(id=f"{s}-kg-{k + 1}", grade=grade, price=PUBLIC_KG_PRICE[grade],
                          quality=PUBLIC_KG_QUALITY[grade],
                          name=f"{STREET_NAME[s]} public kindergarten {k + 1} (synthetic)")
            else:
                j = i_priv % len(PRIVATE_KG_PRICE_CYCLE)
                i_priv += 1
                kg.update(id=f"{s}-kg-{k + 1}", grade="private",
                          price=PRIVATE_KG_PRICE_CYCLE[j], quality=PRIVATE_KG_QUALITY_CYCLE[j],
                          name=f"{STREET_NAME[s]} private kindergarten {k + 1} (synthetic)")
            kgs.append(kg)
    # 古北路第一幼儿园 (BRIEF.md, plan item 21) replaces the first public kindergarten of its street
    g = next(k for k in kgs if k["street"] == GUBEI_STREET and k["public"])
    g["id"], g["name"], g["gubei"] = "gubeilu-no1-kg", "古北路第一幼儿园 Gubeilu No. 1 Kindergarten", True

    # --- which kindergartens host a nursery class ---------------------------------------
    public_ids = [k["id"] for k in kgs if k["public"]]
    lacking_public = set(hash_rank(public_ids)[:N_PUBLIC_KG_WITHOUT_NC])
    eligible_private = [k["id"] for k in kgs if not k["public"] and k["price"] <= 4500]
    hosts_private = set(hash_rank(eligible_private)[:N_PRIVATE_HOSTS])
    hosts = [k for k in kgs if (k["public"] and k["id"] not in lacking_public)
             or k["id"] in hosts_private]

    for k in kgs:
        staff = 3 * k["classes"] + 6
        cap = k["classes"] * KG_CLASS_SIZE
        cost = staff * STAFF_COST + cap * KG_OTHER_PER_PLACE
        if k["public"]:
            grade_text = {"model": "model 示范", "grade1": "grade-1", "grade2": "grade-2"}[k["grade"]]
            why = (f"assumed: synthetic public kindergarten ({grade_text}); {k['classes']} classes x 30 "
                   f"(L67); fee {k['price']} yuan a month ("
                   + ("model kindergarten 800, L52" if k["grade"] == "model" else
                      f"assumed equal to the {k['grade'].replace('grade', 'grade-')} nursery-class fee, L52")
                   + f"); cost ({staff} staff = 3 per class + 6) x {STAFF_COST:,} + {cap} x {KG_OTHER_PER_PLACE:,}")
            if k.get("gubei"):
                why = ("assumed: 古北路第一幼儿园 is named in the plan (item 21: to be rebuilt and "
                       "expanded); street assumed hongqiao (Gubei area); public assumed; size, fee "
                       "and quality synthetic like the others (the expansion is a scenario "
                       "investment, not baseline). Otherwise a " + why[len("assumed: "):])
        else:
            why = (f"assumed: synthetic private kindergarten; fee {k['price']} yuan a month "
                   f"(private fees not found; cycle 3,000-9,000 covers 普惠-priced private and "
                   f"international kindergartens of the Gubei/Hongqiao area); {k['classes']} classes x 30; "
                   f"cost ({staff} staff) x {STAFF_COST:,} + {cap} x {KG_OTHER_PER_PLACE:,}")
        fac.append(dict(id=k["id"], name=k["name"], kind="kindergarten", street=k["street"],
                        run_by="education_bureau" if k["public"] else "private",
                        inclusive=bool(k["public"]), capacity=cap, price_month=k["price"], quality=k["quality"],
                        running_cost_year=cost, assumed=why[len("assumed: "):]))

    # --- nursery classes -----------------------------------------------------------------
    for k in hosts:
        places = NC_PLACES_LARGE if k["classes"] >= 10 else NC_PLACES_SMALL
        price = NC_PRICE[k["grade"]] if k["public"] else PRIVATE_NC_PRICE
        cost = 3 * STAFF_COST + places * NURSERY_OTHER_PER_PLACE
        host_word = "public" if k["public"] else "private 普惠-priced"
        why = (f"one 托班 of {places} places in a {host_word} kindergarten ("
               + ("25, the old standard of L67, as the host has 10+ classes" if places == 25
                  else "20, the top of L50's 18-20 per class, as the host has < 10 classes")
               + f"); fee {price} yuan a month ("
               + (("L52, grade-2" if k["grade"] == "grade2" else "L52, grade-1"
                   + (" (model kindergartens' 托班 fee not found: grade-1 assumed)" if k["grade"] == "model" else ""))
                  if k["public"] else "assumed, under the assumed 2,500 普惠 cap")
               + f"); quality = host's; cost 3 staff (L50: 2 teachers + 1 carer per class) x "
               f"{STAFF_COST:,} + {places} x {NURSERY_OTHER_PER_PLACE:,}")
        fac.append(dict(id=f"{k['id']}-nc", name=f"Nursery class at {k['name']}",
                        kind="nursery_class", street=k["street"], host=k["id"],
                        run_by="education_bureau" if k["public"] else "private",
                        inclusive=bool(k["public"]), capacity=places, price_month=price, quality=k["quality"],
                        running_cost_year=cost, assumed=why))

    # --- baby rooms ----------------------------------------------------------------------
    for s in STREET_IDS:
        if s in BABYROOM_LACKING:
            continue
        flagship = s == BABYROOM_FLAGSHIP
        at_once = BABYROOM_FLAGSHIP_AT_ONCE if flagship else BABYROOM_AT_ONCE
        cap = at_once * BABYROOM_SESSIONS_PER_DAY * BABYROOM_DAYS_PER_MONTH
        staff = at_once // 5 + (1 if flagship else 0)
        cost = staff * STAFF_COST + (150_000 if flagship else 60_000)
        why = ((f"flagship room: 45 children at once (changning.md L51)" if flagship else
                f"{at_once} children at once (assumed; a third of L51's flagship)")
               + f" x {BABYROOM_SESSIONS_PER_DAY} three-hour sessions a day x "
               f"{BABYROOM_DAYS_PER_MONTH} weekdays = {cap} child-sessions a month; price 0 "
               f"(first 12 sessions free, L51); cost {staff} carers (1 per 5 children) x "
               f"{STAFF_COST:,} + materials; space provided by the street (assumed)")
        fac.append(dict(id=f"{s}-babyroom",
                        name=f"{STREET_NAME[s]} baby room{' (flagship)' if flagship else ''} (synthetic)",
                        kind="baby_room", street=s, capacity=cap, price_month=0,
                        quality=0.6 if flagship else 0.5, running_cost_year=cost, assumed=why))

    # --- private nurseries ---------------------------------------------------------------
    inc_per_street = allocate(N_INCLUSIVE_NURSERIES, STREET_POP, STREET_IDS)
    i = 0
    for s in STREET_IDS:
        for k in range(inc_per_street[s]):
            places = INCLUSIVE_SIZES[i % len(INCLUSIVE_SIZES)]
            price = INCLUSIVE_PRICE_CYCLE[i % len(INCLUSIVE_PRICE_CYCLE)]
            i += 1
            staff = places // 6 + 2
            cost = staff * STAFF_COST + places * (RENT_PER_PLACE + NURSERY_OTHER_PER_PLACE)
            fac.append(dict(
                id=f"{s}-inc-{k + 1}", name=f"{STREET_NAME[s]} inclusive nursery {k + 1} (synthetic)",
                kind="inclusive_nursery", street=s, capacity=places, price_month=price,
                quality=INCLUSIVE_QUALITY, running_cost_year=cost,
                assumed=f"synthetic private 普惠 nursery; {places} places (Shanghai mean 58,000 / 1,309 "
                f"= 44 places per facility, L49, incl. small kindergarten classes); price {price} under "
                f"the assumed 2,500 cap; cost ({staff} staff = 1 per 6 places + 2) x {STAFF_COST:,} + "
                f"{places} x (rent {RENT_PER_PLACE:,} + other {NURSERY_OTHER_PER_PLACE:,})"))
    mkt_per_street = allocate(N_MARKET_NURSERIES, STREET_POP, STREET_IDS)
    i = 0
    for s in STREET_IDS:
        for k in range(mkt_per_street[s]):
            places = MARKET_SIZES[i % len(MARKET_SIZES)]
            j = (i * 2) % len(MARKET_PRICE_CYCLE)
            i += 1
            staff = places // 6 + 2
            cost = staff * STAFF_COST + places * (RENT_PER_PLACE + NURSERY_OTHER_PER_PLACE)
            fac.append(dict(
                id=f"{s}-mkt-{k + 1}", name=f"{STREET_NAME[s]} market nursery {k + 1} (synthetic)",
                kind="market_nursery", street=s, capacity=places,
                price_month=MARKET_PRICE_CYCLE[j], quality=MARKET_QUALITY_CYCLE[j],
                running_cost_year=cost,
                assumed=f"synthetic market nursery; {places} places (assumed); price "
                f"{MARKET_PRICE_CYCLE[j]} within 5,000-10,000 (L53); quality rises with price "
                f"(assumed); cost ({staff} staff) x {STAFF_COST:,} + {places} x "
                f"(rent {RENT_PER_PLACE:,} + other {NURSERY_OTHER_PER_PLACE:,})"))
    for n, (s, places, area) in enumerate(EMPLOYER_NURSERIES, 1):
        staff = places // 6 + 1
        cost = staff * STAFF_COST + places * NURSERY_OTHER_PER_PLACE
        fac.append(dict(
            id=f"{s}-emp-1", name=f"{STREET_NAME[s]} employer nursery (synthetic)",
            kind="employer_nursery", street=s, capacity=places, price_month=EMPLOYER_PRICE,
            quality=EMPLOYER_QUALITY, running_cost_year=cost,
            assumed=f"synthetic employer nursery in the {area} (location by general knowledge of "
            f"the district's business areas, not changning.md); {places} places; price "
            f"{EMPLOYER_PRICE} (below market, L94; assumed); cost ({staff} staff) x {STAFF_COST:,} "
            f"+ {places} x {NURSERY_OTHER_PER_PLACE:,}; space provided by the employer"))

    # --- holiday classes -----------------------------------------------------------------
    summer = allocate(N_SUMMER, STREET_POP, STREET_IDS)
    winter = allocate(N_WINTER, STREET_POP, STREET_IDS)
    summer_cost = 10 * 6 * 2500 + SUMMER_PLACES * 2 * 15 * 40 + 20_000
    winter_cost = 5 * 2 * 2500 + WINTER_PLACES * 10 * 40 + 10_000
    for s in STREET_IDS:
        for k in range(summer[s]):
            fac.append(dict(
                id=f"{s}-summer-{k + 1}", name=f"{STREET_NAME[s]} summer class {k + 1} (synthetic)",
                kind="summer_class", street=s, capacity=SUMMER_PLACES, price_month=HOLIDAY_PRICE,
                quality=0.5, running_cost_year=summer_cost,
                assumed=f"synthetic site; {N_SUMMER} classes spread over streets by population "
                f"(largest remainder); {SUMMER_PLACES} places per session (60,000 / 579, L72-73); "
                f"600 yuan per session (L75); cost gross of fees: 10 staff x 6 weeks x 2,500 + "
                f"{SUMMER_PLACES} children x 2 sessions x 15 days x 40 (meals, insurance) + 20,000 venue"))
        for k in range(winter[s]):
            fac.append(dict(
                id=f"{s}-winter-{k + 1}", name=f"{STREET_NAME[s]} winter class {k + 1} (synthetic)",
                kind="winter_class", street=s, capacity=WINTER_PLACES, price_month=HOLIDAY_PRICE,
                quality=0.5, opens="2024-01", running_cost_year=winter_cost,
                assumed=f"synthetic site; {N_WINTER} classes by population (largest remainder); opens "
                f"2024-01 (first winter classes 2024, L76); {WINTER_PLACES} places (10,000 / 229, L76); "
                f"fee 600 assumed as summer (L75); cost: 5 staff x 2 weeks x 2,500 + "
                f"{WINTER_PLACES} x 10 days x 40 + 10,000"))

    # --- clinics -------------------------------------------------------------------------
    chc_zh = {"huayanglu": "华阳", "jiangsulu": "江苏", "xinhualu": "新华", "zhoujiaqiao": "周桥",
              "tianshanlu": "天山", "xianxiaxincun": "仙霞", "hongqiao": "虹桥",
              "chengjiaqiao": "程家桥", "beixinjing": "北新泾", "xinjing": "新泾镇"}
    chc_en = {"huayanglu": "Huayang", "jiangsulu": "Jiangsu", "xinhualu": "Xinhua",
              "zhoujiaqiao": "Zhouqiao", "tianshanlu": "Tianshan", "xianxiaxincun": "Xianxia",
              "hongqiao": "Hongqiao", "chengjiaqiao": "Chengjiaqiao", "beixinjing": "Beixinjing",
              "xinjing": "Xinjing Town"}
    for s in STREET_IDS:
        has = s not in CHC_LACKING
        sessions = CHC_SESSIONS if has else 0
        doctors = sessions // SESSIONS_PER_DOCTOR
        cost = (doctors * DOCTOR_COST + NURSE_COST + 50_000) if has else 0
        why = (f"CHC named in changning.md L87 ({chc_zh[s]}). "
               + (f"Assumed to have a paediatric clinic in Jan 2024 (7 of 10; plan item 31 wants all): "
                  f"{doctors} doctors x {SESSIONS_PER_DOCTOR} half-days = {sessions} sessions a month; "
                  f"{CHC_VISITS_PER_SESSION} visits per session (4 h x 60 / 12 min); cost {doctors} x "
                  f"{DOCTOR_COST:,} + 1 nurse {NURSE_COST:,} + 50,000 consumables"
                  if has else
                  "Assumed WITHOUT a paediatric clinic in Jan 2024: capacity 0 (rule: the three least "
                  "populous streets other than jiangsulu, whose CHC item 30 names for a paediatric tuina "
                  "specialty); a scenario opening the clinic (plan item 31) sets capacity > 0")
               + f"; fee {CLINIC_PRICE['chc']} yuan per visit out of pocket (assumed)")
        fac.append(dict(
            id=f"{s}-chc", name=f"{chc_en[s]} CHC paediatric clinic ({chc_zh[s]}社区卫生服务中心)",
            kind="chc_clinic", street=s, capacity=sessions, price_month=CLINIC_PRICE["chc"],
            quality=0.5, running_cost_year=cost, visits_per_session=CHC_VISITS_PER_SESSION,
            assumed=why))
    mch_doctors = MCH_SESSIONS // SESSIONS_PER_DOCTOR
    fac.append(dict(
        id="mch-hospital", name="Changning District Maternal and Child Health Hospital (长宁区妇幼保健院)",
        kind="mch_hospital", street=MCH_STREET, capacity=MCH_SESSIONS,
        price_month=CLINIC_PRICE["mch"], quality=0.7,
        running_cost_year=mch_doctors * DOCTOR_COST + 2 * NURSE_COST + 100_000,
        visits_per_session=MCH_VISITS_PER_SESSION,
        assumed=f"named in the plan (items 29, 33). Street not found: placed in zhoujiaqiao, the street "
        f"whose rough point is nearest the district reference point (changning.md L15, L99). Child "
        f"clinics {mch_doctors} doctors x 20 = {MCH_SESSIONS} sessions a month, {MCH_VISITS_PER_SESSION} "
        f"visits per session (longer consultations); cost {mch_doctors} x {DOCTOR_COST:,} + 2 nurses + "
        f"100,000; all assumed"))
    tr_doctors = TONGREN_SESSIONS // SESSIONS_PER_DOCTOR
    fac.append(dict(
        id="tongren-paediatrics", name="Shanghai Tongren Hospital, paediatrics (上海市同仁医院儿科)",
        kind="tongren_paediatrics", street=TONGREN_STREET, capacity=TONGREN_SESSIONS,
        price_month=CLINIC_PRICE["tongren"], quality=0.75,
        running_cost_year=tr_doctors * DOCTOR_COST + 8 * NURSE_COST + 300_000,
        visits_per_session=HOSPITAL_VISITS_PER_SESSION,
        assumed=f"named in the plan (item 30). Its street is not in changning.md: placed in "
        f"xianxiaxincun because its main campus is on Xianxia Road (general knowledge, unverified). "
        f"Paediatric outpatient {tr_doctors} doctor-equivalents x 20 = {TONGREN_SESSIONS} sessions a "
        f"month, {HOSPITAL_VISITS_PER_SESSION} visits per session (4 h x 60 / 10 min); cost "
        f"{tr_doctors} x {DOCTOR_COST:,} + 8 nurses + 300,000; all assumed"))
    fac.append(dict(
        id="shanghai-childrens-hospital", name="Shanghai Children's Hospital (上海市儿童医院)",
        kind="childrens_hospital", street="outside", capacity=CHILDRENS_SESSIONS,
        price_month=CLINIC_PRICE["childrens"], quality=0.95, running_cost_year=0,
        visits_per_session=CHILDRENS_VISITS_PER_SESSION,
        assumed=f"the hospital of the western paediatric alliance (plan item 30; BRIEF.md); capacity "
        f"= its whole outpatient throughput, 2,386,000 visits in 2021 (changning.md L85) / 12 / "
        f"{CHILDRENS_VISITS_PER_SESSION} visits per session (assumed) = {CHILDRENS_SESSIONS} sessions "
        f"a month, i.e. effectively unlimited for Changning's overflow; running cost 0 = not a "
        f"district cost; quality 0.95 (specialist tertiary hospital, assumed)"))
    return fac, kgs, hosts


# ------------------------------------------------------------------------------------------
# Write
# ------------------------------------------------------------------------------------------
def summary(fac, kgs, hosts):
    by = {k: [f for f in fac if f["kind"] == k] for k in KIND_ORDER}
    cap = {k: sum(f["capacity"] for f in v) for k, v in by.items()}
    nursery_kinds = ["nursery_class", "inclusive_nursery", "market_nursery", "employer_nursery"]
    places = sum(cap[k] for k in nursery_kinds)
    incl = sum(f["capacity"] for k in nursery_kinds for f in by[k]
               if f.get("inclusive", KINDS[k]["inclusive"]))
    return by, cap, places, incl


def header(fac, kgs, hosts):
    by, cap, places, incl = summary(fac, kgs, hosts)
    nc_public = sum(f["capacity"] for f in by["nursery_class"] if f["run_by"] == "education_bureau")
    n_pub = sum(k["public"] for k in kgs)
    kg_streets = {s: sum(1 for k in kgs if k["street"] == s) for s in STREET_IDS}
    def per_street(kind):
        return ", ".join(f"{s} {sum(1 for f in by[kind] if f['street'] == s)}" for s in STREET_IDS)
    chc_open = sum(1 for f in by["chc_clinic"] if f["capacity"] > 0)
    doctors = sum(f["capacity"] for k in ("chc_clinic", "mch_hospital", "tongren_paediatrics")
                  for f in by[k]) / SESSIONS_PER_DOCTOR
    L = []
    L += [
        "# facilities.yaml: Changning's child-service facilities in January 2024, the baseline of the",
        "# district plan (shared/seed/000_38c623323a78a7b9.txt, adopted 27 March 2024).",
        "#",
        "# GENERATED by tools/make_facilities.py -- edit the assumptions there and regenerate:",
        "#   /usr/bin/python3 tools/make_facilities.py",
        "# Citations \"changning.md L<n>\" are lines of shared/data/changning.md; \"item (n)\" is an action of",
        "# the plan. Real names only where changning.md / BRIEF.md name the facility (the ten CHCs,",
        "# 古北路第一幼儿园, 长宁区妇幼保健院, 同仁医院, Shanghai Children's Hospital); everything else is",
        "# \"(synthetic)\": a plausible facility standing for real ones that were not found. No",
        "# facility has a `location` (none was found): the model draws a point inside its street.",
        "# Every entry says `source:` or `assumed:`; see docs/data.md (\"facilities.yaml\").",
        "#",
        "# Scaling: Changning = 693,051 / 24,870,895 = 2.79 % of Shanghai's residents (L110); its",
        f"#   children are fewer: population.yaml applies an assumed 0.85 central-district factor, so",
        f"#   Changning holds 2.79 % x 0.85 = 2.37 % of Shanghai's children. Residents 1 Jan 2024:",
        f"#   693,051 x 0.998 (population.carry_to_2024) = {CN_POP_2024:,}. Children 1 Jan 2024",
        f"#   (population.yaml): 0-2 {CHILDREN_0_2:,}, 3-5 {CHILDREN_3_5:,}, 6-11 {CHILDREN_6_11:,}, "
        f"0-17 {CHILDREN_0_17:,}.",
        "#",
        "# Kindergartens: 1,708 x 0.0279 = 47.6 by population share, 40.5 by children share; the",
        f"#   population share is used ({N_KINDERGARTENS}) because buildings were sized for the large 2016-2019",
        f"#   cohorts (Shanghai 534,000 pupils / 1,708 = 313 per kindergarten, L47). Public: 0.616 x 48",
        f"#   = 29.6 -> {n_pub} (L47; note 1,052 / 1,708 is also 61.6 %, so L47's share may be of",
        f"#   kindergartens rather than pupils; the two agree here). Places: classes (8-12, mean 10) x 30",
        f"#   (L67) = {cap['kindergarten']:,} = {cap['kindergarten'] / N_KINDERGARTENS:.0f} per kindergarten against "
        f"{CHILDREN_3_5:,} children aged 3-5: spare",
        "#   capacity, as births have fallen. By street (largest remainder on population):",
        "#   " + ", ".join(f"{s} {kg_streets[s]}" for s in STREET_IDS) + ".",
        "#",
        f"# Nursery classes (托班): {len(hosts)} of {N_KINDERGARTENS} kindergartens = {len(hosts) / N_KINDERGARTENS:.1%} "
        "(plan item 19: >= 80 % in",
        f"#   2024, >= 85 % in 2025; the baseline is a little below, a scenario adds). Hosts: "
        f"{n_pub - N_PUBLIC_KG_WITHOUT_NC} of {n_pub}",
        f"#   public kindergartens + {N_PRIVATE_HOSTS} of the private ones charging <= 4,500 (普惠-priced); which",
        "#   ones lack a class is fixed by the SHA-256 order of the ids (deterministic, not chosen).",
        f"#   20 places if the host has < 10 classes, else 25: {cap['nursery_class']:,} places.",
        "#",
        "# Nursery places (托位) = nursery_class + inclusive_nursery + market_nursery + employer_nursery",
        "#   (baby rooms are short-hour care and are not counted):",
        f"#   {cap['nursery_class']} + {cap['inclusive_nursery']} + {cap['market_nursery']} + "
        f"{cap['employer_nursery']} = {places:,} places",
        f"#   = {places:,} / {CN_POP_2024:,} x 1,000 = {places / CN_POP_2024 * 1000:.2f} per 1,000 residents "
        "(national target 4.5 by 2025).",
        "#   How the level was set: Shanghai 58,000 / 24.87 M = 2.33 per 1,000 at end 2022 (L49, L24);",
        "#   the national figure grew from 2.03 (2021) to 3.38 (end 2023) (L62), i.e. x 1.25 over the",
        "#   year 2023 if 2022 was midway (2.71); Shanghai 2.33 x 1.25 = 2.9 for Jan 2024. Changning, a",
        "#   central, well-off district and national women-and-children demonstration district, is",
        "#   assumed at about the national end-2023 level, 3.4 (plausible 2.5-4.5). Scaled down from",
        "#   Shanghai: 58,000 x 0.0279 = 1,616 places (2022). Per child aged 0-2 this is",
        f"#   {places:,} / {CHILDREN_0_2:,} = {places / CHILDREN_0_2:.2f} places, far more than the share of families",
        "#   expected to seek care (parameters.yaml nursery.seek_*): occupancy is an output.",
        f"#   普惠 (inclusive) share, designated places only (each entry's `inclusive`): public",
        f"#   kindergartens' classes {nc_public} + inclusive nurseries {cap['inclusive_nursery']} = {incl:,} / {places:,} "
        f"= {incl / places:.1%} (target > 60 % by 2025, item 19); not counted: private "
        f"kindergartens' classes ({cap['nursery_class'] - nc_public}), market and employer nurseries.",
        f"#   Public (公办, run_by education_bureau or public_body) nursery-class places: {nc_public}.",
        f"#   Facilities: {len(by['inclusive_nursery'])} inclusive, {len(by['market_nursery'])} market, "
        f"{len(by['employer_nursery'])} employer nurseries (Shanghai-scaled: 1,309 x",
        "#   0.0279 = 36.5 childcare facilities in 2022, L49, which may include kindergartens' classes).",
        "#   By street (largest remainder on population): inclusive " + per_street("inclusive_nursery") + ";",
        "#   market " + per_street("market_nursery") + ".",
        "#",
        f"# Baby rooms (宝宝屋): {len(by['baby_room'])} of 10 streets = {len(by['baby_room']) / 10:.0%} (item 20: >= 85 %);",
        "#   none in " + " and ".join(BABYROOM_LACKING) + " (the streets with the fewest residents).",
        f"#   Capacity {cap['baby_room']:,} child-sessions a month: 7 rooms x 15 at once x 2 x 22 + the",
        "#   flagship (xinhualu, 45 at once, L51) x 2 x 22.",
        "#",
        f"# Summer classes: {len(by['summer_class'])} (item 44: >= 26 every year) x {SUMMER_PLACES} places per session = "
        f"{cap['summer_class']:,} per",
        f"#   session, two sessions (L74). Shanghai-scaled: 579 x 0.0279 = 16.1 (2023), 700 x 0.0279 = 19.5",
        "#   (2024) (L72): the plan's 26 is well above Changning's share; 24 is an assumed baseline a",
        "#   little below the target (the plan says \"持续办好\", keep running well, so Changning may in",
        "#   fact already run about 26). By street: " + per_street("summer_class") + ".",
        f"# Winter classes: {len(by['winter_class'])} (item 44: >= 10) x {WINTER_PLACES} places (10,000 / 229, L76) = "
        f"{cap['winter_class']}; open 2024-01 (first",
        "#   year 2024, L76). Shanghai-scaled 229 x 0.0279 = 6.4. By street: " + per_street("winter_class") + ".",
        "#",
        f"# Paediatric clinics (capacity = doctor half-day sessions a month): CHC clinics in {chc_open} of 10",
        "#   streets (item 31 wants all) x 40 sessions; the other three have capacity 0 in the baseline:",
        "#   " + ", ".join(CHC_LACKING) + f". District MCH hospital {MCH_SESSIONS}, Tongren paediatrics {TONGREN_SESSIONS}.",
        f"#   Paediatric doctor-equivalents = sessions / 20 = {doctors:.0f}: {doctors / CHILDREN_0_14 * 1000:.2f} per 1,000 "
        f"children 0-14 ({CHILDREN_0_14:,}),",
        f"#   {doctors / CHILDREN_0_17 * 1000:.2f} per 1,000 aged 0-17 (national target 0.69 for 2020, actual 0.63 in 2018, L63).",
        f"#   Outside: Shanghai Children's Hospital, {CHILDRENS_SESSIONS:,} sessions (its whole throughput, L85).",
        "#",
        "# Totals by kind (facilities, capacity in the kind's unit):",
    ]
    for k in KIND_ORDER:
        L.append(f"#   {k:20s} {len(by[k]):3d}  {cap[k]:>8,} {KINDS[k]['capacity_unit']}")
    L.append("")
    return wrap_comments(L)


def wrap_comments(lines, width=98):
    """Wrap over-long comment lines, continuing with the text's indent + 2."""
    import textwrap
    out = []
    for line in lines:
        if len(line) <= width or not line.startswith("#"):
            out.append(line)
            continue
        body = line[1:]
        indent = len(body) - len(body.lstrip())
        first = "#" + " " * indent
        out += textwrap.wrap(body.strip(), width=width, initial_indent=first,
                             subsequent_indent="#" + " " * (indent + 2 if indent else 3),
                             break_long_words=False, break_on_hyphens=False)
    return out


def fmt_entry(f):
    f = dict(f)
    f.setdefault("run_by", KINDS[f["kind"]]["run_by"])
    f.setdefault("inclusive", KINDS[f["kind"]]["inclusive"])
    keys = ["id", "name", "kind", "street", "host", "run_by", "inclusive", "capacity", "price_month", "quality", "opens",
            "closes", "location", "running_cost_year", "visits_per_session", "source", "assumed"]
    out = []
    first = True
    for k in keys:
        if k not in f:
            continue
        v = f[k]
        if isinstance(v, bool):
            v = "true" if v else "false"
        elif isinstance(v, str) and k not in ("opens", "closes") and not (
                k in ("id", "kind", "street", "host", "run_by")):
            v = q(v)
        out.append(f"  {'- ' if first else '  '}{k}: {v}")
        first = False
    return out


def render():
    fac, kgs, hosts = build()
    L = header(fac, kgs, hosts)
    L.append("kinds:")
    for k in KIND_ORDER:
        d = KINDS[k]
        L.append(f"  {k}:")
        for key in ("label_zh", "service", "capacity_unit", "min_age_months", "max_age_months",
                    "inclusive", "run_by", "source", "assumed"):
            if key not in d:
                continue
            v = d[key]
            if isinstance(v, bool):
                v = "true" if v else "false"
            elif key in ("source", "assumed", "label_zh"):
                v = q(v)
            L.append(f"    {key}: {v}")
    L.append("")
    L.append("facilities:")
    # grouped by kind in the kinds' order, except that kindergartens come before the nursery
    # classes so that every `host` refers to an entry already read
    for k in ["kindergarten"] + [k for k in KIND_ORDER if k != "kindergarten"]:
        group = [f for f in fac if f["kind"] == k]
        if not group:
            continue
        L.append(f"  # --- {k} ({len(group)}) " + "-" * max(3, 70 - len(k)))
        for f in group:
            L += fmt_entry(f)
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="exit 1 if --out differs from what would be written")
    args = ap.parse_args()
    text = render()
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print(f"make_facilities: {args.out} is {'up to date' if same else 'OUT OF DATE'}")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    print(f"make_facilities: wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
