"""What the network has learnt, over its input space.

* two input features, classification: the decision map — the plane shaded by
  P(class 1) (deep colour = sure, pale = unsure, the boundary P = ½ neutral) or by
  the predicted class, with the data on top: one shape per class, filled for a
  training point and hollow for a validation point, so a point on the wrong side
  of the boundary stands out;
* one input feature, regression (sine, linear): the fitted curve f(x) over the
  data (training •, validation ○) and the predict-the-mean baseline — the constant
  ``mean(y_train)``, the best a model that ignores x can do, with its loss.

Drawn on the half-block :class:`~descent_tui.tui.widgets.canvas.Canvas`, one grid
point per pixel (two per cell vertically). The mission screen calls
:meth:`DecisionMap.request` under the simulation's lock and hands the result to
:meth:`DecisionMap.show`; rendering reads only that copy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from textual.strip import Strip
from textual.widget import Widget

from descent_tui.tui.run_style import run_style
from descent_tui.tui.widgets.axes import label_row, nice_ticks, short
from descent_tui.tui.widgets.canvas import HALF, Canvas, clip_segment
from descent_tui.tui.widgets.redraw import RowRedraw, set_border
from descent_tui.tui.widgets.safe import safe_render_line

__all__ = ["CLASS_GLYPHS", "DecisionMap", "MapView", "map_kind"]

#: (training, validation) glyph of each class: the same shape, filled and hollow
CLASS_GLYPHS = (("●", "○"), ("▲", "△"), ("■", "□"), ("◆", "◇"), ("▼", "▽"), ("★", "☆"))
#: class colours (dark theme, light theme); P(class 1) shades from class 0's to class 1's
CLASS_COLORS = {True: ("#2f6fc8", "#d9772b", "#3d9c50", "#a04c96", "#9c9a32", "#2e9c9a"),
                False: ("#5b9be6", "#f39a55", "#6cc27c", "#d483c6", "#d6d35c", "#5ccfcc")}
#: the colour of P = ½ (the boundary) on each theme
NEUTRAL = {True: "#2a3140", False: "#f2f2f2"}


def map_kind(network: Any) -> str:
    """What the map of a ``[network]`` spec shows: "curve", "probability", "classes", "value".

    "curve": one input feature and one output (regression on sine or linear);
    "probability": P(class 1) of a 2-class model; "classes": the argmax class of
    more; "value": the raw output of a 2-feature regression.
    """
    out = network.model.layers[-1]
    if network.data.n_features == 1:
        return "curve" if out == 1 else "none"
    if network.loss == "bce" or (network.loss == "cross_entropy" and out == 2):
        return "probability"
    if network.loss == "mse" and out == 1:
        return "probability" if network.data.n_classes else "value"
    return "classes"


@dataclass(frozen=True)
class MapView:
    """One read-out for the map: ``grid`` ``(xs, ys, P)`` (2 features) or ``curve``
    ``(xs, f(xs))`` (1 feature), of the run labelled ``label`` (number ``index``)."""

    kind: str
    index: int
    label: str
    grid: Any = None
    curve: Any = None


@lru_cache(maxsize=256)  # a map's few colours, asked for per cell and per point
def _hex(c: str) -> tuple[int, int, int]:
    return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)


def _mix(a: str, b: str, t: float) -> str:
    """The colour ``t`` of the way from ``a`` to ``b``."""
    ra, rb = _hex(a), _hex(b)
    return "#{:02x}{:02x}{:02x}".format(*(int(x + (y - x) * t) for x, y in zip(ra, rb,
                                                                             strict=True)))


def probability_colour(p: float, dark: bool) -> str:
    """P(class 1) as a colour: class 0's at 0, neutral at ½, class 1's at 1 (NaN: neutral).

    Shaded in 5 steps a side, so the legend's swatches name every shade seen.
    """
    if not math.isfinite(p):
        return NEUTRAL[dark]
    p = min(1.0, max(0.0, p))
    return _shade(min(5, int(abs(p - 0.5) * 2 * 5 + 0.5)), p > 0.5, dark)


def probability_shades(P: Any, dark: bool) -> tuple[list[str], Any]:
    """:func:`probability_colour` of every value of the array ``P`` at once: the colours
    (each shade of class 0, then of class 1, then neutral) and each value's index in them."""
    import numpy as np

    ok = np.isfinite(P)
    p = np.clip(np.where(ok, P, 0.5), 0.0, 1.0)
    fifths = np.minimum(5, (np.abs(p - 0.5) * 2 * 5 + 0.5).astype(int))
    colours = [_shade(f, c, dark) for c in (False, True) for f in range(6)]
    return [*colours, NEUTRAL[dark]], np.where(ok, fifths + 6 * (p > 0.5), 12)


