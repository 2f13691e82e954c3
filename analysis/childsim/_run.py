"""_run: running a scenario from Python — the same library call as ``childsim run``."""

import numbers

from ._convert import dataset_from_raw
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
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value}")
    return int(value)


def run(scenario, *, replicates=None, seed=None, threads=None, parameters=None, base_dir=None):
    """Run a scenario and return its outputs as an ``xarray.Dataset``.

    The result is what ``childsim run`` writes to its HDF5 file, variable for variable and
    bit for bit (for the same scenario, seed and replicates): the same names, coordinates,
    dtypes, attributes and numbers, decoded as ``xarray.open_dataset`` decodes the file.
    The simulation runs in C++ with the GIL released, so other Python threads keep running;
    Ctrl-C (or a notebook's interrupt) stops it within about half a second.

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

    Returns
    -------
    xarray.Dataset
        Dimensions ``replicate``, ``time``, ``street``, ``age``, ``woman_age`` and
        more as the model grows; see docs/output-format.md and :func:`outputs`.

    Raises
    ------
    ScenarioError
        If the scenario is not valid (nothing runs).
    TypeError, ValueError
        If an argument has the wrong type or value.

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
    """
    replicates = _check_int("replicates", replicates, 1, 10000)
    seed = _check_int("seed", seed, 0, _MAX_SEED)
    threads = _check_int("threads", threads, 1, 1024)
    loaded = load_scenario(scenario, base_dir=base_dir, parameters=parameters)
    raw = core().run(loaded._impl, replicates, seed, threads or 0)
    return dataset_from_raw(raw)


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
    file ``childsim run`` writes for it alone. Every scenario is loaded and validated, their
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

    from ._io import write

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
        raw = core().run(sc._impl, replicates, seed, threads or 0)
        files.append(write(dataset_from_raw(raw), out_dir / f"{stem}.h5"))
    return files
