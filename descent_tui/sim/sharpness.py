"""Sharpness: the largest curvature of a network run's full-batch loss, where it stands.

    from descent_tui.sim.sharpness import sharpness
    lam = sharpness(run)          # top eigenvalue of the Hessian of the training loss

Why it matters: on a quadratic, gradient descent with learning rate ``lr`` is
stable along a direction of curvature ``λ`` only while ``λ < 2 / lr`` (the step
multiplies the distance by ``1 − lr·λ``). Comparing the sharpness with
``2 / lr`` tells whether the *step* is too big for the landscape, whatever the
gradient's size.

How: power iteration on Hessian-vector products. The engine has no double
backward, so ``H·v`` is a central difference of two exact autograd gradients,

    H·v ≈ (∇L(θ + h·v) − ∇L(θ − h·v)) / (2h),      |v| = 1,

the same idea as :mod:`descent_tui.engine.hessian`, but one product costs two
gradient evaluations instead of ``2n``, so it works for networks with
thousands of weights (no ``n × n`` matrix is ever built). The parameters are
restored afterwards, and so are their gradients: a run holds the gradient of the
batch its next update will use, and measuring must not spend it. The run's own
state (optimizer, history) is not touched.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from descent_tui.engine.hessian import flat_grad

__all__ = ["sharpness"]


def _set_flat(params: list[Any], theta: np.ndarray) -> None:
    at = 0
    for p in params:
        n = p.data.size
        p.data[...] = theta[at:at + n].reshape(p.data.shape)
        at += n


def sharpness(run: Any, iters: int = 60, h: float = 1e-5, seed: int = 0) -> float:
    """The largest-magnitude eigenvalue of the Hessian of ``run``'s full-batch
    training loss at its current parameters (power iteration, ``iters`` products)."""
    params = list(run.params)
    X, y = run.problem.data["X"], run.problem.data["y"]
    theta = np.concatenate([p.data.reshape(-1) for p in params]).astype(float)
    grads = [p.grad for p in params]  # the pending update's gradient: put back after

    def grad_at(point: np.ndarray) -> np.ndarray:
        _set_flat(params, point)
        return flat_grad(lambda: run.criterion(run.forward(X), y), params)[1]

    v = np.random.default_rng(seed).standard_normal(theta.size)
    v /= np.linalg.norm(v)
    lam = 0.0
    try:
        for _ in range(iters):
            hv = (grad_at(theta + h * v) - grad_at(theta - h * v)) / (2 * h)
            lam = float(v @ hv)
            norm = float(np.linalg.norm(hv))
            if not np.isfinite(norm) or norm == 0.0:
                break
            v = hv / norm
    finally:
        _set_flat(params, theta)
        for p, g in zip(params, grads, strict=True):
            p.grad = g
    return lam
