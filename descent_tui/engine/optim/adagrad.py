"""Adagrad: per-coordinate step sizes from the running *sum* of squared gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad, PyTorch's rule exactly.

    ::

        input: γ (lr), θ₀ (params), λ (weight_decay), τ (initial_accumulator_value),
               η (lr_decay), ε (eps)
        initialise: state_sum₀ ← τ
        for t = 1, 2, ...:
            g_t ← ∇f(θ_{t-1})
            γ̃ ← γ / (1 + (t − 1)·η)                    (decayed learning rate "clr")
            if λ ≠ 0:
                g_t ← g_t + λ·θ_{t-1}
            state_sum_t ← state_sum_{t-1} + g_t²
            θ_t ← θ_{t-1} − γ̃ · g_t / (√state_sum_t + ε)
        return θ_t

    In words: every coordinate remembers the total squared gradient it has
    seen, and its step size ``γ̃ / (√sum + ε)`` only ever shrinks. Rarely
    updated coordinates keep large steps; frequently updated ones slow down.
    Because the sum never forgets, Adagrad eventually stalls (RMSprop and
    Adam fix this with a decaying average). The first step moves every
    coordinate by about ``γ·sign(g)`` when ``τ = 0``.

    ``inspect_state(p)``: ``velocity`` = None, ``sq_avg`` = ``state_sum``,
    ``step_size`` = ``γ̃ / (√state_sum + ε)``, ``update`` = last change.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        defaults = {
            "lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value, "eps": eps,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Any, group: dict[str, Any]) -> dict[str, Any]:
        d = param.data
        return {
            "sum": np.full_like(d, group["initial_accumulator_value"]),  # state_sum₀ = τ
            "std": np.zeros_like(d),   # √state_sum + ε, kept for inspect_state
            "update": np.zeros_like(d),
            "clr": group["lr"],
        }

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:  # as PyTorch: Adagrad's state exists before the first step
            self._state_of(p, group)

    def _validate_group(self, group: dict[str, Any]) -> None:
        self._require_non_negative(group, "lr", "lr_decay", "weight_decay",
                                   "initial_accumulator_value", "eps")

    def _update(self, param: Any, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        theta, t = param.data, state["step"]
        if group["weight_decay"] != 0.0:
            g = g + group["weight_decay"] * theta       # g ← g + λ·θ
        clr = state["clr"] = group["lr"] / (1 + (t - 1) * group["lr_decay"])  # γ̃
        s = state["sum"]
        s += g * g                                      # state_sum ← state_sum + g²
        std = state["std"] = np.sqrt(s) + group["eps"]
        update = state["update"] = g / std * -clr       # −γ̃·g / (√state_sum + ε)
        theta += update

    def _inspect(self, param: Any, group: dict[str, Any], st: dict[str, Any] | None) -> dict:
        if st is None or st["step"] == 0:
            s = None if st is None else st["sum"]
            return {"velocity": None, "sq_avg": s, "step_size": None, "update": None}
        return {
            "velocity": None,
            "sq_avg": st["sum"],
            "step_size": st["clr"] / st["std"],
            "update": st["update"],
        }
