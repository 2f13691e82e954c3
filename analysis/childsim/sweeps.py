"""sweeps: parameter sweeps — a design over named parameters, each sample run as an ensemble.

A sweep takes a scenario and a design over some of its parameters (rows of the base data's
``parameters.yaml``, by name), runs the scenario once per design row (a *sample*) as an
ensemble of replicates, and stores everything in one file with a leading ``sample``
dimension; the sampled values are coordinates along it (one per parameter), and the design
itself (kind, bounds, structure) is a global attribute, so that :func:`sweep_indices` can
compute sensitivity indices from the file alone.

**Common random numbers.** Every sample runs with the scenario's seed, so replicate r of
every sample draws the same random numbers wherever the model does the same thing; the
differences between samples are then due to the parameters, not to noise, which is what a
sensitivity analysis needs.

**Reproducible and resumable.** Each finished sample is written at once to
``OUT.h5.parts/sample-NNNNNN.h5`` (through the C++ writer, under a temporary name renamed
when complete) next to a ``manifest.json`` fingerprinting the design, the resolved scenario
and the program version. A sweep started again with the same design skips the samples it
finds and runs the rest; a different design is refused rather than mixed in. When all
samples are there the file is assembled (again under a temporary name) and the parts are
removed. The output depends only on the design and the scenario — not on the number of
threads, nor on whether and where the sweep was interrupted (tests/python/test_sweeps.py).

The design file (YAML; docs/research.md describes every key)::

    scenario: quick-baseline.yaml     # relative to the design file
    design: saltelli                  # full_factorial | latin_hypercube | saltelli | morris
    samples: 64                       # LHS: rows; saltelli: base rows N; morris: trajectories
    replicates: 2                     # per sample (default: the scenario's)
    variables: [nursery_unmet]        # outputs to keep (default: all)
    parameters:
      nursery.seek_intercept:         # empty: the documented range
      migration.out_rate: [0.04, 0.09]

Errors in it name the file, line, column and key, and nothing runs.
"""

import hashlib
import json
import numbers
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from . import designs as _designs
from ._errors import ScenarioError
from ._mpi_common import parse_on_every_rank, wait_for_all

__all__ = [
    "DesignError",
    "SweepDesign",
    "read_design",
    "parameter_table",
    "sweep",
    "sweep_design",
    "sweep_output",
    "sweep_indices",
    "RankError",
]

KINDS = ("full_factorial", "latin_hypercube", "saltelli", "morris")
_KEYS = ("scenario", "design", "samples", "levels", "seed", "replicates", "variables",
         "parameters")


class DesignError(ValueError):
    """A sweep design is not valid: nothing was run.

    The message reads ``FILE:LINE:COLUMN: key 'KEY': what is wrong``, as the scenario
    errors do; the place is also in the attributes ``file``, ``line``, ``column``, ``key``.

    Examples
    --------
    >>> from childsim.sweeps import DesignError
    >>> e = DesignError("unknown key", file="d.yaml", line=3, column=1, key="sampels")
    >>> print(e)
    d.yaml:3:1: key 'sampels': unknown key
    """

    def __init__(self, message, *, file="", line=0, column=0, key=""):
        where = f"{file}:{line}:{column}: " if file else ""
        what = f"key '{key}': " if key else ""
        super().__init__(f"{where}{what}{message}")
        self.file, self.line, self.column, self.key = str(file), line, column, key


@dataclass
class SweepDesign:
    """A validated sweep design (what :func:`read_design` returns).

    Attributes
    ----------
    scenario : pathlib.Path
        The scenario file.
    kind : str
        One of ``full_factorial``, ``latin_hypercube``, ``saltelli``, ``morris``.
    bounds : dict
        Parameter name to (low, high), in the design file's order.
    samples, levels, seed : int
        The kind's size, grid levels and seed (see the module docstring).
    replicates : int or None
        Replicates per sample (None: the scenario's).
    variables : list of str or None
        Outputs to keep (None: all).
    file : str
        Where the design was read from (``<dict>`` if given in Python).

    Examples
    --------
    >>> from childsim.sweeps import SweepDesign
    >>> d = SweepDesign("s.yaml", "latin_hypercube", {"a": (0.0, 1.0)}, samples=4)
    >>> len(d.table())
    4
    """

    scenario: Path
    kind: str
    bounds: dict
    samples: int = 0
    levels: int = 4
    seed: int = 0
    replicates: int = None
    variables: list = None
    file: str = "<dict>"
    _positions: dict = field(default_factory=dict, repr=False)

    def table(self):
        """The design's rows as a DataFrame (see :mod:`childsim.designs`).

        Examples
        --------
        >>> from childsim.sweeps import SweepDesign
        >>> SweepDesign("s.yaml", "full_factorial", {"a": (0.0, 1.0)}, levels=3).table()["a"].tolist()
        [0.0, 0.5, 1.0]
        """
        if self.kind == "full_factorial":
            return _designs.full_factorial(self.bounds, self.levels)
        if self.kind == "latin_hypercube":
            return _designs.latin_hypercube(self.bounds, self.samples, seed=self.seed)
        if self.kind == "saltelli":
            return _designs.saltelli(self.bounds, self.samples)
        return _designs.morris(self.bounds, self.samples, levels=self.levels, seed=self.seed)


