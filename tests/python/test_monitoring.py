# test_monitoring: annual monitoring (issue #16, plan item 89) — the observations file is
# validated with located errors, conditioning is Bayes' rule (checked against a conjugate
# normal model), the conditioned projection covers the truth at the nominal rate when the
# observations are drawn from the model itself (simulation-based calibration), flags fire in
# the streets whose births follow another fertility, and the CLI writes a report that opens in
# Chromium and a posterior file that scenarios can use.
import io
import re

import numpy as np
import pandas as pd
import pytest

import childsim
from childsim.monitoring import (
    indicator_series,
    model_values,
    monitoring_ensemble,
    observation_weights,
    smoothed_quantiles,
)
from conftest import ROOT, requires_cli, requires_core, run_cli
from test_briefing import chromium, requires_chromium

SCENARIOS = ROOT / "scenarios"
STREETS = ["huayanglu", "jiangsulu", "xinhualu", "zhoujiaqiao", "tianshanlu", "xianxiaxincun",
           "hongqiao", "chengjiaqiao", "beixinjing", "xinjing"]


def test_observation_weights_are_bayes_rule_for_a_normal_prior():
    # Prior m ~ N(0, 1) as an ensemble, one observation y = 1.2 with sd 0.5: the posterior is
    # N(y / (1 + σ²), σ² / (1 + σ²)) = N(0.96, 0.2).
    rng = np.random.default_rng(7)
    m = rng.normal(size=40_000)
    import xarray as xr

    values = xr.DataArray(m[None, :], dims=("obs", "replicate"),
                          coords={"year": ("obs", [2024]), "value": ("obs", [1.2]),
                                  "sd": ("obs", [0.5])})
    w = observation_weights(values).values
    mean = float(np.dot(w, m))
    sd = float(np.sqrt(np.dot(w, (m - mean) ** 2)))
    ess = 1 / np.sum(w * w)
    assert abs(mean - 0.96) < 4 * np.sqrt(0.2 / ess)
    assert abs(sd - np.sqrt(0.2)) < 0.02
    lo, hi = smoothed_quantiles(m, w, [0.05, 0.95])
    # The kernel widens by a bandwidth of about 1.06 s n^-1/5 (≈ 0.04 here): within 3 %.
    assert lo == pytest.approx(0.96 - 1.6449 * np.sqrt(0.2), abs=0.03)
    assert hi == pytest.approx(0.96 + 1.6449 * np.sqrt(0.2), abs=0.03)
    # Before the observation's year the weights are the prior's.
    assert np.allclose(observation_weights(values, through=2023).values, 1 / m.size)


def test_smoothed_quantiles_of_a_weighted_point_set_with_an_error_are_normal_quantiles():
    # One point carries all the weight: the range is that point ± 1.645 × the error's sd.
    x = np.array([[50.0, 100.0], [70.0, 130.0]])
    q = smoothed_quantiles(x, [0.0, 1.0], [0.05, 0.5, 0.95], extra_sd=[5.0, 10.0])
    assert q[:, 0] == pytest.approx([70 - 8.2243, 70, 70 + 8.2243], abs=1e-3)
    assert q[:, 1] == pytest.approx([130 - 16.4485, 130, 130 + 16.4485], abs=1e-3)


# --- observations files ----------------------------------------------------------------

GOOD = "year,street,indicator,value,sd,source,note\n2024,xinjing,births,412,,register,\n"


@pytest.mark.parametrize("text, where, message", [
    ("year,street,indicator,valeu,source\n", ":1:23:", "column 'valeu': unknown column"),
    ("year,street,indicator,source\n", ":1:1:", "no column 'value'"),
    ("year,street,indicator,value,source\n2024,xinjingzhen,births,4,r\n", ":2:6:",
     "unknown street 'xinjingzhen'"),
    ("year,street,indicator,value,source\n2024,xinjing,birth,4,r\n", ":2:14:",
     "unknown indicator 'birth'"),
    ("year,street,indicator,value,source\n2024,xinjing,births,4OO,r\n", ":2:21:",
     "expected a number, got '4OO'"),
    ("year,street,indicator,value,source\n2024,xinjing,births,-4,r\n", ":2:21:",
     "must not be negative"),
    ("year,street,indicator,value,source\n2024,xinjing,births,4,\n", ":2:23:",
     "every observed figure needs its source"),
    ("year,street,indicator,value,sd,source\n2024,xinjing,births,4,0,r\n", ":2:23:",
     "column 'sd': expected a positive number"),
    ("year,street,indicator,value,source\n2040,xinjing,births,4,r\n", ":2:1:",
     "outside the model's years 2024–2035"),
    ("year,street,indicator,value,source\n20x4,xinjing,births,4,r\n", ":2:1:",
     "expected a year"),
    ("year,street,indicator,value,source\n2024,xinjing,births,4,r\n2024,新泾镇,births,5,r\n",
     ":3:10:", "already given on line 2"),
    ("year,street,indicator,value,source\n2024,xinjing,births,4,r,extra\n", ":2:",
     "6 fields, the header has 5"),
])
def test_a_malformed_observations_file_is_located(text, where, message):
    names_zh = ["新泾镇" if s == "xinjing" else "" for s in STREETS]
    with pytest.raises(childsim.ObservationsError) as error:
        childsim.read_observations(io.StringIO(text), streets=STREETS, names_zh=names_zh,
                                   years=(2024, 2035))
    assert f"<observations>{where}" in str(error.value) and message in str(error.value)


