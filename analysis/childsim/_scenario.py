"""_scenario: loading and validating scenarios (from a file, a dict or YAML text).

All validation is the C++ library's (sim/scenario/scenario.cpp), so a scenario is accepted
or rejected in Python exactly as by ``childsim validate``; problems raise
:class:`childsim.ScenarioError` with the CLI's message.
"""

import json
import math
import numbers
import os
from collections.abc import Mapping
from pathlib import Path

from ._errors import ScenarioError
from ._native import core

__all__ = ["Scenario", "load_scenario", "scenario_from_yaml", "find_root"]

# Names under which scenarios given in Python appear in messages and in `scenario_file`.
_DICT_NAME = "<dict>"
_TEXT_NAME = "<text>"


class Scenario:
    """A validated scenario, ready to :func:`childsim.run`.

    Create one with :func:`load_scenario` or :func:`scenario_from_yaml`; the object is
    read-only (``run`` takes ``replicates`` and ``seed`` overrides).

    Attributes
    ----------
    name, description : str
        From the scenario (``name`` defaults to the file's stem).
    file : str
        The scenario file as given (``<dict>`` / ``<text>`` after ``base_dir`` for
        scenarios given in Python); stored as the ``scenario_file`` attribute of outputs.
    start, end : str
        First and last simulated month, ``YYYY-MM``.
    n_months, replicates, seed : int
    population_scale : float
        1 is the whole district; less for quick runs.
    fertility_variant : str
        ``medium``, ``low``, ``high`` or ``custom``.
    streets : list of str
        Street ids in output order.
    parameters : dict
        Every model parameter's value (defaults with the scenario's overrides).
    yaml : str
        The merged scenario (after ``extends`` and overrides), as stored in outputs.

    Examples
    --------
    >>> import childsim
    >>> root = childsim.find_root()
    >>> sc = childsim.load_scenario(root / "scenarios" / "low-fertility.yaml")
    >>> sc.name, sc.start, sc.end, sc.fertility_variant
    ('low-fertility', '2024-01', '2035-12', 'low')
    """

    __slots__ = ("_impl",)

    def __init__(self, impl):
        self._impl = impl

    name = property(lambda self: self._impl.name)
    description = property(lambda self: self._impl.description)
    file = property(lambda self: self._impl.file)
    start = property(lambda self: self._impl.start)
    end = property(lambda self: self._impl.end)
    n_months = property(lambda self: self._impl.n_months)
    replicates = property(lambda self: self._impl.replicates)
    seed = property(lambda self: self._impl.seed)
    population_scale = property(lambda self: self._impl.population_scale)
    fertility_variant = property(lambda self: self._impl.fertility_variant)
    streets = property(lambda self: list(self._impl.streets))
    parameters = property(lambda self: dict(self._impl.parameters))
    yaml = property(lambda self: self._impl.resolved_yaml)

    def __repr__(self):
        return (
            f"<childsim.Scenario {self.name!r}: {self.start} to {self.end}, "
            f"{self.replicates} replicate(s), seed {self.seed}, "
            f"population_scale {self.population_scale:g}>"
        )


def find_root(start=None):
    """The childsim repository root (the directory holding ``scenarios/``).

    Looks at, in order: the environment variable ``CHILDSIM_ROOT``; ``start`` (default:
    the current directory) and its parents; the directories above this package (which lives
    in ``<root>/analysis/childsim``).

    Parameters
    ----------
    start : str or os.PathLike, optional
        Where to start walking up.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError
        If no candidate holds ``scenarios/baseline.yaml``.

    Examples
    --------
    >>> import childsim
    >>> (childsim.find_root() / "scenarios" / "baseline.yaml").is_file()
    True
    """
    candidates = []
    if os.environ.get("CHILDSIM_ROOT"):
        candidates.append(Path(os.environ["CHILDSIM_ROOT"]))
    here = Path(start) if start is not None else Path.cwd()
    candidates += [here, *here.resolve().parents]
    candidates += list(Path(__file__).resolve().parents)
    for candidate in candidates:
        if (candidate / "scenarios" / "baseline.yaml").is_file():
            return candidate.resolve()
    raise FileNotFoundError(
        "cannot find the childsim repository (a directory with scenarios/baseline.yaml): "
        "set CHILDSIM_ROOT"
    )


