"""Input features computed from a data set's columns (TensorFlow Playground's "features").

A network scenario may feed its model not the raw columns ``x1, x2`` but any
selection of these features of them (``[network] inputs``):

=========  ==============  ======================================
name       value           what it lets a linear unit draw
=========  ==============  ======================================
``x1``     x₁              a boundary across the first axis
``x2``     x₂              a boundary across the second axis
``x1^2``   x₁²             a band symmetric about x₁ = 0
``x2^2``   x₂²             a band symmetric about x₂ = 0
``x1*x2``  x₁ x₂           the four quadrants (XOR) in one unit
``sin(x1)``  sin x₁        stripes along the first axis
``sin(x2)``  sin x₂        stripes along the second axis
=========  ==============  ======================================

``expand(X, names)`` returns the matrix whose column ``k`` is feature
``names[k]`` of each row of ``X``; with ``names`` None it returns ``X`` itself.
NumPy only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["FEATURES", "expand", "needs_columns"]

#: each feature's formula on the raw columns ``X[:, 0]`` (x1) and ``X[:, 1]`` (x2)
FEATURES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "x1": lambda X: X[:, 0],
    "x2": lambda X: X[:, 1],
    "x1^2": lambda X: X[:, 0] ** 2,
    "x2^2": lambda X: X[:, 1] ** 2,
    "x1*x2": lambda X: X[:, 0] * X[:, 1],
    "sin(x1)": lambda X: np.sin(X[:, 0]),
    "sin(x2)": lambda X: np.sin(X[:, 1]),
}


def needs_columns(name: str) -> int:
    """How many raw columns feature ``name`` reads (1: x1 only, 2: x2 as well)."""
    return 2 if "x2" in name else 1


def expand(X: np.ndarray, names: Sequence[str] | None) -> np.ndarray:
    """The feature matrix ``(len(X), len(names))`` of the rows of ``X`` (``X`` if names is None)."""
    if names is None:
        return X
    cols = [FEATURES[name](X) for name in names]
    return np.ascontiguousarray(np.stack(cols, axis=1), dtype=np.float64)
