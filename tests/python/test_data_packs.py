# test_data_packs: data packs (docs/data-packs.md) — `childsim check-data` finds each class of
# problem at its file, line and key, and all of them at once; a two-district pack conserves
# people (internal moves cross districts and cancel city-wide) and gives the same bytes at 1
# and 2 threads; the whole-Shanghai generator writes a pack that passes the checker (issue #14,
# part 4).
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from conftest import ROOT, requires_cli, run_cli

TOY = ROOT / "tests" / "data" / "toy-pack"
pytestmark = requires_cli


def broken_copy(tmp_path, edits, remove=()):
    """A copy of the toy pack (symbolic links resolved) with text edits: {file: [(old, new)]}."""
    pack = tmp_path / "pack"
    shutil.copytree(TOY, pack, symlinks=False)
    for name, pairs in edits.items():
        path = pack / name
        text = path.read_text(encoding="utf-8")
        for old, new in pairs:
            assert text.count(old) >= 1, (name, old)
            text = text.replace(old, new, 1)
        path.write_text(text, encoding="utf-8")
    for name in remove:
        (pack / name).unlink()
    return pack


def line_of(path, fragment):
    """1-based line of the first line of `path` containing `fragment`."""
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if fragment in line:
            return n
    raise AssertionError(f"{fragment!r} not in {path}")


def check(pack):
    result = run_cli("check-data", pack)
    return result.returncode, result.stderr.splitlines()


@pytest.mark.parametrize("pack", [ROOT / "scenarios" / "changning", TOY])
def test_check_data_accepts_the_shipped_packs(pack):
    result = run_cli("check-data", pack)
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("no problems")


def test_check_data_toy_summary_counts_what_the_files_hold():
    out = run_cli("check-data", TOY).stdout
    assert "pack 'toy', 2 district(s), 4 streets, 40000 residents (2020), 20 facilities" in out


