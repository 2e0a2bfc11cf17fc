"""RMSprop: divide each gradient coordinate by a running RMS of its history."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop, PyTorch's rule exactly.

    ::

        input: γ (lr), α (alpha), ε (eps), λ (weight_decay), μ (momentum), centered
        initialise: v₀ ← 0 (square average), b₀ ← 0 (buffer), g_ave₀ ← 0
        for t = 1, 2, ...:
            g_t ← ∇f(θ_{t-1})
            if λ ≠ 0:
                g_t ← g_t + λ·θ_{t-1}
            v_t ← α·v_{t-1} + (1 − α)·g_t²            (running mean of squared gradients)
            ṽ_t ← v_t
            if centered:
                g_ave_t ← α·g_ave_{t-1} + (1 − α)·g_t
                ṽ_t ← ṽ_t − g_ave_t²                   (a running *variance* instead)
            if μ > 0:
                b_t ← μ·b_{t-1} + g_t / (√ṽ_t + ε)
                θ_t ← θ_{t-1} − γ·b_t
            else:
                θ_t ← θ_{t-1} − γ·g_t / (√ṽ_t + ε)
        return θ_t

    In words: each coordinate gets its own step size ``γ / (√ṽ + ε)``.
    Coordinates whose gradients are consistently large take smaller steps, so
    a long narrow valley looks rounder. Note ``ε`` is added *after* the square
    root, and the momentum buffer starts at zero (unlike SGD's).

    ``inspect_state(p)``: ``velocity`` = momentum buffer ``b`` (None without
    momentum), ``sq_avg`` = ``v``, ``step_size`` = ``γ / (√ṽ + ε)``,
    ``update`` = last ``θ_t − θ_{t-1}`` (also ``"grad_avg"`` when centered).
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        defaults = {
            "lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
            "momentum": momentum, "centered": centered,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        if not group["lr"] >= 0.0:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not group["eps"] >= 0.0:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")
        if not group["momentum"] >= 0.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if not group["weight_decay"] >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if not group["alpha"] >= 0.0:
            raise ValueError(f"Invalid alpha value: {group['alpha']}")

    def step(self, closure: Any = None) -> Any:
        """Perform one RMSprop update; ``closure`` (optional) re-evaluates and returns the loss."""
        loss = None if closure is None else closure()
        state = self.state
        multiply, add, sqrt, divide = np.multiply, np.add, np.sqrt, np.divide
        last_lr = self._last_lr
        for group in self.param_groups:
            lr = last_lr[id(group)] = group["lr"]
            neg_lr = -lr
            alpha = group["alpha"]
            one_m_alpha = 1.0 - alpha
            eps = group["eps"]
            wd = group["weight_decay"]
            mu = group["momentum"]
            centered = group["centered"]
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                d = p.data
                st = state.get(p)
                if st is None:
                    st = state[p] = {
                        "step": 0,
                        "square_avg": np.zeros_like(d),
                        "momentum_buffer": np.zeros_like(d) if mu > 0 else None,
                        "grad_avg": np.zeros_like(d) if centered else None,
                        "avg": np.zeros_like(d),
                        "update": np.zeros_like(d),
                    }
                upd = st["update"]
                avg = st["avg"]
                if wd != 0.0:
                    g = g + wd * d
                sq = st["square_avg"]
                multiply(sq, alpha, sq)
                multiply(g, g, upd)
                multiply(upd, one_m_alpha, upd)
                add(sq, upd, sq)
                if centered:
                    ga = st["grad_avg"]
                    if ga is None:
                        ga = st["grad_avg"] = np.zeros_like(d)
                    multiply(ga, alpha, ga)
                    multiply(g, one_m_alpha, upd)
                    add(ga, upd, ga)
                    multiply(ga, ga, avg)
                    np.subtract(sq, avg, avg)
                    sqrt(avg, avg)
                else:
                    sqrt(sq, avg)
                add(avg, eps, avg)
                if mu > 0:
                    buf = st["momentum_buffer"]
                    if buf is None:
                        buf = st["momentum_buffer"] = np.zeros_like(d)
                    multiply(buf, mu, buf)
                    divide(g, avg, upd)
                    add(buf, upd, buf)
                    multiply(buf, neg_lr, upd)
                else:
                    divide(g, avg, upd)
                    multiply(upd, neg_lr, upd)
                add(d, upd, d)
                st["step"] += 1
        return loss

    def _inspect(self, param: Any, group: dict[str, Any], st: dict[str, Any] | None) -> dict:
        if st is None:
            return {"velocity": None, "sq_avg": None, "step_size": None, "update": None}
        info = {
            "velocity": st["momentum_buffer"],
            "sq_avg": st["square_avg"],
            "step_size": self._step_lr(group) / st["avg"],
            "update": st["update"] if st["step"] else None,
        }
        if st["grad_avg"] is not None:
            info["grad_avg"] = st["grad_avg"]
        return info
