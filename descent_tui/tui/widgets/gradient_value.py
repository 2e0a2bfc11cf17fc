"""The gradient's value on a one-parameter landscape, at each run's ball.

For each run: the point ``x``, the slope ``dL/dx`` there with its sign (which
way is uphill), and the plain gradient step it asks for, ``−lr · dL/dx``, with
the point it leads to. On ``f(x) = x²`` at ``x = 3`` the slope is ``6``; with
``lr = 0.1`` the step is ``−0.6`` and the next point ``2.4``. That step is what
plain SGD takes next; momentum or an adaptive method changes it (their runs
say so).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from descent_tui.tui.safe_text import clean
from descent_tui.tui.theme import run_color
from descent_tui.tui.widgets.safe import safe_render

__all__ = ["GradRow", "GradientValue", "signed"]


@dataclass(frozen=True)
class GradRow:
    """One run's ball: ``point`` x, ``grad`` dL/dx, ``lr``, ``plain`` (step = −lr·g)."""

    index: int
    label: str
    point: float
    grad: float
    lr: float
    plain: bool = True
    diverged: bool = False


def signed(v: float) -> str:
    """A value with its sign, 4 significant digits: +6, −0.6, +1.2e+05."""
    if not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("+inf" if v > 0 else "−inf")
    if v == 0:
        return "0"
    return f"{v:+.4g}".replace("-", "−")


def plain(v: float) -> str:
    return signed(v).lstrip("+")


def slope_word(g: float) -> str:
    if not math.isfinite(g):
        return ""
    if g > 0:
        return "uphill →, step ←"
    if g < 0:
        return "uphill ←, step →"
    return "flat: no step"


class GradientValue(Widget):
    """``show(rows, param)``: one :class:`GradRow` per run, ``param`` the parameter's name."""

    DEFAULT_CSS = """
    GradientValue { width: 1fr; height: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows: list[GradRow] = []
        self.param = "x"

    def show(self, rows: list[GradRow], param: str) -> None:
        self.rows = rows
        self.param = clean(param, one_line=True)
        self.refresh()

    @safe_render
    def render(self) -> Any:
        if not self.rows:
            return Text("No runs.", style="dim")
        dark = self.app.current_theme.dark
        wide = self.size.width >= 64
        x = self.param
        table = Table.grid(padding=(0, 2, 0, 0))
        heads = ["run", x, f"dL/d{x}", f"−lr·dL/d{x}", f"next {x}"] + (["slope"] if wide else [])
        for i, _ in enumerate(heads):
            table.add_column(justify="left" if i in (0, 5) else "right", no_wrap=True)
        table.add_row(*[Text(h, style="bold") for h in heads])
        for r in self.rows:
            colour = run_color(r.index, dark)
            label = Text("━ " + clean(r.label, one_line=True), style=colour)
            if r.diverged:
                table.add_row(label, Text(plain(r.point)), Text("diverged", style="bold red"))
                continue
            step = -r.lr * r.grad
            cells = [label, Text(plain(r.point)), Text(signed(r.grad), style=f"bold {colour}"),
                     Text(signed(step)), Text(plain(r.point + step) if r.plain else "—")]
            if wide:
                cells.append(Text(slope_word(r.grad) if r.plain else
                                  "(its optimizer reshapes the step)", style="dim"))
            table.add_row(*cells)
        return table
