"""siting_report: the siting section of a briefing — where each plan's sites go, what they
cost, the net children served, as HTML built with the briefing's own pieces (``_html``).

:func:`siting_section` returns the section (a map of the chosen sites over the expected
unmet demand, the Pareto chart of public cost against net child-years served with 90 %
intervals, and one row per plan); :func:`siting_page` wraps it in a self-contained page,
which ``childsim site`` writes as ``DIR/report.html``. :func:`siting_section_from_dir`
builds the same section from the files ``childsim site -o DIR`` wrote (``problem.json``,
``plans.csv``, ``map.png``), which is how ``childsim compare ... --siting DIR`` puts it in
the scenario briefing.
"""

import base64
import json
import math
from pathlib import Path

import numpy as np

from ._html import PAGE_CSS, esc, figure_img, fmt_money, table

__all__ = ["siting_section", "siting_section_from_dir", "siting_page", "pareto_figure",
           "problem_summary", "SitingDirError"]

# What the section says about the problem, written by ``childsim site`` as problem.json.
_SUMMARY_KEYS = ("name", "description", "kind", "kinds", "service", "objective", "years", "opening",
                 "evaluate_replicates", "demand_replicates", "variants")


class SitingDirError(ValueError):
    """A ``--siting`` directory that is not the output of ``childsim site -o DIR``."""

    def __init__(self, message, path):
        super().__init__(message)
        self.path = str(path)


