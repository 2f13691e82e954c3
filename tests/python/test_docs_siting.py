# test_docs_siting: docs/siting.md's worked example is the shipped problem file, and the
# commands of its blocks marked `# test` run as written (with fewer replicates and plans).
import os
import re
import shlex
import subprocess

import yaml

from conftest import BUILD_DIR, ROOT, cli_binary, requires_cli, requires_core


def run_cli(*args):
    # the compiled module of this build (not one a .pth file may name), as test_sweeps does
    env = dict(os.environ, PYTHONPATH=str(BUILD_DIR / "python"))
    return subprocess.run([str(cli_binary()), *map(str, args)], capture_output=True, text=True,
                          timeout=1200, env=env)

DOC = ROOT / "docs" / "siting.md"
PROBLEM = ROOT / "scenarios" / "siting" / "nursery-60.yaml"


def test_docs_siting_example_is_the_shipped_problem_file():
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(name: nursery-60\n.*?)```", text, re.S).group(1)
    assert yaml.safe_load(block) == yaml.safe_load(PROBLEM.read_text(encoding="utf-8"))


def _commands(example="nursery-60"):
    text = DOC.read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```sh\n(.*?)```", text, re.S) if b.startswith("# test")]
    return [line for b in blocks for line in b.splitlines()
            if line.startswith("childsim ") and f"siting-{example}" in line]


@requires_core
@requires_cli
def test_docs_siting_commands_run_at_small_size(tmp_path):
    commands = _commands()
    assert commands and commands[0].startswith("childsim site ")
    small = PROBLEM.read_text(encoding="utf-8")
    # the baseline to the end of the plan years only (2030, not 2035)
    (tmp_path / "base.yaml").write_text(
        f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\nend: 2030-12\n", encoding="utf-8")
    small = small.replace("scenario: ../baseline.yaml", "scenario: base.yaml")
    small = re.sub(r"demand: \{replicates: \d+\}", "demand: {replicates: 2}", small)
    small = re.sub(r"evaluate: \{plans: \d+, replicates: \d+\}",
                   "evaluate: {plans: 1, replicates: 2}", small)
    assert small.count("replicates: 2") == 2 and "scenario: base.yaml" in small, \
        "the test no longer shrinks the example"
    (tmp_path / "nursery-60.yaml").write_text(small, encoding="utf-8")
    for command in commands:
        words = shlex.split(command)[1:]
        words = [w.replace("scenarios/siting/nursery-60.yaml", str(tmp_path / "nursery-60.yaml"))
                 .replace("out/", f"{tmp_path}/out/") for w in words]
        (tmp_path / "out").mkdir(exist_ok=True)
        result = run_cli(*words)
        assert result.returncode == 0, f"{command}\n{result.stderr}"
    out = tmp_path / "out" / "siting-nursery-60"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Proof by simulation" in report and "exact-1" in report
    brief = (out / "brief.html").read_text(encoding="utf-8")
    assert 'id="siting"' in brief and "exact-1" in brief.split('id="siting"')[1]


CLINIC = ROOT / "scenarios" / "siting" / "clinic-west.yaml"


def test_docs_siting_clinic_example_is_the_shipped_problem_file():
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(name: clinic-west\n.*?)```", text, re.S).group(1)
    assert yaml.safe_load(block) == yaml.safe_load(CLINIC.read_text(encoding="utf-8"))


@requires_core
@requires_cli
def test_docs_siting_clinic_command_runs_at_small_size(tmp_path):
    # the documented command on the shipped file, shrunk: plan years 2026 only, one plan
    commands = _commands("clinic-west")
    assert len(commands) == 1 and commands[0].startswith("childsim site ")
    small = CLINIC.read_text(encoding="utf-8")
    (tmp_path / "base.yaml").write_text(
        f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\nend: 2026-12\n", encoding="utf-8")
    small = small.replace("scenario: ../baseline.yaml", "scenario: base.yaml")
    small = small.replace("years: [2026, 2030]", "years: [2026, 2026]")
    small = small.replace("budget: 4700000", "budget: 1100000")  # 40 sessions for 2026
    small = re.sub(r"demand: \{replicates: \d+\}", "demand: {replicates: 2}", small)
    small = re.sub(r"evaluate: \{plans: \d+, replicates: \d+\}",
                   "evaluate: {plans: 1, replicates: 2, greedy: false}", small)
    assert "scenario: base.yaml" in small and "years: [2026, 2026]" in small \
        and "greedy: false" in small, "the test no longer shrinks the example"
    (tmp_path / "clinic-west.yaml").write_text(small, encoding="utf-8")
    words = [w.replace("scenarios/siting/clinic-west.yaml", str(tmp_path / "clinic-west.yaml"))
             .replace("out/", f"{tmp_path}/out/") for w in shlex.split(commands[0])[1:]]
    (tmp_path / "out").mkdir()
    result = run_cli(*words)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out" / "siting-clinic-west"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Proof by simulation" in report and "net_visits" in report
    assert (out / "runs" / "exact-1.h5").is_file()