# --- the parameter table --------------------------------------------------------------------

def parameter_table(base_data):
    """The base data's parameter table: value, unit and documented range of each parameter.

    Parameters
    ----------
    base_data : str or os.PathLike
        A base-data directory (holding ``parameters.yaml``) or the file itself.

    Returns
    -------
    pandas.DataFrame
        Index ``parameter``; columns ``value``, ``unit``, ``low``, ``high``.

    Examples
    --------
    >>> import childsim
    >>> from childsim.sweeps import parameter_table
    >>> t = parameter_table(childsim.find_root() / "scenarios" / "changning")
    >>> t.loc["migration.out_rate", ["value", "low", "high"]].tolist()
    [0.073, 0.03, 0.12]
    """
    import yaml

    path = Path(base_data)
    if path.is_dir():
        path = path / "parameters.yaml"
    with open(path, encoding="utf-8") as handle:
        rows = yaml.safe_load(handle)["parameters"]
    table = pd.DataFrame(
        {"value": [float(r["value"]) for r in rows],
         "unit": [str(r.get("unit", "")) for r in rows],
         "low": [float(r["range"][0]) for r in rows],
         "high": [float(r["range"][1]) for r in rows]},
        index=pd.Index([r["name"] for r in rows], name="parameter"),
    )
    table.attrs["file"] = str(path)
    return table


def _base_data_of(scenario_path):
    """The base-data directory a scenario file uses (its ``base_data``, after ``extends``)."""
    from ._scenario import find_root, load_scenario

    import yaml

    loaded = load_scenario(scenario_path)
    name = (yaml.safe_load(loaded.yaml) or {}).get("base_data", "changning")
    for candidate in (Path(scenario_path).parent / str(name),
                      find_root(Path(scenario_path).parent) / "scenarios" / str(name)):
        if (candidate / "parameters.yaml").is_file():
            return loaded, candidate
    raise FileNotFoundError(f"cannot find the base data '{name}' of {scenario_path}")


# --- reading a design file -------------------------------------------------------------------

def _close(word, choices):
    import difflib

    found = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f" (did you mean '{found[0]}'?)" if found else ""


