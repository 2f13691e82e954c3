"""test_briefing: `childsim compare` and the briefing page it writes.

- the page opens in headless Chromium without console errors, has the target table (checked
  in the rendered DOM) and every section, shows the Chinese street names, loads nothing from
  outside; a screenshot is saved to tests/python/screenshots/ (git-ignored) and tmp_path;
- malformed result files give a one-line error naming the file, a non-zero exit and no
  output file;
- runs with another seed are accepted with a warning and a note in the page;
- the target table computed from the outputs agrees with a plain count of the capacities.
"""
import os
import re
import shutil
import subprocess

import h5py
import numpy as np
import pytest

import childsim
from conftest import ROOT, cli_binary, requires_cli, requires_core, run_cli, scenario_variant

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = ROOT / "tests" / "python" / "screenshots"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

requires_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                       reason="chromium is not installed (tools/install-deps.sh)")


def compare(*args):
    return run_cli("compare", *args)


@pytest.fixture(scope="module")
def page(brief_files, tmp_path_factory):
    """The briefing of the quick baseline, nursery-expansion and holiday-classes-30-12."""
    out = tmp_path_factory.mktemp("page") / "brief.html"
    result = compare(brief_files["baseline"], brief_files["nursery-expansion"],
                     brief_files["holiday-classes-30-12"], "-o", out)
    assert result.returncode == 0, result.stderr
    return out


def chromium(tmp_path, *args):
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


@requires_cli
@requires_chromium
def test_briefing_opens_in_chromium_without_errors_and_has_the_target_table(page, tmp_path):
    shot = tmp_path / "briefing.png"
    result = chromium(tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, "console messages:\n" + "\n".join(console)
    dom = result.stdout
    table = re.search(r'<table id="target-table".*?</table>', dom, re.S)
    assert table, "the rendered page has no target table"
    rows = re.findall(r"<tr>", table.group(0))
    assert len(rows) == len(childsim.load_targets()) + 1  # header + one row per target
    for name in ("baseline", "nursery-expansion", "holiday-classes-30-12"):
        assert name in table.group(0)
    assert "met from" in table.group(0) and "not met" in table.group(0)
    for section in ("summary", "targets", "nursery", "kindergarten", "holiday", "babyroom",
                    "clinic", "waiting", "streets", "costs", "differences", "provenance"):
        assert f'id="{section}"' in dom
    assert "华阳路街道" in dom and "新泾镇" in dom
    clinic = dom.split('id="clinic"')[1].split("</section>")[0]
    assert "data:image/png;base64," in clinic  # the model has clinic_* outputs
    assert dom.count("data:image/png;base64,") >= 5
    # Self-contained: nothing to fetch, no scripts.
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    # Screenshot: kept for people to look at (git-ignored) and in tmp_path.
    result = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri())
    assert result.returncode == 0 and shot.stat().st_size > 10_000, result.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SCREENSHOTS / "briefing.png")


@requires_cli
def test_briefing_warns_about_quick_runs_and_states_definitions(page):
    html = page.read_text(encoding="utf-8")
    assert "Quick trial runs" in html  # population_scale 0.05
    assert "Cost per additional unit" in html and "Extra cost" in html
    assert "90 %" in html


def _write_text(path):
    path.write_text("this is not a result file\n")


def _write_foreign_hdf5(path):
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3)
        f.attrs["title"] = "some other program"


def _rewrite(source, path, change):
    ds = childsim.open_run(source)
    childsim.write(change(ds), path)


MALFORMED = {
    "not HDF5": (_write_text, "not an HDF5 file"),
    "HDF5 of another program": (_write_foreign_hdf5, "not a childsim result"),
    "missing file": (None, "no such file"),
    "missing variables": ("drop", "lacks"),
    "other horizon": ("horizon", "horizon"),
    "other streets": ("streets", "streets differ"),
}


