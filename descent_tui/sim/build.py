"""Build the engine objects of one run: parameters / model, optimizer, lr scheduler.

Everything random takes a ``numpy.random.Generator`` made from a seed, never the
global numpy state, so a run is bitwise reproducible.

The learner's changes (knobs, ``--set``) are applied and checked before a run is
built, by :mod:`descent_tui.scenario.overrides`; this module builds from a spec
that is already valid.

* :func:`build_model` makes the ``nn.Sequential`` MLP of a network scenario.
* :func:`build_optimizer` / :func:`build_scheduler` map the ``Run`` fields to
  :mod:`descent_tui.engine.optim` with PyTorch's names.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec
import numpy as np

from descent_tui.engine import nn, optim
from descent_tui.engine.nn import init as nn_init
from descent_tui.scenario import schema as S

__all__ = [
    "LEAKY_SLOPE",
    "build_model",
    "build_optimizer",
    "build_scheduler",
    "run_seed",
    "set_scheduler_base_lr",
]

#: negative slope of leaky_relu layers (torch's default)
LEAKY_SLOPE = 0.01


def run_seed(spec: S.Scenario, run: S.Run) -> int:
    return int(run.seed if run.seed is not None else spec.seed)


# ------------------------------------------------------------------------- model


def run_model_spec(spec: S.Scenario, run: S.Run) -> S.ModelSpec:
    """The scenario's ModelSpec with the run's init / activation overrides."""
    assert spec.network is not None
    m = spec.network.model
    changes: dict[str, Any] = {}
    for name in ("init", "init_value", "init_std", "bias_init", "activation"):
        v = getattr(run, name)
        if v is not None:
            changes[name] = v
    return msgspec.structs.replace(m, **changes) if changes else m


_ACT = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE),
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "identity": nn.Identity,
}


def _init_weight(layer: nn.Linear, model: S.ModelSpec, act: str, rng: np.random.Generator) -> None:
    w = layer.weight
    kind = model.init
    if kind == "pytorch":
        bound = 1.0 / math.sqrt(layer.in_features)  # kaiming_uniform_(a=sqrt 5)
        nn_init.uniform_(w, -bound, bound, rng=rng)
    elif kind == "zeros":
        nn_init.zeros_(w)
    elif kind == "constant":
        nn_init.constant_(w, model.init_value)
    elif kind == "normal":
        nn_init.normal_(w, 0.0, model.init_std, rng=rng)
    elif kind == "uniform":
        nn_init.uniform_(w, -model.init_std, model.init_std, rng=rng)
    elif kind in ("xavier_uniform", "xavier_normal"):
        gain = nn_init.calculate_gain(act, LEAKY_SLOPE if act == "leaky_relu" else None)
        fn = nn_init.xavier_uniform_ if kind == "xavier_uniform" else nn_init.xavier_normal_
        fn(w, gain=gain, rng=rng)
    elif kind in ("kaiming_uniform", "kaiming_normal"):
        fn = nn_init.kaiming_uniform_ if kind == "kaiming_uniform" else nn_init.kaiming_normal_
        if act == "relu":
            fn(w, a=0.0, nonlinearity="relu", rng=rng)
        elif act == "leaky_relu":
            fn(w, a=LEAKY_SLOPE, nonlinearity="leaky_relu", rng=rng)
        else:  # tanh (5/3), sigmoid / identity (1)
            fn(w, nonlinearity=act if act in ("tanh", "sigmoid") else "linear", rng=rng)
    else:  # pragma: no cover - the schema forbids it
        raise ValueError(f"unknown init {kind!r}")


def _init_bias(layer: nn.Linear, model: S.ModelSpec, rng: np.random.Generator) -> None:
    b = layer.bias
    kind = model.effective_bias_init
    if kind == "pytorch":
        bound = 1.0 / math.sqrt(layer.in_features)
        nn_init.uniform_(b, -bound, bound, rng=rng)
    elif kind == "constant":
        nn_init.constant_(b, model.init_value)
    else:
        nn_init.zeros_(b)


def build_model(spec: S.Scenario, run: S.Run, rng: np.random.Generator
                ) -> tuple[nn.Sequential, list[nn.Linear], list[str]]:
    """``(model, linears, activations)``: Linear + activation per hidden layer, identity output.

    ``activations[i]`` is the nonlinearity after ``linears[i]`` ("identity" for the
    output layer). Weights are drawn layer by layer (weight, then bias) from ``rng``.
    """
    model_spec = run_model_spec(spec, run)
    sizes = model_spec.layers
    acts = model_spec.hidden_activations + ["identity"]
    modules: list[nn.Module] = []
    linears: list[nn.Linear] = []
    dummy = np.random.default_rng(0)  # Linear's own default init, overwritten below
    for i in range(len(sizes) - 1):
        lin = nn.Linear(sizes[i], sizes[i + 1], rng=dummy)
        _init_weight(lin, model_spec, acts[i], rng)
        _init_bias(lin, model_spec, rng)
        linears.append(lin)
        modules.append(lin)
        if i < len(sizes) - 2:
            modules.append(_ACT[acts[i]]())
    return nn.Sequential(*modules), linears, acts


# --------------------------------------------------------------------- optimizer


def build_optimizer(run: S.Run, params: list[Any]) -> optim.Optimizer:
    """The engine optimizer for ``run`` (PyTorch's constructor arguments)."""
    name = run.optimizer
    if name in ("sgd", "momentum", "nesterov"):
        return optim.SGD(params, lr=run.lr, momentum=run.effective_momentum,
                         dampening=run.dampening, nesterov=run.uses_nesterov,
                         weight_decay=run.weight_decay)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=run.lr, alpha=run.alpha, eps=run.eps,
                             weight_decay=run.weight_decay, momentum=run.effective_momentum,
                             centered=run.centered)
    if name == "adagrad":
        return optim.Adagrad(params, lr=run.lr, lr_decay=run.lr_decay,
                             weight_decay=run.weight_decay, eps=run.eps)
    if name == "adam":
        return optim.Adam(params, lr=run.lr, betas=tuple(run.betas), eps=run.eps,
                          weight_decay=run.weight_decay, amsgrad=run.amsgrad,
                          bias_correction=run.bias_correction)
    if name == "adamw":
        return optim.AdamW(params, lr=run.lr, betas=tuple(run.betas), eps=run.eps,
                           weight_decay=run.weight_decay, amsgrad=run.amsgrad,
                           bias_correction=run.bias_correction)
    if name == "newton":
        return optim.Newton(params, lr=run.lr, damping=run.damping)
    raise ValueError(f"unknown optimizer {name!r}")  # pragma: no cover


