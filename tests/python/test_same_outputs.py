"""tools/same_outputs.py, the check every speed change of issue #14 was merged with.

It must say "same" for two runs of one scenario and seed at different thread counts (the
reproducibility standard), whatever build wrote them, and must not say "same" when any array
or attribute that is a result differs.
"""
import shutil
import subprocess
import sys

import h5py
import pytest

from conftest import ROOT, quick_scenario_file, requires_cli, run_cli

TOOL = ROOT / "tools" / "same_outputs.py"


def _compare(*paths):
    return subprocess.run([sys.executable, str(TOOL), *map(str, paths)], capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The quick baseline at 1 and at 2 threads (same seed)."""
    directory = tmp_path_factory.mktemp("same")
    scenario = quick_scenario_file(directory)
    files = []
    for threads in (1, 2):
        out = directory / f"t{threads}.h5"
        result = run_cli("run", scenario, "-o", out, "-q", "--threads", threads)
        assert result.returncode == 0, result.stderr
        files.append(out)
    return files


@requires_cli
def test_runs_at_two_thread_counts_are_the_same(two_runs):
    result = _compare(*two_runs)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("same")


@requires_cli
def test_the_build_attributes_are_ignored_and_a_changed_value_is_found(two_runs, tmp_path):
    other = tmp_path / "other.h5"
    shutil.copy(two_runs[1], other)
    with h5py.File(other, "r+") as f:
        f.attrs["git_commit"] = "another build"
    assert _compare(two_runs[0], other).returncode == 0
    with h5py.File(other, "r+") as f:
        births = f["births"]
        values = births[()]
        values.flat[0] += 1
        births[...] = values
    result = _compare(two_runs[0], other)
    assert result.returncode == 1
    assert "births: values differ" in result.stdout


@requires_cli
def test_another_seed_is_not_the_same(two_runs, tmp_path):
    scenario = quick_scenario_file(tmp_path, seed=20240328)  # the baseline's is 20240327
    out = tmp_path / "seed.h5"
    result = run_cli("run", scenario, "-o", out, "-q")
    assert result.returncode == 0, result.stderr
    compared = _compare(two_runs[0], out)
    assert compared.returncode == 1
    assert compared.stdout.startswith("DIFFERENT")
