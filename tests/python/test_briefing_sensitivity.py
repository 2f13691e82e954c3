"""test_briefing_sensitivity: `childsim compare --sensitivity SWEEP.h5` (issue #13, part 2).

- the section "What drives the result" appears with the parameters ranked as
  childsim.sweep_indices, computed directly on the same file, ranks them (Sobol by ST,
  Morris by mu*), with the figure, the table and the intervals' width in words;
- a file that is not a saltelli/morris sweep is refused with one located line, exit 1 and
  no page;
- the page with the section opens in headless Chromium without console messages.

The sweeps are synthesised in the layout `childsim sweep` writes (design table as
coordinates, the design in global attributes; docs/research.md) with an output that is a
known function of the parameters, so the test costs no model runs beyond the quick runs
test_briefing already makes.
"""
import json
import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import childsim
from childsim.designs import morris, saltelli
from childsim.sweeps import sweep_indices, sweep_output
from conftest import requires_cli, run_cli
from test_briefing import chromium, requires_chromium

BOUNDS = {"fertility.tfr_multiplier": (0.8, 1.2), "nursery.seek_intercept": (-2.5, -1.5),
          "migration.out_rate": (0.01, 0.05)}


def _sweep_file(path, design, kind):
    """A sweep-shaped file: nursery_unmet = 300 m + 40 s + 2 m s + noise, m, s, o in [0, 1]."""
    unit = {k: (design[k] - lo) / (hi - lo) for k, (lo, hi) in BOUNDS.items()}
    m, s, o = (unit[k].values for k in BOUNDS)
    level = 300 * m + 40 * s + 2 * m * s + 0.0 * o
    time = pd.date_range("2029-01-01", periods=24, freq="MS")
    rng = np.random.default_rng(1)
    streets = 2
    values = (level[:, None, None, None] / streets
              + rng.normal(0, 0.01, (len(design), 2, len(time), streets)))
    ds = xr.Dataset(
        {"nursery_unmet": (("sample", "replicate", "time", "street"), values),
         "births": (("sample", "replicate", "time"), np.ones((len(design), 2, len(time))))},
        coords={"sample": np.arange(len(design)), "time": time,
                **{k: ("sample", design[k].values) for k in BOUNDS}},
        attrs={"sweep_design": kind, "sweep_parameters": json.dumps(list(BOUNDS)),
               "sweep_design_attrs": json.dumps(design.attrs, default=list)})
    ds.to_netcdf(path, engine="h5netcdf")
    return path


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sweeps")
    return {"saltelli": _sweep_file(directory / "sobol.h5", saltelli(BOUNDS, 64), "saltelli"),
            "morris": _sweep_file(directory / "morris.h5", morris(BOUNDS, 8, seed=2), "morris")}


def _expected(path, column):
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        ds = ds.load()
    indices = sweep_indices(ds, sweep_output(ds, "nursery_unmet", 2030))
    return indices, list(indices.sort_values(column, ascending=False, kind="stable").index)


def _section(html):
    match = re.search(r'<section id="sensitivity">.*?</section>', html, re.S)
    assert match, "no sensitivity section in the page"
    return match.group(0)


def _table_order(section):
    rows = re.findall(r"<tr><td>([^<]+)</td>", section)
    return rows


