"""The briefing's "What drives the result" section: sensitivity indices of sweeps.

``childsim compare BASE.h5 A.h5 --sensitivity SWEEP.h5 -o brief.html`` adds one section for
one or more files of ``childsim sweep`` (docs/research.md). A ``saltelli`` sweep gives Sobol
first-order and total indices with bootstrap intervals, a ``morris`` sweep gives mu*, mu and
sigma (:mod:`childsim.sensitivity`), for one output summary per sample
(:func:`childsim.sweep_output`): by default unmet nursery demand (``nursery_unmet``), the
district's monthly mean in 2030 (or the sweep's last year), averaged over the replicates.

A file that is not such a sweep is refused with a one-line :class:`SweepProblem` (turned
into ``childsim.SweepFileError`` by the briefing) before any page is written.
"""

import json
from pathlib import Path

import numpy as np

from ._checks import load_hdf5_input
from ._html import esc, figure_img, table

#: The output summarised when none is chosen (docs/research.md's study), if the sweep kept it.
DEFAULT_VARIABLE = "nursery_unmet"
#: The year summarised when none is chosen, if the sweep covers it (else its last year).
DEFAULT_YEAR = 2030
#: An interval wider than this (on a 0-1 share of variance) is called "wide".
WIDE = 0.3


class SweepProblem(ValueError):
    """A sweep file the briefing cannot use; ``path`` names it."""

    def __init__(self, message, path=None):
        super().__init__(message)
        self.path = path


def _error(message, path):
    return SweepProblem(message, path)


def parse_output(text):
    """``VARIABLE`` or ``VARIABLE:YEAR`` (``--sensitivity-output``) as (variable, year or None).

    Examples
    --------
    >>> from childsim._briefing_sensitivity import parse_output
    >>> parse_output("nursery_unmet:2030"), parse_output("births"), parse_output(None)
    (('nursery_unmet', 2030), ('births', None), (None, None))
    """
    if text is None:
        return None, None
    variable, _, year = str(text).partition(":")
    if not variable or (year and not year.isdigit()):
        raise _error(f"--sensitivity-output {text!r}: expected VARIABLE or VARIABLE:YEAR, "
                     f"e.g. nursery_unmet:2030", None)
    return variable, (int(year) if year else None)


def read_sweep(path):
    """Open a sweep file for the briefing, or raise SweepProblem naming the file."""
    what = "expected a file written by 'childsim sweep' with a saltelli or morris design"
    path, ds = load_hdf5_input(
        path, _error, missing=f"no such file ({what})", directory=f"is a directory ({what})",
        not_hdf5=f"not an HDF5 file ({what})",
        not_ours="an HDF5 file that is not a sweep ({first})")
    missing = [a for a in ("sweep_design", "sweep_parameters", "sweep_design_attrs")
               if a not in ds.attrs]
    if missing or "sample" not in ds.dims:
        what_missing = f"attribute '{missing[0]}'" if missing else "dimension 'sample'"
        raise _error(f"{path}: not a sweep (no {what_missing}; {what})", path)
    kind = ds.attrs["sweep_design"]
    if kind not in ("saltelli", "morris"):
        raise _error(f"{path}: a {kind} sweep has no sensitivity indices (expected a saltelli "
                     f"or morris design)", path)
    try:
        names = json.loads(ds.attrs["sweep_parameters"])
        json.loads(ds.attrs["sweep_design_attrs"])
    except (TypeError, ValueError):
        raise _error(f"{path}: attribute 'sweep_parameters' or 'sweep_design_attrs' is not "
                     f"valid JSON", path) from None
    absent = [n for n in names if n not in ds.coords and n not in ds]
    if absent:
        raise _error(f"{path}: not a sweep (no coordinate '{absent[0]}' for parameter "
                     f"'{absent[0]}')", path)
    ds.attrs["_briefing_file"] = str(path)
    return ds


