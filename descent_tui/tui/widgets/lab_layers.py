"""The Lab's hidden layers: one row per layer (units, activation, remove) and an add button.

TensorFlow Playground's ``+`` / ``−`` buttons over the network, for the keyboard:

* ``layer 1  − 4 +  [tanh ▾]  ✕`` — the units counter (:class:`UnitStepper`:
  ``←`` / ``→`` or ``-`` / ``+``, a click on ``−`` / ``+``), the layer's activation
  (a ``Select``: enter opens it) and a button that removes the layer;
* ``+ add layer`` under the rows adds a layer like the last one (4 tanh units
  when there is none), up to :data:`MAX_LAYERS`.

The editor's own state (:attr:`LayerEditor.hidden`, :attr:`LayerEditor.activations`)
is what it reports; every change posts :class:`LayerEditor.Changed` (the rows'
own ``NotchSlider.Changed`` / ``Select.Changed`` stop here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Label, Select

from descent_tui.scenario import schema as S
from descent_tui.tui.widgets.notch_slider import NotchSlider

__all__ = ["MAX_LAYERS", "MAX_UNITS", "LayerEditor", "UnitStepper"]

#: the most hidden layers the Lab offers (TensorFlow Playground's six)
MAX_LAYERS = 6
#: the counter's top notch (a mission with wider layers raises it for that layer)
MAX_UNITS = 16
#: a new layer when there is none to copy
NEW_LAYER = (4, "tanh")


class UnitStepper(NotchSlider):
    """``− 4 +``: units of one layer, 1 … :data:`MAX_UNITS` (a NotchSlider drawn as a counter)."""

    DEFAULT_CSS = """
    UnitStepper { width: 9; height: 1; }
    UnitStepper:focus { background: $boost; text-style: bold; }
    """

    def __init__(self, units: int, **kwargs: Any) -> None:
        top = max(MAX_UNITS, int(units))
        super().__init__("units", range(1, top + 1), units, **kwargs)

    def render(self) -> Text:
        style = "bold reverse" if self.has_focus else "bold"
        text = Text("− ", style="dim" if self.index == 0 else "")
        text.append(f"{int(self.value):>2}", style=style)
        text.append(" +", style="dim" if self.index == len(self.notches) - 1 else "")
        return text

    def on_click(self, event: Any) -> None:
        """A click left of the number lowers it, right of it raises it."""
        self.action_move(-1 if event.x < 3 else 1)


class LayerEditor(Vertical):
    """Rows of hidden layers (see the module docstring); ``set_layers`` / ``hidden`` /
    ``activations`` are its state."""

    DEFAULT_CSS = """
    LayerEditor { height: auto; }
    LayerEditor .layer-row { height: 1; }
    LayerEditor .layer-name { width: 8; }
    LayerEditor Select { width: 1fr; }
    LayerEditor Button { width: 3; min-width: 3; }
    LayerEditor #lab-add-layer { width: auto; margin-left: 8; }
    LayerEditor .layer-none { color: $text-muted; }
    """

    @dataclass
    class Changed(Message):
        """Layers were added, removed or edited."""

        editor: LayerEditor

        @property
        def control(self) -> LayerEditor:
            return self.editor

    def __init__(self, hidden: list[int] | None = None, activations: list[str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hidden: list[int] = list(hidden or [])
        self.activations: list[str] = list(activations or ["tanh"] * len(self.hidden))

    def compose(self) -> Any:
        if not self.hidden:
            yield Label("no hidden layer: a linear model", classes="layer-none")
        for i, (units, act) in enumerate(zip(self.hidden, self.activations, strict=True)):
            with Horizontal(classes="layer-row"):
                yield Label(f"layer {i + 1}", classes="layer-name")
                yield UnitStepper(units, id=f"lab-units-{i}")
                yield Select([(a, a) for a in S.ACTIVATIONS], value=act, id=f"lab-act-{i}",
                             allow_blank=False, compact=True)
                yield Button("✕", id=f"lab-drop-{i}", compact=True,
                             tooltip=f"Remove hidden layer {i + 1}")
        yield Button("+ add layer", id="lab-add-layer", compact=True,
                     disabled=len(self.hidden) >= MAX_LAYERS,
                     tooltip=f"Add a hidden layer (at most {MAX_LAYERS})")

    async def set_layers(self, hidden: list[int], activations: list[str]) -> None:
        """Show ``hidden`` units with ``activations`` (one per layer); posts nothing."""
        self.hidden, self.activations = list(hidden), list(activations)
        await self.recompose()

    @staticmethod
    def _index(widget_id: str | None) -> int:
        return int(str(widget_id).rsplit("-", 1)[1])

    @on(NotchSlider.Changed)
    def _units_changed(self, event: NotchSlider.Changed) -> None:
        event.stop()
        self.hidden[self._index(event.slider.id)] = int(event.value)
        self.post_message(self.Changed(self))

    @on(Select.Changed)
    def _activation_changed(self, event: Select.Changed) -> None:
        event.stop()
        i = self._index(event.select.id)
        if i < len(self.activations) and self.activations[i] != event.value:
            self.activations[i] = str(event.value)
            self.post_message(self.Changed(self))

    @on(Button.Pressed)
    async def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "lab-add-layer":
            await self.add_layer()
        else:
            await self.remove_layer(self._index(event.button.id))

    async def add_layer(self) -> None:
        """A layer like the last one at the end (the focus stays on the add button)."""
        if len(self.hidden) >= MAX_LAYERS:
            return
        units, act = (self.hidden[-1], self.activations[-1]) if self.hidden else NEW_LAYER
        await self.set_layers([*self.hidden, units], [*self.activations, act])
        self.query_one("#lab-add-layer", Button).focus()
        self.post_message(self.Changed(self))

    async def remove_layer(self, i: int) -> None:
        """Remove hidden layer ``i`` (the focus goes to the next row's ✕, else the add button)."""
        if not 0 <= i < len(self.hidden):
            return
        await self.set_layers(self.hidden[:i] + self.hidden[i + 1:],
                              self.activations[:i] + self.activations[i + 1:])
        after = f"#lab-drop-{i}" if i < len(self.hidden) else "#lab-add-layer"
        self.query_one(after, Button).focus()
        self.post_message(self.Changed(self))
