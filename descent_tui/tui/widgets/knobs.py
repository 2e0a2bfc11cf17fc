"""Knobs panel: only the controls the mission allows (``spec.knobs``), within range.

Changes apply on reset; the learning rate also applies live.  The panel only
emits messages; the mission screen owns the simulation and tells the panel
what the reset did (:meth:`KnobsPanel.accepted` / :meth:`KnobsPanel.rejected`).
The rules (which run an edit is for, which options an optimizer has, how a run
is relabelled) live in :mod:`descent_tui.tui.widgets.knob_state`.
"""

from __future__ import annotations

import math
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static

from descent_tui.tui.safe_text import content
from descent_tui.tui.widgets.knob_state import INT_KNOBS, KnobState, run_values
from descent_tui.tui.widgets.status import fmt_num

__all__ = ["ALL_RUNS", "DEFAULT_CHOICES", "KnobsPanel", "current_values"]

DEFAULT_CHOICES = {
    "optimizer": ("sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam", "adamw"),
    "init": ("xavier_uniform", "kaiming_normal", "normal", "pytorch"),
    "activation": ("relu", "tanh", "sigmoid", "leaky_relu"),
}
ALL_RUNS = "__all__"


def current_values(spec: Any) -> dict[str, Any]:
    """The mission's own value of every knob (from its first run)."""
    return run_values(spec, 0)


