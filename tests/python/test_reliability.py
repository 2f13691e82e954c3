"""test_reliability: a full disk, special output paths and stale temporaries (issue #15).

Each test injects a fault and asserts what docs/reliability.md promises: a clean exit code
(never a signal), one line on stderr that names the file, no temporary or half-written file
left beside it, and the previous output byte-identical.

Disk faults are injected two ways:
  * RLIMIT_FSIZE with SIGXFSZ ignored: write(2) fails with EFBIG past the limit. Works for any
    user in any container, so it always runs.
  * a small tmpfs mount (real ENOSPC): needs root and a container that permits mount(2); the
    test is skipped where mounting is refused.
"""
import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("CHILDSIM_BINARY") or str(ROOT / "build/release/sim/childsim")

pytestmark = pytest.mark.skipif(not Path(BINARY).exists(), reason=f"CLI not built: {BINARY}")

CALIBRATION = """\
scenario: {root}/scenarios/baseline.yaml
population_scale: 0.02
replicates: 1
seed: 3
parameters:
  - name: nursery.seek_intercept
abc: {{particles: 6, max_generations: 1, min_acceptance_rate: 0}}
targets:
  - id: kindergarten
    description: d
    value: 0.97
    sd: 0.02
    year: 2024
    basis: derived
    scaled_from_shanghai: true
    source: s
    output: kindergarten_children_enrolled
    aggregate: ratio
    denominator: kindergarten_eligible
"""


def _limit_file_size(limit):
    """A preexec_fn: files may not grow past `limit` bytes; writes fail with EFBIG."""

    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # ignored signals survive exec
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def run(*args, preexec_fn=None, timeout=300):
    env = dict(os.environ, SOURCE_DATE_EPOCH="1767225600")
    return subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True, env=env,
                          preexec_fn=preexec_fn, timeout=timeout)


def tiny_scenario(directory, extra=""):
    p = Path(directory) / "tiny.yaml"
    p.write_text(f"extends: {ROOT / 'scenarios/baseline.yaml'}\npopulation_scale: 0.02\n"
                 f"end: 2024-12\nreplicates: 1\n{extra}")
    return p


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def stray_files(directory, keep):
    """Every file in `directory` except those named in `keep`."""
    return sorted(p.name for p in Path(directory).iterdir() if p.name not in keep)


def assert_one_clean_error(r, *fragments):
    """Exit code 1 or 2 (not a signal), exactly one line on stderr, containing `fragments`."""
    assert r.returncode in (1, 2), (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: "), r.stderr
    for fragment in fragments:
        assert fragment in lines[0], r.stderr
    assert "HDF5-DIAG" not in r.stderr


@pytest.fixture(scope="module")
def old_output(tmp_path_factory):
    """A finished run: the 'previous results' that a failed write must leave alone."""
    d = tmp_path_factory.mktemp("old")
    out = d / "old.h5"
    r = run("run", tiny_scenario(d), "-o", out, "-q")
    assert r.returncode == 0, r.stderr
    return out


# --- a full disk ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "calibrate"])
def test_file_size_limit_gives_one_line_and_keeps_old_output(tmp_path, old_output, command):
    out = tmp_path / "out.h5"
    shutil.copy(old_output, out)
    before = digest(out)
    if command == "run":
        args = ["run", tiny_scenario(tmp_path), "-o", out, "-q"]
        keep = {"out.h5", "tiny.yaml"}
    else:
        (tmp_path / "cal.yaml").write_text(CALIBRATION.format(root=ROOT))
        args = ["calibrate", tmp_path / "cal.yaml", "-o", out, "--threads", "1"]
        keep = {"out.h5", "cal.yaml", "out.h5.checkpoint"}
    # 4 kB: far less than any output file, more than the checkpoint of one generation.
    r = run(*args, preexec_fn=_limit_file_size(4096))
    assert_one_clean_error(r, str(out), "File too large", "the file needs")
    assert digest(out) == before
    assert stray_files(tmp_path, keep) == []


def _mount_tmpfs(directory, size):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)],
                       capture_output=True)
    return r.returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs (a really full disk: ENOSPC), or skip where mounting is not permitted.

    It holds the old output and a new one, about 0.5 MB each since the residents by age of
    issue #9."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if not _mount_tmpfs(mount, "2m"):
        pytest.skip("cannot mount a tmpfs here (needs root and a permissive container)")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.parametrize("command", ["run", "calibrate"])
