#!/usr/bin/env python3
"""births_decomposition: why births change between two years, by fertility and cohort size.

Births in a year are B = sum over months and ages a of N(a) x rate(a), with N(a) the women
of age a and rate(a) the children born per woman and month (docs/model.md, 7.3): the
relative risks of parity and partnership are renormalised so that they do not change the
number. Writing N(a) = N x c(a) (the number of women 18-49 and their age composition), the
change from year y0 to y1 splits exactly (Kitagawa 1955, with means of the two years):

    dB = dN x sum c~ f~          (cohort size: how many women there are)
       + N~ x sum dc f~          (age composition: whether they are at the ages of high fertility)
       + sum (N c)~ x df         (fertility: the TFR path and the district level)

where ~ is the mean of the two years and f the annual rate (12 x the monthly one). The
simulated births differ from sum N f by Monte Carlo noise and because the women are counted
at the end of each month; the difference is printed as the residual.

Usage: tools/births_decomposition.py RUN.h5 [--from 2025] [--to 2035] [--path medium]
       (RUN.h5: a run of a scenario using the named TFR path, e.g. scenarios/baseline.yaml).
"""
import argparse
from pathlib import Path

import numpy as np
import xarray as xr
import yaml  # python3-yaml

ROOT = Path(__file__).resolve().parents[1]


def tfr_of_year(values, year):
    """Linear between the listed years, constant outside them (docs/model.md, 7.3)."""
    years = sorted(values)
    return float(np.interp(year, years, [values[y] for y in years]))


def decompose(ds, fertility, path, y0, y1):
    shape = np.asarray(fertility["asfr_shape"]["values"], dtype=float)
    shape = shape / shape.sum()
    values = {int(k): float(v) for k, v in fertility["tfr_paths"][path]["values"].items()}
    par = ds["parameter_value"].isel(replicate=0)
    level = float(par.sel(parameter="fertility.district_level")) * float(
        par.sel(parameter="fertility.tfr_multiplier"))
    year = ds["time"].dt.year
    women = ds["women"].sum("street").groupby(year).mean("time").mean("replicate")
    births = ds["births"].sum("street").groupby(year).sum("time").mean("replicate")
    out = {}
    parts = {}
    for y in (y0, y1):
        n_a = women.sel(year=y).values.astype(float)
        f = level * tfr_of_year(values, y) * shape  # children per woman and year
        parts[y] = (n_a.sum(), n_a / n_a.sum(), f)
        out[f"births_{y}"] = float(births.sel(year=y))
        out[f"implied_{y}"] = float((n_a * f).sum())
        out[f"women_{y}"] = float(n_a.sum())
        out[f"mean_age_{y}"] = float((n_a * (np.arange(18, 50) + 0.5)).sum() / n_a.sum())
    (n0, c0, f0), (n1, c1, f1) = parts[y0], parts[y1]
    nm, cm, fm = (n0 + n1) / 2, (c0 + c1) / 2, (f0 + f1) / 2
    out["size"] = float((n1 - n0) * (cm * fm).sum())
    out["composition"] = float(nm * ((c1 - c0) * fm).sum())
    out["fertility"] = float((nm * cm * (f1 - f0)).sum())
    out["residual"] = (out[f"births_{y1}"] - out[f"births_{y0}"]) - (
        out["size"] + out["composition"] + out["fertility"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("--from", dest="y0", type=int, default=2025)
    ap.add_argument("--to", dest="y1", type=int, default=2035)
    ap.add_argument("--path", default="medium")
    a = ap.parse_args()
    fertility = yaml.safe_load((ROOT / "scenarios/changning/fertility.yaml").read_text())
    ds = xr.open_dataset(a.run, engine="h5netcdf")
    r = decompose(ds, fertility, a.path, a.y0, a.y1)
    d = r[f"births_{a.y1}"] - r[f"births_{a.y0}"]
    print(f"births {a.y0}: {r[f'births_{a.y0}']:,.0f} (sum N f: {r[f'implied_{a.y0}']:,.0f}); "
          f"{a.y1}: {r[f'births_{a.y1}']:,.0f} (sum N f: {r[f'implied_{a.y1}']:,.0f}); "
          f"change {d:+,.0f} ({100 * d / r[f'births_{a.y0}']:+.1f} %)")
    print(f"women 18-49: {r[f'women_{a.y0}']:,.0f} -> {r[f'women_{a.y1}']:,.0f}; "
          f"mean age {r[f'mean_age_{a.y0}']:.1f} -> {r[f'mean_age_{a.y1}']:.1f}")
    for k in ("size", "composition", "fertility", "residual"):
        print(f"  {k:12s} {r[k]:+8,.0f}  ({100 * r[k] / r[f'births_{a.y0}']:+.1f} % of {a.y0})")


if __name__ == "__main__":
    main()
