"""test_scenarios: the ready scenarios and what investments do to a run.

- every file in scenarios/ validates, opens with a comment asking its question, and what-ifs
  extend baseline.yaml; they inherit the baseline's committed investments (a list adds to the
  inherited one under `extends`) and hold no copy of them; the one that drops commitments
  does so by id, and `validate` warns about it;
- investments change facility capacity exactly from their start month (and until their end),
  never before, compared month by month with a run without them;
- two scenarios share their random numbers: every output is identical before the first month
  in which they differ (common random numbers);
- the same scenario under two file names gives the same outputs.
"""

import numpy as np
import pytest
import yaml

import childsim
from childsim.testing import assert_runs_equal
from conftest import ROOT, requires_cli, run_cli, scenario_variant

SCENARIOS = ROOT / "scenarios"
READY = sorted(p.name for p in SCENARIOS.glob("*.yaml"))
WHATIFS_WITH_COMMITMENTS = ["nursery-expansion.yaml", "baby-room-every-street.yaml", "baby-room-outreach.yaml",
                            "holiday-classes-30-12.yaml", "paediatrics-every-chc.yaml"]


def _load(name):
    return yaml.safe_load((SCENARIOS / name).read_text(encoding="utf-8"))


def _month(value):
    text = value if isinstance(value, str) else f"{value.year}-{value.month:02d}"
    return np.datetime64(f"{text}-01")


@requires_cli
@pytest.mark.parametrize("name", READY)
def test_ready_scenario_validates_and_states_its_question(name):
    result = run_cli("validate", SCENARIOS / name)
    assert result.returncode == 0, result.stderr
    text = (SCENARIOS / name).read_text(encoding="utf-8")
    assert text.startswith("# "), f"{name} must open with a comment stating its question"
    header = text.split("\n\n")[0]
    leading = [line for line in header.splitlines() if line.startswith("#")]
    assert "?" in " ".join(leading), f"{name}: the opening comment asks no question"
    if name != "baseline.yaml":
        # A what-if extends the baseline, directly or through another ready what-if.
        chain, current = [name], name
        while current != "baseline.yaml":
            current = _load(current)["extends"]
            assert current in READY and current not in chain, f"{name}: extends {chain}"
            chain.append(current)


def _ids(items):
    return [i.get("id", i.get("name")) for i in items]


@requires_cli
def test_whatifs_inherit_the_committed_investments_and_remove_only_by_id():
    committed = _load("baseline.yaml")["investments"]
    assert committed, "baseline.yaml lists the plan's committed investments"
    for name in WHATIFS_WITH_COMMITMENTS:
        own = _ids(_load(name).get("investments", []))
        assert not set(own) & set(_ids(committed)), (
            f"{name}: a what-if adds to the baseline's investments under extends; a copy of a "
            f"committed item would be an error")
        result = run_cli("validate", SCENARIOS / name)
        assert result.returncode == 0 and "warning" not in result.stderr, result.stderr
        assert result.stdout.count("added investment") == len(own)
    from_2025 = [i["id"] for i in committed if not str(i["start"]).startswith("2024")]
    assert _load("do-nothing-after-2024.yaml")["investments"] == [{"remove": i} for i in from_2025]
    result = run_cli("validate", SCENARIOS / "do-nothing-after-2024.yaml")
    assert result.returncode == 0, result.stderr
    for i in from_2025:
        assert f"removes the base scenario's investment '{i}'" in result.stderr


