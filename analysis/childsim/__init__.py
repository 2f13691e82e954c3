"""childsim: run the Changning child-service model from Python and analyse its outputs.

The model itself is C++ (the ``childsim`` library, also behind the ``childsim`` command);
this package is its second front door. ``run`` returns the outputs as an
``xarray.Dataset`` identical to the file ``childsim run`` writes; ``open_run`` reads such
files; the rest summarises ensembles, compares scenarios, makes tables and plots.

Quick start::

    import childsim
    ds = childsim.run("scenarios/baseline.yaml", replicates=2)
    childsim.births_per_year(ds)
    childsim.plot_population_by_street(ds)

See docs/python.md.

Where the compiled part lives: ``childsim._core`` is built by CMake into
``<build>/python/childsim/``. The line below makes this package span every ``childsim``
directory on ``sys.path``, so that with both ``analysis/`` and ``<build>/python`` on
``sys.path`` (tools/install-python-path.sh writes a ``.pth`` file for Debian's
/usr/bin/python3) ``childsim._core`` is found. It is imported only when needed (``run``,
``load_scenario``, ``write``, ``outputs``); reading and analysing files works without it.
"""

import os
import pkgutil

__path__ = pkgutil.extend_path(__path__, __name__)

# Idle OpenMP threads sleep instead of spinning unless the user chose (as the `childsim`
# program does, sim/run/openmp_wait.hpp): on a shared machine spinning threads made a
# 2-thread run several times slower than a 1-thread one. libgomp reads the variable once,
# when ``childsim._core`` is first imported, which happens after this line.
if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["OMP_WAIT_POLICY"] = "passive"

from . import testing  # noqa: E402
from ._errors import ScenarioError  # noqa: E402
from ._errors import OutputError  # noqa: E402
from ._errors import ResourceError  # noqa: E402
from ._io import open_run, open_runs, write  # noqa: E402
from .exports import export_csv, to_frame  # noqa: E402
from ._run import run, run_many  # noqa: E402
from ._scenario import Scenario, find_root, load_scenario, scenario_from_yaml  # noqa: E402
from .catalog import outputs  # noqa: E402
from .monitoring import MonitorResult, monitor, write_posterior  # noqa: E402
from .observations import INDICATORS, ObservationsError, read_observations  # noqa: E402
from .costs import cost_effectiveness, costs_by_service, service_use  # noqa: E402
from .options import changes_demand, gross_net, option_summary, period_years, public_costs  # noqa: E402,E501
from .indicators import births_per_year, children_by_street_and_year  # noqa: E402
from .plots import (  # noqa: E402
    plot_children_by_age,
    plot_ensemble_band,
    plot_population_by_street,
)
from .targets import (  # noqa: E402
    base_data_dir,
    load_kinds,
    load_targets,
    merge_targets,
    run_targets,
    target_indicators,
    target_summary,
    targets_met,
)
from .designs import full_factorial, latin_hypercube, morris, saltelli  # noqa: E402
from .sensitivity import morris_indices, plot_sensitivity, sobol_indices  # noqa: E402
from .sweeps import DesignError, read_design, sweep, sweep_design, sweep_indices, sweep_output  # noqa: E402,E501
from .siting import ProblemError, read_problem, site  # noqa: E402
from .summaries import (  # noqa: E402
    AGE_GROUPS,
    annual,
    children_by_age_group,
    ensemble_mean,
    ensemble_quantiles,
    paired_difference,
)

# The briefing is imported on first use (PEP 562), so that `python3 -m childsim.briefing`
# runs the module fresh instead of finding it already imported by the package.
_LAZY = {"BriefingError", "SweepFileError", "build_briefing", "read_runs", "write_briefing"}


def __getattr__(name):
    if name in _LAZY:
        from . import briefing

        return getattr(briefing, name)
    raise AttributeError(f"module 'childsim' has no attribute {name!r}")


__all__ = [
    # running
    "Scenario",
    "ScenarioError",
    "OutputError",
    "ResourceError",
    "find_root",
    "load_scenario",
    "scenario_from_yaml",
    "run",
    "run_many",
    "outputs",
    # files
    "write",
    "open_run",
    "open_runs",
    "to_frame",
    "export_csv",
    # summaries
    "AGE_GROUPS",
    "ensemble_mean",
    "ensemble_quantiles",
    "paired_difference",
    "annual",
    "children_by_age_group",
    # tables
    "births_per_year",
    "children_by_street_and_year",
    # plots
    "plot_population_by_street",
    "plot_children_by_age",
    "plot_ensemble_band",
    # the plan's targets
    "load_targets",
    "run_targets",
    "merge_targets",
    "load_kinds",
    "base_data_dir",
    "target_indicators",
    "targets_met",
    "target_summary",
    # costs
    "costs_by_service",
    "service_use",
    "cost_effectiveness",
    # options: public cost in a period, gross and net effect (issue #11)
    "period_years",
    "public_costs",
    "gross_net",
    "changes_demand",
    "option_summary",
    # the briefing page (childsim compare)
    "BriefingError",
    "SweepFileError",
    "read_runs",
    "build_briefing",
    "write_briefing",
    # annual monitoring (plan item 89)
    "INDICATORS",
    "ObservationsError",
    "read_observations",
    "MonitorResult",
    "monitor",
    "write_posterior",
    # designs and sensitivity analysis (docs/research.md)
    "full_factorial",
    "latin_hypercube",
    "saltelli",
    "morris",
    "sobol_indices",
    "morris_indices",
    "plot_sensitivity",
    # parameter sweeps (childsim sweep)
    "DesignError",
    "read_design",
    "sweep",
    "sweep_design",
    "sweep_output",
    "sweep_indices",
    # siting (childsim site, docs/siting.md)
    "ProblemError",
    "read_problem",
    "site",
    # helpers for users' tests
    "testing",
]
