"""test_input_limits: hostile or mistaken input ends in one located line (issue #15, P3–P5).

Each test gives the command line (or Python) what a careless or hostile user might: a named
pipe or a device in ``extends``, an ensemble too large for the machine, seeds out of range,
text that is not UTF-8, and the smaller findings of the issue. Each asserts the documented
exit status, one ``error:`` line naming the file (and line) at fault, that nothing was written,
and that it happens at once (no hang, no simulation first). docs/reliability.md lists them.
"""
import os
import resource
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("CHILDSIM_BINARY") or str(ROOT / "build/release/sim/childsim")
BASELINE = ROOT / "scenarios/baseline.yaml"

pytestmark = pytest.mark.skipif(not Path(BINARY).exists(), reason=f"CLI not built: {BINARY}")


def cli(*args, timeout=60, preexec_fn=None):
    env = dict(os.environ, SOURCE_DATE_EPOCH="1767225600", OMP_NUM_THREADS="1")
    return subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=timeout, preexec_fn=preexec_fn)


def write(directory, name, text):
    p = Path(directory) / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return p


def tiny(directory, extra="", name="tiny.yaml", replicates="1", end="2024-12"):
    """A scenario that runs in about a second; `extra` starts at line 5."""
    return write(directory, name, f"extends: {BASELINE}\npopulation_scale: 0.02\n"
                                  f"end: {end}\nreplicates: {replicates}\n{extra}")


def one_error(r, status, *fragments):
    """Exit `status`, exactly one line on stderr starting 'error: ', containing `fragments`."""
    assert r.returncode == status, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: "), r.stderr
    for fragment in fragments:
        assert fragment in lines[0], r.stderr
    return lines[0]


# --- P3: files are read only if regular and small; ensembles only if they fit -----------------


def test_named_pipe_in_extends_is_refused_at_once(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    sc = write(tmp_path, "a.yaml", "extends: pipe\n")
    start = time.monotonic()
    r = cli("validate", sc, timeout=20)
    assert time.monotonic() - start < 10
    one_error(r, 2, "a.yaml:1:10: key 'extends'", "named pipe, not a regular file")


def test_device_in_extends_is_refused_without_reading_it(tmp_path):
    sc = write(tmp_path, "a.yaml", "extends: /dev/zero\n")
    r = cli("validate", sc, timeout=20)
    one_error(r, 2, "a.yaml:1:10: key 'extends'", "character device")


def test_scenario_over_the_size_cap_is_refused(tmp_path):
    # A 5 MB new_housing list (the 534 MB case) is over the 4 MiB cap.
    rows = "".join(f"  - {{street: hongqiao, start: 2025-01, households: {i % 9 + 1}}}\n"
                   for i in range(90_000))
    sc = write(tmp_path, "big.yaml", f"extends: {BASELINE}\ndemography:\n  new_housing:\n{rows}")
    assert sc.stat().st_size > 4 << 20
    r = cli("validate", sc)
    one_error(r, 2, "big.yaml", "more than the limit of 4 MiB")


def test_alias_bomb_is_refused_quickly_and_small(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 30)]
    sc = write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.monotonic()
    r = cli("validate", sc)
    assert time.monotonic() - start < 10
    one_error(r, 2, "bomb.yaml:", "document too large once its aliases are expanded")
    # The issue measured 2.0 GB before the refusal; now the expansion stops near 64 MiB of
    # nodes (ru_maxrss is the largest child so far, in kB).
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert peak_kb < 600_000 or peak_kb == before


def _estimate(stdout):
    """The memory and disk figures of `childsim validate`, in bytes."""
    def value(text):
        number, unit = text.split()
        return float(number) * {"kB": 1e3, "MB": 1e6, "GB": 1e9}[unit]
    after = stdout.split("a run needs about ")[1]
    memory, rest = after.split(" of memory and ")
    return value(memory), value(rest.split(" of disk")[0])


def test_ensemble_memory_does_not_grow_with_replicates_but_disk_does(tmp_path):
    # `childsim run` streams replicates to disk (sim/run/stream.hpp): 10,000 replicates (the
    # issue's ~39 GB in memory) need the memory of one, and the disk estimate grows with them.
    # Python keeps the ensemble in memory and still refuses it (test_python_ensemble_too_large_…).
    figures = {}
    for n in (1, 10000):
        r = cli("validate", tiny(tmp_path, replicates=str(n), name=f"r{n}.yaml"))
        assert r.returncode == 0, r.stderr
        figures[n] = _estimate(r.stdout)
    assert figures[10000][0] == figures[1][0]
    assert figures[10000][1] > 1000 * (figures[1][1] - 450e3)


