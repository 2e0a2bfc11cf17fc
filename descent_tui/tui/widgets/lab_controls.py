"""The Lab's side panel: one control per field of a :class:`~descent_tui.scenario.lab.LabConfig`.

Every control is a Textual ``Select``, ``Input``, ``Checkbox`` or a
:class:`~descent_tui.tui.widgets.notch_slider.NotchSlider` (learning rate and the
two penalties, on a log scale), in five groups (:data:`SECTIONS`: data, features,
network, training, run; :meth:`LabControls.go_to` focuses the first control of
one), reachable with tab / shift+tab in the order they show. A control that does
not apply to the data set or optimizer chosen (the csv fields, the class count,
momentum, the betas: :data:`ONLY_FOR`) is hidden. :meth:`LabControls.fill`
writes a config into the controls; :meth:`LabControls.read` parses them back into a
new config or the one-line problems (``"samples: a whole number, not 'x'"``).
Which fields apply live (no rebuild of the runs) is :data:`LIVE`.

The hidden layers are a :class:`~descent_tui.tui.widgets.lab_layers.LayerEditor`:
one row per layer (units, activation) with add / remove buttons.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select

from descent_tui.data.features import needs_columns
from descent_tui.scenario import schema as S
from descent_tui.scenario.lab import LabConfig, LabRun, default_loss
from descent_tui.tui.widgets.lab_layers import LayerEditor
from descent_tui.tui.widgets.notch_slider import LR_NOTCHES, REG_NOTCHES, NotchSlider

__all__ = ["FEATURE_LABELS", "LIVE", "SECTIONS", "LabControls"]

#: the input features and the names the switches show
FEATURE_LABELS: dict[str, str] = {"x1": "x₁", "x2": "x₂", "x1^2": "x₁²", "x2^2": "x₂²",
                                  "x1*x2": "x₁x₂", "sin(x1)": "sin x₁", "sin(x2)": "sin x₂"}
#: the groups of controls, top to bottom (the Lab's keys 1–5 go to them)
SECTIONS: tuple[str, ...] = ("data", "features", "network", "training", "run")
#: controls shown only when they apply: id → the data sets or optimizers they apply to
ONLY_FOR: dict[str, tuple[str, ...]] = {
    "classes": ("spiral", "blobs"), "csv_path": ("csv",), "csv_features": ("csv",),
    "csv_label": ("csv",), "momentum": ("sgd", "momentum", "nesterov", "rmsprop"),
    "beta1": ("adam", "adamw"), "beta2": ("adam", "adamw"),
}
#: the controls whose change applies to the running runs at once
LIVE: tuple[str, ...] = ("lr", "l2", "l1")
#: text inputs: id → (label, kind); kind "int", "float", "opt-float" (blank = none), "text"
FIELDS: dict[str, tuple[str, str]] = {
    "samples": ("samples", "int"), "noise": ("noise", "float"), "classes": ("classes", "int"),
    "data_seed": ("data seed", "int"), "val_split": ("val. share", "float"),
    "csv_path": ("csv file", "text"), "csv_features": ("csv features", "text"),
    "csv_label": ("csv label", "text"),
    "momentum": ("momentum", "opt-float"), "beta1": ("β₁", "float"), "beta2": ("β₂", "float"),
    "batch_size": ("batch (0: all)", "int"), "clip_norm": ("clip norm", "opt-float"),
    "steps": ("steps", "int"), "seed": ("seed", "int"),
}
SELECTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "dataset": ("data set", S.DATASET_KINDS),
    "init": ("init", S.INITS),
    "loss": ("loss", ("auto", *S.LOSSES)),
    "optimizer": ("optimizer", tuple(o for o in S.OPTIMIZERS if o != "newton")),
    "compare": ("side by side", ("none", *(o for o in S.OPTIMIZERS if o != "newton"))),
}


def _section(name: str, heading: str) -> Vertical:
    """A group of controls under its heading (``1``–``5`` on the Lab go to one)."""
    box = Vertical(id=f"lab-sec-{name}", classes="lab-section")
    box.compose_add_child(Label(heading, classes="lab-head"))
    return box


def _row(label: str, widget: Any) -> Horizontal:
    row = Horizontal(Label(label, classes="lab-label"), widget, classes="lab-row")
    return row


def _number(kind: str, name: str, text: str) -> Any:
    """``text`` as ``kind`` ("int" / "float" / "opt-float"); ValueError names the field."""
    text = text.strip()
    if kind == "opt-float" and not text:
        return None
    try:
        return int(text) if kind == "int" else float(text)
    except ValueError:
        what = "a whole number" if kind == "int" else "a number"
        raise ValueError(f"{name}: {what}, not {text!r}") from None


class LabControls(VerticalScroll, can_focus=False):
    """Every control of the Lab, in a scrollable column (see the module docstring).

    The column itself takes no focus: tab goes from control to control, top to
    bottom, and the column scrolls to show the one focused."""

    DEFAULT_CSS = """
    LabControls { width: 1fr; height: 1fr; border: round $primary; padding: 0 0 0 1;
                  scrollbar-size-vertical: 1; }
    LabControls .lab-section { height: auto; margin-top: 1; }
    LabControls #lab-sec-data { margin-top: 0; }
    LabControls .lab-row { height: 1; margin-bottom: 0; }
    LabControls .lab-label { width: 15; }
    LabControls Input { width: 1fr; }
    LabControls Select { width: 1fr; }
    LabControls .lab-head { text-style: bold; color: $accent; }
    LabControls #lab-features { height: auto; grid-size: 3; grid-rows: 1; }
    LabControls.-narrow #lab-features { grid-size: 2; }
    LabControls .lab-row:focus-within, LabControls .layer-row:focus-within {
        background: $accent 25%; }
    LabControls .lab-row:focus-within .lab-label { color: $accent; text-style: bold; }
    LabControls Checkbox:focus, LabControls Button:focus { text-style: bold reverse; }
    LabControls Select:focus > SelectCurrent, LabControls Input:focus {
        background: $accent 45%; text-style: bold; }
    """

    def compose(self) -> Any:
        with _section("data", "DATA"):
            yield from self._selects(("dataset",))
            yield from self._inputs(("samples", "noise", "classes", "data_seed", "val_split",
                                     "csv_path", "csv_features", "csv_label"))
        with _section("features", "FEATURES (the model's inputs)"), Grid(id="lab-features"):
            for name, label in FEATURE_LABELS.items():
                yield Checkbox(label, id=f"lab-f-{_fid(name)}", compact=True)
        with _section("network", "NETWORK"):
            yield LayerEditor(id="lab-layers")
            yield from self._selects(("init", "loss"))
        with _section("training", "TRAINING"):
            yield from self._selects(("optimizer",))
            yield NotchSlider("lr", LR_NOTCHES, 0.03, id="lab-lr")
            yield NotchSlider("L2", REG_NOTCHES, 0.0, id="lab-l2")
            yield NotchSlider("L1", REG_NOTCHES, 0.0, id="lab-l1")
            yield from self._inputs(("momentum", "beta1", "beta2", "batch_size", "clip_norm"))
        with _section("run", "RUN"):
            yield from self._inputs(("steps", "seed"))
            yield from self._selects(("compare",))

    def go_to(self, section: str) -> Widget:
        """Focus the first control of ``section`` (one of :data:`SECTIONS`) and scroll its
        heading to the top; returns the control."""
        box = self.query_one(f"#lab-sec-{section}", Vertical)
        first = next(w for w in box.query("*") if w.focusable)
        first.focus(scroll_visible=False)
        self.scroll_to_widget(box, top=True, animate=False)
        return first

    def _inputs(self, names: tuple[str, ...]) -> Any:
        for name in names:
            yield _row(FIELDS[name][0], Input(id=f"lab-{name}", compact=True))

    def _selects(self, names: tuple[str, ...]) -> Any:
        for name in names:
            label, options = SELECTS[name]
            yield _row(label, Select([(o, o) for o in options], id=f"lab-{name}",
                                     allow_blank=False, compact=True))

    # ------------------------------------------------------------------ config ⇄ controls
    async def fill(self, cfg: LabConfig) -> None:
        """Show ``cfg`` in the controls (posts the widgets' own Changed messages)."""
        run = cfg.runs[0]
        texts = {
            "samples": cfg.samples, "noise": cfg.noise, "classes": cfg.classes,
            "data_seed": cfg.data_seed, "val_split": cfg.val_split,
            "csv_path": cfg.csv_path or "", "csv_features": ", ".join(cfg.csv_features),
            "csv_label": cfg.csv_label or "",
            "momentum": "" if run.momentum is None else run.momentum,
            "beta1": run.betas[0], "beta2": run.betas[1], "batch_size": cfg.batch_size,
            "clip_norm": "" if run.clip_norm is None else run.clip_norm,
            "steps": cfg.steps, "seed": cfg.seed,
        }
        for name, value in texts.items():
            self.query_one(f"#lab-{name}", Input).value = str(value)
        compare = cfg.runs[1].optimizer if len(cfg.runs) > 1 else "none"
        for name, value in (("dataset", cfg.dataset), ("init", cfg.init), ("loss", cfg.loss),
                            ("optimizer", run.optimizer), ("compare", compare)):
            self.query_one(f"#lab-{name}", Select).value = value
        inputs = cfg.inputs if cfg.inputs is not None else ["x1", "x2"][:cfg.n_columns]
        for name in FEATURE_LABELS:
            self.query_one(f"#lab-f-{_fid(name)}", Checkbox).value = name in inputs
        for name, value in (("lr", run.lr), ("l2", run.l2), ("l1", run.l1)):
            self.query_one(f"#lab-{name}", NotchSlider).set_value(value)
        await self.query_one(LayerEditor).set_layers(cfg.hidden, cfg.activations)
        self.show_relevant()

    def adapt(self) -> None:
        """After the data set (or class count) changed: its natural loss, and only the
        features its columns allow (a 1-column set keeps the x₁ ones)."""
        dataset = str(self.query_one("#lab-dataset", Select).value)
        try:
            classes = int(self.query_one("#lab-classes", Input).value)
        except ValueError:
            classes = 2
        self.query_one("#lab-loss", Select).value = default_loss(dataset, classes)
        if dataset in S.DATASET_FEATURES and S.DATASET_FEATURES[dataset] == 1:
            boxes = {n: self.query_one(f"#lab-f-{_fid(n)}", Checkbox) for n in FEATURE_LABELS}
            for name, box in boxes.items():
                if needs_columns(name) > 1:
                    box.value = False
            if not any(box.value for box in boxes.values()):
                boxes["x1"].value = True
        self.show_relevant()

    def show_relevant(self) -> None:
        """Show only the controls that apply to the data set and optimizers chosen
        (:data:`ONLY_FOR`); a hidden control keeps its value."""
        chosen = {str(self.query_one(f"#lab-{n}", Select).value)
                  for n in ("dataset", "optimizer", "compare")}
        for name, where in ONLY_FOR.items():
            row = self.query_one(f"#lab-{name}").parent
            if row is not None:
                row.display = bool(chosen & set(where))

    def _value(self, name: str) -> Any:
        label, kind = FIELDS[name]
        text = self.query_one(f"#lab-{name}", Input).value
        return text.strip() if kind == "text" else _number(kind, label, text)

    def read(self, base: LabConfig) -> LabConfig:
        """A new config from the controls (``base`` for what they do not show).

        Raises ValueError with a one-line message naming the control.
        """
        dataset = str(self.query_one("#lab-dataset", Select).value)
        classes = self._value("classes")
        loss = str(self.query_one("#lab-loss", Select).value)
        layers = self.query_one(LayerEditor)
        inputs = [n for n in FEATURE_LABELS
                  if self.query_one(f"#lab-f-{_fid(n)}", Checkbox).value]
        if not inputs:
            raise ValueError("features: switch on at least one input")
        features = [c.strip() for c in self._value("csv_features").split(",") if c.strip()]
        cfg = replace(
            base, dataset=dataset, samples=self._value("samples"), noise=self._value("noise"),
            classes=classes, data_seed=self._value("data_seed"),
            val_split=self._value("val_split"), csv_path=self._value("csv_path") or None,
            csv_features=features, csv_label=self._value("csv_label") or None,
            inputs=None if dataset == "csv" and len(features) > 2 else inputs,
            hidden=list(layers.hidden), activations=list(layers.activations),
            init=str(self.query_one("#lab-init", Select).value),
            loss=default_loss(dataset, classes) if loss == "auto" else loss,
            batch_size=self._value("batch_size"), steps=self._value("steps"),
            seed=self._value("seed"))
        return replace(cfg, runs=self._runs())

    def _runs(self) -> list[LabRun]:
        optimizer = str(self.query_one("#lab-optimizer", Select).value)
        first = LabRun(label=optimizer, optimizer=optimizer,
                       lr=self.query_one("#lab-lr", NotchSlider).value,
                       momentum=self._value("momentum"),
                       betas=(self._value("beta1"), self._value("beta2")),
                       l2=self.query_one("#lab-l2", NotchSlider).value,
                       l1=self.query_one("#lab-l1", NotchSlider).value,
                       clip_norm=self._value("clip_norm"))
        compare = str(self.query_one("#lab-compare", Select).value)
        if compare == "none":
            return [first]
        label = compare if compare != optimizer else f"{compare} 2"
        return [first, replace(first, label=label, optimizer=compare, momentum=None)]


def _fid(name: str) -> str:
    """A widget-id-safe spelling of a feature name (``x1^2`` → ``x1sq``)."""
    return (name.replace("^2", "sq").replace("*", "").replace("(", "-").replace(")", ""))
