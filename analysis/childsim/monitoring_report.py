"""monitoring_report: the annual monitoring report — one self-contained HTML page.

Sections: the findings in words; each observed figure against the range projected for it
the year before (flags in plain words); the updated projection to 2035 with the previous
one; the plan's targets with their updated probabilities; what changed since last year's
report; what the observations say about the uncertain parameters; method, caveats and
sources. Each section is one function returning its HTML (:data:`SECTIONS`).
"""

import datetime
import os
from pathlib import Path

import numpy as np

from ._html import PAGE_CSS, esc, figure_img, fmt_count, fmt_share, table
from .observations import DISTRICT, INDICATORS

__all__ = ["build_report", "write_report", "check_output", "SECTIONS"]


def _names(result):
    ds = result.ensemble
    names = {DISTRICT: "District"}
    if "street_name_en" in ds.coords:
        for s, en, zh in zip(ds.street.values, ds.street_name_en.values, ds.street_name.values):
            short = str(en).replace(" Subdistrict", "").replace(" Town", "")
            names[str(s)] = f"{short} {zh}"
    return names


def _flag_cell(flag):
    if flag == "above":
        return '<span class="status s-not">above range</span>'
    if flag == "below":
        return '<span class="status s-late">below range</span>'
    return '<span class="status s-met">within range</span>'


def section_summary(result):
    """The findings in a few sentences."""
    obs = result.observations
    flagged = result.flags
    latest = result.latest
    parts = [f"<p><b>{len(obs)}</b> observed figure(s) for "
             f"{esc(', '.join(str(y) for y in sorted(obs.year.unique())))} were set against "
             f"the ranges the model projected for them before they were known. "]
    if flagged.empty:
        parts.append("All fall within their projected ranges: the projection needs no "
                      "review beyond the update below.</p>")
    else:
        parts.append(f"<b>{len(flagged)}</b> fall outside and call for a review:</p><ul>")
        parts += [f"<li>{esc(m)}</li>" for m in flagged.message]
        parts.append("</ul>")
    parts.append(f"<p>The projection below is conditioned on every figure up to {esc(latest)} "
                 f"(effective sample size {result.ess.iloc[-1]:.0f} of "
                 f"{result.ensemble.sizes['replicate']} replicates).</p>")
    warn = "".join(f'<div class="warn">{esc(w)}</div>' for w in result.warnings)
    return ('<h2 id="summary">Findings</h2><div class="lead">' + "".join(parts) + "</div>"
            + warn)


def section_observed(result):
    """Each observed figure against the range projected for it."""
    names = _names(result)
    rows = []
    obs = result.observations.sort_values(["year", "indicator", "street"],
                                          key=lambda c: c.map(lambda v: (v != DISTRICT, v))
                                          if c.name == "street" else c)
    for r in obs.itertuples(index=False):
        rows.append([
            esc(r.year), esc(INDICATORS[r.indicator].label), esc(names.get(r.street, r.street)),
            (f"{fmt_count(r.value)} <span class='ci'>± {fmt_count(r.sd)}</span>", "num"),
            (f"{fmt_count(r.median)} <span class='ci'>({fmt_count(r.low)}–"
             f"{fmt_count(r.high)})</span>", "num"),
            esc("prior" if r.judged_by == "prior" else f"to {r.judged_by}"),
            _flag_cell(r.flag),
        ])
    return ('<h2 id="observed">Observed against projected</h2>'
            "<p>Each figure is compared with the 5–95 % range that the projection made "
            "<em>before</em> it was known (conditioned on the earlier years' figures, or on "
            "none for the first year): the model's own uncertainty plus the figure's stated "
            "error (±, one standard deviation). One figure in ten falls outside its range by "
            "chance; several in one street or one indicator are a signal.</p>"
            + table(["year", "indicator", "area", "observed", "projected median (5–95 %)",
                     "projected with figures", "status"], rows, raw=True))


