"""The Lab's network picture: every unit as a small map, every weight as a line.

TensorFlow Playground's middle panel, in a terminal. Columns from left to right:
the input features, each hidden layer, the output. Each unit is a tile showing
its output over the input plane (half-block pixels, x → and y ↑ as in the
decision map; one colour scale per column, as in the unit view). Between two
columns every weight ``W[j, i]`` (unit ``i`` → unit ``j``) is a line:

* its colour is the weight's sign: orange positive, blue negative (the legend
  under the picture says so), fading to the background as the weight shrinks;
* its character is the weight's size against the largest in that layer:
  ``━`` / bold diagonals above ⅔, ``─`` ``╱`` ``╲`` above ⅓, dotted ``┄`` ``·`` below.

Lines are drawn weakest first, so the strong ones lie on top. When the space
between two columns is too small for every line (few columns, many units) only
the :data:`CRAMPED_KEEP` strongest lines into each unit are drawn, and the
legend says so; when a column has more units than rows, the first ones are
shown and ``+k`` counts the rest.

:func:`network_picture` takes what is drawn from a run (evaluation only: the
run is not changed); :meth:`NetworkView.show` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from descent_tui.tui.widgets.canvas import HALF
from descent_tui.tui.widgets.safe import safe_render_line
from descent_tui.tui.widgets.step_chart import ink
from descent_tui.tui.widgets.units import DEAD, RAMPS, SAT, palette, value_range

__all__ = ["CRAMPED_KEEP", "NetworkPicture", "NetworkView", "connection_glyph",
           "network_picture"]

#: lines kept into each unit when the picture is cramped
CRAMPED_KEEP = 2
#: the room between two columns the tiles leave, when they can (cells)
GAP = 10
#: the least room between two columns when the picture is narrow (the tiles go first)
MIN_GAP = 5
#: tiles narrower than this take room from the gaps, down to MIN_GAP (cells)
MIN_TILE = 6
#: pixels per side of the maps network_picture evaluates
GRID = 24
#: the display names of the input features
NAMES = {"x1": "x₁", "x2": "x₂", "x1^2": "x₁²", "x2^2": "x₂²", "x1*x2": "x₁x₂",
         "sin(x1)": "sin x₁", "sin(x2)": "sin x₂"}


@dataclass(frozen=True)
class Column:
    """One column of units: ``maps[k]`` is unit k over the plane (``(n, n)``, row 0 the
    lowest y) or None; ``weights`` (units × units of the column before) feed it."""

    title: str
    names: list[str]
    maps: np.ndarray | None
    lo: float
    hi: float
    weights: np.ndarray | None = None
    marks: tuple[str, ...] = ()


@dataclass(frozen=True)
class NetworkPicture:
    """The columns of a run's network, inputs first (see the module docstring)."""

    columns: list[Column]
    run_label: str = ""


@lru_cache(maxsize=256)
def _palette(lo: float, hi: float, dark: bool) -> tuple[str, ...]:
    """:func:`~descent_tui.tui.widgets.units.palette`, kept (a tanh column's never changes)."""
    return tuple(palette(lo, hi, dark))


def _grid(raw: np.ndarray, n: int) -> np.ndarray:
    """The padded ``n × n`` grid over the data's box (as the decision map), row-major from
    the lowest y."""
    lo, hi = raw.min(axis=0), raw.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-9)
    gx, gy = np.meshgrid(np.linspace(lo[0] - pad[0], hi[0] + pad[0], n),
                         np.linspace(lo[1] - pad[1], hi[1] + pad[1], n))
    return np.column_stack([gx.ravel(), gy.ravel()])


