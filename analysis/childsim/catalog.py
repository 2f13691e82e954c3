"""catalog: the output variables a run holds, from the declarations in the C++ core."""

import pandas as pd

from ._native import core

__all__ = ["outputs"]


def outputs():
    """The output variables of a run: name, dimensions, units and meaning.

    Read from the same declarations (sim/io/output_catalog.cpp) that the recorder, the
    file's attributes and ``childsim outputs --markdown`` use. Needs the compiled module.

    Returns
    -------
    pandas.DataFrame
        Index ``name``; columns ``dims`` (tuple), ``units``, ``long_name``, ``description``.

    Examples
    --------
    >>> import childsim
    >>> table = childsim.outputs()
    >>> table.loc["births", "dims"]
    ('replicate', 'time', 'street')
    """
    return pd.DataFrame(core().output_catalog()).set_index("name")