def choose_output(ds, variable=None, year=None):
    """The (variable, year) summarised for a sweep; raises SweepProblem if it has neither."""
    path = ds.attrs.get("_briefing_file")
    candidates = [v for v in ds.data_vars
                  if "sample" in ds[v].dims and "time" in ds[v].dims]
    if variable is None:
        variable = DEFAULT_VARIABLE if DEFAULT_VARIABLE in candidates else (
            candidates[0] if candidates else None)
        if variable is None:
            raise _error(f"{path}: the sweep has no output with 'sample' and 'time' "
                         f"dimensions", path)
    elif variable not in candidates:
        raise _error(f"{path}: no output '{variable}' with 'sample' and 'time' dimensions in "
                     f"the sweep (it has: {', '.join(candidates) or 'none'})", path)
    years = np.unique(ds["time"].dt.year.values)
    if year is None:
        year = DEFAULT_YEAR if DEFAULT_YEAR in years else int(years[-1])
    elif year not in years:
        raise _error(f"{path}: the sweep does not cover {year} (it runs "
                     f"{int(years[0])}–{int(years[-1])})", path)
    return variable, int(year)


def sweep_sensitivity(ds, variable=None, year=None, *, bootstrap=1000):
    """Indices of one sweep for the briefing: (indices DataFrame, variable, year).

    Sobol indices are ranked by ST (largest first), Morris by mu*.

    Examples
    --------
    A Morris sweep of y = 5 a (the layout ``childsim sweep`` writes), summarised in 2030:

    >>> import json, numpy as np, pandas as pd, xarray as xr
    >>> from childsim.designs import morris
    >>> from childsim._briefing_sensitivity import sweep_sensitivity
    >>> d = morris({"a": (0, 1), "b": (0, 2)}, 4)
    >>> t = pd.date_range("2030-01-01", periods=12, freq="MS")
    >>> y = np.repeat(5 * d["a"].values[:, None], 12, axis=1)
    >>> ds = xr.Dataset({"nursery_unmet": (("sample", "time"), y)},
    ...                 coords={"sample": d.index.values, "time": t,
    ...                         **{k: ("sample", d[k].values) for k in d}},
    ...                 attrs={"sweep_design": "morris", "sweep_parameters": json.dumps(["a", "b"]),
    ...                        "sweep_design_attrs": json.dumps(d.attrs)})
    >>> indices, variable, year = sweep_sensitivity(ds)
    >>> list(indices.index), variable, year, round(float(indices["mu_star"].iloc[0]), 6)
    (['a', 'b'], 'nursery_unmet', 2030, 5.0)
    """
    from .sweeps import sweep_indices, sweep_output

    variable, year = choose_output(ds, variable, year)
    y = sweep_output(ds, variable, year)
    path = ds.attrs.get("_briefing_file")
    try:
        if ds.attrs["sweep_design"] == "saltelli":
            indices = sweep_indices(ds, y, bootstrap=bootstrap)
            indices = indices.sort_values("ST", ascending=False, kind="stable")
        else:
            indices = sweep_indices(ds, y)
    except ValueError as error:
        raise _error(f"{path}: no sensitivity indices for {variable} in {year} ({error})",
                     path) from None
    return indices, variable, year


def _share(x):
    """An index to two decimals, with a real minus sign and no "-0.00"."""
    text = f"{x:.2f}"
    return "0.00" if text == "-0.00" else text.replace("-", "\u2212")


def _interval(low, high):
    return f"{_share(low)} – {_share(high)}"


