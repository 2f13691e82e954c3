# test_analysis: the pure-Python analysis layer (files, summaries, tables, plots, testing
# helpers), each quantity checked against a plain NumPy calculation of the same thing. Runs
# on files written by the CLI, so it needs no compiled module.
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import childsim
from childsim.testing import assert_runs_equal
from conftest import PYTHON_PATHS, ROOT

AGE_GROUPS = [("0-2", 0, 2), ("3-5", 3, 5), ("6-11", 6, 11), ("12-17", 12, 17)]


def _years(ds):
    return pd.DatetimeIndex(ds["time"].values).year.to_numpy()


# --- files --------------------------------------------------------------------------------




def test_open_run_loads_into_memory_and_closes_the_file(quick_files, tmp_path):
    copy = tmp_path / "copy.h5"
    copy.write_bytes(quick_files["baseline"].read_bytes())
    ds = childsim.open_run(copy)
    copy.unlink()  # the file is closed: the data stay
    assert int(ds["births"].sum()) > 0
    expected = {"replicate": 3, "time": 48, "street": 10, "age": 18, "woman_age": 32}
    assert {d: ds.sizes[d] for d in expected} == expected
    assert np.issubdtype(ds["time"].dtype, np.datetime64)
    assert ds["population"].dtype == np.int32
    assert "street_name" in ds.coords and ds.attrs["scenario_name"] == "baseline"


def test_open_run_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        childsim.open_run(tmp_path / "missing.h5")
    with pytest.raises(TypeError, match="path must be a str"):
        childsim.open_run(3)


def test_open_runs_builds_the_scenario_dimension(quick_files):
    paths = [quick_files["baseline"], quick_files["low-fertility"]]
    both = childsim.open_runs(paths)
    assert both["scenario"].values.tolist() == ["baseline", "low-fertility"]
    assert both["population"].dims == ("scenario", "replicate", "time", "street", "age")
    assert both["street_name"].dims == ("street",)
    for i, path in enumerate(paths):
        single = childsim.open_run(path)
        np.testing.assert_array_equal(both["births"].values[i], single["births"].values)
        assert both["seed"].values[i] == single.attrs["seed"]
    assert "scenario_name" not in both.attrs  # differs between the runs
    assert both.attrs["Conventions"] == "CF-1.8"  # the same in both
    named = childsim.open_runs(paths, names=["a", "b"])
    assert named["scenario"].values.tolist() == ["a", "b"]


def test_open_runs_checks_its_arguments(quick_files, tmp_path):
    path = quick_files["baseline"]
    with pytest.raises(ValueError, match="must be distinct"):
        childsim.open_runs([path, path])
    with pytest.raises(ValueError, match="2 names for 1 paths"):
        childsim.open_runs([path], names=["a", "b"])
    with pytest.raises(TypeError, match="sequence"):
        childsim.open_runs(path)
    with pytest.raises(ValueError, match="paths is empty"):
        childsim.open_runs([])
    shorter = childsim.open_run(path).isel(time=slice(0, 12))
    shorter.to_netcdf(tmp_path / "short.h5", engine="h5netcdf")
    with pytest.raises(ValueError, match="cannot be aligned"):
        childsim.open_runs([path, tmp_path / "short.h5"], names=["a", "b"])


# --- summaries ----------------------------------------------------------------------------


def test_ensemble_mean_equals_numpy_mean(quick_run):
    mean = childsim.ensemble_mean(quick_run)
    np.testing.assert_allclose(mean["population"].values, quick_run["population"].values.mean(axis=0))
    assert mean["population"].attrs == quick_run["population"].attrs
    assert "replicate" not in mean.dims
    births = childsim.ensemble_mean(quick_run["births"])
    np.testing.assert_allclose(births.values, quick_run["births"].values.mean(axis=0))


