"""test_validation: the validation statistics against plain calculations, the observed-figure
derivations against hand arithmetic, and docs/validation.md against a fresh run."""
import math
import pathlib

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from conftest import requires_core

from childsim import validation as v

ROOT = pathlib.Path(__file__).resolve().parents[2]


def random_run(seed=3, replicates=3, months=96, streets=3):
    """A run-shaped Dataset of irregular counts (not a steady state)."""
    rng = np.random.default_rng(seed)
    time = pd.date_range("2024-01-01", periods=months, freq="MS")
    shape = (replicates, months, streets)
    ds = xr.Dataset(
        {
            "births": (("replicate", "time", "street"), rng.integers(5, 60, shape).astype("int32")),
            "population": (("replicate", "time", "street", "age"),
                           rng.integers(0, 400, shape + (18,)).astype("int32")),
            "residents": (("replicate", "time", "street"),
                          rng.integers(40_000, 60_000, shape).astype("int32")),
            "kindergarten_eligible": (("replicate", "time", "street"),
                                      rng.integers(100, 900, shape).astype("int32")),
        },
        coords={"replicate": np.arange(replicates), "time": time,
                "street": [f"s{i}" for i in range(streets)], "age": np.arange(18)},
    )
    return ds


def month_index(year, month):
    return (year - 2024) * 12 + month - 1


def test_cohort_retention_equals_a_plain_calculation():
    ds = random_run()
    births = ds["births"].values.sum(axis=2)  # (replicate, time)
    pop = ds["population"].values.sum(axis=2)  # (replicate, time, age)
    for age in (0, 3, 5):
        got = v.cohort_retention(ds, age)
        # Birth years whose December of Y + age is in the 96 months (2024-2031).
        expected_years = [y for y in range(2024, 2032) if y + age <= 2031]
        assert got["birth_year"].values.tolist() == expected_years
        for r in range(3):
            for y in expected_years:
                b = births[r, month_index(y, 1):month_index(y, 12) + 1].sum()
                want = pop[r, month_index(y + age, 12), age] / b
                assert float(got.sel(replicate=r, birth_year=y)) == pytest.approx(want, rel=1e-12)


def test_per_birth_of_matching_cohorts_equals_a_plain_calculation():
    ds = random_run()
    births = ds["births"].values.sum(axis=2)
    eligible = ds["kindergarten_eligible"].values.sum(axis=2)
    got = v.per_birth_of_matching_cohorts(ds, "kindergarten_eligible")
    # Windows Sep T-6 .. Aug T-3 inside 2024-01 .. 2031-12: T = 2030, 2031.
    assert got["year"].values.tolist() == [2030, 2031]
    for r in range(3):
        for t in (2030, 2031):
            window = births[r, month_index(t - 6, 9):month_index(t - 3, 8) + 1]
            assert window.size == 36
            want = eligible[r, month_index(t, 10)] / window.sum()
            assert float(got.sel(replicate=r, year=t)) == pytest.approx(want, rel=1e-12)


def test_start_shares_and_residents_change_equal_plain_calculations():
    ds = random_run()
    shares = v.start_age_shares(ds)
    pop = ds["population"].values.sum(axis=2)
    res = ds["residents"].values.sum(axis=2)
    for r in range(3):
        assert float(shares["0-14"][r]) == pytest.approx(pop[r, 0, :15].sum() / res[r, 0])
        assert float(shares["0-9"][r]) == pytest.approx(pop[r, 0, :10].sum() / res[r, 0])
    change = v.residents_change(ds, years=5)
    assert np.allclose(change.values, res[:, 60] / res[:, 0] - 1)
    with pytest.raises(ValueError, match="needs 121"):
        v.residents_change(ds, years=10)


def test_adult_shares_come_from_residents_by_age_when_it_exists():
    ds = random_run()
    rng = np.random.default_rng(9)
    groups = [f"{a}-{a + 4}" for a in range(0, 85, 5)] + ["85+"]
    rba = rng.integers(100, 5000, (3, 96, 3, 2, len(groups))).astype("int32")
    ds["residents_by_age"] = (("replicate", "time", "street", "sex", "age_group"), rba)
    ds = ds.assign_coords(sex=["female", "male"], age_group=groups)
    shares = v.start_age_shares(ds)
    first = rba[:, 0].sum(axis=1)  # (replicate, sex, group)
    both = first.sum(axis=1)
    total = both.sum(axis=1)
    idx = {g: i for i, g in enumerate(groups)}
    assert np.allclose(shares["20-29"], (both[:, idx["20-24"]] + both[:, idx["25-29"]]) / total)
    assert np.allclose(shares["65+"], both[:, idx["65-69"]:].sum(axis=1) / total)
    assert np.allclose(shares["sex_ratio"], 100 * first[:, 1].sum(axis=1) / first[:, 0].sum(axis=1))
    table = v.validation_table(v.synthetic_run(months=144).assign(
        residents_by_age=(("replicate", "time", "street", "sex", "age_group"),
                          rng.integers(100, 5000, (2, 144, 2, 2, len(groups))).astype("int32")))
        .assign_coords(sex=["female", "male"], age_group=groups))
    row = table[table["check"] == "Share aged 30-39"].iloc[0]
    assert not row["needs"] and row["status"] in ("pass", "FAIL")