# One broken copy per class of problem: (files edited, file and fragment of the line at
# fault, key, words of the message).
CASES = {
    "missing_file": ({}, ("mortality.yaml", None), None, "missing file"),
    "missing_key": ({"streets.yaml": [("    name_zh: 北乙街道\n", "")]},
                    ("streets.yaml", "  - id: north-b"), "streets[1]", "name_zh"),
    "value_outside_its_range": ({"streets.yaml": [("{value: 2.5, range: [2.0, 3.0]",
                                                   "{value: 3.5, range: [2.0, 3.0]")]},
                                ("streets.yaml", "value: 3.5"), "streets[2].area_km2.value",
                                "outside its range"),
    "negative_capacity": ({"facilities.yaml": [("capacity: 40, price_month: 6000",
                                                "capacity: -40, price_month: 6000")]},
                          ("facilities.yaml", "capacity: -40"), "facilities[3].capacity",
                          "capacity >= 0"),
    "unknown_street": ({"facilities.yaml": [("street: north-b, capacity: 250",
                                             "street: north-c, capacity: 250")]},
                       ("facilities.yaml", "street: north-c"), "facilities[2].street",
                       "unknown street 'north-c'"),
    "streets_do_not_sum_to_district": ({"pack.yaml": [("{value: 18000,", "{value: 18500,")]},
                                       ("pack.yaml", "value: 18500"),
                                       "districts[1].population_2020",
                                       "sum to 18000 residents, its population_2020 is 18500"),
    "shares_do_not_sum_to_one": ({"fertility.yaml": [("values: [0.0001, 0.0005",
                                                      "values: [0.1001, 0.0005")]},
                                 ("fertility.yaml", "values: [0.1001"), "asfr_shape.values",
                                 "must sum to 1"),
    "provenance_missing": ({"streets.yaml": [('lat: {value: 31.205, assumed: "invented"}',
                                              "lat: {value: 31.205}")]},
                           ("streets.yaml", "lat: {value: 31.205}"), "streets[2].lat",
                           "no provenance"),
    "unknown_district": ({"streets.yaml": [("district: south\n", "district: west\n")]},
                         ("streets.yaml", "district: west"), "streets[2].district",
                         "unknown district 'west'"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_check_data_reports_each_class_at_its_file_line_and_key(tmp_path, case):
    edits, (name, fragment), key, words = CASES[case]
    pack = broken_copy(tmp_path, edits, remove=[name] if fragment is None else [])
    code, lines = check(pack)
    assert code == 2, lines
    assert lines[-1] == f"check-data: {len(lines) - 1} problem(s) in {pack}"
    where = f"{pack / name}" if fragment is None else f"{pack / name}:{line_of(pack / name, fragment)}:"
    hits = [l for l in lines if where in l and words in l and (key is None or f"'{key}" in l)]
    assert hits, "\n".join(lines)


def test_check_data_names_a_missing_directory_once(tmp_path):
    code, lines = check(tmp_path / "nowhere")
    assert code == 2
    assert lines == [f"error: {tmp_path / 'nowhere'}: no such directory (a data pack is a "
                     "directory of YAML files: docs/data-packs.md)",
                     f"check-data: 1 problem(s) in {tmp_path / 'nowhere'}"]


def test_check_data_reports_every_problem_not_only_the_first(tmp_path):
    edits = {}
    for case in ("unknown_street", "streets_do_not_sum_to_district", "shares_do_not_sum_to_one",
                 "provenance_missing", "negative_capacity"):
        for name, pairs in CASES[case][0].items():
            edits.setdefault(name, []).extend(pairs)
    code, lines = check(broken_copy(tmp_path, edits))
    assert code == 2
    for case in ("unknown_street", "streets_do_not_sum_to_district", "shares_do_not_sum_to_one",
                 "provenance_missing", "negative_capacity"):
        assert any(CASES[case][3] in l for l in lines), (case, lines)
    # Files in pack order: pack.yaml, streets.yaml, ..., facilities.yaml.
    files = [re.search(r"/(\w+\.yaml):", l).group(1) for l in lines[:-1]]
    order = ["pack.yaml", "streets.yaml", "population.yaml", "fertility.yaml",
             "mortality.yaml", "parameters.yaml", "facilities.yaml", "targets.yaml"]
    assert [order.index(f) for f in files] == sorted(order.index(f) for f in files)


def test_a_run_refuses_a_broken_pack_at_the_same_place(tmp_path):
    pack = broken_copy(tmp_path, CASES["unknown_street"][0])
    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"base_data: {pack}\nend: 2024-12\n", encoding="utf-8")
    result = run_cli("validate", scenario)
    assert result.returncode == 2
    line = line_of(pack / "facilities.yaml", "street: north-c")
    assert f"facilities.yaml:{line}:" in result.stderr and "north-c" in result.stderr


def toy_scenario(directory, end="2027-12"):
    path = directory / "toy.yaml"
    path.write_text(f"name: toy\nbase_data: {TOY}\nstart: 2024-01\nend: {end}\nreplicates: 2\n"
                    "seed: 7\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def toy_runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("toy")
    scenario = toy_scenario(d)
    out = {}
    for threads in (1, 2):
        path = d / f"toy-{threads}.h5"
        result = run_cli("run", scenario, "-o", path, "--threads", threads, "-q")
        assert result.returncode == 0, result.stderr
        out[threads] = path
    return out


def test_toy_pack_same_bytes_at_one_and_two_threads(toy_runs):
    assert toy_runs[1].read_bytes() == toy_runs[2].read_bytes()


def test_toy_pack_conserves_people_by_district(toy_runs):
    ds = xr.open_dataset(toy_runs[1], engine="h5netcdf")
    assert list(ds["street_district"].values.astype(str)) == ["north", "north", "south", "south"]
    cells = ["sex", "age_group"]
    by = ds["street_district"]
    flows = (ds["births"] + ds["migrants_in"].sum(cells) - ds["migrants_out"].sum(cells)
             - ds["resident_deaths"].sum(cells))
    internal = ds["movers_in"].sum(cells) - ds["movers_out"].sum(cells)
    change = ds["residents"].astype("int64").diff("time")
    # District totals: change = births + arrivals - deaths - departures + net internal moves.
    d_change = change.groupby(by).sum("street")
    d_flows = (flows + internal).isel(time=slice(1, None)).groupby(by).sum("street")
    np.testing.assert_array_equal(d_change.values, d_flows.values)
    # Internal moves cross districts (not vacuous) and net to zero over the pack.
    net = internal.groupby(by).sum("street")
    assert int(np.abs(net).sum()) > 0
    np.testing.assert_array_equal(net.sum("street_district").values, 0)
    # The pack as a whole: only births, arrivals, deaths and departures change it.
    np.testing.assert_array_equal(change.sum("street").values,
                                  flows.isel(time=slice(1, None)).sum("street").values)


def test_shanghai_generator_writes_a_pack_the_checker_accepts(tmp_path):
    out = tmp_path / "shanghai"
    subprocess.run([sys.executable, str(ROOT / "tools" / "make_shanghai_pack.py"), str(out)],
                   check=True, capture_output=True, text=True)
    result = run_cli("check-data", out)
    assert result.returncode == 0, result.stderr
    assert "pack 'shanghai', 16 district(s), 215 streets, 24870895 residents (2020)" in result.stdout
    # Deterministic: a second run writes the same bytes.
    again = tmp_path / "again"
    subprocess.run([sys.executable, str(ROOT / "tools" / "make_shanghai_pack.py"), str(again)],
                   check=True, capture_output=True)
    for f in sorted(out.iterdir()):
        assert f.read_bytes() == (again / f.name).read_bytes(), f.name
    result = run_cli("validate", out / "shanghai.yaml")
    assert result.returncode == 0, result.stderr
    assert "215 streets" in result.stdout
