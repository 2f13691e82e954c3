"""_checks: argument checks shared by the public functions (clear TypeError / ValueError)."""

import numbers
import os
from pathlib import Path

import xarray as xr

__all__ = ["require_data", "require_dims", "require_variable", "require_quantiles",
           "load_hdf5_input"]


def require_data(obj, name="ds"):
    """``obj`` must be an xarray Dataset or DataArray."""
    if not isinstance(obj, (xr.Dataset, xr.DataArray)):
        raise TypeError(
            f"{name} must be an xarray.Dataset or xarray.DataArray, got {type(obj).__name__}"
        )
    return obj


def require_dims(obj, dims, name="ds"):
    """``obj`` must have every dimension in ``dims``."""
    missing = [d for d in dims if d not in obj.dims]
    if missing:
        raise ValueError(f"{name} has no dimension {missing[0]!r} (its dimensions: {list(obj.dims)})")
    return obj


def require_variable(obj, variable, name="ds"):
    """The DataArray ``variable`` of a Dataset, or ``obj`` itself if it is a DataArray."""
    require_data(obj, name)
    if isinstance(obj, xr.DataArray):
        return obj
    if variable not in obj.data_vars:
        raise ValueError(f"{name} has no variable {variable!r} (it has: {list(obj.data_vars)})")
    return obj[variable]


def require_quantiles(q):
    """A tuple of floats in [0, 1]."""
    values = (q,) if isinstance(q, numbers.Real) else q
    try:
        values = tuple(values)
    except TypeError:
        raise TypeError(f"q must be a number or a sequence of numbers, got {type(q).__name__}") from None
    if not values:
        raise ValueError("q is empty")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"quantiles must be numbers, got {v!r}")
        if not 0 <= v <= 1:
            raise ValueError(f"quantiles must be in [0, 1], got {v}")
    return tuple(float(v) for v in values)


def load_hdf5_input(path, error, *, missing, directory, not_hdf5, not_ours):
    """Load a whole HDF5 input file, or raise ``error(message, path)`` saying what is wrong.

    The messages are ``"{path}: " +`` one of the given texts: ``missing`` (no such file),
    ``directory``, ``not_hdf5``, or ``not_ours`` formatted with ``first``, the first line of
    the reader's error (an HDF5 file xarray cannot open). What the dataset must hold is for the
    caller to check.

    Example
    -------
    >>> load_hdf5_input("nowhere.h5", ValueError, missing="no such file", directory="",
    ...                 not_hdf5="", not_ours="")
    Traceback (most recent call last):
    ...
    ValueError: ('nowhere.h5: no such file', PosixPath('nowhere.h5'))
    """
    import h5py

    path = Path(os.fspath(path))
    if not path.exists():
        raise error(f"{path}: {missing}", path)
    if path.is_dir():
        raise error(f"{path}: {directory}", path)
    try:
        is_hdf5 = h5py.is_hdf5(os.fspath(path))
    except OSError as reason:
        raise error(f"{path}: cannot be read ({reason.strerror or reason})", path) from None
    if not is_hdf5:
        raise error(f"{path}: {not_hdf5}", path)
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            return path, ds.load()
    except Exception as reason:  # h5netcdf/xarray raise many kinds
        first = str(reason).splitlines()[0] if str(reason) else type(reason).__name__
        raise error(f"{path}: " + not_ours.format(first=first), path) from None
