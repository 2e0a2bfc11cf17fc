"""What a landscape run's steps are made of: the gradient here, the last update per parameter.

Two read-outs for the mission screen's panels, both evaluation only (the run's
point, optimizer state and record are not changed):

* :func:`gradient_here` — the loss and gradient ``g = ∇L(θ)`` at the run's
  current point ``θ``, and the plain gradient step ``−lr · g`` it asks for
  (what SGD without momentum does next: ``θ_new = θ − lr · g``);
* :func:`last_update` — the update ``Δθ`` the optimizer applied at its last step
  and the gradient ``g`` it was given there, per parameter, so that the
  effective step size ``−Δθ_i / g_i`` can be compared across optimizers: it is
  ``lr`` for every parameter with plain SGD, and differs per parameter for
  the adaptive ones (Adagrad, RMSprop, Adam divide by a running size of g_i).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["GradientHere", "LastUpdate", "gradient_here", "last_update"]


@dataclass(frozen=True)
class GradientHere:
    """``point`` θ, ``loss`` L(θ), ``grad`` ∇L(θ), ``lr`` and ``sgd_step`` = −lr · ∇L(θ)."""

    point: np.ndarray
    loss: float
    grad: np.ndarray
    lr: float
    sgd_step: np.ndarray


@dataclass(frozen=True)
class LastUpdate:
    """The last update: ``delta`` Δθ per parameter, ``grad`` g it followed, at ``step``.

    ``effective`` is ``−Δθ_i / g_i`` (NaN where ``g_i`` is 0): the step per unit of
    gradient the optimizer actually took along parameter ``i``.
    """

    step: int
    delta: np.ndarray
    grad: np.ndarray

    @property
    def effective(self) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.where(self.grad != 0, -self.delta / np.where(self.grad != 0, self.grad, 1),
                            math.nan)


def gradient_here(run: Any) -> GradientHere:
    """The gradient at a landscape run's current point (see the module docstring)."""
    point = run.point
    with np.errstate(all="ignore"):
        loss, grad = run.forward_backward()
    lr = float(run.lr)
    return GradientHere(point, float(loss), grad, lr, -lr * grad)


def last_update(run: Any) -> LastUpdate | None:
    """The last update of a landscape run (None before its first step).

    ``Δθ`` is the optimizer's own record of its last change (``inspect_state``'s
    ``"update"``); where it keeps none, the current point minus the point the
    latest history row was taken at. ``g`` is the gradient that step used (``theta.grad``:
    accumulated without ``zero_grad``, clipped when the run clips).
    """
    if run.step == 0:
        return None
    delta = run.optimizer.inspect_state(run.theta).get("update")
    if delta is None:
        row = run.history.latest
        before = np.array([row.get("param." + n, math.nan) for n in run.param_names])
        delta = run.point - before
    used = run.theta.grad if run.theta.grad is not None else run.grad
    grad = np.asarray(used, dtype=float).reshape(-1)
    return LastUpdate(int(run.step), np.asarray(delta, dtype=float).reshape(-1).copy(),
                      grad.copy())