def _projection_figure(result):
    from ._briefing_plots import _figure, _style, find_cjk_font

    proj = result.projection
    names = list(proj.data_vars)
    vintages = [result.previous, result.latest] if result.previous != result.latest else \
        [result.latest]
    colours = {str(result.previous): "#8c959f", str(result.latest): "#0b5cad"}
    obs = result.observations
    ncols = 2
    nrows = (len(names) + 1) // 2
    with _style(find_cjk_font()):
        fig, axes = _figure(11, 3.0 * nrows, ncols=ncols, nrows=nrows)
        for ax, name in zip(axes.flat, names):
            da = proj[name].sel(area=DISTRICT)
            years = da.year.values
            for v in vintages:
                q = da.sel(vintage=v)
                label = "prior (no figures)" if v == "prior" else f"with figures to {v}"
                c = colours[str(v)]
                ax.fill_between(years, q.sel(quantile=0.05), q.sel(quantile=0.95), color=c,
                                alpha=0.25, linewidth=0)
                ax.plot(years, q.sel(quantile=0.5), color=c, label=label)
            seen = obs[(obs.indicator == name) & (obs.street == DISTRICT)]
            if not seen.empty:
                ax.errorbar(seen.year, seen.value, yerr=seen.sd, fmt="o", color="#b3261e",
                            label="observed", capsize=3)
            ax.set_title(INDICATORS[name].label)
            ax.legend(loc="best")
        for ax in list(axes.flat)[len(names):]:
            ax.set_visible(False)
        return figure_img(fig, "District projections before and after the latest figures")


def section_projection(result):
    """The updated projection to the scenario's end, with the previous one."""
    proj = result.projection
    names = _names(result)
    horizon = int(proj.year.values[-1])
    year = min(max(int(result.latest) + 5 if result.latest != "prior" else 2030, 2030),
               horizon)
    rows = []
    if "births" in proj:
        births = proj["births"].sel(year=year)
        for area in births.area.values:
            before = births.sel(vintage=result.previous, area=area)
            after = births.sel(vintage=result.latest, area=area)
            rows.append([esc(names.get(str(area), area)),
                         (f"{fmt_count(float(before.sel(quantile=0.5)))} <span class='ci'>("
                          f"{fmt_count(float(before.sel(quantile=0.05)))}–"
                          f"{fmt_count(float(before.sel(quantile=0.95)))})</span>", "num"),
                         (f"{fmt_count(float(after.sel(quantile=0.5)))} <span class='ci'>("
                          f"{fmt_count(float(after.sel(quantile=0.05)))}–"
                          f"{fmt_count(float(after.sel(quantile=0.95)))})</span>", "num")])
    prev = "the prior" if result.previous == "prior" else f"figures to {result.previous}"
    return ('<h2 id="projection">Updated projection</h2>'
            f"<p>District figures to {horizon}: median and 5–95 % band, with {esc(prev)} "
            f"(grey) and with figures to {esc(result.latest)} (blue); observed figures in "
            "red.</p>" + _projection_figure(result)
            + f"<h3>Births in {year} by street</h3>"
            + table(["area", f"with {prev}", f"with figures to {result.latest}"], rows,
                    raw=True))


def section_targets(result):
    """The plan's targets, with the probability each is met."""
    t = result.targets
    if t.empty:
        return ('<h2 id="targets">The plan\'s targets</h2><p class="missing">The run has no '
                "target outputs.</p>")
    ds = result.ensemble
    years = [y for y in (2025, 2030, 2035) if y in set(t.year)]
    cols = [c for c in t.columns if c not in ("target", "year")]
    header = ["target"] + [f"{y}: {'prior' if c == 'prior' else 'figures to ' + c}"
                           for y in years for c in cols]
    rows = []
    for target in t.target.unique():
        desc = str(ds.target_description.sel(target=target).values).split(".")[0] \
            if "target_description" in ds.coords else target
        row = [esc(desc)]
        for y in years:
            sel = t[(t.target == target) & (t.year == y)]
            for c in cols:
                row.append((fmt_share(float(sel[c].iloc[0])) if not sel.empty else "—", "num"))
        rows.append(row)
    return ('<h2 id="targets">The plan\'s targets</h2><p>Probability that each target is met '
            "(share of the weighted ensemble), before and after the latest figures. A target "
            "applies from its first year; earlier years show the share anyway.</p>"
            + table(header, rows, raw=True))


def section_changes(result):
    """What changed since last year's report."""
    c = result.changes
    if c.empty:
        return ""
    prev = "prior" if result.previous == "prior" else f"figures to {result.previous}"
    rows = [[esc(INDICATORS[r.indicator].label), esc(r.year),
             (f"{fmt_count(r.previous_median)} <span class='ci'>({fmt_count(r.previous_low)}–"
              f"{fmt_count(r.previous_high)})</span>", "num"),
             (f"{fmt_count(r.latest_median)} <span class='ci'>({fmt_count(r.latest_low)}–"
              f"{fmt_count(r.latest_high)})</span>", "num"),
             (f"{r.change:+,.0f}", "num")] for r in c.itertuples(index=False)]
    return ('<h2 id="changes">What changed since last year\'s report</h2>'
            f"<p>District figures projected with {esc(prev)} and with figures to "
            f"{esc(result.latest)}.</p>"
            + table(["indicator", "year", f"with {prev}", f"with figures to {result.latest}",
                     "change of the median"], rows, raw=True))


