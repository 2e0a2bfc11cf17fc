"""Loss landscape: a shaded character heat map with contour bands, every run's
trajectory and current point, and the selected run's gradient / velocity arrows.

Rendered with Rich segments (two pixels per cell with half blocks), so a full
redraw costs a few milliseconds.  The grid itself comes from
``sim.loss_grid`` and is only recomputed when the widget changes size: the
widget then posts :class:`Landscape.GridWanted`, and the mission screen takes a
new grid at the next redraw (running or paused).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from descent_tui.tui.run_style import run_style
from descent_tui.tui.widgets.axes import label_row, nice_ticks, short
from descent_tui.tui.widgets.canvas import Canvas, clip_segment, nearest
from descent_tui.tui.widgets.decision_map import DecisionMap
from descent_tui.tui.widgets.redraw import RowRedraw
from descent_tui.tui.widgets.safe import safe_render_line

DARK_RAMP = ("#0a1330", "#0f2a52", "#114a6e", "#146b7e", "#23887c", "#4ea06a", "#93b252",
             "#d0b545", "#eb9a3c", "#f2703f", "#f04c5c")
LIGHT_RAMP = ("#f4f8fc", "#dcebf7", "#c3ddf0", "#a9cfe4", "#a5d0c4", "#bcdca3", "#dde29a",
              "#f1d88c", "#f4bd85", "#f29e86", "#ec838e")
__all__ = ["BANDS", "DecisionMap", "Landscape", "Shading", "shade", "shade_levels"]

BANDS = 14
#: the dark ramp goes this far towards MUTE_TO (the dark surface) before it is painted
MUTE, MUTE_TO = 0.42, (13, 20, 36)
ARROWS = "→↗↑↖←↙↓↘"


def _hex(c: str) -> tuple[int, int, int]:
    return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)


def _ramp(ramp: tuple[str, ...], t: float) -> tuple[int, int, int]:
    t = min(1.0, max(0.0, t)) * (len(ramp) - 1)
    i = min(int(t), len(ramp) - 2)
    f = t - i
    a, b = _hex(ramp[i]), _hex(ramp[i + 1])
    return tuple(int(a[k] + (b[k] - a[k]) * f) for k in range(3))  # type: ignore[return-value]


def _rgbhex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


@dataclass(frozen=True)
class Shading:
    """Loss bands of a grid: ``levels[i, j]`` in 0..BANDS-1 and the loss at each band's edge.

    Bands are equal steps of ``log(1 + loss − min)`` between robust percentiles, so
    they are nearly linear in the loss over a narrow range and log-spaced over a
    wide one (``log`` says which). ``edges[b]`` is the loss where band ``b`` starts;
    ``edges[BANDS]`` is where the top band starts to saturate.
    """

    levels: Any
    edges: tuple[float, ...]
    log: bool


def shade(Z: Any) -> Shading:
    """Map loss values to bands (log-compressed, robust to outliers); NaN goes to the top."""
    import numpy as np

    Z = np.asarray(Z, dtype=float)
    finite = np.isfinite(Z)
    if not finite.any():
        return Shading(np.zeros(Z.shape, dtype=int), (0.0,) * (BANDS + 1), False)
    zmin = float(Z[finite].min())
    L = np.log1p(np.where(finite, Z - zmin, np.nan).clip(min=0))
    lo, hi = float(np.nanpercentile(L, 0.5)), float(np.nanpercentile(L, 99.0))
    if not hi > lo:
        hi = lo + 1.0
    T = np.nan_to_num((L - lo) / (hi - lo), nan=1.0).clip(0, 1)
    levels = np.minimum((T * BANDS).astype(int), BANDS - 1)
    edges = tuple([zmin] + [zmin + math.expm1(lo + b / BANDS * (hi - lo))
                            for b in range(1, BANDS + 1)])
    return Shading(levels, edges, hi > 2.0)


def shade_levels(Z: Any) -> Any:
    """Band indices 0..BANDS-1 of a loss grid (see :func:`shade`)."""
    return shade(Z).levels


def fit_box(paths: list[Any], n_params: int, current: list[tuple[float, float]]
            ) -> list[tuple[float, float]] | None:
    """Bounds around every finite point of ``paths`` (rows of parameters), a margin of
    an eighth each side; a flat extent gets a span of a tenth of ``current``'s."""
    import numpy as np

    pts = np.concatenate([p[:, :2] for p in paths])
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if not len(pts):
        return None
    box = []
    for k in range(min(2, n_params, pts.shape[1])):
        lo, hi = float(pts[:, k].min()), float(pts[:, k].max())
        span = hi - lo
        if span <= 1e-12 * max(1.0, abs(lo)):
            span = 0.1 * (current[k][1] - current[k][0])
            lo, hi = lo - span / 2, hi + span / 2
        box.append((lo - span / 8, hi + span / 8))
    return box


