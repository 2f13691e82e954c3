# test_bindings: the Python front door (childsim._core via childsim.run/write) gives exactly
# what the CLI gives — same outputs bit for bit, same files byte for byte, same error messages
# — and runs without holding the GIL.
import threading
import time

import numpy as np
import pytest

import childsim
from childsim.testing import assert_runs_equal
from conftest import ROOT, quick_scenario_file, requires_cli, requires_core, run_cli

pytestmark = requires_core

SCENARIOS = ROOT / "scenarios"


@requires_cli
def test_bindings_run_equals_cli_output_bit_for_bit(tmp_path, quick_files):
    scenario = quick_scenario_file(tmp_path)
    out = tmp_path / "cli.h5"
    assert run_cli("run", scenario, "-o", out, "-q").returncode == 0
    from_python = childsim.run(scenario)
    # Nothing ignored: SOURCE_DATE_EPOCH (conftest) fixes `created` for both.
    assert_runs_equal(from_python, childsim.open_run(out), ignore_attrs=())


@requires_cli
def test_bindings_write_is_byte_identical_to_cli_file(tmp_path):
    scenario = quick_scenario_file(tmp_path)
    cli_out = tmp_path / "cli.h5"
    assert run_cli("run", scenario, "-o", cli_out, "-q").returncode == 0
    py_out = childsim.write(childsim.run(scenario), tmp_path / "python.h5")
    assert py_out.read_bytes() == cli_out.read_bytes()


@requires_cli
def test_bindings_rewriting_an_opened_file_is_byte_identical(tmp_path, quick_files):
    again = childsim.write(childsim.open_run(quick_files["baseline"]), tmp_path / "again.h5")
    assert again.read_bytes() == quick_files["baseline"].read_bytes()


@requires_cli
def test_bindings_seed_and_replicate_overrides_match_cli_flags(tmp_path):
    scenario = quick_scenario_file(tmp_path, end="2024-12")
    out = tmp_path / "cli.h5"
    result = run_cli("run", scenario, "-o", out, "-q", "--seed", 99, "--replicates", 2,
                     "--threads", 1)
    assert result.returncode == 0, result.stderr
    ds = childsim.run(scenario, seed=99, replicates=2, threads=1)
    assert ds.attrs["seed"] == 99 and ds.sizes["replicate"] == 2
    assert_runs_equal(ds, childsim.open_run(out), ignore_attrs=())


def test_bindings_threads_do_not_change_results():
    quick = {"extends": "baseline.yaml", "population_scale": 0.1, "end": "2025-12"}
    one = childsim.run(quick, base_dir=SCENARIOS, threads=1, replicates=2)
    two = childsim.run(quick, base_dir=SCENARIOS, threads=2, replicates=2)
    assert_runs_equal(one, two)


def test_bindings_dict_scenario_equals_the_same_file(tmp_path):
    scenario = quick_scenario_file(tmp_path)
    as_dict = {"extends": str(SCENARIOS / "baseline.yaml"), "population_scale": 0.1,
               "end": "2027-12", "replicates": 3}
    from_file = childsim.run(scenario)
    from_dict = childsim.run(as_dict)
    assert from_dict.attrs["scenario_file"] == "<dict>"
    # Same resolved scenario text (same key order), so everything but the file name agrees.
    assert_runs_equal(from_dict, from_file, ignore_attrs=("scenario_file",))


def test_bindings_yaml_text_and_base_dir_resolve_relative_paths():
    text = "extends: baseline.yaml\npopulation_scale: 0.1\nend: 2024-12\n"
    sc = childsim.scenario_from_yaml(text, base_dir=SCENARIOS)
    assert (sc.name, sc.n_months, sc.file) == ("baseline", 12, str(SCENARIOS / "<text>"))
    with pytest.raises(childsim.ScenarioError, match="cannot read 'baseline.yaml'"):
        childsim.scenario_from_yaml(text, base_dir=ROOT)


