# test_scenario_targets: a scenario's own `targets:` — added and overridden targets are tested
# by the model against the scenario's thresholds (met exactly when the indicator passes the
# threshold), they do not change the simulation, the analysis and the briefing use them, and
# bad items are located errors.
import numpy as np
import pytest

import childsim
from conftest import ROOT, requires_core

pytestmark = requires_core

SCENARIOS = ROOT / "scenarios"
QUICK = {"extends": "baseline.yaml", "population_scale": 0.05, "end": "2027-12", "replicates": 3}
ADDED = {"id": "nursery_places_per_1000_2026", "variable": "indicator_nursery_places_per_1000",
         "year": 2026, "assumed": "a threshold under study"}


def _run(targets=None, **extra):
    scenario = dict(QUICK, **extra)
    if targets is not None:
        scenario["targets"] = targets
    return childsim.run(scenario, base_dir=SCENARIOS, threads=1)


@pytest.fixture(scope="module")
def plain():
    return _run()


def test_scenario_targets_added_and_overridden_are_met_exactly_when_the_indicator_passes(plain):
    # Thresholds in the middle of what the plain run gives, so both outcomes occur.
    places = plain["indicator_nursery_places_per_1000"].values
    summer = plain["indicator_summer_classes"].values
    mid_places = float(np.median(places))
    mid_summer = float(np.median(summer)) + 0.5
    ds = _run([dict(ADDED, threshold=mid_places),
               {"id": "summer_classes", "threshold": mid_summer, "comparison": "<",
                "source": "a stricter test"}])
    # Targets do not change the simulation (common random numbers, same seed).
    for name in ("births", "population", "indicator_nursery_places_per_1000"):
        np.testing.assert_array_equal(ds[name].values, plain[name].values)
    base_ids = [str(t) for t in plain["target"].values]
    ids = [str(t) for t in ds["target"].values]
    assert ids == base_ids + [ADDED["id"]]
    met = ds["indicator_target_met"]
    added = met.sel(target=ADDED["id"]).values
    np.testing.assert_array_equal(added, (places >= mid_places).astype(added.dtype))
    assert 0 < added.sum() < added.size
    assert float(ds["target_threshold"].sel(target="summer_classes")) == mid_summer
    assert str(ds["target_comparison"].sel(target="summer_classes").values) == "<"
    overridden = met.sel(target="summer_classes").values
    np.testing.assert_array_equal(overridden, (summer < mid_summer).astype(overridden.dtype))
    # The other targets are the base data's, untouched.
    others = [t for t in base_ids if t != "summer_classes"]
    np.testing.assert_array_equal(met.sel(target=others).values,
                                  plain["indicator_target_met"].sel(target=others).values)


def test_scenario_targets_analysis_uses_the_runs_own_targets(plain):
    ds = _run([dict(ADDED, threshold=0.0)])
    table = childsim.run_targets(ds)
    assert table.loc[ADDED["id"], "threshold"] == 0.0 and table.loc[ADDED["id"], "year"] == 2026
    met = childsim.targets_met(ds)["met"].sel(target=ADDED["id"])
    years = met["year"].values
    assert np.isnan(met.sel(year=years[years < 2026])).all()   # not yet in force
    assert (met.sel(year=years[years >= 2026]) == 1).all()      # places ≥ 0 always
    summary = childsim.target_summary(childsim.targets_met(ds), table)
    assert summary.loc[ADDED["id"], "status"] == "met"
    assert summary.loc[ADDED["id"], "deadline"] == 2026
    # A run without scenario targets reads the same table as targets.yaml.
    base = childsim.run_targets(plain)
    yaml_table = childsim.load_targets()
    assert list(base.index) == list(yaml_table.index)
    np.testing.assert_array_equal(base["threshold"].values, yaml_table["threshold"].values)


def test_scenario_targets_appear_in_the_briefing(plain, tmp_path):
    base = childsim.write(plain, tmp_path / "base.h5")
    whatif = childsim.write(_run([dict(ADDED, threshold=0.0, description="Study: places 2026")],
                                 name="study"), tmp_path / "study.h5")
    page = childsim.build_briefing([base, whatif])
    section = page[page.index('<section id="targets">'):]
    section = section[:section.index("</section>")]
    assert "Study: places 2026" in section   # a row of the target table


@pytest.mark.parametrize("targets, where, message", [
    ([dict(ADDED, threshold=5, variable="indicator_nope")], "targets[0].variable",
     "names no yearly district indicator"),
    ([{"id": "summer_classes", "threshold": 30}], "targets[0]", "say where the new one comes from"),
    ([dict(ADDED, threshold=5), dict(ADDED, threshold=6)], "targets[1].id", "listed twice"),
    ([{k: v for k, v in ADDED.items()}], "targets[0].threshold", "missing required key"),
    ([dict(ADDED, threshold=5, indicator="nursery_places_per_1000")], "targets[0].variable", "not both"),
    ({"id": "x"}, "targets", "expected a list of targets"),
    ([dict(ADDED, threshold=5, comparison="=>")], "targets[0].comparison", "expected one of"),
])
def test_scenario_targets_bad_items_are_located_errors(targets, where, message):
    with pytest.raises(childsim.ScenarioError, match=message) as info:
        childsim.load_scenario(dict(QUICK, targets=targets), base_dir=SCENARIOS)
    assert info.value.key == where
    assert info.value.line >= 6   # inside the targets list, not at the top
    assert info.value.file.endswith("<dict>")


def test_scenario_targets_under_extends_add_to_and_override_the_inherited_by_id(tmp_path):
    # A base scenario with its own targets, and a what-if that changes one key of one of them
    # and adds another: the inherited targets are kept (like investments, docs/scenarios.md).
    base = tmp_path / "study-base.yaml"
    base.write_text(
        f"extends: {SCENARIOS / 'baseline.yaml'}\nname: study-base\npopulation_scale: 0.05\n"
        "end: 2027-12\nreplicates: 2\ntargets:\n"
        "  - {id: nursery_places_per_1000_2026, variable: indicator_nursery_places_per_1000,"
        " threshold: 5.0, year: 2026, assumed: a threshold under study}\n"
        "  - {id: summer_classes, threshold: 30, assumed: stricter}\n", encoding="utf-8")
    whatif = tmp_path / "study-whatif.yaml"
    whatif.write_text(
        "extends: study-base.yaml\nname: study-whatif\ntargets:\n"
        "  - {id: nursery_places_per_1000_2026, threshold: 6.0}\n"
        "  - {id: winter_classes, threshold: 12, assumed: stricter}\n", encoding="utf-8")
    ds = childsim.run(whatif, threads=1)
    table = childsim.run_targets(ds)
    assert table.loc["nursery_places_per_1000_2026", "threshold"] == 6.0   # overridden key
    assert table.loc["nursery_places_per_1000_2026", "year"] == 2026       # inherited keys
    assert table.loc["summer_classes", "threshold"] == 30                  # inherited target
    assert table.loc["winter_classes", "threshold"] == 12                  # added target
    plain = childsim.load_targets()
    assert set(table.index) == set(plain.index) | {"nursery_places_per_1000_2026"}
    from conftest import cli_binary, run_cli
    if cli_binary() is not None:
        result = run_cli("validate", whatif)
        assert result.returncode == 0, result.stderr
        assert "overridden target 'nursery_places_per_1000_2026': threshold (line 4)" \
            in result.stdout
        assert "added target 'winter_classes' (line 5)" in result.stdout
