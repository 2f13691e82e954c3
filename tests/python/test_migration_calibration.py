"""test_migration_calibration: the migration.* values of parameters.yaml are the posterior
medians of calibration/migration.yaml recorded in docs/calibration.md (no drift between the
fitted values, their documented ranges and the record of the run), and a calibration that
recovers a known migration level from a simulated target."""
import pathlib
import re

import yaml

from conftest import requires_cli, run_cli

ROOT = pathlib.Path(__file__).resolve().parents[2]

# A row of the posterior table of docs/calibration.md, "The migration calibration":
# | `migration.x` | prior lo–hi | median | 5 %–95 % | before |
ROW = re.compile(r"^\| `(migration\.[a-z_]+)` \| ([0-9.]+)–([0-9.]+) \| ([0-9.]+) \| "
                 r"([0-9.]+)–([0-9.]+) \| ([0-9.]+) \|")


def posterior_table():
    text = (ROOT / "docs" / "calibration.md").read_text(encoding="utf-8")
    section = text.split("## The migration calibration", 1)
    assert len(section) == 2, "docs/calibration.md has no section 'The migration calibration'"
    body = section[1].split("\n## ", 1)[0]
    rows = {}
    for line in body.splitlines():
        m = ROW.match(line)
        if m:
            rows[m.group(1)] = {"prior": (float(m.group(2)), float(m.group(3))),
                                "median": float(m.group(4)),
                                "interval": (float(m.group(5)), float(m.group(6))),
                                "before": float(m.group(7))}
    return rows


def parameter_rows():
    data = yaml.safe_load((ROOT / "scenarios" / "changning" / "parameters.yaml").read_text(
        encoding="utf-8"))
    return {p["name"]: p for p in data["parameters"]}


def fitted_names():
    spec = yaml.safe_load((ROOT / "calibration" / "migration.yaml").read_text(encoding="utf-8"))
    return [p["name"] if isinstance(p, dict) else p for p in spec["parameters"]]


def test_every_fitted_parameter_is_in_the_posterior_table():
    assert sorted(posterior_table()) == sorted(fitted_names())


def test_parameters_yaml_holds_the_documented_medians_and_intervals():
    """Value = the posterior median; range = the prior the run drew from; the source states
    the 90 % posterior interval and names the calibration file."""
    rows, params = posterior_table(), parameter_rows()
    for name, row in rows.items():
        p = params[name]
        assert p["value"] == row["median"], f"{name}: parameters.yaml {p['value']} vs median"
        assert tuple(p["range"]) == row["prior"], f"{name}: range vs the run's prior"
        lo, hi = row["interval"]
        assert lo <= row["median"] <= hi
        # The posterior lies inside the prior it was drawn from.
        assert row["prior"][0] <= lo and hi <= row["prior"][1]
        assert "source" in p and "assumed" not in p, f"{name}: a fitted value is sourced"
        assert "calibration/migration.yaml" in p["source"]
        assert f"90 % posterior interval [{lo:g}, {hi:g}]" in p["source"], name


# --- a recovered parameter ---------------------------------------------------------------------

RECOVER_YEARS = 6  # January 2024 -> January 2030


def residents_change(path, years=RECOVER_YEARS):
    """Mean over replicates of district residents at month 12 x years over the first month."""
    import childsim

    res = childsim.open_run(path)["residents"].sum("street").astype("float64")
    return float((res.isel(time=12 * years) / res.isel(time=0)).mean("replicate"))


@requires_cli
def test_calibration_recovers_a_known_adult_inflow_ratio(tmp_path):
    """Simulate with a known migration.adult_inflow_ratio (three quarters up its range), take
    the simulated six-year change of residents as the target, calibrate the ratio over
    its whole range, and find the known value inside the 90 % posterior interval, which must
    also be much narrower than the prior (the target identifies the ratio)."""
    from childsim.calibration import open_posterior, posterior_summary

    name = "migration.adult_inflow_ratio"
    lo, hi = parameter_rows()[name]["range"]
    truth = round(lo + 0.75 * (hi - lo), 4)
    base = ROOT / "scenarios" / "baseline.yaml"
    end = f"{2024 + RECOVER_YEARS}-01"
    scenario = tmp_path / "truth.yaml"
    scenario.write_text(f"extends: {base}\npopulation_scale: 0.05\nend: {end}\nreplicates: 4\n"
                        f"seed: 11\nparameters: {{{name}: {truth}}}\n", encoding="utf-8")
    result = run_cli("run", scenario, "-o", tmp_path / "truth.h5", "-q", "--threads", "2")
    assert result.returncode == 0, result.stderr
    observed = residents_change(tmp_path / "truth.h5")
    calibration = tmp_path / "recover.yaml"
    calibration.write_text(f"""name: recover
description: recover a known adult_inflow_ratio
scenario: {base}
population_scale: 0.05
end: {end}
replicates: 1
seed: 5
parameters:
  - name: {name}
abc: {{particles: 30, max_generations: 3, tolerance_quantile: 0.5, min_acceptance_rate: 0.05}}
targets:
  - id: residents_change
    description: residents in January {end[:4]} per resident in January 2024
    value: {observed!r}
    sd: 0.004
    year: {end[:4]}
    months: [1]
    basis: assumed
    scaled_from_shanghai: false
    source: a run of the model at the known value (this test)
    output: residents
    aggregate: lagged_ratio
    denominator:
      output: residents
      window: {{from: {{years: -{RECOVER_YEARS}, month: 1}}, to: {{years: -{RECOVER_YEARS}, month: 1}}}}
""", encoding="utf-8")
    out = tmp_path / "posterior.h5"
    result = run_cli("calibrate", calibration, "-o", out, "--threads", "2")
    assert result.returncode == 0, result.stderr
    row = posterior_summary(open_posterior(out)).loc[name]
    print(f"truth {truth}, observed change {observed:.5f}, posterior {row.q05:.3f}-{row.q95:.3f}")
    assert row.q05 <= truth <= row.q95, (truth, row.q05, row.q95)
    assert row.q95 - row.q05 < 0.5 * (hi - lo), (row.q05, row.q95, lo, hi)
