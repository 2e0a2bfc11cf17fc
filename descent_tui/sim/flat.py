"""Plain data laid flat: one byte buffer, one tuple of scalars, and a shared layout.

*Plain data* is what :meth:`descent_tui.sim.run.Run.state_dict` returns: numbers,
strings, ``None``, NumPy arrays (of numbers), and lists, tuples and dicts of plain
data (dict keys are numbers or strings). :func:`flatten` lays a plain tree out as

* one ``uint8`` array holding every array's bytes, end to end;
* one tuple of the scalars (numbers, strings, ``None``), in walk order;
* a *layout*: the tree's shape (containers, dict keys, each array's dtype and
  shape) as nested tuples, equal for two trees of the same shape, so the
  checkpoints of one run can share one layout object.

:func:`unflatten` builds the tree back: the same containers, the same scalars, and
new arrays with the same bytes (so the same bits). Nothing is executed or looked
up by name: a layout only names the four container kinds and NumPy dtypes.

Why: a run's state as Python objects is some fifty containers the garbage
collector walks on every full collection, thousands of checkpoints over; laid
flat it is two NumPy objects and a tuple of numbers, none of which the collector
tracks (a tuple of numbers and strings is untracked after the collector's first
look at it).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["Layout", "flatten", "is_plain", "unflatten"]

#: nested tuples: "s" (a scalar), ("a", dtype, shape), ("l" | "t", children),
#: ("d", keys, children)
Layout = Any

_SCALARS = (type(None), bool, int, float, str)
_NUMPY_SCALARS = (np.number, np.bool_)


def is_plain(x: Any) -> bool:
    """True if ``x`` is plain data (see the module docstring)."""
    kind = type(x)
    if kind in _SCALARS or isinstance(x, _NUMPY_SCALARS):
        return True
    if kind is np.ndarray:
        return x.dtype.kind in "biuf"
    if kind in (list, tuple):
        return all(is_plain(v) for v in x)
    if kind is dict:
        return all(type(k) in _SCALARS for k in x) and all(is_plain(v) for v in x.values())
    return False


def flatten(tree: Any) -> tuple[Layout, np.ndarray, tuple[Any, ...]]:
    """``(layout, buffer, scalars)`` of a plain tree; TypeError names what is not plain."""
    arrays: list[np.ndarray] = []
    scalars: list[Any] = []
    try:
        layout = _walk(tree, arrays, scalars)
    except TypeError:
        raise TypeError(f"{_not_plain(tree, 'state')} is not plain data") from None
    parts = [np.ascontiguousarray(a).reshape(-1).view(np.uint8) for a in arrays]
    buffer = np.concatenate(parts) if parts else np.zeros(0, np.uint8)
    return layout, buffer, tuple(scalars)


def _walk(x: Any, arrays: list[np.ndarray], scalars: list[Any]) -> Layout:
    kind = type(x)
    if kind in _SCALARS or isinstance(x, _NUMPY_SCALARS):  # (NumPy numbers are immutable)
        scalars.append(x)
        return "s"
    if kind is np.ndarray and x.dtype.kind in "biuf":
        arrays.append(x)
        return ("a", x.dtype.str, x.shape)
    if kind is list or kind is tuple:
        return ("l" if kind is list else "t", tuple([_walk(v, arrays, scalars) for v in x]))
    if kind is dict and all(type(k) in _SCALARS for k in x):
        return ("d", tuple(x), tuple([_walk(v, arrays, scalars) for v in x.values()]))
    raise TypeError


def _not_plain(x: Any, where: str) -> str:
    """Where in ``x`` the first thing that is not plain data is, and what it is."""
    if type(x) in (list, tuple):
        for i, v in enumerate(x):
            if not is_plain(v):
                return _not_plain(v, f"{where}[{i}]")
    if type(x) is dict:
        for k, v in x.items():
            if type(k) not in _SCALARS:
                return f"{where}: a key of type {type(k).__name__}"
            if not is_plain(v):
                return _not_plain(v, f"{where}[{k!r}]")
    return f"{where}: {type(x).__name__}"


def unflatten(layout: Layout, buffer: np.ndarray, scalars: tuple[Any, ...]) -> Any:
    """The plain tree :func:`flatten` laid out (new containers and arrays)."""
    cursor = [0, 0]  # next byte of the buffer, next scalar
    return _build(layout, buffer, scalars, cursor)


def _build(layout: Layout, buffer: np.ndarray, scalars: tuple[Any, ...],
           cursor: list[int]) -> Any:
    if layout == "s":
        cursor[1] += 1
        return scalars[cursor[1] - 1]
    kind = layout[0]
    if kind == "a":
        dtype, shape = np.dtype(layout[1]), layout[2]
        start = cursor[0]
        cursor[0] = start + dtype.itemsize * math.prod(shape)
        return buffer[start:cursor[0]].view(dtype).reshape(shape).copy()
    children = [_build(child, buffer, scalars, cursor) for child in layout[-1]]
    if kind == "l":
        return children
    if kind == "t":
        return tuple(children)
    return dict(zip(layout[1], children, strict=True))
