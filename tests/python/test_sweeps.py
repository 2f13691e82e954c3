# test_sweeps: `childsim sweep` and childsim.sweep — located design errors, samples equal to
# direct runs with the sampled parameters (common random numbers), identical bytes at any
# thread count, resuming after the process is killed, and indices from the file.
import hashlib
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import childsim
from childsim.sweeps import DesignError, read_design, sweep_design, sweep_indices, sweep_output
from conftest import BUILD_DIR, ROOT, cli_binary, requires_cli, requires_core

pytestmark = requires_core

QUICK = f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\npopulation_scale: 0.05\nend: 2025-12\n"


def _write(directory, name, text):
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def _design(directory, body, name="design.yaml"):
    _write(directory, "quick.yaml", QUICK)
    return _write(directory, name, "scenario: quick.yaml\n" + body)


def _cli(*args, timeout=600):
    env = dict(os.environ, PYTHONPATH=str(BUILD_DIR / "python"))
    return subprocess.run([str(cli_binary()), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


LHS = """design: latin_hypercube
samples: 4
seed: 3
replicates: 2
variables: [nursery_unmet, births, population]
parameters:
  fertility.tfr_multiplier:
  nursery.seek_intercept: [-2.5, -1.5]
"""


# --- located errors -------------------------------------------------------------------------

@pytest.mark.parametrize("body, line, key, words", [
    ("design: latin_hypercube\nsamples: 4\nparameters:\n  migration.out_rat: [0.03, 0.05]\n",
     5, "parameters.migration.out_rat", "unknown parameter (did you mean 'migration.out_rate'?)"),
    ("design: latin_hypercube\nsamples: 4\nparameters:\n  migration.out_rate: [0.01, 0.05]\n",
     5, "parameters.migration.out_rate", "leave the documented range [0.03, 0.12]"),
    ("design: latin_hypercube\nsamples: 4\nparameters:\n  migration.out_rate: [0.05, 0.03]\n",
     5, "parameters.migration.out_rate", "low must be below high"),
    ("design: sobol\nsamples: 4\nparameters:\n  migration.out_rate:\n",
     2, "design", "expected one of full_factorial"),
    ("design: morris\nsampels: 4\nparameters:\n  migration.out_rate:\n",
     3, "sampels", "unknown key (did you mean 'samples'?)"),
    ("design: morris\nsamples: 4\nlevels: 3\nparameters:\n  migration.out_rate:\n",
     4, "levels", "must be even"),
])
def test_design_errors_name_file_line_and_key(tmp_path, body, line, key, words):
    path = _design(tmp_path, body)
    with pytest.raises(DesignError) as caught:
        read_design(path)
    error = caught.value
    assert (error.file, error.line, error.key) == (str(path), line, key)
    assert words in str(error)
    assert str(error).startswith(f"{path}:{line}:")


@requires_cli
def test_cli_bad_design_exits_2_before_touching_the_output(tmp_path):
    path = _design(tmp_path, "design: morris\nsamples: 4\nparameters:\n  nope.nope:\n")
    out = tmp_path / "out.h5"
    out.write_bytes(b"old")
    result = _cli("sweep", path, "-o", out)
    assert result.returncode == 2
    assert f"{path}:5:3: key 'parameters.nope.nope': unknown parameter" in result.stderr
    assert out.read_bytes() == b"old" and not (tmp_path / "out.h5.parts").exists()


# --- what a sweep holds ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def lhs_sweep(tmp_path_factory):
    directory = tmp_path_factory.mktemp("lhs")
    path = _design(directory, LHS)
    out = directory / "sweep.h5"
    ds = childsim.sweep(path, out, threads=1)
    return path, out, ds


def test_sweep_samples_are_direct_runs_with_the_sampled_parameters(lhs_sweep):
    path, out, ds = lhs_sweep
    design = read_design(path)
    table = design.table()
    back = childsim.open_run(out)
    assert back.sizes["sample"] == 4 and back["births"].dims[0] == "sample"
    assert np.array_equal(sweep_design(back).values, table.values)
    assert sweep_design(back).attrs["bounds"]["nursery.seek_intercept"] == [-2.5, -1.5]
    for k in (0, 3):
        params = {name: float(table.iloc[k][name]) for name in table.columns}
        direct = childsim.run(design.scenario, replicates=2, threads=1, parameters=params)
        for variable in ("nursery_unmet", "births", "population"):
            assert np.array_equal(back[variable].isel(sample=k).values, direct[variable].values)
    # Common random numbers: every sample runs with the scenario's seed.
    assert back.attrs["seed"] == childsim.load_scenario(design.scenario).seed
    # The sampled values differ, so the samples do.
    assert not np.array_equal(back["births"].isel(sample=0), back["births"].isel(sample=1))


@requires_cli
def test_cli_sweep_is_byte_identical_to_python_and_across_threads(tmp_path, lhs_sweep):
    path, python_out, _ = lhs_sweep
    outs = []
    for threads in (1, 2):
        out = tmp_path / f"t{threads}.h5"
        result = _cli("sweep", path, "-o", out, "--threads", threads, "--quiet")
        assert result.returncode == 0, result.stderr
        outs.append(out)
    assert _digest(outs[0]) == _digest(outs[1]) == _digest(python_out)


@requires_cli
def test_cli_sweep_resumes_after_being_killed(tmp_path):
    path = _design(tmp_path, LHS)
    reference = tmp_path / "reference.h5"
    assert _cli("sweep", path, "-o", reference, "--quiet").returncode == 0
    out = tmp_path / "sweep.h5"
    parts = tmp_path / "sweep.h5.parts"
    env = dict(os.environ, PYTHONPATH=str(BUILD_DIR / "python"))
    proc = subprocess.Popen([str(cli_binary()), "sweep", path, "-o", out, "--threads", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, env=env)
    deadline = time.time() + 300
    while time.time() < deadline and len(list(parts.glob("sample-*.h5"))) < 2:
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = sorted(p.name for p in parts.glob("sample-*.h5"))
    assert 2 <= len(done) < 4, "the sweep finished before it could be interrupted"
    assert not out.exists()
    result = _cli("sweep", path, "-o", out, "--threads", "1")
    assert result.returncode == 0, result.stderr
    assert f"({len(done)} from an earlier start)" in result.stdout
    assert _digest(out) == _digest(reference)
    assert not parts.exists()


def test_sweep_refuses_parts_of_another_design(tmp_path):
    path = _design(tmp_path, LHS)
    out = tmp_path / "sweep.h5"
    (tmp_path / "sweep.h5.parts").mkdir()
    (tmp_path / "sweep.h5.parts" / "manifest.json").write_text('{"fingerprint": "x"}')
    with pytest.raises(DesignError, match="different design"):
        childsim.sweep(path, out, threads=1)


def test_sweep_refuses_parts_of_another_build(tmp_path, monkeypatch):
    # Parts left by an interrupted sweep of another commit (same version number) are not
    # mixed in: their files carry that build's git_commit, and its model may differ.
    from childsim import sweeps
    from childsim._native import core

    path = _design(tmp_path, LHS)
    out = tmp_path / "sweep.h5"
    design = read_design(path)
    monkeypatch.setattr(core(), "git_commit", "0123456789ab")
    sweeps._missing(tmp_path / "sweep.h5.parts", sweeps._plan(design, out), design.file)
    monkeypatch.undo()
    with pytest.raises(DesignError, match="different design, scenario or program version"):
        childsim.sweep(path, out, threads=1)


# --- indices from a sweep -------------------------------------------------------------------

def test_sobol_sweep_gives_zero_indices_to_a_parameter_the_output_cannot_see(tmp_path):
    # Clinic visits do not feed back on births; with common random numbers, changing
    # clinic.winter_peak leaves births bit-identical, so its Sobol indices are exactly 0,
    # while the fertility multiplier explains everything. Its estimate is a ratio of two
    # variance estimates from N base samples: at N = 8 its bootstrap interval was 0.32-1.66
    # (0.88 after issue #9's births), so N = 16 keeps the 0.9 check clear of that noise.
    path = _design(tmp_path, """design: saltelli
samples: 16
replicates: 1
variables: [births]
parameters:
  fertility.tfr_multiplier:
  clinic.winter_peak:
""")
    ds = childsim.sweep(path, tmp_path / "s.h5", threads=1)
    assert ds.sizes["sample"] == 16 * (2 + 2)
    y = sweep_output(ds, "births", 2025, how="sum")
    s = sweep_indices(ds, y, bootstrap=100)
    assert s.loc["clinic.winter_peak", "ST"] == 0 and s.loc["clinic.winter_peak", "S1"] == 0
    assert s.loc["fertility.tfr_multiplier", "ST"] > 0.9
    fig = childsim.plot_sensitivity(s)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][-1] == "fertility.tfr_multiplier"


@requires_cli
def test_cli_sweep_runs_the_model_of_its_own_build(tmp_path):
    # Without PYTHONPATH the program puts its own build's childsim._core first, so that a
    # sweep never runs another build's model found through a .pth file (it once did).
    path = _design(tmp_path, LHS)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = tmp_path / "own.h5"
    result = subprocess.run([str(cli_binary()), "sweep", path, "-o", out, "--quiet"],
                            capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr
    version = subprocess.run([str(cli_binary()), "--version"], capture_output=True, text=True)
    commit = version.stdout.split("commit ")[1].rstrip(")\n")
    import h5py

    with h5py.File(out, "r") as f:
        assert f.attrs["git_commit"] == commit
