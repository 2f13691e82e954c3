#!/usr/bin/python3
"""make_readme_sample: the baseline's printed summary in README.md and docs/user-guide.md,
regenerated from a run (issue #11, part 6).

Runs the quick start's baseline (`childsim run scenarios/baseline.yaml`, its 4 replicates and
seed: deterministic, so the numbers are the same on every machine and at any thread count)
and writes
  - README.md: an excerpt of the summary (first street, district, births of the first three
    and the last year) in the block after "The baseline prints …";
  - docs/user-guide.md: the whole summary in the block under "Reading the summary".
tests/python/test_docs_blocks.py checks both blocks against the quick start's run.

Usage: /usr/bin/python3 tools/make_readme_sample.py [--check] [--binary build/release/sim/childsim]
  --check   change nothing; exit 1 (naming the file) if a block differs from a fresh run.
"""
import argparse
import os
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
USER_GUIDE = ROOT / "docs" / "user-guide.md"
# The fenced block that follows each of these lines (after the docs-test marker line).
README_ANCHOR = "year and the plan's targets met (`...`: lines left out here):"
GUIDE_ANCHOR = "After a run, `childsim run` prints (unless `-q`):"


def run_baseline(binary):
    """The stdout of `childsim run scenarios/baseline.yaml -o baseline.h5`."""
    with tempfile.TemporaryDirectory() as directory:
        env = dict(os.environ, OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "passive"))
        result = subprocess.run([str(binary), "run", "scenarios/baseline.yaml", "-o",
                                 f"{directory}/baseline.h5"], cwd=ROOT, env=env,
                                capture_output=True, text=True, check=True)
    return result.stdout.replace(f"{directory}/", "")


def readme_sample(output):
    """The README's excerpt of a baseline run's printed ``output``.

    >>> text = ("Children aged 0–17 (mean of 4 replicate(s)), end of year:\\n"
    ...         "  street  2024  2035\\n  a  5  4\\n  b  3  2\\n  district  8  6\\n"
    ...         "Births per year (district, mean):\\n  2024: 9 2025: 8 2026: 7 2027: 6 2028: 5\\n"
    ...         "Plan targets met ...\\n")
    >>> print(readme_sample(text))
    Children aged 0–17 (mean of 4 replicate(s)), end of year:
      street  2024  2035
      a  5  4
      ...
      district  8  6
    Births per year (district, mean):
      2024: 9 2025: 8 2026: 7 ... 2028: 5
    ...
    """
    lines = output.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("Children aged"))
    district = next(i for i, line in enumerate(lines) if line.lstrip().startswith("district "))
    births = lines.index("Births per year (district, mean):")
    years = re.findall(r"\d{4}: \d+", lines[births + 1])
    short = " ".join(years[:3]) + " ... " + years[-1] if len(years) > 4 else " ".join(years)
    return "\n".join(lines[first:first + 3] + ["  ...", lines[district], lines[births],
                                                "  " + short, "..."])


def guide_sample(output):
    """The user guide's copy: the whole summary as printed (``Wrote baseline.h5`` last)."""
    return output.rstrip("\n")


def replace_block(text, anchor, body):
    """``text`` with the fenced block after the line ``anchor`` holding ``body``."""
    start = text.index(anchor + "\n")
    fence = text.index("```", start)
    open_end = text.index("\n", fence) + 1
    close = text.index("\n```", open_end - 1) + 1
    return text[:open_end] + body + "\n" + text[close:]


def block_after(text, anchor):
    """The body of the fenced block after the line ``anchor``."""
    start = text.index(anchor + "\n")
    fence = text.index("```", start)
    open_end = text.index("\n", fence) + 1
    close = text.index("\n```", open_end - 1) + 1
    return text[open_end:close].rstrip("\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--binary", default=str(ROOT / "build" / "release" / "sim" / "childsim"))
    args = parser.parse_args(argv)
    output = run_baseline(args.binary)
    status = 0
    for path, anchor, body in ((README, README_ANCHOR, readme_sample(output)),
                               (USER_GUIDE, GUIDE_ANCHOR, guide_sample(output))):
        text = path.read_text(encoding="utf-8")
        if block_after(text, anchor) == body:
            continue
        if args.check:
            print(f"{path.relative_to(ROOT)}: the baseline's sample output is out of date "
                  f"(run tools/make_readme_sample.py)", file=sys.stderr)
            status = 1
        else:
            path.write_text(replace_block(text, anchor, body), encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
