"""test_mpi: `childsim-mpi` spreads replicates, and `childsim-mpi sweep` a sweep's samples,
over MPI ranks and writes the same bytes as one process (DESIGN.md decision 6); an interrupted
MPI sweep resumes; a bad design is reported once."""
import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("CHILDSIM_BINARY") or ROOT / "build/release/sim/childsim")
MPI_BINARY = BINARY.parent / "childsim-mpi"
MPIRUN = shutil.which("mpirun")

pytestmark = pytest.mark.skipif(
    not (BINARY.exists() and MPI_BINARY.exists() and MPIRUN),
    reason="childsim-mpi or mpirun not available")


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_mpi_ranks_give_the_single_process_file(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"extends: {ROOT / 'scenarios/baseline.yaml'}\npopulation_scale: 0.05\n"
                        "end: 2025-12\n")
    env = dict(os.environ, SOURCE_DATE_EPOCH="1767225600", OMP_WAIT_POLICY="passive",
               OMPI_MCA_rmaps_base_oversubscribe="1")
    single, parallel = tmp_path / "single.h5", tmp_path / "mpi.h5"
    subprocess.run([str(BINARY), "run", str(scenario), "-o", str(single), "--replicates", "3",
                    "--threads", "1", "-q"], check=True, env=env)
    # Open MPI passes environment variables to the ranks only when named with -x.
    args = [MPIRUN, "-np", "2", "--oversubscribe", "-x", "SOURCE_DATE_EPOCH", "-x",
            "OMP_WAIT_POLICY"]
    if os.geteuid() == 0:
        args.insert(1, "--allow-run-as-root")
    result = subprocess.run(args + [str(MPI_BINARY), str(scenario), "-o", str(parallel),
                                    "--replicates", "3", "--threads", "1", "-q"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert digest(single) == digest(parallel)


def test_mpi_bad_scenario_fails_on_every_rank_without_output(tmp_path):
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(f"extends: {ROOT / 'scenarios/baseline.yaml'}\nreplicats: 3\n")
    out = tmp_path / "out.h5"
    args = [MPIRUN, "-np", "2", "--oversubscribe"]
    if os.geteuid() == 0:
        args.insert(1, "--allow-run-as-root")
    result = subprocess.run(args + [str(MPI_BINARY), str(scenario), "-o", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "bad.yaml:2:1: key 'replicats': unknown key" in result.stderr
    assert not out.exists()


# --- a streamed ensemble across ranks (issue #14): the partial file, --resume, flat memory ----

def stream_scenario(directory, replicates):
    p = directory / "s.yaml"
    p.write_text(f"extends: {ROOT / 'scenarios/baseline.yaml'}\npopulation_scale: 0.05\n"
                 f"end: 2025-12\nreplicates: {replicates}\n")
    return p


def mpi_run(ranks, scenario, out, *extra, timeout=600):
    return subprocess.run(mpirun(ranks) + [str(MPI_BINARY), str(scenario), "-o", str(out),
                                           "--threads", "1", *map(str, extra)],
                          capture_output=True, text=True, env=sweep_env(), timeout=timeout)


def test_mpi_run_at_1_2_3_ranks_streams_to_the_single_process_file(tmp_path):
    # 5 replicates: unequal shares at 2 and 3 ranks, and rank 0 stores replicates it did not
    # run, in the order they arrive.
    sc = stream_scenario(tmp_path, 5)
    single = tmp_path / "single.h5"
    r = subprocess.run([str(BINARY), "run", str(sc), "-o", str(single), "--threads", "1"],
                       capture_output=True, text=True, env=sweep_env(), timeout=600)
    assert r.returncode == 0, r.stderr
    for ranks in (1, 2, 3):
        out = tmp_path / f"mpi{ranks}.h5"
        result = mpi_run(ranks, sc, out)
        assert result.returncode == 0, result.stderr
        assert digest(out) == digest(single), f"{ranks} ranks"
        assert not (tmp_path / f"mpi{ranks}.h5.partial").exists()
        # Rank 0 alone prints the summary, the same as one process's.
        assert result.stdout.replace(out.name, single.name) == r.stdout


def test_mpi_run_resumes_a_partial_file_byte_identical(tmp_path):
    # An ensemble interrupted with a few replicates in OUT.h5.partial (killed `childsim run`:
    # the partial file is the same whichever program wrote it), finished by childsim-mpi.
    sc = stream_scenario(tmp_path, 8)
    full = tmp_path / "full.h5"
    assert mpi_run(2, sc, full).returncode == 0
    out = tmp_path / "out.h5"
    partial = Path(f"{out}.partial")
    p = subprocess.Popen([str(BINARY), "run", str(sc), "-o", str(out), "-q", "--threads", "1"],
                         env=sweep_env(), stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while p.poll() is None and time.monotonic() < deadline:
        # The header, then at least two records ("END\n" closes each).
        if partial.exists() and partial.read_bytes().count(b"END\n") >= 2:
            p.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    p.wait(timeout=60)
    assert p.returncode == -signal.SIGKILL, "the run finished before it could be interrupted"
    # Another seed: refused in one line, the partial file kept for the right command.
    other = mpi_run(2, sc, out, "--resume", "-q", "--seed", "99")
    assert other.returncode != 0
    # (mpirun adds its own banner about a rank's exit status.)
    errors = [line for line in other.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and errors[0].startswith("error: cannot resume from "), other.stderr
    assert "seed" in errors[0]
    assert partial.exists() and not out.exists()
    result = mpi_run(3, sc, out, "--resume", "-q")
    assert result.returncode == 0, result.stderr
    assert "note: resuming from" in result.stderr and "replicate(s) already done" in result.stderr
    assert digest(out) == digest(full)
    assert not partial.exists()


def _mpi_peak_rss_kb(ranks, scenario, out, *extra):
    """The largest peak resident memory among mpirun and its ranks, in kB."""
    measure = ("import resource, subprocess, sys\n"
               "code = subprocess.run(sys.argv[1:]).returncode\n"
               "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    args = mpirun(ranks) + [str(MPI_BINARY), str(scenario), "-o", str(out), "--threads", "1",
                            "-q", *map(str, extra)]
    r = subprocess.run(["/usr/bin/python3", "-S", "-c", measure, *args], capture_output=True,
                       text=True, env=sweep_env(), timeout=600)
    code, peak = map(int, r.stdout.split())
    assert code == 0, r.stderr
    return peak


def test_mpi_run_peak_memory_does_not_grow_with_the_replicates(tmp_path):
    # Before streaming, every rank held every replicate's outputs (24 here) until the end.
    sc = tmp_path / "small.yaml"
    sc.write_text(f"extends: {ROOT / 'scenarios/baseline.yaml'}\npopulation_scale: 0.02\n"
                  "end: 2027-12\n")
    one = _mpi_peak_rss_kb(2, sc, tmp_path / "one.h5", "--replicates", "2")
    many = _mpi_peak_rss_kb(2, sc, tmp_path / "many.h5", "--replicates", "24")
    assert many <= 1.2 * one, (one, many)


# --- childsim-mpi sweep: a sweep's samples across ranks (issue #13) ----------------------------

SWEEP_DESIGN = """scenario: quick.yaml
design: latin_hypercube
samples: {samples}
seed: 3
replicates: 2
variables: [nursery_unmet, births, population]
parameters:
  fertility.tfr_multiplier:
  nursery.seek_intercept: [-2.5, -1.5]
"""

requires_mpi4py = pytest.mark.skipif(
    subprocess.run(["/usr/bin/python3", "-c", "import mpi4py"], capture_output=True).returncode,
    reason="mpi4py (python3-mpi4py) not installed")


def sweep_env():
    return dict(os.environ, SOURCE_DATE_EPOCH="1767225600", OMP_WAIT_POLICY="passive")


def mpirun(ranks):
    # Open MPI passes environment variables to the ranks only when named with -x.
    args = [MPIRUN, "-np", str(ranks), "--oversubscribe", "-x", "SOURCE_DATE_EPOCH", "-x",
            "OMP_WAIT_POLICY"]
    if os.geteuid() == 0:
        args.insert(1, "--allow-run-as-root")
    return args


def sweep_design(directory, samples, end="2025-12"):
    (directory / "quick.yaml").write_text(
        f"extends: {ROOT / 'scenarios/baseline.yaml'}\npopulation_scale: 0.05\nend: {end}\n")
    path = directory / "design.yaml"
    path.write_text(SWEEP_DESIGN.format(samples=samples))
    return path


def single_process_sweep(design, out):
    result = subprocess.run([str(BINARY), "sweep", str(design), "-o", str(out), "--threads",
                             "1", "--quiet"], capture_output=True, text=True, env=sweep_env(),
                            timeout=600)
    assert result.returncode == 0, result.stderr
    return digest(out)


@requires_mpi4py
def test_mpi_sweep_at_1_2_3_ranks_gives_the_single_process_file(tmp_path):
    # 5 samples: at 2 and 3 ranks the ranks get unequal shares, and at 3 rank 0 assembles
    # samples of which it ran only two.
    design = sweep_design(tmp_path, samples=5)
    reference = single_process_sweep(design, tmp_path / "single.h5")
    for ranks in (1, 2, 3):
        out = tmp_path / f"mpi{ranks}.h5"
        result = subprocess.run(mpirun(ranks) + [str(MPI_BINARY), "sweep", str(design), "-o",
                                                 str(out), "--threads", "1"],
                                capture_output=True, text=True, env=sweep_env(), timeout=600)
        assert result.returncode == 0, result.stderr
        assert digest(out) == reference, f"{ranks} ranks"
        # Rank 0 alone prints: its share of the samples, then the one summary line.
        assert result.stdout.count("Wrote ") == 1
        assert f"rank 0 of {ranks}: sample " in result.stdout
        assert not (tmp_path / f"mpi{ranks}.h5.parts").exists()


def children_of(pid):
    """Process ids whose parent is `pid` (the ranks mpirun started on this machine)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


@requires_mpi4py
def test_mpi_sweep_resumes_after_a_rank_is_killed(tmp_path):
    samples = 8
    design = sweep_design(tmp_path, samples=samples, end="2026-12")
    reference = single_process_sweep(design, tmp_path / "single.h5")
    out, parts = tmp_path / "sweep.h5", tmp_path / "sweep.h5.parts"
    proc = subprocess.Popen(mpirun(2) + [str(MPI_BINARY), "sweep", str(design), "-o", str(out),
                                         "--threads", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, env=sweep_env())
    deadline = time.time() + 300
    while time.time() < deadline and len(list(parts.glob("sample-*.h5"))) < 2:
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    ranks = children_of(proc.pid)
    assert len(ranks) == 2, "mpirun's ranks not found among its children"
    os.kill(ranks[-1], signal.SIGKILL)  # one rank dies mid-sweep; mpirun stops the other
    try:
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode != 0
    done = sorted(p.name for p in parts.glob("sample-*.h5"))
    assert 2 <= len(done) < samples, "the sweep finished before it could be interrupted"
    assert not out.exists()
    # Started again (on another number of ranks), it runs only the missing samples.
    result = subprocess.run(mpirun(3) + [str(MPI_BINARY), "sweep", str(design), "-o", str(out),
                                         "--threads", "1"],
                            capture_output=True, text=True, env=sweep_env(), timeout=600)
    assert result.returncode == 0, result.stderr
    assert f"({len(done)} from an earlier start)" in result.stdout
    assert digest(out) == reference
    assert not parts.exists()


@requires_mpi4py
def test_mpi_sweep_bad_design_is_reported_once_without_output(tmp_path):
    design = sweep_design(tmp_path, samples=4)
    design.write_text(design.read_text().replace("samples:", "sampels:"))
    out = tmp_path / "out.h5"
    result = subprocess.run(mpirun(3) + [str(MPI_BINARY), "sweep", str(design), "-o", str(out)],
                            capture_output=True, text=True, env=sweep_env(), timeout=300)
    assert result.returncode == 2
    message = "design.yaml:3:1: key 'sampels': unknown key (did you mean 'samples'?)"
    assert result.stderr.count(message) == 1, result.stderr
    assert not out.exists() and not (tmp_path / "out.h5.parts").exists()


# --- childsim-mpi calibrate: each generation's particles across ranks ------------------------

CALIBRATION = """\
scenario: {root}/scenarios/baseline.yaml
population_scale: 0.02
replicates: 1
seed: 3
parameters:
  - name: nursery.seek_intercept
  - name: kindergarten.take_up
abc: {{particles: 7, max_generations: 3, min_acceptance_rate: 0}}
targets:
  - id: kindergarten
    description: kindergarten enrolment
    value: 0.97
    sd: 0.02
    year: 2024
    basis: derived
    scaled_from_shanghai: true
    source: test
    output: kindergarten_children_enrolled
    aggregate: ratio
    denominator: kindergarten_eligible
"""


def calibrate_single(cal, out, *extra):
    result = subprocess.run([str(BINARY), "calibrate", str(cal), "-o", str(out), "--threads",
                             "1", *extra], capture_output=True, text=True, env=sweep_env(),
                            timeout=600)
    assert result.returncode == 0, result.stderr
    return result


def calibrate_mpi(ranks, cal, out, *extra):
    return subprocess.run(mpirun(ranks) + [str(MPI_BINARY), "calibrate", str(cal), "-o",
                                           str(out), "--threads", "1", *extra],
                          capture_output=True, text=True, env=sweep_env(), timeout=600)


def test_mpi_calibrate_at_1_2_3_ranks_gives_the_single_process_posterior(tmp_path):
    # 7 particles: at 2 and 3 ranks the shares differ (4 + 3, 3 + 2 + 2).
    cal = tmp_path / "cal.yaml"
    cal.write_text(CALIBRATION.format(root=ROOT))
    single = calibrate_single(cal, tmp_path / "single.h5")
    checkpoint = (tmp_path / "single.h5.checkpoint").read_bytes()
    for ranks in (1, 2, 3):
        out = tmp_path / f"mpi{ranks}.h5"
        result = calibrate_mpi(ranks, cal, out)
        assert result.returncode == 0, result.stderr
        assert digest(out) == digest(tmp_path / "single.h5"), f"{ranks} ranks"
        # Rank 0 alone writes the checkpoint and prints the posterior, as one process does.
        assert (tmp_path / f"mpi{ranks}.h5.checkpoint").read_bytes() == checkpoint
        assert result.stdout.replace(out.name, "single.h5") == single.stdout


def test_mpi_calibrate_continues_a_calibration_stopped_by_another_rank_count(tmp_path):
    cal = tmp_path / "cal.yaml"
    cal.write_text(CALIBRATION.format(root=ROOT))
    calibrate_single(cal, tmp_path / "whole.h5")
    # Two generations on 2 ranks (max_generations is a stop rule, not part of the checkpoint's
    # identity), then the third on 3 ranks from the checkpoint.
    out = tmp_path / "post.h5"
    first = calibrate_mpi(2, cal, out, "--generations", "2")
    assert first.returncode == 0, first.stderr
    result = calibrate_mpi(3, cal, out)
    assert result.returncode == 0, result.stderr
    assert "resumed from checkpoint" in result.stderr and result.stderr.count("resumed") == 1
    assert digest(out) == digest(tmp_path / "whole.h5")


def test_mpi_calibrate_bad_file_is_reported_once_without_output(tmp_path):
    cal = tmp_path / "cal.yaml"
    cal.write_text(CALIBRATION.format(root=ROOT).replace("replicates: 1", "replicats: 1"))
    out = tmp_path / "post.h5"
    result = calibrate_mpi(3, cal, out)
    assert result.returncode == 2
    assert result.stderr.count("cal.yaml:3:1: key 'replicats': unknown key") == 1, result.stderr
    assert not out.exists() and not (tmp_path / "post.h5.checkpoint").exists()
    # An output that cannot be written is also one line, before any work.
    cal.write_text(CALIBRATION.format(root=ROOT))
    result = calibrate_mpi(2, cal, tmp_path / "missing" / "post.h5")
    assert result.returncode == 1  # as `childsim calibrate`
    assert result.stderr.count("error: output directory") == 1, result.stderr


def test_mpi_calibrate_resumes_after_a_rank_is_killed(tmp_path):
    cal = tmp_path / "cal.yaml"
    cal.write_text(CALIBRATION.format(root=ROOT).replace(
        "particles: 7, max_generations: 3", "particles: 40, max_generations: 5"))
    calibrate_single(cal, tmp_path / "whole.h5")
    out, checkpoint = tmp_path / "post.h5", tmp_path / "post.h5.checkpoint"
    proc = subprocess.Popen(mpirun(2) + [str(MPI_BINARY), "calibrate", str(cal), "-o", str(out),
                                         "--threads", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, env=sweep_env())
    deadline = time.time() + 300
    while time.time() < deadline and not checkpoint.exists():  # generation 0 is done
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    ranks = children_of(proc.pid)
    assert len(ranks) == 2, "mpirun's ranks not found among its children"
    os.kill(ranks[-1], signal.SIGKILL)
    try:
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode != 0
    assert not out.exists(), "the calibration finished before it could be interrupted"
    assert checkpoint.exists()
    result = calibrate_mpi(3, cal, out)
    assert result.returncode == 0, result.stderr
    assert "resumed from checkpoint" in result.stderr
    assert digest(out) == digest(tmp_path / "whole.h5")
    assert checkpoint.read_bytes() == (tmp_path / "whole.h5.checkpoint").read_bytes()


# --- childsim-mpi site: a siting problem's proof runs across ranks (issue #14 part 4) ----------

SITE_PROBLEM = """name: quick
scenario: quick.yaml
kind: inclusive_nursery
years: [2026, 2026]
opening: 2026-01
candidates:
  streets: true
capacities: [30]
sites: 1
objective: covering
demand: {replicates: 1}
evaluate: {plans: 1, replicates: 2, greedy: false, variants: [alt.yaml]}
"""


def site_problem(directory, text=SITE_PROBLEM):
    (directory / "quick.yaml").write_text(
        f"extends: {ROOT / 'scenarios/baseline.yaml'}\npopulation_scale: 0.05\nend: 2026-06\n")
    (directory / "alt.yaml").write_text("extends: quick.yaml\nseed: 7\n")  # a variant
    path = directory / "problem.yaml"
    path.write_text(text)
    return path


def tree_digests(directory):
    return {str(p.relative_to(directory)): digest(p)
            for p in sorted(directory.rglob("*")) if p.is_file()}


@requires_mpi4py
def test_mpi_site_at_1_and_2_ranks_writes_the_single_process_files(tmp_path):
    # The base and the best plan, and the same on a variant: four runs dealt to the ranks, rank 0 writes everything; every file equals one process's, byte for
    # byte. The output directory has the same path each time (runs record their scenario's).
    problem = site_problem(tmp_path)
    out = tmp_path / "out"
    result = subprocess.run([str(BINARY), "site", str(problem), "-o", str(out), "--threads",
                             "1", "--quiet"], capture_output=True, text=True, env=sweep_env(),
                            timeout=600)
    assert result.returncode == 0, result.stderr
    reference = tree_digests(out)
    assert {"plans.csv", "report.md", "runs/base.h5"} <= set(reference)
    assert len([f for f in reference if f.startswith("runs/")]) == 2  # the base and a plan
    assert [f for f in reference if f.endswith("@alt.yaml")]  # the plan on the variant
    shutil.rmtree(out)
    for ranks in (1, 2):
        result = subprocess.run(mpirun(ranks) + [str(MPI_BINARY), "site", str(problem), "-o",
                                                 str(out), "--threads", "1"],
                                capture_output=True, text=True, env=sweep_env(), timeout=600)
        assert result.returncode == 0, result.stderr
        assert tree_digests(out) == reference, f"{ranks} ranks"
        assert result.stdout.count("Wrote ") == 1  # rank 0 alone prints
        assert f"runs over {ranks} MPI rank(s)" in result.stdout
        shutil.rmtree(out)


@requires_mpi4py
def test_mpi_site_bad_problem_is_reported_once_without_output(tmp_path):
    problem = site_problem(tmp_path, SITE_PROBLEM.replace("sites: 1", "sites: 0"))
    out = tmp_path / "out"
    result = subprocess.run(mpirun(2) + [str(MPI_BINARY), "site", str(problem), "-o", str(out)],
                            capture_output=True, text=True, env=sweep_env(), timeout=300)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("problem.yaml:9:1: key 'sites'") == 1, result.stderr
    assert not out.exists()
