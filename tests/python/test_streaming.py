"""test_streaming: `childsim run` streams replicates to disk and resumes (issue #14, part 3).

What docs/output-format.md and docs/reliability.md promise for a streamed ensemble:
  * a run interrupted mid-ensemble (SIGKILL or SIGINT) and continued with ``--resume`` gives
    the same bytes as an uninterrupted run, and simulates only the missing replicates;
  * a resume with another seed, replicate count or scenario is refused with one line naming
    what differs, and the partial file is kept for the right command;
  * a record cut short by a kill is dropped and simulated again;
  * two runs to one output do not share a partial file;
  * a full disk while the file is assembled is one line, no crash, and the partial file
    lets ``--resume`` finish once there is room;
  * peak memory does not grow with the number of replicates.
"""
import hashlib
import os
import shutil
import signal
import stat
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("CHILDSIM_BINARY") or str(ROOT / "build/release/sim/childsim")

pytestmark = pytest.mark.skipif(not Path(BINARY).exists(), reason=f"CLI not built: {BINARY}")

ENV = dict(os.environ, SOURCE_DATE_EPOCH="1767225600", OMP_NUM_THREADS="1")


def run(*args, timeout=600, preexec_fn=None):
    return subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True, env=ENV,
                          timeout=timeout, preexec_fn=preexec_fn)


def scenario(directory, replicates=8, scale="0.2", end="2026-12", name="s.yaml"):
    p = Path(directory) / name
    p.write_text(f"extends: {ROOT / 'scenarios/baseline.yaml'}\npopulation_scale: {scale}\n"
                 f"end: {end}\nreplicates: {replicates}\n")
    return p


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def record_spans(partial):
    """(start, end) of each complete record of a partial file (sim/io/replicate_spool.hpp)."""
    data = Path(partial).read_bytes()
    if b"\nend\n" not in data:
        return []  # the header is being written
    at = data.index(b"\nend\n") + 5
    spans = []
    while at + 20 <= len(data) and data[at:at + 4] == b"REPL":
        payload = struct.unpack_from("<Q", data, at + 12)[0]
        end = at + 20 + payload + 8
        if end > len(data) or data[end - 4:end] != b"END\n":
            break
        spans.append((at, end))
        at = end
    return spans


def records(partial):
    """Number of replicates stored in a partial file."""
    return len(record_spans(partial))


def interrupt(sc, out, sig, at_least=2, threads=1):
    """Start `childsim run`, send `sig` once the partial file holds `at_least` replicates
    (and before the output is assembled); returns the process's stderr."""
    p = subprocess.Popen([BINARY, "run", str(sc), "-o", str(out), "-q", "--threads",
                          str(threads)], env=ENV, stderr=subprocess.PIPE, text=True)
    partial = Path(f"{out}.partial")
    deadline = time.monotonic() + 300
    while p.poll() is None and time.monotonic() < deadline:
        if partial.exists() and records(partial) >= at_least:
            p.send_signal(sig)
            break
        time.sleep(0.01)
    stderr = p.communicate(timeout=120)[1]
    assert p.returncode == -sig, (p.returncode, stderr)
    return stderr


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    d = tmp_path_factory.mktemp("full")
    sc = scenario(d)
    out = d / "full.h5"
    r = run("run", sc, "-o", out, "-q", "--threads", "2")
    assert r.returncode == 0, r.stderr
    assert not Path(f"{out}.partial").exists()  # removed once the output is complete
    return sc, out  # the same scenario file: its path is stored in the output


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_resumed_run_is_byte_identical_to_an_uninterrupted_one(tmp_path, uninterrupted, sig):
    sc, full = uninterrupted
    out = tmp_path / "out.h5"
    stderr = interrupt(sc, out, sig)
    partial = Path(f"{out}.partial")
    done = records(partial)
    assert 2 <= done < 8
    assert not out.exists()
    if sig == signal.SIGINT:
        assert f"kept in {partial}" in stderr and "--resume" in stderr
    r = run("run", sc, "-o", out, "-q", "--resume", "--threads", "1")
    assert r.returncode == 0, r.stderr
    # Only the missing replicates were simulated (the note says how many were kept).
    assert f"resuming from {partial}: {done} of 8 replicate(s) already done" in r.stderr
    assert digest(out) == digest(full)  # 2 threads uninterrupted, 1 thread resumed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.h5"]


