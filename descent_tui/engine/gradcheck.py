"""Check the chain rule by brute force: compare backprop with central differences.

For each input entry x_i, nudge it by ±eps and watch the output move:

    dL/dx_i ≈ (L(x + eps·e_i) - L(x - eps·e_i)) / (2·eps)

The error of this estimate shrinks like eps², so in float64 with eps ≈ 1e-6
it agrees with an exact gradient to about 1e-8 relative. If backprop is wrong
anywhere, the two disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .tensor import Tensor


@dataclass
class GradcheckResult:
    """Analytic and numerical gradients of each input, side by side."""

    ok: bool
    analytic: list = field(default_factory=list)
    numerical: list = field(default_factory=list)
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0

    def __bool__(self) -> bool:
        return self.ok


def _scalar(out) -> float:
    data = out.data if isinstance(out, Tensor) else np.asarray(out)
    return float(np.sum(data))


def numerical_gradient(fn, inputs, eps: float = 1e-6) -> list:
    """Central-difference gradient of sum(fn(*inputs)) with respect to each input."""
    grads = []
    for t in inputs:
        g = np.zeros_like(t.data, dtype=np.float64)
        flat = t.data.reshape(-1)  # a view: nudging it nudges t
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            up = _scalar(fn(*inputs))
            flat[i] = old - eps
            down = _scalar(fn(*inputs))
            flat[i] = old
            g.reshape(-1)[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-8, rtol: float = 1e-6,
              raise_exception: bool = False) -> GradcheckResult:
    """Compare autograd's gradient of ``sum(fn(*inputs))`` with central differences.

    ``inputs`` are Tensors (with ``requires_grad=True``); their ``.grad`` is
    restored afterwards. Passes when ``|analytic - numerical| <= atol + rtol·|numerical|``
    for every entry. Returns a ``GradcheckResult`` (truthy when it passes).
    """
    inputs = list(inputs)
    saved = [t._grad for t in inputs]  # the plain arrays (``t.grad`` is a view)
    for t in inputs:
        t._grad = None
    out = fn(*inputs)
    out = out if out.data.size == 1 else out.sum()
    out.backward()
    analytic = [np.zeros_like(t.data) if t.grad is None else np.array(t.grad) for t in inputs]
    for t, g in zip(inputs, saved):
        t._grad = g
    numerical = numerical_gradient(fn, inputs, eps)
    ok, max_abs, max_rel = True, 0.0, 0.0
    for a, n in zip(analytic, numerical):
        err = np.abs(a - n)
        if err.size:
            max_abs = max(max_abs, float(err.max()))
            max_rel = max(max_rel, float((err / np.maximum(np.abs(n), 1e-300)).max()))
        if not np.all(err <= atol + rtol * np.abs(n)):
            ok = False
    result = GradcheckResult(ok, analytic, numerical, max_abs, max_rel)
    if raise_exception and not ok:
        raise AssertionError(f"gradcheck failed: max abs error {max_abs:.3e}")
    return result
