"""test_options: the three what-ifs of issue #11 as options in the briefing's decision table.

- the subsidy and price-cap option carries its real public cost: the top-up's cost is
  exactly (national + top-up) / national times the baseline's subsidy spending (the same
  children under 3 live in both runs), and the cap's compensation is in the public total;
- the new Xinjing nursery shows gross, net and displacement side by side, with
  gross = net + displacement and gross = the child-years at the new nursery;
- the housing option is marked as changing demand and not given a cost per child-year;
- a what-if that omits `investments:` (the subsidy option) keeps the baseline's commitments,
  and one that adds investments keeps them too;
- `compare --from/--to/--discount-rate` refuse bad values with one line and no file.
"""
import numpy as np
import pytest

import childsim
from childsim.options import option_summary, public_costs
from conftest import ROOT, requires_cli, run_cli

WHATIFS = ["xinjing-inclusive-nursery", "subsidy-price-cap-2026", "beixinjing-estate"]
QUICK = {"population_scale": 0.1, "end": "2028-12", "replicates": 2}
PERIOD = (2026, 2028)


@pytest.fixture(scope="module")
def option_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("options")
    files = {}
    for name in ["baseline"] + WHATIFS:
        path = directory / f"{name}.yaml"
        path.write_text(f"extends: {ROOT / 'scenarios' / (name + '.yaml')}\n" +
                        "".join(f"{k}: {v}\n" for k, v in QUICK.items()), encoding="utf-8")
        out = directory / f"{name}.h5"
        result = run_cli("run", path, "-o", out, "-q")
        assert result.returncode == 0, result.stderr
        files[name] = out
    return files


@pytest.fixture(scope="module")
def runs(option_files):
    return {name: childsim.open_run(path) for name, path in option_files.items()}


@requires_cli
def test_options_subsidy_option_carries_its_real_public_cost(runs):
    base, alt = runs["baseline"], runs["subsidy-price-cap-2026"]
    s = option_summary(base, alt, PERIOD, rate=0.0)
    national = 3600.0  # parameters.yaml policy.childcare_subsidy_year
    base_subsidy = public_costs(base, PERIOD, 0.0)["subsidies"].values
    np.testing.assert_allclose(s["subsidies"][0], (2400 / national * base_subsidy).mean(), rtol=1e-9)
    assert s["subsidies"][0] > 0 and s["price_cap"][0] > 0
    assert s["facilities"][0] == 0
    np.testing.assert_allclose(s["public"][0], s["subsidies"][0] + s["price_cap"][0], rtol=1e-9)
    assert s["cost_per_net"][0] > 0 or s["cost_per_net_note"]


@requires_cli
def test_options_new_nursery_shows_gross_net_and_displacement(runs):
    base, alt = runs["baseline"], runs["xinjing-inclusive-nursery"]
    g = childsim.gross_net(base, alt, "nursery", PERIOD, rate=0.0)
    assert g.attrs["changed_facilities"] == ["xinjing-inc-new"]
    years = alt["time"].dt.year.values
    months = (years >= PERIOD[0]) & (years <= PERIOD[1])
    at_new = (alt["nursery_enrolled"].sel(facility="xinjing-inc-new").isel(time=months)
              .sum("time").values / 12.0)
    np.testing.assert_allclose(g["gross"].values, at_new)
    assert (g["gross"] > 0).all()
    np.testing.assert_allclose(g["gross"] - g["net"], g["displacement"])
    net = ((alt["nursery_children_enrolled"] - base["nursery_children_enrolled"])
           .isel(time=months).sum(["time", "street"]).values / 12.0)
    np.testing.assert_allclose(g["net"].values, net)
    s = option_summary(base, alt, PERIOD)
    assert not s["demand_changing"] and s["service"] == "nursery"


@requires_cli
def test_options_housing_is_marked_demand_changing_and_not_ranked(runs):
    s = option_summary(runs["baseline"], runs["beixinjing-estate"], PERIOD)
    assert s["demand_changing"]
    assert not np.isfinite(s["cost_per_net"][0])
    assert "changes demand" in s["cost_per_net_note"]
    for name in ("xinjing-inclusive-nursery", "subsidy-price-cap-2026"):
        assert not childsim.changes_demand(runs["baseline"], runs[name])