def test_rows_without_their_output_say_which_output():
    table = v.validation_table(v.synthetic_run(replicates=3, months=144))
    needs = table[table["status"].str.startswith("needs")]
    assert set(needs["needs"]) == {"residents_by_age", "births_by_parity", "migrants_in"}
    assert (needs["status"].str.contains("issue #9")).all()
    # The synthetic run's known answers pass: retention 1 - 0.02 a, kindergarten age per birth
    # the mean over ages 3-5 (0.92), against the census-derived 0.960 / 0.938 / 0.952.
    ret3 = table[table["check"].str.startswith("Retention to age 3")].iloc[0]
    assert ret3["model"] == pytest.approx(0.94)
    kg = table[table["check"].str.startswith("Children of kindergarten age")].iloc[0]
    assert kg["model"] == pytest.approx(0.92)
    assert ret3["status"] == "pass" and kg["status"] == "pass"


def test_census_retention_recovers_a_known_slope():
    # Constant births B a year: children aged 0-9 at the census = 10 B (1 - 5 k) exactly.
    births = {y: 120_000.0 for y in range(2005, 2021)}
    k = 0.02
    fit = v.census_retention(births, census_0_9=10 * 120_000 * (1 - 5 * k))
    assert fit["k"] == pytest.approx(k, rel=1e-12)
    assert fit["births"] == pytest.approx(1_200_000)
    assert fit["r"](3.5) == pytest.approx(1 - 3.5 * k)


def test_census_retention_reproduces_the_census_count():
    fit = v.census_retention()
    # Re-add the survivors month by month: they must sum to the census 0-9 count.
    total = 0.0
    for y, (n, _, _) in v.SHANGHAI_BIRTHS.items():
        for m in range(1, 13):
            x = (2020 + 10 / 12) - (y + (m - 0.5) / 12)
            if 0 <= x < 10:
                total += n / 12 * fit["r"](x)
    assert total == pytest.approx(1_771_521, rel=1e-12)
    assert 0.0 < fit["k"] < 0.03


def test_observed_pupils_per_birth_is_the_hand_arithmetic():
    got = v.observed_pupils_per_birth()
    b = {y: n for y, (n, _, _) in v.SHANGHAI_BIRTHS.items()}
    want_2020 = 571_499 / (b[2014] * 4 / 12 + b[2015] + b[2016] + b[2017] * 8 / 12)
    want_2022 = 534_000 / (b[2016] * 4 / 12 + b[2017] + b[2018] + b[2019] * 8 / 12)
    assert got.loc[2020, "ratio"] == pytest.approx(want_2020)
    assert got.loc[2022, "ratio"] == pytest.approx(want_2022)


def test_every_birth_figure_names_its_basis_and_source():
    births = v.shanghai_births()
    assert births.index.tolist() == list(range(2010, 2025))
    assert set(births["basis"]) <= {"observed", "derived", "interpolated", "assumed"}
    for _, row in births.iterrows():
        if row["basis"] in ("observed", "derived"):
            assert row["source"] in v.SOURCES
        else:
            assert row["source"] == ""
    for y in (2014, 2018):  # interpolated = the mean of the neighbours
        assert births.loc[y, "births"] == pytest.approx(
            (births.loc[y - 1, "births"] + births.loc[y + 1, "births"]) / 2, abs=100)


def test_a_failing_row_reports_by_how_much():
    table = v.validation_table(v.synthetic_run(replicates=3, months=144, slope=0.1))
    row = table[table["check"].str.startswith("Retention to age 5")].iloc[0]
    assert row["status"] == "FAIL"
    assert row["model"] == pytest.approx(0.5)
    text = v.render_markdown(table, meta={"scenario": "s", "replicates": 3, "seed": 1,
                                          "population_scale": 1.0, "start": "2024-01",
                                          "end": "2035-12", "command": "c"})
    gap = row["lo"] - row["model"]
    assert f"**FAIL** (−{gap:.3f} outside)" in text


@requires_core
def test_docs_validation_is_current():
    """Regenerates docs/validation.md from the stated ensemble (full district, 16 replicates,
    about 40 s of CPU) and compares it byte for byte; the run is deterministic for its seed."""
    ds, meta = v.run_ensemble(ROOT, threads=2)
    text = v.build_document(ds, meta=meta)
    committed = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    assert text == committed, (
        "docs/validation.md is out of date: regenerate it with "
        "`python3 tools/make_validation.py` and commit it")
    assert not math.isnan(v.validation_table(ds)["model"].iloc[0])