def build_scheduler(run: S.Run, opt: optim.Optimizer, total_steps: int) -> Any | None:
    """The lr scheduler of ``run`` (None for no / a constant schedule)."""
    sch = run.schedule
    if sch is None or sch.kind == "constant":
        return None
    ls = optim.lr_scheduler
    if sch.kind == "step":
        return ls.StepLR(opt, step_size=sch.step_size, gamma=sch.gamma)
    if sch.kind == "multistep":
        return ls.MultiStepLR(opt, milestones=sorted(sch.milestones), gamma=sch.gamma)
    if sch.kind == "exponential":
        return ls.ExponentialLR(opt, gamma=sch.gamma)
    if sch.kind == "cosine":
        return ls.CosineAnnealingLR(opt, T_max=sch.t_max or total_steps, eta_min=sch.eta_min)
    if sch.kind == "warmup":
        w = sch.warmup_steps
        if sch.after == "cosine":
            t_max = max(1, (sch.t_max or total_steps) - w)
            cosine = ls.CosineAnnealingLR(opt, T_max=t_max, eta_min=sch.eta_min)
            if w == 0:
                return cosine
            warm = ls.LinearLR(opt, start_factor=sch.start_factor, end_factor=1.0,
                               total_iters=w)
            return ls.SequentialLR(opt, [warm, cosine], milestones=[w])
        if w == 0:
            return None
        return ls.LinearLR(opt, start_factor=sch.start_factor, end_factor=1.0, total_iters=w)
    raise ValueError(f"unknown schedule {sch.kind!r}")  # pragma: no cover


def set_scheduler_base_lr(sched: Any, lr: float) -> None:
    """Make ``lr`` the base lr of ``sched`` (and of the schedulers it chains)."""
    if sched is None:
        return
    if hasattr(sched, "base_lrs"):
        sched.base_lrs = [lr for _ in sched.base_lrs]
    for sub in getattr(sched, "_schedulers", ()):
        set_scheduler_base_lr(sub, lr)
