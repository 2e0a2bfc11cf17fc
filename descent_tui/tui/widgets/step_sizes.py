"""Per-parameter step size of each run's last update, on a landscape of 2+ parameters.

For every run and parameter θ_i: ``|Δθ_i|``, how far the last update moved it,
and (when there is room) ``−Δθ_i / g_i``, the step per unit of gradient. Plain
SGD's ``−Δθ_i / g_i`` is ``lr`` along every parameter, so its ``|Δθ_i|`` follows the
slope; an adaptive optimizer (Adagrad, RMSprop, Adam) divides by a running size
of ``g_i``, so its steps come out similar along steep and flat directions. Each
value carries a bar on a log scale shared by the whole column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.cells import cell_len
from rich.text import Text
from textual.widget import Widget

from descent_tui.tui.safe_text import clean
from descent_tui.tui.theme import run_color
from descent_tui.tui.widgets.grid import grid, rich_grid
from descent_tui.tui.widgets.safe import safe_render

__all__ = ["StepRow", "StepSizes", "log_bar", "magnitude"]

#: what the numbers mean, under the table when there is room
NOTE = ("−Δθᵢ/gᵢ is the step per unit of gradient: plain SGD's is lr along every "
        "parameter, so its steps follow the slope. Adagrad, RMSprop and Adam divide each "
        "gᵢ by its own running size, so steep and flat directions get similar steps.")
BAR = 8  # cells of a log bar
DECADES = 4  # a bar spans this many decades below the column's largest value


@dataclass(frozen=True)
class StepRow:
    """One run's last update: ``delta`` Δθ and ``effective`` −Δθ/g per parameter (None: no step yet)."""

    index: int
    label: str
    optimizer: str
    delta: np.ndarray | None
    effective: np.ndarray | None
    step: int = 0


def magnitude(v: float) -> str:
    """A step size, 3 significant digits."""
    if not math.isfinite(v):
        return "NaN" if math.isnan(v) else "inf"
    return f"{v:.3g}"


def _widest(text: Text) -> int:
    """The widest line of ``text``, in cells."""
    return max(cell_len(line) for line in text.plain.split("\n"))


def log_bar(v: float, top: float, width: int = BAR) -> str:
    """A bar for ``v`` on a log scale from ``top / 10**DECADES`` to ``top``."""
    if not (math.isfinite(v) and v > 0 and top > 0):
        return "·" * width
    t = 1 + math.log10(v / top) / DECADES
    cells = max(0.0, min(1.0, t)) * width
    n = int(cells)
    part = " ▏▎▍▌▋▊▉"[int((cells - n) * 8)] if n < width else ""
    return ("█" * n + part).ljust(width, "·")[:width]


class StepSizes(Widget):
    """``show(rows, params)``: one :class:`StepRow` per run, ``params`` the parameter names."""

    DEFAULT_CSS = """
    StepSizes { width: 1fr; height: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows: list[StepRow] = []
        self.params: list[str] = []

    def show(self, rows: list[StepRow], params: list[str]) -> None:
        self.rows = rows
        self.params = [clean(p, one_line=True) for p in params]
        self.refresh()

    def _layouts(self) -> list[tuple[int, bool, bool, int]]:
        """(parameters shown, with bars, with −Δθ/g, column gap), richest first."""
        n = len(self.params)
        return [(n, True, True, 2), (n, False, True, 2), (n, False, True, 1),
                (n, True, False, 1), (n, False, False, 1)] + [
                (k, False, False, 1) for k in range(n - 1, 0, -1)]

    @safe_render
    def render(self) -> Any:
        if not self.rows:
            return Text("No runs.", style="dim")
        table = self._table(self.size.width)
        if self.size.height < len(self.rows) + 4:
            return table
        from rich.console import Group

        return Group(table, Text(""), Text(NOTE, style="dim"))

    def _table(self, width: int) -> Any:
        """The richest layout whose numbers all fit whole: with the runs' labels whole,
        else with them cut (to 8 cells at least: the row's colour still says whose it
        is). A number is never cut: ``-0.00…`` reads as some other number."""
        label = max(len(clean(r.label, one_line=True)) for r in self.rows)
        for shown, bars, eff, gap in self._layouts():
            rows, right = self._grid_rows(shown, bars, eff, None)
            table = grid(rows, right, gap, width)
            if table is not None:
                return table
            numbers = grid([row[1:] for row in rows], right[1:], gap, width)
            room = width - gap - 2 - (_widest(numbers) if numbers is not None else width)
            if 8 <= room < label:  # "━ " and the label cut to the room the numbers leave
                table = grid(*self._grid_rows(shown, bars, eff, room), gap, width)
                if table is not None:
                    return table
        rows, right = self._grid_rows(*self._layouts()[-1][:3], 8)
        return rich_grid(rows, right, 1)  # narrower than any layout: Rich shrinks it

    def _grid_rows(self, shown: int, bars: bool, eff: bool,
                   label: int | None) -> tuple[list[list[Text]], list[bool]]:
        """The table's rows (headings first) and which columns are right-justified;
        ``label``: the most cells a run's label may take (None: whole)."""
        dark = self.app.current_theme.dark
        heads = [Text("run", style="bold")]
        right = [False]
        for p in self.params[:shown]:
            heads.append(Text(f"|Δ{p}|", style="bold"))
            right.append(True)
            if bars:
                heads.append(Text(""))
                right.append(False)
            if eff:
                heads.append(Text(f"−Δ{p}/g", style="bold"))
                right.append(True)
        tops = self._column_tops(shown)
        rows = [heads] + [self._cells(r, shown, tops, bars, eff, dark, label) for r in self.rows]
        return rows, right

    def _column_tops(self, shown: int) -> list[float]:
        tops = []
        for i in range(shown):
            vals = [abs(float(r.delta[i])) for r in self.rows
                    if r.delta is not None and i < len(r.delta) and math.isfinite(r.delta[i])]
            tops.append(max(vals) if vals else 0.0)
        return tops

    def _cells(self, r: StepRow, shown: int, tops: list[float], bars: bool, eff: bool,
               dark: bool, label: int | None = None) -> list[Text]:
        colour = run_color(r.index, dark)
        name = clean(r.label, one_line=True)
        if label is not None and len(name) > label:
            name = name[:label - 1] + "…"
        cells = [Text("━ " + name, style=colour)]
        for i in range(shown):
            if r.delta is None:
                cells += [Text("—", style="dim")] + ([Text("")] if bars else []) \
                    + ([Text("")] if eff else [])
                continue
            d = abs(float(r.delta[i]))
            cells.append(Text(magnitude(d), style="bold"))
            if bars:
                cells.append(Text(log_bar(d, tops[i]), style=colour))
            if eff:
                e = float(r.effective[i]) if r.effective is not None else math.nan
                cells.append(Text(magnitude(e) if math.isfinite(e) else "—"))
        return cells
