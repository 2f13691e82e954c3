# test_many_scenarios: `childsim run a.yaml b.yaml … -o DIR` and childsim.run_many — each file
# byte-identical to running its scenario alone, common random numbers, and bad input anywhere
# in the list refused before any output is touched.
import hashlib
import os

import pytest

import childsim
from conftest import ROOT, requires_cli, requires_core, run_cli

QUICK = {"population_scale": 0.05, "end": "2024-09", "replicates": 2}


def _scenario(directory, name, extends="baseline.yaml", **extra):
    path = directory / f"{name}.yaml"
    lines = [f"extends: {ROOT / 'scenarios' / extends}"]
    lines += [f"{key}: {value}" for key, value in {**QUICK, **extra}.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@requires_cli
def test_run_many_cli_each_file_is_byte_identical_to_its_single_run(tmp_path):
    a = _scenario(tmp_path, "base")
    b = _scenario(tmp_path, "low", "low-fertility.yaml")
    c = _scenario(tmp_path, "nurseries", "nursery-expansion.yaml")
    out = tmp_path / "many"
    result = run_cli("run", a, b, c, "-o", out, "-q", "--threads", 2)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["base.h5", "low.h5", "nurseries.h5"]
    for scenario in (a, b, c):
        alone = tmp_path / f"alone-{scenario.stem}.h5"
        single = run_cli("run", scenario, "-o", alone, "-q", "--threads", 1)
        assert single.returncode == 0, single.stderr
        assert _digest(out / f"{scenario.stem}.h5") == _digest(alone), scenario.name


@requires_cli
def test_run_many_cli_shares_the_seed_common_random_numbers(tmp_path):
    a = _scenario(tmp_path, "base")
    b = _scenario(tmp_path, "again", seed=7)
    result = run_cli("run", a, b, "-o", tmp_path / "out", "-q")
    assert result.returncode == 1
    assert "share one seed" in result.stderr and "again.yaml has seed 7" in result.stderr
    assert not (tmp_path / "out").exists()
    # --seed gives them one: the two files are then the same run, bit for bit.
    result = run_cli("run", a, b, "-o", tmp_path / "out", "-q", "--seed", 11)
    assert result.returncode == 0, result.stderr
    base = childsim.open_run(tmp_path / "out" / "base.h5")
    again = childsim.open_run(tmp_path / "out" / "again.h5")
    assert int(base.attrs["seed"]) == int(again.attrs["seed"]) == 11
    assert (base["births"] == again["births"]).all()


@requires_cli
def test_run_many_cli_bad_second_file_refuses_before_any_output(tmp_path):
    a = _scenario(tmp_path, "base")
    bad = _scenario(tmp_path, "bad", population_scale=50)
    out = tmp_path / "out"
    result = run_cli("run", a, bad, "-o", out, "-q")
    assert result.returncode == 2
    assert "bad.yaml" in result.stderr and "population_scale" in result.stderr
    assert ":2:" in result.stderr  # the line of the bad key
    assert not out.exists()
    # An existing directory keeps its files untouched.
    out.mkdir()
    (out / "base.h5").write_bytes(b"earlier")
    result = run_cli("run", a, bad, "-o", out, "-q")
    assert result.returncode == 2
    assert (out / "base.h5").read_bytes() == b"earlier"
    # Two files of the same name would overwrite each other: refused, naming them.
    other = tmp_path / "sub"
    other.mkdir()
    twin = _scenario(other, "base")
    result = run_cli("run", a, twin, "-o", tmp_path / "twins", "-q")
    assert result.returncode == 1 and "named 'base'" in result.stderr
    assert not (tmp_path / "twins").exists()
    # -o must be a directory with several scenarios.
    result = run_cli("run", a, _scenario(tmp_path, "low", "low-fertility.yaml"), "-o",
                     out / "base.h5", "-q")
    assert result.returncode == 1 and "not a directory" in result.stderr


@requires_core
@requires_cli
def test_run_many_python_equals_the_cli(tmp_path):
    a = _scenario(tmp_path, "base")
    b = _scenario(tmp_path, "low", "low-fertility.yaml")
    files = childsim.run_many([a, b], tmp_path / "py", threads=1)
    assert [f.name for f in files] == ["base.h5", "low.h5"]
    result = run_cli("run", a, b, "-o", tmp_path / "cli", "-q")
    assert result.returncode == 0, result.stderr
    for f in files:
        assert _digest(f) == _digest(tmp_path / "cli" / f.name)


@requires_core
def test_run_many_python_bad_input_touches_nothing(tmp_path):
    a = _scenario(tmp_path, "base")
    bad = _scenario(tmp_path, "bad", replicates=0)
    with pytest.raises(childsim.ScenarioError, match="replicates"):
        childsim.run_many([a, bad], tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(ValueError, match="share one seed"):
        childsim.run_many([a, _scenario(tmp_path, "seven", seed=7)], tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(TypeError):
        childsim.run_many(os.fspath(a), tmp_path / "out")