def read_design(source, *, base_dir=None):
    """Read and validate a sweep design (YAML file or dict) against the parameter table.

    Parameters
    ----------
    source : str, os.PathLike or Mapping
        The design file, or the same content as a dict.
    base_dir : str or os.PathLike, optional
        For a dict, where ``scenario`` resolves (default: the current directory).

    Returns
    -------
    SweepDesign

    Raises
    ------
    DesignError
        Naming file, line, column and key: an unknown key or parameter, a bound outside the
        parameter's documented range, a missing scenario, a wrong kind or size.

    Examples
    --------
    >>> import childsim
    >>> from childsim.sweeps import read_design, DesignError
    >>> scenarios = childsim.find_root() / "scenarios"
    >>> d = read_design({"scenario": "baseline.yaml", "design": "latin_hypercube",
    ...                  "samples": 8, "parameters": {"migration.out_rate": None}},
    ...                 base_dir=scenarios)
    >>> d.bounds
    {'migration.out_rate': (0.03, 0.12)}
    >>> try:
    ...     read_design({"scenario": "baseline.yaml", "design": "morris", "samples": 4,
    ...                  "parameters": {"migration.out_rate": [0.0, 0.1]}}, base_dir=scenarios)
    ... except DesignError as e:
    ...     print(e)
    <dict>:0:0: key 'parameters.migration.out_rate': bounds [0.0, 0.1] leave the documented range [0.03, 0.12] (unit: probability per year)
    """
    import yaml

    if isinstance(source, (str, os.PathLike)):
        file = os.fspath(source)
        try:
            with open(file, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as error:
            raise DesignError(f"cannot read the design file: {error.strerror}", file=file) from None
        try:
            root = yaml.compose(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            raise DesignError(f"not valid YAML: {getattr(error, 'problem', error)}", file=file,
                              line=(mark.line + 1) if mark else 0,
                              column=(mark.column + 1) if mark else 0) from None
        base = Path(file).parent
        entries = _entries_from_node(root, file)
    elif hasattr(source, "items"):
        file = "<dict>"
        base = Path(base_dir) if base_dir is not None else Path.cwd()
        entries = {k: (v, 0, 0, {}) for k, v in source.items()}
        if isinstance(source.get("parameters"), dict):
            value, _, _, _ = entries["parameters"]
            entries["parameters"] = (value, 0, 0, {k: (0, 0) for k in value})
    else:
        raise TypeError(f"source must be a path or a mapping, got {type(source).__name__}")

    def fail(message, key, pos=None):
        line, column = pos if pos is not None else entries.get(key, (None, 0, 0))[1:3]
        raise DesignError(message, file=file, line=line, column=column, key=key)

    for key in entries:
        if key not in _KEYS:
            fail(f"unknown key{_close(key, _KEYS)}; expected one of {', '.join(_KEYS)}", key)
    for key in ("scenario", "design", "parameters"):
        if key not in entries:
            raise DesignError(f"missing required key '{key}'", file=file, line=1 if file != "<dict>" else 0,
                              column=1 if file != "<dict>" else 0, key=key)

    def integer(key, lo, default):
        if key not in entries:
            return default
        value = entries[key][0]
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo:
            fail(f"expected an integer >= {lo}, got {value!r}", key)
        return int(value)

    kind = entries["design"][0]
    if kind not in KINDS:
        fail(f"expected one of {', '.join(KINDS)}, got {kind!r}{_close(str(kind), KINDS)}", "design")
    samples = integer("samples", 2 if kind in ("saltelli", "morris") else 1, None)
    if kind != "full_factorial" and samples is None:
        fail(f"a {kind} design needs 'samples'", "design")
    levels = integer("levels", 2, 3 if kind == "full_factorial" else 4)
    if kind == "morris" and levels % 2:
        fail(f"Morris levels must be even, got {levels}", "levels")
    seed = integer("seed", 0, 0)
    replicates = integer("replicates", 1, None)
    variables = None
    if "variables" in entries:
        variables = entries["variables"][0]
        if not isinstance(variables, list) or not variables or not all(isinstance(v, str) for v in variables):
            fail("expected a non-empty list of output variable names", "variables")

    scenario_value = entries["scenario"][0]
    if not isinstance(scenario_value, str) or not scenario_value:
        fail("expected the path of a scenario file", "scenario")
    scenario = (base / scenario_value)
    if not scenario.is_file():
        fail(f"no such scenario file: '{scenario}'", "scenario")
    try:
        _, base_data = _base_data_of(scenario)
    except ScenarioError as error:
        fail(f"the scenario is not valid: {error}", "scenario")
    table = parameter_table(base_data)

    params, _, _, positions = entries["parameters"]
    if not isinstance(params, dict) or not params:
        fail("expected a map of parameter name to [low, high] (or nothing: the documented range)",
             "parameters")
    bounds = {}
    for name, value in params.items():
        key = f"parameters.{name}"
        pos = positions.get(name, (0, 0))
        if name not in table.index:
            fail(f"unknown parameter{_close(str(name), table.index)} (the parameters are the rows "
                 f"of {table.attrs['file']}; `childsim parameters` lists them)", key, pos)
        row = table.loc[name]
        if value is None:
            bounds[name] = (float(row["low"]), float(row["high"]))
            continue
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value)):
            fail(f"expected [low, high] (two numbers) or nothing, got {value!r}", key, pos)
        lo, hi = float(value[0]), float(value[1])
        if not lo < hi:
            fail(f"low must be below high, got [{lo}, {hi}]", key, pos)
        if lo < row["low"] or hi > row["high"]:
            fail(f"bounds [{lo}, {hi}] leave the documented range [{row['low']}, {row['high']}] "
                 f"(unit: {row['unit']})", key, pos)
        bounds[name] = (lo, hi)
    if kind == "saltelli" and 2 * len(bounds) > _designs.MAX_DIMENSIONS:
        fail(f"a Saltelli design takes at most {_designs.MAX_DIMENSIONS // 2} parameters", "parameters")
    return SweepDesign(scenario=scenario, kind=kind, bounds=bounds, samples=samples or 0,
                       levels=levels, seed=seed, replicates=replicates, variables=variables,
                       file=file)


