"""Gradient clipping, PyTorch-style: ``clip_grad_norm_`` and ``clip_grad_value_``.

Both functions *rebind* ``p.grad`` to new arrays instead of editing them in
place, because a ``.grad`` array may be shared with other arrays. They work
on the plain array, ``p._grad``, as the optimizers do (``p.grad`` is a view
of it for user code). They use only NumPy and duck typing (anything with
``._grad``), so this module imports nothing from :mod:`descent_tui.engine.nn`
(only the Tensor it returns).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _params_with_grad(parameters: Any) -> list[Any]:
    if hasattr(parameters, "grad"):
        parameters = [parameters]
    return [p for p in parameters if p._grad is not None]


def clip_grad_norm_(
    parameters: Any,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale all gradients together so their combined norm is at most ``max_norm``.

    The total norm treats every gradient entry of every parameter as one long
    vector: ``total = (Σ |g_i|^p)^(1/p)`` (``p = norm_type``; ``inf`` means
    ``max |g_i|``). Then, as in PyTorch::

        clip_coef = max_norm / (total + 1e-6)
        if clip_coef < 1:  every grad ← grad · clip_coef

    so the *direction* of the step is kept and only its length is capped.

    Args:
        parameters: a Tensor or an iterable of Tensors; ``None`` grads are skipped.
        max_norm: the largest allowed total norm.
        norm_type: the ``p`` of the p-norm (``2.0`` default, ``float("inf")`` allowed).
        error_if_nonfinite: raise ``RuntimeError`` if the total norm is nan or inf.

    Returns:
        The total norm of the gradients *before* clipping, as a 0-d tensor (as in
        PyTorch; ``float(...)`` or ``.item()`` gives the number).
    """
    params = _params_with_grad(parameters)
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if not params:
        return Tensor(0.0)
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(p._grad))) if np.size(p._grad) else 0.0
                    for p in params)
    elif norm_type == 2.0:
        total = math.sqrt(sum(float(np.vdot(p._grad, p._grad).real) for p in params))
    else:
        norms = np.array([np.linalg.norm(np.ravel(p._grad), norm_type) for p in params])
        total = float(np.linalg.norm(norms, norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    clip_coef = max_norm / (total + 1e-6)
    if clip_coef < 1.0 or math.isnan(clip_coef):
        # PyTorch multiplies by clamp(clip_coef, max=1) unconditionally; the
        # product by 1.0 is a no-op, so only rebind when something changes.
        for p in params:
            p._grad = p._grad * clip_coef
    return Tensor(total)


def clip_grad_value_(parameters: Any, clip_value: float) -> None:
    """Clamp every gradient entry into ``[-clip_value, clip_value]``.

    Unlike :func:`clip_grad_norm_` this can change the step's direction.
    ``None`` grads are skipped; grads are rebound, not edited in place.
    """
    clip_value = float(clip_value)
    for p in _params_with_grad(parameters):
        p._grad = np.clip(p._grad, -clip_value, clip_value)