def _sym(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    m = float(np.abs(finite).max()) if finite.size else 1.0
    return -(m or 1.0), m or 1.0


def network_picture(run: Any, layers: list[Any], inputs: list[str] | None,
                    knocked: set[tuple[int, int]] = frozenset()) -> NetworkPicture:  # type: ignore[assignment]
    """The picture of ``run``: ``layers`` from :func:`~descent_tui.sim.units.unit_grids`,
    ``inputs`` the feature names (None: the raw columns), ``knocked`` (layer, unit) pairs."""
    from descent_tui.engine import no_grad

    X = run.problem.data["X"]
    names = [NAMES.get(f, f) for f in inputs] if inputs is not None else \
        [f"x{i + 1}" for i in range(X.shape[1])]
    raw = run.problem.plane if inputs is not None else X
    feats = out = None
    if raw.shape[1] == 2:
        n = layers[0].values.shape[-1] if layers and layers[0].over == "plane" else GRID
        pts = _grid(raw, n)
        feats = run.problem.features(pts)
        with np.errstate(all="ignore"), no_grad():
            out = run.forward(feats).data
        feats = feats.T.reshape(-1, n, n)
        out = np.tanh(out.T.reshape(-1, n, n))
    cols = [Column("in", names, feats, *(_sym(feats) if feats is not None else (-1, 1)))]
    for li, layer in enumerate(layers):
        marks = tuple("knocked" if (li, j) in knocked else "dead" if layer.dead[j] else
                      "sat" if layer.saturated[j] else "" for j in range(len(layer.bias)))
        maps = layer.values if layer.over == "plane" else None
        cols.append(Column(layer.activation,
                           [f"u{j + 1}" for j in range(len(layer.bias))], maps,
                           *value_range(layer), weights=layer.weights, marks=marks))
    w_out = run.linears[-1].weight.data.copy()
    cols.append(Column("out", [f"ŷ{k + 1}" if len(w_out) > 1 else "ŷ"
                                  for k in range(len(w_out))], out, -1.0, 1.0, weights=w_out))
    return NetworkPicture(cols)


def connection_glyph(strength: float, slope: float) -> tuple[str, bool]:
    """``(character, bold)`` of one cell of a line: ``strength`` in [0, 1] of the layer's
    largest weight, ``slope`` rows per column (positive: going down)."""
    flat = abs(slope) < 0.5
    if strength > 2 / 3:
        return ("━" if flat else "╲" if slope > 0 else "╱"), True
    if strength > 1 / 3:
        return ("─" if flat else "╲" if slope > 0 else "╱"), False
    return ("┄" if flat else "·"), False


@dataclass(frozen=True)
class Layout:
    """Where things go: tile size, the left edge of each column, rows of the units shown."""

    tile_w: int
    tile_h: int
    xs: list[int]
    rows: list[list[int]]
    cramped: bool


def layout(picture: NetworkPicture, width: int, height: int) -> Layout:
    """Tiles as large as fit (square in pixels, up to 6 rows) with :data:`GAP` cells
    between columns (as little as :data:`MIN_GAP` for tiles up to :data:`MIN_TILE`
    wide on a narrow picture), columns spread evenly, each column's units centred
    vertically in ``height`` rows (after a header row)."""
    cols = picture.columns
    label = max(len(n) for n in cols[0].names) + 1
    avail = max(1, height - 1)
    most = max(len(c.names) for c in cols)
    tile_h = max(1, min(6, (avail + 1) // most - 1))
    gap_v = 1 if (tile_h + 1) * most - 1 <= avail else 0
    def widest(gap: int) -> int:
        return max(2, min(2 * tile_h, (width - label - gap * (len(cols) - 1)) // len(cols)))

    tile_w = widest(GAP)
    if tile_w < MIN_TILE:
        tile_w = max(tile_w, min(MIN_TILE, widest(MIN_GAP)))
    tile_h = min(tile_h, max(1, (tile_w + 1) // 2))
    gap = max(1, (width - label - tile_w * len(cols)) // max(1, len(cols) - 1))
    xs = [label + k * (tile_w + gap) for k in range(len(cols))]
    rows = []
    for c in cols:
        fit = max(1, (avail + gap_v) // (tile_h + gap_v))
        shown = min(len(c.names), fit)
        span = shown * (tile_h + gap_v) - gap_v
        top = 1 + max(0, (avail - span) // 2)
        rows.append([top + k * (tile_h + gap_v) for k in range(shown)])
    lines = max((len(a.names) * len(b.names) for a, b in zip(cols, cols[1:], strict=False)),
                default=0)
    cramped = gap < 6 or lines * 3 > gap * avail
    return Layout(tile_w, tile_h, xs, rows, cramped)


class Cells:
    """``width × height`` cells in four flat row-major lists: character, foreground,
    background, bold (colours ``#rrggbb``). A blank frame is four list copies; the
    :class:`~descent_tui.tui.widgets.canvas.Canvas` keeps a list per cell, and
    allocating those thousands of lists each frame was most of the paint's time (and
    its collector pauses)."""

    def __init__(self, width: int, height: int, fill: str | None) -> None:
        self.width, self.height = width, height
        n = width * height
        self.ch: list[str] = [" "] * n
        self.fg: list[str | None] = [fill] * n
        self.bg: list[str | None] = [fill] * n
        self.bold: list[bool] = [False] * n

    def text(self, col: int, row: int, s: str, fg: str | None, bold: bool = False) -> None:
        """Write ``s`` from ``col`` on (cut at the edges); each cell keeps its background."""
        if not 0 <= row < self.height:
            return
        for k, c in enumerate(s):
            if 0 <= col + k < self.width:
                i = row * self.width + col + k
                self.ch[i], self.fg[i], self.bold[i] = c, fg, bold

    def strips(self, styles: dict[tuple[Any, Any, bool], Style]) -> list[Strip]:
        """The cells as strips: one segment per run of cells of one style (``styles``
        keeps the Rich Styles between frames)."""
        w, ch, fg, bg, bold = self.width, self.ch, self.fg, self.bg, self.bold
        out = []
        for start in range(0, w * self.height, w):
            segs = []
            run = start
            for i in range(start + 1, start + w + 1):
                if i < start + w and fg[i] == fg[run] and bg[i] == bg[run] and \
                        bold[i] == bold[run]:
                    continue
                key = (fg[run], bg[run], bold[run])
                style = styles.get(key)
                if style is None:
                    style = styles[key] = Style(color=key[0], bgcolor=key[1], bold=key[2])
                segs.append(Segment("".join(ch[run:i]), style))
                run = i
            out.append(Strip(segs, w))
        return out


@lru_cache(maxsize=4096)
def _line_cells(a: tuple[int, int], b: tuple[int, int], width: int, height: int
                ) -> tuple[tuple[int, ...], float]:
    """The cells (flat indices inside ``width × height``) of the line from cell ``a`` to
    cell ``b``, one or more a column, and its slope (rows per column): kept, since a
    line's cells change only with the layout."""
    (x0, y0), (x1, y1) = a, b
    slope = (y1 - y0) / max(1, x1 - x0)
    cells = []
    for x in range(x0, x1 + 1):
        ya = y0 + (x - x0) * slope
        yb = ya + slope if x < x1 else ya
        for y in range(round(min(ya, yb)), round(max(ya, yb)) + 1):
            if 0 <= x < width and 0 <= y < height:
                cells.append(y * width + x)
    return tuple(cells), slope


@lru_cache(maxsize=256)
def _samples(n: int, tile_w: int, tile_h: int) -> tuple[np.ndarray, np.ndarray]:
    """Which rows (top = highest y) and columns of an ``n × n`` map a tile shows."""
    return (np.linspace(n - 1, 0, 2 * tile_h).round().astype(int),
            np.linspace(0, n - 1, tile_w).round().astype(int))


class NetworkView(Widget):
    """``show(picture)``: a :class:`NetworkPicture`; ``selected`` = (hidden layer, unit) marked ▸."""

    DEFAULT_CSS = """
    NetworkView { width: 1fr; height: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.picture: NetworkPicture | None = None
        self.selected: tuple[int, int] | None = None
        self._lines: list[Strip] | None = None
        #: a Rich Style per (fg, bg, bold) seen, kept between frames (colours repeat)
        self._styles: dict[tuple[Any, Any, bool], Style] = {}

    def show(self, picture: NetworkPicture | None) -> None:
        self.picture = picture
        self._lines = None
        self.refresh()

    def on_resize(self) -> None:
        self._lines = None

    def _build(self) -> list[Strip]:
        w, h = self.size.width, self.size.height
        dark = self.app.current_theme.dark
        cells = Cells(w, h, self.background_colors[1].hex)
        pic = self.picture
        if pic is None or w < 12 or h < 4:
            cells.text(0, 0, "(the network: more room needed)", ink(dark)[1])
            return self._strips(cells)
        lay = layout(pic, w, h - 1)
        for k in range(1, len(pic.columns)):
            self._draw_lines(cells, pic, lay, k, dark)
        for k, col in enumerate(pic.columns):
            self._draw_column(cells, col, lay, k, dark)
        self._draw_legend(cells, lay, h - 1, dark)
        return self._strips(cells)

    def _strips(self, cells: Cells) -> list[Strip]:
        """The cells as strips, with the Styles of earlier frames reused."""
        if len(self._styles) > 8192:
            self._styles.clear()
        return cells.strips(self._styles) if cells.width else \
            [Strip.blank(0)] * cells.height

    def _draw_lines(self, cells: Cells, pic: NetworkPicture, lay: Layout, k: int,
                    dark: bool) -> None:
        """The weights into column ``k``, weakest first (the strongest CRAMPED_KEEP per unit
        when cramped)."""
        W = pic.columns[k].weights
        if W is None or not W.size:
            return
        rows_in, rows_out = lay.rows[k - 1], lay.rows[k]
        W = W[:len(rows_out), :len(rows_in)]
        wmax = float(np.nanmax(np.abs(W))) if W.size else 0.0
        if not wmax > 0 or not np.isfinite(wmax):
            return
        keep = np.ones(W.shape, dtype=bool)
        if lay.cramped and W.shape[1] > CRAMPED_KEEP:
            order = np.argsort(-np.abs(np.nan_to_num(W)), axis=1)[:, :CRAMPED_KEEP]
            keep[:] = False
            np.put_along_axis(keep, order, True, axis=1)
        x0, x1 = lay.xs[k - 1] + lay.tile_w, lay.xs[k] - 1
        if x1 < x0:
            return
        mid = lay.tile_h // 2
        colours = _palette(-1.0, 1.0, dark)
        top = len(colours) - 1
        ch, fg, bold = cells.ch, cells.fg, cells.bold
        weights, keep_flat = W.ravel().tolist(), keep.ravel().tolist()
        for flat in np.argsort(np.abs(np.nan_to_num(W)), axis=None).tolist():
            w = weights[flat]
            if not keep_flat[flat] or not np.isfinite(w):
                continue
            j, i = divmod(flat, W.shape[1])
            line, slope = _line_cells((x0, rows_in[i] + mid), (x1, rows_out[j] + mid),
                                      cells.width, cells.height)
            colour = colours[round((max(-1.0, min(1.0, w / wmax)) + 1) / 2 * top)]
            char, strong = connection_glyph(abs(w) / wmax, slope)
            for c in line:
                ch[c], fg[c], bold[c] = char, colour, strong

    def _draw_column(self, cells: Cells, col: Column, lay: Layout, k: int,
                     dark: bool) -> None:
        strong, dim = ink(dark)
        x = lay.xs[k]
        room = lay.xs[1] - lay.xs[0] - 1 if len(lay.xs) > 1 else lay.tile_w
        title = col.title[:max(1, min(lay.tile_w + 4, room))]
        cells.text(max(0, min(cells.width - len(title), x + (lay.tile_w - len(title)) // 2)),
                   0, title, dim)
        if col.maps is not None:
            self._draw_maps(cells, col, x, lay, lay.rows[k], dark)
        for u, row in enumerate(lay.rows[k]):
            if col.maps is None:
                cells.text(x, row, "▒" * lay.tile_w, dim)
            mark = col.marks[u] if u < len(col.marks) else ""
            name = col.names[u]
            if k == 0:
                cells.text(0, row + lay.tile_h // 2, name, strong)
            elif mark or (k - 1, u) == self.selected or lay.tile_h >= 3:
                colour = {"dead": DEAD, "knocked": DEAD, "sat": SAT}.get(mark, strong)
                sel = "▸" if (k - 1, u) == self.selected else ""
                text = sel + ("✕" if mark == "knocked" else "") + name
                cells.text(x, row, text[:lay.tile_w], colour, bold=bool(sel or mark))
        hidden = len(col.names) - len(lay.rows[k])
        if hidden > 0:
            cells.text(x, lay.rows[k][-1] + lay.tile_h, f"+{hidden}"[:lay.tile_w + 2], dim)

    @staticmethod
    def _draw_maps(cells: Cells, col: Column, x: int, lay: Layout, rows: list[int],
                   dark: bool) -> None:
        """The column's unit maps in their tiles (two pixel rows a cell; the top row is the
        highest y), every tile's colours in one array operation."""
        assert col.maps is not None
        colours = _palette(col.lo, col.hi, dark)
        lo, hi = col.lo, col.hi
        ri, ci = _samples(col.maps.shape[-1], lay.tile_w, lay.tile_h)
        with np.errstate(all="ignore"):
            t = np.clip((col.maps[:len(rows)][:, ri][:, :, ci] - lo) /
                        (hi - lo if hi > lo else 1.0), 0, 1)
        idx = np.round(np.nan_to_num(t) * (len(colours) - 1)).astype(int).tolist()
        n = min(lay.tile_w, cells.width - x)
        if n <= 0:
            return
        for tile, row in zip(idx, rows, strict=False):
            for r in range(min(lay.tile_h, cells.height - row)):
                a = (row + r) * cells.width + x
                cells.ch[a:a + n] = [HALF] * n
                cells.fg[a:a + n] = [colours[v] for v in tile[2 * r][:n]]
                cells.bg[a:a + n] = [colours[v] for v in tile[2 * r + 1][:n]]
                cells.bold[a:a + n] = [False] * n

    def _draw_legend(self, cells: Cells, lay: Layout, row: int, dark: bool) -> None:
        neg, _mid, pos = RAMPS[dark]
        dim = ink(dark)[1]
        wide = cells.width >= 44
        parts: list[tuple[str, str | None, bool]] = [
            ("weights " if wide else "", dim, False), ("━ +", pos, True), (" ", dim, False),
            ("━ −", neg, True),
            ("  ━ strong ─ mid ┄ weak" if wide else " ━>─>┄", dim, False)]
        if lay.cramped and wide:
            parts.append((f" · {CRAMPED_KEEP} strongest into each unit", dim, False))
        col = 0
        for text, colour, bold in parts:
            cells.text(col, row, text, colour, bold=bold)
            col += len(text)

    @safe_render_line
    def render_line(self, y: int) -> Strip:
        if self._lines is None or len(self._lines) != self.size.height:
            self._lines = self._build()
        if 0 <= y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.size.width)
