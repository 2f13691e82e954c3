"""_briefing_decision: the one-screen decision table at the top of the briefing page.

One row per option (the baseline first, for reference): net, gross and displaced child-years
of care in the period, unmet nursery demand and targets met in 2030 (the end of the 15th
Five-Year Plan), public cost in the period (discounted) and cost per net additional
child-year, each with its interval, and a plain-words caveat. Below it, the spending of each
option split into facilities, subsidies, price-cap compensation and families' fees.
Numbers come from :mod:`childsim.options`; this module only lays them out.
"""

import numpy as np

from ._html import chip, esc, fmt_count, fmt_money, fmt_signed, table
from .options import MIN_REPLICATES_FOR_QUANTILES

__all__ = ["section_decision", "band_label"]


def band_label(n):
    """How an interval over ``n`` replicates is called on the page.

    Examples
    --------
    >>> band_label(4)
    'range over 4 replicates (min–max)'
    >>> band_label(40)
    '90 % interval (5th–95th percentile over 40 replicates)'
    """
    if n < MIN_REPLICATES_FOR_QUANTILES:
        return f"range over {n} replicates (min–max)"
    return f"90 % interval (5th–95th percentile over {n} replicates)"


def _signed(stat, digits=0):
    mean, low, high, _ = stat
    if not np.isfinite(mean):
        return "—"
    if low == high:
        return fmt_signed(mean, digits)
    return (f"{fmt_signed(mean, digits)}<span class='ci'> ({fmt_signed(low, digits)} to "
            f"{fmt_signed(high, digits)})</span>")


def _money(stat):
    mean, low, high, _ = stat
    if not np.isfinite(mean):
        return "—"
    if abs(high - low) < 0.5:
        return fmt_money(mean)
    return f"{fmt_money(mean)}<span class='ci'> ({fmt_money(low)} to {fmt_money(high)})</span>"


