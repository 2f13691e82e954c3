"""_convert: the raw dataset structure of ``childsim._core`` to and from ``xarray.Dataset``.

``_core.run`` returns plain data (dimensions with coordinate arrays, variables with
dimensions, array and attributes, global attributes; see bindings/core_module.cpp) and
``_core.write_dataset`` accepts the same. Decoding goes through ``xarray.decode_cf``, the
function ``xarray.open_dataset`` itself uses, so a run from Python and the file the CLI
writes decode identically: ``time`` becomes datetime64 from its ``units``/``calendar``, and
the CF ``coordinates`` attribute turns ``street_name`` & co. into coordinates. Attribute values
take the types h5netcdf gives when reading a file (str, numpy.int64, numpy.float64, float64
arrays). Encoding reverses exactly this, so that a dataset from ``run`` or ``open_run`` is
written byte for byte as the CLI writes it.
"""

import numbers

import numpy as np
import xarray as xr

__all__ = ["dataset_from_raw", "raw_from_dataset"]


# --- decoding -----------------------------------------------------------------------------


def _attr_from_raw(value):
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return np.int64(value)
    if isinstance(value, float):
        return np.float64(value)
    if isinstance(value, list):
        return np.asarray(value, dtype=np.float64)
    raise TypeError(f"unexpected attribute value {value!r} from childsim._core")


def _attrs_from_raw(attrs):
    return {name: _attr_from_raw(value) for name, value in attrs.items()}


def _array_from_raw(data, shape):
    if isinstance(data, list):  # text, flat in row-major order
        array = np.empty(len(data), dtype=object)
        array[:] = data
        return array.reshape(shape)
    return data


def dataset_from_raw(raw):
    """An ``xarray.Dataset`` decoded from the raw structure of ``childsim._core``."""
    sizes = {d["name"]: len(d["values"]) for d in raw["dims"]}
    coords = {
        d["name"]: xr.Variable(
            (d["name"],),
            _array_from_raw(d["values"], (sizes[d["name"]],)),
            attrs=_attrs_from_raw(d["attrs"]),
        )
        for d in raw["dims"]
    }
    data_vars = {}
    for v in raw["variables"]:
        dims = tuple(v["dims"])
        shape = tuple(sizes[d] for d in dims)
        data_vars[v["name"]] = xr.Variable(
            dims, _array_from_raw(v["data"], shape), attrs=_attrs_from_raw(v["attrs"])
        )
    # One mapping, in the file's order (dimensions, auxiliary coordinates, data): a 1-D
    # variable named after its dimension becomes that dimension's index coordinate.
    encoded = xr.Dataset({**coords, **data_vars}, attrs=_attrs_from_raw(raw["attrs"]))
    return xr.decode_cf(encoded)


# --- encoding -----------------------------------------------------------------------------


def _attr_to_raw(owner, name, value):
    where = f"attribute {name!r} of {owner}"
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where}: booleans cannot be stored; use 0/1 or a string")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        array = np.asarray(value)
        if array.ndim == 1 and array.dtype.kind in "iuf":
            return [float(x) for x in array]
    raise TypeError(
        f"{where}: cannot be stored (str, int, float or a 1-D sequence of numbers), "
        f"got {type(value).__name__}"
    )


def _attrs_to_raw(owner, attrs):
    return {str(name): _attr_to_raw(owner, name, value) for name, value in attrs.items()}


def _data_to_raw(name, variable):
    values = variable.values
    kind = values.dtype.kind
    if kind in "OU":
        flat = values.ravel().tolist()
        bad = [x for x in flat if not isinstance(x, str)]
        if bad:
            raise TypeError(f"variable {name!r}: text arrays must hold only str, found {bad[0]!r}")
        return flat
    if values.dtype in (np.int32, np.int64, np.float64):
        return np.ascontiguousarray(values)
    raise TypeError(
        f"variable {name!r}: dtype {values.dtype} cannot be written (int32, int64, float64 or "
        f"str); convert it with .astype(...)"
    )


def _encoded(name, variable):
    """The variable as stored: datetimes as numbers with CF units (from its encoding)."""
    if variable.dtype.kind == "M":
        if "units" not in variable.encoding:
            raise ValueError(
                f"variable {name!r}: datetimes need CF units in .encoding['units'] "
                f"(e.g. 'days since 2024-01-01') to be written"
            )
        variable = xr.conventions.encode_cf_variable(variable, name=name)
    return variable


def _coordinates_along(ds, auxiliary, dims):
    """The CF ``coordinates`` of a variable over ``dims``: for each of its dimensions in
    order, the auxiliary coordinates along that dimension alone (in dataset order), then any
    along several of its dimensions — the rule of ``Recorder::to_dataset``."""
    along = [c for d in dims for c in auxiliary if ds[c].dims == (d,)]
    along += [c for c in auxiliary
              if ds[c].ndim > 1 and set(ds[c].dims) <= set(dims) and c not in along]
    return along


def raw_from_dataset(ds):
    """The raw structure of ``ds`` for ``childsim._core.write_dataset``.

    Index coordinates become dimensions (in ``ds.dims`` order), other coordinates come next
    and the data variables last; a data variable's CF ``coordinates`` attribute lists the
    non-index coordinates that lie along its dimensions. This is the layout of
    ``Recorder::to_dataset`` (sim/io/recorder.cpp), so that re-writing a run reproduces the
    CLI's file.
    """
    for name, variable in ds.variables.items():
        if variable.ndim == 0:
            raise ValueError(
                f"variable {name!r} has no dimensions (a scalar, e.g. left by .sel); "
                f"drop it with .drop_vars({name!r}) or keep the dimension with a list, "
                f".sel(dim=[value])"
            )
    missing = [d for d in ds.dims if d not in ds.indexes]
    if missing:
        raise ValueError(
            f"dimensions without a coordinate cannot be written: {missing}; "
            f"add one with .assign_coords({missing[0]}=...)"
        )
    dims = []
    for name in ds.dims:
        variable = _encoded(name, ds[name].variable)
        dims.append(
            {
                "name": str(name),
                "values": _data_to_raw(name, variable),
                "attrs": _attrs_to_raw(f"dimension {name!r}", variable.attrs),
            }
        )
    auxiliary = [name for name in ds.coords if name not in ds.dims]
    variables = []
    for name in auxiliary + list(ds.data_vars):
        variable = _encoded(name, ds[name].variable)
        attrs = dict(variable.attrs)
        if name in ds.data_vars:
            along = _coordinates_along(ds, auxiliary, variable.dims)
            if along:
                attrs["coordinates"] = " ".join(str(c) for c in along)
        variables.append(
            {
                "name": str(name),
                "dims": [str(d) for d in variable.dims],
                "data": _data_to_raw(name, variable),
                "attrs": _attrs_to_raw(f"variable {name!r}", attrs),
            }
        )
    return {"dims": dims, "variables": variables, "attrs": _attrs_to_raw("the dataset", ds.attrs)}