def test_ensemble_quantiles_equal_numpy_quantiles(quick_run):
    q = (0.05, 0.5, 0.95)
    result = childsim.ensemble_quantiles(quick_run["births"], q=q)
    expected = np.quantile(quick_run["births"].values, q, axis=0)
    np.testing.assert_allclose(result.values, expected)
    assert result.dims == ("quantile", "time", "street")
    one = childsim.ensemble_quantiles(quick_run, q=0.5)
    np.testing.assert_allclose(one["women"].values, np.quantile(quick_run["women"].values, [0.5], axis=0))


def test_paired_difference_equals_numpy_difference(quick_files):
    low = childsim.open_run(quick_files["low-fertility"])
    base = childsim.open_run(quick_files["baseline"])
    diff = childsim.paired_difference(low, base)
    for name in base.data_vars:
        np.testing.assert_array_equal(diff[name].values, low[name].values - base[name].values)
    assert diff.attrs["scenario_a"] == "low-fertility" and diff.attrs["scenario_b"] == "baseline"
    assert diff["births"].attrs["long_name"] == "difference in births"
    assert diff["births"].attrs["units"] == "children"
    # Before the first month's events both scenarios start from the same population.
    assert (diff["population_start"] == 0).all()
    only = childsim.paired_difference(low["births"], base["births"])
    np.testing.assert_array_equal(only.values, low["births"].values - base["births"].values)


def test_paired_difference_refuses_different_seeds_and_coordinates(quick_run):
    other = quick_run.assign_attrs(seed=np.int64(5))
    with pytest.raises(ValueError, match="different seeds"):
        childsim.paired_difference(other, quick_run)
    childsim.paired_difference(other, quick_run, check_seed=False)
    with pytest.raises(ValueError, match="equal coordinates"):
        childsim.paired_difference(quick_run.isel(time=slice(0, 12)), quick_run)
    with pytest.raises(TypeError, match="one type"):
        childsim.paired_difference(quick_run, quick_run["births"])


@pytest.mark.parametrize("how", ["sum", "last", "mean"])
def test_annual_equals_numpy_reshape(quick_run, how):
    births = quick_run["births"].values  # (replicate, time=48, street)
    result = childsim.annual(quick_run["births"], how)
    by_year = births.reshape(births.shape[0], 4, 12, births.shape[2])
    expected = {"sum": by_year.sum(axis=2), "last": by_year[:, :, -1], "mean": by_year.mean(axis=2)}[how]
    assert result.dims == ("replicate", "year", "street")
    np.testing.assert_allclose(result.values, expected)
    assert result["year"].values.tolist() == [2024, 2025, 2026, 2027]
    assert result["months"].values.tolist() == [12, 12, 12, 12]


def test_annual_of_a_dataset_keeps_variables_along_time(quick_run):
    yearly = childsim.annual(quick_run, "last")
    assert "population_start" not in yearly and "population" in yearly
    np.testing.assert_array_equal(
        yearly["population"].values, quick_run["population"].values[:, 11::12]
    )


def test_annual_partial_years_count_their_months(quick_run):
    part = quick_run["births"].isel(time=slice(6, 30))  # 2024-07 .. 2026-06
    result = childsim.annual(part, "sum")
    assert result["year"].values.tolist() == [2024, 2025, 2026]
    assert result["months"].values.tolist() == [6, 12, 6]
    np.testing.assert_array_equal(result.values[:, 0], part.values[:, :6].sum(axis=1))


def test_annual_checks_its_arguments(quick_run):
    with pytest.raises(ValueError, match="how must be"):
        childsim.annual(quick_run, "total")
    with pytest.raises(ValueError, match="no dimension 'time'"):
        childsim.annual(quick_run["population_start"], "sum")
    with pytest.raises(TypeError, match="must be an xarray"):
        childsim.annual(quick_run["births"].values, "sum")


def test_children_by_age_group_equals_numpy_slices(quick_run):
    groups = childsim.children_by_age_group(quick_run)
    population = quick_run["population"].values
    for label, lo, hi in AGE_GROUPS:
        np.testing.assert_array_equal(
            groups.sel(age_group=label).values, population[..., lo:hi + 1].sum(axis=-1)
        )
    assert groups.dims == ("replicate", "time", "street", "age_group")
    assert groups["age_min"].values.tolist() == [0, 3, 6, 12]
    custom = childsim.children_by_age_group(quick_run["population"], {"under 1": (0, 0)})
    np.testing.assert_array_equal(custom.values[..., 0], population[..., 0])


