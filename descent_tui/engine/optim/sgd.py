"""Stochastic gradient descent, with optional (Nesterov) momentum."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, required

__all__ = ["SGD"]

# bound once: looking a name up on np costs ~50 ns, a lot next to a one-number step
_multiply, _add = np.multiply, np.add


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum), PyTorch's rule exactly.

    ::

        input: γ (lr), θ₀ (params), f(θ) (objective), λ (weight_decay),
               μ (momentum), τ (dampening), nesterov
        for t = 1, 2, ...:
            g_t ← ∇f(θ_{t-1})
            if λ ≠ 0:
                g_t ← g_t + λ·θ_{t-1}                 (L2 penalty, "coupled" decay)
            if μ ≠ 0:
                if t = 1:
                    b_t ← g_t                          (buffer starts at the gradient)
                else:
                    b_t ← μ·b_{t-1} + (1 − τ)·g_t
                if nesterov:
                    g_t ← g_t + μ·b_t                  (look ahead along the velocity)
                else:
                    g_t ← b_t
            θ_t ← θ_{t-1} − γ·g_t
        return θ_t

    In words: plain SGD steps downhill by ``lr`` times the gradient. Momentum
    keeps a running "velocity" ``b`` that remembers past gradients, so steps
    grow along directions that stay consistent and cancel along directions
    that flip sign (a ball rolling down a valley). On a quadratic
    ``f(x) = a·x²/2`` plain SGD gives ``x_t = x₀·(1 − γa)^t``: it converges
    only when ``0 < γa < 2``.

    Args:
        params: iterable of parameters or of parameter-group dicts.
        lr: learning rate γ.
        momentum: momentum factor μ (default 0: no momentum).
        dampening: dampening τ applied to new gradients in the buffer (default 0).
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening = 0).
        weight_decay: L2 penalty λ added to the gradient (default 0).

    ``inspect_state(p)``: ``velocity`` = momentum buffer ``b`` (or None),
    ``sq_avg`` = None, ``step_size`` = ``lr`` everywhere, ``update`` = last
    ``θ_t − θ_{t-1}``.
    """

    def __init__(
        self,
        params: Any,
        lr: float = required,  # type: ignore[assignment]
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = {
            "lr": lr, "momentum": momentum, "dampening": dampening, "nesterov": nesterov,
            "weight_decay": weight_decay,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        lr = group["lr"]
        if lr is required:
            raise ValueError("SGD requires a learning rate: pass lr=...")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if group["momentum"] < 0.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if group["weight_decay"] < 0.0:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def step(self, closure: Any = None) -> Any:
        """Perform one SGD update; ``closure`` (optional) re-evaluates and returns the loss."""
        loss = None if closure is None else closure()
        state = self.state
        for group in self.param_groups:
            lr = group["lr"]
            self._last_lr[id(group)] = lr
            if group["momentum"] or group["weight_decay"]:
                self._momentum_step(group, -lr)
                continue
            neg_lr = -lr
            for p in group["params"]:  # plain SGD: θ ← θ − γ·g, in place
                g = p.grad
                if g is None:
                    continue
                st = state.get(p) or self._new_state(p)
                d = p.data
                if d.ndim:
                    upd = st["update"]  # kept for inspect_state
                    _multiply(g, neg_lr, upd)
                    _add(d, upd, d)
                else:  # one number: NumPy's scalar arithmetic skips two ufunc set-ups
                    u = st["update"] = g[()] * neg_lr
                    d[()] = d[()] + u
                st["step"] += 1
        return loss

    def _momentum_step(self, group: dict[str, Any], neg_lr: float) -> None:
        """The full rule of the class docstring: weight decay, momentum, Nesterov."""
        state = self.state
        mu = group["momentum"]
        wd = group["weight_decay"]
        keep = 1.0 - group["dampening"]
        nesterov = group["nesterov"]
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            d = p.data
            st = state.get(p) or self._new_state(p)
            upd = st["update"]
            if type(upd) is not np.ndarray:  # a 0-d parameter's plain steps keep a scalar
                upd = st["update"] = np.zeros_like(d)
            if wd != 0.0:
                g = g + wd * d
            if mu != 0.0:
                buf = st["momentum_buffer"]
                if buf is None:
                    buf = st["momentum_buffer"] = np.array(g, dtype=d.dtype, copy=True)
                else:
                    _multiply(buf, mu, buf)
                    if keep != 1.0:
                        _multiply(g, keep, upd)
                        _add(buf, upd, buf)
                    else:
                        _add(buf, g, buf)
                if nesterov:
                    _multiply(buf, mu, upd)
                    _add(upd, g, upd)
                    _multiply(upd, neg_lr, upd)
                else:
                    _multiply(buf, neg_lr, upd)
            else:
                _multiply(g, neg_lr, upd)
            _add(d, upd, d)
            st["step"] += 1

    def _new_state(self, p: Any) -> dict[str, Any]:
        st = self.state[p] = {
            "step": 0, "momentum_buffer": None, "update": np.zeros_like(p.data),
        }
        return st

    def _inspect(self, param: Any, group: dict[str, Any], st: dict[str, Any] | None) -> dict:
        if st is None:
            return {
                "velocity": None, "sq_avg": None,
                "step_size": np.full(np.shape(param.data), float(group["lr"])), "update": None,
            }
        return {
            "velocity": st["momentum_buffer"],
            "sq_avg": None,
            "step_size": np.full(np.shape(param.data), float(self._step_lr(group))),
            "update": np.array(st["update"]) if st["step"] else None,
        }
