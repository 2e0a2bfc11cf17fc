"""A small chart of values over the steps, on a half-block canvas (two pixels a cell).

:class:`StepChart` is the base of the panels that plot one number per run over
the steps (the learning rate, the accuracy). A subclass fills ``self.curves``
(:class:`Curve`: steps, values, run index, solid or dotted) and ``self.legend``
(one :class:`Key` per curve), then calls :meth:`refresh_chart`. The layout:
legend lines on top (every run kept: labels shortened until they fit), the plot
with y tick labels on the left, step ticks on the bottom row. A solid curve is
a connected line; a dotted one is one pixel per column, so the two stay apart
without colour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from descent_tui.tui.theme import run_color
from descent_tui.tui.widgets.axes import label_row, nice_ticks, short
from descent_tui.tui.widgets.canvas import Canvas
from descent_tui.tui.widgets.safe import safe_render_line

__all__ = ["Curve", "Key", "Series", "StepChart", "canvas_strips", "pack_keys"]

MARGIN = 6  # columns for the y tick labels and the axis


@dataclass(frozen=True)
class Curve:
    """One run's values over the steps; ``dotted`` for the second curve of a run."""

    steps: np.ndarray
    values: np.ndarray
    index: int
    dotted: bool = False


@dataclass(frozen=True)
class Series:
    """What the screen hands a chart for one run: ``values`` over ``steps``, ``now`` the latest."""

    index: int
    label: str
    steps: np.ndarray
    values: np.ndarray
    now: float | None


@dataclass(frozen=True)
class Key:
    """A legend entry: ``glyph label value`` in the run's colour."""

    glyph: str
    label: str
    index: int
    value: str


def ink(dark: bool) -> tuple[str, str]:
    """(strong, dim) text colours on the panel background."""
    return ("#e8f0ff", "#7f8fa8") if dark else ("#101826", "#5a6b85")


def canvas_strips(canvas: Canvas) -> list[Strip]:
    """``canvas.strips()``, with one Rich Style per distinct (fg, bg, bold): maps repeat colours."""
    styles: dict[tuple[Any, Any, bool], Style] = {}
    out = []
    for line in canvas.cells:
        segs = []
        for ch, fg, bg, bold in line:
            key = (fg, bg, bold)
            style = styles.get(key)
            if style is None:
                style = styles[key] = Style(color=fg, bgcolor=bg, bold=bold)
            segs.append(Segment(ch, style))
        out.append(Strip(segs, canvas.width))
    return out


def _blend(a: str | None, b: str, t: float) -> str:
    """``a`` moved a fraction ``t`` towards ``b`` (colours ``#rrggbb``; ``a`` None: ``b``)."""
    if not a or not a.startswith("#") or len(a) != 7:
        return b
    ca = [int(a[i:i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i:i + 2], 16) for i in (1, 3, 5)]
    return "#{:02x}{:02x}{:02x}".format(*(int(x + (y - x) * t) for x, y in zip(ca, cb,
                                                                                 strict=True)))


def pack_keys(keys: list[Key], width: int, rows: int) -> list[list[tuple[Key, str, bool]]]:
    """Legend lines of at most ``width``, as ``(key, label shown, with value)``.

    Every run stays: labels are shortened (40, 12, 6 characters), then the values
    dropped, then labels cut to 3, until all entries fit in ``rows`` lines.
    """
    lines: list[list[tuple[Key, str, bool]]] = []
    for limit, valued in ((40, True), (12, True), (6, True), (12, False), (6, False),
                          (3, False)):
        lines, used = [[]], 0
        for k in keys:
            label = k.label if len(k.label) <= limit else k.label[:limit - 1] + "…"
            piece = f"{k.glyph} {label}" + (f" {k.value}" if valued else "")
            if lines[-1] and used + 2 + len(piece) > width:
                lines.append([])
                used = 0
            used += (2 if lines[-1] else 0) + len(piece)
            lines[-1].append((k, label, valued))
        if len(lines) <= rows:
            return lines
    return lines[:rows]


