"""Loss landscape: a shaded character heat map with contour bands, every run's
trajectory and current point, and the selected run's gradient / velocity arrows.

Rendered with Rich segments (two pixels per cell with half blocks), so a full
redraw costs a few milliseconds.  The grid itself comes from
``sim.loss_grid`` and is only recomputed when the widget changes size.
"""

from __future__ import annotations

import math
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from descent_tui.tui.theme import run_color
from descent_tui.tui.widgets.safe import safe_render_line

DARK_RAMP = ("#0a1330", "#0f2a52", "#114a6e", "#146b7e", "#23887c", "#4ea06a", "#93b252",
             "#d0b545", "#eb9a3c", "#f2703f", "#f04c5c")
LIGHT_RAMP = ("#f4f8fc", "#dcebf7", "#c3ddf0", "#a9cfe4", "#a5d0c4", "#bcdca3", "#dde29a",
              "#f1d88c", "#f4bd85", "#f29e86", "#ec838e")
BANDS = 14
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


def shade_levels(Z: Any) -> Any:
    """Map loss values to band indices 0..BANDS-1 (log-compressed, robust to outliers)."""
    import numpy as np

    Z = np.asarray(Z, dtype=float)
    finite = np.isfinite(Z)
    if not finite.any():
        return np.zeros(Z.shape, dtype=int)
    zmin = float(Z[finite].min())
    L = np.log1p(np.where(finite, Z - zmin, np.nan).clip(min=0))
    lo, hi = np.nanpercentile(L, 0.5), np.nanpercentile(L, 99.0)
    if not hi > lo:
        hi = lo + 1.0
    T = np.nan_to_num((L - lo) / (hi - lo), nan=1.0).clip(0, 1)
    return np.minimum((T * BANDS).astype(int), BANDS - 1)


