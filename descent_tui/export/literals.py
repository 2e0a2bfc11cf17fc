"""Numbers and arrays written as Python source that reads back to the same bits.

``repr(float)`` is the shortest text that parses to the same float, so a
script that embeds ``array_literal(a)`` holds exactly the arrays descent used.
"""

from __future__ import annotations

import textwrap

import numpy as np

__all__ = ["array_literal", "number"]


def number(x: float) -> str:
    """``x`` as Python source (``repr``; ``float('inf')`` / ``float('nan')`` spelled out)."""
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        return f"float({str(x)!r})"
    return repr(x)


def _row(values: np.ndarray, integer: bool) -> str:
    return "[" + ", ".join(str(int(v)) if integer else number(v) for v in values) + "]"


def array_literal(a: np.ndarray, indent: int = 4, width: int = 96) -> str:
    """``np.array([...])`` source for a 1-d or 2-d array, one row per line, wrapped.

    Integer arrays keep ``dtype=np.int64``; floats are written with ``repr``.
    """
    a = np.asarray(a)
    integer = a.dtype.kind in "iu"
    pad = " " * indent
    if a.ndim == 1:
        body = textwrap.fill(_row(a, integer)[1:-1], width - indent, initial_indent=pad,
                             subsequent_indent=pad, break_long_words=False)
        inner = f"[\n{body},\n]"
    else:
        rows = [pad + _row(r, integer) + "," for r in a.reshape(len(a), -1)]
        inner = "[\n" + "\n".join(rows) + "\n]"
    dtype = ", dtype=np.int64" if integer else ""
    return f"np.array({inner}{dtype})"
