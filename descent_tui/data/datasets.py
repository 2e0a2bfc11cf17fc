"""Toy data sets for network scenarios (numpy only, deterministic from the seed).

``make_dataset(spec, base_dir, loss=...)`` returns ``(X, y)``:

* ``X``: float64 array ``(n, features)``
* classification (xor, circles, moons, spiral, blobs, csv with a class loss):
  ``y`` int64 ``(n,)`` with labels ``0..k-1``; with ``loss="bce"`` it is a float64
  column ``(n, 1)`` of 0/1 instead
* regression (sine, linear, and csv or any set with ``loss="mse"``): ``y`` float64 ``(n, 1)``

The rows are shuffled (with the same seeded generator) so mini-batches mix classes.
Generators:

* xor: n = 4 gives the four corners (+-1, +-1); otherwise n points uniform in
  [-1, 1]^2.  Label 1 when the two coordinates have different signs (XOR of the
  sign bits), 0 otherwise.  Gaussian noise of std ``noise`` is added to X.
* circles: half on the unit circle (label 0), half on radius 0.5 (label 1), + noise
* moons: two interleaving half circles (as scikit-learn's make_moons), + noise
* spiral: ``classes`` arms (CS231n style), angle noise ``noise * 2``
* blobs: ``classes`` gaussian clusters with std ``noise`` around centres on a
  circle of radius 2
* sine: x uniform in [-pi, pi], y = sin(x) + noise
* linear: x uniform in [-1, 1], y = 2x + 1 + noise
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from descent_tui.data.csv_table import read_csv_table, resolve_data_path

__all__ = ["make_dataset", "n_classes", "split"]


def _counts(n: int, k: int) -> list[int]:
    base, rest = divmod(n, k)
    return [base + (1 if i < rest else 0) for i in range(k)]


def _xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if n == 4:
        X = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    else:
        X = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64)
    X = X + rng.normal(0.0, noise, size=X.shape) if noise > 0 else X
    return X, y


def _circles(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n_out, n_in = _counts(n, 2)
    t_out = rng.uniform(0, 2 * np.pi, n_out)
    t_in = rng.uniform(0, 2 * np.pi, n_in)
    X = np.concatenate([
        np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
        0.5 * np.stack([np.cos(t_in), np.sin(t_in)], axis=1),
    ])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    return X + rng.normal(0.0, noise, size=X.shape), y


def _moons(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n_a, n_b = _counts(n, 2)
    t_a = np.linspace(0, np.pi, n_a)
    t_b = np.linspace(0, np.pi, n_b)
    X = np.concatenate([
        np.stack([np.cos(t_a), np.sin(t_a)], axis=1),
        np.stack([1 - np.cos(t_b), 0.5 - np.sin(t_b)], axis=1),
    ])
    y = np.concatenate([np.zeros(n_a, np.int64), np.ones(n_b, np.int64)])
    return X + rng.normal(0.0, noise, size=X.shape), y


def _spiral(n: int, k: int, noise: float, rng: np.random.Generator
            ) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for j, m in enumerate(_counts(n, k)):
        r = np.linspace(0.0, 1.0, m)
        t = np.linspace(j * 4.0, (j + 1) * 4.0, m) + rng.normal(0.0, 2 * noise, m)
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        ys.append(np.full(m, j, np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def _blobs(n: int, k: int, noise: float, rng: np.random.Generator
           ) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for j, m in enumerate(_counts(n, k)):
        angle = 2 * np.pi * j / k
        centre = 2.0 * np.array([np.cos(angle), np.sin(angle)])
        xs.append(centre + rng.normal(0.0, noise, size=(m, 2)))
        ys.append(np.full(m, j, np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def _sine(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-np.pi, np.pi, n)
    y = np.sin(x) + rng.normal(0.0, noise, n)
    return x[:, None], y[:, None]


def _linear(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-1.0, 1.0, n)
    y = 2.0 * x + 1.0 + rng.normal(0.0, noise, n)
    return x[:, None], y[:, None]


def _csv(spec: Any, base_dir: Path | None) -> tuple[np.ndarray, np.ndarray]:
    rows, labels = read_csv_table(resolve_data_path(spec.path, base_dir),
                                  list(spec.features or ()), spec.label or "")
    return np.asarray(rows, dtype=np.float64), np.asarray(labels, dtype=np.float64)


def n_classes(spec: Any, y: np.ndarray | None = None) -> int | None:
    """Number of classes of a classification set (None for regression)."""
    k = spec.n_classes
    if k is None and y is not None and spec.kind == "csv" and y.ndim == 1:
        k = int(y.max()) + 1 if y.size else 0
    return k


def make_dataset(spec: Any, base_dir: str | Path | None = None, *, loss: str | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Generate (or read) the data set described by ``spec``.

    ``spec`` is a :class:`~descent_tui.scenario.schema.DataSpec` or a whole
    :class:`~descent_tui.scenario.schema.Network` (anything with ``.data`` and
    ``.loss``; then its loss is used).  This module reads the spec's attributes
    only, so it needs nothing from the scenario package.
    ``loss`` decides the label format: "bce" gives a 0/1 float column, "mse" a
    float column, "cross_entropy" / None int64 class labels (regression sets are
    always a float column).
    """
    if hasattr(spec, "data"):  # a whole [network] table
        loss = loss or spec.loss
        spec = spec.data
    base = Path(base_dir) if base_dir is not None else None
    rng = np.random.default_rng(spec.seed)
    n, noise = spec.n, spec.noise
    kind = spec.kind
    if kind == "xor":
        X, y = _xor(n, noise, rng)
    elif kind == "circles":
        X, y = _circles(n, noise, rng)
    elif kind == "moons":
        X, y = _moons(n, noise, rng)
    elif kind == "spiral":
        X, y = _spiral(n, spec.classes, noise, rng)
    elif kind == "blobs":
        X, y = _blobs(n, spec.classes, noise, rng)
    elif kind == "sine":
        X, y = _sine(n, noise, rng)
    elif kind == "linear":
        X, y = _linear(n, noise, rng)
    elif kind == "csv":
        X, y = _csv(spec, base)
        if loss in (None, "cross_entropy"):
            y = y.astype(np.int64)
    else:
        raise ValueError(f"unknown dataset kind {kind!r}")
    X = np.ascontiguousarray(X, dtype=np.float64)
    order = rng.permutation(len(X))
    X, y = X[order], y[order]
    if y.ndim == 1 and (loss in ("bce", "mse") or (kind == "csv" and y.dtype != np.int64)):
        y = y.astype(np.float64)[:, None]
    return X, y


def split(X: np.ndarray, y: np.ndarray, val_split: float, rng: np.random.Generator | int | None
          = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle and split into (X_train, y_train, X_val, y_val).

    ``round(n * val_split)`` rows go to validation, but at least one row always
    stays in training; ``val_split = 0`` gives empty validation arrays.
    """
    if not 0.0 <= val_split < 1.0:
        raise ValueError(f"val_split must be in [0, 1), got {val_split}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    n = len(X)
    n_val = min(round(n * val_split), max(n - 1, 0))
    order = rng.permutation(n)
    val, train = order[:n_val], order[n_val:]
    return X[train], y[train], X[val], y[val]
