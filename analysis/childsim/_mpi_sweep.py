"""_mpi_sweep: ``childsim-mpi sweep DESIGN.yaml -o OUT.h5`` — a sweep's samples across MPI ranks.

``childsim-mpi`` (sim/mpi_main.cpp) becomes this Python before MPI exists (exec, same process
id), so the process that ``mpirun`` started joins the job here, through mpi4py (Debian
``python3-mpi4py``). The work is :func:`childsim.sweeps.sweep` with ``comm``: the samples still
missing are dealt round-robin to the ranks, each writes its own parts, and rank 0 assembles
the file, byte-identical to ``childsim sweep`` (tests/python/test_mpi.py). Why Python and not
a C++ rank loop: docs/research.md, "Sweeps across MPI ranks".
"""

import sys

__all__ = ["main"]


def main(argv=None):
    """Run the sweep command line on ``MPI.COMM_WORLD`` (see :func:`childsim.sweeps.main`).

    Importing mpi4py initialises MPI, so this runs only as the entry point of a rank (no
    example here: tests/python/test_mpi.py runs it under mpirun).
    """
    try:
        from mpi4py import MPI  # MPI_Init, from the environment mpirun set
    except ImportError as error:
        sys.stderr.write(f"error: childsim-mpi sweep needs mpi4py (Debian's python3-mpi4py; "
                         f"tools/install-deps.sh installs it): {error}\n")
        return 1
    from .sweeps import main as sweep_main

    comm = MPI.COMM_WORLD
    try:
        return sweep_main(argv, comm=comm)
    except BaseException as error:  # noqa: BLE001 (an error no collective step caught)
        if isinstance(error, SystemExit):
            raise
        sys.stderr.write(f"error (rank {comm.Get_rank()}): {error!r}\n")
        sys.stderr.flush()
        comm.Abort(1)  # the other ranks would otherwise wait for this one forever
        return 1
