"""_mpi_common: what the MPI commands of ``childsim-mpi`` (sweep, site) share.

Sleeping waits (Open MPI's blocking calls poll at full speed, so a rank that finished its
share early would take a core from one still running), the command line parsed alike on every
rank (rank 0 alone prints usage and errors), and the entry point that runs a command on
``MPI.COMM_WORLD`` and aborts the job if one rank fails outside a collective step.
"""

import contextlib
import io
import sys
import time

__all__ = ["sleep_until", "wait_for_all", "parse_on_every_rank", "run_on_world"]


def sleep_until(test):
    """Call ``test()`` every 5 ms, sleeping in between, until it returns true."""
    while not test():
        time.sleep(0.005)


def wait_for_all(comm):
    """A barrier during which this rank sleeps between 5 ms polls."""
    sleep_until(comm.Ibarrier().Test)


def parse_on_every_rank(parser, argv, rank):
    """``parser.parse_args(argv)`` on every rank; only rank 0 prints usage and errors.

    A bad command line or ``--help`` raises SystemExit on every rank alike.
    """
    if rank == 0:
        return parser.parse_args(argv)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return parser.parse_args(argv)


def run_on_world(command, load_main, argv=None):
    """Run ``load_main()(argv, comm=MPI.COMM_WORLD)`` as the entry point of an MPI rank.

    ``load_main`` imports the command's ``main`` only after mpi4py has initialised MPI. An
    error that escapes it aborts the whole job (the other ranks would otherwise wait for
    this one forever). Importing mpi4py initialises MPI, so this runs only under mpirun
    (tests/python/test_mpi.py).
    """
    try:
        from mpi4py import MPI  # MPI_Init, from the environment mpirun set
    except ImportError as error:
        sys.stderr.write(f"error: childsim-mpi {command} needs mpi4py (Debian's python3-mpi4py; "
                         f"tools/install-deps.sh installs it): {error}\n")
        return 1
    main = load_main()
    comm = MPI.COMM_WORLD
    try:
        return main(argv, comm=comm)
    except BaseException as error:  # noqa: BLE001 (an error no collective step caught)
        if isinstance(error, SystemExit):
            raise
        sys.stderr.write(f"error (rank {comm.Get_rank()}): {error!r}\n")
        sys.stderr.flush()
        comm.Abort(1)
        return 1
