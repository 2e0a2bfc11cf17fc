"""``GradArray``: what user code sees when it reads a tensor's ``.grad``.

In PyTorch ``p.grad`` is a tensor; here the gradient is a NumPy array of
dL/dp, kept in the tensor's ``_grad`` slot where backward and the optimizers
work on it at NumPy's own speed. Reading ``p.grad`` hands out a *view* of that
array (the same numbers, no copy) of this small subclass, so that the in-place
calls PyTorch's beginner material makes on a gradient change the gradient::

    p.grad.zero_()                    # forget the gradient, keep the array
    p.grad.mul_(0.5).add_(g, alpha=2) # chains, as in PyTorch
    p.data -= lr * p.grad.data        # the old tutorials' `.grad.data`

Every other PyTorch method asked of it raises an error that says what to use.
Arithmetic is NumPy's own: the numbers are exactly those of a plain array.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _array(other: Any) -> Any:
    """A Tensor's numbers, or ``other`` as it is (a number or an array)."""
    return other.data if hasattr(other, "grad_fn") else other


class GradArray(np.ndarray):
    """dL/dparam as an array, answering PyTorch's in-place methods on ``.grad``."""

    @property
    def data(self) -> GradArray:  # type: ignore[override]
        """``p.grad.data``: the same numbers (PyTorch's old way to skip autograd)."""
        return self

    def numpy(self) -> np.ndarray:
        return self.view(np.ndarray)

    def clone(self) -> GradArray:
        return self.copy()

    def zero_(self) -> GradArray:
        """g ← 0, in place."""
        self[...] = 0.0
        return self

    def fill_(self, value: float) -> GradArray:
        """g ← value, in place."""
        self[...] = _array(value)
        return self

    def add_(self, other: Any, alpha: float = 1.0) -> GradArray:
        """g ← g + alpha·other, in place."""
        np.add(self, _array(other) if alpha == 1.0 else alpha * _array(other), out=self)
        return self

    def sub_(self, other: Any, alpha: float = 1.0) -> GradArray:
        """g ← g − alpha·other, in place."""
        np.subtract(self, _array(other) if alpha == 1.0 else alpha * _array(other), out=self)
        return self

    def mul_(self, other: Any) -> GradArray:
        """g ← g·other, in place."""
        np.multiply(self, _array(other), out=self)
        return self

    def div_(self, other: Any) -> GradArray:
        """g ← g / other, in place."""
        np.divide(self, _array(other), out=self)
        return self

    def clamp_(self, min: float | None = None, max: float | None = None) -> GradArray:
        """g ← clamp(g, min, max), in place (the hand-written gradient clip)."""
        np.clip(self, min, max, out=self)
        return self

    def __getattr__(self, name: str) -> Any:
        """A PyTorch method this array lacks: say what p.grad is and what to use."""
        if name.startswith("__"):
            raise AttributeError(f"'GradArray' object has no attribute {name!r}")
        raise AttributeError(
            f"p.grad has no {name!r}: in descent p.grad is a NumPy array of dL/dp "
            "(in place: zero_, fill_, add_, sub_, mul_, div_, clamp_); use NumPy for the rest")