#: y tick labels (5 characters) and the axis line take this many columns
MARGIN = 6
#: below the plot: the x tick labels, then the colour legend
BELOW = 2


class PathPixels:
    """The pixels a path's lines paint (one colour: a set), kept from frame to frame.

    A path only grows while a run trains: :meth:`update` draws the lines the new
    points add, onto the pixels of the lines it drew before, as long as the points
    before are the same (the same view, size and subsampling); else it starts again.
    The last point is not kept as a base: a run standing still drops it next frame.
    """

    def __init__(self, box: tuple[float, float, float, float], width: int, height: int) -> None:
        self.key = (box, width, height)
        self.box, self.width, self.height = box, width, height
        self.points: list[tuple[float, float]] = []  # the points whose lines are in ``base``
        self.base: set[tuple[int, int]] = set()  # (col, prow) of those lines
        self.hits: set[tuple[int, int]] = set()  # and of the last frame's

    def update(self, pts: list[tuple[float, float]]) -> tuple[list[int], list[int]]:
        """The (cols, pixel rows) of the lines joining ``pts``, as Canvas.line paints them."""
        n = len(self.points)
        if n > len(pts) or pts[:n] != self.points:
            self.points, self.base, n = [], set(), 0
        keep = max(n, len(pts) - 1)  # every point but the last becomes the base
        self.hits = set(self.base)
        self._join(pts, max(0, n - 1), keep)
        if keep > n:
            self.base, self.points = set(self.hits), pts[:keep]
        self._join(pts, max(0, keep - 1), len(pts))
        return [c for c, _ in self.hits], [r for _, r in self.hits]

    def _join(self, pts: list[tuple[float, float]], start: int, stop: int) -> None:
        """The lines ``pts[k] → pts[k + 1]`` for ``start <= k < stop - 1``, clipped to the box."""
        for k in range(start, stop - 1):
            seg = clip_segment(pts[k], pts[k + 1], self.box)
            if seg is not None:  # rounded as the points and the minimum are
                (c0, r0), (c1, r1) = seg
                self.line((nearest(c0), nearest(r0)), (nearest(c1), nearest(r1)), None)

    def pixels(self, cols: list[int], prows: list[int], colour: Any) -> None:
        w, n = self.width, 2 * self.height
        self.hits.update((c, r) for c, r in zip(cols, prows, strict=True)
                         if 0 <= c < w and 0 <= r < n)

    def pixel(self, col: int, prow: int, colour: Any) -> None:
        self.pixels([col], [prow], colour)

    line = Canvas.line
    column = Canvas.column


