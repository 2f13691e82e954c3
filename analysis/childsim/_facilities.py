"""_facilities: aligning runs whose facility lists differ (a what-if that opens a facility).

An outer join on the facility id: every run gets every facility, in the order of the first
run and then of the facilities the others add. A facility absent from a run has zero
capacity there, so its counts and costs are 0; rates and shares (float variables that are
not costs, e.g. ``holiday_fill``) are NaN, "not defined", as for a closed facility. The
facility's labels (kind, street, name, …) are taken from the run that has it.
"""

import numpy as np
import xarray as xr

__all__ = ["align_facilities"]

#: Float variables along ``facility`` that are amounts (0 when the facility is absent).
_AMOUNTS = ("facility_running_cost", "facility_capital_cost")


def align_facilities(objs):
    """The runs (Datasets or DataArrays) reindexed to the union of their facility ids.

    Examples
    --------
    >>> import xarray as xr
    >>> a = xr.Dataset({"facility_capacity": ("facility", [10, 20])},
    ...                coords={"facility": ["x", "y"], "facility_kind": ("facility", ["k", "k"])})
    >>> b = xr.Dataset({"facility_capacity": ("facility", [10, 20, 5])},
    ...                coords={"facility": ["x", "y", "new"],
    ...                        "facility_kind": ("facility", ["k", "k", "n"])})
    >>> a2, b2 = align_facilities([a, b])
    >>> a2["facility_capacity"].values.tolist(), a2["facility_kind"].values.tolist()
    ([10, 20, 0], ['k', 'k', 'n'])
    """
    objs = list(objs)
    have = [o for o in objs if "facility" in o.dims]
    if len(have) < 2:
        return objs
    ids = [list(o["facility"].values.astype(str)) for o in have]
    if all(i == ids[0] for i in ids):
        return objs
    union = list(ids[0])
    seen = set(union)
    for i in ids[1:]:
        for f in i:
            if f not in seen:
                union.append(f)
                seen.add(f)
    # Labels along facility, from whichever run has the facility.
    labels = {}
    for o in have:
        for name, coord in o.coords.items():
            if name != "facility" and coord.dims == ("facility",):
                values = labels.setdefault(name, {})
                for f, v in zip(o["facility"].values.astype(str), coord.values):
                    values.setdefault(f, v)
    return [_reindex(o, union, labels) if "facility" in o.dims else o for o in objs]


def _fill(name, da):
    if np.issubdtype(da.dtype, np.integer) or name in _AMOUNTS:
        return 0
    return np.nan


def _reindex(obj, union, labels):
    present = obj["facility"].values.astype(str)
    if list(present) == union:
        return obj
    plain = obj.drop_vars([n for n, c in obj.coords.items()
                           if n != "facility" and c.dims == ("facility",)])
    if isinstance(plain, xr.DataArray):
        out = plain.reindex(facility=union, fill_value=_fill(plain.name, plain))
    else:
        out = xr.Dataset(attrs=plain.attrs)
        for name, da in plain.data_vars.items():
            out[name] = (da.reindex(facility=union, fill_value=_fill(name, da))
                         if "facility" in da.dims else da)
        out = out.assign_coords({n: c for n, c in plain.coords.items() if n not in out.coords})
    coords = {}
    for name, values in labels.items():
        column = [values.get(f) for f in union]
        if all(v is not None for v in column):
            coords[name] = ("facility", np.array(column))
    return out.assign_coords(coords)
