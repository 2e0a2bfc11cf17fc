"""What the knobs panel holds, without the widgets: edits per run, what was applied, why not.

The rules the panel follows (issue 14):

* the fields show the values of the run they apply to (:meth:`KnobState.shown`);
* an edit belongs to the run it was made for: switching "apply to" never carries
  it to another run (``pending`` is keyed by target), and a value equal to another
  run's value is still applied (an edit is compared with its own run only);
* an optimizer has only its own options (:data:`OPTIMIZER_OPTIONS`, read off
  :func:`descent_tui.sim.build.build_optimizer`): momentum on Adam is no knob;
* a run whose optimizer was changed is shown relabelled, ``momentum → adam``;
* a value the scenario's rules refuse keeps the refusal's message beside its knob
  (:meth:`KnobState.reject`) and stays pending until it is fixed.

A *target* is a run index, or None for every run.
"""

from __future__ import annotations

import re
from typing import Any

from descent_tui.tui.widgets.status import fmt_num

__all__ = ["INT_KNOBS", "OPTIMIZER_OPTIONS", "OPTION_KNOBS", "SCENARIO_WIDE", "KnobState",
           "has_option", "run_values"]

INT_KNOBS = ("batch_size", "steps")
SCENARIO_WIDE = ("steps",)  # knobs of the whole mission, not of one run
#: the knobs that are options of an optimizer (the rest -- lr, clipping, data -- are any run's)
OPTION_KNOBS = frozenset({"momentum", "beta1", "beta2", "weight_decay"})
_SGD = frozenset({"momentum", "weight_decay"})
_ADAM = frozenset({"beta1", "beta2", "weight_decay"})
#: each optimizer's options among OPTION_KNOBS (its PyTorch constructor's arguments)
OPTIMIZER_OPTIONS: dict[str, frozenset[str]] = {
    "sgd": _SGD, "momentum": _SGD, "nesterov": _SGD, "rmsprop": _SGD,
    "adagrad": frozenset({"weight_decay"}), "adam": _ADAM, "adamw": _ADAM,
    "newton": frozenset(),
}
_RUN_KEY = re.compile(r"^runs(?:\[(\d+)\]|\.[^.]+)\.")


def has_option(optimizer: str | None, knob: str) -> bool:
    """Does ``optimizer`` have the setting ``knob``? (Knobs of every run: always.)"""
    if knob not in OPTION_KNOBS or optimizer is None:
        return True
    return knob in OPTIMIZER_OPTIONS.get(optimizer, OPTION_KNOBS)


def run_values(spec: Any, index: int = 0) -> dict[str, Any]:
    """The value of every knob in run ``index`` of ``spec`` (and the mission's ``steps``)."""
    run = spec.runs[index]
    out: dict[str, Any] = {
        "lr": run.lr, "momentum": run.effective_momentum, "beta1": run.betas[0],
        "beta2": run.betas[1], "weight_decay": run.weight_decay, "clip_norm": run.clip_norm,
        "steps": spec.steps, "optimizer": run.optimizer,
    }
    if spec.network is not None:
        model = spec.network.model
        out["batch_size"] = run.batch_size if run.batch_size is not None \
            else spec.network.batch_size
        out["init"] = run.init or model.init
        act = run.activation or model.activation
        out["activation"] = act if isinstance(act, str) else act[0]
    return out


def knob_of(key: str) -> str:
    """The knob an override key is about: ``runs[0].momentum`` -> ``momentum``."""
    name = _RUN_KEY.sub("", key.strip())
    return "beta1" if name == "betas" else name