def test_street_names_in_chinese_and_english_and_empty_values_are_accepted():
    text = ("# a comment\nyear,street,indicator,value,sd,source,note\n"
            "2024,新泾镇,births,412,,register,\n2024,Xinjing Town,children_0_2,1200,50,r,\n"
            "2024,district,births,,,,not yet published\n")
    obs = childsim.read_observations(io.StringIO(text), streets=["xinjing"],
                                     names_zh=["新泾镇"], names_en=["Xinjing Town"])
    assert obs.street.tolist() == ["xinjing", "xinjing"]
    assert obs.sd.tolist() == [pytest.approx(0.05 * 412), 50.0]
    assert obs.line.tolist() == [3, 4] and obs.attrs["empty_rows"] == 1


@requires_cli
def test_monitor_refuses_a_bad_file_with_one_line_and_writes_nothing(tmp_path):
    bad = tmp_path / "obs.csv"
    bad.write_text("year,street,indicator,value,source\n2024,xinjing,births,4OO,r\n",
                   encoding="utf-8")
    out = tmp_path / "report.html"
    result = run_cli("monitor", bad, "--scenario", SCENARIOS / "baseline.yaml", "-o", out)
    assert result.returncode == 2
    assert result.stderr == f"error: {bad}:2:21: column 'value': expected a number, got '4OO'\n"
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("year,street,indicator,value,source\n2024,新泾镇,births,4,r\n".encode("gbk"))
    result = run_cli("monitor", gbk, "--scenario", SCENARIOS / "baseline.yaml", "-o", out)
    assert result.returncode == 2 and f"{gbk}:2:1: the file is not UTF-8" in result.stderr
    assert not out.exists()


@requires_cli
def test_the_template_lists_every_indicator_and_area_and_reads_back(tmp_path):
    template = tmp_path / "observations.csv"
    result = run_cli("monitor", template, "--template", "--scenario",
                     SCENARIOS / "baseline.yaml", "--years", "2024,2025")
    assert result.returncode == 0, result.stderr
    rows = pd.read_csv(template, dtype=str, keep_default_na=False, comment="#")
    assert len(rows) == 2 * (len(STREETS) + 1) * len(childsim.INDICATORS)
    assert set(rows.indicator) == set(childsim.INDICATORS)
    obs = childsim.read_observations(template, streets=STREETS)
    filled = rows[rows.value != ""]
    assert len(obs) == len(filled) and obs.attrs["empty_rows"] == len(rows) - len(filled)
    assert (obs.source != "").all()


# --- conditioning on the model's own output ----------------------------------------------

QUICK = {"extends": "baseline.yaml", "services": False}


SBC_PARAMETERS = ["fertility.tfr_multiplier", "migration.inflow_ratio"]


@pytest.fixture(scope="module")
def sbc_ensemble():
    """300 replicates, fertility level and in-migration varied, a twentieth of the district."""
    ds, varied = monitoring_ensemble(
        {**QUICK, "end": "2030-12", "population_scale": 0.05}, replicates=300,
        parameters=SBC_PARAMETERS, base_dir=SCENARIOS)
    assert varied == SBC_PARAMETERS
    return ds


@requires_core
def test_the_conditioned_projection_covers_the_truth_at_the_nominal_rate(sbc_ensemble):
    # Simulation-based calibration: each replicate in turn is the truth; its births and
    # children aged 0-2 in 2024-2025 plus an observation error are the observations; the
    # others, weighted, project births in 2030. The 90 % range must hold the truth's own
    # 2030 births in about 90 % of the cases, and be narrower than without the observations.
    ds = sbc_ensemble
    theta = ds.parameter_value.sel(parameter=SBC_PARAMETERS).values
    births = indicator_series(ds, "births").sel(area="district")
    young = indicator_series(ds, "children_0_2").sel(area="district")
    future = births.sel(year=2030).values
    m = np.concatenate([births.sel(year=[2024, 2025]).values,
                        young.sel(year=[2025]).values], axis=1)
    n = m.shape[0]
    rng = np.random.default_rng(16)
    hits, widths = 0, []
    for j in range(n):
        sd = 0.05 * m[j]
        y = m[j] + sd * rng.normal(size=sd.size)
        obs = pd.DataFrame({"year": [2024, 2025, 2025], "street": "district",
                            "indicator": ["births", "births", "children_0_2"],
                            "value": y, "sd": sd, "source": "model", "note": "",
                            "line": [1, 2, 3]})
        values = model_values(ds, obs)
        prior = np.ones(n)
        prior[j] = 0.0  # the truth is not part of the ensemble that predicts it
        w = observation_weights(values, prior=prior / prior.sum(), theta=theta).values
        lo, hi = smoothed_quantiles(np.delete(future, j), np.delete(w, j), [0.05, 0.95])
        hits += lo <= future[j] <= hi
        widths.append(hi - lo)
    coverage = hits / n
    # Binomial sd of the coverage at 0.9 and n = 300 is 0.017: ±3 sd.
    assert 0.85 <= coverage <= 0.95, coverage
    plo, phi = np.quantile(future, [0.05, 0.95])
    assert np.mean(widths) < 0.85 * (phi - plo), (np.mean(widths), phi - plo)


