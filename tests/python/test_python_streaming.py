# test_python_streaming: `childsim.run(..., output=PATH)` streams an ensemble to a file as
# `childsim run -o` does (issue #14): the same bytes, a partial file that `resume=True`
# continues (whichever front door left it), and peak memory that does not grow with the
# replicates; without `output` the ensemble stays in memory, by design, under the estimate.
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

import childsim
from conftest import BUILD_DIR, ROOT, cli_binary, requires_cli, requires_core

pytestmark = requires_core


def scenario_file(directory, replicates, scale="0.05", end="2025-12"):
    path = Path(directory) / "s.yaml"
    path.write_text(f"extends: {ROOT / 'scenarios/baseline.yaml'}\npopulation_scale: {scale}\n"
                    f"end: {end}\nreplicates: {replicates}\n")
    return path


def cli(*args):
    return subprocess.run([str(cli_binary()), *map(str, args)], capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, OMP_NUM_THREADS="1"))


@requires_cli
def test_run_to_output_is_the_cli_file_byte_for_byte(tmp_path):
    sc = scenario_file(tmp_path, 3)
    assert cli("run", sc, "-o", tmp_path / "cli.h5", "-q").returncode == 0
    path = childsim.run(sc, output=tmp_path / "python.h5", threads=1)
    assert path == tmp_path / "python.h5"
    assert path.read_bytes() == (tmp_path / "cli.h5").read_bytes()
    assert not Path(f"{path}.partial").exists()
    # And the bytes of the in-memory way (run, then write).
    again = childsim.write(childsim.run(sc, threads=1), tmp_path / "memory.h5")
    assert again.read_bytes() == path.read_bytes()


@requires_cli
def test_run_resumes_a_partial_file_left_by_the_cli(tmp_path):
    sc = scenario_file(tmp_path, 8)
    full = childsim.run(sc, output=tmp_path / "full.h5")
    out = tmp_path / "out.h5"
    partial = Path(f"{out}.partial")
    p = subprocess.Popen([str(cli_binary()), "run", str(sc), "-o", str(out), "-q", "--threads",
                          "1"], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while p.poll() is None and time.monotonic() < deadline:
        if partial.exists() and partial.read_bytes().count(b"END\n") >= 2:  # two records
            p.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    p.wait(timeout=60)
    assert p.returncode == -signal.SIGKILL, "the run finished before it could be interrupted"
    # Another seed cannot continue it: refused, the partial file kept.
    with pytest.raises(ValueError, match="cannot resume from .*seed"):
        childsim.run(sc, output=out, resume=True, seed=99)
    assert partial.exists() and not out.exists()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        childsim.run(sc, output=out, resume=True)
    assert any("resuming from" in str(w.message) for w in caught), [str(w.message) for w in caught]
    assert out.read_bytes() == full.read_bytes()
    assert not partial.exists()


def test_run_checks_output_and_resume_arguments(tmp_path):
    sc = scenario_file(tmp_path, 1)
    with pytest.raises(ValueError, match="resume=True needs output="):
        childsim.run(sc, resume=True)
    with pytest.raises(TypeError, match="output must be a str or os.PathLike"):
        childsim.run(sc, output=3)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        childsim.run(sc, output=tmp_path / "no-such-dir" / "out.h5")
    with pytest.raises(IsADirectoryError):
        childsim.run(sc, output=tmp_path)
    assert not list(tmp_path.glob("*.h5*"))


def _peak_rss_kb(scenario, replicates, output):
    """Peak resident memory (kB) of a fresh interpreter running childsim.run(..., output=)."""
    code = ("import resource, sys, childsim\n"
            "childsim.run(sys.argv[1], replicates=int(sys.argv[2]), output=sys.argv[3],"
            " threads=1)\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "analysis"),
                                                       str(BUILD_DIR / "python")]))
    r = subprocess.run([sys.executable, "-c", code, str(scenario), str(replicates), str(output)],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr
    return int(r.stdout.split()[-1])


def test_run_to_output_peak_memory_does_not_grow_with_the_replicates(tmp_path):
    # In memory, 24 replicates of this scenario hold 24 replicates' outputs until the end.
    sc = scenario_file(tmp_path, 1, scale="0.02", end="2027-12")
    one = _peak_rss_kb(sc, 1, tmp_path / "one.h5")
    many = _peak_rss_kb(sc, 24, tmp_path / "many.h5")
    assert many <= 1.2 * one, (one, many)
