"""Adam and AdamW: momentum plus per-coordinate scaling, with bias correction."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .optimizer import Optimizer

__all__ = ["Adam", "AdamW"]


def _bias_corrections(group: dict[str, Any], t: int) -> tuple[float, float]:
    """``(1 − β₁^t, √(1 − β₂^t))``, or ``(1, 1)`` when the group has bias_correction off."""
    if not group.get("bias_correction", True):
        return 1.0, 1.0
    beta1, beta2 = group["betas"]
    return 1.0 - beta1 ** t, math.sqrt(1.0 - beta2 ** t)


class Adam(Optimizer):
    r"""Adam, PyTorch's rule exactly (``weight_decay`` is a *coupled* L2 penalty).

    ::

        input: γ (lr), β₁, β₂ (betas), θ₀ (params), λ (weight_decay), ε (eps), amsgrad
        initialise: m₀ ← 0 (first moment), v₀ ← 0 (second moment), v̂max₀ ← 0
        for t = 1, 2, ...:
            g_t ← ∇f(θ_{t-1})
            if λ ≠ 0:
                g_t ← g_t + λ·θ_{t-1}                 (coupled: decay goes through m and v)
            m_t ← β₁·m_{t-1} + (1 − β₁)·g_t           (running mean of gradients)
            v_t ← β₂·v_{t-1} + (1 − β₂)·g_t²          (running mean of squared gradients)
            m̂_t ← m_t / (1 − β₁^t)                    (bias correction: m, v start at 0)
            if amsgrad:
                v̂max_t ← max(v̂max_{t-1}, v_t)
                v̂_t ← v̂max_t / (1 − β₂^t)
            else:
                v̂_t ← v_t / (1 − β₂^t)
            θ_t ← θ_{t-1} − γ · m̂_t / (√v̂_t + ε)
        return θ_t

    In words: ``m̂`` is a smoothed gradient (momentum) and ``√v̂`` its typical
    size per coordinate, so every coordinate moves about ``γ`` per step
    regardless of how steep it is. On the very first step ``m̂ = g`` and
    ``√v̂ = |g|``, so every parameter moves by ``γ·sign(g)`` (up to ``ε``).
    ``ε`` is added *after* the square root of the bias-corrected ``v̂``.

    ``inspect_state(p)``: ``velocity`` = ``m̂`` (bias-corrected), ``sq_avg`` =
    ``v`` (raw exp_avg_sq), ``step_size`` = ``γ / (√v̂ + ε)`` so that
    ``update ≈ −step_size · velocity`` (exactly, without weight decay),
    ``update`` = last change. Extra keys: ``"exp_avg"`` (raw ``m``) and
    ``"max_exp_avg_sq"`` with amsgrad.

    ``bias_correction`` (default True) is **descent's own switch, not a PyTorch
    option**: ``bias_correction=False`` skips the two divisions by ``1 − β^t``
    (``m̂_t = m_t``, ``v̂_t = v_t``), the rule as it would be without Kingma &
    Ba's correction (Adam, 2015, section 3). Then, with a steady gradient, the
    step is ``γ·(1 − β₁^t)/√(1 − β₂^t)`` instead of ``γ``: on step 1
    ``(1 − β₁)/√(1 − β₂)`` = 0.1/√0.001 ≈ 3.16·γ for the default betas, growing
    to about 6.6·γ at step 12; still 3.2·γ at step 100 and 1.26·γ at step 1000.
    It exists so the app can show why the correction is there.
    """

    _decoupled = False

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        bias_correction: bool = True,
    ) -> None:
        defaults = {
            "lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
            "amsgrad": amsgrad, "bias_correction": bias_correction,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group: dict[str, Any]) -> None:
        self._require_non_negative(group, "lr", "eps")
        betas = group["betas"]
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        self._require_non_negative(group, "weight_decay")

    def _init_state(self, param: Any, group: dict[str, Any]) -> dict[str, Any]:
        d = param.data
        return {
            "exp_avg": np.zeros_like(d),      # m
            "exp_avg_sq": np.zeros_like(d),   # v
            "max_exp_avg_sq": np.zeros_like(d) if group["amsgrad"] else None,
            "denom": np.zeros_like(d),        # √v̂ + ε, kept for inspect_state
            "update": np.zeros_like(d),
        }

    def _update(self, param: Any, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        theta, t = param.data, state["step"]
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if wd != 0.0 and not self._decoupled:
            g = g + wd * theta                      # coupled: g ← g + λ·θ
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1.0 - beta1) * g                      # m ← β₁·m + (1 − β₁)·g
        v *= beta2
        v += (1.0 - beta2) * (g * g)                # v ← β₂·v + (1 − β₂)·g²
        if group["amsgrad"]:
            if state["max_exp_avg_sq"] is None:     # amsgrad switched on mid-run
                state["max_exp_avg_sq"] = np.zeros_like(theta)
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        # √v̂ + ε with v̂ = v / (1 − β₂^t);  m̂ = m / (1 − β₁^t)  (both 1 without bias_correction)
        bc1, bc2 = _bias_corrections(group, t)
        denom = state["denom"] = np.sqrt(v) / bc2 + eps
        update = m / denom * (-lr / bc1)   # −γ·m̂ / (√v̂ + ε)
        if wd != 0.0 and self._decoupled:
            update += theta * (-lr * wd)            # decoupled: −γ·λ·θ
        state["update"] = update
        theta += update

    def _inspect(self, param: Any, group: dict[str, Any], st: dict[str, Any] | None) -> dict:
        if st is None or st["step"] == 0:
            return {"velocity": None, "sq_avg": None, "step_size": None, "update": None}
        info = {
            "velocity": st["exp_avg"] / _bias_corrections(group, st["step"])[0],
            "sq_avg": st["exp_avg_sq"],
            "step_size": self._step_lr(group) / st["denom"],
            "update": st["update"],
            "exp_avg": st["exp_avg"].copy(),
        }
        if st["max_exp_avg_sq"] is not None:
            info["max_exp_avg_sq"] = st["max_exp_avg_sq"].copy()
        return info


class AdamW(Adam):
    r"""AdamW: Adam with *decoupled* weight decay (PyTorch's rule exactly).

    ::

        input: γ (lr), β₁, β₂ (betas), θ₀ (params), λ (weight_decay), ε (eps), amsgrad
        initialise: m₀ ← 0, v₀ ← 0, v̂max₀ ← 0
        for t = 1, 2, ...:
            g_t ← ∇f(θ_{t-1})
            θ_t ← θ_{t-1} − γ·λ·θ_{t-1}              (decoupled: shrink weights directly)
            m_t ← β₁·m_{t-1} + (1 − β₁)·g_t
            v_t ← β₂·v_{t-1} + (1 − β₂)·g_t²
            m̂_t ← m_t / (1 − β₁^t)
            if amsgrad:
                v̂max_t ← max(v̂max_{t-1}, v_t);  v̂_t ← v̂max_t / (1 − β₂^t)
            else:
                v̂_t ← v_t / (1 − β₂^t)
            θ_t ← θ_t − γ · m̂_t / (√v̂_t + ε)
        return θ_t

    In words: Adam's coupled L2 penalty gets divided by ``√v̂`` like any other
    gradient, so heavily-updated weights are barely decayed. AdamW instead
    shrinks every weight by the same fraction ``γ·λ`` per step, independent
    of the gradient statistics. Default ``weight_decay`` is ``1e-2``.

    ``inspect_state(p)``: as :class:`Adam` (``update`` includes the decay);
    ``bias_correction`` as in :class:`Adam` (descent's switch, not PyTorch's).
    """

    _decoupled = True

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        bias_correction: bool = True,
    ) -> None:
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
            bias_correction=bias_correction,
        )
