# test_residents: the whole resident population in the files — every resident accounted for
# by street and month, labels of sex and age group, and the adults ageing by the life table.
import numpy as np


def test_residents_change_by_births_migrants_and_deaths(quick_run):
    ds = quick_run
    flows = (ds["births"] + ds["migrants_in"].sum(["sex", "age_group"])
             - ds["migrants_out"].sum(["sex", "age_group"])
             - ds["resident_deaths"].sum(["sex", "age_group"]))
    res = ds["residents"].astype("int64")
    change = res.diff("time")
    np.testing.assert_array_equal(change.values, flows.isel(time=slice(1, None)).values)
    # Not vacuous: people arrive, leave and die every month in the district.
    assert int(ds["migrants_in"].sum()) > 0 and int(ds["resident_deaths"].sum()) > 0


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
