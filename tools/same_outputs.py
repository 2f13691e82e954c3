"""same_outputs: are two childsim output files the same results, array for array and byte for byte?

A change meant to make the program faster must not change what it computes (issue #14). Two
builds of different commits never write the same bytes, because each file records the commit
it was written by; this script compares everything else: the set of arrays, each array's
dtype, shape and bytes, and every attribute of the file and of each array, except the
attributes that name the program build (`git_commit`, `program`, `version`) and the time the
file was written (`created`, unless SOURCE_DATE_EPOCH fixed it for both).

Usage:

    /usr/bin/python3 tools/same_outputs.py before.h5 after.h5 [more pairs ...]

Exits 0 when every pair is the same, 1 (listing the first differences) otherwise.

Example (the program before and after a change, one replicate of the baseline):

    SOURCE_DATE_EPOCH=0 old/childsim run scenarios/baseline.yaml -o /tmp/a.h5 -q --replicates 1
    SOURCE_DATE_EPOCH=0 build/release/sim/childsim run scenarios/baseline.yaml -o /tmp/b.h5 -q \
        --replicates 1
    /usr/bin/python3 tools/same_outputs.py /tmp/a.h5 /tmp/b.h5
"""
import sys

import h5py
import numpy as np

BUILD_ATTRIBUTES = {"git_commit", "program", "version", "created"}


def _attributes(obj):
    out = {}
    for key, value in obj.attrs.items():
        if key in BUILD_ATTRIBUTES or key == "DIMENSION_LIST" or key == "REFERENCE_LIST":
            continue
        out[key] = np.asarray(value).tobytes() if not isinstance(value, (str, bytes)) else value
    return out


def _same_values(x, y):
    # Strings come back as arrays of Python objects, whose bytes are pointers: compare values.
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype == object:
        return x.tolist() == y.tolist()
    return x.tobytes() == y.tobytes()


def differences(path_a, path_b, limit=10):
    """The first `limit` differences between two output files, as sentences (empty: the same)."""
    found = []
    with h5py.File(path_a, "r") as a, h5py.File(path_b, "r") as b:
        names_a, names_b = [], []
        a.visit(names_a.append)
        b.visit(names_b.append)
        if sorted(names_a) != sorted(names_b):
            only_a = sorted(set(names_a) - set(names_b))
            only_b = sorted(set(names_b) - set(names_a))
            found.append(f"objects only in the first: {only_a[:5]}, only in the second: {only_b[:5]}")
        if _attributes(a) != _attributes(b):
            found.append("the files' attributes differ")
        for name in sorted(set(names_a) & set(names_b)):
            x, y = a[name], b[name]
            if isinstance(x, h5py.Dataset) and isinstance(y, h5py.Dataset):
                if x.dtype != y.dtype or x.shape != y.shape:
                    found.append(f"{name}: {x.dtype}{x.shape} against {y.dtype}{y.shape}")
                elif not _same_values(x[()], y[()]):
                    found.append(f"{name}: values differ")
            if _attributes(x) != _attributes(y):
                found.append(f"{name}: attributes differ")
            if len(found) >= limit:
                break
    return found


def main(argv):
    if len(argv) < 2 or len(argv) % 2:
        print(__doc__)
        return 2
    status = 0
    for path_a, path_b in zip(argv[0::2], argv[1::2]):
        diff = differences(path_a, path_b)
        if diff:
            status = 1
            print(f"DIFFERENT {path_a} {path_b}")
            for line in diff:
                print("  " + line)
        else:
            print(f"same      {path_a} {path_b}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