def _entries_from_node(root, file):
    """Top-level keys of a composed YAML document: key -> (value, line, column, sub-positions)."""
    import yaml

    if not isinstance(root, yaml.MappingNode):
        line = root.start_mark.line + 1 if root is not None else 1
        raise DesignError("expected a map of keys (scenario, design, parameters, ...)", file=file,
                          line=line, column=1)
    out = {}
    for key_node, value_node in root.value:
        key = key_node.value
        value = yaml.safe_load(yaml.serialize(value_node))
        sub = {}
        if isinstance(value_node, yaml.MappingNode):
            for k, _ in value_node.value:
                sub[k.value] = (k.start_mark.line + 1, k.start_mark.column + 1)
        out[key] = (value, key_node.start_mark.line + 1, key_node.start_mark.column + 1, sub)
    return out


# --- running ------------------------------------------------------------------------------

def _fingerprint(design, table, loaded, replicates, seed):
    """What a resumed sweep must share with the interrupted one.

    The program's commit is part of it, as in a calibration's checkpoint: parts of another
    build would otherwise be mixed in (their files carry that build's ``git_commit``, so the
    assembled file differed from an uninterrupted sweep; found resuming an MPI sweep).
    """
    from ._native import core

    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(table.values, dtype=np.float64).tobytes())
    for part in (json.dumps(list(table.columns)), loaded.yaml, str(replicates), str(seed),
                 json.dumps(design.variables), core().version, core().git_commit):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def _part_name(i):
    return f"sample-{i:06d}.h5"


def _run_sample(design, replicates, seed, threads, values):
    """One sample's run, only the design's variables kept (and the coordinates they need).

    The outputs not kept are dropped before they are decoded into xarray: with a few
    variables kept, decoding all of them cost a sweep as much as a short run
    (docs/performance.md, "Sweeps").
    """
    from ._convert import dataset_from_raw
    from ._native import core
    from ._run import _check_int
    from ._scenario import load_scenario

    loaded = load_scenario(design.scenario, parameters=values)
    raw = core().run(loaded._impl, replicates, seed, _check_int("threads", threads, 1, 1024) or 0)
    if design.variables:
        known = {v["name"] for v in raw["variables"]}
        missing = [v for v in design.variables if v not in known]
        if missing:
            raise DesignError(f"unknown output variable(s) {missing}; `childsim outputs` "
                              f"lists them", file=design.file, key="variables")
        wanted = set(design.variables)
        # Variables without a replicate dimension are the auxiliary coordinates (labels).
        raw = dict(raw, variables=[v for v in raw["variables"]
                                   if v["name"] in wanted or "replicate" not in v["dims"]])
        return dataset_from_raw(raw)[design.variables]
    return dataset_from_raw(raw)


def _file_order(ds):
    """The dataset with its variables in the order reading its part file gives them
    (coordinates, then data), so that an assembled sweep is the same file whether a sample
    was kept in memory or read back after an interruption (test_sweeps checks the bytes)."""
    base = ds.drop_vars(list(ds.data_vars))
    return base.assign({name: ds[name] for name in ds.data_vars})


def _assemble(parts_dir, table, design, seed, in_memory=None):
    from ._io import open_run

    # Samples run by this process are taken from memory (reading them back cost as much as
    # a short run); only those of an earlier, interrupted start are read from their parts.
    in_memory = in_memory or {}
    runs = []
    for i in range(len(table)):
        run = in_memory.get(i)
        if run is None:
            run = open_run(parts_dir / _part_name(i))
        runs.append(run)
    index = pd.Index(np.arange(len(table), dtype=np.int64), name="sample")
    combined = xr.concat(runs, dim=index, data_vars="all", coords="minimal",
                         compat="override", join="exact", combine_attrs="override")
    coords = {name: ("sample", table[name].to_numpy(dtype=np.float64)) for name in table.columns}
    combined = combined.assign_coords(coords)
    info = {k: v for k, v in table.attrs.items()}
    combined.attrs.update(
        sweep_design=design.kind,
        sweep_parameters=json.dumps(list(table.columns)),
        sweep_design_attrs=json.dumps(info, sort_keys=True),
        sweep_samples=int(len(table)),
        sweep_seed=int(seed),
    )
    return combined


