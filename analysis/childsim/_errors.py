"""_errors: the exceptions of the childsim package.

Defined in Python (not in the compiled ``_core``) so that they exist, and can be caught,
even where the compiled module is not built; ``_core`` raises them.
"""

__all__ = ["ScenarioError", "OutputError", "ResourceError"]


class ScenarioError(ValueError):
    """A scenario is not valid: nothing was run.

    The message is exactly what the ``childsim`` command line prints after ``error:``, for
    example ``scenario.yaml:3:1: key 'replicats': unknown key (did you mean
    'replicates'?)``. The place it points at is also available as attributes.

    Attributes
    ----------
    file : str
        The file (or ``<dict>``, ``<text>``, ``<parameters>`` for scenarios given in
        Python) in which the offending value was written; empty when unknown.
    line, column : int
        1-based position in that file; 0 when unknown.
    key : str
        Dotted key path of the offending value, e.g. ``demography.fertility``; may be empty.

    Examples
    --------
    >>> import childsim
    >>> try:
    ...     childsim.load_scenario({"base_data": "changning", "replicats": 2},
    ...                            base_dir=childsim.find_root() / "scenarios")
    ... except childsim.ScenarioError as error:
    ...     print(error.key, "|", error)
    replicats | <dict>:3:3: key 'replicats': unknown key (did you mean 'replicates'?)
    """

    def __init__(self, message, *, file="", line=0, column=0, key=""):
        super().__init__(message)
        self.file = file
        self.line = line
        self.column = column
        self.key = key


class OutputError(OSError):
    """An output file could not be written: nothing under its name changed.

    Raised by :func:`childsim.write` (and the functions writing through it) when the file
    system refuses: a full disk or file-size limit, a path that is a directory, a device or
    a FIFO, a missing or read-only directory. The message is the one line the ``childsim``
    command line prints after ``error:``. No temporary file is left behind, the previous
    file (if any) is unchanged, and the interpreter stays usable: the file is built in
    memory, so HDF5 holds nothing open after the failure.

    Examples
    --------
    >>> import childsim, xarray as xr
    >>> ds = xr.Dataset({"x": ("t", [1.0, 2.0])}, coords={"t": [0, 1]})
    >>> try:
    ...     childsim.write(ds, "/dev/null")
    ... except childsim.OutputError as error:
    ...     print("refused:", "character device" in str(error))
    refused: True
    """


class ResourceError(MemoryError):
    """A run would not fit in this machine's memory: nothing was run.

    Raised by :func:`childsim.run` before anything is allocated, when the estimated peak
    memory of the run (about three times its output arrays, plus one replicate's agents)
    exceeds what the process may still allocate. The message gives both figures and the
    largest replicate count that fits; the ``childsim`` command line prints the same line
    and exits with status 3.

    Examples
    --------
    >>> import childsim
    >>> issubclass(childsim.ResourceError, MemoryError)
    True
    """