def _parameters_yaml(parameters):
    """The overrides as a YAML ``parameters:`` map (keys as JSON strings, which YAML reads)."""
    if parameters is None:
        return ""
    if not isinstance(parameters, Mapping):
        raise TypeError(
            f"parameters must be a mapping name -> number, got {type(parameters).__name__}"
        )
    lines = ["parameters:"]
    for name, value in parameters.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"parameter names must be non-empty str, got {name!r}")
        if isinstance(value, (bool,)) or not isinstance(value, numbers.Real):
            raise TypeError(f"parameter {name!r}: expected a number, got {value!r}")
        if not math.isfinite(float(value)):
            raise ScenarioError(
                f"parameter {name!r}: expected a finite number, got {value!r}",
                key=f"parameters.{name}",
            )
        text = str(int(value)) if isinstance(value, numbers.Integral) else repr(float(value))
        lines.append(f"  {json.dumps(name, ensure_ascii=False)}: {text}")
    return "\n".join(lines) + "\n" if len(lines) > 1 else ""


def _plain(value, where="scenario"):
    """Mappings and sequences as dicts and lists that ``json`` can write, keys as str."""
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, (str, numbers.Integral)):
                raise TypeError(f"{where}: keys must be str (or int, e.g. years), got {key!r}")
            out[str(key)] = _plain(item, f"{where}.{key}")
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (str, bool, type(None))):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(
        f"{where}: cannot be written in a scenario (str, number, bool, None, dict or list), "
        f"got {type(value).__name__}"
    )


def _base_dir(base_dir):
    if base_dir is None:
        return ""
    if not isinstance(base_dir, (str, os.PathLike)):
        raise TypeError(f"base_dir must be a path, got {type(base_dir).__name__}")
    return os.fspath(base_dir)


def _load_text(text, base_dir, name, parameters):
    return Scenario(
        core().load_scenario_text(text, _base_dir(base_dir), name, _parameters_yaml(parameters))
    )


def load_scenario(source, *, base_dir=None, parameters=None):
    """Read and validate a scenario, as ``childsim validate`` does.

    Parameters
    ----------
    source : str, os.PathLike, Mapping or Scenario
        A scenario file (YAML; ``extends:`` and ``base_data:`` resolve against the file's
        directory), or the scenario's content as a dict (keys in the order a file would
        have them; it is written out as YAML — in its JSON form — and read like a file
        named ``<dict>``), or an already loaded :class:`Scenario` (returned as is).
    base_dir : str or os.PathLike, optional
        For a dict: where relative paths in it (``extends:``, ``base_data:``) resolve.
        Default: the current directory.
    parameters : Mapping of str to float, optional
        Parameter overrides, applied exactly as entries of the scenario's ``parameters:``
        map (same names, range checks and messages, which point at ``<parameters>``).

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        If the scenario is not valid (the message is the CLI's).
    TypeError
        If an argument has the wrong type.

    See Also
    --------
    scenario_from_yaml : the same from YAML text.
    run : run a scenario.

    Examples
    --------
    >>> import childsim
    >>> scenarios = childsim.find_root() / "scenarios"
    >>> sc = childsim.load_scenario(
    ...     {"extends": "baseline.yaml", "name": "quick", "population_scale": 0.1},
    ...     base_dir=scenarios, parameters={"migration.out_rate": 0.08})
    >>> sc.name, sc.population_scale, sc.parameters["migration.out_rate"]
    ('quick', 0.1, 0.08)
    """
    if isinstance(source, Scenario):
        if base_dir is not None or parameters is not None:
            raise TypeError(
                "base_dir and parameters apply when loading; this scenario is already loaded"
            )
        return source
    if isinstance(source, Mapping):
        text = json.dumps(_plain(source), indent=2, ensure_ascii=False)
        return _load_text(text, base_dir, _DICT_NAME, parameters)
    if isinstance(source, (str, os.PathLike)):
        if base_dir is not None:
            raise TypeError(
                "base_dir applies to dict and text scenarios; paths in a scenario file "
                "resolve against the file's own directory"
            )
        return Scenario(core().load_scenario_file(os.fspath(source), _parameters_yaml(parameters)))
    raise TypeError(
        f"scenario must be a path, a dict or a childsim.Scenario, got {type(source).__name__}"
    )


def scenario_from_yaml(text, *, base_dir=None, parameters=None):
    """Read and validate a scenario written as YAML text.

    Parameters
    ----------
    text : str
        The scenario, as it would be written in a file; messages call it ``<text>``.
    base_dir : str or os.PathLike, optional
        Where relative paths (``extends:``, ``base_data:``) resolve. Default: the current
        directory.
    parameters : Mapping of str to float, optional
        Parameter overrides (see :func:`load_scenario`).

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        If the scenario is not valid.

    Examples
    --------
    >>> import childsim
    >>> sc = childsim.scenario_from_yaml(
    ...     "extends: baseline.yaml\\nend: 2026-12\\npopulation_scale: 0.1\\n",
    ...     base_dir=childsim.find_root() / "scenarios")
    >>> sc.n_months
    36
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    return _load_text(text, base_dir, _TEXT_NAME, parameters)
