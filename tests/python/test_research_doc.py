# test_research_doc: docs/research.md runs from the page alone — its files are written, its
# shell commands and Python blocks run in order (with a small design: 4 base rows, 40 runs of
# the whole district to 2030), and its Ishigami check gives the analytic Sobol indices.
import os
import re
import subprocess

import numpy as np
import pytest

from conftest import BUILD_DIR, ROOT, cli_binary, requires_cli, requires_core

DOC = ROOT / "docs" / "research.md"
pytestmark = [requires_core, requires_cli]

# The study's size in the page, and the small one used here.
SMALL = {"samples: 32": "samples: 4"}


def _blocks(text):
    """(kind, body) of every fenced block marked `# file: PATH` or `# run`, in order."""
    out = []
    for lang, body in re.findall(r"```(\w+)\n(.*?)```", text, re.S):
        first = body.splitlines()[0] if body else ""
        if first.startswith("# file: ") or first == "# run":
            out.append((lang, body))
    return out


def test_research_doc_runs_from_the_page_alone(tmp_path, monkeypatch):
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "analysis"),
                                                      str(BUILD_DIR / "python")]))
    monkeypatch.chdir(tmp_path)
    namespaces = []
    blocks = _blocks(DOC.read_text(encoding="utf-8"))
    assert [lang for lang, _ in blocks].count("python") >= 3
    for lang, body in blocks:
        first, rest = body.split("\n", 1)
        if first.startswith("# file: "):
            path = tmp_path / first[len("# file: "):]
            for big, small in SMALL.items():
                rest = rest.replace(big, small)
            path.write_text(rest, encoding="utf-8")
        elif lang == "sh":
            for line in rest.splitlines():
                if not line.strip() or line.startswith("#"):
                    continue
                if line.startswith("childsim "):
                    line = f"{cli_binary()} {line[len('childsim '):]}"
                result = subprocess.run(line, shell=True, cwd=tmp_path, env=env,
                                        capture_output=True, text=True, timeout=900)
                assert result.returncode == 0, f"{line}\n{result.stderr}"
        else:
            namespace = {}
            exec(compile(rest, f"{DOC}:python", "exec"), namespace)  # noqa: S102
            namespaces.append(namespace)
    assert (tmp_path / "study" / "sobol.png").stat().st_size > 1000
    assert (tmp_path / "study" / "tables" / "nursery_unmet.csv").is_file()
    study = namespaces[0]
    assert set(study["indices"].index) == {
        "fertility.tfr_multiplier", "migration.out_rate", "household.grandparent_care",
        "household.mother_works", "nursery.seek_intercept", "nursery.seek_all_parents_work",
        "nursery.seek_net_price_per_1000", "nursery.max_wait_months"}
    assert study["y"].sizes["sample"] == 4 * (8 + 2)


def test_research_doc_ishigami_indices_match_the_analytic_ones(monkeypatch):
    blocks = [body for lang, body in _blocks(DOC.read_text(encoding="utf-8"))
              if lang == "python" and "Ishigami" in body]
    assert len(blocks) == 1
    namespace = {}
    exec(compile(blocks[0], f"{DOC}:ishigami", "exec"), namespace)  # noqa: S102
    import childsim

    indices = childsim.sobol_indices(namespace["d"], namespace["y"])
    # Analytic values for a = 7, b = 0.1 (Ishigami and Homma 1990; Sobol' and Levitan 1999).
    a, b = 7.0, 0.1
    v1 = 0.5 * (1 + b * np.pi ** 4 / 5) ** 2
    v2 = a ** 2 / 8
    v13 = b ** 2 * np.pi ** 8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    s1 = {"x1": v1 / v, "x2": v2 / v, "x3": 0.0}
    st = {"x1": (v1 + v13) / v, "x2": v2 / v, "x3": v13 / v}
    for name in ("x1", "x2", "x3"):
        row = indices.loc[name]
        assert row["S1_low"] - 0.01 <= s1[name] <= row["S1_high"] + 0.01, (name, row)
        assert row["ST_low"] - 0.01 <= st[name] <= row["ST_high"] + 0.01, (name, row)
        assert abs(row["S1"] - s1[name]) < 0.05 and abs(row["ST"] - st[name]) < 0.05
