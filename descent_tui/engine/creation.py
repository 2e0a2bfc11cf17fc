"""Making tensors, with PyTorch's names: ``tensor, zeros, ones, randn, arange, linspace...``

Random tensors come from one seeded generator, NumPy's PCG64:
``manual_seed(0)`` makes every later ``randn``/``rand``/``randint`` (and every
``nn.Linear`` made without its own ``rng``) repeat exactly. The numbers are
NumPy's, not PyTorch's: the same seed gives different draws in the two.

Two differences from PyTorch, on purpose: floating-point tensors are float64
unless you ask for float32 (PyTorch's default is float32), and ``device=`` is
accepted and ignored (there is one device, the CPU).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor, from_op

__all__ = [
    "arange", "default_generator", "empty", "full", "linspace", "manual_seed", "ones",
    "ones_like", "rand", "randint", "randn", "tensor", "zeros", "zeros_like",
]

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Restart the engine's random numbers from ``seed`` (returns the generator)."""
    global _generator
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator() -> np.random.Generator:
    """The generator that ``randn``, ``rand``, ``randint`` and ``nn`` layers draw from."""
    return _generator


def _shape(size: tuple) -> tuple[int, ...]:
    """``zeros(2, 3)`` and ``zeros((2, 3))`` mean the same shape."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(int(n) for n in size)


def _leaf(values: Any, dtype: Any, requires_grad: bool) -> Tensor:
    """A new leaf holding ``values``: float64 (or ``dtype``) if floating, else as given."""
    arr = np.asarray(values)
    if dtype is None and arr.dtype.kind in "biu":
        if requires_grad:
            raise RuntimeError("Only Tensors of floating point dtype can require gradients")
        return from_op(np.array(arr, dtype=np.bool_ if arr.dtype.kind == "b" else np.int64),
                       (), "", None)
    return Tensor(arr, requires_grad=requires_grad, dtype=dtype or np.float64)


def tensor(data: Any, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, an array).

    Integers and booleans keep their kind (int64, bool), as in PyTorch: such a
    tensor can index, count or label, but cannot require a gradient.
    """
    if isinstance(data, Tensor):
        data = data.data
    return _leaf(np.array(data), dtype, requires_grad)


def zeros(*size: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_shape(size), dtype or np.float64), requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape(size), dtype or np.float64), requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Uninitialised in PyTorch; here zeros, so nothing depends on leftover memory."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def full(size: Any, fill_value: float, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    return Tensor(np.full(_shape((size,)), fill_value, dtype or np.float64), requires_grad)


def zeros_like(t: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    data = t.data if isinstance(t, Tensor) else np.asarray(t)
    return _leaf(np.zeros_like(data, dtype=dtype), None, requires_grad)


def ones_like(t: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    data = t.data if isinstance(t, Tensor) else np.asarray(t)
    return _leaf(np.ones_like(data, dtype=dtype), None, requires_grad)


def randn(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          generator: np.random.Generator | None = None) -> Tensor:
    """Standard normal draws N(0, 1) of the given shape (``randn(())``: one number)."""
    values = (generator or _generator).standard_normal(_shape(size))
    return Tensor(values, requires_grad, dtype or np.float64)


def rand(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         generator: np.random.Generator | None = None) -> Tensor:
    """Uniform draws in [0, 1) of the given shape."""
    values = (generator or _generator).random(_shape(size))
    return Tensor(values, requires_grad, dtype or np.float64)


def randint(low: int, high: int | None = None, size: Any = None, *, dtype: Any = None,
            device: Any = None, generator: np.random.Generator | None = None) -> Tensor:
    """Integers in [low, high) (``randint(high, size)`` starts at 0), as int64."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        raise TypeError("randint() needs high and size: randint(10, (3,)) or randint(0, 10, (3,))")
    values = (generator or _generator).integers(low, high, size=_shape((size,)))
    return from_op(np.asarray(values, dtype=dtype or np.int64), (), "", None)


def arange(start: float, end: float | None = None, step: float = 1, *, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """start, start + step, ... below ``end`` (``arange(5)``: 0..4); integers stay int64."""
    if end is None:
        start, end = 0, start
    whole = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    values = np.arange(start, end, step, dtype=np.int64 if whole and dtype is None else None)
    return _leaf(values, dtype, requires_grad)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced numbers from ``start`` to ``end``, both included."""
    return Tensor(np.linspace(start, end, int(steps)), requires_grad, dtype or np.float64)