class KnobsPanel(VerticalScroll):
    """Controls for ``spec.knobs``."""

    DEFAULT_CSS = """
    KnobsPanel .knob-note { color: $text-muted; height: auto; }
    KnobsPanel .knob-note.-error { color: $text-error; }
    KnobsPanel Input.knob.-invalid { background: $error 30%; }
    """

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
        #: a locked mission (or class) shows no controls, so nothing can be changed
        self.locked = bool(getattr(spec.knobs, "locked", False))
        self.knobs = {} if self.locked else spec.knobs.present()
        self.state = KnobState(spec)
        self.invalid: dict[str, str] = {}  # knob -> why the text in its field is no value
        self.target: int | None = None if len(spec.runs) == 1 else 0

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        if not self.knobs:
            yield Static("The knobs of this mission are locked: its settings are fixed."
                         if self.locked else
                         "This mission has no adjustable knobs. Watch and learn.", classes="dim")
            return
        yield Static("Changes apply on reset (x). The learning rate applies live on enter.",
                     classes="knob-help")
        if len(self.spec.runs) > 1:
            # one run at a time by default, so the mission's comparison survives
            yield Label("apply to", classes="knob-label")
            yield Select(self._target_options(), value="0", allow_blank=False,
                         id="knob-target", compact=True)
        shown = self.state.shown(self.target)
        for name, knob in self.knobs.items():
            yield from self._field(name, knob, shown.get(name))
            yield Static("", id=f"knob-note-{name}", classes="knob-note")
        yield Static("", id="knob-pending", classes="knob-note")
        yield Button("Apply & reset", id="knob-apply", variant="primary")

    def _field(self, name: str, knob: Any, value: Any) -> ComposeResult:
        if knob.choices is not None or name in DEFAULT_CHOICES:
            choices = self._choices(name, value)
            yield Label(name, classes="knob-label")
            yield Select([(c, c) for c in choices], value=value if value in choices
                         else choices[0], allow_blank=False, id=f"knob-{name}", classes="knob",
                         compact=True)
            return
        lo = knob.min if knob.min is not None else 0.0
        hi = knob.max if knob.max is not None else math.inf
        yield Label(f"{name} [{fmt_num(lo)}…{fmt_num(hi)}]", classes="knob-label")
        yield Input(value="" if value is None else fmt_num(value),
                    placeholder="off" if value is None else "",
                    type="integer" if name in INT_KNOBS else "number",
                    id=f"knob-{name}", classes="knob", compact=True)

    def _choices(self, name: str, value: Any) -> list[str]:
        knob = self.knobs[name]
        choices = list(knob.choices or DEFAULT_CHOICES[name])
        defaults = {run_values(self.spec, i).get(name) for i in range(len(self.spec.runs))}
        for extra in sorted(str(v) for v in defaults | {value} if v is not None):
            if extra not in choices:
                choices.insert(0, extra)
        return choices

    def _target_options(self) -> list[tuple[Any, str]]:
        labels = self.state.labels()
        return [(content(label, one_line=True), str(i)) for i, label in enumerate(labels)] + [
            ("all runs", ALL_RUNS)]

    def on_mount(self) -> None:
        self._fill()

    # ------------------------------------------------------------------ showing
    def _fill(self) -> None:
        """Every field shows the target's value (a field holding refused text keeps it)."""
        if not self.knobs:
            return
        shown = self.state.shown(self.target)
        with self.prevent(Input.Changed, Select.Changed):
            for name in self.knobs:
                field = self.query_one(f"#knob-{name}")
                if isinstance(field, Input) and name not in self.invalid:
                    value = shown.get(name)
                    field.value = "" if value is None else fmt_num(value)
                    field.placeholder = ("differs per run" if self.target is None else "off") \
                        if value is None else ""
                elif isinstance(field, Select) and shown.get(name) is not None:
                    field.value = str(shown[name])
        self._show_notes()

    def _show_notes(self) -> None:
        """Enable only the target's optimizer's options; each knob's message under it."""
        opts = sorted(o for o in self.state.optimizers(self.target) if o)
        for name in self.knobs:
            field = self.query_one(f"#knob-{name}")
            on = self.state.enabled(self.target, name)
            field.disabled = not on
            note = self.invalid.get(name) or self.state.refused.get(name)
            if note:
                text, style = f"✗ {note}", "-error"
            elif not on:
                text, style = f"{' / '.join(opts)} has no {name}", "-off"
            else:
                text, style = "", ""
            box = self.query_one(f"#knob-note-{name}", Static)
            box.update(content(text))
            box.set_class(style == "-error", "-error")
            box.display = bool(text)
            field.set_class(bool(note), "-invalid")
        pending = self.state.pending_text()
        lines = ([f"pending (applies on reset): {pending}"] if pending else []) + (
            [f"✗ {self.state.general}"] if self.state.general else [])
        box = self.query_one("#knob-pending", Static)
        box.update(content("\n".join(lines)))
        box.set_class(bool(self.state.general), "-error")
        box.display = bool(lines)

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
        event.input.tooltip = err
        if err is not None:
            self.invalid[name] = err
        else:
            self.invalid.pop(name, None)
            self.state.edit(self.target, name, value)
        self._show_notes()

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
        self.invalid.clear()  # a half-typed value was for the run left behind
        self._fill()

    def target_label(self) -> str:
        return "every run" if self.target is None else self.state.labels()[self.target]

    @on(Select.Changed, ".knob")
    def _select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "knob-target" or event.value is Select.BLANK:
            return
        name = (event.select.id or "").removeprefix("knob-")
        self.state.edit(self.target, name, event.value)
        self._show_notes()

    @on(Button.Pressed, "#knob-apply")
    def _apply(self) -> None:
        self.post_message(self.ApplyReset(self.overrides()))

    # ------------------------------------------------------------------ the screen's side
    def overrides(self) -> dict[str, Any]:
        """The overrides for the next reset, keyed for the sim: ``runs[i].lr`` for one
        run, ``lr`` for all. Those in force are kept, so tuning one run and then
        another leaves both tuned."""
        return self.state.proposed()

    def accepted(self, spec: Any, overrides: dict[str, Any]) -> None:
        """The reset ran with ``overrides`` (the sim's new ``spec``): show its values."""
        if self.invalid:
            self.notify("Not applied: " + "; ".join(self.invalid.values())
                        + " (fix the field, then reset again).", severity="warning",
                        timeout=6, markup=False)
        self.state.accept(spec, overrides)
        if self.knobs:
            if len(self.spec.runs) > 1:
                target = self.query_one("#knob-target", Select)
                current = ALL_RUNS if self.target is None else str(self.target)
                with self.prevent(Select.Changed):
                    target.set_options(self._target_options())
                    # through another value, so that the shown (relabelled) prompt is redrawn
                    target.value = "0" if current == ALL_RUNS else ALL_RUNS
                    target.value = current
            self._fill()

    def rejected(self, error: Exception) -> None:
        """The reset refused the edits: each reason beside its knob; the edits stay."""
        items = getattr(error, "items", None) or [("knobs", str(error))]
        self.state.reject([(str(k), str(m)) for k, m in items])
        if self.knobs:
            self._show_notes()

    def labels(self) -> list[str]:
        """Each run's label as shown (``momentum → adam`` once its optimizer changed)."""
        return self.state.labels()

    def debrief_note(self) -> str | None:
        """Said in the debrief when the knobs changed the runs (None: they did not)."""
        if not self.state.applied:
            return None
        return (f"Your knobs changed the runs ({self.state.describe(self.state.applied)})."
                " The debrief describes the mission's default runs; the run log below is yours.")
