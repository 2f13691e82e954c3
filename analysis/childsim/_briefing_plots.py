"""_briefing_plots: the figures of the briefing — district series with 90 % ensemble bands,
one colour per scenario, and the map-like panel of the ten streets.

Every function takes the runs as an ordered mapping ``name -> xarray.Dataset`` (the first is
the baseline) and a mapping ``name -> colour``, and returns a ``matplotlib.figure.Figure``
made without ``pyplot``. Style settings are applied with ``matplotlib.rc_context`` around
each figure, so nothing global is left changed.
"""

import contextlib
import os

import numpy as np
import xarray as xr

__all__ = ["PALETTE", "scenario_colours", "find_cjk_font", "district", "capacity",
           "band_figure", "holiday_figure", "dorling_layout", "street_map_figure",
           "short_street_name", "yearly", "in_months"]

#: Scenario colours: the baseline is always the first (dark grey); what-ifs follow.
PALETTE = ["#3b3b3b", "#1f6fb4", "#d9730d", "#2a9d5c", "#8e44ad", "#c0392b", "#17a2b8",
           "#b08d00", "#e377c2", "#7f7f7f"]

#: Quantiles of the bands (a 90 % band over replicates) ...
BAND = (0.05, 0.95)
#: ... drawn only with at least this many replicates; with fewer, a band is the min–max and
#: the page calls it a "range over N replicates" (5 % and 95 % quantiles of 4 numbers are
#: not a 90 % band).
MIN_REPLICATES_FOR_BAND = 20


def band_quantiles(n):
    """The quantiles a band over ``n`` replicates is drawn between."""
    return BAND if n >= MIN_REPLICATES_FOR_BAND else (0.0, 1.0)

_CJK_FILES = ("wqy-microhei", "wqy-zenhei", "NotoSansCJK", "NotoSerifCJK", "SourceHanSans",
              "DroidSansFallback", "uming", "ukai")