def test_full_disk_gives_one_line_and_keeps_old_output(tmp_path, small_disk, old_output, command):
    out = small_disk / "out.h5"
    shutil.copy(old_output, out)
    before = digest(out)
    # Fill the disk, leaving less than an output file needs.
    filler = small_disk / "filler"
    free = shutil.disk_usage(small_disk).free
    filler.write_bytes(b"\0" * max(0, free - 8192))
    if command == "run":
        args = ["run", tiny_scenario(tmp_path), "-o", out, "-q"]
        keep = {"out.h5", "filler"}
    else:
        (tmp_path / "cal.yaml").write_text(CALIBRATION.format(root=ROOT))
        args = ["calibrate", tmp_path / "cal.yaml", "-o", out, "--threads", "1"]
        keep = {"out.h5", "filler", "out.h5.checkpoint"}
    r = run(*args)
    if command == "run":
        # `run` estimates the file first (sim/run/footprint) and refuses before simulating.
        assert r.returncode == 3, r.stderr
        assert r.stderr.count("\n") == 1 and "nothing was run" in r.stderr, r.stderr
        assert "its file system has 8 kB free" in r.stderr and str(out) in r.stderr
    else:
        # `calibrate` meets the full disk when it writes: the same one line, after the work.
        assert_one_clean_error(r, str(out), "No space left on device", "the file needs")
    assert digest(out) == before
    assert stray_files(small_disk, keep) == []
    # With the space back, the same command succeeds and replaces the file.
    filler.unlink()
    r = run(*args)
    assert r.returncode == 0, r.stderr
    assert stray_files(small_disk, keep - {"filler"}) == []


PYTHON_FULL_DISK = textwrap.dedent("""\
    import os, resource, signal, sys
    sys.path[:0] = {paths!r}
    import childsim
    old = {old!r}
    ds = childsim.open_run(old)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
    try:
        childsim.write(ds, {out!r})
    except childsim.OutputError as error:
        assert isinstance(error, OSError)
        print("OutputError:", error)
    else:
        raise SystemExit("no error")
    assert open({out!r}, "rb").read() == open(old, "rb").read(), "the old file changed"
    assert sorted(os.listdir(os.path.dirname({out!r}))) == ["py.h5"], "a stray file"
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    again = childsim.open_run(old)          # the interpreter and HDF5 are still usable
    childsim.testing.assert_runs_equal(again, ds)
    childsim.write(ds, {out!r})             # and the next write succeeds
    childsim.testing.assert_runs_equal(childsim.open_run({out!r}), ds)
    print("usable")
""")


def test_python_write_on_full_disk_raises_output_error_and_stays_usable(tmp_path, old_output):
    build = Path(os.environ.get("CHILDSIM_BUILD_DIR", ROOT / "build/release"))
    if not (build / "python" / "childsim").exists():
        pytest.skip("childsim._core is not built")
    out = tmp_path / "py.h5"
    shutil.copy(old_output, out)
    script = PYTHON_FULL_DISK.format(paths=[str(ROOT / "analysis"), str(build / "python")],
                                     old=str(old_output), out=str(out))
    # Its own interpreter, so that a crash (the bug this guards against) shows as a return
    # code, not as a dead test runner.
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("OutputError: cannot write " + str(out))
    assert "File too large" in lines[0]
    assert lines[-1] == "usable"
    assert stray_files(tmp_path, {"py.h5"}) == []


# --- output paths ---------------------------------------------------------------------------


