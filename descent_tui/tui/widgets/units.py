"""The unit view: every hidden unit of the selected run, TensorFlow-Playground style.

Each hidden layer is a band of tiles, one tile per unit:

* the unit's output as a small map over the 2-D input plane (half-block pixels,
  x → and y ↑ as in the decision map), or, when the inputs are not 2-D, its
  output on each training sample, filled row by row;
* a row of cells shading its incoming weights (blue negative, orange positive,
  one scale per layer), or the weights written out when there are two;
* its name and marks: ``dead`` (a ReLU that fires on no training sample),
  ``sat`` (sigmoid / tanh outputs stuck near a bound), ``=uK`` (the same incoming
  weights and bias as unit K, so the same output: zero or constant
  initialisation never breaks that tie).

One colour scale per layer (tanh −1..1, sigmoid 0..1, ReLU 0..the layer's
largest output), so identical units look identical. When the layers do not fit,
the first and the last are kept (the comparison that matters) around a ⋮ line.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from textual.strip import Strip
from textual.widget import Widget

from descent_tui.tui.widgets.canvas import Canvas
from descent_tui.tui.widgets.redraw import RowRedraw
from descent_tui.tui.widgets.safe import safe_render_line
from descent_tui.tui.widgets.step_chart import ink

if TYPE_CHECKING:
    from descent_tui.sim.units import UnitLayer

__all__ = ["UnitView", "duplicates", "shades", "value_range"]

RAMPS = {True: ("#3b82e6", "#18213a", "#f29a3a"), False: ("#2a66c9", "#eef1f6", "#dd7416")}
DEAD, SAT = "#ff4d5e", "#ffcc4d"
MIN_TILE = 2
#: two units count as twins when they agree to this relative (and absolute) tolerance
TWIN_RTOL, TWIN_ATOL = 1e-9, 1e-12
#: colours in a map's palette
PALETTE = 33


def _mix(a: str, b: str, t: float) -> str:
    ca = [int(a[i:i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i:i + 2], 16) for i in (1, 3, 5)]
    return "#{:02x}{:02x}{:02x}".format(*(int(x + (y - x) * t) for x, y in zip(ca, cb,
                                                                                 strict=True)))


def shade(v: float, lo: float, hi: float, dark: bool) -> str:
    """Blue below the middle of ``[lo, hi]``, orange above (0 in the middle for tanh, weights)."""
    neg, mid, pos = RAMPS[dark]
    if not math.isfinite(v):
        return DEAD
    if lo < 0 < hi:
        t = v / hi if v > 0 else v / lo
        return _mix(mid, pos, min(1.0, t)) if v > 0 else _mix(mid, neg, min(1.0, t))
    t = (v - lo) / (hi - lo) if hi > lo else 0.0
    return _mix(mid, pos, min(1.0, max(0.0, t)))


def shades(values: Any, lo: float, hi: float, dark: bool) -> list[str]:
    """``[shade(v, lo, hi, dark) for v in values]``, for an array at once."""
    neg, mid, pos = (np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)]) for c in RAMPS[dark])
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    with np.errstate(all="ignore"):
        if lo < 0 < hi:
            up = v > 0
            t = np.minimum(1.0, np.where(up, v / hi, v / lo))
            end = np.where(up[:, None], pos, neg)
        else:
            t = (v - lo) / (hi - lo) if hi > lo else np.zeros_like(v)
            t = np.minimum(1.0, np.maximum(0.0, t))
            end = pos[None, :]
        rgb = (mid + (end - mid) * np.where(ok, t, 0.0)[:, None]).astype(int)
    # t is in [0, 1], so each channel is between mid's and end's: one byte
    packed = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    return [f"#{c:06x}" if good else DEAD
            for c, good in zip(packed.tolist(), ok.tolist(), strict=True)]


def value_range(layer: UnitLayer) -> tuple[float, float]:
    """The colour scale of a layer's outputs (shared by all its units)."""
    if layer.activation == "tanh":
        return -1.0, 1.0
    if layer.activation == "sigmoid":
        return 0.0, 1.0
    vals = layer.values[np.isfinite(layer.values)]
    lo = float(vals.min()) if vals.size else 0.0
    hi = float(vals.max()) if vals.size else 1.0
    if lo < 0 < hi:
        m = max(-lo, hi)
        return -m, m
    return min(lo, 0.0), hi if hi > 0 else 1.0


