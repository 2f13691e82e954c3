"""testing: checking that two runs are the same, bit for bit (for users' tests, and ours).

A scenario run twice with the same seed — by the CLI or from Python, with any number of
threads — must give identical outputs (DESIGN.md decision 1). ``assert_runs_equal``
checks exactly that, more strictly than ``xarray.testing.assert_identical``: dtypes and
the types of attribute values must match too, and floating-point values are compared by
their bits.
"""

import numpy as np
import xarray as xr

__all__ = ["assert_runs_equal"]


def _same_value(x, y):
    if type(x) is not type(y):
        return False
    if isinstance(x, np.ndarray):
        return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
    if isinstance(x, (np.floating, float)):
        return np.array(x).tobytes() == np.array(y).tobytes()
    return bool(x == y)


def _compare_attrs(where, a, b, ignore, problems):
    for name in sorted(set(a) | set(b)):
        if name in ignore:
            continue
        if name not in a or name not in b:
            problems.append(f"{where}: attribute {name!r} only in {'a' if name in a else 'b'}")
        elif not _same_value(a[name], b[name]):
            problems.append(f"{where}: attribute {name!r} differs: {a[name]!r} != {b[name]!r}")


def _same_array(x, y):
    if x.dtype != y.dtype or x.shape != y.shape:
        return False
    if x.dtype.kind == "O":
        return all(type(p) is type(q) and p == q for p, q in zip(x.ravel(), y.ravel()))
    return np.ascontiguousarray(x).tobytes() == np.ascontiguousarray(y).tobytes()


def assert_runs_equal(a, b, *, ignore_attrs=("created",)):
    """Assert that two runs are identical, bit for bit.

    Compares the sets of coordinates and data variables, and for each its dimensions,
    dtype, values (by their bytes; text element by element) and attributes (value and type),
    and the global attributes. Encodings (chunking, compression, source file) are not
    compared.

    Parameters
    ----------
    a, b : xarray.Dataset
    ignore_attrs : iterable of str, default ("created",)
        Global attributes not to compare (``created`` is the date of the run).

    Raises
    ------
    AssertionError
        Listing every difference found.

    Examples
    --------
    >>> import childsim
    >>> quick = {"extends": "baseline.yaml", "population_scale": 0.1, "end": "2024-06"}
    >>> scenarios = childsim.find_root() / "scenarios"
    >>> one = childsim.run(quick, base_dir=scenarios, threads=1)
    >>> two = childsim.run(quick, base_dir=scenarios, threads=2)
    >>> childsim.testing.assert_runs_equal(one, two)
    """
    for name, obj in (("a", a), ("b", b)):
        if not isinstance(obj, xr.Dataset):
            raise TypeError(f"{name} must be an xarray.Dataset, got {type(obj).__name__}")
    ignore = set(ignore_attrs)
    problems = []
    for kind, names_a, names_b in (
        ("coordinate", set(a.coords), set(b.coords)),
        ("data variable", set(a.data_vars), set(b.data_vars)),
    ):
        for name in sorted(names_a ^ names_b, key=str):
            problems.append(f"{kind} {name!r} only in {'a' if name in names_a else 'b'}")
    for name in [n for n in a.variables if n in b.variables]:
        va, vb = a.variables[name], b.variables[name]
        where = f"variable {name!r}"
        if va.dims != vb.dims:
            problems.append(f"{where}: dimensions {va.dims} != {vb.dims}")
        elif va.dtype != vb.dtype:
            problems.append(f"{where}: dtype {va.dtype} != {vb.dtype}")
        elif not _same_array(va.values, vb.values):
            problems.append(f"{where}: values differ")
        _compare_attrs(where, va.attrs, vb.attrs, set(), problems)
    _compare_attrs("dataset", a.attrs, b.attrs, ignore, problems)
    if problems:
        raise AssertionError("runs differ:\n  " + "\n  ".join(problems))