def _sobol_words(indices, variable, year):
    n = int(indices.attrs.get("base_samples", 0))
    top = list(indices.index)
    first = indices.iloc[0]
    words = [f"With {n} base samples, <b>{esc(top[0])}</b> drives the most of the variation in "
             f"{esc(variable)} in {year}: total index ST {_share(first['ST'])} "
             f"(95&nbsp;% interval {_interval(first['ST_low'], first['ST_high'])})"]
    if len(top) > 1:
        second = indices.iloc[1]
        words[0] += (f", then <b>{esc(top[1])}</b> (ST {_share(second['ST'])}, "
                     f"{_interval(second['ST_low'], second['ST_high'])}).")
        if first["ST_low"] > second["ST_high"]:
            words.append("Their intervals do not overlap, so the first place is clear.")
        else:
            words.append("Their intervals overlap, so the order between them is not settled.")
    else:
        words[0] += "."
    width = float(np.nanmax(indices["ST_high"] - indices["ST_low"]))
    if width > WIDE or n < 64:
        words.append(f"The intervals are wide (the widest spans {width:.2f}, for indices "
                     f"that run from 0 to 1): with "
                     f"so few samples only large differences are meaningful; run more samples "
                     f"(docs/research.md) before ranking the rest.")
    else:
        words.append(f"The intervals are at most {width:.2f} wide (indices run from 0 to 1).")
    interactions = indices["ST"] - indices["S1"]
    if float(interactions.max()) > 0.1:
        words.append(f"ST exceeds S1 by up to {float(interactions.max()):.2f}: part of the "
                     f"effect comes through interactions between parameters.")
    return " ".join(words)


def _morris_words(indices, variable, year):
    r = int(indices.attrs.get("trajectories", 0))
    top = list(indices.index)
    first = indices.iloc[0]
    text = (f"With {r} Morris trajectories, <b>{esc(top[0])}</b> moves {esc(variable)} in {year} "
            f"the most (mu* {first['mu_star']:.3g} over its whole range)")
    if len(top) > 1:
        text += f", then <b>{esc(top[1])}</b> (mu* {indices.iloc[1]['mu_star']:.3g})"
    text += (". Morris screening gives no confidence intervals; sigma (the spread of the "
             "effects) as large as mu* means the effect depends on the other parameters.")
    if r < 10:
        text += f" With only {r} trajectories the ranking is rough."
    return text


def _table(indices):
    if "ST" in indices:
        header = ["Parameter", ("Total index ST", "num"), ("95 % interval", "num"),
                  ("First order S1", "num"), ("95 % interval", "num")]
        rows = [[esc(p), (_share(r["ST"]), "num"), (_interval(r["ST_low"], r["ST_high"]), "num"),
                 (_share(r["S1"]), "num"), (_interval(r["S1_low"], r["S1_high"]), "num")]
                for p, r in indices.iterrows()]
    else:
        header = ["Parameter", ("mu*", "num"), ("mu", "num"), ("sigma", "num")]
        rows = [[esc(p), (f"{r['mu_star']:.3g}", "num"), (f"{r['mu']:.3g}", "num"),
                 (f"{r['sigma']:.3g}", "num")] for p, r in indices.iterrows()]
    return table(header, rows, raw=True, cls="sensitivity-table")


def section(sweeps, variable=None, year=None):
    """The HTML of the "What drives the result" section for already-read sweeps."""
    from .sensitivity import plot_sensitivity

    out = ['<section id="sensitivity"><h2>What drives the result</h2>',
           "<p>Which uncertain parameters move the result most, from parameter sweeps "
           "(<code>childsim sweep</code>, docs/research.md): each sample is an ensemble run "
           "with the parameters set as the design says. Sobol indices are shares of the "
           "output’s variance (S1: the parameter alone; ST: alone or with others); Morris "
           "mu* is the mean effect of moving a parameter over its whole range.</p>"]
    for ds in sweeps:
        indices, var, yr = sweep_sensitivity(ds, variable, year)
        file = Path(ds.attrs.get("_briefing_file", "sweep")).name
        kind = ds.attrs["sweep_design"]
        label = f"{var}, district monthly mean in {yr}"
        out.append(f"<h3>{esc(label)} — {esc(kind)} sweep {esc(file)} "
                   f"({ds.sizes['sample']} samples)</h3>")
        words = (_sobol_words if "ST" in indices else _morris_words)(indices, var, yr)
        out.append(f'<p class="sensitivity-words">{words}</p>')
        fig = plot_sensitivity(indices, title=label)
        out.append(figure_img(fig, f"Sensitivity of {label} to the swept parameters"))
        out.append(_table(indices))
    return "\n".join(out) + "</section>"
