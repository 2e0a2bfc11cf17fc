"""A small chart of values over the steps, on a half-block canvas (two pixels a cell).

:class:`StepChart` is the base of the panels that plot one number per run over
the steps (the learning rate, the accuracy). A subclass fills ``self.curves``
(:class:`Curve`: steps, values, run index, solid or dotted) and ``self.legend``
(one :class:`Key` per curve), then calls :meth:`refresh_chart`. The layout:
legend lines on top (every run kept: labels shortened until they fit), the plot
with y tick labels on the left, step ticks (and ``note``) on the bottom row.
Each curve is reduced to the pixel columns it touches (:func:`columns`), so the
cost follows the width, not the number of steps. A solid curve is a faint band
of everything it passed through in each column (a noisy run shows its noise
without hiding the others) under a connected line through each column's mean; a
dotted one is a pixel every other column, so the two stay apart without colour.
A curve marked ``smooth`` (the loss of a random mini-batch, which jumps from one
batch to the next) has its line through a centred moving mean of the column
means (:func:`moving_mean`) instead: the trend, with the raw noise as the band.
Lines are clipped at the plot's edges (a run that explodes leaves through the top).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from textual.strip import Strip
from textual.widget import Widget

from descent_tui.tui.run_style import abbreviate
from descent_tui.tui.theme import run_color
from descent_tui.tui.widgets.axes import label_row, nice_ticks, short
from descent_tui.tui.widgets.canvas import Canvas, clip_segment
from descent_tui.tui.widgets.redraw import RowRedraw
from descent_tui.tui.widgets.safe import safe_render_line

__all__ = ["Curve", "Key", "Series", "StepChart", "columns", "moving_mean",
           "pack_keys"]

MARGIN = 6  # columns for the y tick labels and the axis


@dataclass(frozen=True)
class Curve:
    """One run's values over the steps; ``dotted`` for the second curve of a run.

    ``glyph`` is stamped on the curve at the steps ``stamps`` (those reached), so
    runs stay apart without colour.
    """

    steps: np.ndarray
    values: np.ndarray
    index: int
    dotted: bool = False
    glyph: str = ""
    stamps: tuple[float, ...] = ()
    #: a noisy curve (a mini-batch's loss): its line is a moving mean, its band stays raw
    smooth: bool = False


@dataclass(frozen=True)
class Series:
    """What the screen hands a chart for one run: ``values`` over ``steps``, ``now`` the latest."""

    index: int
    label: str
    steps: np.ndarray
    values: np.ndarray
    now: float | None
    #: measured on a random mini-batch, another each step (drawn as its moving mean)
    noisy: bool = False


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

    Every run stays: labels are shortened in the middle (40, 12, 6 characters), then
    the values dropped, then labels cut to 3, until all entries fit in ``rows`` lines.
    """
    lines: list[list[tuple[Key, str, bool]]] = []
    for limit, valued in ((40, True), (12, True), (6, True), (12, False), (6, False),
                          (3, False)):
        lines, used = [[]], 0
        for k in keys:
            label = abbreviate(k.label, limit)  # both ends kept: "bat…32", "batch 8"
            piece = f"{k.glyph} {label}" + (f" {k.value}" if valued else "")
            if lines[-1] and used + 2 + len(piece) > width:
                lines.append([])
                used = 0
            used += (2 if lines[-1] else 0) + len(piece)
            lines[-1].append((k, label, valued))
        if len(lines) <= rows:
            return lines
    return lines[:rows]


@dataclass(frozen=True)
class _Frame:
    """The plot area in pixels: ``pw × ph`` from (``left``, ``top``); y from ``lo`` over ``span``."""

    left: int
    top: int
    pw: int
    ph: int
    lo: float
    span: float
    total: int

    def col(self, step: Any) -> Any:
        return self.left + np.asarray(step, dtype=float) / max(1, self.total) * (self.pw - 1)

    def row(self, value: Any) -> Any:
        return self.top + (1 - (np.asarray(value, dtype=float) - self.lo) / self.span) * (
            self.ph - 1)

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.left, self.top, self.left + self.pw - 1, self.top + self.ph - 1)


