"""What each hidden unit of a network run computes: the read-out of the unit view.

A hidden unit ``j`` of layer ``l`` computes ``a_j = act(w_j · h + b_j)`` where ``h``
is the previous layer's output. :func:`unit_grids` evaluates every hidden unit
of a run:

* with 2 data columns, over an ``n × n`` grid of the input plane (the model reads
  the features of each grid point, ``[network] inputs``) (the same
  padded box as :meth:`~descent_tui.sim.network.NetworkRun.decision_grid`), so
  each unit is a small map, as in TensorFlow Playground;
* otherwise over (up to ``n`` rows of) the training set, one value per sample.

It also says which units are *dead* (ReLU family: ``w_j · h + b_j ≤ 0`` on every
training sample, so the unit passes no gradient) and which are *saturated*
(sigmoid / tanh: more than ``SATURATED_SHARE`` of the training outputs within
``SATURATED_MARGIN`` of a bound, where the derivative is nearly 0). Evaluation
only: no gradient is recorded and the run is not changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from descent_tui.engine import no_grad

__all__ = ["SATURATED_MARGIN", "SATURATED_SHARE", "UnitLayer", "unit_grids"]

#: an output within this distance of an activation's bound counts as saturated
SATURATED_MARGIN = 0.02
#: a unit is marked saturated when more than this share of its training outputs are
SATURATED_SHARE = 0.9
#: the output range of the bounded activations
BOUNDS = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}


@dataclass(frozen=True)
class UnitLayer:
    """One hidden layer's units.

    ``values[j]`` is unit ``j``'s output: shape ``(n, n)`` over the plane when
    ``over == "plane"`` (``values[j][r, c]`` at ``(xs[c], ys[r])``, row 0 the
    lowest y), shape ``(samples,)`` when ``over == "batch"``. ``weights[j]`` are
    its incoming weights (one per unit of the layer below), ``bias[j]`` its bias.
    """

    name: str
    activation: str
    over: str  # "plane" | "batch"
    values: np.ndarray
    weights: np.ndarray
    bias: np.ndarray
    dead: np.ndarray
    saturated: np.ndarray
    xs: np.ndarray | None = None
    ys: np.ndarray | None = None


def _hidden_outputs(run: Any, X: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(pre-activation, output)`` of every hidden layer on the rows of ``X``."""
    stats: list = []
    with np.errstate(all="ignore"), no_grad():
        run.forward(X, stats)
    return stats[:-1]


def _plane(X: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The padded ``n × n`` grid over the data's box: ``(xs, ys, points)``."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-9)
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], n)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], n)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.column_stack([gx.ravel(), gy.ravel()])


def _flags(act: str, z: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dead, saturated) per unit from its pre-activations ``z`` and outputs ``a``."""
    units = z.shape[1]
    dead = np.zeros(units, dtype=bool)
    saturated = np.zeros(units, dtype=bool)
    if act in ("relu", "leaky_relu"):
        dead = ~(z > 0).any(axis=0)
    elif act in BOUNDS:
        lo, hi = BOUNDS[act]
        near = (a < lo + SATURATED_MARGIN) | (a > hi - SATURATED_MARGIN)
        saturated = near.mean(axis=0) > SATURATED_SHARE
    return dead, saturated


def unit_grids(run: Any, n: int = 16) -> list[UnitLayer]:
    """Every hidden layer's units of a network run (see the module docstring).

    ``n``: the grid's side over the input plane, or the most training samples
    shown per unit when the inputs are not 2-D.
    """
    X = run.problem.data["X"]
    n = max(2, int(n))
    on_train = _hidden_outputs(run, X)
    # with [network] inputs the model reads features of the plane's columns
    raw = run.problem.plane if getattr(run.problem, "inputs", None) is not None else X
    plane = raw.shape[1] == 2
    if plane:
        xs, ys, pts = _plane(raw, n)
        shown = _hidden_outputs(run, run.problem.features(pts))
    else:
        xs = ys = None
        shown = [(z[:n], a[:n]) for z, a in on_train]
    names = run.spec.layer_names
    layers = []
    for i, ((z, a), (_zs, a_shown)) in enumerate(zip(on_train, shown, strict=True)):
        lin = run.linears[i]
        dead, saturated = _flags(run.acts[i], z, a)
        values = a_shown.T.reshape(-1, n, n) if plane else a_shown.T.copy()
        bias = lin.bias.data.copy() if lin.bias is not None else np.zeros(a.shape[1])
        layers.append(UnitLayer(
            name=names[i], activation=run.acts[i], over="plane" if plane else "batch",
            values=values, weights=lin.weight.data.copy(), bias=bias,
            dead=dead, saturated=saturated, xs=xs, ys=ys))
    return layers
