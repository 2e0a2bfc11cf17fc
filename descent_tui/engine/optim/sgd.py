"""Stochastic gradient descent, with optional (Nesterov) momentum."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer

__all__ = ["SGD"]


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

    Args (in PyTorch's order and with its defaults, so ``SGD(p, 0.1, 0.9)`` means
    what it means there):
        params: iterable of parameters or of parameter-group dicts.
        lr: learning rate γ (default 1e-3).
        momentum: momentum factor μ (default 0: no momentum).
        dampening: dampening τ applied to new gradients in the buffer (default 0).
        weight_decay: L2 penalty λ added to the gradient (default 0).
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening = 0).

    ``inspect_state(p)``: ``velocity`` = momentum buffer ``b`` (or None),
    ``sq_avg`` = None, ``step_size`` = ``lr`` everywhere, ``update`` = last
    ``θ_t − θ_{t-1}``.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        defaults = {
            "lr": lr, "momentum": momentum, "dampening": dampening, "nesterov": nesterov,
            "weight_decay": weight_decay,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        lr = group["lr"]
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if group["momentum"] < 0.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if group["weight_decay"] < 0.0:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _init_state(self, param: Any, group: dict[str, Any]) -> dict[str, Any]:
        return {"momentum_buffer": None, "update": np.zeros_like(param.data)}

    def _step_group(self, group: dict[str, Any]) -> None:
        """A plain group (μ = λ = 0) takes :meth:`_plain_steps`; any other the shared loop."""
        if group["momentum"] == 0.0 and group["weight_decay"] == 0.0:
            self._plain_steps(group)
        else:
            super()._step_group(group)

    def _plain_steps(self, group: dict[str, Any]) -> None:
        """θ ← θ − γ·g for every parameter of a plain group, in one loop.

        The arithmetic of :meth:`_update` with μ = λ = 0 (``update = −γ·g``,
        ``θ += update``) without a call and the option look-ups per
        parameter: the fast path beside the readable rule, tested against it.
        A single-number knob's gradient (a 0-d array) is read as its number,
        ``g[()]``: NumPy multiplies two numbers far faster than a number and
        a 0-d array, and the product is the same.
        """
        neg_lr = -group["lr"]
        state = self.state
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            st = state.get(p) or self._state_of(p, group)
            st["step"] += 1
            update = st["update"] = neg_lr * (g[()] if g.ndim == 0 else g)
            p._data += update

    def _update(self, param: Any, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        theta, mu = param.data, group["momentum"]
        if group["weight_decay"] != 0.0:
            g = g + group["weight_decay"] * theta        # g ← g + λ·θ
        if mu != 0.0:
            b = state["momentum_buffer"]
            if b is None:                                # b₁ ← g₁
                b = state["momentum_buffer"] = np.array(g, dtype=theta.dtype, copy=True)
            else:
                b *= mu
                b += (1.0 - group["dampening"]) * g      # b ← μ·b + (1 − τ)·g
            g = g + mu * b if group["nesterov"] else b   # look ahead, or follow b
        update = state["update"] = -group["lr"] * g      # θ ← θ − γ·g
        theta += update

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