def test_children_by_age_group_checks_groups(quick_run):
    with pytest.raises(ValueError, match="age 18 is not in the data"):
        childsim.children_by_age_group(quick_run, {"adults": (18, 20)})
    with pytest.raises(ValueError, match="first age 5 is above last age 3"):
        childsim.children_by_age_group(quick_run, {"x": (5, 3)})
    with pytest.raises(TypeError, match="expected"):
        childsim.children_by_age_group(quick_run, {"x": 3})
    with pytest.raises(ValueError, match="no variable 'population'"):
        childsim.children_by_age_group(quick_run[["births"]])


# --- tables -------------------------------------------------------------------------------


def test_births_per_year_equals_numpy(quick_run):
    table = childsim.births_per_year(quick_run)
    births = quick_run["births"].values
    years = _years(quick_run)
    streets = quick_run["street"].values.tolist()
    assert table.columns.tolist() == streets + ["district"]
    assert table.index.tolist() == [2024, 2025, 2026, 2027]
    for year in table.index:
        per_rep = births[:, years == year, :].sum(axis=1)  # (replicate, street)
        np.testing.assert_allclose(table.loc[year, streets].values, per_rep.mean(axis=0))
        np.testing.assert_allclose(table.loc[year, "district"], per_rep.sum(axis=1).mean())
    high = childsim.births_per_year(quick_run, statistic=0.95)
    per_rep = births[:, years == 2027, :].sum(axis=1).sum(axis=1)
    np.testing.assert_allclose(high.loc[2027, "district"], np.quantile(per_rep, 0.95))


def test_children_by_street_and_year_equals_numpy(quick_run):
    table = childsim.children_by_street_and_year(quick_run)
    population = quick_run["population"].values
    years = _years(quick_run)
    streets = quick_run["street"].values.tolist()
    assert table.columns.tolist() == [label for label, _, _ in AGE_GROUPS]
    assert table.index.names == ["street", "year"]
    assert list(dict.fromkeys(table.index.get_level_values("street"))) == streets + ["district"]
    december_2026 = np.flatnonzero(years == 2026)[-1]
    for label, lo, hi in AGE_GROUPS:
        counts = population[:, december_2026, :, lo:hi + 1].sum(axis=-1)  # (replicate, street)
        np.testing.assert_allclose(table.loc[("xinjing", 2026), label], counts[:, -1].mean())
        np.testing.assert_allclose(table.loc[("district", 2026), label], counts.sum(axis=1).mean())


def test_tables_check_their_arguments(quick_run):
    with pytest.raises(ValueError, match="statistic"):
        childsim.births_per_year(quick_run, statistic="median")
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        childsim.births_per_year(quick_run, statistic=5)
    with pytest.raises(TypeError, match="must be an xarray"):
        childsim.children_by_street_and_year(pd.DataFrame())


# --- plots --------------------------------------------------------------------------------


def test_plots_return_figures_that_render(quick_run, tmp_path):
    from matplotlib.figure import Figure

    figures = [
        childsim.plot_population_by_street(quick_run),
        childsim.plot_population_by_street(quick_run["population"], ages=(0, 2)),
        childsim.plot_children_by_age(quick_run),
        childsim.plot_children_by_age(quick_run, time="2026-12", street=["xinjing", "hongqiao"]),
        childsim.plot_ensemble_band(quick_run["births"].sum("street"), label="births"),
    ]
    for i, fig in enumerate(figures):
        assert isinstance(fig, Figure)
        fig.savefig(tmp_path / f"{i}.png")
        assert (tmp_path / f"{i}.png").stat().st_size > 1000
    # The mean line of the band is the ensemble mean.
    band = figures[-1].axes[0].lines[0]
    np.testing.assert_allclose(band.get_ydata(), quick_run["births"].values.sum(axis=2).mean(axis=0))
    # Overlaying on one axes.
    ax = figures[-1].axes[0]
    fig = childsim.plot_ensemble_band(quick_run["deaths"].sum("street"), ax=ax, label="deaths")
    assert fig is figures[-1] and len(ax.lines) == 2
    # The bars are the mean over replicates of district children by age in the month.
    bars = [p.get_width() for p in figures[2].axes[0].patches]
    np.testing.assert_allclose(bars, quick_run["population"].values[:, -1].sum(axis=1).mean(axis=0))