class Landscape(RowRedraw, Widget):
    """Heat map (or the curve f(x) for one parameter) with axes, a loss legend and the runs.

    State arrives via :meth:`set_grid` and :meth:`show`; rendering only reads it.
    Every position on screen comes from one mapping (:meth:`plot_xy`), y up.
    """

    DEFAULT_CSS = """
    Landscape { width: 1fr; height: 1fr; }
    """

    class GridWanted(Message):
        """The plot area has a new size in pixels: the loss grid must be taken again."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.levels: Any = None  # band indices, row 0 = the TOP of the plot (highest y)
        self.shading: Shading | None = None
        self.curve: Any = None  # one parameter: (xs, f(xs))
        self.grid_size: tuple[int, int] = (0, 0)
        self.bounds: list[tuple[float, float]] = [(-1.0, 1.0), (-1.0, 1.0)]
        self.n_params = 2
        self.minimum: list[float] | None = None
        self.runs: list[dict[str, Any]] = []
        self.selected = 0
        #: zoomed on the runs: the bounds shown instead of the mission's (None: not zoomed)
        self.zoom: list[tuple[float, float]] | None = None
        self._lines: list[Strip] | None = None
        self._box: tuple[int, int, int, int] | None = None  # plot_box, fixed while drawing
        #: (key, canvas) of the map or curve, the axes and the legend: they change only
        #: with the grid, the size or the theme, the runs every frame (:meth:`_backdrop`)
        self._backdrop_drawn: tuple[Any, Canvas] | None = None
        #: run index -> the pixels of its path drawn so far (:class:`PathPixels`)
        self._paths: dict[int, PathPixels] = {}

    # ------------------------------------------------------------------ input
    def wanted_grid(self) -> tuple[int, int]:
        """(nx, ny) the mission screen should pass to sim.loss_grid: one per plot pixel."""
        _left, _top, pw, ph = self.plot_box()
        return max(2, pw), max(2, ph * 2)

    def set_grid(self, grid: tuple[Any, Any, Any], bounds: list[tuple[float, float]],
                 minimum: list[float] | None) -> None:
        """The loss grid of ``sim.loss_grid`` (Z row 0 = lowest y), its bounds, the minimum."""
        import numpy as np

        xs, _ys, Z = grid
        self.n_params = max(1, len(bounds))
        self.shading = shade(Z)
        # Z's row 0 is the lowest y (np.meshgrid of ascending ys); the screen's row 0
        # is the top, the highest y: flip once here, so every drawing below is y-up.
        self.levels = self.shading.levels[::-1]
        self.curve = (np.asarray(xs, dtype=float), np.asarray(Z, dtype=float)[0])
        self.grid_size = (self.levels.shape[1], self.levels.shape[0])
        self.bounds = list(bounds) + [(-1.0, 1.0)] * max(0, 2 - len(bounds))
        self.minimum = minimum
        self._lines = None
        self._backdrop_drawn = None
        self.refresh()

    def view_bounds(self, mission_bounds: list[tuple[float, float]]
                    ) -> list[tuple[float, float]]:
        """The bounds to ask ``sim.loss_grid`` for: the zoom if zoomed, else the mission's."""
        return list(self.zoom) if self.zoom is not None else list(mission_bounds)

    def toggle_zoom(self, paths: list[Any]) -> bool:
        """Fit the view to every path (pressed again: back to the mission's bounds).

        The box holds every finite point of ``paths`` with an eighth of its size as
        margin on each side. Returns whether the view is now zoomed; the mission
        screen then asks for the loss grid of :meth:`view_bounds`.
        """
        import numpy as np

        if self.zoom is not None:
            self.zoom = None
        else:
            pts = [np.asarray(p, dtype=float).reshape(len(p), -1) for p in paths
                   if p is not None and len(p)]
            self.zoom = fit_box(pts, self.n_params, self.bounds) if pts else None
        self.grid_size = (0, 0)  # the grid must be recomputed for the new bounds
        self.refresh()
        return self.zoom is not None

    def show(self, runs: list[dict[str, Any]], selected: int) -> None:
        self.runs = runs
        self.selected = selected
        self.redraw()

    def on_resize(self) -> None:
        self._lines = None
        if self.grid_size != self.wanted_grid():
            self.post_message(self.GridWanted())

    # ------------------------------------------------------------------ geometry
    def plot_box(self) -> tuple[int, int, int, int]:
        """(left, top, width, height) in cells of the area the map is drawn in."""
        if self._box is not None:  # while drawing: the size cannot change
            return self._box
        w, h = self.size.width, self.size.height
        if w >= 24 and h >= 7:
            return MARGIN, 0, w - MARGIN - 1, h - BELOW
        return 0, 0, w, h

    def y_range(self) -> tuple[float, float]:
        """The vertical axis: the second parameter's bounds, or the loss for one parameter."""
        if self.n_params >= 2 or self.curve is None:
            return self.bounds[1]
        import numpy as np

        f = self.curve[1][np.isfinite(self.curve[1])]
        if not len(f):
            return 0.0, 1.0
        lo, hi = float(f.min()), float(f.max())
        pad = 0.06 * (hi - lo) if hi > lo else 1.0
        return lo - pad, hi + pad

    def _vertical(self, p: Any, loss: float | None = None) -> float:
        """The plotted height of point ``p``: its y, or f(x) with one parameter."""
        if self.n_params >= 2:
            return float(p[1]) if len(p) > 1 else sum(self.bounds[1]) / 2
        if loss is not None and math.isfinite(loss):
            return float(loss)
        import numpy as np

        if self.curve is None:
            return 0.0
        return float(np.interp(float(p[0]), *self.curve))

    def plot_xy(self, p: Any, loss: float | None = None) -> tuple[float, float] | None:
        """Parameter vector -> (col, pixel row) as floats, not clipped (None if not finite)."""
        left, top, pw, ph = self.plot_box()
        (x0, x1), (y0, y1) = self.bounds[0], self.y_range()
        try:
            x, y = float(p[0]), self._vertical(p, loss)
        except (TypeError, IndexError, ValueError):
            return None
        if not (math.isfinite(x) and math.isfinite(y)) or x1 == x0 or y1 == y0:
            return None
        return (left + (x - x0) / (x1 - x0) * (pw - 1),
                2 * top + (y1 - y) / (y1 - y0) * (2 * ph - 1))

    def _to_pixel(self, p: Any) -> tuple[int, int] | None:
        """Parameter vector -> (col, pixel row) inside the plot, or None if off-plot."""
        xy = self.plot_xy(p)
        if xy is None:
            return None
        c, r = nearest(xy[0]), nearest(xy[1])
        left, top, pw, ph = self.plot_box()
        return (c, r) if left <= c < left + pw and 2 * top <= r < 2 * (top + ph) else None

    def _pixel_box(self) -> tuple[float, float, float, float]:
        left, top, pw, ph = self.plot_box()
        return left, 2 * top, left + pw - 1, 2 * (top + ph) - 1

    # ------------------------------------------------------------------ drawing
    @staticmethod
    def band_colors(dark: bool) -> list[str]:
        """One colour per loss band, alternate bands slightly darker.

        On the dark theme the ramp is toned down towards the background (MUTE), so
        the runs' bright lines and glyphs stand out on every band.
        """
        ramp = DARK_RAMP if dark else LIGHT_RAMP
        palette = []
        for b in range(BANDS):
            rgb = _ramp(ramp, b / (BANDS - 1))
            if dark:
                rgb = tuple(int(v + (w - v) * MUTE) for v, w in zip(rgb, MUTE_TO, strict=True))
            if b % 2:  # alternate bands slightly darker: contour lines for free
                rgb = tuple(int(v * 0.86) for v in rgb)  # type: ignore[assignment]
            palette.append(_rgbhex(rgb))  # type: ignore[arg-type]
        return palette

    def _ink(self, dark: bool) -> tuple[str, str]:
        """(strong, dim) text colours on this background."""
        return ("#e8f0ff", "#7f8fa8") if dark else ("#101826", "#5a6b85")

    def _build(self) -> list[Strip]:
        dark = self.app.current_theme.dark
        self._box = None
        self._box = self.plot_box()
        try:
            canvas = self._backdrop(dark).copy()
            self._draw_runs(canvas, dark)
        finally:
            self._box = None
        return self._strips(canvas)

    def _backdrop(self, dark: bool) -> Canvas:
        """The map (or curve), axes and legend, drawn once per grid, size and theme."""
        w, h = self.size.width, self.size.height
        fill = self.background_colors[1].hex
        key = (w, h, dark, fill, self.plot_box())
        if self._backdrop_drawn is None or self._backdrop_drawn[0] != key:
            canvas = Canvas(w, h, fill)
            if self.n_params >= 2:
                self._draw_map(canvas, dark)
            else:
                self._draw_curve(canvas, dark)
            if self.plot_box()[0] > 0:
                self._draw_axes(canvas, dark)
            self._backdrop_drawn = (key, canvas)
        return self._backdrop_drawn[1]

    def _draw_map(self, canvas: Canvas, dark: bool) -> None:
        """The loss bands, one grid point per pixel (nearest grid point if the size changed)."""
        import numpy as np

        left, top, pw, ph = self.plot_box()
        palette = self.band_colors(dark)
        if self.levels is not None:
            ny, nx = self.levels.shape
            rows = np.arange(2 * ph) * ny // (2 * ph)
            cols = np.arange(pw) * nx // pw
            bands = self.levels[np.ix_(rows, cols)]
        else:
            bands = np.zeros((2 * ph, pw), dtype=int)
        for r in range(ph):
            canvas.half_blocks(left, top + r, [palette[b] for b in bands[2 * r].tolist()],
                               [palette[b] for b in bands[2 * r + 1].tolist()])

    def _draw_curve(self, canvas: Canvas, dark: bool) -> None:
        """One parameter: the curve f(x) over its bounds, the area below it faintly shaded."""
        import numpy as np

        if self.curve is None:
            return
        left, top, pw, ph = self.plot_box()
        (x0, x1) = self.bounds[0]
        xs = np.linspace(x0, x1, pw)
        fx = np.interp(xs, *self.curve)
        fill = "#10213d" if dark else "#dbe7f3"
        ink = "#9fb6d6" if dark else "#38506e"
        bottom = 2 * (top + ph) - 1
        prev: tuple[int, int] | None = None
        for c, (x, f) in enumerate(zip(xs, fx, strict=True)):
            xy = self.plot_xy([x], float(f))
            if xy is None:
                prev = None
                continue
            here = (nearest(xy[0]), nearest(xy[1]))
            for r in range(max(2 * top, here[1] + 1), bottom + 1):
                canvas.pixel(left + c, r, fill)
            if prev is not None:
                canvas.line(prev, here, ink)
            prev = here

    def _draw_axes(self, canvas: Canvas, dark: bool) -> None:
        """y ticks in the left margin, x ticks below the plot, then the legend row."""
        left, top, pw, ph = self.plot_box()
        _strong, dim = self._ink(dark)
        (x0, x1), (y0, y1) = self.bounds[0], self.y_range()
        for r in range(ph):
            canvas.text(left - 1, top + r, "│", dim)
        for t, row in self._y_ticks(y0, y1, top, ph):
            canvas.text(0, row, f"{short(t):>{left - 1}}┤", dim)
        labels = []
        for t in nice_ticks(x0, x1, max(2, pw // 9)):
            labels.append((nearest(left + (t - x0) / (x1 - x0) * (pw - 1)), short(t)))
        canvas.text(0, top + ph, label_row(canvas.width, labels), dim)
        self._draw_legend(canvas, top + ph + 1, dark)

    @staticmethod
    def _y_ticks(y0: float, y1: float, top: int, ph: int) -> list[tuple[float, int]]:
        """(value, cell row) of the y ticks: as many round values as fit two rows apart."""
        for n in range(max(2, ph // 2), 1, -1):
            ticks = nice_ticks(y0, y1, n)
            rows = [nearest(2 * top + (y1 - t) / (y1 - y0) * (2 * ph - 1)) // 2
                    for t in ticks]
            if len(ticks) >= 2 and all(abs(a - b) >= 2 for a, b in zip(rows, rows[1:])):
                return list(zip(ticks, rows, strict=True))
        return [(y1, top), (y0, top + ph - 1)]  # too few rows for round values: the ends

    def _draw_legend(self, canvas: Canvas, row: int, dark: bool) -> None:
        """The colour scale in loss units (2 params), or what the curve shows (1 param)."""
        strong, dim = self._ink(dark)
        if self.n_params == 1:
            canvas.text(1, row, "curve: loss f(x) · ball: each run's x · ✚ minimum", dim)
            return
        if self.shading is None:
            return
        edges = self.shading.edges
        palette = self.band_colors(dark)
        col = 1
        canvas.text(col, row, "loss ", dim)
        col += 5
        mid = BANDS // 2
        for b in range(BANDS):
            if b in (0, mid):
                label = short(edges[b]) + " "
                canvas.text(col, row, label, strong)
                col += len(label)
            canvas.text(col, row, "█", palette[b])
            col += 1
        tail = f" {short(edges[BANDS])}+" + (" log" if self.shading.log else "")
        canvas.text(col, row, tail, strong)

    #: at most this many points of a path are joined by lines
    MAX_PATH = 400

    def _path_points(self, path: Any) -> list[tuple[float, float]]:
        """The path as pixel points (subsampled, the last point kept, non-finite dropped)."""
        import numpy as np

        n = len(path)
        step = max(1, n // self.MAX_PATH)
        idx = list(range(0, n, step))
        if idx[-1] != n - 1:
            idx.append(n - 1)
        if self.n_params < 2:
            return [xy for xy in (self.plot_xy(path[i]) for i in idx) if xy is not None]
        P = np.asarray(path, dtype=float).reshape(n, -1)[idx, :2]
        left, top, pw, ph = self.plot_box()
        (x0, x1), (y0, y1) = self.bounds[0], self.y_range()
        if x1 == x0 or y1 == y0 or P.shape[1] < 2:
            return []
        with np.errstate(all="ignore"):
            cols = left + (P[:, 0] - x0) / (x1 - x0) * (pw - 1)
            rows = 2 * top + (y1 - P[:, 1]) / (y1 - y0) * (2 * ph - 1)
        keep = np.isfinite(cols) & np.isfinite(rows)
        cols, rows = cols[keep], rows[keep]
        if len(cols) > 1:  # a run standing still: one point, not hundreds on one pixel
            moved = np.ones(len(cols), dtype=bool)
            pc, pr = np.floor(cols + 0.5 + 1e-6), np.floor(rows + 0.5 + 1e-6)  # as nearest()
            moved[1:] = (pc[1:] != pc[:-1]) | (pr[1:] != pr[:-1])
            moved[-1] = True
            cols, rows = cols[moved], rows[moved]
        return list(zip(cols.tolist(), rows.tolist(), strict=True))

    def _draw_runs(self, canvas: Canvas, dark: bool) -> None:
        """Each run's path as a connected line in its colour, then arrows, then current points.

        The selected run's path is drawn last, on top: where paths cross (or one run
        swings across the whole plot) the run the learner picked with ``s`` stays whole."""
        box = self._pixel_box()
        order = sorted(self.runs, key=lambda r: r["index"] == self.selected)  # stable
        for run in order:
            path = run.get("path")
            if path is None or not len(path):
                continue
            colour = run_style(run["index"], dark).color
            drawn = self._paths.get(run["index"])
            if drawn is None or drawn.key != (box, canvas.width, canvas.height):
                drawn = self._paths[run["index"]] = PathPixels(box, canvas.width, canvas.height)
            cols, prows = drawn.update(self._path_points(path))
            canvas.pixels(cols, prows, colour)
        if self.minimum is not None:
            px = self._to_pixel(self.minimum)
            if px is not None:
                canvas.glyph(px[0], px[1] // 2, "✚", self._ink(dark)[0])
        sel = next((r for r in self.runs if r["index"] == self.selected), None)
        if sel is not None:
            self._arrows(sel, canvas, dark)
        for run in self.runs:
            self._draw_point(run, canvas, dark, box)

    def _draw_point(self, run: dict[str, Any], canvas: Canvas, dark: bool,
                    box: tuple[float, float, float, float]) -> None:
        """The run's current point; off the plot: an arrow at the edge and its coordinates."""
        pt = run.get("point")
        if pt is None:
            return
        xy = self.plot_xy(pt)
        if xy is None:
            return
        style = run_style(run["index"], dark)
        colour = style.color
        c, r = xy
        cc, rr = min(max(c, box[0]), box[2]), min(max(r, box[1]), box[3])
        col, row = nearest(cc), nearest(rr) // 2
        if (cc, rr) == (c, r):
            # on a darkened (light theme: paler) backing of what is under it, as the
            # arrows are: the run's own path may end in that cell, in the same colour
            backing = canvas.toned(col, row, 0.35 if dark else 1.8)
            canvas.text(col, row, "✖" if run.get("diverged") else style.glyph, colour,
                        bg=backing, bold=True)
            return
        head = ARROWS[int(round(math.atan2(-(r - rr), c - cc) / (math.pi / 4))) % 8]
        canvas.glyph(col, row, head, colour)
        coords = "(" + ", ".join(short(float(v)) for v in list(pt)[:2]) + ")"
        if self.n_params == 1:
            coords = f"x={short(float(pt[0]))}"
        start = col - len(coords) - 1 if col > (box[0] + box[2]) / 2 else col + 2
        start = int(min(max(start, box[0]), box[2] + 1 - len(coords)))
        canvas.text(start, row, coords, colour, bg=canvas.fill, bold=True)

    def _arrows(self, run: dict[str, Any], canvas: Canvas, dark: bool) -> None:
        """−gradient (red) and velocity (ink) from the selected run's point, in screen units.

        Arrow cells get a darker (light theme: paler) backing of the band under them, so
        they read on every band of the map.
        """
        import numpy as np

        pt = run.get("point")
        start = self._to_pixel(pt) if pt is not None else None
        if start is None:
            return
        _left, _top, pw, ph = self.plot_box()
        err = self.app.theme_variables.get("error", "#ff4d5e")
        acc = "#ffffff" if dark else "#000000"
        for vec, color, length in ((run.get("grad"), err, 7), (run.get("velocity"), acc, 5)):
            if vec is None or len(vec) == 0:
                continue
            v = np.asarray(vec, dtype=float)[:2]
            if len(v) < 2:
                v = np.array([v[0], 0.0])
            if not np.all(np.isfinite(v)) or not np.any(v):
                continue
            # screen direction of −vec (cols grow right, pixel rows grow down)
            (x0, x1), (y0, y1) = self.bounds[0], self.bounds[1]
            dx = -v[0] / (x1 - x0) * pw
            dy = v[1] / (y1 - y0) * ph * 2 if self.n_params >= 2 else 0.0
            norm = math.hypot(dx, dy)
            if norm == 0:
                continue
            dx, dy = dx / norm, dy / norm
            head = ARROWS[int(round(math.atan2(-dy, dx) / (math.pi / 4))) % 8]
            for k in range(1, length + 1):
                px = self._to_pixel_raw(start[0] + dx * k, start[1] + dy * k)
                if px is None:
                    break
                row = px[1] // 2
                backing = canvas.toned(px[0], row, 0.35 if dark else 1.8)
                canvas.text(px[0], row, head if k == length else "•", color, bg=backing,
                            bold=k == length)

    def _to_pixel_raw(self, c: float, r: float) -> tuple[int, int] | None:
        box = self._pixel_box()
        ci, ri = nearest(c), nearest(r)
        return (ci, ri) if box[0] <= ci <= box[2] and box[1] <= ri <= box[3] else None

    @safe_render_line
    def render_line(self, y: int) -> Strip:
        if self._lines is None or len(self._lines) != self.size.height:
            self._lines = self._build()
        if 0 <= y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.size.width)