def _level(values):
    """mean (low–high) of per-replicate levels."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return "—"
    if values.size < MIN_REPLICATES_FOR_QUANTILES:
        low, high = values.min(), values.max()
    else:
        low, high = np.quantile(values, [0.05, 0.95])
    text = fmt_count(float(values.mean()))
    if high > low:
        text += f"<span class='ci'> ({fmt_count(float(low))}–{fmt_count(float(high))})</span>"
    return text


def _unmet(ds, year):
    if "nursery_unmet" not in ds:
        return None
    da = ds["nursery_unmet"]
    da = da.sum([d for d in da.dims if d not in ("replicate", "time")])
    da = da.isel(time=np.flatnonzero(da["time"].dt.year.values == year))
    return da.mean("time").values if da.sizes["time"] else None


def _targets_met(ctx, name, year):
    met = ctx.target_met.get(name)
    if met is None or year not in met["year"].values:
        return "—"
    m = met["met"].sel(year=year)
    applicable = m.notnull().any("replicate")
    n = int(applicable.sum())
    if n == 0:
        return "—"
    shares = m.mean("replicate").where(applicable)
    return f"{int((shares > 0.5).sum())} of {n}"


def _caveat(option, name):
    """A plain-words caveat line for one option."""
    words = []
    if option["demand_changing"]:
        words.append("Brings new families: its extra child-years are new children, not more care "
                     "for today’s, so it is not ranked on cost per child-year; its costs are the "
                     "services for the newcomers.")
    gross, net, displaced = option["gross"][0], option["net"][0], option["displacement"][0]
    service = "nursery" if option["service"] == "nursery" else "kindergarten"
    if option["changed_facilities"] and np.isfinite(gross) and gross > 0 and not option["demand_changing"]:
        share = displaced / gross if gross else np.nan
        if np.isfinite(share) and share > 0.05:
            words.append(f"Of {fmt_count(gross)} child-years in the new or changed {service} places, "
                         f"about {fmt_count(displaced)} ({fmt_count(100 * share)} %) are children "
                         f"who would otherwise be in another {service}: only the net gain is new care.")
    subsidies, cap, public = option["subsidies"][0], option["price_cap"][0], option["public"][0]
    if np.isfinite(subsidies) and subsidies > 0.5 * abs(public):
        words.append("Its cost is mostly subsidy paid for every eligible child, including those "
                     "who would have used care anyway.")
    if np.isfinite(cap) and cap > 0:
        words.append("The price cap is paid for as compensation to providers for every enrolled "
                     "child, not only new ones.")
    if not option["demand_changing"] and np.isfinite(net) and option["net"][1] <= 0:
        words.append("The net gain in care is not clearly above zero.")
    return " ".join(words) or "No special caveat."


def section_decision(ctx):
    """The decision table section (HTML), from ``ctx.options`` (name -> option_summary)."""
    period, rate = ctx.period, ctx.rate
    year = ctx.decision_year
    n = min(int(ds.sizes["replicate"]) for ds in ctx.runs.values())
    out = ['<section id="decision"><h2>The options at a glance</h2>',
           f"<p>Each what-if as an option against the baseline, over <b>{period[0]}–{period[1]}</b> "
           f"(the 15th Five-Year Plan unless chosen otherwise). Costs and child-years are "
           f"discounted to {period[0]} at {rate * 100:g} % a year (the social discount rate of "
           f"China’s project appraisal rules; change with <code>--discount-rate</code>). "
           f"Brackets: {esc(band_label(n))}. Unmet nursery demand: children wanting a place without one, average month of {year}; targets: the plan’s targets met in {year} (of those that apply).</p>"]
    header = ["Option",
              ("Net extra child-years", "num"),
              ("Gross: in new or changed places", "num"),
              ("Displaced from other places", "num"),
              (f"Unmet nursery demand {year}", "num"),
              (f"Targets met {year}", "num"),
              (f"Extra public cost {period[0]}–{period[1]}", "num"),
              ("Public cost per net child-year", "num"),
              "Caveat"]
    rows = []
    base_unmet = _unmet(ctx.base, year)
    rows.append([chip(ctx.colours[ctx.base_name]) + esc(ctx.base_name) +
                 "<span class='detail'>baseline: the plan as committed</span>",
                 ("—", "num"), ("—", "num"), ("—", "num"),
                 (_level(base_unmet) if base_unmet is not None else "—", "num"),
                 (_targets_met(ctx, ctx.base_name, year), "num"), ("—", "num"), ("—", "num"),
                 "The reference every option is compared with."])
    for name, option in ctx.options.items():
        ds = ctx.runs[name]
        unmet = _unmet(ds, year)
        service = option["service"]
        label = chip(ctx.colours[name]) + esc(name)
        if option["demand_changing"]:
            label += "<span class='detail tag-demand'>changes demand</span>"
        if option["changed_facilities"]:
            gross = _signed(option["gross"])
            displaced = _signed(option["displacement"])
        else:
            gross = "<span class='ci'>no new places</span>"
            displaced = "—"
        per = option["cost_per_net"]
        per_use = option.get("cost_per_use", (np.nan,))
        if np.isfinite(per[0]):
            per_text = _money(per)
        elif np.isfinite(per_use[0]):  # a session service: per extra session or visit used
            per_text = (f"{_money(per_use)}<span class='detail'>per extra "
                        f"{esc(option['session_unit'])} (no nursery places)</span>")
        else:
            per_text = f"<span class='ci'>{esc(option['cost_per_net_note'] or '—')}</span>"
        rows.append([label,
                     (f"{_signed(option['net'])}<span class='detail'>{esc(service)}</span>", "num"),
                     (gross, "num"), (displaced, "num"),
                     (_level(unmet) if unmet is not None else "—", "num"),
                     (_targets_met(ctx, name, year), "num"),
                     (_money(option["public"]), "num"), (per_text, "num"),
                     f"<span class='caveat'>{esc(_caveat(option, name))}</span>"])
    widths = ["12%", "9%", "9%", "9%", "8%", "7%", "9%", "10%", "27%"]
    out.append(table(header, rows, raw=True, id_="decision-table", cls="decision", widths=widths))
    # Spending split: public (facilities, subsidies, price cap) and families' own.
    header = ["Option", ("Facilities: capital + running", "num"), ("Subsidies", "num"),
              ("Price-cap compensation", "num"), ("Public, total", "num"),
              ("Families’ nursery fees (out of pocket)", "num")]
    rows = []
    for name, option in ctx.options.items():
        rows.append([chip(ctx.colours[name]) + esc(name)] +
                    [(_money(option[k]), "num")
                     for k in ("facilities", "subsidies", "price_cap", "public", "family_fees")])
    out.append(f"<h3>Who pays: extra spending against the baseline, {period[0]}–{period[1]} "
               f"(discounted)</h3>")
    out.append(table(header, rows, raw=True, id_="spending-table"))
    missing = sorted({m for ds in ctx.runs.values()
                      for m in ("policy_subsidy_cost", "policy_price_cap_cost", "family_nursery_fees")
                      if m not in ds})
    if missing:
        out.append(f'<div class="warn">These runs do not record {esc(", ".join(missing))} (made by '
                   "an older childsim): subsidies and the price cap are counted as costing nothing. "
                   "Run the scenarios again to cost every lever.</div>")
    out.append('<dl class="defs"><dt>How to read this table</dt>'
               "<dd><b>Gross</b>: change in child-years of care at the facilities whose capacity the "
               "option changes (new facilities count whole). <b>Net</b>: change in child-years of "
               "care district-wide. <b>Displaced</b> = gross − net: children who, without the "
               "option, would have been in care at another facility. One child-year = one child in "
               "care for twelve months.</dd>"
               "<dd><b>Public cost</b>: extra capital and running costs of facilities (counted in "
               "full as public), plus extra childcare subsidies (amount × children eligible × "
               "months) and compensation to providers for the price cap (list price − cap, per "
               "enrolled child and month). Families’ fees are shown apart and not deducted.</dd>"
               "<dd><b>Cost per net additional child-year</b> = discounted public cost ÷ discounted "
               "net child-years; given only when the net gain is positive in every replicate. "
               "Options that change demand (new housing, fertility) are marked and not given one: "
               "their extra child-years are new children. An option that adds only baby-room, "
               "holiday-class or clinic capacity is given its public cost per extra session or "
               "visit used instead (baby-room child-session, pupil placed per holiday session, "
               "paediatric visit served in the district; both discounted).</dd>"
               f"<dd><b>Intervals</b>: {esc(band_label(n))}; with fewer than "
               f"{MIN_REPLICATES_FOR_QUANTILES} replicates the min–max is shown, not a 90 % "
               "interval.</dd></dl>")
    return "\n".join(out) + "</section>"
