"""test_cli_contract: the `childsim` program's file contract and its handling of bad input.

Runs the built CLI (path in $CHILDSIM_BINARY, set by ctest) on small scenarios.
"""
import hashlib
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("CHILDSIM_BINARY") or str(ROOT / "build/release/sim/childsim")

pytestmark = pytest.mark.skipif(not Path(BINARY).exists(), reason=f"CLI not built: {BINARY}")


def run(*args, env=None, check=False):
    e = dict(os.environ, SOURCE_DATE_EPOCH="1767225600", **(env or {}))
    return subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True, env=e,
                          check=check)


def small_scenario(tmp_path, extra=""):
    p = tmp_path / "small.yaml"
    p.write_text(f"extends: {ROOT / 'scenarios/baseline.yaml'}\npopulation_scale: 0.05\n"
                 f"end: 2026-12\n{extra}")
    return p


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_cli_file_opens_with_documented_dims_coords_and_attributes(tmp_path):
    out = tmp_path / "b.h5"
    run("run", small_scenario(tmp_path), "-o", out, "--replicates", 2, "-q", check=True)
    ds = xr.open_dataset(out, engine="h5netcdf")
    assert ds.population.dims == ("replicate", "time", "street", "age")
    for v in ("births", "deaths", "moves_in", "moves_out", "aged_out", "residents"):
        assert ds[v].dims == ("replicate", "time", "street")
    assert ds.sizes["replicate"] == 2 and ds.sizes["time"] == 36 and ds.sizes["street"] == 10
    assert ds.sizes["age"] == 18 and int(ds.age[-1]) == 17
    assert np.issubdtype(ds.time.dtype, np.datetime64)
    assert str(ds.time.values[0])[:10] == "2024-01-01" and str(ds.time.values[-1])[:10] == "2026-12-01"
    assert list(ds.street.values[:2]) == ["huayanglu", "jiangsulu"]
    assert "street_name" in ds.coords and ds.street_name.values[0] == "华阳路街道"
    for a in ("scenario", "seed", "version", "git_commit", "created"):
        assert a in ds.attrs
    assert int(ds.attrs["seed"]) == 20240327
    assert "base_data: changning" in ds.attrs["scenario"]
    assert ds.population.attrs["units"] == "children"


def test_cli_output_is_byte_identical_for_1_and_2_threads(tmp_path):
    sc = small_scenario(tmp_path)
    a, b, c = tmp_path / "a.h5", tmp_path / "b.h5", tmp_path / "c.h5"
    run("run", sc, "-o", a, "--replicates", 3, "--threads", 1, "-q", check=True)
    run("run", sc, "-o", b, "--replicates", 3, "--threads", 2, "-q", check=True)
    run("run", sc, "-o", c, "--replicates", 3, "--threads", 2, "--seed", 99, "-q", check=True)
    assert digest(a) == digest(b)
    assert digest(a) != digest(c)


def test_cli_summary_reports_children_and_births(tmp_path):
    res = run("run", small_scenario(tmp_path), "-o", tmp_path / "s.h5", "--replicates", 1,
              check=True)
    assert "huayanglu" in res.stdout and "华阳路街道" in res.stdout
    assert "Births per year" in res.stdout and "2026:" in res.stdout
    assert "Plan targets met" in res.stdout and "summer_classes" in res.stdout


def test_cli_summary_judges_a_target_only_from_its_first_year(tmp_path):
    # A target not yet in force shows "-", not a share that reads as missed.
    out = tmp_path / "s.h5"
    res = run("run", small_scenario(tmp_path), "-o", out, "--replicates", 1, check=True)
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        first = dict(zip(ds["target"].values.astype(str), ds["target_first_year"].values))
        first_years = [int(y) for y in ds["year"].values[:2]]
    lines = res.stdout.split("Plan targets met", 1)[1].splitlines()[2:]
    rows = {line.split()[0]: line.split()[1:] for line in lines if line.startswith("  ")}
    assert set(first) <= set(rows)
    assert any(first[k] > first_years[0] for k in first)  # the check can fail
    for target, year in first.items():
        for column, run_year in enumerate(first_years):
            assert (rows[target][column] == "-") == (run_year < year), (target, rows[target])


BAD = {
    "unknown key": ("replicats: 3\n", "key 'replicats': unknown key"),
    "wrong type": ("seed: abc\n", "key 'seed': expected an integer, got 'abc'"),
    "out of range": ("replicates: -1\n", "key 'replicates': expected a value in [1, 10000]"),
    "unknown street": ("demography:\n  new_housing:\n    - {street: nowhere, start: 2025-01, "
                       "households: 5}\n", "unknown street 'nowhere'"),
    "missing file": (None, "cannot read 'missing.yaml'"),
    "circular extends": (None, "circular 'extends'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_cli_bad_scenario_fails_cleanly_and_leaves_output_untouched(tmp_path, case):
    text, message = BAD[case]
    if case == "missing file":
        sc = tmp_path / "bad.yaml"
        sc.write_text("extends: missing.yaml\n")
    elif case == "circular extends":
        (tmp_path / "a.yaml").write_text("extends: bad.yaml\n")
        sc = tmp_path / "bad.yaml"
        sc.write_text("extends: a.yaml\n")
    else:
        sc = small_scenario(tmp_path, text)
    out = tmp_path / "existing.h5"
    out.write_bytes(b"precious earlier results")
    res = run("run", sc, "-o", out)
    assert res.returncode == 2
    assert message in res.stderr
    assert res.stderr.startswith("error: ") and ":" in res.stderr.split("error: ", 1)[1]
    assert out.read_bytes() == b"precious earlier results"
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []
    assert run("validate", sc).returncode == 2


def test_cli_validate_accepts_every_ready_scenario():
    for sc in sorted((ROOT / "scenarios").glob("*.yaml")):
        res = run("validate", sc)
        assert res.returncode == 0, res.stderr
        assert "valid" in res.stdout


def test_cli_version_and_help():
    assert run("--version").stdout.startswith("childsim ")
    assert "run" in run("--help").stdout


def test_cli_every_variable_decodes_as_numbers_with_units(tmp_path):
    """xarray decodes CF time units ("minutes", "days") into timedeltas; outputs must not."""
    out = tmp_path / "u.h5"
    run("run", small_scenario(tmp_path), "-o", out, "--replicates", 1, "-q", check=True)
    ds = xr.open_dataset(out, engine="h5netcdf")
    for name, var in ds.data_vars.items():
        assert var.dtype.kind in "iuf", f"{name} decoded as {var.dtype}"
        assert "units" in var.attrs and "long_name" in var.attrs, name
