"""siting_report: the siting section of a briefing — where each plan's sites go, what they
cost, the net children served, as HTML built with the briefing's own pieces (``_html``).

:func:`siting_section` returns the section (a map of the chosen sites over the expected
unmet demand, the Pareto chart of public cost against net child-years served with 90 %
intervals, and one row per plan); :func:`siting_page` wraps it in a self-contained page,
which ``childsim site`` writes as ``DIR/report.html``.
"""

import math

import numpy as np

from ._html import PAGE_CSS, esc, figure_img, fmt_money, table

__all__ = ["siting_section", "siting_page", "pareto_figure"]


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

    p = result.problem
    plans = result.plans
    simulated = "net_child_years" in plans
    parts = ['<section id="siting">', f"<h2>Siting: {esc(p.name)}</h2>",
             f"<p>Where to place <b>{esc(p.kind)}</b> ({esc(p.objective)}), plan years "
             f"{p.years[0]}–{p.years[1]}, opening {p.opening[0]:04d}-{p.opening[1]:02d}. "
             f"Sites chosen on the unmet demand an ensemble of the base scenario projects; "
             f"each plan then run against the base with common random numbers "
             f"({p.evaluate_replicates} replicates).</p>",
             figure_img(map_figure(result, streets, mean_demand),
                        "map of the chosen sites over the unmet demand")]
    if simulated:
        import matplotlib.pyplot as plt

        fig = pareto_figure(plans)
        parts.append(figure_img(fig, "public cost against net child-years served"))
        plt.close("all")
    header = ["plan", "sites (places)", "public cost", "screening value", "gap"]
    if simulated:
        header += ["net child-years (90 % interval)", "worst street's coverage", "Pareto"]
    rows = []
    for name, row in plans.iterrows():
        cells = [name + (f" (= {row['same_as']})" if row["same_as"] else ""),
                 str(row["sites"]).replace(";", ", "), fmt_money(row["public_cost_yuan"]),
                 f"{row['objective_value']:,.3f}",
                 "—" if not math.isfinite(row["gap"]) else f"{100 * row['gap']:.2g} %"]
        if simulated:
            cells += [f"{row['net_child_years']:.1f} ({row['net_child_years_lo']:.1f} to "
                      f"{row['net_child_years_hi']:.1f})",
                      f"{row['worst_coverage']:.3f} ({row['worst_street']}; base "
                      f"{row['base_worst_coverage']:.3f})",
                      "yes" if row["pareto"] else ""]
        rows.append(cells)
    parts.append(table(header, rows))
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