@lru_cache(maxsize=32)
def _shade(fifths: int, class_1: bool, dark: bool) -> str:
    """The colour ``fifths``/5 of the way from neutral to a class's colour (eased)."""
    return _mix(NEUTRAL[dark], CLASS_COLORS[dark][1 if class_1 else 0], (fifths / 5) ** 0.8)


class DecisionMap(RowRedraw, Widget):
    """The decision map of a 2-feature classifier, or the fitted curve of a 1-feature fit."""

    DEFAULT_CSS = """
    DecisionMap { width: 1fr; height: 1fr; }
    """

    MAX_POINTS = 120

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.view: MapView | None = None
        self.points: Any = None  # [(X, labels, validation?)], subsampled
        self.targets: Any = None  # curve: (y_train, y_val) for the baseline
        self._lines: list[Strip] | None = None

    # ------------------------------------------------------------------ input
    def set_data(self, data: dict[str, Any]) -> None:
        """The data to draw: ``X``, ``y`` (training) and ``X_val``, ``y_val`` (validation)."""
        import numpy as np

        sets = []
        for xk, yk, val in (("X", "y", False), ("X_val", "y_val", True)):
            X, y = data.get(xk), data.get(yk)
            if X is None or y is None or not len(X):
                continue
            X = np.asarray(X, dtype=float)
            y = np.asarray(y, dtype=float).reshape(len(X), -1)
            labels = y[:, 0] if y.shape[1] == 1 else np.argmax(y, axis=1).astype(float)
            step = max(1, len(X) // self.MAX_POINTS)
            sets.append((X[::step], labels[::step], val))
        self.points = sets
        y_tr = np.asarray(data.get("y", ()), dtype=float).ravel()
        y_va = np.asarray(data.get("y_val", ()), dtype=float).ravel()
        self.targets = (y_tr, y_va)
        self._lines = None
        self.refresh()

    def set_points(self, X: Any, y: Any) -> None:
        """Training points only (see :meth:`set_data`)."""
        self.set_data({"X": X, "y": y})

    def map_size(self) -> tuple[int, int]:
        """(columns, cell rows) of the shaded area."""
        w, h = self.size.width, self.size.height
        return max(1, w), max(1, h - 1 if h >= 6 else h)

    def wanted_n(self) -> int:
        """Grid points across (one per column); up there are two per cell row."""
        return max(8, self.map_size()[0])

    def request(self, run: Any, run_index: int) -> MapView | None:
        """The read-out of ``run`` (a run or a fork, drawn as number ``run_index``) this
        map draws (call it under the simulation's lock)."""
        kind = map_kind(run.spec.network)
        label = run.label
        if kind == "curve":
            cols = max(8, self.size.width)
            curve = run.fit_curve(2 * cols)
            return None if curve is None else MapView(kind, run_index, label, curve=curve)
        if kind == "none":
            return None
        cols, rows = self.map_size()
        grid = run.decision_grid(max(8, cols), max(8, 2 * rows))
        return None if grid is None else MapView(kind, run_index, label, grid=grid)

    #: the panel's title for each kind of map
    TITLES = {"curve": "FIT  f(x) over the data", "probability": "DECISION  P(class 1)",
              "classes": "DECISION  predicted class", "value": "OUTPUT  f(x, y)"}

    def show(self, view: Any) -> None:
        """Draw ``view`` (a :class:`MapView` from :meth:`request`; anything else: nothing)."""
        self.view = view if isinstance(view, MapView) else None
        if self.view is not None:
            set_border(self, title=self.TITLES.get(self.view.kind, "DECISION"))
        self.redraw()

    @property
    def grid(self) -> Any:
        """The ``(xs, ys, P)`` drawn (2 features), else None."""
        return self.view.grid if self.view is not None else None

    def on_resize(self) -> None:
        self._lines = None

    # ------------------------------------------------------------------ drawing
    def _ink(self, dark: bool) -> tuple[str, str]:
        """(strong, dim) text colours on this background."""
        return ("#e8f0ff", "#7f8fa8") if dark else ("#101826", "#5a6b85")

    def _build(self) -> list[Strip]:
        w, h = self.size.width, self.size.height
        dark = self.app.current_theme.dark
        canvas = Canvas(w, h, self.background_colors[1].hex)
        view = self.view
        if view is None:
            canvas.text(1, 0, "no map yet: take a step", self._ink(dark)[1])
        elif view.kind == "curve":
            _draw_curve_view(self, canvas, view, dark)
        else:
            self._draw_plane(canvas, view, dark)
        return self._strips(canvas)

    def _pixel_shades(self, P: Any, pick: Any, kind: str, dark: bool
                      ) -> tuple[list[str], Any, tuple[float, float]]:
        """This kind of map's colours, the index in them of the colour of each value in
        ``P[pick]`` (:func:`probability_colour` of it, or its class's), and the range of
        the values in ``P``."""
        import numpy as np

        if kind == "probability":
            return (*probability_shades(P[pick], dark), (0.0, 1.0))
        if kind == "classes":
            palette = CLASS_COLORS[dark]
            v = P[pick]
            ok = np.isfinite(v)
            # int(v) % 6 for every finite v, however large: on whole floats % is exact
            k = np.mod(np.trunc(np.where(ok, v, 0.0)), len(palette)).astype(int)
            return ([*palette, NEUTRAL[dark]], np.where(ok, k, len(palette)),
                    (0.0, float(np.nanmax(P)) if P.size else 0.0))
        finite = P[np.isfinite(P)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        span = hi - lo if hi > lo else 1.0
        with np.errstate(all="ignore"):
            return (*probability_shades((P[pick] - lo) / span, dark), (lo, hi))

    def _draw_plane(self, canvas: Canvas, view: MapView, dark: bool) -> None:
        """The shaded plane (grid row 0 = lowest y, drawn at the bottom), points, legend."""
        import numpy as np

        xs, ys, P = view.grid
        P = np.asarray(P, dtype=float)
        cols, rows = self.map_size()
        ny, nx = P.shape
        # the grid value under each pixel: pixel row 0 is the top (the highest y)
        ri = ny - 1 - np.minimum(ny - 1, np.arange(2 * rows) * ny // (2 * rows))
        ci = np.minimum(nx - 1, np.arange(cols) * nx // cols)
        colours, index, value_range = self._pixel_shades(P, np.ix_(ri, ci), view.kind, dark)
        pixels = np.array(colours, dtype=object)[index]
        # on a fresh canvas, painting both pixels of a cell makes the half block that
        # half_blocks writes: a row at a time
        for row in range(rows):
            canvas.half_blocks(0, row, pixels[2 * row].tolist(), pixels[2 * row + 1].tolist())
        light = np.array([sum(_hex(c)) / 3 > 140 for c in colours])
        self._draw_points(canvas, xs, ys, rows, light[index])
        if rows < self.size.height:
            self._draw_plane_legend(canvas, rows, view, value_range, dark)

    def _draw_points(self, canvas: Canvas, xs: Any, ys: Any, rows: int, light: Any) -> None:
        """Each data point as its class's glyph (filled: training, hollow: validation), in
        black on a light pixel, else white (``light``: whether each pixel of the plane is).

        As if drawn one after another: the last point in a cell shows; it is inked for
        its own pixel when it is the only point in its cell and in the upper half, else
        for the lower pixel (an earlier point's glyph covers the upper one).
        """
        import numpy as np

        found = _plotted_points(self.points, xs, ys, self.map_size()[0], rows)
        if found is None:
            return
        col, prow, glyphs = found
        cell = (prow // 2) * canvas.width + col
        first = np.unique(cell, return_index=True)[1]
        last = len(cell) - 1 - np.unique(cell[::-1], return_index=True)[1]
        upper = (prow[last] % 2 == 0) & (first == last)
        on_light = light[2 * (prow[last] // 2) + np.where(upper, 0, 1), col[last]]
        for k, bright in zip(last.tolist(), on_light.tolist(), strict=True):
            canvas.glyph(int(col[k]), int(prow[k]) // 2, glyphs[k],
                         "#000000" if bright else "#ffffff")

    def _draw_plane_legend(self, canvas: Canvas, row: int, view: MapView,
                           value_range: tuple[float, float], dark: bool) -> None:
        """``P(1) 0 ▮▮▮▮▮ 1  ●▲ train ○△ val`` (classes: a swatch per class)."""
        strong, dim = self._ink(dark)
        col = 0
        if view.kind == "classes":
            canvas.text(col, row, "class", dim)
            col += 5
            for k in range(int(value_range[1]) + 1):
                canvas.text(col, row, f" {CLASS_GLYPHS[k % 6][0]}", CLASS_COLORS[dark][k % 6])
                col += 2
        else:
            head = "P(1) 0" if view.kind == "probability" else f"f {short(value_range[0])}"
            canvas.text(col, row, head, dim)
            col += len(head)
            for t in (0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0):
                canvas.text(col, row, "█", probability_colour(t, dark))
                col += 1
            tail = "1" if view.kind == "probability" else short(value_range[1])
            canvas.text(col, row, tail, dim)
            col += len(tail)
        key = "  ●▲ train ○△ val" if view.kind != "classes" else "  filled train, hollow val"
        if col + len(key) <= canvas.width:
            canvas.text(col, row, key, strong)

    @safe_render_line
    def render_line(self, y: int) -> Strip:
        if self._lines is None or len(self._lines) != self.size.height:
            self._lines = self._build()
        if 0 <= y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.size.width)


def _plotted_points(points: Any, xs: Any, ys: Any, cols: int, rows: int) -> Any:
    """``(col, prow, glyph)`` of every point that lands on the plane of ``cols`` columns
    by ``2 * rows`` pixel rows over ``xs`` × ``ys``, in drawing order (None: none)."""
    import numpy as np

    if not points:
        return None
    x0, x1, y0, y1 = float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1])
    if not (x1 > x0 and y1 > y0):
        return None
    xy = np.concatenate([X[:, :2] for X, _labels, _val in points])
    labels = np.concatenate([labels for _X, labels, _val in points])
    hollow = np.concatenate([np.full(len(X), val) for X, _labels, val in points])
    c = (xy[:, 0] - x0) / (x1 - x0) * (cols - 1) + 0.5
    r = (y1 - xy[:, 1]) / (y1 - y0) * (2 * rows - 1) + 0.5
    c, r = np.trunc(c), np.trunc(r)  # int(): towards 0 (a point not finite is off the map)
    on = (c >= 0) & (c < cols) & (r >= 0) & (r < 2 * rows) & np.isfinite(labels)
    if not on.any():
        return None
    # round() halves to even, as rint; % on whole floats is exact
    k = np.mod(np.rint(labels[on]), len(CLASS_GLYPHS)).astype(int)
    glyphs = [CLASS_GLYPHS[a][b] for a, b in zip(k.tolist(), hollow[on].tolist(), strict=True)]
    return c[on].astype(int), r[on].astype(int), glyphs


# ---------------------------------------------------------------------- 1 feature
#: y tick labels and the axis line take this many columns (when the panel is wide)
MARGIN = 6


def curve_box(w: int, h: int) -> tuple[int, int, int, int]:
    """(left, top, width, cell rows) of the plot of a fitted curve; below: ticks, legend."""
    left = MARGIN if w >= 22 else 0
    below = 2 if h >= 8 else (1 if h >= 5 else 0)
    return left, 0, max(1, w - left - (1 if left else 0)), max(1, h - below)


def _curve_ranges(widget: DecisionMap, view: MapView) -> tuple[tuple[float, float],
                                                              tuple[float, float]]:
    """x range of the curve; y range over the data, the fit and the baseline (padded)."""
    import numpy as np

    xs, fx = view.curve
    values = [np.asarray(fx, dtype=float)]
    for _X, labels, _val in widget.points or ():
        values.append(np.asarray(labels, dtype=float))
    allv = np.concatenate(values)
    allv = allv[np.isfinite(allv)]
    lo, hi = (float(allv.min()), float(allv.max())) if allv.size else (0.0, 1.0)
    if not hi > lo:
        lo, hi = lo - 1.0, hi + 1.0
    pad = 0.06 * (hi - lo)
    return (float(xs[0]), float(xs[-1])), (lo - pad, hi + pad)


def _draw_curve_view(widget: DecisionMap, canvas: Canvas, view: MapView, dark: bool) -> None:
    """Data points, the predict-the-mean baseline (dashed) and the fitted curve, with axes."""
    import numpy as np

    w, h = canvas.width, canvas.height
    left, top, pw, ph = curve_box(w, h)
    (x0, x1), (y0, y1) = _curve_ranges(widget, view)
    strong, dim = widget._ink(dark)

    def to_px(x: float, y: float) -> tuple[float, float]:
        return (left + (x - x0) / (x1 - x0) * (pw - 1),
                2 * top + (y1 - y) / (y1 - y0) * (2 * ph - 1))

    box = (left, 2 * top, left + pw - 1, 2 * (top + ph) - 1)
    y_tr, y_va = widget.targets if widget.targets is not None else (np.zeros(0), np.zeros(0))
    mean = float(y_tr.mean()) if y_tr.size else None
    style = run_style(view.index, dark)
    xs, fx = view.curve
    pts = [to_px(float(x), float(f)) for x, f in zip(xs, fx, strict=True) if math.isfinite(f)]
    curve_cells = set()
    for a, b in zip(pts, pts[1:]):
        seg = clip_segment(a, b, box)
        if seg is not None:
            canvas.line(seg[0], seg[1], style.color)
            curve_cells.update({(int(round(p[0])), int(round(p[1])) // 2) for p in seg})
    _curve_points(widget, canvas, to_px, box, curve_cells, dark)
    if mean is not None and math.isfinite(mean):  # dashed, under the points and the fit
        prow = int(to_px(x0, mean)[1] + 0.5)
        for c in range(left, left + pw):
            if (c - left) % 3 != 2 and (c, prow // 2) not in curve_cells \
                    and canvas.char(c, prow // 2) in (" ", HALF):
                canvas.pixel(c, prow, dim)
    if left:
        _curve_axes(canvas, (left, top, pw, ph), (x0, x1), (y0, y1), dim)
    if h >= 5:
        _curve_legend(canvas, h - 1, style, view.label, mean, y_va, strong, dim)


def _curve_points(widget: DecisionMap, canvas: Canvas, to_px: Any,
                  box: tuple[float, float, float, float], curve_cells: set, dark: bool) -> None:
    """Training points •, validation points ○ (not over the curve's own cells)."""
    ink = ("#c6d2e6", "#ffb347") if dark else ("#33425c", "#b35c00")
    for X, labels, val in widget.points or ():
        for x, y in zip(X[:, 0], labels, strict=True):
            c, r = to_px(float(x), float(y))
            col, prow = int(c + 0.5), int(r + 0.5)
            if not (box[0] <= col <= box[2] and box[1] <= prow <= box[3]):
                continue
            cell = (col, prow // 2)
            if cell not in curve_cells and canvas.char(col, cell[1]) in (" ", HALF):
                canvas.glyph(col, cell[1], "○" if val else "•", ink[1 if val else 0])


def _curve_axes(canvas: Canvas, plot: tuple[int, int, int, int], xr: tuple[float, float],
                yr: tuple[float, float], dim: str) -> None:
    """y ticks in the left margin, x ticks under the plot."""
    left, top, pw, ph = plot
    (x0, x1), (y0, y1) = xr, yr
    for r in range(ph):
        canvas.text(left - 1, top + r, "│", dim)
    for t in nice_ticks(y0, y1, max(2, ph // 3)):
        row = int(2 * top + (y1 - t) / (y1 - y0) * (2 * ph - 1) + 0.5) // 2
        canvas.text(0, row, f"{short(t):>{left - 1}}┤", dim)
    if top + ph < canvas.height - 1:
        labels = [(int(left + (t - x0) / (x1 - x0) * (pw - 1) + 0.5), short(t))
                  for t in nice_ticks(x0, x1, max(3, pw // 7))]
        canvas.text(0, top + ph, label_row(canvas.width, labels), dim)


def _curve_legend(canvas: Canvas, row: int, style: Any, label: str, mean: float | None,
                  y_val: Any, strong: str, dim: str) -> None:
    """``━ fit  ┄ mean, val mse 0.49  • train ○ val``: as much as fits, shorter if need be."""
    import numpy as np

    base = []
    if mean is not None and math.isfinite(mean):
        y_val = np.asarray(y_val, dtype=float)
        mse = f"{float(np.mean((y_val - mean) ** 2)):.2g}" if y_val.size else None
        base = [f"┄ predict the mean, val mse {mse}", f"┄ mean: mse {mse}", "┄ mean"] \
            if mse else ["┄ predict the mean", "┄ mean"]
    for variant in range(3):
        pieces = [("━ fit", style.color)]
        if base:
            pieces.append((base[min(variant, len(base) - 1)], dim))
        pieces.append((("• train ○ val", "•train ○val", "")[variant], strong))
        if sum(len(t) + 2 for t, _ in pieces) - 2 <= canvas.width or variant == 2:
            break
    col = 0
    for text, colour in pieces:
        if text and col + len(text) <= canvas.width:
            canvas.text(col, row, text, colour)
        col += len(text) + 2
