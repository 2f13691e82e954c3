# test_exports: tidy tables and lazy reading — `childsim export OUT.h5 --csv DIR` and
# childsim.to_frame give one row per cell whose values, summed, equal the array's; a lazily
# opened 200-replicate run reads one street's series without reading the rest of the file.
import os

import h5py
import numpy as np
import pandas as pd
import pytest

import childsim
from conftest import BUILD_DIR, ROOT, cli_binary, requires_cli, requires_core, run_cli

pytestmark = requires_core


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    """A real run with 200 replicates (a hundredth of the district, one year: ~4 MB)."""
    directory = tmp_path_factory.mktemp("lazy")
    scenario = directory / "tiny.yaml"
    scenario.write_text(f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\n"
                        "population_scale: 0.01\nend: 2024-12\nreplicates: 200\n",
                        encoding="utf-8")
    ds = childsim.run(scenario, threads=2)
    return childsim.write(ds, directory / "tiny.h5")


def test_open_run_lazy_reads_one_street_without_loading_the_file(big_file, monkeypatch):
    eager = childsim.open_run(big_file)
    assert eager.sizes["replicate"] == 200
    # Count what h5py reads from each dataset while the lazy dataset is used.
    reads = {}
    original = h5py.Dataset.__getitem__

    def counting(self, key):
        out = original(self, key)
        reads[self.name] = reads.get(self.name, 0) + getattr(out, "nbytes", 0)
        return out

    monkeypatch.setattr(h5py.Dataset, "__getitem__", counting)
    with childsim.open_run(big_file, chunks={}) as lazy:
        population = lazy["population"]
        assert population.chunks is not None
        assert population.data.chunksize[0] == 1          # one replicate per chunk
        opened = sum(reads.values())
        series = population.sel(street="xinjing").isel(replicate=123).sum("age").values
    data_read = {name: n for name, n in reads.items() if "population" in name}
    np.testing.assert_array_equal(
        series, eager["population"].sel(street="xinjing").isel(replicate=123).sum("age").values)
    # What was read of population: the one street's series of the one replicate (HDF5
    # decompresses the one chunk holding it: that replicate); of other variables: nothing.
    one_series = eager["population"].isel(replicate=0, street=0).nbytes
    assert sum(data_read.values()) == one_series
    assert one_series * 200 * eager.sizes["street"] == eager["population"].nbytes
    others = {n: b for n, b in reads.items() if n.strip("/") in eager.data_vars
              and "population" not in n}
    assert others == {}
    # Opening reads the coordinates only: far less than the data.
    assert opened < 0.05 * os.path.getsize(big_file)


def test_open_run_chunks_rejects_nonsense(big_file):
    with pytest.raises(TypeError, match="chunks"):
        childsim.open_run(big_file, chunks=5)


def test_to_frame_is_tidy_and_labelled(big_file):
    ds = childsim.open_run(big_file).isel(replicate=slice(0, 3))
    frame = childsim.to_frame(ds, "population")
    assert list(frame.columns) == ["replicate", "time", "street", "street_name",
                                   "street_name_en", "street_district", "age", "population"]
    assert len(frame) == ds["population"].size
    assert not frame.duplicated(["replicate", "time", "street", "age"]).any()
    # Each row is the array's cell it names.
    months = list(ds["time"].dt.strftime("%Y-%m").values)
    for k in np.random.default_rng(1).integers(0, len(frame), 25):
        row = frame.iloc[k]
        cell = ds["population"].sel(replicate=row["replicate"], street=row["street"],
                                    age=row["age"]).isel(time=months.index(row["time"]))
        assert int(cell) == row["population"]
    # Labels agree with the street ids.
    pairs = frame[["street", "street_name_en"]].drop_duplicates()
    expected = dict(zip(ds["street"].values, ds["street_name_en"].values))
    assert all(expected[s] == n for s, n in pairs.itertuples(index=False))
    assert frame.attrs["units"] == ds["population"].attrs["units"]
    with pytest.raises(KeyError, match="no variable 'nope'"):
        childsim.to_frame(ds, "nope")


@requires_cli
def test_export_cli_writes_tables_that_sum_to_the_arrays(big_file, tmp_path):
    out = tmp_path / "tables"
    env_ok = run_cli("export", big_file, "--csv", out, "--variables", "births,nursery_unmet")
    assert env_ok.returncode == 0, env_ok.stderr
    index = pd.read_csv(out / "variables.csv").set_index("variable")
    assert list(index.index) == ["births", "nursery_unmet"]
    ds = childsim.open_run(big_file)
    for name in index.index:
        table = pd.read_csv(out / index.loc[name, "file"])
        assert len(table) == ds[name].size == index.loc[name, "rows"]
        assert index.loc[name, "dims"] == " ".join(ds[name].dims)
        np.testing.assert_allclose(table[name].sum(), float(ds[name].sum()))
        assert index.loc[name, "units"] == ds[name].attrs.get("units")
    # Bad input: an unknown variable or a missing file is one line, non-zero, and nothing
    # is written.
    bad = run_cli("export", big_file, "--csv", tmp_path / "bad", "--variables", "births,nope")
    assert bad.returncode == 2 and "nope" in bad.stderr and not (tmp_path / "bad").exists()
    bad = run_cli("export", tmp_path / "missing.h5", "--csv", tmp_path / "bad")
    assert bad.returncode == 1 and "missing.h5" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