class Landscape(Widget):
    """Heat map + trajectories. State arrives via :meth:`show`; render only reads it."""

    DEFAULT_CSS = """
    Landscape { width: 1fr; height: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.levels: Any = None  # (rows*2, cols) band indices for the current size
        self.grid_size: tuple[int, int] = (0, 0)
        self.bounds: list[tuple[float, float]] = [(-1.0, 1.0), (-1.0, 1.0)]
        self.minimum: list[float] | None = None
        self.runs: list[dict[str, Any]] = []
        self.selected = 0
        self._lines: list[Strip] | None = None

    # ------------------------------------------------------------------ input
    def wanted_grid(self) -> tuple[int, int]:
        """(nx, ny) the mission screen should pass to sim.loss_grid."""
        return max(2, self.size.width), max(2, self.size.height * 2)

    def set_grid(self, grid: tuple[Any, Any, Any], bounds: list[tuple[float, float]],
                 minimum: list[float] | None) -> None:
        _xs, _ys, Z = grid
        # Z's row 0 is the lowest y (np.meshgrid of ascending ys); the screen's row 0
        # is the top, the highest y: flip once here, so every drawing below is y-up.
        self.levels = shade_levels(Z)[::-1]
        self.grid_size = (self.levels.shape[1], self.levels.shape[0])
        self.bounds = list(bounds) + [(-1.0, 1.0)] * max(0, 2 - len(bounds))
        self.minimum = minimum
        self._lines = None
        self.refresh()

    def show(self, runs: list[dict[str, Any]], selected: int) -> None:
        self.runs = runs
        self.selected = selected
        self._lines = None
        self.refresh()

    def on_resize(self) -> None:
        self._lines = None

    # ------------------------------------------------------------------ geometry
    def plot_box(self) -> tuple[int, int, int, int]:
        """(left, top, width, height) in cells of the area the map is drawn in."""
        return 0, 0, self.size.width, self.size.height

    def _to_pixel(self, p: Any) -> tuple[int, int] | None:
        """Parameter vector -> (col, pixel row) in the half-block grid, or None if off-plot."""
        w, h2 = self.size.width, self.size.height * 2
        (x0, x1), (y0, y1) = self.bounds[0], self.bounds[1]
        try:
            x = float(p[0])
            y = float(p[1]) if len(p) > 1 else (y0 + y1) / 2
        except (TypeError, IndexError, ValueError):
            return None
        if not (math.isfinite(x) and math.isfinite(y)) or x1 == x0 or y1 == y0:
            return None
        c = int((x - x0) / (x1 - x0) * (w - 1) + 0.5)
        r = int((y1 - y) / (y1 - y0) * (h2 - 1) + 0.5)
        if 0 <= c < w and 0 <= r < h2:
            return c, r
        return None

    # ------------------------------------------------------------------ drawing
    @staticmethod
    def band_colors(dark: bool) -> list[str]:
        """One colour per loss band, alternate bands slightly darker."""
        ramp = DARK_RAMP if dark else LIGHT_RAMP
        palette = []
        for b in range(BANDS):
            rgb = _ramp(ramp, b / (BANDS - 1))
            if b % 2:  # alternate bands slightly darker: contour lines for free
                rgb = tuple(int(v * 0.86) for v in rgb)  # type: ignore[assignment]
            palette.append(_rgbhex(rgb))  # type: ignore[arg-type]
        return palette

    def _base_cells(self, w: int, h: int, palette: list[str]) -> list[list[list[Any]]]:
        """The loss bands as cells ``[char, fg, bg, bold]``, two grid rows per cell."""
        bg_default = palette[0]
        levels = self.levels
        have = levels is not None and self.grid_size == (w, h * 2)
        cells: list[list[list[Any]]] = []
        for row in range(h):
            line = []
            for col in range(w):
                if have:
                    top = palette[levels[2 * row, col]]
                    bot = palette[levels[2 * row + 1, col]]
                else:
                    top = bot = bg_default
                line.append(["▀", top, bot, False])
            cells.append(line)
        return cells

    def _build(self) -> list[Strip]:
        w, h = self.size.width, self.size.height
        dark = self.app.current_theme.dark
        cells = self._base_cells(w, h, self.band_colors(dark))

        def put(px: tuple[int, int] | None, char: str, color: str, bold: bool = False) -> None:
            if px is None:
                return
            c, r = px
            cell = cells[r // 2][c]
            cell[0], cell[1], cell[3] = char, color, bold
            # keep the background of the half that is not covered
            cell[2] = cell[2]

        ink = "#ffffff" if dark else "#000000"
        if self.minimum is not None:
            put(self._to_pixel(self.minimum), "✚", ink, True)
        for run in self.runs:
            color = run_color(run["index"], dark)
            path = run.get("path")
            if path is not None and len(path):
                step = max(1, len(path) // 400)
                for p in path[::step]:
                    put(self._to_pixel(p), "·", color)
        sel = next((r for r in self.runs if r["index"] == self.selected), None)
        if sel is not None:
            self._arrows(sel, put, dark)
        for run in self.runs:
            color = run_color(run["index"], dark)
            pt = run.get("point")
            if pt is not None:
                mark = "✖" if run.get("diverged") else ("◉" if run["index"] == self.selected
                                                        else "●")
                put(self._to_pixel(pt), mark, color, True)
        strips = []
        for line in cells:
            segs = [Segment(ch, Style(color=fg, bgcolor=bg, bold=bold)) for ch, fg, bg, bold
                    in line]
            strips.append(Strip(segs, w))
        return strips

    def _arrows(self, run: dict[str, Any], put: Any, dark: bool) -> None:
        import numpy as np

        pt = run.get("point")
        start = self._to_pixel(pt) if pt is not None else None
        if start is None:
            return
        err = self.app.theme_variables.get("error", "#ff4d5e")
        acc = "#ffffff" if dark else "#000000"
        for vec, color, length, sign in ((run.get("grad"), err, 7, -1.0),
                                         (run.get("velocity"), acc, 5, -1.0)):
            if vec is None or len(vec) == 0:
                continue
            v = np.asarray(vec, dtype=float)[:2]
            if len(v) < 2:
                v = np.array([v[0], 0.0])
            if not np.all(np.isfinite(v)) or not np.any(v):
                continue
            # screen direction (cols grow right, rows grow down; 1 col ≈ 1 pixel row)
            (x0, x1), (y0, y1) = self.bounds[0], self.bounds[1]
            dx = sign * v[0] / (x1 - x0) * self.size.width
            dy = -sign * v[1] / (y1 - y0) * self.size.height * 2
            norm = math.hypot(dx, dy)
            if norm == 0:
                continue
            dx, dy = dx / norm, dy / norm
            c0, r0 = start
            for k in range(1, length + 1):
                c, r = int(round(c0 + dx * k)), int(round(r0 + dy * k))
                if not (0 <= c < self.size.width and 0 <= r < self.size.height * 2):
                    break
                ang = math.atan2(-dy, dx)
                head = ARROWS[int(round(ang / (math.pi / 4))) % 8]
                put((c, r), head if k == length else "•", color, k == length)

    @safe_render_line
    def render_line(self, y: int) -> Strip:
        if self._lines is None or len(self._lines) != self.size.height:
            self._lines = self._build()
        if 0 <= y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.size.width)


CLASS_COLORS_DARK = ("#1d4f8c", "#b8612a", "#3d8c4a", "#8c3d7a", "#8c8a2e", "#2e8c8a")
CLASS_COLORS_LIGHT = ("#9cc3ee", "#f3b98f", "#a6dcae", "#e3a9d6", "#e8e29a", "#9fe0dd")


class DecisionMap(Widget):
    """Decision boundary of a 2-D classifier: predicted class / P(class 1) per pixel."""

    DEFAULT_CSS = """
    DecisionMap { width: 1fr; height: 1fr; }
    """

    #: one glyph per class, so a point on the wrong side of the boundary stands out
    GLYPHS = "○●◆▲■▼◇△"
    MAX_POINTS = 80

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.grid: Any = None
        self.points: Any = None  # (X, labels) of the training data, subsampled
        self._lines: list[Strip] | None = None

    def set_points(self, X: Any, y: Any) -> None:
        """The training points to draw over the map (at most MAX_POINTS of them)."""
        import numpy as np

        X = np.asarray(X, dtype=float)
        labels = np.asarray(y).reshape(len(X), -1)[:, 0].astype(int)
        step = max(1, len(X) // self.MAX_POINTS)
        self.points = (X[::step], labels[::step])
        self._lines = None
        self.refresh()

    def wanted_n(self) -> int:
        return max(8, min(self.size.width, self.size.height * 2, 60))

    def show(self, grid: Any) -> None:
        self.grid = grid
        self._lines = None
        self.refresh()

    def on_resize(self) -> None:
        self._lines = None

    def _color(self, v: float, binary: bool, dark: bool) -> str:
        classes = CLASS_COLORS_DARK if dark else CLASS_COLORS_LIGHT
        if not math.isfinite(v):
            return "#000000" if dark else "#ffffff"
        if binary:
            a, b = _hex(classes[0]), _hex(classes[1])
            t = min(1.0, max(0.0, v))
            # sharpen around 0.5 so the boundary is visible
            t = 0.5 + (t - 0.5) * 1.6
            t = min(1.0, max(0.0, t))
            rgb = tuple(int(a[k] + (b[k] - a[k]) * t) for k in range(3))
            if abs(v - 0.5) < 0.04:
                rgb = (240, 240, 240) if dark else (40, 40, 40)
            return _rgbhex(rgb)  # type: ignore[arg-type]
        return classes[int(v) % len(classes)]

    def _build(self) -> list[Strip]:
        import numpy as np

        w, h = self.size.width, self.size.height
        dark = self.app.current_theme.dark
        if self.grid is None:
            return [Strip.blank(w) for _ in range(h)]
        _xs, _ys, P = self.grid
        P = np.asarray(P, dtype=float)
        n_y, n_x = P.shape
        finite = P[np.isfinite(P)]
        binary = finite.size == 0 or (finite.min() >= 0 and finite.max() <= 1
                                      and not np.all(np.mod(finite, 1) == 0))
        if finite.size and np.all(np.mod(finite, 1) == 0) and finite.max() <= 1:
            binary = True
        strips = []
        for row in range(h):
            segs = []
            for col in range(w):
                j = min(n_x - 1, col * n_x // max(1, w))
                top_i = n_y - 1 - min(n_y - 1, (2 * row) * n_y // max(1, 2 * h))
                bot_i = n_y - 1 - min(n_y - 1, (2 * row + 1) * n_y // max(1, 2 * h))
                top = self._color(P[top_i, j], binary, dark)
                bot = self._color(P[bot_i, j], binary, dark)
                segs.append(Segment("▀", Style(color=top, bgcolor=bot)))
            strips.append(segs)
        self._draw_points(strips, w, h, dark)
        return [Strip(segs, w) for segs in strips]

    def _draw_points(self, rows: list[list[Segment]], w: int, h: int, dark: bool) -> None:
        if self.points is None or self.grid is None:
            return
        xs, ys, _P = self.grid
        X, labels = self.points
        x0, x1, y0, y1 = float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1])
        if not (x1 > x0 and y1 > y0):
            return
        for (px, py), label in zip(X, labels):
            col = int((px - x0) / (x1 - x0) * (w - 1) + 0.5)
            row = int((y1 - py) / (y1 - y0) * (h - 1) + 0.5)
            if 0 <= col < w and 0 <= row < h:
                under = rows[row][col].style
                bg = under.bgcolor if under is not None else None
                # dark ink on a light cell, light ink on a dark one
                light = bg is not None and bg.triplet is not None and \
                    sum(bg.triplet) / 3 > 140
                ink = "#000000" if light else "#ffffff"
                rows[row][col] = Segment(self.GLYPHS[label % len(self.GLYPHS)],
                                         Style(color=ink, bgcolor=bg, bold=True))

    @safe_render_line
    def render_line(self, y: int) -> Strip:
        if self._lines is None or len(self._lines) != self.size.height:
            self._lines = self._build()
        if 0 <= y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.size.width)
