# conftest: pytest set-up for the Python tests — where the package, the compiled module and
# the CLI are, and quick runs shared by the tests.
#
# The tests do not depend on the .pth file of tools/install-python-path.sh: `analysis/` and
# `$CHILDSIM_BUILD_DIR/python` (default build/release/python) are put on sys.path here, before
# `childsim` is imported. ctest sets CHILDSIM_BINARY (the CLI) and CHILDSIM_BUILD_DIR.
import importlib
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_DIR = pathlib.Path(os.environ.get("CHILDSIM_BUILD_DIR", ROOT / "build" / "release"))
# Tests that look for build products themselves (test_hdf5_writer_contract) find them too.
os.environ.setdefault("CHILDSIM_BUILD_DIR", str(BUILD_DIR))
PYTHON_PATHS = [str(ROOT / "analysis"), str(BUILD_DIR / "python")]
for _path in reversed(PYTHON_PATHS):
    if _path in sys.path:
        sys.path.remove(_path)
    sys.path.insert(0, _path)

# Every file written in a test carries this creation date, so CLI and Python files can be
# compared byte for byte even across midnight (sim/run/ensemble.cpp reads it).
os.environ["SOURCE_DATE_EPOCH"] = "1700000000"
os.environ.setdefault("MPLBACKEND", "Agg")
# OpenMP threads that sleep instead of spinning at barriers: on a shared two-core machine a
# spinning thread waits for a descheduled one, and runs take several times longer. Results
# do not depend on it. Set before the OpenMP runtime is loaded (with childsim._core).
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import childsim  # noqa: E402  (after sys.path is set)

# Small, quick scenarios: a tenth of the district, four years.
QUICK = {"population_scale": 0.1, "end": "2027-12", "replicates": 3}


def _have_core():
    try:
        importlib.import_module("childsim._core")
    except ImportError as error:
        return str(error)
    return None


_CORE_MISSING = _have_core()

requires_core = pytest.mark.skipif(
    _CORE_MISSING is not None,
    reason=f"childsim._core is not built (looked in {BUILD_DIR / 'python' / 'childsim'}; "
    f"build the release preset or set CHILDSIM_BUILD_DIR): {_CORE_MISSING}",
)


def cli_binary():
    """The `childsim` CLI: $CHILDSIM_BINARY, or the one in the build directory."""
    explicit = os.environ.get("CHILDSIM_BINARY")
    path = pathlib.Path(explicit) if explicit else BUILD_DIR / "sim" / "childsim"
    return path if path.exists() else None


requires_cli = pytest.mark.skipif(
    cli_binary() is None, reason="the childsim CLI is not built (set CHILDSIM_BINARY)"
)


def run_cli(*args, cwd=None):
    """Run the CLI; returns the CompletedProcess (text)."""
    return subprocess.run(
        [str(cli_binary()), *map(str, args)],
        capture_output=True, text=True, timeout=600, cwd=cwd,
    )


def quick_scenario_file(directory, extends="baseline.yaml", **extra):
    """A scenario file extending one of scenarios/ with QUICK settings; returns its path."""
    values = {**QUICK, **extra}
    lines = [f"extends: {ROOT / 'scenarios' / extends}"]
    lines += [f"{key}: {value}" for key, value in values.items()]
    path = pathlib.Path(directory) / f"quick-{pathlib.Path(extends).stem}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def quick_files(tmp_path_factory):
    """CLI outputs of the quick baseline and low-fertility scenarios (same seed)."""
    if cli_binary() is None:
        pytest.skip("the childsim CLI is not built (set CHILDSIM_BINARY)")
    directory = tmp_path_factory.mktemp("quick")
    files = {}
    for extends in ("baseline.yaml", "low-fertility.yaml"):
        scenario = quick_scenario_file(directory, extends)
        out = directory / f"{scenario.stem}.h5"
        result = run_cli("run", scenario, "-o", out, "-q")
        assert result.returncode == 0, result.stderr
        files[pathlib.Path(extends).stem] = out
    return files


@pytest.fixture(scope="session")
def quick_run(quick_files):
    """The quick baseline, read from the CLI's file."""
    return childsim.open_run(quick_files["baseline"])


# Quick runs of ready scenarios for the scenario and briefing tests: a twentieth of the
# district, two replicates, to June 2026 (so that the 2024 and 2025 investments are inside).
BRIEF_QUICK = {"population_scale": 0.05, "end": "2026-06", "replicates": 2}


def scenario_variant(directory, scenario, name=None, **extra):
    """A file extending scenarios/<scenario> with BRIEF_QUICK settings (and ``extra``)."""
    values = {**BRIEF_QUICK, **extra}
    lines = [f"extends: {ROOT / 'scenarios' / scenario}"]
    lines += [f"{key}: {value}" for key, value in values.items()]
    path = pathlib.Path(directory) / (name or f"quick-{pathlib.Path(scenario).stem}.yaml")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def brief_files(tmp_path_factory):
    """CLI outputs of quick runs of baseline, nursery-expansion and holiday-classes-30-12."""
    if cli_binary() is None:
        pytest.skip("the childsim CLI is not built (set CHILDSIM_BINARY)")
    directory = tmp_path_factory.mktemp("brief")
    files = {}
    for scenario in ("baseline.yaml", "nursery-expansion.yaml", "holiday-classes-30-12.yaml"):
        path = scenario_variant(directory, scenario)
        out = directory / f"{path.stem[len('quick-'):]}.h5"
        result = run_cli("run", path, "-o", out, "-q")
        assert result.returncode == 0, result.stderr
        files[pathlib.Path(scenario).stem] = out
    return files
