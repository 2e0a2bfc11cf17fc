"""Knobs panel: only the controls the mission allows (``spec.knobs``), within range.

Changes apply on reset; the learning rate also applies live.  The panel only
emits messages; the mission screen owns the simulation.
"""

from __future__ import annotations

import math
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static

from descent_tui.tui.safe_text import content
from descent_tui.tui.widgets.status import fmt_num

DEFAULT_CHOICES = {
    "optimizer": ("sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam", "adamw"),
    "init": ("xavier_uniform", "kaiming_normal", "normal", "pytorch"),
    "activation": ("relu", "tanh", "sigmoid", "leaky_relu"),
}
INT_KNOBS = ("batch_size", "steps")
SCENARIO_WIDE = ("steps",)  # knobs of the whole mission, not of one run
ALL_RUNS = "__all__"


def current_values(spec: Any) -> dict[str, Any]:
    """The mission's own value of every knob (from its first run)."""
    run = spec.runs[0]
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


class KnobsPanel(VerticalScroll):
    """Controls for ``spec.knobs``."""

    class LiveLr(Message):
        def __init__(self, lr: float, run: int | None = None) -> None:
            super().__init__()
            self.lr = lr
            self.run = run  # None: every run

    class ApplyReset(Message):
        def __init__(self, overrides: dict[str, Any]) -> None:
            super().__init__()
            self.overrides = overrides

    def __init__(self, spec: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.knobs = spec.knobs.present()
        self.defaults = current_values(spec)
        self.values: dict[str, Any] = {}  # changed knobs only
        self.applied: dict[str, Any] = {}  # what earlier resets applied, by full key
        self.target: int | None = None if len(spec.runs) == 1 else 0

    def compose(self) -> ComposeResult:
        if not self.knobs:
            yield Static("This mission has no adjustable knobs. Watch and learn.",
                         classes="dim")
            return
        yield Static("Changes apply on reset (x). The learning rate applies live on enter.",
                     classes="knob-help")
        if len(self.spec.runs) > 1:
            # one run at a time by default, so the mission's comparison survives
            yield Label("apply to", classes="knob-label")
            options = [(content(r.label, one_line=True), str(i))
                       for i, r in enumerate(self.spec.runs)]
            yield Select(options + [("all runs", ALL_RUNS)], value="0", allow_blank=False,
                         id="knob-target")
        for name, knob in self.knobs.items():
            default = self.defaults.get(name)
            if knob.choices is not None or name in DEFAULT_CHOICES:
                choices = list(knob.choices or DEFAULT_CHOICES[name])
                if default is not None and default not in choices:
                    choices.insert(0, str(default))
                yield Label(name, classes="knob-label")
                yield Select([(c, c) for c in choices], value=default if default in choices
                             else choices[0], allow_blank=False, id=f"knob-{name}",
                             classes="knob")
            else:
                lo = knob.min if knob.min is not None else 0.0
                hi = knob.max if knob.max is not None else math.inf
                with Horizontal(classes="knob-row"):
                    yield Label(f"{name} [{fmt_num(lo)}…{fmt_num(hi)}]", classes="knob-label")
                yield Input(value="" if default is None else fmt_num(default),
                            placeholder="off" if default is None else "",
                            type="integer" if name in INT_KNOBS else "number",
                            id=f"knob-{name}", classes="knob")
        yield Button("Apply & reset", id="knob-apply", variant="primary")

    # ------------------------------------------------------------------ parsing
    def _parse(self, name: str, raw: str) -> tuple[Any, str | None]:
        knob = self.knobs[name]
        raw = raw.strip()
        if raw == "":
            return None, None
        try:
            v: Any = int(raw) if name in INT_KNOBS else float(raw)
        except ValueError:
            return None, f"{name}: not a number"
        if not math.isfinite(float(v)):
            return None, f"{name}: must be finite"
        if knob.min is not None and v < knob.min:
            return None, f"{name}: below {fmt_num(knob.min)}"
        if knob.max is not None and v > knob.max:
            return None, f"{name}: above {fmt_num(knob.max)}"
        return v, None

    @on(Input.Changed, ".knob")
    def _input_changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("knob-")
        value, err = self._parse(name, event.value)
        event.input.set_class(err is not None, "-invalid")
        event.input.tooltip = err
        if err is None and value is not None and value != self.defaults.get(name):
            self.values[name] = value
        else:
            self.values.pop(name, None)

    @on(Input.Submitted, ".knob")
    def _input_submitted(self, event: Input.Submitted) -> None:
        name = (event.input.id or "").removeprefix("knob-")
        value, err = self._parse(name, event.value)
        if err:
            self.notify(err, severity="error")
            return
        if name == "lr" and value is not None:
            self.post_message(self.LiveLr(float(value), self.target))

    @on(Select.Changed, "#knob-target")
    def _target_changed(self, event: Select.Changed) -> None:
        self.target = None if event.value == ALL_RUNS else int(str(event.value))

    def target_label(self) -> str:
        return "every run" if self.target is None else self.spec.runs[self.target].label

    @on(Select.Changed, ".knob")
    def _select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "knob-target":
            return
        name = (event.select.id or "").removeprefix("knob-")
        if event.value != self.defaults.get(name) and event.value is not Select.BLANK:
            self.values[name] = event.value
        else:
            self.values.pop(name, None)

    @on(Button.Pressed, "#knob-apply")
    def _apply(self) -> None:
        self.post_message(self.ApplyReset(self.overrides()))

    def overrides(self) -> dict[str, Any]:
        """The knobs the player changed, keyed for the sim: ``runs[i].lr`` for one run,
        ``lr`` for all. Earlier resets' changes are kept, so tuning one run and then
        another leaves both tuned."""
        for name, value in self.values.items():
            if name in SCENARIO_WIDE or self.target is None:
                if self.target is None:  # an all-runs value replaces per-run ones
                    for key in [k for k in self.applied if k.endswith("]." + name)]:
                        del self.applied[key]
                self.applied[name] = value
            else:
                self.applied[f"runs[{self.target}].{name}"] = value
        return dict(self.applied)