def test_record_cut_short_by_a_kill_is_dropped_and_run_again(tmp_path, uninterrupted):
    sc, full = uninterrupted
    out = tmp_path / "out.h5"
    interrupt(sc, out, signal.SIGKILL, at_least=3)
    partial = Path(f"{out}.partial")
    data = partial.read_bytes()
    start, end = record_spans(partial)[-1]
    partial.write_bytes(data[:(start + end) // 2])  # half of the last record
    kept = records(partial)
    assert kept >= 2
    r = run("run", sc, "-o", out, "-q", "--resume")
    assert r.returncode == 0, r.stderr
    assert f"{kept} of 8 replicate(s) already done" in r.stderr
    assert digest(out) == digest(full)


@pytest.mark.parametrize("change, fragment", [
    (["--seed", "5"], "it was started with seed 20240327, this run has seed 5"),
    (["--replicates", "9"], "it was started with replicates 8, this run has replicates 9"),
    (["scenario"], "it was started from another scenario"),
])
def test_resume_of_another_run_is_refused_and_keeps_the_partial_file(tmp_path, change, fragment):
    sc = scenario(tmp_path)
    out = tmp_path / "out.h5"
    interrupt(sc, out, signal.SIGKILL)
    partial = Path(f"{out}.partial")
    before = digest(partial)
    if change == ["scenario"]:
        other = scenario(tmp_path, scale="0.1", name="other.yaml")
        args = ["run", other, "-o", out, "--resume", "-q"]
    else:
        args = ["run", sc, "-o", out, "--resume", "-q", *change]
    r = run(*args)
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot resume from "), r.stderr
    assert str(partial) in lines[0] and fragment in lines[0], r.stderr
    assert "run without --resume to start afresh" in lines[0]
    assert digest(partial) == before
    assert not out.exists()


def test_resume_without_a_partial_file_runs_everything(tmp_path, uninterrupted):
    sc, full = uninterrupted
    out = tmp_path / "out.h5"
    r = run("run", sc, "-o", out, "-q", "--resume")
    assert r.returncode == 0, r.stderr
    assert "no partial file" in r.stderr
    assert digest(out) == digest(full)


def test_a_second_run_to_the_same_output_is_refused_while_the_first_runs(tmp_path):
    sc = scenario(tmp_path, replicates=40)
    out = tmp_path / "out.h5"
    first = subprocess.Popen([BINARY, "run", str(sc), "-o", str(out), "-q", "--threads", "1"],
                             env=ENV, stderr=subprocess.PIPE, text=True)
    try:
        partial = Path(f"{out}.partial")
        while not partial.exists() and first.poll() is None:
            time.sleep(0.01)
        r = run("run", sc, "-o", out, "-q")
        assert r.returncode == 1, r.stderr
        assert "is being written by another childsim run" in r.stderr, r.stderr
        assert r.stderr.count("\n") == 1
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate()


def _mount_tmpfs(directory, size):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)],
                       capture_output=True)
    return r.returncode == 0


def _size(path):
    """Size of `path`, 0 if it is gone (the temporary is renamed when complete)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _fill(path):
    """Write zeros to `path` until the file system is full (the run writes at the same time,
    so the free space cannot be measured first)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:
        pass  # ENOSPC: full
    finally:
        os.close(fd)