def test_special_files_are_refused_and_left_alone(tmp_path):
    sc = tiny_scenario(tmp_path)
    r = run("run", sc, "-o", "/dev/null", "-q")
    assert_one_clean_error(r, "/dev/null", "character device", "not a regular file")
    assert Path("/dev/null").is_char_device()

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    r = run("run", sc, "-o", fifo, "-q", timeout=60)  # must not block on the FIFO
    assert_one_clean_error(r, str(fifo), "FIFO")
    assert fifo.is_fifo()

    directory = tmp_path / "dir"
    directory.mkdir()
    r = run("run", sc, "-o", directory, "-q")
    assert_one_clean_error(r, str(directory), "directory")

    r = run("run", sc, "-o", "", "-q")
    assert_one_clean_error(r, "output path is empty")
    assert stray_files(tmp_path, {"tiny.yaml", "pipe", "dir"}) == []


def test_symlink_is_kept_and_its_target_replaced_with_permissions(tmp_path, old_output):
    target_dir = tmp_path / "real"
    target_dir.mkdir()
    target = target_dir / "results.h5"
    target.write_text("old results\n")
    os.chmod(target, 0o640)
    link = tmp_path / "latest.h5"
    link.symlink_to(Path("real") / "results.h5")  # relative, as users make them
    r = run("run", tiny_scenario(tmp_path), "-o", link, "-q")
    assert r.returncode == 0, r.stderr
    assert link.is_symlink() and os.readlink(link) == str(Path("real") / "results.h5")
    assert target.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"
    assert (target.stat().st_mode & 0o777) == 0o640
    assert stray_files(target_dir, {"results.h5"}) == []


def test_symlink_to_a_device_is_refused(tmp_path):
    link = tmp_path / "out.h5"
    link.symlink_to("/dev/null")
    r = run("run", tiny_scenario(tmp_path), "-o", link, "-q")
    assert_one_clean_error(r, "/dev/null", str(link), "character device")
    assert link.is_symlink()