def test_ensemble_too_large_for_the_disk_is_refused_before_running(tmp_path):
    # 10,000 replicates of the baseline need gigabytes of disk: with the output on a file
    # system with less room, the run is refused at once with the figure, and nothing is written.
    out = tmp_path / "out.h5"
    free = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    r = cli("validate", BASELINE)
    one_replicate_disk = _estimate(r.stdout)[1]
    if one_replicate_disk * 10000 < free:
        pytest.skip("this file system has room for 10,000 replicates")
    start = time.monotonic()
    r = cli("run", BASELINE, "-o", out, "--replicates", "10000")
    assert time.monotonic() - start < 30
    one_error(r, 3, "the output file needs about", "nothing was run", str(out))
    assert list(tmp_path.iterdir()) == []


def test_validate_reports_the_estimate_and_it_bounds_the_measured_peak(tmp_path):
    # The estimate must not be below what a run really takes (else the refusal is no
    # protection) nor far above it (else it refuses runs that fit).
    sc = tiny(tmp_path, replicates=12, end="2026-12")
    r = cli("validate", sc)
    assert r.returncode == 0, r.stderr
    figure = r.stdout.split("a run needs about ")[1].split(" of memory")[0]
    value, unit = figure.split()
    estimate = float(value) * {"kB": 1e3, "MB": 1e6, "GB": 1e9}[unit]
    # A child's ru_maxrss includes the memory of the process it was forked from (before
    # exec), so the run is forked from a bare interpreter (~10 MB), not from pytest (~110 MB):
    # the measured peak is then at most ~10 MB above the truth.
    env = dict(os.environ, SOURCE_DATE_EPOCH="1767225600", OMP_NUM_THREADS="1")
    measure = ("import os, sys\n"
               "pid = os.fork()\n"
               "if pid == 0:\n"
               "    os.execv(sys.argv[1], sys.argv[1:])\n"
               "_, status, usage = os.wait4(pid, 0)\n"
               "print(status, usage.ru_maxrss)\n")
    r = subprocess.run(["/usr/bin/python3", "-S", "-c", measure, BINARY, "run", str(sc), "-o",
                        str(tmp_path / "o.h5"), "-q"], env=env, capture_output=True, text=True)
    status, maxrss_kb = map(int, r.stdout.split())
    assert status == 0, r.stderr
    measured = maxrss_kb * 1024
    assert measured <= estimate <= 3 * measured, (measured, estimate)


# --- P4: one seed rule: 0 ... 2^63-1 -----------------------------------------------------------


@pytest.mark.parametrize("seed", ["9223372036854775808", "18446744073709551615",
                                  "18446744073709551616", "100000000000000000000000", "-1",
                                  "1.5", "abc"])
def test_cli_seed_out_of_range_is_refused_briefly(tmp_path, seed):
    out = tmp_path / "out.h5"
    r = cli("run", tiny(tmp_path), "-o", out, "--seed", seed)
    assert r.returncode not in (0, 1, 2, 3), r.stderr
    assert "0 … 2^63−1" in r.stderr and seed in r.stderr
    assert len(r.stderr.strip().splitlines()[0]) < 200, r.stderr  # no 300-digit range
    assert not out.exists()


def test_largest_seed_is_accepted_everywhere(tmp_path):
    big = 2**63 - 1
    r = cli("run", tiny(tmp_path), "-o", tmp_path / "a.h5", "-q", "--seed", big)
    assert r.returncode == 0, r.stderr
    r = cli("validate", tiny(tmp_path, f"seed: {big}\n", "b.yaml"))
    assert r.returncode == 0 and f"seed {big}" in r.stdout, r.stderr


def test_yaml_seed_beyond_the_rule_is_refused(tmp_path):
    r = cli("validate", tiny(tmp_path, f"seed: {2**63}\n"))
    one_error(r, 2, "tiny.yaml:5:7: key 'seed'", "out of range")


def test_python_seed_beyond_the_rule_is_a_scenario_error():
    childsim = pytest.importorskip("childsim")
    sc = childsim.load_scenario(BASELINE)
    for seed in (2**63, -1):
        with pytest.raises(childsim.ScenarioError, match=r"seed must be in \[0, "):
            childsim.run(sc, seed=seed, replicates=1)


