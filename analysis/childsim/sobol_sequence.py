"""sobol_sequence: the Sobol low-discrepancy sequence, with Joe and Kuo's direction numbers.

A Sobol sequence fills the unit cube far more evenly than independent uniform draws, which
is what makes a Saltelli design's variance-based sensitivity estimates converge at close to
1/N instead of 1/sqrt(N). Point i of dimension k is the XOR of the direction numbers v_k,b
over the set bits b of the Gray code of i (Antonov and Saleev 1979), so the points come in
the same order as the usual recursive generator (and as ``scipy.stats.qmc.Sobol`` with
``scramble=False``), and any block of points can be made without the ones before it: a
sweep that resumes after an interruption re-creates exactly the design it started with.

The direction numbers are Joe and Kuo's ``new-joe-kuo-6.21201`` (see ``_joe_kuo``); the
construction of v_k,b from them is that of Bratley and Fox (1988), Algorithm 659, as written
in Joe and Kuo's notes: v_b = m_b / 2^b for b <= s, then
v_b = a_1 v_(b-1) ^ ... ^ a_(s-1) v_(b-s+1) ^ v_(b-s) ^ (v_(b-s) / 2^s).
"""

import numpy as np

from ._joe_kuo import JOE_KUO

__all__ = ["sobol_sequence", "MAX_DIMENSIONS"]

MAX_DIMENSIONS = len(JOE_KUO) + 1
_BITS = 32  # points are multiples of 2^-32; enough for 2^32 points


def _direction_numbers(dimensions):
    """Integer direction numbers V[k, b] (scaled by 2^32) for k < dimensions, b < 32."""
    v = np.zeros((dimensions, _BITS), dtype=np.uint64)
    # Dimension 1: every m_b is 1, so v_b = 2^-b (the van der Corput sequence in base 2).
    for b in range(_BITS):
        v[0, b] = 1 << (_BITS - 1 - b)
    for k in range(1, dimensions):
        _, s, a, m = JOE_KUO[k - 1]
        row = [0] * _BITS
        for b in range(min(s, _BITS)):
            row[b] = m[b] << (_BITS - 1 - b)
        for b in range(s, _BITS):
            value = row[b - s] ^ (row[b - s] >> s)
            for j in range(1, s):
                if (a >> (s - 1 - j)) & 1:
                    value ^= row[b - j]
            row[b] = value
        v[k] = row
    return v


def sobol_sequence(points, dimensions, *, skip=0):
    """Points of the (unscrambled) Sobol sequence in the unit cube.

    Parameters
    ----------
    points : int
        How many points (rows).
    dimensions : int
        How many dimensions (columns), 1..128.
    skip : int, default 0
        Start at point ``skip`` of the sequence (point 0 is the origin). Balance
        properties hold for blocks of 2^m points starting at a multiple of 2^m, so
        ``points`` and ``skip`` are best powers of two.

    Returns
    -------
    numpy.ndarray
        Shape ``(points, dimensions)``, values in [0, 1), exact multiples of 2^-32.

    Examples
    --------
    >>> from childsim.sobol_sequence import sobol_sequence
    >>> sobol_sequence(4, 2)
    array([[0.  , 0.  ],
           [0.5 , 0.5 ],
           [0.75, 0.25],
           [0.25, 0.75]])
    """
    points, dimensions, skip = int(points), int(dimensions), int(skip)
    if not 1 <= dimensions <= MAX_DIMENSIONS:
        raise ValueError(f"dimensions must be in [1, {MAX_DIMENSIONS}], got {dimensions}")
    if points < 0 or skip < 0 or points + skip > 2**_BITS:
        raise ValueError(f"points and skip must be >= 0 with points + skip <= 2^{_BITS}")
    v = _direction_numbers(dimensions)
    index = np.arange(skip, skip + points, dtype=np.uint64)
    gray = index ^ (index >> np.uint64(1))
    x = np.zeros((points, dimensions), dtype=np.uint64)
    for b in range(_BITS):
        bit = ((gray >> np.uint64(b)) & np.uint64(1)).astype(bool)
        if bit.any():
            x[bit] ^= v[:, b]
    return x.astype(np.float64) / float(2**_BITS)
