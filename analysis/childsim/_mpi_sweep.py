"""_mpi_sweep: ``childsim-mpi sweep DESIGN.yaml -o OUT.h5`` — a sweep's samples across MPI ranks.

``childsim-mpi`` (sim/mpi_main.cpp) becomes this Python before MPI exists (exec, same process
id), so the process that ``mpirun`` started joins the job here, through mpi4py (Debian
``python3-mpi4py``). The work is :func:`childsim.sweeps.sweep` with ``comm``: the samples still
missing are dealt round-robin to the ranks, each writes its own parts, and rank 0 assembles
the file, byte-identical to ``childsim sweep`` (tests/python/test_mpi.py). Why Python and not
a C++ rank loop: docs/research.md, "Sweeps across MPI ranks".
"""

from ._mpi_common import run_on_world

__all__ = ["main"]


def main(argv=None):
    """Run the sweep command line on ``MPI.COMM_WORLD`` (see :func:`childsim.sweeps.main`).

    Importing mpi4py initialises MPI, so this runs only as the entry point of a rank (no
    example here: tests/python/test_mpi.py runs it under mpirun).
    """

    def load_main():
        from .sweeps import main as sweep_main
        return sweep_main

    return run_on_world("sweep", load_main, argv)