# --- P5: text ----------------------------------------------------------------------------------


def test_gbk_text_is_refused_by_validate_and_run_at_the_line(tmp_path):
    sc = write(tmp_path, "gbk.yaml", f"extends: {BASELINE}\nname: ok\n".encode()
               + "description: 长宁区托育\n".encode("gbk"))
    for args in (("validate", sc), ("run", sc, "-o", tmp_path / "out.h5")):
        start = time.monotonic()
        r = cli(*args)
        assert time.monotonic() - start < 20  # refused before any simulation
        one_error(r, 2, "gbk.yaml:3:14: byte 0xB3 is not UTF-8", "save the file as UTF-8")
    assert not (tmp_path / "out.h5").exists()


def test_nul_byte_is_refused_at_the_line(tmp_path):
    sc = write(tmp_path, "nul.yaml", f"extends: {BASELINE}\nname: a\0b\n".encode())
    one_error(cli("validate", sc), 2, "nul.yaml:2:8: a NUL byte")


def test_python_gets_scenario_error_with_a_message_for_bad_text(tmp_path):
    childsim = pytest.importorskip("childsim")
    sc = write(tmp_path, "gbk.yaml", f"extends: {BASELINE}\n".encode()
               + "name: 上海\n".encode("gbk"))
    with pytest.raises(childsim.ScenarioError) as error:
        childsim.load_scenario(sc)
    assert error.value.line == 2 and "not UTF-8" in str(error.value)
    with pytest.raises(childsim.ScenarioError, match="NUL"):
        childsim.scenario_from_yaml(f"extends: {BASELINE}\nname: a\0b\n")
    with pytest.raises(childsim.ScenarioError, match="finite"):
        childsim.load_scenario(BASELINE, parameters={"nursery.seek_intercept": float("nan")})


# --- the smaller findings (issue #15, item 6) --------------------------------------------------


def test_empty_output_name_is_one_clear_line(tmp_path):
    r = cli("run", tiny(tmp_path), "-o", "")
    line = one_error(r, 1)
    assert "hdf5_writer" not in line and "empty" in line


def test_replicates_tagged_as_text_are_refused(tmp_path):
    r = cli("validate", tiny(tmp_path, replicates="!!str 3"))
    one_error(r, 2, "key 'replicates': expected an integer, got the text '3'")


def test_base_data_that_is_not_a_base_data_directory_is_located(tmp_path):
    r = cli("validate", tiny(tmp_path, "base_data: /etc\n"))
    line = one_error(r, 2, "tiny.yaml:5:12: key 'base_data'", "/etc/streets.yaml")
    assert "scenario file" not in line


def test_syntax_errors_and_deep_nesting_name_a_key(tmp_path):
    r = cli("validate", tiny(tmp_path, "demography:\n  new_housing: [1\n"))
    one_error(r, 2, "tiny.yaml:", "key 'demography.new_housing'")
    r = cli("validate", tiny(tmp_path, "policy:\n  x: " + "[" * 5000 + "\n", "deep.yaml"))
    one_error(r, 2, "deep.yaml:7:1: key 'policy.x'", "nesting deeper than")


PYTHON_TOO_BIG = """\
import resource, sys
sys.path[:0] = {paths!r}
import childsim
sc = childsim.load_scenario({baseline!r})   # 144 months: ~6.5 MB per replicate
limit = 8 << 30
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
try:
    childsim.run(sc, replicates=10000)
except childsim.ResourceError as error:
    assert isinstance(error, MemoryError)
    print("ResourceError:", error)
else:
    raise SystemExit("no error")
ds = childsim.run(childsim.load_scenario({tiny!r}))   # the interpreter is still usable
print("usable", int(ds.sizes["replicate"]))
"""


def test_python_ensemble_too_large_raises_resource_error_and_stays_usable(tmp_path):
    build = Path(os.environ.get("CHILDSIM_BUILD_DIR", ROOT / "build/release"))
    if not (build / "python" / "childsim").exists():
        pytest.skip("childsim._core is not built")
    tiny_sc = tiny(tmp_path)
    script = PYTHON_TOO_BIG.format(paths=[str(ROOT / "analysis"), str(build / "python")],
                                   baseline=str(BASELINE), tiny=str(tiny_sc))
    r = subprocess.run(["/usr/bin/python3", "-c", script], capture_output=True, text=True,
                       timeout=300, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("ResourceError: 10000 replicates need about"), lines
    assert lines[-1] == "usable 1"