def _street_births(ds):
    return indicator_series(ds, "births").sel(year=[2024, 2025])


@pytest.fixture(scope="module")
def tfr_observations():
    """Street births 2024-2025 of the whole district: the baseline's in eight streets; in
    Xinjing and Tianshanlu those of a fertility that is the baseline's in 2024 and 1.8 times
    it in 2025 (effective TFR 0.81 instead of the medium path's 0.45)."""
    common = {**QUICK, "end": "2025-12"}
    usual = childsim.run(common, replicates=1, seed=99, base_dir=SCENARIOS)
    high = childsim.run({**common, "demography": {"fertility": {"values": {2024: 0.54,
                                                                         2025: 0.81}}}},
                        replicates=1, seed=99, base_dir=SCENARIOS)
    altered = ["xinjing", "tianshanlu"]
    rows = []
    for year in (2024, 2025):
        for street in STREETS:
            source = high if street in altered else usual
            value = float(_street_births(source).sel(year=year, area=street).isel(replicate=0))
            rows.append({"year": year, "street": street, "indicator": "births",
                         "value": value, "sd": max(0.05 * value, 1.0),
                         "source": "synthetic", "note": "", "line": len(rows) + 2})
    return pd.DataFrame(rows), altered


@requires_core
def test_flags_fire_in_the_streets_with_another_fertility(tfr_observations):
    obs, altered = tfr_observations
    result = childsim.monitor(obs, {**QUICK, "end": "2025-12"}, base_dir=SCENARIOS,
                              replicates=150, population_scale=0.25,
                              parameters=["fertility.tfr_multiplier", "migration.inflow_ratio"])
    judged = result.observations
    late = judged[judged.year == 2025]
    # Judged against the projection conditioned on 2024: the two streets are above it ...
    for street in altered:
        row = late[late.street == street].iloc[0]
        assert row.flag == "above", row.to_dict()
        assert row.judged_by == "2024"
        assert "births 2025 above the projected range" in row.message
        assert "review nursery places in 2027–2028" in row.message
    # ... and the other streets are flagged no more often than chance allows (10 % each).
    others = late[~late.street.isin(altered)]
    assert (others.flag != "").sum() <= 2, others[["street", "value", "low", "high"]]
    # The figures narrow what the ensemble believes about the fertility level.
    p = result.parameters.set_index("parameter").loc["fertility.tfr_multiplier"]
    assert p["2025_high"] - p["2025_low"] < 0.6 * (p["prior_high"] - p["prior_low"])


@requires_cli
@requires_chromium
def test_the_report_opens_and_the_posterior_feeds_a_scenario(tfr_observations, tmp_path):
    obs, altered = tfr_observations
    csv = tmp_path / "observations.csv"
    obs.drop(columns=["line"]).to_csv(csv, index=False)
    scenario = tmp_path / "quick.yaml"
    scenario.write_text(f"extends: {SCENARIOS / 'baseline.yaml'}\nend: 2027-12\n"
                        "services: true\n", encoding="utf-8")
    report, posterior = tmp_path / "report.html", tmp_path / "monitored.h5"
    result = run_cli("monitor", csv, "--scenario", scenario, "-o", report, "--replicates", 60,
                     "--population-scale", 0.1, "--parameters", "fertility.tfr_multiplier",
                     "--posterior", posterior)
    assert result.returncode == 0, result.stderr
    assert "Xinjing (新泾镇): births" in result.stdout
    dom = chromium(tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom", report.as_uri())
    assert dom.returncode == 0
    assert not [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    for section in ("summary", "observed", "projection", "targets", "changes", "parameters",
                    "method"):
        assert f'id="{section}"' in dom.stdout
    assert "above range" in dom.stdout and "data:image/png;base64," in dom.stdout
    assert not re.search(r'(src|href)="(https?:)?//', report.read_text(encoding="utf-8"))
    # The posterior: a scenario drawing from it runs, each replicate with one of its values.
    import h5py

    with h5py.File(posterior) as f:
        particles = set(np.round(f["particles"][-1, :, 0], 12))
        weights = f["weights"][-1]
    assert abs(weights.sum() - 1) < 1e-12
    follow = tmp_path / "follow.yaml"
    follow.write_text(f"extends: {scenario}\nend: 2024-12\npopulation_scale: 0.05\n"
                      f"parameters: {{posterior: {posterior}}}\n", encoding="utf-8")
    ds = childsim.run(follow, replicates=4)
    drawn = ds.parameter_value.sel(parameter="fertility.tfr_multiplier").values
    assert set(np.round(drawn, 12)) <= particles
