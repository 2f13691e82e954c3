"""test_docs_scenarios: every example in docs/scenarios.md marked `# validate` is a scenario
that `childsim validate` accepts (so the page cannot drift from the scenario language)."""
import re

import pytest

from conftest import ROOT, requires_cli, run_cli

DOC = ROOT / "docs" / "scenarios.md"


def _examples():
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    return [b for b in blocks if b.startswith("# validate")]


EXAMPLES = _examples()


def test_docs_scenarios_has_an_example_of_every_lever():
    text = "\n".join(EXAMPLES)
    for key in ("fertility:", "values:", "new_housing:", "add_capacity", "remove_capacity",
                "action: open", "action: close", "start:", "end:", "capital_cost:",
                "running_cost_year:", "location:", "lat:", "lon:", "street:", "host:",
                "childcare_subsidy_year:", "subsidies:", "amount_year:", "paid_to:",
                "inclusive_price_cap:", "cap_month:", "remove:", "replace:",
                "public_nursery_hukou_only:", "babyroom_sessions_per_month:", "parameters:",
                "population_scale:", "replicates:", "seed:", "targets:"):
        assert key in text, f"docs/scenarios.md has no validated example with {key!r}"


@requires_cli
@pytest.mark.parametrize("number", range(len(EXAMPLES)))
def test_docs_scenarios_example_validates(number, tmp_path):
    text = EXAMPLES[number]
    # The examples extend files of scenarios/; written elsewhere, they name them absolutely.
    text = re.sub(r"^extends: (\S+)", lambda m: f"extends: {ROOT / 'scenarios' / m.group(1)}",
                  text, flags=re.M)
    path = tmp_path / f"example-{number}.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_cli("validate", path)
    assert result.returncode == 0, f"example {number + 1} of docs/scenarios.md:\n{text}\n{result.stderr}"
