"""test_calibration_module: `childsim calibrate` writes a posterior that
analysis/childsim/calibration.py opens, summarises and plots.

The module is loaded from its file, so this test does not need the rest of the analysis
package or the compiled core; the CLI path is in $CHILDSIM_BINARY (set by ctest).
"""
import importlib.util
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("CHILDSIM_BINARY") or str(ROOT / "build/release/sim/childsim")

pytestmark = pytest.mark.skipif(not Path(BINARY).exists(), reason=f"CLI not built: {BINARY}")


def _module():
    spec = importlib.util.spec_from_file_location(
        "childsim_calibration", ROOT / "analysis/childsim/calibration.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


CALIBRATION = """\
scenario: {root}/scenarios/baseline.yaml
population_scale: 0.02
replicates: 1
seed: 3
parameters:
  - name: nursery.seek_intercept
  - name: kindergarten.take_up
abc: {{particles: 10, max_generations: 2, min_acceptance_rate: 0}}
targets:
  - id: formal_care
    description: d
    value: 0.14
    sd: 0.04
    year: 2024
    basis: assumed
    scaled_from_shanghai: true
    source: s
    output: nursery_children_enrolled
    aggregate: ratio
    denominator: {{output: population, select: {{age: [0, 1, 2]}}}}
  - id: kindergarten
    description: d
    value: 0.97
    sd: 0.02
    year: 2024
    basis: derived
    scaled_from_shanghai: true
    source: s
    output: kindergarten_children_enrolled
    aggregate: ratio
    denominator: kindergarten_eligible
"""


@pytest.fixture(scope="module")
def posterior(tmp_path_factory):
    d = tmp_path_factory.mktemp("calibration")
    (d / "small.yaml").write_text(CALIBRATION.format(root=ROOT))
    out = d / "posterior.h5"
    r = subprocess.run([BINARY, "calibrate", d / "small.yaml", "-o", out, "--threads", "2"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "nursery.seek_intercept" in r.stdout
    return out


def test_open_posterior_gives_documented_dims_and_variables(posterior):
    cal = _module()
    ds = cal.open_posterior(posterior)
    assert dict(ds.sizes) == {"generation": 2, "particle": 10, "parameter": 2, "target": 2}
    assert ds.particles.dims == ("generation", "particle", "parameter")
    assert list(ds.parameter.values) == ["nursery.seek_intercept", "kindergarten.take_up"]
    np.testing.assert_allclose(ds.weights.sum("particle"), 1.0)
    assert np.isinf(ds.tolerance.values[0]) and np.isfinite(ds.tolerance.values[1])
    assert (ds.distances.isel(generation=1) <= ds.tolerance.isel(generation=1)).all()
    lo, hi = ds.prior_lo.values, ds.prior_hi.values
    assert ((ds.particles >= lo) & (ds.particles <= hi)).all()
    assert "targets:" in ds.attrs["calibration"] and ds.attrs["seed"] == 3


def test_summary_matches_a_plain_numpy_calculation(posterior):
    cal = _module()
    ds = cal.open_posterior(posterior)
    s = cal.posterior_summary(ds)
    w = ds.weights.values[-1]
    x = ds.particles.values[-1, :, 0]
    assert s.loc["nursery.seek_intercept", "mean"] == pytest.approx(np.sum(w * x))
    assert s.loc["nursery.seek_intercept", "q05"] <= s.loc["nursery.seek_intercept", "q95"]


def test_plot_posterior_draws_one_panel_per_parameter_and_the_tolerance(posterior):
    cal = _module()
    fig = cal.plot_posterior(cal.open_posterior(posterior))
    assert len(fig.axes) == 4  # 2 parameters, tolerance, its twin acceptance axis
    fig.savefig(posterior.with_suffix(".png"))
    with pytest.raises(TypeError):
        cal.plot_posterior("posterior.h5")
    with pytest.raises(TypeError):
        cal.plot_posterior(cal.open_posterior(posterior), bins=0)


def test_open_posterior_rejects_missing_and_foreign_files(tmp_path):
    cal = _module()
    with pytest.raises(FileNotFoundError):
        cal.open_posterior(tmp_path / "nope.h5")
    with pytest.raises(TypeError):
        cal.open_posterior(3)
    import xarray as xr
    foreign = tmp_path / "foreign.h5"
    xr.Dataset({"x": ("t", np.arange(3.0))}).to_netcdf(foreign, engine="h5netcdf")
    with pytest.raises(ValueError, match="not a childsim posterior"):
        cal.open_posterior(foreign)
