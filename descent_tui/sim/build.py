"""Build the engine objects of one run: parameters / model, optimizer, lr scheduler.

Everything random takes a ``numpy.random.Generator`` made from a seed, never the
global numpy state, so a run is bitwise reproducible.

* :func:`apply_knobs` turns the knob dict of :class:`~descent_tui.sim.Simulation`
  (``{"lr": 0.1, "optimizer": "adam", "runs.SGD.lr": 0.05, ...}``) into new, validated
  ``Run`` structs (and the scenario-level ``steps`` / ``seed``).
* :func:`build_model` makes the ``nn.Sequential`` MLP of a network scenario.
* :func:`build_optimizer` / :func:`build_scheduler` map the ``Run`` fields to
  :mod:`descent_tui.engine.optim` with PyTorch's names.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import msgspec
import numpy as np

from descent_tui.engine import nn, optim
from descent_tui.engine.nn import init as nn_init
from descent_tui.scenario import schema as S

__all__ = [
    "LEAKY_SLOPE",
    "RUN_FIELDS",
    "SCENARIO_KEYS",
    "OverrideError",
    "apply_knobs",
    "build_model",
    "build_optimizer",
    "build_scheduler",
    "parse_value",
    "run_seed",
    "set_scheduler_base_lr",
]

#: negative slope of leaky_relu layers (torch's default)
LEAKY_SLOPE = 0.01

RUN_FIELDS = frozenset(f.name for f in msgspec.structs.fields(S.Run)) - {"label"}
#: override keys handled at the scenario level rather than per run
SCENARIO_KEYS = ("steps", "seed", "diverge_above")


class OverrideError(ValueError):
    """A bad knob override; ``key`` is the offending key, ``message`` what is wrong."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}")


def parse_value(text: str) -> Any:
    """A ``--set`` value: bool, int, float, a ``[a, b]`` list, or the bare string."""
    t = text.strip()
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        pass
    if t.startswith("[") and t.endswith("]"):
        inner = t[1:-1].strip()
        return [parse_value(p) for p in inner.split(",")] if inner else []
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
        return t[1:-1]
    return t


def _convert_error(err: Exception, data: Any) -> str:
    # the loader's wording: "expected a number > 0 (got -3)"
    from descent_tui.scenario.loader import _msgspec_message

    return _msgspec_message(str(err), data, "")[1]


def _apply_run(run: S.Run, key: str, value: Any, shown: str) -> S.Run:
    data = msgspec.to_builtins(run)
    if key in ("beta1", "beta2"):
        betas = list(data.get("betas") or (0.9, 0.999))
        betas[0 if key == "beta1" else 1] = value
        data["betas"] = betas
    elif key in RUN_FIELDS:
        data[key] = value
    else:
        names = sorted(RUN_FIELDS | {"beta1", "beta2", *SCENARIO_KEYS})
        import difflib

        close = difflib.get_close_matches(key, names, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise OverrideError(shown, f"unknown setting{hint}")
    try:
        return msgspec.convert(data, S.Run)
    except msgspec.ValidationError as e:
        raise OverrideError(shown, _convert_error(e, data)) from None


def apply_knobs(spec: S.Scenario, overrides: Mapping[str, Any] | None
                ) -> tuple[S.Scenario, list[S.Run]]:
    """Return ``(spec', runs')`` with the knob overrides applied; raise :class:`OverrideError`.

    Keys: any ``Run`` field (``lr``, ``optimizer``, ``momentum``, ``weight_decay``,
    ``clip_norm``, ``batch_size``, ``init``, ``activation``, ``accumulate`` ...) and
    ``beta1`` / ``beta2`` apply to every run; ``runs.<label>.<key>`` (or
    ``runs[<i>].<key>``, 0-based) to one run; ``steps``, ``seed`` and ``diverge_above``
    to the scenario (``seed`` replaces the scenario seed; runs with their own seed
    keep it).
    """
    runs = list(spec.runs)
    if not overrides:
        return spec, runs
    top: dict[str, Any] = {}
    labels = {r.label: i for i, r in enumerate(runs)}
    for key, value in overrides.items():
        key = str(key).strip()
        if key in SCENARIO_KEYS:
            top[key] = value
            continue
        if key.startswith(("runs.", "runs[")):
            rest = key[4:]
            if rest.startswith("["):
                idx_text, _, sub = rest[1:].partition("]")
                sub = sub.lstrip(".")
                try:
                    idx = int(idx_text)
                except ValueError:
                    raise OverrideError(key, f"bad run index {idx_text!r}") from None
                if not 0 <= idx < len(runs):
                    raise OverrideError(key, f"no run {idx} (there are {len(runs)}, from 0)")
            else:
                label, dot, sub = rest[1:].rpartition(".")
                if not dot or label not in labels:
                    known = ", ".join(labels)
                    raise OverrideError(key, f"no run labelled {label or rest[1:]!r} "
                                             f"(runs: {known})")
                idx = labels[label]
            if not sub:
                raise OverrideError(key, "expected runs.<label>.<setting>")
            runs[idx] = _apply_run(runs[idx], sub, value, key)
            continue
        if key in ("network.batch_size", "network.model.init", "network.model.activation"):
            key = key.rsplit(".", 1)[1]
        runs = [_apply_run(r, key, value, key) for r in runs]
    if top:
        data = {k: getattr(spec, k) for k in SCENARIO_KEYS}
        data.update(top)
        try:
            checked = msgspec.convert(
                {"steps": data["steps"], "seed": data["seed"], "diverge_above": data["diverge_above"]},
                _TopLevel)
        except msgspec.ValidationError as e:
            bad = next((k for k in top if f"$.{k}" in str(e)), next(iter(top)))
            raise OverrideError(bad, _convert_error(e, data)) from None
        spec = msgspec.structs.replace(spec, steps=checked.steps, seed=checked.seed,
                                       diverge_above=checked.diverge_above)
    for r in runs:
        check_run(spec, r)
    return spec, runs


class _TopLevel(msgspec.Struct):
    steps: S.Steps
    seed: S.Seed
    diverge_above: S.Positive


def check_run(spec: S.Scenario, run: S.Run) -> None:
    """Cross-field checks the struct cannot express (raise :class:`OverrideError`)."""
    if run.uses_nesterov and (run.effective_momentum <= 0 or run.dampening != 0):
        raise OverrideError(f"runs.{run.label}.momentum",
                            "Nesterov momentum needs momentum > 0 and dampening = 0")
    if spec.network is not None and isinstance(run.activation, list):
        need = len(spec.network.model.layers) - 2
        if len(run.activation) != need:
            raise OverrideError(f"runs.{run.label}.activation",
                                f"needs {need} activations (one per hidden layer)")
    if (spec.landscape is not None and run.start is not None
            and len(run.start) != len(spec.landscape.params)):
        raise OverrideError(f"runs.{run.label}.start",
                                f"needs {len(spec.landscape.params)} values")


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
                          weight_decay=run.weight_decay, amsgrad=run.amsgrad)
    if name == "adamw":
        return optim.AdamW(params, lr=run.lr, betas=tuple(run.betas), eps=run.eps,
                           weight_decay=run.weight_decay, amsgrad=run.amsgrad)
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