@requires_cli
def test_run_warns_like_validate_when_a_whatif_drops_a_commitment(tmp_path):
    # `childsim run` prints validate's warnings (on stderr, even with -q) before it runs.
    whatif = tmp_path / "drop.yaml"
    whatif.write_text(f"extends: {SCENARIOS / 'do-nothing-after-2024.yaml'}\n"
                      "population_scale: 0.05\nend: 2024-03\nreplicates: 1\n", encoding="utf-8")
    validate = run_cli("validate", SCENARIOS / "do-nothing-after-2024.yaml")
    warnings = [line for line in validate.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings
    run = run_cli("run", SCENARIOS / "do-nothing-after-2024.yaml", "-o", tmp_path / "a.h5",
                  "-q", "--replicates", "1")
    assert run.returncode == 0, run.stderr
    assert [line for line in run.stderr.splitlines() if line.startswith("warning: ")] == warnings
    # A file that extends the what-if without removing anything itself warns of nothing.
    quiet = run_cli("run", whatif, "-o", tmp_path / "b.h5", "-q")
    assert quiet.returncode == 0 and "warning" not in quiet.stderr, quiet.stderr


def _facility_index(ds):
    return {str(f): i for i, f in enumerate(ds["facility"].values)}


@requires_cli
def test_investments_change_capacity_exactly_from_their_start(tmp_path):
    reference = scenario_variant(tmp_path, "baseline.yaml", "reference.yaml", replicates=1)
    with reference.open("a") as f:
        f.write("investments: []\n")
    investments = [
        {"action": "add_capacity", "facility": "huayanglu-kg-1-nc", "amount": 7,
         "start": "2025-03", "end": "2025-11", "capital_cost": 1000, "running_cost_year": 1200},
        {"action": "remove_capacity", "facility": "xinhualu-mkt-1", "amount": 10,
         "start": "2024-06"},
        {"action": "open", "id": "test-nursery", "kind": "inclusive_nursery", "street": "xinjing",
         "capacity": 33, "start": "2025-02", "end": "2026-01", "capital_cost": 5000},
        {"action": "open", "id": "test-room", "kind": "baby_room",
         "location": {"lat": 31.21, "lon": 121.40}, "capacity": 100, "start": "2024-01"},
        {"action": "close", "facility": "jiangsulu-kg-1-nc", "start": "2024-10"},
        {"action": "add_capacity", "facility": "tianshanlu-kg-1-nc", "amount": 5,
         "start": "2023-06", "capital_cost": 9999},          # before the run: from month 1
        {"action": "add_capacity", "facility": "hongqiao-kg-2-nc", "amount": 5,
         "start": "2030-01", "capital_cost": 7777},          # after the run: no effect
    ]
    variant = scenario_variant(tmp_path, "baseline.yaml", "variant.yaml", replicates=1)
    with variant.open("a") as f:
        f.write("investments:\n" + "".join(f"  - {yaml.safe_dump(i, default_flow_style=True).strip()}\n"
                                           for i in investments))
    runs = {}
    for path in (reference, variant):
        out = tmp_path / f"{path.stem}.h5"
        result = run_cli("run", path, "-o", out, "-q")
        assert result.returncode == 0, result.stderr
        runs[path.stem] = childsim.open_run(out)
    ref, var = runs["reference"], runs["variant"]
    times = ref["time"].values
    # The expected capacity, month by month, from the reference and the list above.
    index = _facility_index(var)
    expected = np.zeros((len(times), var.sizes["facility"]), dtype=np.int64)
    for f, i in _facility_index(ref).items():
        expected[:, index[f]] = ref["facility_capacity"].values[:, i]
    before_start = np.datetime64("2024-01-01")
    for inv in investments:
        start = _month(inv["start"])
        end = _month(inv["end"]) if "end" in inv else np.datetime64("2200-01-01")
        active = (times >= max(start, before_start)) & (times < end)
        f = index[inv.get("facility", inv.get("id"))]
        if inv["action"] == "add_capacity":
            expected[active, f] += inv["amount"]
        elif inv["action"] == "remove_capacity":
            expected[active, f] = np.maximum(0, expected[active, f] - inv["amount"])
        elif inv["action"] == "close":
            expected[active, f] = 0
        else:
            expected[active, f] = inv["capacity"]
    np.testing.assert_array_equal(var["facility_capacity"].values, expected)
    # Capital costs fall in the year the investment starts, if it starts within the run.
    # (Both runs inherit the baseline's committed investments: compare the difference.)
    capital = (var["facility_capital_cost"].sum("facility")
               - ref["facility_capital_cost"].sum("facility"))
    assert float(capital.sel(year=2025)) == 1000 + 5000
    assert float(capital.sel(year=2024)) == 0 and float(capital.sel(year=2026)) == 0
    # Facilities opened are listed (with a host-less, empty facility_host).
    assert str(var["facility_street"].sel(facility="test-nursery").values) == "xinjing"
    assert str(var["facility_host"].sel(facility="test-nursery").values) == ""
    assert str(var["facility_host"].sel(facility="huayanglu-kg-1-nc").values) == "huayanglu-kg-1"


def _expected_extra(whatif, base):
    """The what-if's own investments: those not in the baseline's list."""
    return [i for i in whatif["investments"] if i not in base["investments"]]


@requires_cli
def test_ready_whatif_differs_from_baseline_by_its_own_investments_from_their_start(brief_files):
    base = childsim.open_run(brief_files["baseline"])
    alt = childsim.open_run(brief_files["nursery-expansion"])
    extra = _expected_extra(_load("nursery-expansion.yaml"), _load("baseline.yaml"))
    assert extra
    times = base["time"].values
    base_index, alt_index = _facility_index(base), _facility_index(alt)
    diff = np.zeros((len(times), alt.sizes["facility"]), dtype=np.int64)
    for f, i in alt_index.items():
        diff[:, i] = alt["facility_capacity"].values[:, i]
        if f in base_index:
            diff[:, i] -= base["facility_capacity"].values[:, base_index[f]]
    expected = np.zeros_like(diff)
    for inv in extra:
        active = times >= _month(inv["start"])
        if inv["action"] == "open":
            expected[active, alt_index[inv["id"]]] = inv["capacity"]
        else:
            expected[active, alt_index[inv["facility"]]] += inv["amount"]
    for month in range(len(times)):  # month by month, so that a failure names the month
        assert np.array_equal(diff[month], expected[month]), f"capacity differs in {times[month]}"
    first = min(_month(i["start"]) for i in extra)
    assert not diff[times < first].any() and diff[times == first].any()


@requires_cli
def test_outputs_identical_before_the_first_month_the_scenarios_differ(brief_files):
    base = childsim.open_run(brief_files["baseline"])
    alt = childsim.open_run(brief_files["nursery-expansion"])
    first = min(_month(i["start"]) for i in _expected_extra(_load("nursery-expansion.yaml"),
                                                           _load("baseline.yaml")))
    common = [f for f in base["facility"].values if f in set(alt["facility"].values)]
    new = [f for f in alt["facility"].values if f not in set(base["facility"].values)]
    assert new
    checked = 0
    for name in base.data_vars:
        a, b = base[name], alt[name]
        if "facility" in a.dims:
            new_part = b.sel(facility=new)
            a, b = a.sel(facility=common), b.sel(facility=common)
        else:
            new_part = None
        if "time" in a.dims:
            before = a["time"].values < first
            a, b = a.isel(time=before), b.isel(time=before)
            if new_part is not None:  # facilities not yet open hold nobody
                values = new_part.isel(time=before).values
                assert not np.nan_to_num(values).any(), f"{name}: new facilities used before opening"
        elif "year" in a.dims:
            keep = a["year"].values < first.astype("datetime64[Y]").astype(int) + 1970
            a, b = a.isel(year=keep), b.isel(year=keep)
        np.testing.assert_array_equal(a.values, b.values, err_msg=f"{name} differs before {first}")
        checked += 1
    assert checked == len(base.data_vars)
    # ... and they do differ from that month on.
    at = base["time"].values == first
    assert not np.array_equal(base["facility_capacity"].sel(facility=common).values[at],
                              alt["facility_capacity"].sel(facility=common).values[at])


@requires_cli
def test_same_scenario_under_two_file_names_gives_identical_outputs(tmp_path):
    text = scenario_variant(tmp_path, "holiday-classes-30-12.yaml", "first.yaml",
                            end="2025-03").read_text()
    (tmp_path / "second-name.yaml").write_text(text)
    outs = []
    for name in ("first.yaml", "second-name.yaml"):
        out = tmp_path / f"{name}.h5"
        result = run_cli("run", tmp_path / name, "-o", out, "-q")
        assert result.returncode == 0, result.stderr
        outs.append(childsim.open_run(out))
    a, b = outs
    assert a.attrs["scenario_file"] != b.attrs["scenario_file"]
    assert_runs_equal(a, b, ignore_attrs=("created", "scenario_file", "scenario_name", "title"))
