"""test_plan_targets: plan item 19's targets counted as the plan words them, on the baseline.

"+250 public nursery-class places in 2024" counts only classes of public kindergartens
(run_by education_bureau or public_body), and the 普惠 share counts only places designated
inclusive. The expected values are computed here from the input files alone
(facilities.yaml and baseline.yaml, read with PyYAML), independently of the model, then
compared with the model's indicators and verdicts and with the briefing's words.
"""
import numpy as np
import pytest
import yaml

import childsim
from conftest import ROOT, requires_cli, run_cli

PUBLIC = {"education_bureau", "public_body"}
NURSERY_KINDS = {"nursery_class", "inclusive_nursery", "market_nursery", "employer_nursery"}


def _inputs():
    with open(ROOT / "scenarios" / "changning" / "facilities.yaml", encoding="utf-8") as f:
        fac = yaml.safe_load(f)
    with open(ROOT / "scenarios" / "baseline.yaml", encoding="utf-8") as f:
        base = yaml.safe_load(f)
    return fac, base


def _flags(fac, entry):
    kind = fac["kinds"][entry["kind"]]
    return entry.get("run_by", kind["run_by"]), entry.get("inclusive", kind["inclusive"])


def expected_item_19(until="2025-12"):
    """Public class places added and the designated 普惠 share with the baseline's investments
    in effect by ``until`` (YYYY-MM), from the YAML files alone."""
    fac, base = _inputs()
    by_id = {e["id"]: e for e in fac["facilities"]}
    places = {e["id"]: e["capacity"] for e in fac["facilities"] if e["kind"] in NURSERY_KINDS}
    flags = {e["id"]: _flags(fac, e) for e in fac["facilities"]}
    hosted = {e["id"] for e in fac["facilities"] if "host" in e}
    added_public = 0
    for inv in base["investments"]:
        if str(inv["start"]) > until:
            continue
        if inv["action"] == "open" and inv["kind"] in NURSERY_KINDS:
            host = by_id.get(inv.get("host"))
            run_by, incl = _flags(fac, host) if host else (fac["kinds"][inv["kind"]]["run_by"],
                                                          fac["kinds"][inv["kind"]]["inclusive"])
            flags[inv["id"]] = (inv.get("run_by", run_by), inv.get("inclusive", incl))
            places[inv["id"]] = inv["capacity"]
            if host:
                hosted.add(inv["id"])
            amount, fid = inv["capacity"], inv["id"]
        elif inv["action"] == "add_capacity" and inv["facility"] in places:
            fid, amount = inv["facility"], inv["amount"]
            places[fid] += amount
        else:
            continue
        if fid in hosted and flags[fid][0] in PUBLIC:
            added_public += amount
    total = sum(places.values())
    inclusive = sum(p for fid, p in places.items() if flags[fid][1])
    return added_public, inclusive / total


def test_baseline_input_files_give_210_public_places_and_a_0_495_share():
    # The committed +250 includes two second classes of 20 in private kindergartens.
    added, share = expected_item_19("2024-12")
    assert added == 210
    _, share_2025 = expected_item_19("2025-12")
    assert share_2025 == pytest.approx(1275 / 2575)


def test_facility_flags_follow_their_host_and_kind():
    fac, _ = _inputs()
    by_id = {e["id"]: e for e in fac["facilities"]}
    for e in fac["facilities"]:
        run_by, incl = _flags(fac, e)
        assert run_by in PUBLIC | {"private", "employer"}
        if "host" in e:
            assert (run_by, incl) == _flags(fac, by_id[e["host"]]), e["id"]
        if e["kind"] in ("market_nursery", "employer_nursery"):
            assert not incl, e["id"]


@requires_cli
def test_model_counts_item_19_as_worded_and_the_briefing_says_missed(brief_files, tmp_path):
    ds = childsim.open_run(brief_files["baseline"])
    # The per-facility flags are in the file.
    assert set(ds["facility_run_by"].values.astype(str)) <= PUBLIC | {"private", "employer"}
    met = childsim.targets_met(ds)
    added, _ = expected_item_19("2024-12")
    _, share = expected_item_19("2025-12")
    values = met["value"]
    assert np.all(values.sel(year=2024, target="public_nursery_places_added_2024") == added)
    assert np.allclose(values.sel(year=2025, target="inclusive_nursery_share"), share)
    # The model's own verdicts: both missed.
    assert np.all(met["met"].sel(year=2024, target="public_nursery_places_added_2024") == 0)
    assert np.all(met["met"].sel(year=2025, target="inclusive_nursery_share") == 0)
    # The same from the outputs without the model's indicators (the analysis fallback).
    plain = childsim.target_indicators(ds.drop_vars([v for v in ds.data_vars
                                                     if v.startswith("indicator_")]))
    assert np.all(plain.sel(year=2024, target="public_nursery_places_added_2024") == added)
    assert np.allclose(plain.sel(year=2025, target="inclusive_nursery_share"), share)
    table = childsim.target_summary(met, childsim.load_targets())
    assert table.loc["public_nursery_places_added_2024", "status"] == "not met"
    assert table.loc["inclusive_nursery_share", "status"] == "not met"
    # The briefing says so in words.
    out = tmp_path / "brief.html"
    result = run_cli("compare", brief_files["baseline"], brief_files["nursery-expansion"], "-o", out)
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert "misses" in page
    lead = page.split("misses", 1)[1].split("</p>")[0].lower()
    assert "public nursery-class places added in 2024" in lead or "more" in lead


def test_targets_quote_the_plan():
    targets = childsim.load_targets()
    for tid, row in targets.iterrows():
        if row["plan_item"]:
            assert row["plan_text"].startswith(f"({row['plan_item']})"), tid
    assert "公办园托额250个" in targets.loc["public_nursery_places_added_2024", "plan_text"]
    assert "普惠性托位占比超过60%" in targets.loc["inclusive_nursery_share", "plan_text"]
