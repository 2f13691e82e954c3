# test_notebook: analysis/notebooks/walkthrough.ipynb runs from top to bottom without an
# error (nbclient, the `python3` kernel of /usr/bin/python3), and is committed without outputs.
import json
import os
import sys

import pytest

from conftest import PYTHON_PATHS, ROOT, requires_core

NOTEBOOK = ROOT / "analysis" / "notebooks" / "walkthrough.ipynb"
# analysis/notebooks/sensitivity.ipynb (docs/research.md): a Morris sweep, its figure, and
# the Sobol estimators against the Ishigami function's exact indices (asserted in the cell).
NOTEBOOKS = {"walkthrough": (NOTEBOOK, 4),
             "sensitivity": (ROOT / "analysis" / "notebooks" / "sensitivity.ipynb", 2)}


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_notebook_is_committed_without_outputs(name):
    nb = json.loads(NOTEBOOKS[name][0].read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, cell["source"][:80]


@requires_core
@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_notebook_executes(name, monkeypatch, tmp_path):
    notebook, figures = NOTEBOOKS[name]
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    interpreter = spec.argv[0]
    assert os.path.realpath(interpreter) == os.path.realpath(sys.executable), (
        f"the 'python3' kernel runs {interpreter}, not {sys.executable}: see "
        f"tools/install-python-path.sh, which installs the kernel spec"
    )
    # The kernel is a new process: give it this process's view of the package.
    paths = PYTHON_PATHS + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    monkeypatch.setenv("CHILDSIM_ROOT", str(ROOT))
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiet debugpy's warning
    nb = nbformat.read(notebook, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # run somewhere else than ROOT
    )
    client.execute()  # raises CellExecutionError on any failing cell
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert len(images) >= figures  # the figures were shown
