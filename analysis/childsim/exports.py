"""exports: a run as tidy tables — one long table per variable, for CSV and other tools.

A run's variables are arrays over named dimensions (``replicate``, ``time``, ``street``,
``age`` …). :func:`to_frame` turns one into a *tidy* long table: one row per cell, one column
per dimension, then the labels that go with those dimensions (the text coordinates:
``street_name``, ``street_name_en`` along ``street``, ``facility_kind`` along ``facility`` …;
along a sweep's ``sample``, the parameter values), then the value,
in a column named after the variable. Months are written ``YYYY-MM``. Units and long names
are not repeated on every row: they are in the frame's ``attrs`` and, for a CSV export, in
``variables.csv`` beside the tables.

``childsim export OUT.h5 --csv DIR`` (:func:`export_csv`) writes ``DIR/<variable>.csv`` for
every variable (or those asked for) and ``DIR/variables.csv`` (variable, file, dimensions,
units, long name, description, rows). Parquet is not offered: neither of pandas' Parquet
engines (pyarrow, fastparquet) is packaged in Debian 12, and the project installs only Debian
packages; where one is installed, ``childsim.to_frame(ds, name).to_parquet(path)`` works.

Lazily opened runs (``childsim.open_run(path, chunks={})``) are exported a variable at a
time, so a large file is never held in memory whole.
"""

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["to_frame", "export_csv"]


def _labels_along(ds, dim):
    """Coordinates that label ``dim``: its text labels (names, kinds), and along a sweep's
    ``sample`` every coordinate (the parameter values)."""
    return [name for name, c in ds.coords.items()
            if c.dims == (dim,) and name != dim
            and (dim == "sample" or c.dtype.kind in "OUS")]


def _column(values):
    """A column of a tidy table: months as ``YYYY-MM``, bytes as str, the rest as they are."""
    values = np.asarray(values)
    if np.issubdtype(values.dtype, np.datetime64):
        return pd.DatetimeIndex(values).strftime("%Y-%m").to_numpy()
    if values.dtype.kind == "S":
        return values.astype(str)
    return values


def to_frame(ds, variable, *, labels=True):
    """One variable of a run as a tidy long table (one row per cell).

    Parameters
    ----------
    ds : xarray.Dataset
        A run (``childsim.run``, ``childsim.open_run``, a lazy ``open_run(..., chunks=...)``
        or a selection of one).
    variable : str
        The variable's name (see ``childsim.outputs()``).
    labels : bool, default True
        Add the coordinates that label each dimension after the dimension's own column: its
        text coordinates (``street_name``, ``street_name_en``, ``facility_kind`` …) and,
        along a sweep's ``sample``, the parameter values.

    Returns
    -------
    pandas.DataFrame
        Columns: the dimensions in the variable's order (months as ``YYYY-MM``), their labels,
        then ``variable``. ``attrs`` holds ``variable``, ``units``, ``long_name`` and
        ``description`` (empty when the file has none).

    Raises
    ------
    TypeError
        If ``ds`` is not a Dataset or ``variable`` not a str.
    KeyError
        If the run has no such variable (the message lists those it has).

    Examples
    --------
    >>> import childsim
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.05,
    ...                    "end": "2024-03"}, base_dir=childsim.find_root() / "scenarios",
    ...                   replicates=2)
    >>> births = childsim.to_frame(ds, "births")
    >>> list(births.columns)
    ['replicate', 'time', 'street', 'street_name', 'street_name_en', 'street_district', 'births']
    >>> len(births) == 2 * 3 * 10, births["time"].iloc[0], births.attrs["units"]
    (True, '2024-01', 'children')
    >>> int(births["births"].sum()) == int(ds["births"].sum())
    True
    """
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset, got {type(ds).__name__}")
    if not isinstance(variable, str):
        raise TypeError(f"variable must be a str, got {type(variable).__name__}")
    if variable not in ds.data_vars:
        known = ", ".join(sorted(ds.data_vars))
        raise KeyError(f"the run has no variable '{variable}'; it has: {known}")
    da = ds[variable]
    values = np.asarray(da.values)  # a lazy variable is read here, and only this one
    dims = list(da.dims)
    index = np.indices(values.shape).reshape(len(dims), -1) if dims else np.zeros((0, 1), int)
    columns = {}
    for axis, dim in enumerate(dims):
        coord = ds[dim].values if dim in ds.coords else np.arange(da.sizes[dim])
        columns[dim] = _column(np.asarray(coord)[index[axis]])
        if labels:
            for label in _labels_along(ds, dim):
                if label in columns or label == variable:
                    continue
                columns[label] = _column(np.asarray(ds[label].values)[index[axis]])
    columns[variable] = values.reshape(-1)
    frame = pd.DataFrame(columns)
    frame.attrs = {"variable": variable,
                   "units": str(da.attrs.get("units", "")),
                   "long_name": str(da.attrs.get("long_name", "")),
                   "description": str(da.attrs.get("description", ""))}
    return frame