def test_stale_temporary_of_a_dead_process_is_removed(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid is now free (reuse within this test is vanishingly unlikely)
    stale = tmp_path / f"out.h5.tmp-{dead.pid}"
    stale.write_bytes(b"half a file")
    mine = tmp_path / f"out.h5.tmp-{os.getpid()}"  # a live process: must be left alone
    mine.write_bytes(b"being written")
    r = run("run", tiny_scenario(tmp_path), "-o", tmp_path / "out.h5", "-q")
    assert r.returncode == 0, r.stderr
    assert not stale.exists()
    assert mine.exists()
    assert stray_files(tmp_path, {"out.h5", "tiny.yaml", mine.name}) == []


def test_kill_during_simulation_leaves_old_output_and_no_temporary(tmp_path, old_output):
    # The finished replicates stay in out.h5.partial (for --resume, tests/python/
    # test_streaming.py), which SIGINT names; nothing else is left, and the next run without
    # --resume replaces the partial file and removes it when done.
    out = tmp_path / "out.h5"
    shutil.copy(old_output, out)
    before = digest(out)
    sc = tmp_path / "long.yaml"
    sc.write_text(f"extends: {ROOT / 'scenarios/baseline.yaml'}\nreplicates: 50\n")
    env = dict(os.environ, SOURCE_DATE_EPOCH="1767225600")
    for sig in (signal.SIGINT, signal.SIGKILL):
        p = subprocess.Popen([BINARY, "run", sc, "-o", out, "-q", "--threads", "1"], env=env,
                             stderr=subprocess.PIPE)
        try:
            p.wait(timeout=2)
        except subprocess.TimeoutExpired:
            p.send_signal(sig)
            p.wait(timeout=60)
        assert p.returncode != 0
        stderr = p.stderr.read().decode()
        p.stderr.close()
        assert digest(out) == before
        assert stray_files(tmp_path, {"out.h5", "long.yaml"}) in ([], ["out.h5.partial"])
        if sig == signal.SIGINT:
            assert f"kept in {out}.partial" in stderr and "--resume" in stderr, stderr
    r = run("run", tiny_scenario(tmp_path), "-o", out, "-q")
    assert r.returncode == 0, r.stderr
    assert stray_files(tmp_path, {"out.h5", "long.yaml", "tiny.yaml"}) == []


def _kill_during_the_write(tmp_path, out, sig):
    """Start a run whose write takes a while, send `sig` once its temporary file exists."""
    sc = tmp_path / "wide.yaml"
    # Little to simulate (1 s), much to compress and write (the temporary exists ~1.4 s).
    sc.write_text(f"extends: {ROOT / 'scenarios/baseline.yaml'}\npopulation_scale: 0.001\n"
                  "replicates: 40\n")
    env = dict(os.environ, SOURCE_DATE_EPOCH="1767225600", OMP_NUM_THREADS="1")
    p = subprocess.Popen([BINARY, "run", sc, "-o", out, "-q"], env=env, stderr=subprocess.PIPE)
    seen = False
    while p.poll() is None:
        if any(f.name.startswith(out.name + ".tmp-") for f in tmp_path.iterdir()):
            p.send_signal(sig)
            seen = True
            break
        time.sleep(0.001)
    p.wait(timeout=120)
    p.stderr.close()
    return seen, p.returncode


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_kill_during_the_write_keeps_old_output(tmp_path, old_output, sig):
    out = tmp_path / "out.h5"
    shutil.copy(old_output, out)
    before = digest(out)
    seen, returncode = _kill_during_the_write(tmp_path, out, sig)
    if not seen:
        pytest.skip("the write was over before its temporary file could be seen")
    assert returncode == -sig  # died of the signal, as an interrupted program should
    assert digest(out) == before
    # The replicates, all finished, stay in out.h5.partial for --resume (test_streaming.py).
    leftovers = stray_files(tmp_path, {"out.h5", "wide.yaml", "out.h5.partial"})
    if sig == signal.SIGKILL:
        # Cannot be caught: the temporary stays until the next write to the same file.
        assert len(leftovers) <= 1 and all(n.startswith("out.h5.tmp-") for n in leftovers)
    else:
        assert leftovers == []
    r = run("run", tiny_scenario(tmp_path), "-o", out, "-q")
    assert r.returncode == 0, r.stderr
    assert stray_files(tmp_path, {"out.h5", "wide.yaml", "tiny.yaml"}) == []


# --- damaged calibration files ------------------------------------------------------------------


def test_nan_in_checkpoint_is_refused(tmp_path):
    cal = tmp_path / "cal.yaml"
    cal.write_text(CALIBRATION.format(root=ROOT))
    out = tmp_path / "post.h5"
    r = run("calibrate", cal, "-o", out, "--threads", "1")
    assert r.returncode == 0, r.stderr
    checkpoint = tmp_path / "post.h5.checkpoint"
    assert checkpoint.exists()
    lines = checkpoint.read_text().splitlines()
    # The first particle row of generation 0 follows its "generation 0 ..." line.
    row = next(i for i, line in enumerate(lines) if line.startswith("generation 0")) + 1
    values = lines[row].split()
    values[0] = "nan"
    lines[row] = " ".join(values)
    checkpoint.write_text("\n".join(lines) + "\n")
    before = digest(out)
    r = run("calibrate", cal, "-o", out, "--threads", "1")
    assert_one_clean_error(r, "checkpoint", "damaged", "not a finite number", "delete it")
    assert digest(out) == before


def test_compare_of_one_file_twice_warns(tmp_path, old_output):
    # The page itself is the briefing's business (and slow): an unwritable page ends the
    # command early, after the warning, which comes before any work.
    link = tmp_path / "same.h5"
    link.symlink_to(old_output)
    r = run("compare", old_output, link, "-o", tmp_path / "no" / "such" / "dir" / "page.html")
    assert "warning: files 1 and 2" in r.stderr and "are the same file" in r.stderr, r.stderr
    assert r.stderr.index("warning:") < r.stderr.find("error:") or "error:" not in r.stderr
