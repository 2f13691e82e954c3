"""_run: running a scenario from Python — the same library call as ``childsim run``."""

import numbers

from ._convert import dataset_from_raw
from ._errors import ScenarioError
from ._native import core
from ._scenario import load_scenario

__all__ = ["run", "run_many"]

_MAX_SEED = 2**63 - 1


def _check_int(name, value, lo, hi):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not lo <= value <= hi:
        # The same rule and words as ``childsim run --seed`` and a scenario's ``seed:``.
        raise ScenarioError(f"{name} must be in [{lo}, {hi}], got {value}", key=name)
    return int(value)


def run(scenario, *, replicates=None, seed=None, threads=None, parameters=None, base_dir=None,
        output=None, resume=False):
    """Run a scenario and return its outputs as an ``xarray.Dataset`` (or write them to a file).

    The result is what ``childsim run`` writes to its HDF5 file, variable for variable and
    bit for bit (for the same scenario, seed and replicates): the same names, coordinates,
    dtypes, attributes and numbers, decoded as ``xarray.open_dataset`` decodes the file.
    The simulation runs in C++ with the GIL released, so other Python threads keep running;
    Ctrl-C (or a notebook's interrupt) stops it within about half a second.

    Without ``output`` the whole ensemble is held in memory — by design, for the small
    ensembles of interactive work: a run whose estimated memory does not fit the machine is
    refused before it starts (:class:`ResourceError`; docs/reliability.md). With ``output``
    the run is streamed to that file exactly as ``childsim run -o`` does it: each replicate is
    saved to ``<output>.partial`` as it finishes, memory holds one replicate whatever the
    ensemble size, the file is the CLI's byte for byte, and an interrupted run (Ctrl-C, a
    killed kernel) continues with ``resume=True``. Open the file with :func:`open_run`
    (``chunks={}`` reads it lazily).

    Parameters
    ----------
    scenario : str, os.PathLike, Mapping or Scenario
        A scenario file, a dict, or a loaded :class:`Scenario` (see :func:`load_scenario`).
    replicates : int, optional
        Override the scenario's number of replicates (1..10000), like ``--replicates``.
    seed : int, optional
        Override the scenario's seed (0..2**63-1), like ``--seed``.
    threads : int, optional
        OpenMP threads (1..1024); default: OpenMP's default (all cores). Results do not
        depend on it.
    parameters : Mapping of str to float, optional
        Parameter overrides (see :func:`load_scenario`); not with a loaded Scenario.
    base_dir : str or os.PathLike, optional
        For a dict scenario, where its relative paths resolve (default: current directory).
    output : str or os.PathLike, optional
        Stream the run to this HDF5 file (its directory must exist; an existing file is
        replaced when the run is complete) instead of returning it.
    resume : bool, optional
        With ``output``: continue from ``<output>.partial`` left by an interrupted run (of
        this function or of ``childsim run``), simulating only the replicates it lacks;
        refused (``ValueError``) when it belongs to another scenario, seed or replicate count.

    Returns
    -------
    xarray.Dataset or pathlib.Path
        Without ``output``, the run: dimensions ``replicate``, ``time``, ``street``, ``age``,
        ``woman_age`` and more as the model grows; see docs/output-format.md and
        :func:`outputs`. With ``output``, the path of the file written.

    Raises
    ------
    ScenarioError
        If the scenario is not valid (nothing runs).
    ResourceError
        If the run would need more memory (or, with ``output``, disk) than there is.
    TypeError, ValueError
        If an argument has the wrong type or value, or a partial file cannot be resumed.
    childsim.OutputError
        With ``output``: if the file system refuses the file (the finished replicates are
        kept in ``<output>.partial`` for ``resume=True``).

    See Also
    --------
    write : store the result as the CLI does.
    open_run : read a stored result.

    Examples
    --------
    >>> import childsim
    >>> scenarios = childsim.find_root() / "scenarios"
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.1,
    ...                    "end": "2025-12"}, base_dir=scenarios, replicates=2)
    >>> ds.sizes["replicate"], ds.sizes["time"], ds.sizes["street"]
    (2, 24, 10)
    >>> str(ds.time.values[0])[:10], ds.attrs["scenario_name"]
    ('2024-01-01', 'baseline')

    A large ensemble goes to a file instead, with flat memory:

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = childsim.run({"extends": "baseline.yaml", "population_scale": 0.1,
    ...                          "end": "2024-06"}, base_dir=scenarios, replicates=3,
    ...                         output=pathlib.Path(tmp) / "run.h5")
    ...     childsim.open_run(path).sizes["replicate"]
    3
    """
    replicates = _check_int("replicates", replicates, 1, 10000)
    seed = _check_int("seed", seed, 0, _MAX_SEED)
    threads = _check_int("threads", threads, 1, 1024)
    if not isinstance(resume, bool):
        raise TypeError(f"resume must be a bool, got {type(resume).__name__}")
    if resume and output is None:
        raise ValueError("resume=True needs output= (the file whose partial file to continue)")
    target = None if output is None else _output_path(output)
    loaded = load_scenario(scenario, base_dir=base_dir, parameters=parameters)
    if target is not None:
        return _run_to_file(loaded, target, replicates, seed, threads, resume)
    raw = core().run(loaded._impl, replicates, seed, threads or 0)
    return dataset_from_raw(raw)