def scenario_colours(names):
    """Colours by scenario name, in order (the baseline first)."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def find_cjk_font():
    """A font file that has Chinese glyphs, or None.

    Looks among the system fonts matplotlib finds (fontconfig's directories) for the usual
    Debian CJK fonts (``fonts-wqy-microhei``, ``fonts-noto-cjk``, …).
    """
    from matplotlib import font_manager

    found = []
    for path in font_manager.findSystemFonts():
        name = os.path.basename(path)
        for rank, pattern in enumerate(_CJK_FILES):
            if pattern.lower() in name.lower():
                found.append((rank, "Regular" not in name and "Mono" in name, path))
    if not found:
        return None
    return sorted(found)[0][2]


@contextlib.contextmanager
def _style(cjk_font):
    import matplotlib
    from matplotlib import font_manager

    families = ["DejaVu Sans"]
    if cjk_font:
        font_manager.fontManager.addfont(cjk_font)  # idempotent; lets text fall back to it
        families.append(font_manager.FontProperties(fname=cjk_font).get_name())
    rc = {
        # The families themselves, not "sans-serif" with them as its list: matplotlib 3.6
        # (Debian 12) falls back glyph by glyph only along a list given as font.family; with
        # the generic alias, Chinese text (the monitoring report's titles) lost its glyphs.
        "font.family": families,
        "font.sans-serif": families,
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "legend.frameon": False,
        "legend.fontsize": 9,
        "axes.unicode_minus": True,
    }
    with matplotlib.rc_context(rc):
        yield


def _figure(width, height, ncols=1, nrows=1, legend=None):
    """A constrained-layout figure with a grid of axes and, when ``legend`` (a mapping
    label -> colour) is given, a thin row above them holding the scenarios' legend."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    extra = 0.4 if legend else 0.0
    fig = Figure(figsize=(width, height + extra), layout="constrained")
    if not legend:
        return fig, fig.subplots(nrows, ncols, squeeze=False)
    grid = fig.add_gridspec(nrows + 1, ncols, height_ratios=[extra] + [height / nrows] * nrows)
    key = fig.add_subplot(grid[0, :])
    key.set_axis_off()
    handles = [Line2D([], [], color=c, linewidth=2.4, label=n) for n, c in legend.items()]
    key.legend(handles=handles, loc="center", ncol=min(len(handles), 7), frameon=False,
               fontsize=9.5, handlelength=1.8, columnspacing=1.6)
    axes = np.array([[fig.add_subplot(grid[r + 1, c]) for c in range(ncols)] for r in range(nrows)])
    return fig, axes


def district(ds, name, *, inside_only=True):
    """A variable summed over streets (or facilities in the district): (replicate, time)."""
    da = ds[name]
    if "facility" in da.dims and inside_only and "facility_street" in da.coords:
        da = da.where(da["facility_street"] != "outside", 0)
    other = [d for d in da.dims if d not in ("replicate", "time")]
    return da.sum(other).astype(np.float64)


def _services(ds):
    kinds = dict(zip(ds["kind"].values.astype(str), ds["kind_service"].values.astype(str)))
    return np.array([kinds.get(k, "") for k in ds["facility_kind"].values.astype(str)])


def capacity(ds, *, service=None, kind_contains=None):
    """District capacity of the facilities of a service (or kinds whose id contains a word):
    (time,)."""
    cap = ds["facility_capacity"]
    mask = ds["facility_street"].values.astype(str) != "outside"
    if service is not None:
        mask &= _services(ds) == service
    if kind_contains is not None:
        mask &= np.char.find(ds["facility_kind"].values.astype(str), kind_contains) >= 0
    return cap.isel(facility=np.flatnonzero(mask)).sum("facility").astype(np.float64)


def _baseline_last(items):
    """Scenarios in drawing order: the what-ifs, then the baseline on top (where a what-if
    equals the baseline, the baseline's line shows)."""
    items = list(items.items()) if hasattr(items, "items") else list(items)
    return items[1:] + items[:1]


def _plot_band(ax, da, colour, label=None, linestyle="-"):
    times = da["time"].values
    mean = da.mean("replicate")
    if da.sizes["replicate"] > 1:
        low, high = (da.quantile(q, "replicate") for q in band_quantiles(da.sizes["replicate"]))
        ax.fill_between(times, low.values, high.values, color=colour, alpha=0.18, linewidth=0)
    ax.plot(times, mean.values, color=colour, linewidth=1.8, linestyle=linestyle, label=label)


def _date_axis(ax):
    import matplotlib.dates as mdates

    ax.xaxis.set_major_locator(mdates.YearLocator(2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))


def band_figure(runs, colours, panels, *, cjk_font=None, height=3.4, legend=True, ncols=None,
                baseline_last=True):
    """One row of panels of district series over time, a line and band per scenario.

    Parameters
    ----------
    runs : Mapping[str, xarray.Dataset]
    colours : Mapping[str, str]
    legend : bool, default True
        A row above the panels with each scenario's colour.
    ncols : int, optional
        Panels per row (default: all in one row); ``height`` is per row.
    baseline_last : bool, default True
        Draw the first run (the baseline) last, on top of the others.
    panels : list of dict
        Each: ``title``, ``ylabel``, ``series`` (function ds -> DataArray (replicate, time)),
        optional ``capacity`` (function ds -> DataArray (time,), drawn dashed).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.lines import Line2D

    with _style(cjk_font):
        ncols = ncols or len(panels)
        nrows = -(-len(panels) // ncols)
        fig, axes = _figure(12, height * nrows, ncols=ncols, nrows=nrows,
                            legend={n: colours[n] for n in runs} if legend else None)
        for ax in axes.flat[len(panels):]:
            ax.set_visible(False)
        for ax, panel in zip(axes.flat, panels):
            for name, ds in (_baseline_last(runs) if baseline_last else runs.items()):
                if panel.get("capacity") is not None:
                    cap = panel["capacity"](ds)
                    ax.plot(cap["time"].values, cap.values, color=colours[name], linewidth=1.3,
                            linestyle=(0, (4, 2)), drawstyle="steps-post")
                _plot_band(ax, panel["series"](ds), colours[name], label=name)
            ax.set_title(panel["title"])
            ax.set_ylabel(panel["ylabel"])
            ax.set_ylim(bottom=0)
            _date_axis(ax)
            if panel.get("capacity") is not None:
                ax.legend(handles=[Line2D([], [], color="#555", linewidth=1.8, label=panel.get("solid", "demand")),
                                   Line2D([], [], color="#555", linewidth=1.3, linestyle=(0, (4, 2)),
                                          label=panel.get("dashed", "places"))],
                          loc="lower left")
        return fig


def holiday_figure(runs, colours, rows, *, cjk_font=None, legend=True):
    """Holiday classes by year: a row per window (summer, winter), panels of yearly points
    with 90 % whiskers, a line per scenario.

    ``rows`` is a list of dicts with ``label`` and ``panels`` (each: ``title``, ``ylabel``,
    ``series`` (ds -> DataArray (replicate, year)) and optional ``capacity`` (ds ->
    DataArray (year,), drawn dashed)).
    """
    n = max(len(r["panels"]) for r in rows)
    with _style(cjk_font):
        fig, axes = _figure(12, 3.0 * len(rows), ncols=n, nrows=len(rows),
                            legend={name: colours[name] for name in runs} if legend else None)
        offsets = np.linspace(-0.18, 0.18, len(runs)) if len(runs) > 1 else [0.0]
        for row, row_axes in zip(rows, axes):
            for ax, panel in zip(row_axes, row["panels"]):
                for offset, (name, ds) in _baseline_last(list(zip(offsets, runs.items()))):
                    colour = colours[name]
                    if panel.get("capacity") is not None:
                        cap = panel["capacity"](ds)
                        ax.plot(cap["year"].values, cap.values, color=colour, linewidth=1.2,
                                linestyle=(0, (4, 2)))
                    da = panel["series"](ds)
                    years = da["year"].values
                    mean = da.mean("replicate").values
                    ax.plot(years + offset, mean, color=colour, marker="o", markersize=3.5,
                            linewidth=1.4, label=name)
                    if da.sizes["replicate"] > 1:
                        q = band_quantiles(da.sizes["replicate"])
                        low = da.quantile(q[0], "replicate").values
                        high = da.quantile(q[1], "replicate").values
                        ax.vlines(years + offset, low, high, color=colour, linewidth=1.0, alpha=0.7)
                ax.set_title(panel["title"])
                ax.set_ylabel(panel["ylabel"])
                ax.set_ylim(bottom=0)
                ax.xaxis.get_major_locator().set_params(integer=True)
                if panel.get("capacity") is not None:
                    from matplotlib.lines import Line2D

                    ax.legend(handles=[
                        Line2D([], [], color="#555", marker="o", markersize=3.5, linewidth=1.4,
                               label=panel.get("solid", "pupils seeking a place")),
                        Line2D([], [], color="#555", linewidth=1.2, linestyle=(0, (4, 2)),
                               label=panel.get("dashed", "places per session"))],
                        loc="best")
        return fig


def short_street_name(english):
    """'Huayanglu Road Subdistrict' -> 'Huayanglu'."""
    text = str(english)
    for suffix in (" Road Subdistrict", " Subdistrict", " Town", " Road"):
        if text.endswith(suffix):
            return text[: -len(suffix)]
    return text


def dorling_layout(x, y, radius, *, gap=60.0, iterations=400):
    """Circle centres near (x, y) that do not overlap (a Dorling cartogram's relaxation).

    Overlapping circles are pushed apart along the line joining them, and every circle is
    pulled gently back towards its true centre; deterministic.

    Parameters
    ----------
    x, y, radius : array-like
        Centres and radii (metres).
    gap : float
        Space kept between circles (metres).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The new centres.
    """
    px, py = np.array(x, float), np.array(y, float)
    x0, y0 = px.copy(), py.copy()
    r = np.asarray(radius, float)
    n = len(px)
    for _ in range(iterations):
        moved = False
        for i in range(n):
            for j in range(i + 1, n):
                dx, dy = px[j] - px[i], py[j] - py[i]
                d = float(np.hypot(dx, dy))
                need = r[i] + r[j] + gap
                if d < need:
                    if d < 1e-9:
                        dx, dy, d = 1.0, 0.0, 1.0
                    push = (need - d) / 2.0
                    ux, uy = dx / d, dy / d
                    px[i] -= ux * push
                    py[i] -= uy * push
                    px[j] += ux * push
                    py[j] += uy * push
                    moved = True
        px += (x0 - px) * 0.02
        py += (y0 - py) * 0.02
        if not moved and _ > 50:
            break
    return px, py


def street_map_figure(ds, panels, *, cjk_font=None, ncols=2, height=4.4):
    """The ten streets as circles (area proportional to the street's), coloured by a value.

    Circles stand near the street centres (``street_x``, ``street_y``), moved apart just
    enough not to overlap (:func:`dorling_layout`), and are labelled with the Chinese and
    English names and the value.

    Parameters
    ----------
    ds : xarray.Dataset
        A run (street coordinates ``street_x``, ``street_y``, ``street_area``, names).
    panels : list of dict
        Each: ``title``, ``values`` (DataArray over ``street``), ``cmap``, ``fmt`` (a function
        value -> label text), ``label`` (colour-bar label), optional ``vmin``, ``vmax``.
    ncols : int, default 2
        Panels per row; ``height`` is per row (inches).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib
    from matplotlib import cm, colors
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import Circle

    x = ds["street_x"].values.astype(float)
    y = ds["street_y"].values.astype(float)
    area = ds["street_area"].values.astype(float) if "street_area" in ds.coords else np.ones(len(x))
    radius = np.sqrt(area * 1e6 / np.pi) * 0.85
    cx, cy = dorling_layout(x, y, radius)
    zh = ds["street_name"].values.astype(str) if "street_name" in ds.coords else None
    en = [short_street_name(s) for s in (ds["street_name_en"].values if "street_name_en" in ds.coords
                                         else ds["street"].values)]
    font = FontProperties(fname=cjk_font, size=9) if cjk_font else FontProperties(size=9)
    nrows = -(-len(panels) // ncols)
    with _style(cjk_font):
        fig, axes = _figure(12, height * nrows, ncols=ncols, nrows=nrows)
        for ax in axes.flat[len(panels):]:
            ax.set_visible(False)
        for ax, panel in zip(axes.flat, panels):
            values = panel["values"].values.astype(float)
            finite = values[np.isfinite(values)]
            vmin = panel.get("vmin", float(finite.min()) if finite.size else 0.0)
            vmax = panel.get("vmax", float(finite.max()) if finite.size else 1.0)
            if vmax <= vmin:
                vmax = vmin + 1.0
            norm = colors.Normalize(vmin=vmin, vmax=vmax)
            cmap = matplotlib.colormaps[panel.get("cmap", "YlOrRd")]
            for i in range(len(x)):
                face = cmap(norm(values[i])) if np.isfinite(values[i]) else "#dddddd"
                ax.add_patch(Circle((cx[i], cy[i]), radius[i], facecolor=face, edgecolor="#333",
                                    linewidth=0.8))
                name = f"{zh[i]}\n{en[i]}" if zh is not None and cjk_font else en[i]
                dark = np.isfinite(values[i]) and norm(values[i]) > 0.55
                ax.text(cx[i], cy[i], f"{name}\n{panel['fmt'](values[i])}", ha="center",
                        va="center", fontproperties=font,
                        color="white" if dark else "#111", linespacing=1.2)
            pad = radius.max() * 1.05
            ax.set_xlim(cx.min() - pad, cx.max() + pad)
            ax.set_ylim(cy.min() - pad, cy.max() + pad)
            ax.set_aspect("equal")
            ax.set_axis_off()
            ax.set_title(panel["title"])
            sm = cm.ScalarMappable(norm=norm, cmap=cmap)
            bar = fig.colorbar(sm, ax=ax, shrink=0.8, pad=0.01)
            bar.set_label(panel.get("label", ""))
        return fig


def yearly(da, how):
    """(replicate, time) -> (replicate, year): ``"mean"`` of the months or ``"sum"``."""
    years = da["time"].dt.year.rename("year")
    grouped = da.groupby(years)
    return grouped.mean() if how == "mean" else grouped.sum()


def in_months(da, months, how="mean"):
    """(replicate, time) -> (replicate, year) over the given calendar months only (NaN when
    a year has none of them in the run)."""
    all_years = np.unique(da["time"].dt.year.values)
    picked = da.where(da["time"].dt.month.isin(months), drop=True)
    if picked.sizes["time"] == 0:
        return xr.DataArray(np.full((da.sizes["replicate"], len(all_years)), np.nan),
                            dims=("replicate", "year"),
                            coords={"replicate": da["replicate"].values, "year": all_years})
    out = yearly(picked, how)
    return out.reindex(year=all_years)