def export_csv(ds, directory, variables=None):
    """Write a run as tidy CSV tables: ``directory/<variable>.csv`` and ``variables.csv``.

    Each table is :func:`to_frame` of one variable (UTF-8, a header row, no index column),
    written under a temporary name and renamed when complete. ``variables.csv`` lists the
    tables with each variable's dimensions, units, long name, description and row count.

    Parameters
    ----------
    ds : xarray.Dataset
        A run (eager or lazy).
    directory : str or os.PathLike
        Made if missing (its parent must exist); existing tables of the same names are
        replaced.
    variables : sequence of str, optional
        Those to write; default every data variable.

    Returns
    -------
    pandas.DataFrame
        ``variables.csv`` as written (index ``variable``).

    Examples
    --------
    >>> import childsim, tempfile, pathlib, pandas as pd
    >>> ds = childsim.run({"extends": "baseline.yaml", "population_scale": 0.05,
    ...                    "end": "2024-03"}, base_dir=childsim.find_root() / "scenarios")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     index = childsim.export_csv(ds, tmp, ["births", "population"])
    ...     back = pd.read_csv(pathlib.Path(tmp) / "births.csv")
    >>> index.loc["population", "dims"], index.loc["births", "units"]
    ('replicate time street age', 'children')
    >>> int(back["births"].sum()) == int(ds["births"].sum())
    True
    """
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset, got {type(ds).__name__}")
    if not isinstance(directory, (str, os.PathLike)):
        raise TypeError(f"directory must be a str or os.PathLike, got {type(directory).__name__}")
    names = list(ds.data_vars) if variables is None else list(variables)
    unknown = [v for v in names if v not in ds.data_vars]
    if unknown:
        raise KeyError(f"the run has no variable(s) {', '.join(unknown)}; it has: "
                       f"{', '.join(sorted(ds.data_vars))}")
    directory = Path(os.fspath(directory))
    if directory.exists() and not directory.is_dir():
        raise NotADirectoryError(f"output '{directory}' is not a directory")
    parent = directory.parent if str(directory.parent) else Path(".")
    if not directory.exists() and not parent.is_dir():
        raise FileNotFoundError(f"output directory '{directory}' cannot be made: '{parent}' "
                                f"does not exist")
    directory.mkdir(exist_ok=True)
    rows = []
    for name in names:
        frame = to_frame(ds, name)
        _write_csv(frame, directory / f"{name}.csv")
        rows.append({"variable": name, "file": f"{name}.csv", "dims": " ".join(ds[name].dims),
                     "units": frame.attrs["units"], "long_name": frame.attrs["long_name"],
                     "description": frame.attrs["description"], "rows": len(frame)})
    index = pd.DataFrame(rows, columns=["variable", "file", "dims", "units", "long_name",
                                        "description", "rows"]).set_index("variable")
    _write_csv(index.reset_index(), directory / "variables.csv")
    return index


def _write_csv(frame, path):
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        frame.to_csv(tmp, index=False, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def main(argv=None):
    """``childsim export OUT.h5 --csv DIR``: the command line (docs/research.md)."""
    import argparse

    from ._io import open_run

    parser = argparse.ArgumentParser(
        prog="childsim export",
        description="Write a run's variables as tidy long CSV tables (one per variable, a "
                    "column per dimension and its labels, then the value) and variables.csv "
                    "(units, long names). Parquet: no engine is packaged in Debian 12.")
    parser.add_argument("run", help="a result file of childsim run (.h5)")
    parser.add_argument("--csv", required=True, metavar="DIR",
                        help="directory of the tables (made if missing)")
    parser.add_argument("--variables", metavar="A,B,...",
                        help="only these variables (comma-separated); default all")
    args = parser.parse_args(argv)
    variables = None
    if args.variables:
        variables = [v.strip() for v in args.variables.split(",") if v.strip()]
    try:
        ds = open_run(args.run, chunks={})
        try:
            index = export_csv(ds, args.csv, variables)
        finally:
            ds.close()
    except KeyError as error:
        sys.stderr.write(f"error: {args.run}: {error.args[0]}\n")
        return 2
    except (OSError, ValueError) as error:
        sys.stderr.write(f"error: {error}\n")
        return 1
    print(f"Wrote {len(index)} table(s) and variables.csv to {args.csv} "
          f"({int(index['rows'].sum())} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