class RankError(RuntimeError):
    """Another MPI rank of a sweep failed (see :func:`sweep`'s ``comm``); nothing was written.

    The message is that rank's; ``exit_code`` is what the command line returns for it (2 for
    an invalid design or scenario, 1 otherwise).

    Examples
    --------
    >>> from childsim.sweeps import RankError
    >>> e = RankError("d.yaml:3:1: key 'sampels': unknown key", rank=1, exit_code=2)
    >>> print(e)
    d.yaml:3:1: key 'sampels': unknown key
    >>> e.rank, e.exit_code
    (1, 2)
    """

    def __init__(self, message, *, rank, exit_code):
        super().__init__(message)
        self.rank, self.exit_code = rank, exit_code


def _exit_code(error):
    """The command line's exit code for an error: 2 for bad input, 1 for anything else."""
    if isinstance(error, RankError):
        return error.exit_code
    return 2 if isinstance(error, (DesignError, ScenarioError)) else 1


def _collective(comm, step):
    """``step()`` on this rank; if it raised on any rank, raise on every rank.

    Every rank reaches the same point whatever happened, so no rank waits forever for one
    that failed. A rank that failed raises its own error; the others raise a
    :class:`RankError` with the message of the lowest failing rank. Without ``comm`` this is
    just ``step()``.
    """
    if comm is None:
        return step()
    error, result = None, None
    try:
        result = step()
    except Exception as caught:  # noqa: BLE001 (re-raised on every rank below)
        error = caught
    wait_for_all(comm)
    failures = comm.allgather(None if error is None else (str(error), _exit_code(error)))
    if error is not None:
        raise error
    for rank, failure in enumerate(failures):
        if failure is not None:
            raise RankError(failure[0], rank=rank, exit_code=failure[1])
    return result