def pareto_figure(plans):
    """Public cost against net child-years served (90 % intervals); Pareto plans filled.

    Examples
    --------
    >>> import pandas as pd
    >>> from childsim.siting_report import pareto_figure
    >>> plans = pd.DataFrame({"public_cost_yuan": [1e6, 2e6], "net_child_years": [5.0, 8.0],
    ...                       "net_child_years_lo": [4.0, 6.0], "net_child_years_hi": [6.0, 10.0],
    ...                       "pareto": [True, True], "same_as": ["", ""]},
    ...                      index=pd.Index(["exact-1", "greedy"], name="plan"))
    >>> fig = pareto_figure(plans)
    >>> len(fig.axes[0].texts)
    2
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2), dpi=100)
    for k, (name, row) in enumerate(plans.iterrows()):
        if row.get("same_as"):
            continue
        y, lo, hi = row["net_child_years"], row["net_child_years_lo"], row["net_child_years_hi"]
        err = None
        if math.isfinite(lo) and math.isfinite(hi):
            err = np.array([[y - lo], [hi - y]])
        ax.errorbar(row["public_cost_yuan"] / 1e6, y, yerr=err, fmt="o", color=f"C{k}",
                    mfc=f"C{k}" if row["pareto"] else "white", capsize=3)
        ax.annotate(name, (row["public_cost_yuan"] / 1e6, y), textcoords="offset points",
                    xytext=(6, 4), fontsize=8)
    ax.set_xlabel("public cost over the plan years (million yuan)")
    ax.set_ylabel("net child-years served")
    ax.set_title("Plans: cost against children served (filled: Pareto-efficient)", fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def problem_summary(problem):
    """What the siting section needs of a problem, as plain values (``problem.json``).

    Examples
    --------
    >>> from childsim.siting import read_problem
    >>> from childsim.siting_report import problem_summary
    >>> import childsim
    >>> p = read_problem(childsim.find_root() / "scenarios" / "siting" / "nursery-60.yaml")
    >>> s = problem_summary(p)
    >>> s["kind"], s["years"], s["opening"]
    ('inclusive_nursery', [2026, 2030], '2026-09')
    """
    kinds = list(problem.kinds or [problem.kind])
    return {"name": problem.name, "description": problem.description,
            "kind": ", ".join(kinds), "kinds": kinds, "service": problem.service,
            "objective": problem.objective,
            "years": [int(y) for y in problem.years],
            "opening": f"{problem.opening[0]:04d}-{problem.opening[1]:02d}",
            "evaluate_replicates": int(problem.evaluate_replicates),
            "demand_replicates": int(problem.demand_replicates),
            "variants": [Path(str(v)).stem for v in problem.variants]}


def _png_img(data, alt):
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img class="fig" alt="{esc(alt)}" src="data:image/png;base64,{encoded}">'


def siting_section(result, streets, mean_demand):
    """The siting section: map, Pareto chart and the plans' table, as HTML.

    Parameters
    ----------
    result : childsim.siting.SitingResult
    streets, mean_demand : pandas.DataFrame
        :func:`childsim.siting.street_table` and the demand the optimiser used (by street).

    Returns
    -------
    str
    """
    from .siting import map_figure

    return _section(problem_summary(result.problem), result.plans,
                    figure_img(map_figure(result, streets, mean_demand),
                               "map of the chosen sites over the unmet demand"))


def siting_section_from_dir(path):
    """The siting section built from the output directory of ``childsim site -o DIR``.

    Reads ``DIR/problem.json``, ``DIR/plans.csv`` and ``DIR/map.png``; the Pareto chart is
    drawn again from the table. ``childsim compare RUNS... --siting DIR`` adds it to the
    scenario briefing.

    Raises
    ------
    SitingDirError
        If a file is missing or is not what ``childsim site`` writes (naming the file).

    Examples
    --------
    >>> from childsim.siting_report import SitingDirError, siting_section_from_dir
    >>> try:
    ...     siting_section_from_dir("no-such-dir")
    ... except SitingDirError as error:
    ...     print(error.path, "|", str(error).split(";")[0])
    no-such-dir/problem.json | no-such-dir/problem.json: not found
    """
    import pandas as pd

    directory = Path(path)
    files = {name: directory / name for name in ("problem.json", "plans.csv", "map.png")}
    for name, file in files.items():
        if not file.is_file():
            raise SitingDirError(f"{file}: not found; --siting expects the directory written "
                                 f"by `childsim site PROBLEM.yaml -o DIR`", file)
    try:
        summary = json.loads(files["problem.json"].read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise SitingDirError(f"{files['problem.json']}: not JSON ({error})",
                             files["problem.json"]) from None
    missing = [k for k in _SUMMARY_KEYS if k not in summary]
    if missing:
        raise SitingDirError(f"{files['problem.json']}: missing key(s) {', '.join(missing)}",
                             files["problem.json"])
    try:
        plans = pd.read_csv(files["plans.csv"], index_col="plan", keep_default_na=False,
                            na_values=[""])
    except (ValueError, pd.errors.ParserError) as error:
        raise SitingDirError(f"{files['plans.csv']}: not a plans table ({error})",
                             files["plans.csv"]) from None
    needed = ["sites", "streets", "public_cost_yuan", "objective_value", "gap", "same_as"]
    missing = [c for c in needed if c not in plans.columns]
    if missing:
        raise SitingDirError(f"{files['plans.csv']}: missing column(s) {', '.join(missing)}",
                             files["plans.csv"])
    plans["same_as"] = plans["same_as"].fillna("").astype(str)
    if "pareto" in plans:
        plans["pareto"] = plans["pareto"].astype(str).str.lower() == "true"
    return _section(summary, plans, _png_img(files["map.png"].read_bytes(),
                                             "map of the chosen sites over the unmet demand"))


def _section(p, plans, map_html):
    simulated = "net_child_years" in plans
    parts = ['<section id="siting">', f"<h2>Siting: {esc(p['name'])}</h2>",
             f"<p>Where to place <b>{esc(p['kind'])}</b> ({esc(p['objective'])}), plan years "
             f"{p['years'][0]}–{p['years'][1]}, opening {esc(p['opening'])}. "
             f"Sites chosen on the unmet demand an ensemble of the base scenario projects; "
             f"each plan then run against the base with common random numbers "
             f"({p['evaluate_replicates']} replicates).</p>",
             map_html]
    if simulated:
        import matplotlib.pyplot as plt

        fig = pareto_figure(plans)
        parts.append(figure_img(fig, "public cost against net child-years served"))
        plt.close("all")
    regret = simulated and "max_regret" in plans
    clinic = simulated and "net_visits" in plans  # paediatric clinics: visits and waits
    mix = len(p["kinds"]) > 1 and "kinds" in plans
    header = ["plan", "sites (places)", "streets"] + (["kinds"] if mix else []) + [
        "public cost", "screening value", "gap"]
    if simulated:
        header += ["net child-years (90 % interval)", "worst street's coverage", "Pareto"]
    if clinic:
        header += ["visits kept in the district (90 % interval)",
                   "change in the mean wait, min (90 % interval)"]
    if regret:
        header += [f"regret in {v}" for v in ["base"] + list(p["variants"])] + ["largest regret"]
    rows = []
    for name, row in plans.iterrows():
        cells = [name + (f" (= {row['same_as']})" if row["same_as"] else ""),
                 str(row["sites"]).replace(";", ", "), str(row["streets"]).replace(";", ", ")]
        if mix:
            cells.append(str(row["kinds"]).replace(";", ", "))
        cells += [fmt_money(row["public_cost_yuan"]),
                  f"{row['objective_value']:,.3f}",
                  "—" if not math.isfinite(row["gap"]) else f"{100 * row['gap']:.2g} %"]
        if simulated:
            cells += [f"{row['net_child_years']:.1f} ({row['net_child_years_lo']:.1f} to "
                      f"{row['net_child_years_hi']:.1f})",
                      f"{row['worst_coverage']:.3f} ({row['worst_street']}; base "
                      f"{row['base_worst_coverage']:.3f})",
                      "yes" if row["pareto"] else ""]
        if clinic:
            cells += [f"{row['net_visits']:,.0f} ({row['net_visits_lo']:,.0f} to "
                      f"{row['net_visits_hi']:,.0f})",
                      f"{row['wait_change_minutes']:+.2f} ({row['wait_change_minutes_lo']:+.2f} "
                      f"to {row['wait_change_minutes_hi']:+.2f}; base "
                      f"{row['base_wait_minutes']:.2f})"]
        if regret:
            cells += [f"{row.get(f'regret_{v}', float('nan')):.1f}"
                      for v in ["base"] + list(p["variants"])]
            cells += [f"{row['max_regret']:.1f}"]
        rows.append(cells)
    parts.append(table(header, rows))
    if clinic:
        parts.append("<p>Paediatric clinics: net child-years are the visits kept in the "
                     "district (the fall in visits ending outside it over the plan years) "
                     "divided by the visits a child makes a year; the wait is the mean wait "
                     "for a doctor of the visits served in the district (docs/siting.md, "
                     "\"Paediatric clinics\").</p>")
    if regret:
        parts.append("<p>Regret: the best plan's net child-years in that scenario minus the "
                     "plan's own; the plan with the smallest largest regret is never far from "
                     "the best, whichever of these futures comes.</p>")
    parts.append("<p>Costs are the problem's assumptions (capital plus running over the plan "
                 "years, undiscounted). Intervals are Monte Carlo error of the paired mean, not "
                 "parameter uncertainty. See docs/siting.md.</p>")
    parts.append("</section>")
    return "\n".join(parts)


def siting_page(result, streets, mean_demand):
    """:func:`siting_section` as a self-contained HTML page (``report.html``)."""
    title = f"childsim siting: {result.problem.name}"
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{esc(title)}</title>\n<link rel=\"icon\" href=\"data:,\">\n"
            f"<style>{PAGE_CSS}</style>\n</head>\n<body>\n<header class=\"top\"><div "
            f"class=\"inner\"><h1>{esc(title)}</h1></div></header>\n<main>\n"
            + siting_section(result, streets, mean_demand) + "\n</main>\n</body>\n</html>\n")
