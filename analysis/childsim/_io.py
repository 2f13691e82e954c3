"""_io: writing runs as the CLI does, and reading them back (one run or several)."""

import os
from collections.abc import Sequence

import pandas as pd
import xarray as xr

from ._convert import raw_from_dataset
from ._native import core
from ._facilities import align_facilities

__all__ = ["write", "open_run", "open_runs"]

# Dask chunks of a lazily opened run (open_run(..., chunks={})): those of the writer
# (sim/io/hdf5_writer.cpp, chunk_shape), 1 along the ensemble dimensions.
_FILE_CHUNKS = {"sample": 1, "scenario": 1, "replicate": 1}


def _check_path(path, what="path"):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what} must be a str or os.PathLike, got {type(path).__name__}")
    return os.fspath(path)


def write(ds, path):
    """Write a run to netCDF-4 HDF5 through the C++ writer of ``childsim run``.

    A dataset from :func:`run` or :func:`open_run` gives a file byte-identical to the
    CLI's for the same scenario and seed (and ``created`` date). Other datasets can be
    written too if every dimension has a coordinate and arrays are int32, int64, float64
    or str (e.g. an :func:`ensemble_mean`). As with the CLI, the file is written under a
    temporary name and renamed when complete.

    Parameters
    ----------
    ds : xarray.Dataset
        The run (or a dataset of the same kind).
    path : str or os.PathLike
        The output file (``.h5``); its directory must exist. An existing file is replaced.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    TypeError
        If ``ds`` is not a Dataset or holds values that cannot be stored.
    ValueError
        If a dimension has no coordinate or a variable is a scalar.
    FileNotFoundError, IsADirectoryError
        If the directory does not exist or ``path`` is a directory.
    childsim.OutputError
        (an ``OSError``) If the file system refuses the file: a full disk or file-size
        limit, a device or FIFO under ``path``. The previous file is unchanged, no temporary
        is left, and the interpreter stays usable. A symbolic link is kept (its target is
        replaced) and an existing file's permissions are kept.

    Examples
    --------
    >>> import childsim, tempfile, pathlib
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.1,
    ...                    "end": "2024-12"}, base_dir=childsim.find_root() / "scenarios")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = childsim.write(ds, pathlib.Path(tmp) / "run.h5")
    ...     childsim.testing.assert_runs_equal(childsim.open_run(out), ds)
    """
    from pathlib import Path

    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset, got {type(ds).__name__}")
    path = Path(_check_path(path))
    directory = path.parent
    if not directory.is_dir():
        raise FileNotFoundError(f"output directory '{directory}' does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"output path '{path}' is a directory")
    raw = raw_from_dataset(ds)
    core().write_dataset(raw, os.fspath(path))
    return path


def open_run(path, *, chunks=None):
    """Read a run written by ``childsim run`` or :func:`write`: fully, or lazily with dask.

    By default the file is opened with the h5netcdf engine, loaded and closed again, so it
    can be overwritten or deleted afterwards. With ``chunks`` nothing but the coordinates is
    read: every variable is a dask array, and only the HDF5 chunks a computation needs are
    read when it is computed (``.values``, ``.compute()``, ``.load()``). The files are chunked
    one replicate (and one sweep sample) at a time, each variable on its own
    (docs/output-format.md), so one street's series of one replicate reads one chunk of one
    variable. A lazy dataset keeps the file open until ``ds.close()`` (or a ``with`` block).

    Parameters
    ----------
    path : str or os.PathLike
    chunks : dict, "auto" or None, optional
        None (default): load everything. ``{}``: dask chunks equal to the file's chunks (the
        usual choice); a dict such as ``{"replicate": 10}`` or ``"auto"``: as
        ``xarray.open_dataset`` takes them. Needs dask (Debian ``python3-dask``).

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    FileNotFoundError
        If the file does not exist.

    See Also
    --------
    open_runs : several runs along a ``scenario`` dimension.

    Examples
    --------
    >>> import childsim, tempfile, pathlib
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.1,
    ...                    "end": "2024-12"}, base_dir=childsim.find_root() / "scenarios")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     back = childsim.open_run(childsim.write(ds, pathlib.Path(tmp) / "run.h5"))
    >>> int(back["births"].sum()) == int(ds["births"].sum())
    True

    Lazily, one replicate's series of one street:

    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = childsim.write(ds, pathlib.Path(tmp) / "run.h5")
    ...     with childsim.open_run(path, chunks={}) as lazy:
    ...         kind = type(lazy["births"].data).__module__.split(".")[0]
    ...         series = lazy["births"].sel(street="xinjing").isel(replicate=0).values
    >>> kind, series.tolist() == ds["births"].sel(street="xinjing").isel(replicate=0).values.tolist()
    ('dask', True)
    """
    path = _check_path(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: '{path}'")
    if chunks is not None:
        if not (chunks == "auto" or isinstance(chunks, dict)):
            raise TypeError(f"chunks must be a dict, 'auto' or None, got {chunks!r}")
        try:
            import dask  # noqa: F401
        except ImportError as error:
            raise ImportError("lazy reading (chunks=...) needs dask: apt-get install "
                              "python3-dask") from error
        if isinstance(chunks, dict) and not chunks:
            # The file's own chunking (docs/output-format.md): one per replicate, sweep sample
            # and scenario, whole along the rest. Stated here because this xarray's h5netcdf
            # backend does not report the chunks it finds (`preferred_chunks`).
            chunks = dict(_FILE_CHUNKS)
        return xr.open_dataset(path, engine="h5netcdf", chunks=chunks)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def open_runs(paths, names=None, *, join="exact"):
    """Read several runs and stack them along a new ``scenario`` dimension.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        Output files of the scenarios to compare.
    names : sequence of str, optional
        Labels of the ``scenario`` coordinate; default: each file's ``scenario_name``
        attribute. They must be distinct.
    join : {"exact", "outer", "inner"}, default "exact"
        How to align other coordinates (as ``xarray.concat``); facilities are always
        outer-joined on their ids (a facility a run lacks has zero capacity, use and cost
        there; rates are NaN). With ``"exact"`` runs of
        different horizons or replicate counts are an error; ``"outer"`` fills the gaps
        with NaN (the counts then become floats).

    Returns
    -------
    xarray.Dataset
        The runs along ``scenario`` (first dimension). Global attributes that differ
        between runs (e.g. ``scenario_name``, ``seed``) are dropped; per-run values of
        ``seed`` and ``scenario_file`` are kept as coordinates along ``scenario``.

    Raises
    ------
    ValueError
        If names are not distinct, their number does not match, or coordinates differ
        (with ``join="exact"``).

    Examples
    --------
    >>> import childsim, tempfile, pathlib
    >>> scenarios = childsim.find_root() / "scenarios"
    >>> quick = {"population_scale": 0.1, "end": "2024-12"}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     files = [childsim.write(childsim.run({"extends": f, **quick}, base_dir=scenarios),
    ...                             pathlib.Path(tmp) / f"{f}.h5")
    ...              for f in ("baseline.yaml", "low-fertility.yaml")]
    ...     both = childsim.open_runs(files)
    >>> both["scenario"].values.tolist(), both["population"].dims[0]
    (['baseline', 'low-fertility'], 'scenario')
    """
    if isinstance(paths, (str, os.PathLike)) or not isinstance(paths, Sequence):
        raise TypeError("paths must be a sequence (list) of file paths")
    if not paths:
        raise ValueError("paths is empty")
    for p in paths:
        _check_path(p, "each path")
    runs = [open_run(p) for p in paths]
    if names is None:
        names = [str(run.attrs.get("scenario_name", os.path.basename(os.fspath(p))))
                 for run, p in zip(runs, paths)]
    else:
        if isinstance(names, str) or not isinstance(names, Sequence):
            raise TypeError("names must be a sequence of str")
        names = list(names)
        if len(names) != len(runs):
            raise ValueError(f"{len(names)} names for {len(runs)} paths")
        if not all(isinstance(n, str) for n in names):
            raise TypeError("names must be str")
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must be distinct, got {names}; pass names=[...]")
    if join not in ("exact", "outer", "inner"):
        raise ValueError(f"join must be 'exact', 'outer' or 'inner', got {join!r}")
    index = pd.Index(names, name="scenario")
    # Runs that open different facilities: outer join on the facility ids (an absent
    # facility has zero capacity), whatever ``join`` says for the other dimensions.
    runs = align_facilities(runs)
    try:
        combined = xr.concat(runs, dim=index, join=join, combine_attrs="drop_conflicts")
    except ValueError as error:
        raise ValueError(
            f"the runs cannot be aligned with join={join!r} (different horizons, streets or "
            f"replicate counts?): {error}"
        ) from error
    per_run = {}
    for attr in ("seed", "scenario_file"):
        if all(attr in run.attrs for run in runs):
            per_run[attr] = ("scenario", [run.attrs[attr] for run in runs])
    return combined.assign_coords(per_run)