def test_bindings_parameters_apply_as_the_scenarios_parameters_map(tmp_path):
    scenario = quick_scenario_file(tmp_path, end="2025-12")
    with_map = tmp_path / "with-map.yaml"
    with_map.write_text(scenario.read_text() + "parameters:\n  migration.out_rate: 0.1\n")
    overridden = childsim.run(scenario, parameters={"migration.out_rate": 0.1})
    written = childsim.run(with_map)
    assert childsim.load_scenario(scenario, parameters={"migration.out_rate": 0.1}).parameters[
        "migration.out_rate"] == 0.1
    assert_runs_equal(overridden, written, ignore_attrs=("scenario_file",))
    default = childsim.run(scenario)
    assert not np.array_equal(default["moves_out"].values, overridden["moves_out"].values)


BAD_SCENARIOS = {
    "unknown_key": "replicats: 3\n",
    "out_of_range": "population_scale: 20\n",
    "bad_parameter": "parameters:\n  migration.out_rate: 0.5\n",
    "unknown_parameter": "parameters:\n  migration.oot_rate: 0.05\n",
    "bad_month": "end: 2035-13\n",
    "yaml_syntax": "demography: [fertility\n",
}


@requires_cli
@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_bindings_bad_scenario_raises_the_cli_message(tmp_path, case):
    path = tmp_path / f"{case}.yaml"
    path.write_text(f"extends: {SCENARIOS / 'baseline.yaml'}\n" + BAD_SCENARIOS[case])
    result = run_cli("run", path, "-o", tmp_path / "never.h5")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    expected = result.stderr[len("error: "):].rstrip("\n")
    with pytest.raises(childsim.ScenarioError) as caught:
        childsim.run(path)
    assert str(caught.value) == expected
    assert isinstance(caught.value, ValueError)
    assert caught.value.file == str(path)
    with pytest.raises(childsim.ScenarioError) as again:  # validation alone, as `validate`
        childsim.load_scenario(path)
    assert str(again.value) == expected
    assert not (tmp_path / "never.h5").exists()


@requires_cli
def test_bindings_missing_scenario_file_raises_the_cli_message(tmp_path):
    missing = tmp_path / "missing.yaml"
    result = run_cli("validate", missing)
    with pytest.raises(childsim.ScenarioError) as caught:
        childsim.load_scenario(missing)
    assert "error: " + str(caught.value) + "\n" == result.stderr


def test_bindings_parameter_override_errors_point_at_the_override():
    with pytest.raises(childsim.ScenarioError) as caught:
        childsim.load_scenario(SCENARIOS / "baseline.yaml", parameters={"migration.out_rate": 0.5})
    error = caught.value
    assert (error.file, error.line, error.key) == ("<parameters>", 2, "parameters.migration.out_rate")
    assert str(error).endswith("expected a value in [0.03, 0.12], got 0.5")


def test_bindings_run_releases_the_gil():
    """A Python thread keeps counting while a ~1 s simulation runs."""
    counter = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            counter[0] += 1

    scenario = childsim.load_scenario(SCENARIOS / "baseline.yaml")
    thread = threading.Thread(target=count, daemon=True)
    thread.start()
    try:
        # The counter's speed with the GIL free (main thread asleep) ...
        start_count, start = counter[0], time.perf_counter()
        time.sleep(0.3)
        free_rate = (counter[0] - start_count) / (time.perf_counter() - start)
        # ... and while the model runs (one OpenMP thread: leave a core to the counter).
        start_count, start = counter[0], time.perf_counter()
        childsim.run(scenario, replicates=2, threads=1)
        elapsed = time.perf_counter() - start
        run_rate = (counter[0] - start_count) / elapsed
    finally:
        stop.set()
        thread.join()
    assert elapsed > 0.2, "the run was too short to tell"
    # Holding the GIL would leave the counter at ~0 (one switch interval, 5 ms, at most).
    assert run_rate > 0.1 * free_rate, (run_rate, free_rate, elapsed)


