# test_hdf5_writer_contract: files from the C++ Hdf5Writer open in xarray (h5netcdf) and h5py.
#
# The file is written by the Catch2 case "hdf5_writer, writes the sample file for the python
# contract test" (tests/cpp/hdf5_writer_test.cpp) with CHILDSIM_SAMPLE_OUT pointing at a
# temporary path, so this checks exactly what the C++ writer emits. The values asserted here
# mirror that test's sample; keep the two in step.
import os
import pathlib
import subprocess

import numpy as np
import pytest

xr = pytest.importorskip("xarray")
h5py = pytest.importorskip("h5py")
pytest.importorskip("h5netcdf")

SAMPLE_TEST = "hdf5_writer, writes the sample file for the python contract test"
STREETS = ["huayanglu", "jiangsulu", "新华路街道"]
STREET_NAMES = ["华阳路街道", "江苏路街道", "新华路街道"]
DIMS = ("replicate", "time", "street")


def _tests_binary():
    """CHILDSIM_TESTS_BINARY, or (under ctest, which sets only CHILDSIM_BUILD_DIR) the binary
    in that build tree; None when neither is available."""
    explicit = os.environ.get("CHILDSIM_TESTS_BINARY")
    if explicit:
        return pathlib.Path(explicit)
    build_dir = os.environ.get("CHILDSIM_BUILD_DIR")
    if build_dir:
        candidate = pathlib.Path(build_dir) / "tests" / "childsim_tests"
        if candidate.exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    binary = _tests_binary()
    if binary is None:
        pytest.skip("CHILDSIM_TESTS_BINARY is not set")
    path = tmp_path_factory.mktemp("hdf5_writer") / "sample.nc"
    # Catch2 reads ',' in a test spec as "or"; the backslash makes it part of the name.
    # --warn NoTests makes a renamed test case fail here instead of silently matching nothing.
    spec = SAMPLE_TEST.replace(",", "\\,")
    result = subprocess.run(
        [str(binary), spec, "--warn", "NoTests"],
        env={**os.environ, "CHILDSIM_SAMPLE_OUT": str(path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert path.exists()
    assert not list(path.parent.glob(path.name + ".tmp-*"))
    return path


@pytest.fixture()
def ds(sample):
    with xr.open_dataset(sample, engine="h5netcdf") as dataset:
        yield dataset


def test_dimensions_and_sizes(ds):
    assert dict(ds.sizes) == {"replicate": 2, "time": 4, "street": 3}
    assert ds["replicate"].values.tolist() == [0, 1]
    assert set(ds.coords) == {"replicate", "time", "street", "street_name"}


def test_time_is_decoded_cf_time(ds):
    time = ds["time"]
    assert np.issubdtype(time.dtype, np.datetime64)
    assert time.values[0] == np.datetime64("2024-01-01")
    assert (np.diff(time.values) == np.timedelta64(1, "D")).all()
    assert time.encoding["units"] == "days since 2024-01-01"
    assert time.encoding["calendar"] == "standard"
    assert time.attrs["long_name"] == "simulation day"


def test_street_coordinates_are_str_with_chinese(ds):
    streets = ds["street"].values.tolist()
    assert streets == STREETS
    assert all(type(s) is str for s in streets)
    # street_name is not a dimension: it becomes a coordinate through the CF `coordinates`
    # attribute on `children`.
    assert "street_name" in ds.coords
    assert "street_name" not in ds.data_vars
    assert ds["street_name"].dims == ("street",)
    names = ds["street_name"].values.tolist()
    assert names == STREET_NAMES
    assert all(type(s) is str for s in names)
    assert ds["children"].coords["street_name"].values.tolist() == STREET_NAMES
    assert ds.sel(street="新华路街道")["street_name"].item() == "新华路街道"


def test_three_dimensional_variable(ds):
    children = ds["children"]
    assert children.dims == DIMS
    assert children.dtype == np.int32
    r, t, s = np.meshgrid(np.arange(2), np.arange(4), np.arange(3), indexing="ij")
    np.testing.assert_array_equal(children.values, 100 * r + 10 * t + s)
    assert children.attrs["long_name"] == "children in care"
    assert "coordinates" not in children.attrs  # consumed by xarray's CF decoding
    assert children.encoding["coordinates"] == "street_name"
    assert children.encoding["chunksizes"] == (1, 4, 3)
    assert children.encoding["zlib"] is True and children.encoding["shuffle"] is True
    assert children.encoding["complevel"] == 4


def test_double_variable(ds):
    occupancy = ds["occupancy"]
    assert occupancy.dims == ("replicate", "time")
    expected = 0.5 + 0.25 * np.arange(4)[None, :] + np.arange(2)[:, None]
    np.testing.assert_array_equal(occupancy.values, expected)


def test_global_attributes(ds):
    for name in ("title", "Conventions", "institution"):
        assert type(ds.attrs[name]) is str, name
    assert ds.attrs["title"] == "childsim hdf5_writer sample"
    assert ds.attrs["Conventions"] == "CF-1.8"
    assert ds.attrs["institution"] == "长宁区托育模拟"
    assert ds.attrs["seed"] == 42
    assert ds.attrs["scale"] == 1.5
    np.testing.assert_array_equal(ds.attrs["weights"], [0.25, 0.75])
    # netCDF/HDF5 bookkeeping stays hidden
    assert "_NCProperties" not in ds.attrs


def test_h5py_sees_dimension_scales(sample):
    with h5py.File(sample, "r") as f:
        for name in DIMS:
            assert f[name].attrs["CLASS"] == b"DIMENSION_SCALE", name
            assert h5py.h5ds.is_scale(f[name].id)
        assert f.attrs["_NCProperties"].startswith(b"version=2,childsim=")
        children = f["children"]
        assert [dim[0].name for dim in children.dims] == ["/" + d for d in DIMS]
        assert f["street"].asstr()[:].tolist() == STREETS
        assert f["street_name"].asstr()[:].tolist() == STREET_NAMES
        assert isinstance(f.attrs["title"], str)
