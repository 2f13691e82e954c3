#!/usr/bin/env python3
# make_validation: run the baseline ensemble and write docs/validation.md (the model against
# observed figures). The logic is analysis/childsim/validation.py; this is its entry point.
#
#   python3 tools/make_validation.py                  # 16 replicates, full district (~30 s)
#   python3 tools/make_validation.py --check          # exit 1 if docs/validation.md is stale
#   python3 tools/make_validation.py --input run.h5   # from an existing run file
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = pathlib.Path(os.environ.get("CHILDSIM_BUILD_DIR", ROOT / "build" / "release"))
for path in (str(BUILD / "python"), str(ROOT / "analysis")):
    if path not in sys.path:
        sys.path.insert(0, path)
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from childsim.validation import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