@requires_cli
@requires_core  # childsim.write makes the altered files
@pytest.mark.parametrize("case", list(MALFORMED))
def test_compare_rejects_malformed_result_files_with_one_line_and_no_output(case, brief_files, tmp_path):
    make, message = MALFORMED[case]
    bad = tmp_path / "bad.h5"
    base = brief_files["baseline"]
    if make == "drop":
        _rewrite(brief_files["nursery-expansion"], bad, lambda ds: ds.drop_vars("nursery_unmet"))
    elif make == "horizon":
        _rewrite(brief_files["nursery-expansion"], bad, lambda ds: ds.isel(time=slice(0, 24)))
    elif make == "streets":
        _rewrite(brief_files["nursery-expansion"], bad,
                 lambda ds: ds.assign_coords(street=[f"s{i}" for i in range(ds.sizes["street"])]))
    elif make is not None:
        make(bad)
    out = tmp_path / "brief.html"
    result = compare(base, bad, "-o", out)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and str(bad) in lines[0] and message in lines[0], lines[0]
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".brief.html")]


@requires_cli
def test_compare_accepts_another_seed_with_a_warning(brief_files, tmp_path):
    other = scenario_variant(tmp_path, "holiday-classes-30-12.yaml", seed=7)
    run = tmp_path / "seed7.h5"
    assert run_cli("run", other, "-o", run, "-q").returncode == 0
    runs, notes = childsim.read_runs([brief_files["baseline"], run])
    assert len(notes) == 1 and "seed 7" in notes[0] and "not paired" in notes[0]
    assert list(runs) == ["baseline", "holiday-classes-30-12"]