class StepChart(Widget):
    """Curves over the steps ``0 .. total``; y from ``y_range`` (see the module docstring)."""

    DEFAULT_CSS = """
    StepChart { width: 1fr; height: 1fr; }
    """

    #: format of a y tick label (at most MARGIN - 1 characters)
    y_format = staticmethod(short)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.curves: list[Curve] = []
        self.legend: list[Key] = []
        self.total = 1
        self.y_range: tuple[float, float] = (0.0, 1.0)
        self.marks: list[float] = []  # y values drawn as faint guide lines
        self._lines: list[Strip] | None = None

    def refresh_chart(self) -> None:
        self._lines = None
        self.refresh()

    def on_resize(self) -> None:
        self._lines = None

    # ------------------------------------------------------------------ drawing
    def _build(self) -> list[Strip]:
        w, h = self.size.width, self.size.height
        dark = self.app.current_theme.dark
        canvas = Canvas(w, h, self.background_colors[1].hex)
        legend = pack_keys(self.legend, w, 2 if h >= 7 else 1) if h >= 4 else []
        for row, line in enumerate(legend):
            self._draw_keys(canvas, row, line, dark)
        top = len(legend)
        if h - top >= 3 and w > MARGIN + 4:
            self._draw_plot(canvas, top, dark)
        return canvas_strips(canvas)

    def _draw_keys(self, canvas: Canvas, row: int, line: list[tuple[Key, str, bool]],
                   dark: bool) -> None:
        col = 0
        strong = ink(dark)[0]
        for k, label, valued in line:
            colour = run_color(k.index, dark)
            canvas.text(col, row, f"{k.glyph} {label}", colour, bold=True)
            col += len(label) + 2
            if valued:
                canvas.text(col, row, f" {k.value}", strong)
                col += len(k.value) + 1
            col += 2

    def _draw_plot(self, canvas: Canvas, top: int, dark: bool) -> None:
        w, h = canvas.width, canvas.height
        strong, dim = ink(dark)
        rows = h - top - 1  # the last row holds the step ticks
        pw, ph = w - MARGIN, 2 * rows
        lo, hi = self.y_range
        span = hi - lo if hi > lo else 1.0

        def prow(v: float) -> float:
            return 2 * top + (1 - (v - lo) / span) * (ph - 1)

        def pcol(s: float) -> float:
            return MARGIN + s / max(1, self.total) * (pw - 1)

        for t in nice_ticks(lo, hi, max(2, rows // 3)):
            row = int(round(prow(t))) // 2
            canvas.text(0, row, self.y_format(t).rjust(MARGIN - 1)[:MARGIN - 1], dim)
        for row in range(top, h - 1):
            canvas.text(MARGIN - 1, row, "│", dim)
        ticks = nice_ticks(0, self.total, max(2, pw // 10))
        labels = label_row(pw, [(int(round(pcol(t))) - MARGIN, short(t)) for t in ticks])
        canvas.text(MARGIN, h - 1, labels, dim)
        canvas.text(0, h - 1, "step".ljust(MARGIN - 1), strong)
        for curve in self.curves:
            self._draw_curve(canvas, curve, pcol, prow, dark)
        guide = _blend(canvas.fill, dim, 0.6)
        for m in self.marks:  # a thin dotted rule, on the cells no curve touched
            row = int(round(prow(m))) // 2
            for c in range(MARGIN, w):
                if canvas.cells[row][c][0] == " ":
                    canvas.text(c, row, "┈", guide)

    def _draw_curve(self, canvas: Canvas, curve: Curve, pcol: Any, prow: Any,
                    dark: bool) -> None:
        colour = run_color(curve.index, dark)
        lo, hi = self.y_range
        pts = [(pcol(float(s)), prow(min(max(float(v), lo), hi)))
               for s, v in zip(curve.steps, curve.values, strict=False) if math.isfinite(v)]
        if len(pts) > 2 * canvas.width:  # thin evenly, keep the last point
            idx = np.linspace(0, len(pts) - 1, 2 * canvas.width).astype(int)
            pts = [pts[i] for i in idx]
        if curve.dotted:
            for c, r in pts[::2] + pts[-1:]:
                canvas.pixel(int(round(c)), int(round(r)), colour)
            return
        for a, b in zip(pts, pts[1:], strict=False):
            canvas.line(a, b, colour)
        if len(pts) == 1:
            canvas.pixel(int(round(pts[0][0])), int(round(pts[0][1])), colour)

    @safe_render_line
    def render_line(self, y: int) -> Strip:
        if self._lines is None or len(self._lines) != self.size.height:
            self._lines = self._build()
        if 0 <= y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.size.width)