def test_bindings_argument_checks():
    quick = {"extends": "baseline.yaml", "population_scale": 0.1, "end": "2024-03"}
    with pytest.raises(TypeError, match="scenario must be a path, a dict"):
        childsim.run(42)
    with pytest.raises(ValueError, match=r"replicates must be in \[1, 10000\]"):
        childsim.run(quick, base_dir=SCENARIOS, replicates=0)
    with pytest.raises(TypeError, match="seed must be an int"):
        childsim.run(quick, base_dir=SCENARIOS, seed=1.5)
    with pytest.raises(TypeError, match="threads must be an int"):
        childsim.run(quick, base_dir=SCENARIOS, threads="2")
    with pytest.raises(TypeError, match="parameters must be a mapping"):
        childsim.run(quick, base_dir=SCENARIOS, parameters=[("migration.out_rate", 0.1)])
    with pytest.raises(TypeError, match="expected a number"):
        childsim.run(quick, base_dir=SCENARIOS, parameters={"migration.out_rate": "0.1"})
    with pytest.raises(TypeError, match="base_dir applies to dict"):
        childsim.run(SCENARIOS / "baseline.yaml", base_dir=SCENARIOS)
    loaded = childsim.load_scenario(quick, base_dir=SCENARIOS)
    with pytest.raises(TypeError, match="already loaded"):
        childsim.run(loaded, parameters={"migration.out_rate": 0.1})
    with pytest.raises(TypeError, match="ds must be an xarray.Dataset"):
        childsim.write({"not": "a dataset"}, "x.h5")


def test_bindings_write_rejects_what_the_file_cannot_hold(tmp_path):
    ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.1, "end": "2024-03"},
                      base_dir=SCENARIOS)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        childsim.write(ds, tmp_path / "no" / "such" / "dir.h5")
    with pytest.raises(ValueError, match="has no dimensions"):
        childsim.write(ds.sel(street="xinjing"), tmp_path / "x.h5")
    with pytest.raises(TypeError, match="booleans cannot be stored"):
        childsim.write(ds.assign_attrs(flag=True), tmp_path / "x.h5")
    with pytest.raises(TypeError, match="dtype float32 cannot be written"):
        childsim.write(ds.assign(births=ds["births"].astype("float32")), tmp_path / "x.h5")
    # A summary is writable and reads back as written.
    mean = childsim.ensemble_mean(ds)
    back = childsim.open_run(childsim.write(mean, tmp_path / "mean.h5"))
    assert_runs_equal(back, mean)
    assert not list(tmp_path.glob("*.tmp-*"))


def test_bindings_outputs_catalog_describes_the_dataset():
    table = childsim.outputs()
    ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.1, "end": "2024-03"},
                      base_dir=SCENARIOS)
    assert sorted(table.index) == sorted(ds.data_vars)
    for name, row in table.iterrows():
        assert ds[name].dims == row["dims"]
        assert ds[name].attrs["units"] == row["units"]
        assert ds[name].attrs["long_name"] == row["long_name"]


def test_bindings_scenario_object_reports_the_scenario():
    sc = childsim.load_scenario(SCENARIOS / "xinjing-housing.yaml")
    assert sc.name == "xinjing-housing"
    assert (sc.start, sc.end, sc.n_months, sc.replicates) == ("2024-01", "2035-12", 144, 4)
    assert sc.streets[-1] == "xinjing" and len(sc.streets) == 10
    assert "new_housing" in sc.yaml
    assert "xinjing-housing" in repr(sc)


def test_bindings_ctrl_c_stops_a_run():
    """SIGINT during a run raises KeyboardInterrupt within about half a second."""
    import os
    import signal

    scenario = childsim.load_scenario(SCENARIOS / "baseline.yaml")
    # Python's own Ctrl-C handler, as in a terminal: a process started in the background by a
    # non-interactive shell (`tools/test.sh &`, `nohup pytest ... &`) inherits SIGINT ignored,
    # and Python then keeps it ignored, so the signal would never reach the run.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            childsim.run(scenario, replicates=8, threads=1)  # several seconds if not stopped
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert time.perf_counter() - start < 1.5
