"""A slider over a fixed list of values (TensorFlow Playground's learning-rate menu).

The values are notches; ``left`` / ``right`` (or ``-`` / ``+``) move one notch,
``home`` / ``end`` jump to the ends, a click picks the notch under the mouse.
Give the notches on a log scale (``LR_NOTCHES``: 1e-5 … 10, each about ×3) and
the slider is a log-scale slider. Every move posts :class:`NotchSlider.Changed`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget

__all__ = ["LR_NOTCHES", "REG_NOTCHES", "NotchSlider", "nearest_notch"]

#: TensorFlow Playground's learning rates, a log scale
LR_NOTCHES: tuple[float, ...] = (1e-5, 1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
#: its regularisation rates (0 = off)
REG_NOTCHES: tuple[float, ...] = (0.0, 1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


def nearest_notch(notches: Sequence[float], value: float) -> int:
    """The index of the notch closest to ``value`` (on a log scale above 0)."""
    import math

    def distance(v: float) -> float:
        if v > 0 and value > 0:
            return abs(math.log(v) - math.log(value))
        return 0.0 if v == value else math.inf if value > 0 or v > 0 else 0.0

    return min(range(len(notches)), key=lambda i: (distance(notches[i]), i))


class NotchSlider(Widget, can_focus=True):
    """``label  value  ├───●────┤`` over ``notches``; its value is ``notches[index]``."""

    DEFAULT_CSS = """
    NotchSlider { height: 1; width: 1fr; }
    NotchSlider:focus { background: $boost; text-style: bold; }
    """

    BINDINGS = [
        Binding("left,minus", "move(-1)", "Lower", show=False),
        Binding("right,plus,equals_sign", "move(1)", "Higher", show=False),
        Binding("home", "jump(0)", "Lowest", show=False),
        Binding("end", "jump(-1)", "Highest", show=False),
    ]

    @dataclass
    class Changed(Message):
        """The slider moved to ``value``."""

        slider: NotchSlider
        value: float

        @property
        def control(self) -> NotchSlider:
            return self.slider

    def __init__(self, label: str, notches: Sequence[float], value: float,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.label = label
        self.notches = tuple(float(v) for v in notches)
        self.index = nearest_notch(self.notches, value)

    @property
    def value(self) -> float:
        """The notch the slider stands on."""
        return self.notches[self.index]

    def set_value(self, value: float) -> None:
        """Move to the notch nearest ``value`` without posting Changed."""
        self.index = nearest_notch(self.notches, value)
        self.refresh()

    def _go(self, index: int) -> None:
        index = max(0, min(len(self.notches) - 1, index))
        if index != self.index:
            self.index = index
            self.refresh()
            self.post_message(self.Changed(self, self.value))

    def action_move(self, delta: int) -> None:
        self._go(self.index + delta)

    def action_jump(self, where: int) -> None:
        self._go(where % len(self.notches))

    def _track_start(self) -> int:
        return len(self.label) + 10

    def on_click(self, event: Any) -> None:
        track = max(1, self.size.width - self._track_start() - 2)
        x = event.x - self._track_start() - 1
        if 0 <= x <= track:
            self._go(round(x / track * (len(self.notches) - 1)))

    def render(self) -> Text:
        width = max(4, self.size.width - self._track_start() - 2)
        pos = round(self.index / max(1, len(self.notches) - 1) * (width - 1))
        track = "─" * pos + "●" + "─" * (width - 1 - pos)
        text = Text(f"{self.label} ", style="bold")
        text.append(f"{self.value:<9g}", style="")
        text.append("├" + track + "┤", style="bold" if self.has_focus else "dim")
        return text