def sweep(design, output, *, threads=None, base_dir=None, progress=None, comm=None):
    """Run a sweep design and write one file with a ``sample`` dimension.

    Each design row runs the scenario with those parameter values as an ensemble (the
    design's ``replicates``, the scenario's seed: common random numbers across samples).
    Finished samples are kept in ``OUTPUT.parts/`` so that an interrupted sweep, started
    again with the same design, runs only what is missing (see the module docstring).

    Parameters
    ----------
    design : str, os.PathLike, Mapping or SweepDesign
        The design file (or dict, or :func:`read_design`'s result).
    output : str or os.PathLike
        The file to write (``.h5``); its directory must exist.
    threads : int, optional
        OpenMP threads per run; results do not depend on it.
    base_dir : str or os.PathLike, optional
        For a dict design, where ``scenario`` resolves.
    progress : callable, optional
        Called as ``progress(done, total, resumed)`` after each sample (with ``comm``: on
        every rank, counting that rank's share of the samples still to run).
    comm : mpi4py.MPI.Comm, optional
        Spread the samples over the ranks of this communicator (``childsim-mpi sweep``;
        every rank calls :func:`sweep` with the same arguments). The samples still missing
        are dealt round-robin; each rank writes its own to ``OUTPUT.parts/`` (a directory
        all ranks must see), and rank 0 assembles the file, byte-identical to a sweep in one
        process. An error on any rank is raised on every rank (:class:`RankError` on the
        others) before anything is written.

    Returns
    -------
    xarray.Dataset
        What was written: every kept output with a leading ``sample`` dimension, one
        coordinate per parameter along ``sample``, the design in the attributes
        ``sweep_design``, ``sweep_parameters``, ``sweep_design_attrs``. With ``comm``, on
        rank 0 only; the other ranks return None.

    Raises
    ------
    DesignError
        If the design is not valid, or ``OUTPUT.parts`` belongs to another design.
    RankError
        With ``comm``: if another rank failed.

    Examples
    --------
    >>> import childsim, tempfile, pathlib
    >>> scenarios = childsim.find_root() / "scenarios"
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     tmp = pathlib.Path(tmp)
    ...     _ = (tmp / "quick.yaml").write_text(
    ...         f"extends: {scenarios / 'baseline.yaml'}\\npopulation_scale: 0.1\\nend: 2024-06\\n")
    ...     ds = childsim.sweep({"scenario": "quick.yaml", "design": "full_factorial",
    ...                          "levels": 2, "replicates": 1, "variables": ["births"],
    ...                          "parameters": {"fertility.tfr_multiplier": [0.8, 1.2]}},
    ...                         tmp / "sweep.h5", base_dir=tmp, threads=1)
    >>> ds["births"].dims[0], ds["fertility.tfr_multiplier"].values.tolist()
    ('sample', [0.8, 1.2])
    """
    rank, size = (comm.Get_rank(), comm.Get_size()) if comm is not None else (0, 1)
    if not isinstance(design, SweepDesign):
        design = _collective(comm, lambda: read_design(design, base_dir=base_dir))
    output = Path(output)
    plan = _collective(comm, lambda: _plan(design, output))
    if comm is not None and len(set(comm.allgather(plan["fingerprint"]))) > 1:
        raise DesignError("the MPI ranks do not see the same design, scenario or program "
                          "version (one build and one file system for all ranks)",
                          file=design.file)
    parts_dir = output.with_name(output.name + ".parts")
    # Rank 0 alone looks at and creates OUTPUT.parts; the others learn what is missing.
    missing = _collective(
        comm, lambda: _missing(parts_dir, plan, design.file) if rank == 0 else None)
    if comm is not None:
        missing = comm.bcast(missing, root=0)
    table = plan["table"]
    mine = missing[rank::size]
    resumed = len(table) - len(missing)
    computed = {}

    def run_mine():
        from ._io import write

        for done, i in enumerate(mine, start=1):
            values = {name: float(v) for name, v in table.iloc[i].items()}
            ds = _file_order(_run_sample(design, plan["replicates"], plan["seed"], threads,
                                         values))
            write(ds, parts_dir / _part_name(i))
            if rank == 0:
                computed[i] = ds
            if progress is None:
                continue
            if comm is None:
                progress(resumed + done, len(table), resumed)
            else:
                progress(done, len(mine), resumed)
        if not mine and progress is not None and comm is None:
            progress(len(table), len(table), resumed)

    _collective(comm, run_mine)

    def finish():
        if rank != 0:
            return None
        return _finish(parts_dir, output, table, design, plan, computed)

    return _collective(comm, finish)


def _plan(design, output):
    """What every rank of a sweep must agree on: the scenario, its replicates and seed, the
    design table and the fingerprint of all of them. Reads files, writes nothing."""
    from ._scenario import load_scenario

    if not output.parent.is_dir():
        raise FileNotFoundError(f"output directory '{output.parent}' does not exist")
    loaded = load_scenario(design.scenario)
    replicates = design.replicates or loaded.replicates
    seed = loaded.seed
    table = design.table()
    return {"loaded": loaded, "replicates": replicates, "seed": seed, "table": table,
            "fingerprint": _fingerprint(design, table, loaded, replicates, seed)}


def _missing(parts_dir, plan, design_file):
    """The samples not yet in ``parts_dir`` (created with its manifest if new); a
    :class:`DesignError` if it holds another design's samples."""
    manifest = parts_dir / "manifest.json"
    if parts_dir.exists():
        try:
            found = json.loads(manifest.read_text(encoding="utf-8")).get("fingerprint")
        except (OSError, ValueError):
            found = None
        if found != plan["fingerprint"]:
            raise DesignError(
                f"'{parts_dir}' holds samples of a different design, scenario or program "
                f"version; remove it to start afresh", file=design_file)
    else:
        parts_dir.mkdir()
        tmp = manifest.with_suffix(".tmp")
        tmp.write_text(json.dumps({"fingerprint": plan["fingerprint"],
                                   "samples": len(plan["table"])}), encoding="utf-8")
        os.replace(tmp, manifest)
    return [i for i in range(len(plan["table"]))
            if not (parts_dir / _part_name(i)).is_file()]


def _finish(parts_dir, output, table, design, plan, computed):
    """Assemble the parts into ``output`` and remove them."""
    from ._io import write

    combined = _assemble(parts_dir, table, design, plan["seed"], computed)
    # The runs' own `scenario` attribute carries sample 0's overrides; the sweep's is the
    # scenario as the design names it.
    combined.attrs["scenario"] = plan["loaded"].yaml
    write(combined, output)
    shutil.rmtree(parts_dir)
    return combined