@requires_cli
def test_options_whatifs_keep_the_baselines_commitments(runs):
    base = runs["baseline"]
    ids = list(base["facility"].values.astype(str))
    for name in WHATIFS:
        alt = runs[name]
        cap = alt["facility_capacity"].sel(facility=ids)
        changed = [f for f in ids if not np.array_equal(cap.sel(facility=f).values,
                                                        base["facility_capacity"].sel(facility=f).values)]
        assert changed == [], f"{name} changes the baseline's facilities {changed}"
        np.testing.assert_array_equal(alt["facility_capital_cost"].sel(facility=ids).values,
                                      base["facility_capital_cost"].values)


@requires_cli
def test_options_decision_table_at_the_top_of_the_page(option_files, tmp_path):
    out = tmp_path / "brief.html"
    result = run_cli("compare", *[option_files[n] for n in ["baseline"] + WHATIFS],
                     "--from", "2026", "--to", "2028", "-o", out)
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert page.index('id="decision-table"') < page.index('id="summary"')
    table = page[page.index('id="decision-table"'):page.index("</table>", page.index('id="decision-table"'))]
    rows = table.split("<tr")[2:]  # after the header row
    assert len(rows) == 1 + len(WHATIFS)
    housing = next(r for r in rows if "beixinjing-estate" in r)
    assert "changes demand" in housing and "not ranked" in housing
    nursery = next(r for r in rows if "xinjing-inclusive-nursery" in r)
    assert "no new places" not in nursery and "other nursery" in nursery  # the caveat
    subsidy = next(r for r in rows if "subsidy-price-cap-2026" in r)
    assert "¥0" not in subsidy.split("</td>")[6]  # the public cost column
    assert "2026–2028" in page and "range over 2 replicates" in page
    assert 'id="spending-table"' in page


@requires_cli
@pytest.mark.parametrize("args, message", [
    (["--from", "1999"], "--from 1999 is outside the runs' years"),
    (["--from", "2028", "--to", "2026"], "--from 2028 is after --to 2026"),
    (["--to", "twenty"], "--to 'twenty': expected a year"),
    (["--discount-rate", "abc"], "--discount-rate 'abc': expected a number"),
    (["--discount-rate", "0.5"], "expected a yearly rate in [0, 0.2]"),
])
def test_options_compare_refuses_bad_period_or_rate_with_one_line_and_no_file(
        option_files, tmp_path, args, message):
    out = tmp_path / "brief.html"
    result = run_cli("compare", option_files["baseline"], option_files["subsidy-price-cap-2026"],
                     *args, "-o", out)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert not out.exists()


@requires_cli
def test_options_paired_difference_and_open_runs_align_different_facility_sets(runs, option_files):
    base, alt = runs["baseline"], runs["xinjing-inclusive-nursery"]
    assert "xinjing-inc-new" not in base["facility"].values
    diff = childsim.paired_difference(alt, base)
    new = diff["facility_capacity"].sel(facility="xinjing-inc-new")
    np.testing.assert_array_equal(new.values, alt["facility_capacity"].sel(facility="xinjing-inc-new").values)
    old = diff["facility_capacity"].drop_sel(facility="xinjing-inc-new")
    assert int(np.abs(old).max()) == 0  # the baseline's facilities are unchanged
    assert str(diff["facility_kind"].sel(facility="xinjing-inc-new").values) == "inclusive_nursery"
    # Enrolment at the new facility is all "new" (zero in the baseline).
    np.testing.assert_array_equal(
        diff["nursery_enrolled"].sel(facility="xinjing-inc-new").values,
        alt["nursery_enrolled"].sel(facility="xinjing-inc-new").values)
    both = childsim.open_runs([option_files["baseline"], option_files["xinjing-inclusive-nursery"]])
    cap = both["facility_capacity"].sel(facility="xinjing-inc-new")
    assert int(cap.sel(scenario="baseline").max()) == 0
    assert int(cap.sel(scenario="xinjing-inclusive-nursery").max()) == 120
    assert both.sizes["facility"] == base.sizes["facility"] + 1