def duplicates(layer: UnitLayer) -> list[int | None]:
    """For each unit, the first earlier unit with the same incoming weights and bias (or None).

    Two such units compute the same function of the layer below, so their outputs
    (and maps) are the same too. "The same" is up to rounding (:data:`TWIN_RTOL`),
    not bit for bit: a matrix product may round two equal columns differently.
    """
    n = len(layer.weights)
    sig = np.column_stack([layer.weights.reshape(n, -1), layer.bias.reshape(n, 1)])
    with np.errstate(all="ignore"):
        close = (np.abs(sig[:, None, :] - sig[None, :, :])
                 <= TWIN_ATOL + TWIN_RTOL * np.abs(sig[:, None, :])).all(axis=2)
    close &= np.tri(n, k=-1, dtype=bool)  # only earlier units: close[j, k] with k < j
    first = close.argmax(axis=1)
    return [int(first[j]) if close[j, first[j]] else None for j in range(n)]


def palette(lo: float, hi: float, dark: bool, steps: int = PALETTE) -> list[str]:
    """``steps`` colours of :func:`shade` from ``lo`` to ``hi`` (a lookup for many pixels)."""
    return shades(lo + (hi - lo) * np.arange(steps) / (steps - 1), lo, hi, dark)


@lru_cache(maxsize=64)
def _palette(lo: float, hi: float, dark: bool) -> tuple[str, ...]:
    """:func:`palette`, kept: a tanh or sigmoid layer's scale never changes."""
    return tuple(palette(lo, hi, dark))


