"""_checks: argument checks shared by the public functions (clear TypeError / ValueError)."""

import numbers

import xarray as xr

__all__ = ["require_data", "require_dims", "require_variable", "require_quantiles"]


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
