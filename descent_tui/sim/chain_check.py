"""The inspector's "check the chain rule": backprop against central differences.

:func:`check_chain_rule` runs the engine's ``gradcheck`` on a
:class:`~descent_tui.sim.step_graph.StepGraph`'s loss, one row per parameter
tensor (sampled entries for big tensors).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from descent_tui.engine import Tensor
from descent_tui.sim.step_graph import StepGraph

__all__ = ["ChainCheck", "CheckRow", "check_chain_rule"]


@dataclass
class CheckRow:
    name: str
    shape: tuple
    size: int
    indices: np.ndarray           # flat indices of the checked entries
    analytic: np.ndarray          # backprop's dL/dparam at those entries
    numerical: np.ndarray         # central differences at those entries
    max_abs_diff: float
    ok: bool

    @property
    def sampled(self) -> bool:
        return len(self.indices) < self.size


@dataclass
class ChainCheck:
    rows: list[CheckRow]
    eps: float
    per_tensor: int
    seconds: float

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def sampled(self) -> bool:
        return any(r.sampled for r in self.rows)


def _sample(g: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``k`` flat indices: the entry with the largest |gradient|, then random ones."""
    flat = np.abs(np.asarray(g, dtype=float).reshape(-1))
    if flat.size <= k:
        return np.arange(flat.size)
    top = int(np.argmax(flat))
    rest = rng.choice(np.delete(np.arange(flat.size), top), size=k - 1, replace=False)
    return np.sort(np.concatenate([[top], rest]))


def check_chain_rule(graph: StepGraph, per_tensor: int = 6, eps: float = 1e-6,
                     seed: int = 0) -> ChainCheck:
    """Run the engine's ``gradcheck`` on this step's loss, per parameter tensor.

    Tensors with more than ``per_tensor`` entries are checked on a sample of that
    many entries (the largest-|grad| entry plus random ones, fixed by ``seed``):
    each checked entry costs two forward passes. The check perturbs one-hot
    offsets ``δ`` added to copies of the parameters (``W + scatter(δ)`` at δ = 0),
    so the analytic gradient of δ is exactly dL/dW at the sampled entries.
    """
    import time

    from descent_tui.engine import gradcheck

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    base = [Tensor(t.data.copy()) for _, t in graph.params]
    # backprop once, on a fresh graph, to choose the entries (largest |grad| first)
    fresh = [Tensor(t.data.copy(), requires_grad=True) for _, t in graph.params]
    with np.errstate(all="ignore"):
        loss = graph.rebuild(*fresh)
        loss.backward()
    picks = [_sample(np.zeros(t.shape) if t.grad is None else t.grad, per_tensor, rng)
             for t in fresh]
    scatters = []
    deltas = []
    for b, idx in zip(base, picks, strict=True):
        s = np.zeros((len(idx), b.data.size))
        s[np.arange(len(idx)), idx] = 1.0
        scatters.append(Tensor(s))
        deltas.append(Tensor(np.zeros((1, len(idx))), requires_grad=True))

    def fn(*ds: Tensor) -> Tensor:
        ps = [b + (d @ s).reshape(b.shape) for b, d, s in zip(base, ds, scatters, strict=True)]
        return graph.rebuild(*ps)

    with np.errstate(all="ignore"):
        res = gradcheck(fn, deltas, eps=eps, atol=1e-7, rtol=1e-4)
    rows = []
    for (name, t), idx, a, n in zip(graph.params, picks, res.analytic, res.numerical,
                                    strict=True):
        a, n = np.asarray(a).reshape(-1), np.asarray(n).reshape(-1)
        diff = float(np.max(np.abs(a - n))) if a.size else 0.0
        ok = bool(np.all(np.abs(a - n) <= 1e-7 + 1e-4 * np.abs(n)))
        rows.append(CheckRow(name, t.shape, t.data.size, idx, a, n, diff, ok))
    return ChainCheck(rows, eps, per_tensor, time.perf_counter() - t0)