def section_parameters(result):
    """What the observations say about the uncertain parameters."""
    p = result.parameters
    if p.empty:
        return ""
    first, last = str(result.weights.vintage.values[0]), str(result.latest)
    rows = [[f"<code>{esc(r['parameter'])}</code>",
             (f"{r[first + '_mean']:.3g} <span class='ci'>({r[first + '_low']:.3g}–"
              f"{r[first + '_high']:.3g})</span>", "num"),
             (f"{r[last + '_mean']:.3g} <span class='ci'>({r[last + '_low']:.3g}–"
              f"{r[last + '_high']:.3g})</span>", "num")] for _, r in p.iterrows()]
    return ('<h2 id="parameters">What the figures say about the assumptions</h2>'
            "<p>Mean and 5–95 % range of each varied parameter in the ensemble, before any "
            "figure and with all of them. A range that narrows is learnt from the figures; a "
            "mean that moves to the edge of its range says the model cannot match the figures "
            "with that lever alone.</p>"
            + table(["parameter", "before the figures", f"with figures to {last}"], rows,
                    raw=True))


def section_method(result):
    """Method, caveats and sources in plain words."""
    ds = result.ensemble
    sources = sorted(set(result.observations.source))
    return ('<h2 id="method">Method and caveats</h2>'
            f"<p>The scenario <b>{esc(result.scenario_name)}</b> was run "
            f"{ds.sizes['replicate']} times (replicates), each with its own values of the "
            f"uncertain parameters ({esc(', '.join(result.varied) or 'from its posterior')}) "
            "and its own random path. Each replicate is weighted by how well it reproduces "
            "the observed figures, allowing each figure its stated error; the weighted "
            "ensemble is the updated projection. The weights learn the levels the parameters "
            "control (fertility, migration, take-up); a change that no parameter explains "
            "(demolition in one street, a new estate not in the scenario) is not learnt — it "
            "shows as a flag, and the scenario itself should then be updated.</p>"
            f"<p>Observations file: <code>{esc(result.observations_file)}</code>. Sources: "
            + esc("; ".join(sources)) + ".</p>"
            f"<p class='note'>Model: {esc(ds.attrs.get('program', 'childsim'))} "
            f"{esc(ds.attrs.get('version', ''))} (commit {esc(ds.attrs.get('git_commit', ''))}),"
            f" seed {esc(ds.attrs.get('seed', ''))}, population scale "
            f"{esc(ds.attrs.get('population_scale', ''))}.</p>")


#: The report's sections, in order: functions of a MonitorResult returning HTML.
SECTIONS = (section_summary, section_observed, section_projection, section_targets,
            section_changes, section_parameters, section_method)


def build_report(result, *, title=None):
    """The monitoring report as one self-contained HTML page (a str).

    Parameters
    ----------
    result : MonitorResult
        From :func:`childsim.monitor`.
    title : str, optional

    Returns
    -------
    str
    """
    title = title or (f"Annual monitoring: {result.scenario_name}, figures to "
                      f"{result.latest}")
    body = "\n".join(section(result) for section in SECTIONS)
    today = datetime.date.today().isoformat()
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{PAGE_CSS}</style></head><body>"
            f"<header class=\"top\"><div class=\"inner\"><h1>{esc(title)}</h1>"
            f"<p>childsim monitoring report (plan item 89) · {esc(today)}</p></div></header>"
            f"<main>{body}</main></body></html>\n")


def check_output(output):
    """Refuse an output whose directory is missing or which is a directory (before work)."""
    output = Path(os.fspath(output))
    directory = output.parent if str(output.parent) else Path(".")
    if not directory.is_dir():
        raise ValueError(f"{output}: output directory '{directory}' does not exist")
    if output.is_dir():
        raise ValueError(f"{output}: is a directory")
    return output


def write_report(result, output, *, title=None):
    """Write :func:`build_report` to ``output`` (a temporary file renamed into place).

    Returns
    -------
    pathlib.Path
    """
    output = check_output(output)
    page = build_report(result, title=title)
    temporary = output.with_name(f".{output.name}.tmp{os.getpid()}")
    try:
        temporary.write_text(page, encoding="utf-8")
        os.replace(temporary, output)
    finally:
        if temporary.exists():
            temporary.unlink()
    return output
