# test_residents: the whole resident population in the files — every resident accounted for
# by street and month, labels of sex and age group, and the adults ageing by the life table.
import numpy as np


def test_residents_change_by_births_migrants_and_deaths(quick_run):
    ds = quick_run
    cells = ["sex", "age_group"]
    flows = (ds["births"] + ds["migrants_in"].sum(cells) - ds["migrants_out"].sum(cells)
             + ds["movers_in"].sum(cells) - ds["movers_out"].sum(cells)
             - ds["resident_deaths"].sum(cells))
    res = ds["residents"].astype("int64")
    change = res.diff("time")
    np.testing.assert_array_equal(change.values, flows.isel(time=slice(1, None)).values)
    # Not vacuous: people arrive, leave, move and die in the district.
    for name in ("migrants_in", "migrants_out", "movers_in", "resident_deaths"):
        assert int(ds[name].sum()) > 0, name
    # Moves between streets cancel over the district, by sex and age group.
    np.testing.assert_array_equal(ds["movers_in"].sum("street").values,
                                  ds["movers_out"].sum("street").values)


def test_residents_by_age_adds_up_and_is_labelled(quick_run):
    ds = quick_run
    rba = ds["residents_by_age"]
    assert list(ds["sex"].values) == ["female", "male"]
    groups = [f"{5 * g}-{5 * g + 4}" for g in range(17)] + ["85+"]
    assert list(ds["age_group"].values) == groups
    np.testing.assert_array_equal(rba.sum(["sex", "age_group"]).values, ds["residents"].values)
    # Children 0-14 in residents_by_age equal the children of `population` at those ages.
    kids = ds["population"].sel(age=slice(0, 14)).sum("age")
    np.testing.assert_array_equal(
        rba.sel(age_group=["0-4", "5-9", "10-14"]).sum(["sex", "age_group"]).values, kids.values)
    # Children's deaths are part of resident_deaths.
    assert (ds["resident_deaths"].sum(["sex", "age_group"]) >= ds["deaths"]).all()
