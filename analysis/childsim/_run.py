"""_run: running a scenario from Python — the same library call as ``childsim run``."""

import numbers

from ._convert import dataset_from_raw
from ._errors import ScenarioError
from ._native import core
from ._scenario import load_scenario

__all__ = ["run"]

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