def columns(steps: Any, values: Any, total: int, pw: int) -> tuple[np.ndarray, ...]:
    """A curve reduced to the pixel columns it touches: ``(step, first, low, high, last, mean)``.

    ``step`` is the first step drawn in each column; ``first``/``last`` the values
    the curve enters and leaves it with; ``low``/``high`` its extremes there (a
    spike between two drawn points is not lost however many steps share a column),
    ``mean`` its average there. NaNs are left out; ±inf stays (the drawing clips it).
    """
    s = np.asarray(steps, dtype=float)
    v = np.asarray(values, dtype=float)
    n = min(len(s), len(v))
    s, v = s[:n], v[:n]
    keep = ~np.isnan(v) & np.isfinite(s)
    s, v = s[keep], v[keep]
    if s.size == 0:
        return tuple(np.zeros(0) for _ in range(6))
    if np.any(np.diff(s) < 0):
        order = np.argsort(s, kind="stable")
        s, v = s[order], v[order]
    col = np.rint(s / max(1, total) * (pw - 1)).astype(np.int64)
    starts = np.flatnonzero(np.concatenate(([True], np.diff(col) != 0)))
    ends = np.append(starts[1:] - 1, len(v) - 1)
    with np.errstate(invalid="ignore", over="ignore"):
        mean = np.add.reduceat(v, starts) / np.diff(starts, append=len(v))
    return (s[starts], v[starts], np.minimum.reduceat(v, starts),
            np.maximum.reduceat(v, starts), v[ends], mean)


def moving_mean(values: np.ndarray, half: int) -> np.ndarray:
    """The centred mean of ``values[i - half : i + half + 1]`` at each ``i`` (fewer at the ends).

    ±inf is left out of the windows it falls in (a window of only ±inf keeps it).
    """
    v = np.asarray(values, dtype=float)
    if half < 1 or v.size < 3:
        return v
    ok = np.isfinite(v)
    csum = np.concatenate(([0.0], np.cumsum(np.where(ok, v, 0.0))))
    ccount = np.concatenate(([0], np.cumsum(ok)))
    i = np.arange(v.size)
    lo, hi = np.maximum(i - half, 0), np.minimum(i + half + 1, v.size)
    n = ccount[hi] - ccount[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (csum[hi] - csum[lo]) / np.maximum(n, 1), v)


def _clipped_line(canvas: Canvas, a: tuple[float, float], b: tuple[float, float],
                  box: tuple[float, float, float, float], colour: str) -> None:
    """The part of the line a→b inside ``box`` (columns are always inside: rows are tested)."""
    if box[1] <= a[1] <= box[3] and box[1] <= b[1] <= box[3]:
        if a == b:
            canvas.pixel(int(round(a[0])), int(round(a[1])), colour)
        else:
            canvas.line(a, b, colour)
        return
    part = clip_segment(a, b, box)
    if part is not None:
        canvas.line(part[0], part[1], colour)


