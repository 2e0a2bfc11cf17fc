"""Newton's method for small problems: jump to the minimum of the local quadratic."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..hessian import flat_grad, hessian
from .optimizer import Optimizer

__all__ = ["Newton"]


class Newton(Optimizer):
    r"""(Damped) Newton's method, for problems with at most a few hundred parameters.

    ::

        input: γ (lr), δ (damping), closure (re-evaluates the loss L(θ))
        for t = 1, 2, ...:
            g_t ← ∇L(θ_{t-1})                       (exact, by backward)
            H_t ← ∇²L(θ_{t-1})                      (see descent_tui.engine.hessian)
            solve (H_t + δ·I) Δ_t = −g_t            (least squares if singular)
            θ_t ← θ_{t-1} + γ·Δ_t
        return θ_t

    In words: gradient descent uses only the slope; Newton also uses the
    curvature. Near ``θ`` the loss looks like the quadratic
    ``L + gᵀΔ + ½ΔᵀHΔ``, whose minimum is at ``Δ = −H⁻¹g``. On any
    positive-definite quadratic, one step with ``lr=1`` lands exactly on the
    minimum. Far from a minimum ``H`` may not be positive definite and the
    step can go uphill; ``damping`` δ > 0 blends towards gradient descent
    with step ``1/δ`` and makes the solve well-posed.

    Like ``torch.optim.LBFGS``, :meth:`step` needs a ``closure`` that
    recomputes the loss from the current parameters (it may call
    ``zero_grad()``/``backward()`` itself or not; both work). With several
    parameter groups, each group's ``lr`` scales its slice of ``Δ`` and its
    ``damping`` is added to its diagonal entries.

    ``inspect_state(p)``: ``velocity`` = None, ``sq_avg`` = None,
    ``step_size`` = ``lr`` everywhere, ``update`` = last ``γ·Δ`` slice. The
    last Hessian and gradient are kept as ``last_hessian`` / ``last_grad``.
    """

    def __init__(self, params: Any, lr: float = 1.0, damping: float = 0.0) -> None:
        super().__init__(params, {"lr": lr, "damping": damping})
        self.last_hessian: np.ndarray | None = None
        self.last_grad: np.ndarray | None = None

    def _validate_group(self, group: dict[str, Any]) -> None:
        self._require_non_negative(group, "lr", "damping")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """One Newton step; returns the loss at the point *before* the step."""
        if closure is None:
            raise ValueError(
                "Newton.step() needs a closure that recomputes the loss, e.g. "
                "opt.step(lambda: loss_fn(model))"
            )
        params = [p for group in self.param_groups for p in group["params"]]
        loss, g = flat_grad(closure, params)
        H = hessian(closure, params)
        n = g.size
        damping = np.empty(n)
        lrs = np.empty(n)
        i = 0
        for group in self.param_groups:
            for p in group["params"]:
                damping[i:i + p.data.size] = group["damping"]
                lrs[i:i + p.data.size] = group["lr"]
                i += p.data.size
        A = H + np.diag(damping)
        try:
            delta = np.linalg.solve(A, -g)
            if not np.all(np.isfinite(delta)):
                raise np.linalg.LinAlgError("non-finite solution")
        except np.linalg.LinAlgError:
            delta = np.linalg.lstsq(A, -g, rcond=None)[0]
        delta *= lrs
        i = 0
        for group in self.param_groups:
            for p in group["params"]:
                size = p.data.size
                upd = delta[i:i + size].reshape(p.data.shape).astype(p.data.dtype, copy=True)
                p.data += upd
                st = self.state.setdefault(p, {"step": 0})
                st["step"] += 1
                st["update"] = upd
                st["lr"] = group["lr"]
                i += size
        self.last_hessian = H
        self.last_grad = g
        return loss

    def _inspect(self, param: Any, group: dict[str, Any], st: dict[str, Any] | None) -> dict:
        lr = group["lr"] if st is None else st["lr"]
        return {
            "velocity": None,
            "sq_avg": None,
            "step_size": np.full(np.shape(param.data), float(lr)),
            "update": None if st is None else st["update"],
        }
