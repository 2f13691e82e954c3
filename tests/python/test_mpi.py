"""test_mpi: `childsim-mpi` spreads replicates over MPI ranks and writes the same bytes as one
process (DESIGN.md decision 6)."""
import hashlib
import os
import shutil
import subprocess
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