def test_full_disk_during_the_assembly_is_one_line_and_resume_finishes(tmp_path, uninterrupted):
    sc, full = uninterrupted
    # The disk fills while the HDF5 file is built on disk: HDF5 meets ENOSPC inside its own
    # writes; the writer closes the file into memory, so no crash at exit (issue #15).
    disk = tmp_path / "disk"
    disk.mkdir()
    if not _mount_tmpfs(disk, "4m"):
        pytest.skip("cannot mount a tmpfs here (needs root and a permissive container)")
    try:
        out = disk / "out.h5"
        p = subprocess.Popen([BINARY, "run", str(sc), "-o", str(out), "-q"], env=ENV,
                             stderr=subprocess.PIPE, text=True)
        filled = False
        while p.poll() is None:
            # Once HDF5 writes data (the temporary is past the 64 kB the writer first reserves).
            if any(f.name.startswith("out.h5.tmp-") and _size(f) > 200_000
                   for f in disk.iterdir()):
                _fill(disk / "filler")
                filled = True
                break
            time.sleep(0.0005)
        stderr = p.communicate(timeout=300)[1]
        if not filled:
            pytest.skip("the file was written before the disk could be filled")
        assert p.returncode == 1, stderr  # not a signal: no crash in HDF5's exit handler
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and "No space left on device" in lines[0], stderr
        assert "--resume" in lines[0] and "HDF5-DIAG" not in stderr
        assert sorted(f.name for f in disk.iterdir()) == ["filler", "out.h5.partial"]
        (disk / "filler").unlink()
        r = run("run", sc, "-o", out, "-q", "--resume")
        assert r.returncode == 0, r.stderr
        assert "8 of 8 replicate(s) already done" in r.stderr
        assert digest(out) == digest(full)
        assert sorted(f.name for f in disk.iterdir()) == ["out.h5"]
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def _peak_rss_kb(args):
    """Peak resident memory of `childsim args` in kB, forked from a bare interpreter."""
    measure = ("import os, sys\n"
               "pid = os.fork()\n"
               "if pid == 0:\n"
               "    os.execv(sys.argv[1], sys.argv[1:])\n"
               "_, status, usage = os.wait4(pid, 0)\n"
               "print(status, usage.ru_maxrss)\n")
    r = subprocess.run(["/usr/bin/python3", "-S", "-c", measure, BINARY, *map(str, args)],
                       env=ENV, capture_output=True, text=True)
    status, peak = map(int, r.stdout.split())
    assert status == 0, r.stderr
    return peak


def test_peak_memory_does_not_grow_with_the_replicates(tmp_path):
    # Before streaming, 24 replicates of this scenario held ~24 times one replicate's outputs.
    sc = scenario(tmp_path, replicates=1, scale="0.02", end="2027-12")
    one = _peak_rss_kb(["run", sc, "-o", tmp_path / "one.h5", "-q"])
    many = _peak_rss_kb(["run", sc, "-o", tmp_path / "many.h5", "-q", "--replicates", "24"])
    assert many <= 1.2 * one, (one, many)


def test_read_only_output_is_replaced_and_keeps_its_mode(tmp_path):
    # The output is built on disk, where HDF5 reopens the temporary for writing: a read-only
    # old file's mode (0444) is given to the new file only at commit. Run as an ordinary user
    # (root would ignore the mode): `nobody` when the tests run as root.
    work = Path(tempfile.mkdtemp(prefix="childsim-ro-"))  # pytest's tmp_path is root-only
    try:
        work.chmod(0o755)
        sc = scenario(work, replicates=1, scale="0.02", end="2024-12")
        out = work / "out.h5"
        out.write_bytes(b"old results")
        out.chmod(0o444)
        preexec_fn = None
        if os.geteuid() == 0:
            for p in (work, sc, out):
                os.chown(p, 65534, 65534)

            def preexec_fn():
                os.setgid(65534)
                os.setuid(65534)
        r = run("run", sc, "-o", out, "-q", preexec_fn=preexec_fn)
        assert r.returncode == 0, r.stderr
        assert out.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"
        assert stat.S_IMODE(out.stat().st_mode) == 0o444
        assert sorted(p.name for p in work.iterdir()) == ["out.h5", "s.yaml"]
    finally:
        shutil.rmtree(work)
