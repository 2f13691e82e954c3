"""_mpi_site: ``childsim-mpi site PROBLEM.yaml -o DIR`` — a siting problem's proof runs across MPI ranks.

``childsim-mpi`` (sim/mpi_main.cpp) becomes this Python before MPI exists (exec, same process
id), as for ``childsim-mpi sweep``; mpi4py (Debian ``python3-mpi4py``) joins the job here.

Rank 0 does what one process does (:func:`childsim.siting.site`): the demand ensemble, the
solvers, the plan files, the tables and every file written. The other ranks wait (asleep)
until rank 0 reaches the proof by simulation; then rank 0 sends every rank the list of runs
(the base, each plan, and with ``evaluate.variants`` each variant and each plan on it, in the
order one process runs them) and run *k* is made by rank ``k mod size``. Rank 0 takes the runs
in that order, running its own and receiving the others' datasets (pickled) as it needs them,
so it computes the very numbers and writes the very files of one process: byte-identical
(tests/python/test_mpi.py). A rank holds at most one finished run that rank 0 has not taken
yet, so memory does not grow with the number of plans. Waiting ranks poll every 5 ms and sleep
in between (Open MPI's blocking calls would spin and take a core from a rank still working).

Errors: an error before the runs are shared (a bad problem file, no feasible plan) is
reported once by rank 0, and the other ranks stop without running anything; an error on any
rank while runs are shared stops the job (``MPI_Abort``) after the failing rank prints it, as
the ranks would otherwise wait for each other forever.
"""

from ._mpi_common import run_on_world, sleep_until as _sleep_until, wait_for_all

__all__ = ["main"]

_RUN_TAG = 1


def release(comm):
    """Rank 0, when it will share no runs (an error first, or no simulation): the others stop."""
    wait_for_all(comm)
    comm.bcast(None, root=0)


def share(comm, jobs, threads):
    """Rank 0: send the list of runs; return the ``run`` function rank 0 then uses.

    ``jobs`` is a list of ``(scenario path, replicates, seed)`` in the order rank 0 will ask
    for them. The function returned answers a call for job *k* by running it (k mod size = 0)
    or receiving it from its rank.
    """
    from ._run import run

    wait_for_all(comm)
    comm.bcast((jobs, threads), root=0)
    size = comm.Get_size()
    index = {(str(path), int(reps), int(seed)): k for k, (path, reps, seed) in enumerate(jobs)}

    def runner(scenario, *, replicates, seed, threads=None):
        k = index[(str(scenario), int(replicates), int(seed))]
        owner = k % size
        if owner == 0:
            return run(scenario, replicates=replicates, seed=seed, threads=threads)
        _sleep_until(lambda: comm.Iprobe(source=owner, tag=_RUN_TAG))
        got, error = comm.recv(source=owner, tag=_RUN_TAG)
        if error is not None:
            raise RuntimeError(f"rank {owner}: {error}")
        if got[0] != k:
            raise RuntimeError(f"rank {owner} sent run {got[0]} where run {k} was expected")
        return got[1]

    return runner


def serve(comm):
    """A rank other than 0: wait for the list of runs, make this rank's share, send each to
    rank 0 in order. Returns the exit code (0, or 1 after an error was sent to rank 0)."""
    from ._run import run

    wait_for_all(comm)
    shared = comm.bcast(None, root=0)
    if shared is None:
        return 0
    jobs, threads = shared
    rank, size = comm.Get_rank(), comm.Get_size()
    for k in range(rank, len(jobs), size):
        path, reps, seed = jobs[k]
        try:
            message = ((k, run(path, replicates=reps, seed=seed, threads=threads)), None)
        except Exception as error:  # noqa: BLE001 (sent to rank 0, which stops the job)
            message = (None, f"{type(error).__name__}: {error}")
        request = comm.isend(message, dest=0, tag=_RUN_TAG)
        _sleep_until(request.Test)
        if message[1] is not None:
            return 1
    return 0


def main(argv=None):
    """Run the siting command line on ``MPI.COMM_WORLD`` (see :func:`childsim.siting.main`).

    Importing mpi4py initialises MPI, so this runs only as the entry point of a rank (no
    example here: tests/python/test_mpi.py runs it under mpirun).
    """

    def load_main():
        from .siting import main as site_main
        return site_main

    return run_on_world("site", load_main, argv)
