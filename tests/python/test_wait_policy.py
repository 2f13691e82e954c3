"""Idle OpenMP threads sleep by default (issue #14, item 2).

libgomp reads OMP_WAIT_POLICY when it is loaded, so the program sets the variable and
re-executes itself (sim/run/openmp_wait.hpp); the Python package sets it before the compiled
module is imported. These tests read the environment of the running process from /proc, so
they would fail if the program ran with the runtime's spinning default, and they check that a
user's own choice is kept.
"""

import os
import pathlib
import subprocess
import sys
import time

import pytest

from conftest import ROOT, cli_binary, requires_cli

pytestmark = pytest.mark.skipif(not pathlib.Path("/proc/self/environ").exists(),
                                reason="needs /proc")


def _read_environ(pid):
    raw = pathlib.Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


def _environment_seen(tmp_path, env):
    """Run the baseline (2 replicates) and read /proc/PID/environ while it simulates."""
    cmd = [str(cli_binary()), "run", str(ROOT / "scenarios" / "baseline.yaml"),
           "--replicates", "2", "--threads", "2", "-q", "-o", str(tmp_path / "out.h5")]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = None
    try:
        # The re-execution happens in the first milliseconds; poll until the simulated
        # process (its environment) is visible, reading until the process ends.
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                environ = _read_environ(proc.pid)
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                break
            seen = environ
            time.sleep(0.05)
    finally:
        _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert seen is not None, "the run ended before its environment could be read"
    return seen


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(extra)
    return env


@requires_cli
def test_cli_sets_passive_waiting_when_the_environment_chose_nothing(tmp_path):
    environ = _environment_seen(tmp_path, _clean_env())
    assert environ.get("OMP_WAIT_POLICY") == "passive"


@requires_cli
def test_cli_keeps_the_users_wait_policy(tmp_path):
    assert _environment_seen(tmp_path, _clean_env(OMP_WAIT_POLICY="active"))[
        "OMP_WAIT_POLICY"] == "active"
    environ = _environment_seen(tmp_path, _clean_env(GOMP_SPINCOUNT="1000"))
    assert "OMP_WAIT_POLICY" not in environ and environ["GOMP_SPINCOUNT"] == "1000"


def test_python_package_sets_passive_before_the_compiled_module_loads():
    # The variable is set at the top of childsim/__init__.py, above every import that could
    # load childsim._core (and with it libgomp).
    code = "import os, childsim; print(os.environ.get('OMP_WAIT_POLICY'))"
    paths = os.pathsep.join([str(ROOT / "analysis"), *sys.path])
    out = subprocess.run([sys.executable, "-c", code], env=_clean_env(PYTHONPATH=paths),
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["passive"]