@requires_cli
@requires_chromium
def test_compare_adds_the_section_ranked_as_the_indices_and_opens_in_chromium(
        brief_files, sweeps, tmp_path):
    out = tmp_path / "brief.html"
    result = run_cli("compare", brief_files["baseline"], brief_files["nursery-expansion"],
                     "--sensitivity", sweeps["saltelli"], "--sensitivity", sweeps["morris"],
                     "-o", out)
    assert result.returncode == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    section = _section(html)
    assert "What drives the result" in section and 'href="#sensitivity"' in html
    assert section.count("data:image/png;base64,") == 2
    sobol, sobol_rank = _expected(sweeps["saltelli"], "ST")
    morris_, morris_rank = _expected(sweeps["morris"], "mu_star")
    # The output was built so that the TFR multiplier dominates and the out-rate does nothing.
    assert sobol_rank[0] == morris_rank[0] == "fertility.tfr_multiplier"
    tables = section.split("<table")[1:]
    assert _table_order(tables[0]) == sobol_rank
    assert _table_order(tables[1]) == morris_rank
    first = sobol.loc[sobol_rank[0]]
    assert (f"ST {first['ST']:.2f} (95&nbsp;% interval {first['ST_low']:.2f} – "
            f"{first['ST_high']:.2f})".replace("-", "\u2212") in section)
    assert f"<b>{sobol_rank[0]}</b> drives the most" in section
    assert "With 64 base samples" in section and "With 8 Morris trajectories" in section
    assert f"mu* {morris_.loc[morris_rank[0], 'mu_star']:.3g}" in section

    result = chromium(tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom", out.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, "console messages:\n" + "\n".join(console)
    assert 'id="sensitivity"' in result.stdout


def test_build_briefing_api_agrees_and_takes_an_output_choice(brief_files, sweeps):
    page = childsim.build_briefing([brief_files["baseline"], brief_files["nursery-expansion"]],
                                   sensitivity=sweeps["saltelli"],
                                   sensitivity_output="nursery_unmet:2029")
    section = _section(page)
    with xr.open_dataset(sweeps["saltelli"], engine="h5netcdf") as ds:
        ds = ds.load()
    expected = sweep_indices(ds, sweep_output(ds, "nursery_unmet", 2029))
    assert _table_order(section) == list(expected.sort_values("ST", ascending=False).index)
    assert "nursery_unmet, district monthly mean in 2029" in section


def _latin(path):
    from childsim.designs import latin_hypercube

    return _sweep_file(path, latin_hypercube(BOUNDS, 8, seed=1), "latin_hypercube")


@requires_cli
@pytest.mark.parametrize("case, words", [
    ("result", "not a sweep (no attribute 'sweep_design'"),
    ("text", "not an HDF5 file"),
    ("missing", "no such file"),
    ("latin", "a latin_hypercube sweep has no sensitivity indices"),
    ("variable", "no output 'nursery_wanting' with 'sample' and 'time' dimensions"),
])
def test_compare_refuses_a_file_that_is_not_a_sweep(case, words, brief_files, sweeps, tmp_path):
    extra = []
    if case == "result":
        bad = brief_files["holiday-classes-30-12"]
    elif case == "text":
        bad = tmp_path / "notes.h5"
        bad.write_text("not hdf5\n")
    elif case == "missing":
        bad = tmp_path / "nowhere.h5"
    elif case == "latin":
        bad = _latin(tmp_path / "lhs.h5")
    else:
        bad = sweeps["saltelli"]
        extra = ["--sensitivity-output", "nursery_wanting"]
    out = tmp_path / "brief.html"
    result = run_cli("compare", brief_files["baseline"], brief_files["nursery-expansion"],
                     "--sensitivity", bad, *extra, "-o", out)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}: "), result.stderr
    assert words in lines[0]
    assert not out.exists() and not list(tmp_path.glob(".brief.html*"))


REAL_DESIGN = """scenario: quick.yaml
design: saltelli
samples: 4
replicates: 1
variables: [nursery_unmet, nursery_wanting]
parameters:
  nursery.seek_intercept: [-2.5, -1.5]
  fertility.tfr_multiplier:
"""


@requires_cli
def test_compare_on_a_real_tiny_sweep_ranks_as_the_indices(brief_files, tmp_path):
    """A real `childsim sweep` (16 runs of 5 % of the population to 2025, about 2 s of CPU)."""
    from conftest import ROOT

    (tmp_path / "quick.yaml").write_text(
        f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\npopulation_scale: 0.05\n"
        f"end: 2025-12\n", encoding="utf-8")
    (tmp_path / "design.yaml").write_text(REAL_DESIGN, encoding="utf-8")
    result = run_cli("sweep", tmp_path / "design.yaml", "-o", tmp_path / "sweep.h5", "--quiet")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "brief.html"
    # nursery_wanting varies with both parameters even in a tiny run; no year: the last (2025).
    result = run_cli("compare", brief_files["baseline"], brief_files["nursery-expansion"],
                     "--sensitivity", tmp_path / "sweep.h5", "--sensitivity-output",
                     "nursery_wanting", "-o", out)
    assert result.returncode == 0, result.stderr
    section = _section(out.read_text(encoding="utf-8"))
    with xr.open_dataset(tmp_path / "sweep.h5", engine="h5netcdf") as ds:
        ds = ds.load()
    expected = sweep_indices(ds, sweep_output(ds, "nursery_wanting", 2025))
    assert _table_order(section) == list(expected.sort_values("ST", ascending=False).index)
    assert "nursery_wanting, district monthly mean in 2025" in section
    assert "With 4 base samples" in section and "The intervals are wide" in section