# --- analysing a sweep ---------------------------------------------------------------------

def sweep_design(ds):
    """The design table of a sweep file: one row per sample, one column per parameter.

    Parameters
    ----------
    ds : xarray.Dataset
        A sweep (from :func:`sweep` or ``open_run`` of its file).

    Returns
    -------
    pandas.DataFrame
        As :mod:`childsim.designs` makes them (with ``attrs``), ready for
        :func:`childsim.sobol_indices` or :func:`childsim.morris_indices`.

    Examples
    --------
    >>> import xarray as xr, json
    >>> from childsim.sweeps import sweep_design
    >>> ds = xr.Dataset(coords={"sample": [0, 1], "a": ("sample", [0.1, 0.2])},
    ...                 attrs={"sweep_design": "latin_hypercube",
    ...                        "sweep_parameters": json.dumps(["a"]),
    ...                        "sweep_design_attrs": json.dumps({"bounds": {"a": [0, 1]}})})
    >>> sweep_design(ds)["a"].tolist(), sweep_design(ds).attrs["design"]
    ([0.1, 0.2], 'latin_hypercube')
    """
    if "sweep_design" not in ds.attrs:
        raise ValueError("not a sweep: the dataset has no 'sweep_design' attribute")
    names = json.loads(ds.attrs["sweep_parameters"])
    table = pd.DataFrame({n: ds[n].values.astype(float) for n in names},
                         index=pd.RangeIndex(ds.sizes["sample"], name="sample"))
    table.attrs.update(json.loads(ds.attrs["sweep_design_attrs"]))
    table.attrs["design"] = ds.attrs["sweep_design"]
    return table


def sweep_output(ds, variable, year, *, how="mean", where=None):
    """One number per sample: an output summed over space, summarised over a year and the ensemble.

    Parameters
    ----------
    ds : xarray.Dataset
        A sweep.
    variable : str
        An output with ``sample``, ``replicate`` and ``time`` dimensions, e.g.
        ``"nursery_unmet"``.
    year : int
        The calendar year summarised.
    how : {"mean", "sum", "last"}, default "mean"
        Over the year's months: the mean (stocks, e.g. unmet demand on an average
        month), the sum (flows, e.g. births in the year) or the last month (stock at the
        year's end).
    where : Mapping, optional
        A selection before summing, e.g. ``{"street": "xinjing"}``.

    Returns
    -------
    xarray.DataArray
        Along ``sample``: the ensemble mean (over ``replicate``) of the summary, with the
        other dimensions (street, age, facility, ...) summed.

    Examples
    --------
    >>> import numpy as np, pandas as pd, xarray as xr
    >>> from childsim.sweeps import sweep_output
    >>> t = pd.date_range("2030-01-01", periods=12, freq="MS")
    >>> x = xr.DataArray(np.ones((2, 3, 12, 2)), dims=("sample", "replicate", "time", "street"),
    ...                  coords={"time": t})
    >>> sweep_output(xr.Dataset({"v": x}), "v", 2030, how="sum").values.tolist()
    [24.0, 24.0]
    """
    if variable not in ds:
        raise KeyError(f"no variable {variable!r} in the sweep")
    da = ds[variable]
    for dim in ("sample", "time"):
        if dim not in da.dims:
            raise ValueError(f"{variable} has no {dim!r} dimension")
    if where:
        da = da.sel(where)
    da = da.sel(time=da["time"].dt.year == int(year))
    if da.sizes["time"] == 0:
        raise ValueError(f"the sweep does not cover {year}")
    other = [d for d in da.dims if d not in ("sample", "replicate", "time")]
    da = da.sum(other)
    if how == "mean":
        da = da.mean("time")
    elif how == "sum":
        da = da.sum("time")
    elif how == "last":
        da = da.isel(time=-1)
    else:
        raise ValueError(f"how must be 'mean', 'sum' or 'last', got {how!r}")
    if "replicate" in da.dims:
        da = da.mean("replicate")
    da.name = f"{variable}_{year}_{how}"
    return da


