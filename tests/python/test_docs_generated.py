"""test_docs_generated: the generated parts of docs/ equal what the program prints."""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("CHILDSIM_BINARY") or str(ROOT / "build/release/sim/childsim")


@pytest.mark.skipif(not Path(BINARY).exists(), reason=f"CLI not built: {BINARY}")
def test_docs_output_format_table_is_the_catalog():
    text = (ROOT / "docs/output-format.md").read_text()
    begin = "<!-- BEGIN GENERATED: childsim outputs --markdown -->"
    end = "<!-- END GENERATED -->"
    assert begin in text and end in text
    section = text.split(begin, 1)[1].split(end, 1)[0].strip()
    printed = subprocess.run([BINARY, "outputs", "--markdown"], capture_output=True, text=True,
                             check=True).stdout.strip()
    assert section == printed, (
        "docs/output-format.md is out of date: regenerate the section between the markers "
        "with `childsim outputs --markdown`")


@pytest.mark.skipif(not Path(BINARY).exists(), reason=f"CLI not built: {BINARY}")
def test_docs_parameter_table_is_the_parameter_file():
    text = (ROOT / "docs/parameters.md").read_text()
    begin = "<!-- BEGIN GENERATED: childsim parameters --markdown -->"
    end = "<!-- END GENERATED -->"
    section = text.split(begin, 1)[1].split(end, 1)[0].strip()
    printed = subprocess.run([BINARY, "parameters", str(ROOT / "scenarios/changning"),
                              "--markdown"], capture_output=True, text=True, check=True).stdout
    assert section == printed.strip(), (
        "docs/parameters.md is out of date: regenerate it with `childsim parameters --markdown`")