def test_plots_check_their_arguments(quick_run):
    with pytest.raises(ValueError, match="exactly the dimensions"):
        childsim.plot_ensemble_band(quick_run["births"])
    with pytest.raises(TypeError, match="DataArray"):
        childsim.plot_ensemble_band(quick_run)
    with pytest.raises(ValueError, match="unknown street 'nowhere'"):
        childsim.plot_children_by_age(quick_run, street="nowhere")
    with pytest.raises(ValueError, match="not a simulated month"):
        childsim.plot_children_by_age(quick_run, time="2040-01")
    with pytest.raises(ValueError, match="two increasing quantiles"):
        childsim.plot_ensemble_band(quick_run["births"].sum("street"), q=(0.9, 0.1))


# --- testing helpers ----------------------------------------------------------------------


def test_assert_runs_equal_finds_each_kind_of_difference(quick_run):
    assert_runs_equal(quick_run, quick_run.copy(deep=True))
    changed = quick_run.copy(deep=True)
    changed["births"].values[0, 0, 0] += 1
    with pytest.raises(AssertionError, match="variable 'births': values differ"):
        assert_runs_equal(changed, quick_run)
    with pytest.raises(AssertionError, match="dtype int64 != int32"):
        assert_runs_equal(quick_run.assign(births=quick_run["births"].astype("int64")), quick_run)
    with pytest.raises(AssertionError, match="attribute 'seed' differs"):
        assert_runs_equal(quick_run.assign_attrs(seed=int(quick_run.attrs["seed"])), quick_run)
    with pytest.raises(AssertionError, match="data variable 'births' only in b"):
        assert_runs_equal(quick_run.drop_vars("births"), quick_run)
    with pytest.raises(AssertionError, match="street_name"):
        renamed = quick_run.assign_coords(street_name=("street", ["x"] * 10))
        assert_runs_equal(renamed, quick_run)
    assert_runs_equal(quick_run.assign_attrs(created="1999-01-01"), quick_run)
    with pytest.raises(AssertionError, match="'created'"):
        assert_runs_equal(quick_run.assign_attrs(created="1999-01-01"), quick_run, ignore_attrs=())


# --- the package without the compiled module ----------------------------------------------


def test_package_works_without_the_compiled_module(quick_files):
    """With only analysis/ on the path: files and summaries work; run explains what is missing."""
    # -S: no site-packages .pth files (the installed one would find the build directory);
    # Debian's packages are added back by hand.
    code = f"""
import sys
sys.path.append("/usr/lib/python3/dist-packages")
import childsim
ds = childsim.open_run({str(quick_files["baseline"])!r})
print(int(childsim.annual(ds["births"], "sum").sum()))
try:
    childsim.run("scenarios/baseline.yaml")
except ImportError as error:
    print("ImportError:", error)
"""
    env = {**os.environ, "PYTHONPATH": PYTHON_PATHS[0]}
    result = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    total, message = result.stdout.strip().split("\n", 1)
    assert int(total) == int(childsim.open_run(quick_files["baseline"])["births"].sum())
    assert "childsim._core was not found" in message and "install-python-path.sh" in message


def test_public_api_is_listed_and_documented():
    for name in childsim.__all__:
        obj = getattr(childsim, name)
        if callable(obj):
            assert obj.__doc__ and "Examples" in obj.__doc__, name