def sweep_indices(ds, y, **options):
    """Sensitivity indices of a sweep's output: Sobol for ``saltelli``, Morris for ``morris``.

    Parameters
    ----------
    ds : xarray.Dataset
        A sweep.
    y : xarray.DataArray or array-like
        One value per sample (e.g. from :func:`sweep_output`).
    **options
        Passed to :func:`childsim.sobol_indices` (``bootstrap``, ``confidence``, ``seed``).

    Returns
    -------
    pandas.DataFrame
        As :func:`childsim.sobol_indices` or :func:`childsim.morris_indices`.

    Examples
    --------
    >>> import json, numpy as np, xarray as xr
    >>> from childsim.designs import morris
    >>> from childsim.sweeps import sweep_indices
    >>> d = morris({"a": (0, 1), "b": (0, 2)}, 4)
    >>> ds = xr.Dataset(coords={"sample": d.index.values, **{k: ("sample", d[k].values) for k in d}},
    ...                 attrs={"sweep_design": "morris", "sweep_parameters": json.dumps(["a", "b"]),
    ...                        "sweep_design_attrs": json.dumps(d.attrs)})
    >>> sweep_indices(ds, 5 * d["a"].values)["mu_star"].round(6).tolist()
    [5.0, 0.0]
    """
    from .sensitivity import morris_indices, sobol_indices

    table = sweep_design(ds)
    kind = table.attrs["design"]
    if kind == "saltelli":
        return sobol_indices(table, y, **options)
    if kind == "morris":
        return morris_indices(table, y)
    raise ValueError(f"sensitivity indices need a saltelli or morris sweep, this is {kind!r}")


# --- the command line --------------------------------------------------------------------

def main(argv=None, *, comm=None):
    """``childsim sweep DESIGN.yaml -o OUT.h5``: the command line (see docs/research.md).

    With ``comm`` (``childsim-mpi sweep``, :mod:`childsim._mpi_sweep`) the samples are spread
    over its ranks and only rank 0 prints, errors included: each message appears once.
    """
    import argparse

    rank = comm.Get_rank() if comm is not None else 0
    size = comm.Get_size() if comm is not None else 1
    parser = argparse.ArgumentParser(
        prog="childsim sweep" if comm is None else "childsim-mpi sweep",
        description="Run a design over named parameters (each sample an ensemble with common "
                    "random numbers) into one file with a 'sample' dimension; an interrupted "
                    "sweep started again resumes."
                    + ("" if comm is None else " The samples are spread over the MPI ranks; "
                       "the file is the one `childsim sweep` writes."))
    parser.add_argument("design", help="the design file (YAML; docs/research.md)")
    parser.add_argument("-o", "--output", required=True, help="the file to write (.h5)")
    parser.add_argument("--threads", type=int,
                        help="OpenMP threads per run" + (" (per rank)" if comm else ""))
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    try:
        args = parse_on_every_rank(parser, argv, rank)
    except SystemExit as stop:  # --help, or bad arguments: every rank stops alike
        return stop.code

    def progress(done, total, resumed):
        if args.quiet or rank != 0:
            return
        if done == total or done % max(1, total // 20) == 0:
            extra = f" ({resumed} from an earlier start)" if resumed else ""
            where = "" if comm is None else f"rank 0 of {size}: "
            print(f"{where}sample {done}/{total}{extra}", flush=True)

    def checked_design():
        design = read_design(args.design)
        out = Path(args.output)
        if out.is_dir():
            raise DesignError(f"output path '{out}' is a directory")
        if not out.parent.is_dir():
            raise DesignError(f"output directory '{out.parent}' does not exist")
        return design

    def report(error):
        if rank == 0:
            sys.stderr.write(f"error: {error}\n")
        return _exit_code(error)

    try:
        design = _collective(comm, checked_design)
        ds = sweep(design, Path(args.output), threads=args.threads, progress=progress,
                   comm=comm)
    except (DesignError, ScenarioError, RankError) as error:
        return report(error)
    except (ValueError, OSError, ImportError) as error:
        return report(error)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: finished samples are kept; run the same command again "
                         "to resume\n")
        if comm is not None:
            comm.Abort(130)  # the other ranks would wait for this one forever
        return 130
    if rank == 0:
        print(f"Wrote {args.output}: {ds.sizes['sample']} samples x "
              f"{ds.sizes.get('replicate', 1)} replicate(s) of {design.kind} over "
              f"{len(design.bounds)} parameter(s)")
    return 0