def _draw_maps(canvas: Canvas, maps: Any, row: int, period: int) -> None:
    """Unit ``j``'s map (``maps[j]``, from :meth:`UnitView._pixels`) from column
    ``j * period`` on, two pixel rows a cell, down from ``row`` (every tile fits the
    width whole)."""
    units, ph, _tile = maps.shape
    for rr in range(ph // 2):
        if row + rr >= canvas.height:
            return
        uppers, lowers = maps[:, 2 * rr].tolist(), maps[:, 2 * rr + 1].tolist()
        for j in range(units):
            canvas.half_blocks(j * period, row + rr, uppers[j], lowers[j])


def fit_label(candidates: list[str], width: int) -> str | None:
    """The first of ``candidates`` that fits in ``width`` cells whole (None: none does)."""
    return next((c for c in candidates if len(c) <= width), None)


class UnitView(RowRedraw, Widget):
    """``show(layers, run_label)``: the :class:`~descent_tui.sim.units.UnitLayer` list of a run."""

    DEFAULT_CSS = """
    UnitView { width: 1fr; height: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.unit_layers: list[UnitLayer] = []
        self.twins: list[list[int | None]] = []  # duplicates() of each layer
        self.run_label = ""
        #: (layer name, unit index) marked ``▸`` (the Lab's selected unit), or None
        self.selected: tuple[str, int] | None = None
        self._lines: list[Strip] | None = None

    def show(self, layers: list[UnitLayer], run_label: str) -> None:
        self.unit_layers = layers
        self.twins = [duplicates(layer) for layer in layers]
        self.run_label = run_label
        self.redraw()  # only the rows that changed are repainted

    def on_resize(self) -> None:
        self._lines = None

    def wanted_n(self) -> int:
        """The grid side to ask :func:`~descent_tui.sim.units.unit_grids` for."""
        return 24

    # ------------------------------------------------------------------ layout
    def _geometry(self) -> tuple[int, int, int, list[int | None]]:
        """(tile width, map rows, extra rows per tile, layer indices shown; None = ⋮).

        Every layer with maps of at least 2 rows if they fit; else the first and
        last layers with such maps around a ⋮ line; else every layer, one row each.
        """
        w, h = self.size.width, self.size.height
        n = len(self.unit_layers)
        units = max(len(layer.values) for layer in self.unit_layers)
        tile = max(MIN_TILE, min(14, (w + 1) // units - 1))
        options = [(m, e) for m in range(max(2, tile // 2), 1, -1) for e in (2, 1)]
        for map_rows, extra in options:
            if h // (1 + map_rows + extra) >= n:
                return tile, map_rows, extra, list(range(n))
        for map_rows, extra in options:
            fit = (h - 1) // (1 + map_rows + extra)
            if 2 <= fit < n:
                head = (fit + 1) // 2
                tail = list(range(n - (fit - head), n))
                return tile, map_rows, extra, [*range(head), None, *tail]
        for map_rows, extra in ((1, 1), (1, 0)):
            if h // (1 + map_rows + extra) >= n:
                return tile, map_rows, extra, list(range(n))
        fit = max(2, (h - 1) // 2)
        if fit >= n:
            return tile, 1, 0, list(range(n))
        head = (fit + 1) // 2
        return tile, 1, 0, [*range(head), None, *range(n - (fit - head), n)]

    def _build(self) -> list[Strip]:
        w, h = self.size.width, self.size.height
        dark = self.app.current_theme.dark
        canvas = Canvas(w, h, self.background_colors[1].hex)
        if not self.unit_layers:
            canvas.text(0, 0, "No hidden layer to show.", ink(dark)[1])
            return self._strips(canvas)
        tile, map_rows, extra, shown = self._geometry()
        row = 0
        for i in shown:
            if row >= h:
                break
            if i is None:
                canvas.text(0, row, "⋮ (middle layers: more rows needed)", ink(dark)[1])
                row += 1
                continue
            row = self._draw_layer(canvas, i, row, tile, map_rows, extra, dark)
        return self._strips(canvas)

    def _header(self, layer: UnitLayer, twins: list[int | None]) -> str:
        """``layer 1 · tanh · 8 units · ALL IDENTICAL · 2 dead (red) · over …``: the news first."""
        n = len(layer.values)
        text = f"{layer.name} · {layer.activation} · {n} units"
        if n > 1 and all(t is not None for t in twins[1:]):
            text += " · ALL IDENTICAL"
        dead, sat = int(layer.dead.sum()), int(layer.saturated.sum())
        if dead:
            text += f" · {dead} dead (red)"
        if sat:
            text += f" · {sat} saturated (yellow)"
        over = "over the input plane" if layer.over == "plane" else \
            f"over {layer.values.shape[1]} training samples (inputs are not 2-D)"
        return f"{text} · {over}"

    def _draw_layer(self, canvas: Canvas, i: int, row: int, tile: int,
                    map_rows: int, extra: int, dark: bool) -> int:
        strong, dim = ink(dark)
        layer, twins = self.unit_layers[i], self.twins[i]
        canvas.text(0, row, self._header(layer, twins), strong, bold=True)
        row += 1
        scale = value_range(layer)
        maps = self._pixels(layer, tile, map_rows, scale, _palette(*scale, dark),
                            canvas.fill if layer.over != "plane" else DEAD)
        units = len(layer.values)
        fit = min(units, (canvas.width + 1) // (tile + 1))  # the tiles that fit whole
        _draw_maps(canvas, maps[:fit], row, tile + 1)
        if fit < units:
            canvas.text(max(0, canvas.width - 1), row, "…", dim)
        if extra >= 2:
            shaded = self._weight_shades(layer, tile, dark)
            for j in range(fit):
                self._draw_weights(canvas, layer, j, j * (tile + 1), row + map_rows, tile,
                                   shaded, dark)
        if extra >= 1:
            for j in range(fit):
                self._draw_label(canvas, layer, j, twins[j], j * (tile + 1),
                                 row + map_rows + extra - 1, tile, dark)
        return row + map_rows + extra

    @staticmethod
    def _pixels(layer: UnitLayer, tile: int, map_rows: int, scale: tuple[float, float],
                colours: tuple[str, ...], blank: str | None) -> Any:
        """Every unit's map as the colour of each pixel, ``[unit][row][col]``: its value's
        colour in ``colours`` (over ``scale``, the layer's :func:`value_range`), or
        ``blank`` where the value is not finite (past a batch's last sample: the canvas
        fill; else red)."""
        vals = layer.values
        ph = 2 * map_rows
        if layer.over == "plane":
            n = vals.shape[1]
            # pixel row 0 is the top of the tile: the highest y (vals row n-1)
            ri = np.linspace(n - 1, 0, ph).round().astype(int)
            ci = np.linspace(0, n - 1, tile).round().astype(int)
            pix = vals[:, ri[:, None], ci]
        else:
            flat = np.full((len(vals), tile * ph), np.nan)
            k = min(vals.shape[1], tile * ph)
            flat[:, :k] = vals[:, :k]
            pix = flat.reshape(len(vals), ph, tile)
        lo, hi = scale
        with np.errstate(all="ignore"):
            t = np.clip((pix - lo) / (hi - lo if hi > lo else 1.0), 0.0, 1.0)
            idx = np.round(np.nan_to_num(t) * (len(colours) - 1)).astype(int)
        idx[~np.isfinite(pix)] = len(colours)  # the last entry: blank
        return np.array([*colours, blank], dtype=object)[idx]

    @staticmethod
    def _weight_shades(layer: UnitLayer, tile: int, dark: bool) -> list[list[str]]:
        """The cells of every unit's row of weights: one sampled weight a cell, shaded on
        one scale for the layer (its largest weight)."""
        weights = np.asarray(layer.weights, dtype=float)
        if not weights.size:
            return [[] for _ in range(len(weights))]
        wmax = float(np.nanmax(np.abs(weights)))
        n = weights.shape[1]
        cells = min(tile, n)
        picks = weights[:, np.arange(cells) * n // cells]
        flat = (shades(picks.ravel(), -wmax, wmax, dark) if wmax > 0
                else [RAMPS[dark][1]] * picks.size)
        return [flat[j * cells:(j + 1) * cells] for j in range(len(weights))]

    def _draw_weights(self, canvas: Canvas, layer: UnitLayer, j: int, col: int, row: int,
                      tile: int, shaded: list[list[str]], dark: bool) -> None:
        w = layer.weights[j]
        if len(w) <= 2 and tile >= 11:
            text = ",".join(f"{v:+.1f}" for v in w)
            canvas.text(col, row, text[:tile], ink(dark)[1])
            return
        canvas.run(col, row, "▄", shaded[j])

    def _draw_label(self, canvas: Canvas, layer: UnitLayer, j: int, twin: int | None,
                    col: int, row: int, tile: int, dark: bool) -> None:
        """``uJ`` with its mark: ``dead`` / ``sat`` (in red / yellow), ``=uK`` for a twin.

        A label never shows cut: in a narrow tile ``u12`` becomes ``12``, and a number
        that does not fit either is left out (a cut ``u12`` would read ``u1``)."""
        mark = "▸" if self.selected == (layer.name, j) else ""
        name = fit_label([f"{mark}u{j + 1}", f"{mark}{j + 1}"], tile)
        if name is None:
            return
        if layer.dead[j] or layer.saturated[j]:
            colour, word = (DEAD, " dead") if layer.dead[j] else (SAT, " sat")
            canvas.text(col, row, fit_label([name + word], tile) or name, colour, bold=True)
        elif twin is not None:
            canvas.text(col, row, fit_label([name + f"=u{twin + 1}"], tile) or name, ink(dark)[1])
        else:
            canvas.text(col, row, name, ink(dark)[1])

    @safe_render_line
    def render_line(self, y: int) -> Strip:
        if self._lines is None or len(self._lines) != self.size.height:
            self._lines = self._build()
        if 0 <= y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.size.width)
