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
        self._require_non_negative(group, "lr", "eps", "momentum", "weight_decay", "alpha")

    def _init_state(self, param: Any, group: dict[str, Any]) -> dict[str, Any]:
        d = param.data
        return {
            "square_avg": np.zeros_like(d),   # v
            "momentum_buffer": np.zeros_like(d) if group["momentum"] > 0 else None,  # b
            "grad_avg": np.zeros_like(d) if group["centered"] else None,
            "avg": np.zeros_like(d),          # √ṽ + ε, kept for inspect_state
            "update": np.zeros_like(d),
        }

    def _update(self, param: Any, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        theta = param.data
        lr, alpha, eps, mu = group["lr"], group["alpha"], group["eps"], group["momentum"]
        if group["weight_decay"] != 0.0:
            g = g + group["weight_decay"] * theta   # g ← g + λ·θ
        v = state["square_avg"]
        v *= alpha
        v += (1.0 - alpha) * (g * g)                # v ← α·v + (1 − α)·g²
        if group["centered"]:
            g_ave = _buffer(state, "grad_avg", theta)
            g_ave *= alpha
            g_ave += (1.0 - alpha) * g              # g_ave ← α·g_ave + (1 − α)·g
            avg = np.sqrt(v - g_ave * g_ave) + eps  # √ṽ + ε with ṽ = v − g_ave²
        else:
            avg = np.sqrt(v) + eps                  # √ṽ + ε with ṽ = v
        state["avg"] = avg
        if mu > 0:
            b = _buffer(state, "momentum_buffer", theta)
            b *= mu
            b += g / avg                            # b ← μ·b + g / (√ṽ + ε)
            update = b * -lr                        # θ ← θ − γ·b
        else:
            update = g / avg * -lr                  # θ ← θ − γ·g / (√ṽ + ε)
        state["update"] = update
        theta += update

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


def _buffer(state: dict[str, Any], key: str, like: np.ndarray) -> np.ndarray:
    """``state[key]``, started at zeros if the group switched its option on mid-run."""
    if state[key] is None:
        state[key] = np.zeros_like(like)
    return state[key]