def test_plots_draw_chinese_labels_without_missing_glyphs():
    """Figures of childsim.plots fall back to a CJK font: 普惠 in a legend draws every glyph."""
    import io
    import warnings

    import xarray as xr
    from childsim._briefing_plots import find_cjk_font

    if find_cjk_font() is None:
        pytest.skip("no CJK font installed (fonts-wqy-microhei, tools/install-deps.sh)")
    times = np.array(["2024-01-01", "2024-02-01", "2024-03-01"], dtype="datetime64[ns]")
    da = xr.DataArray(np.arange(6.0).reshape(2, 3), dims=("replicate", "time"),
                      coords={"replicate": [0, 1], "time": times}, attrs={"units": "children"})
    fig = childsim.plot_ensemble_band(da, label="普惠 nurseries 新泾镇")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from current font" is a warning
        fig.savefig(io.BytesIO(), format="png")


def test_briefing_style_draws_chinese_titles_without_missing_glyphs():
    """Figures drawn under the briefing's style (the monitoring report's too) fall back to a
    CJK font: a Chinese title draws every glyph (found by test_docs_blocks, docs/monitoring.md)."""
    import io
    import warnings

    from childsim._briefing_plots import _figure, _style, find_cjk_font

    if find_cjk_font() is None:
        pytest.skip("no CJK font installed (fonts-wqy-microhei, tools/install-deps.sh)")
    with _style(find_cjk_font()):
        fig, axes = _figure(6, 3, ncols=2)
        for ax in axes.flat:
            ax.set_title("出生人口 births 新泾镇")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "Glyph ... missing from current font" is a warning
            fig.savefig(io.BytesIO(), format="png")


@requires_cli
def test_facilities_command_lists_by_street_name_and_kind():
    result = run_cli("facilities", "--street", "新泾镇", "--kind", "inclusive_nursery")
    assert result.returncode == 0, result.stderr
    rows = [line.split()[0] for line in result.stdout.splitlines()[1:-1]]
    facilities = (ROOT / "scenarios/changning/facilities.yaml").read_text(encoding="utf-8")
    expected = [line.split("id: ")[1] for line in facilities.splitlines()
                if line.strip().startswith("- id: xinjing-inc-")]
    assert rows == expected and rows
    # With a scenario's investments: the new nursery is listed with its capacity at the end.
    result = run_cli("facilities", ROOT / "scenarios/xinjing-inclusive-nursery.yaml",
                     "--street", "Xinjing Town", "--kind", "inclusive_nursery")
    new = [line.split() for line in result.stdout.splitlines() if line.startswith("xinjing-inc-new")]
    assert new and new[0][3:5] == ["0", "120"]
    bad = run_cli("facilities", "--kind", "nursery")
    assert bad.returncode != 0 and "unknown facility kind 'nursery'" in bad.stderr


def test_options_session_services_are_costed_per_extra_session_used(runs, tmp_path):
    """An option that adds only holiday-class capacity gets its public cost per extra pupil
    placed per session: the extra public cost over the extra discounted use, recomputed here
    from the raw outputs; nursery options get none."""
    # A fifth of the district (at a tenth, the classes the baseline has are never full).
    quick = {"population_scale": 0.2, "end": "2027-12", "replicates": 2}
    period = (2025, 2027)
    base, alt = (childsim.run({"extends": f"{name}.yaml", **quick}, base_dir=ROOT / "scenarios")
                 for name in ("baseline", "holiday-classes-30-12"))
    s = option_summary(base, alt, period, rate=0.08)
    assert s["session_service"] == "holiday" and s["session_unit"] == "pupil placed per session"
    # Plain reference: discounted pupils placed per replicate, 2026-2028.
    def placed(ds):
        da = ds["holiday_placed"]
        years = da["time"].dt.year.values
        w = np.where((years >= period[0]) & (years <= period[1]),
                     1.08 ** -(years - period[0]).astype(float), 0.0)
        values = da.values.reshape(da.sizes["replicate"], da.sizes["time"], -1).sum(axis=2)
        return (values * w).sum(axis=1)
    extra = placed(alt) - placed(base)
    cost = (public_costs(alt, period, 0.08)["public"] -
            public_costs(base, period, 0.08)["public"]).values
    assert np.all(extra > 0)
    assert s["extra_use"][0] == pytest.approx(extra.mean())
    assert s["cost_per_use"][0] == pytest.approx(cost.mean() / extra.mean())
    assert s["cost_per_use"][1] == pytest.approx((cost / extra).min())
    assert "session_service" not in option_summary(runs["baseline"],
                                                   runs["xinjing-inclusive-nursery"], PERIOD)