@requires_cli
def test_compare_needs_python_and_the_package(brief_files, tmp_path):
    out = tmp_path / "brief.html"
    env = dict(os.environ, CHILDSIM_PYTHON=str(tmp_path / "no-python"))
    result = subprocess.run([str(cli_binary()), "compare", brief_files["baseline"],
                             brief_files["nursery-expansion"], "-o", out],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 1 and "needs Python 3" in result.stderr and not out.exists()
    # Python without its site directories (no .pth file, no Debian packages) and an
    # analysis directory without the package: the import fails.
    nosite = tmp_path / "python-nosite"
    nosite.write_text('#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n')
    nosite.chmod(0o755)
    empty = tmp_path / "empty"
    empty.mkdir()
    env = dict(os.environ, CHILDSIM_PYTHON=str(nosite), CHILDSIM_ANALYSIS_DIR=str(empty))
    result = subprocess.run([str(cli_binary()), "compare", brief_files["baseline"],
                             brief_files["nursery-expansion"], "-o", out],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and "needs the childsim Python package" in result.stderr
    assert not out.exists()


@requires_cli
def test_targets_from_outputs_agree_with_a_plain_count(brief_files):
    ds = childsim.open_run(brief_files["nursery-expansion"])
    met = childsim.targets_met(ds)
    values = met["value"].isel(replicate=0)
    kinds = ds["facility_kind"].values.astype(str)
    december_2025 = ds["facility_capacity"].sel(time="2025-12").squeeze().values
    # Summer classes in July, winter classes in January: plain counts of open classes.
    for target, kind, month in (("summer_classes", "summer_class", "2025-07"),
                                ("winter_classes", "winter_class", "2025-01")):
        cap = ds["facility_capacity"].sel(time=month).squeeze().values
        assert values.sel(year=2025, target=target) == np.sum((kinds == kind) & (cap > 0))
    # Kindergartens with an open nursery class (hosts named by facility_host).
    host = ds["facility_host"].values.astype(str)
    ids = ds["facility"].values.astype(str)
    open_kg = {f for f, k, c in zip(ids, kinds, december_2025) if k == "kindergarten" and c > 0}
    hosting = {h for h, c in zip(host, december_2025) if h and c > 0}
    share = len(open_kg & hosting) / len(open_kg)
    assert values.sel(year=2025, target="kindergarten_nursery_class_share_2025") == pytest.approx(share)
    assert share >= 0.85  # the what-if's purpose
    # Places per 1,000 residents.
    services = dict(zip(ds["kind"].values.astype(str), ds["kind_service"].values.astype(str)))
    nursery = np.array([services[k] == "nursery" for k in kinds])
    residents = ds["residents"].sel(time="2025-12").isel(replicate=0).sum().item()
    expected = december_2025[nursery].sum() * 1000 / residents
    assert values.sel(year=2025, target="nursery_places_per_1000") == pytest.approx(expected)
    # Public nursery-class places added in 2024: classes (with a host) run by a public body.
    public = np.isin(ds["facility_run_by"].values.astype(str), ["education_bureau", "public_body"])
    classes = (host != "") & public
    december_2024 = ds["facility_capacity"].sel(time="2024-12").squeeze().values
    first = ds["facility_capacity"].isel(time=0).values
    assert values.sel(year=2024, target="public_nursery_places_added_2024") == \
        december_2024[classes].sum() - first[classes].sum()
    table = childsim.target_summary(met, childsim.load_targets())
    assert table.loc["kindergarten_nursery_class_share_2025", "status"] == "met"
    # The model computes baby-room coverage (indicator_target_met): a real verdict, not n/a.
    assert table.loc["babyroom_served_share_1_3", "status"] != "n/a"


@requires_cli
@requires_core  # childsim.write makes the extended files
def test_briefing_uses_clinic_and_indicator_outputs_when_present(brief_files, tmp_path):
    """Runs of a model with clinic_* and indicator_* outputs (being added on other branches):
    the clinic section is drawn and the target table comes from indicator_target_met."""
    import xarray as xr

    files = []
    for name in ("baseline", "holiday-classes-30-12"):
        ds = childsim.open_run(brief_files[name])
        shape = (ds.sizes["replicate"], ds.sizes["time"])
        rng = np.random.default_rng(1)
        street = np.full((*shape, ds.sizes["street"]), 100, dtype=np.int32)
        facility = np.zeros((*shape, ds.sizes["facility"]), dtype=np.int32)
        facility[..., 0] = 900 + rng.integers(0, 50, shape)
        targets = childsim.load_targets()
        met = np.ones((ds.sizes["replicate"], ds.sizes["year"], len(targets)), dtype=np.int32)
        met[:, :, list(targets.index).index("summer_classes")] = 0  # the model says: never met
        ds = ds.assign({
            "clinic_visits_demanded": (("replicate", "time", "street"), street),
            "clinic_visits": (("replicate", "time", "facility"), facility),
            "clinic_visits_outside": (("replicate", "time", "street"), street // 10),
            "indicator_target_met": (("replicate", "year", "target"), met),
        }).assign_coords(target=list(targets.index),
                         target_indicator=("target", ["indicator_x"] * len(targets)))
        files.append(childsim.write(ds, tmp_path / f"{name}.h5"))
    page = childsim.build_briefing(files)
    clinic = page.split('id="clinic"')[1].split("</section>")[0]
    assert "not available" not in clinic and "data:image/png;base64," in clinic
    targets_html = page.split('id="target-table"')[1].split("</table>")[0]
    assert "model’s own indicator outputs" in page
    summer = targets_html.split("Summer holiday classes")[1].split("</tr>")[0]
    assert summer.count("not met") == 2  # from indicator_target_met, not from the capacities
    met = childsim.targets_met(xr.open_dataset(files[0], engine="h5netcdf").load())["met"]
    assert float(met.sel(target="summer_classes").max()) == 0.0
    assert float(met.sel(target="nursery_places_per_1000", year=2025).min()) == 1.0


@requires_cli
def test_compare_refuses_a_missing_output_directory(brief_files, tmp_path):
    out = tmp_path / "no-such-dir" / "brief.html"
    result = compare(brief_files["baseline"], brief_files["nursery-expansion"], "-o", out)
    assert result.returncode == 1 and result.stderr.startswith(f"error: {out}: output directory")
    assert not out.parent.exists()
