"""test_base_data: the Changning base data satisfy their documented constraints.

Runs tools/check_data.py (street populations sum to the 2020 census, areas to the district's,
vector lengths, probabilities summing to 1, every number with a source or an assumption,
facility ids, hosts and targets).
"""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_base_data_checker_passes_on_changning():
    result = subprocess.run([sys.executable, str(ROOT / "tools/check_data.py"),
                             str(ROOT / "scenarios/changning")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_base_data_checker_catches_a_broken_sum(tmp_path):
    import shutil
    bad = tmp_path / "changning"
    shutil.copytree(ROOT / "scenarios/changning", bad)
    text = (bad / "streets.yaml").read_text()
    import re
    broken = re.sub(r"population_2020: \{value: (\d+)",
                    lambda m: f"population_2020: {{value: {int(m.group(1)) + 1}", text, count=1)
    assert broken != text
    (bad / "streets.yaml").write_text(broken)
    result = subprocess.run([sys.executable, str(ROOT / "tools/check_data.py"), str(bad)],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "population_2020: sum" in result.stdout + result.stderr