class KnobState:
    """Edits per target, the overrides in force, and messages per knob."""

    def __init__(self, spec: Any) -> None:
        self.base = spec  #: the mission as written (labels, default optimizers)
        self.spec = spec  #: the mission as the simulation now runs it
        self.applied: dict[str, Any] = {}  #: the overrides in force, by full key
        self.pending: dict[int | None, dict[str, Any]] = {}  #: edits not applied yet
        self.refused: dict[str, str] = {}  #: knob -> why the last reset refused it
        self.general: str = ""  #: a refusal no single knob is to blame for

    # ------------------------------------------------------------------ values
    def values(self, target: int | None) -> dict[str, Any]:
        """The values in force for ``target``; for every run, a value the runs share
        (None where they differ)."""
        if target is not None:
            return run_values(self.spec, target)
        per_run = [run_values(self.spec, i) for i in range(len(self.spec.runs))]
        return {name: value if all(v.get(name) == value for v in per_run) else None
                for name, value in per_run[0].items()}

    def shown(self, target: int | None) -> dict[str, Any]:
        """What the fields show for ``target``: its values with its own edits on top."""
        return {**self.values(target), **self.pending.get(target, {})}

    def optimizers(self, target: int | None) -> set[str]:
        """The optimizer(s) ``target`` will have after the next reset."""
        edit = self.pending.get(target, {}).get("optimizer")
        if edit is not None:
            return {edit}
        runs = range(len(self.spec.runs)) if target is None else [target]
        return {self.shown(i).get("optimizer") for i in runs}

    def enabled(self, target: int | None, knob: str) -> bool:
        """A knob is enabled when some optimizer of ``target`` has it."""
        return any(has_option(opt, knob) for opt in self.optimizers(target))

    # ------------------------------------------------------------------ edits
    def edit(self, target: int | None, knob: str, value: Any) -> None:
        """The learner set ``knob`` of ``target`` to ``value`` (None: an empty field)."""
        edits = self.pending.setdefault(target, {})
        self.refused.pop(knob, None)
        if value == self.values(target).get(knob):
            edits.pop(knob, None)
        else:
            edits[knob] = value

    def proposed(self) -> dict[str, Any]:
        """The overrides for the next reset: those in force plus every pending edit.

        Edits for every run go first and replace per-run values of the same knob;
        an optimizer option is left out for a run whose optimizer lacks it."""
        out = dict(self.applied)
        for target in sorted(self.pending, key=lambda t: -1 if t is None else t):
            for knob, value in self.pending[target].items():
                if not self.enabled(target, knob):
                    continue
                if target is None or knob in SCENARIO_WIDE:
                    for key in [k for k in out if k.startswith("runs[") and knob_of(k) == knob]:
                        del out[key]
                    out[knob] = value
                else:
                    out[f"runs[{target}].{knob}"] = value
        return out

    def accept(self, spec: Any, overrides: dict[str, Any]) -> None:
        """A reset with ``overrides`` succeeded: they are in force, no edit is pending."""
        self.spec = spec
        self.applied = dict(overrides)
        self.pending.clear()
        self.refused.clear()
        self.general = ""

    def reject(self, items: list[tuple[str, str]]) -> None:
        """A reset was refused: ``(key, message)`` pairs (OverrideError.items), each
        shown beside its knob; the edits stay pending."""
        self.refused.clear()
        self.general = ""
        shown = self.base.knobs.present()
        for key, message in items:
            knobs = [knob_of(k) for k in key.split(",")]
            for knob in knobs:
                if knob in shown:
                    self.refused[knob] = message
            if not any(knob in shown for knob in knobs):
                self.general = f"{key}: {message}"

    # ------------------------------------------------------------------ words
    def labels(self) -> list[str]:
        """Each run's label, ``label → optimizer`` where the knobs changed its optimizer."""
        out = []
        for base, now in zip(self.base.runs, self.spec.runs, strict=False):
            changed = now.optimizer != base.optimizer
            out.append(f"{base.label} → {now.optimizer}" if changed else base.label)
        return out

    def describe(self, overrides: dict[str, Any]) -> str:
        """``slow: lr=0.3; every run: steps=50`` for a dict of overrides."""
        labels = self.labels()
        parts = []
        for key, value in overrides.items():
            m = re.match(r"^runs\[(\d+)\]\.(.+)$", key)
            shown = value if isinstance(value, str) or value is None else fmt_num(value)
            if m and int(m.group(1)) < len(labels):
                parts.append(f"{labels[int(m.group(1))]}: {m.group(2)}={shown}")
            else:
                parts.append(f"every run: {key}={shown}")
        return "; ".join(parts)

    def pending_text(self) -> str:
        """The edits waiting for a reset, by run (empty: none)."""
        flat = {}
        for target, edits in self.pending.items():
            for knob, value in edits.items():
                key = knob if target is None or knob in SCENARIO_WIDE else f"runs[{target}].{knob}"
                flat[key] = value
        return self.describe(flat)