def _segments(canvas: Canvas, groups: list[tuple[str, tuple[np.ndarray, ...]]],
              box: tuple[float, float, float, float]) -> None:
    """Groups of lines, drawn group after group: each ``(colour, (ac, ar, bc, br))``
    holds the lines ``(ac[k], ar[k]) → (bc[k], br[k])`` (pixel points), each as
    :func:`_clipped_line` draws it, in one colour (so in any order within the group).

    Most of a chart's lines lie inside ``box`` within one column or between two
    neighbouring ones, or run up or down one column past its edge (a noisy band):
    their pixels are found for every group at once (the rows of each column
    :meth:`Canvas.line` paints), then painted one loop a group; the others are
    drawn one by one, first in their group.
    """
    if not groups:
        return
    ac, ar, bc, br = (np.concatenate([ends[k] for _, ends in groups]) for k in range(4))
    group = np.repeat(np.arange(len(groups)), [len(ends[0]) for _, ends in groups])
    inside = (box[1] <= ar) & (ar <= box[3]) & (box[1] <= br) & (br <= box[3])
    # a line up or down one column (a band's extremes) that leaves the plot is that
    # column cut at the plot's edges; one wholly above or below it draws nothing
    above = (ar < box[1]) & (br < box[1])
    below = (ar > box[3]) & (br > box[3])
    column = (ac == bc) & ~inside & ~above & ~below & np.isfinite(ar) & np.isfinite(br)
    fits = inside | column
    cut_ar, cut_br = np.clip(ar, box[1], box[3]), np.clip(br, box[1], box[3])
    c0, r0, c1, r1 = (np.rint(np.where(fits, v, 0.0)).astype(np.int64)
                      for v in (ac, cut_ar, bc, cut_br))
    fast = fits & (np.abs(c1 - c0) <= 1)
    slow = np.flatnonzero(~fast & ~((ac == bc) & (above | below)))
    slow_at = np.searchsorted(group[slow], np.arange(len(groups) + 1))
    flat, flat_at = _fast_pixels(canvas, group[fast], c0[fast], r0[fast], c1[fast], r1[fast],
                                 len(groups))
    w = canvas.width
    for g, (colour, _) in enumerate(groups):
        for i in slow[slow_at[g]:slow_at[g + 1]].tolist():
            _clipped_line(canvas, (float(ac[i]), float(ar[i])), (float(bc[i]), float(br[i])),
                          box, colour)
        mine = flat[flat_at[g]:flat_at[g + 1]]
        if mine.size:
            canvas.pixels((mine % w).tolist(), (mine // w).tolist(), colour)


def _fast_pixels(canvas: Canvas, group: np.ndarray, c0: np.ndarray, r0: np.ndarray,
                 c1: np.ndarray, r1: np.ndarray, groups: int) -> tuple[np.ndarray, np.ndarray]:
    """The pixels of lines within a column or to the next one (``prow * width + col``,
    each once a group, sorted by group) and where each group's start in them."""
    k, sr = np.abs(r1 - r0), np.where(r1 > r0, 1, -1)
    same = c0 == c1  # one column: all the rows; else the first (k + 1) // 2 of them
    mid = np.where(same, r1, r0 + sr * (np.where(k > 0, (k + 1) // 2, 1) - 1))
    start = np.where(k > 0, mid + sr, r0)[~same]  # the rest, in the next column
    cols = np.concatenate([c0, c1[~same]])
    owner = np.concatenate([group, group[~same]])
    los = np.concatenate([np.minimum(r0, mid), np.minimum(start, r1[~same])])
    his = np.concatenate([np.maximum(r0, mid), np.maximum(start, r1[~same])])
    n = his - los + 1
    prows = np.repeat(los, n) + np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    cells = canvas.width * 2 * canvas.height
    keys = np.sort(np.repeat(owner, n) * cells + prows * canvas.width + np.repeat(cols, n))
    # each once: sorted, then the repeats dropped (np.unique hashes first since
    # NumPy 2.3, about ten times slower on these few thousand integers)
    keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if keys.size else keys
    return keys % cells, np.searchsorted(keys // cells, np.arange(groups + 1))


def _part_lines(curve: Curve, frame: _Frame, part: str,
                reduced: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """The lines one ``part`` of a curve is drawn with, per pixel column (see
    :func:`columns`), as ``(ac, ar, bc, br)`` for :func:`_segments`:

    * ``"band"``: everything the curve passes through, extremes and the jumps
      between columns included (drawn faint, under every line);
    * ``"line"``: a connected line through each column's mean (a ``smooth`` curve:
      their moving mean over about an eighth of the plot's width);
    * ``"dots"``: the mean, one pixel every other column (a dotted curve; lines of
      no length, inside the plot).

    ``reduced``: the curve's :func:`columns`.
    """
    step, first, low, high, last, mean = reduced
    if step.size == 0:
        return tuple(np.zeros(0) for _ in range(4))
    xs = frame.col(step)
    box = frame.box
    if part == "band":
        # the jumps from each column's last value to the next one's first, and each
        # column's extremes (as drawn before: jump i-1 -> i, then column i; one colour)
        first, low, high, last = _pixel_rows(frame, first, low, high, last)
        return (np.concatenate([xs[:-1], xs]), np.concatenate([last[:-1], low]),
                np.concatenate([xs[1:], xs]), np.concatenate([first[1:], high]))
    if curve.smooth and part == "line":
        mean = moving_mean(mean, max(2, frame.pw // 16))
    (mean,) = _pixel_rows(frame, mean)
    if part == "dots":
        keep = (np.rint(xs) % 2 == 0) & (box[1] <= mean) & (mean <= box[3])
        return xs[keep], mean[keep], xs[keep], mean[keep]
    # "line": from each column's mean to the next (the first: a point)
    return (np.concatenate([xs[:1], xs[:-1]]), np.concatenate([mean[:1], mean[:-1]]),
            xs, mean)


def _pixel_rows(frame: _Frame, *values: np.ndarray) -> np.ndarray:
    """The pixel rows of ``values`` (arrays of one length), one row of the result each;
    ±inf becomes a point far outside the plot, which the drawing clips."""
    lo, big = frame.lo - 3 * frame.span, frame.lo + 4 * frame.span
    return frame.row(np.minimum(np.maximum(np.stack(values), lo), big))


def _stamp(canvas: Canvas, curve: Curve, frame: _Frame, colour: str) -> None:
    """The curve's glyph at each of its ``stamps`` steps it has reached (inside the plot)."""
    if not curve.glyph or not curve.stamps:
        return
    s = np.asarray(curve.steps, dtype=float)
    v = np.asarray(curve.values, dtype=float)[:len(s)]
    s = s[:len(v)]
    ok = np.isfinite(v)
    s, v = s[ok], v[ok]
    if s.size == 0:
        return
    for target in curve.stamps:
        if target > s[-1]:
            continue
        i = min(len(s) - 1, int(np.searchsorted(s, target)))
        c, r = float(frame.col(s[i])), float(frame.row(v[i]))
        if frame.box[1] <= r <= frame.box[3]:
            canvas.glyph(int(round(c)), int(round(r)) // 2, curve.glyph, colour)


class StepChart(RowRedraw, Widget):
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
        self.note = ""  # said at the right end of the step axis (e.g. a log floor)
        self._lines: list[Strip] | None = None

    def refresh_chart(self) -> None:
        """Draw the chart again: the rows that changed are repainted."""
        self.redraw()

    def on_resize(self) -> None:
        self._lines = None

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.refresh_chart())

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
        return self._strips(canvas)

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

    def y_ticks(self, lo: float, hi: float, n: int) -> list[float]:
        """The y values that get a tick label (about ``n`` round ones)."""
        return nice_ticks(lo, hi, n)

    def _draw_plot(self, canvas: Canvas, top: int, dark: bool) -> None:
        w, h = canvas.width, canvas.height
        strong, dim = ink(dark)
        rows = h - top - 1  # the last row holds the step ticks
        pw, ph = w - MARGIN, 2 * rows
        lo, hi = self.y_range
        span = hi - lo if hi > lo else 1.0

        def prow(v: float) -> float:
            return 2 * top + (1 - (v - lo) / span) * (ph - 1)

        for t in self.y_ticks(lo, hi, max(2, rows // 3)):
            row = int(round(prow(t))) // 2
            canvas.text(0, row, self.y_format(t).rjust(MARGIN - 1)[:MARGIN - 1], dim)
        for row in range(top, h - 1):
            canvas.text(MARGIN - 1, row, "│", dim)
        note = f" {self.note}" if self.note and len(self.note) + 12 < pw else ""
        ticks = nice_ticks(0, self.total, max(2, (pw - len(note)) // 10))
        cols = [(int(round(t / max(1, self.total) * (pw - 1))), short(t)) for t in ticks]
        room = pw - len(note)
        canvas.text(MARGIN, h - 1, label_row(pw, cols, end=room)[:room] + note, dim)
        canvas.text(0, h - 1, "step".ljust(MARGIN - 1), strong)
        frame = _Frame(MARGIN, 2 * top, pw, ph, lo, span, self.total)
        reduced = [columns(c.steps, c.values, frame.total, frame.pw) for c in self.curves]
        groups = []
        for part in ("band", "line", "dots"):  # every run's faint band under every line
            for curve, cols in zip(self.curves, reduced, strict=True):
                if (part == "dots") == curve.dotted:
                    colour = run_color(curve.index, dark)
                    if part == "band":  # a noisy curve's band spans its noise: fainter
                        colour = _blend(colour, canvas.fill or "#000000",
                                        0.78 if curve.smooth else 0.55)
                    groups.append((colour, _part_lines(curve, frame, part, cols)))
        _segments(canvas, groups, frame.box)
        guide = _blend(canvas.fill, dim, 0.6)
        for m in self.marks:  # a thin dotted rule, on the cells no curve touched
            row = int(round(prow(m))) // 2
            for c in range(MARGIN, w):
                if canvas.char(c, row) == " ":
                    canvas.text(c, row, "┈", guide)
        for curve in self.curves:  # the glyphs last: no line crosses them
            _stamp(canvas, curve, frame, run_color(curve.index, dark))

    @safe_render_line
    def render_line(self, y: int) -> Strip:
        if self._lines is None or len(self._lines) != self.size.height:
            self._lines = self._build()
        if 0 <= y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.size.width)