def _output_path(output):
    """``output`` as a Path whose directory exists and which is not a directory."""
    import os
    from pathlib import Path

    if not isinstance(output, (str, os.PathLike)):
        raise TypeError(f"output must be a str or os.PathLike, got {type(output).__name__}")
    path = Path(os.fspath(output))
    if not path.parent.is_dir():
        raise FileNotFoundError(f"output directory '{path.parent}' does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"output path '{path}' is a directory")
    return path


def _run_to_file(loaded, path, replicates, seed, threads, resume):
    """Stream a loaded scenario's run to ``path`` (``childsim run -o``); notes become warnings."""
    import os
    import warnings

    for note in core().run_to_file(loaded._impl, replicates, seed, threads or 0,
                                   os.fspath(path), resume):
        warnings.warn(note, stacklevel=3)
    return path


def _output_stem(scenario, loaded):
    """The name of a scenario's file in ``run_many``'s directory, as ``childsim run`` names it."""
    import os
    from pathlib import Path

    if isinstance(scenario, (str, os.PathLike)):
        return Path(os.fspath(scenario)).stem
    if loaded.file and not Path(loaded.file).name.startswith("<"):
        return Path(loaded.file).stem
    return loaded.name


def run_many(scenarios, out_dir, *, replicates=None, seed=None, threads=None, base_dir=None):
    """Run several scenarios with common random numbers, one output file each.

    The Python side of ``childsim run a.yaml b.yaml … -o DIR``: each scenario is written to
    ``out_dir/<file stem>.h5`` (a scenario given as a dict: ``<name>.h5``), byte for byte the
    file ``childsim run`` writes for it alone, and streamed as it streams it (memory holds one
    replicate at a time, see :func:`run`). Every scenario is loaded and validated, their
    seeds compared and the file names checked before the first run, so a bad scenario anywhere
    in the list leaves ``out_dir`` untouched. One file per scenario rather than one file with a
    ``scenario`` dimension: scenarios may differ in facilities, targets, horizon and replicates,
    and every tool reads single-run files; :func:`open_runs` stacks them when they align.

    Parameters
    ----------
    scenarios : sequence of (str, os.PathLike, Mapping or Scenario)
        As :func:`run` takes them.
    out_dir : str or os.PathLike
        Directory of the outputs; made if missing (its parent must exist).
    replicates, seed, threads : int, optional
        As for :func:`run`, applied to every scenario. Without ``seed`` the scenarios must
        share their own (common random numbers).
    base_dir : str or os.PathLike, optional
        Where dict scenarios' relative paths resolve.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of ``scenarios``.

    Raises
    ------
    ScenarioError
        If any scenario is not valid (nothing runs).
    ValueError
        If the seeds differ (without ``seed``) or two scenarios would share a file name.

    Examples
    --------
    >>> import childsim, tempfile, pathlib
    >>> scenarios = childsim.find_root() / "scenarios"
    >>> quick = {"population_scale": 0.05, "end": "2024-06"}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     files = childsim.run_many([{"extends": "baseline.yaml", **quick},
    ...                                {"extends": "low-fertility.yaml", **quick}],
    ...                               pathlib.Path(tmp) / "runs", base_dir=scenarios)
    ...     [f.name for f in files]
    ['baseline.h5', 'low-fertility.h5']
    """
    import os
    from collections.abc import Sequence
    from pathlib import Path

    if isinstance(scenarios, (str, os.PathLike)) or not isinstance(scenarios, Sequence):
        raise TypeError("scenarios must be a sequence (list) of scenarios")
    if not scenarios:
        raise ValueError("scenarios is empty")
    if not isinstance(out_dir, (str, os.PathLike)):
        raise TypeError(f"out_dir must be a str or os.PathLike, got {type(out_dir).__name__}")
    replicates = _check_int("replicates", replicates, 1, 10000)
    seed = _check_int("seed", seed, 0, _MAX_SEED)
    threads = _check_int("threads", threads, 1, 1024)
    loaded = [s if hasattr(s, "_impl") else load_scenario(s, base_dir=base_dir)
              for s in scenarios]
    if seed is None:
        for sc in loaded[1:]:
            if sc.seed != loaded[0].seed:
                raise ValueError(
                    f"scenarios run together share one seed (common random numbers), but "
                    f"{loaded[0].file} has seed {loaded[0].seed} and {sc.file} has seed "
                    f"{sc.seed}; pass seed=")
    out_dir = Path(os.fspath(out_dir))
    stems = [_output_stem(s, sc) for s, sc in zip(scenarios, loaded)]
    for k, stem in enumerate(stems):
        if stem in stems[:k]:
            raise ValueError(f"two scenarios would both be written to {out_dir / (stem + '.h5')}")
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"output '{out_dir}' is not a directory")
    for stem in stems:
        if (out_dir / f"{stem}.h5").is_dir():
            raise IsADirectoryError(f"output path '{out_dir / (stem + '.h5')}' is a directory")
    out_dir.mkdir(exist_ok=True)
    files = []
    for sc, stem in zip(loaded, stems):
        # Streamed as `childsim run` streams each scenario: memory does not grow with the
        # replicates, and the bytes are those of write(run(...)).
        files.append(_run_to_file(sc, out_dir / f"{stem}.h5", replicates, seed, threads, False))
    return files
