"""Second-order information for small problems: the Hessian matrix of a loss.

``hessian(loss_fn, params)`` returns the ``(n, n)`` matrix of second
derivatives ``H[i, j] = ∂²L / ∂θ_i ∂θ_j`` over all parameters flattened (in
the order given, each parameter in C order).

Why finite differences of the *gradient*? The engine's backward pass
computes exact first derivatives but cannot differentiate its own backward
pass (no "double backward"). So column ``j`` of ``H`` is obtained by nudging
``θ_j`` both ways and differencing the exact autograd gradients::

    H[:, j] ≈ (∇L(θ + h·e_j) − ∇L(θ − h·e_j)) / (2h)

This *central* difference has error ``O(h²)`` times the third derivatives of
``L``. On a quadratic the gradient is linear in ``θ``, so the formula is
exact for any ``h`` up to floating-point rounding; this is why a Newton step
built from it lands on the minimum of a quadratic in one step. Rounding
errors are ``~ machine_eps·|∇L| / h``, so ``h`` must not be tiny: the default
``h = 1e-4·max(1, |θ_j|)`` trades ``~1e-8`` relative truncation error on
curved functions for ``~1e-12`` rounding error. The two one-sided errors
don't cancel exactly, so the result is symmetrised, ``(H + Hᵀ)/2``, as a
true Hessian is.

Cost: ``2n`` forward+backward passes, so keep ``n`` small (hundreds at most).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["flat_grad", "hessian"]


def _as_param_list(params: Any) -> list[Any]:
    if hasattr(params, "data") and hasattr(params, "grad"):
        return [params]
    return list(params)


def flat_grad(loss_fn: Callable[[], Any], params: Sequence[Any]) -> tuple[Any, np.ndarray]:
    """Evaluate ``loss_fn()`` and return ``(loss, gradient flattened over params)``.

    Every ``p.grad`` is cleared first. If ``loss_fn`` already ran
    ``backward()`` itself (an LBFGS-style closure) its gradients are used;
    otherwise ``loss.backward()`` is called here. Afterwards each ``p.grad``
    holds the gradient at the current point (parameters the loss does not
    depend on get zeros in the returned vector).
    """
    for p in params:
        p._grad = None  # the plain gradient array (``p.grad`` is a view of it)
    loss = loss_fn()
    if all(p._grad is None for p in params) and getattr(loss, "requires_grad", False):
        loss.backward()
    parts = []
    for p in params:
        g = p._grad
        parts.append(np.zeros(p.data.size) if g is None else np.asarray(g, float).reshape(-1))
    return loss, (np.concatenate(parts) if parts else np.zeros(0))


def hessian(
    loss_fn: Callable[[], Any], params: Any, h: float = 1e-4
) -> np.ndarray:
    """The ``(n, n)`` Hessian of ``loss_fn()`` with respect to all ``params`` flattened.

    Args:
        loss_fn: a function of no arguments that rebuilds the loss (a scalar
            Tensor) from the *current* values of ``params``. It may call
            ``backward()`` itself or leave that to us.
        params: a Tensor or a list of Tensors.
        h: relative finite-difference step; coordinate ``j`` moves by
            ``h·max(1, |θ_j|)``.

    Returns:
        A symmetric float64 ndarray. ``params``' ``.data`` values and ``.grad``
        arrays are restored afterwards (the same objects as before).

    See the module docstring for why this is central differences of the
    exact gradient, and why it is exact on quadratics.
    """
    params = _as_param_list(params)
    saved_data = [np.array(p.data, copy=True) for p in params]
    saved_grad = [p._grad for p in params]
    sizes = [p.data.size for p in params]
    n = int(sum(sizes))
    H = np.empty((n, n), dtype=np.float64)
    try:
        col = 0
        for p, size in zip(params, sizes, strict=True):
            for k in range(size):
                x = float(p.data.flat[k])
                dx = h * max(1.0, abs(x))
                xp, xm = x + dx, x - dx
                p.data.flat[k] = xp
                _, gp = flat_grad(loss_fn, params)
                p.data.flat[k] = xm
                _, gm = flat_grad(loss_fn, params)
                p.data.flat[k] = x
                # divide by the step actually taken (xp - xm is exact in floats)
                cast = p.data.dtype.type
                H[:, col] = (gp - gm) / (float(cast(xp)) - float(cast(xm)))
                col += 1
    finally:
        for p, d, g in zip(params, saved_data, saved_grad, strict=True):
            np.copyto(p.data, d)
            p._grad = g
    H += H.T
    H *= 0.5
    return H
