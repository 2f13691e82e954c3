# test_docstrings: every Examples section in the childsim package runs and prints what it
# says (doctest), so the documentation cannot drift from the code.
import doctest
import importlib

import pytest

from conftest import requires_core

MODULES = ["_errors", "_scenario", "_run", "_io", "summaries", "indicators", "plots",
           "catalog", "testing", "targets", "costs", "options", "_facilities", "_briefing_decision",
           "briefing", "_briefing_sensitivity", "validation",
           "observations", "monitoring",
           "sobol_sequence", "designs", "sensitivity", "sweeps", "exports"]


@requires_core
@pytest.mark.parametrize("module", MODULES)
def test_docstrings_examples_run(module):
    mod = importlib.import_module(f"childsim.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"
    if module not in ("_native", "_checks", "_convert"):
        assert result.attempted > 0
