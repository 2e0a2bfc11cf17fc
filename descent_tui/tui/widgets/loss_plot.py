"""Live loss curves of every run, via plotext: train as a solid line, validation lighter.

Each run has its colour and glyph (:func:`~descent_tui.tui.run_style.run_style`); the
glyph is also stamped at a few points along its training curve, so the curves stay
apart without colour. The legend is its own row above the plot, so it never covers
a curve; it gives each run's latest training loss and, when the mission holds out
data, its validation loss (``▲ momentum 0.123 val 0.145``). The y range
stops at 1.5× the largest starting loss, so one exploding run leaves through the
top instead of flattening the others. On log scale a loss at or below the floor
(``LOG_SPAN`` decades under the top, e.g. an underflow to 1e-198 or an exact 0) is
drawn at the floor, and the axis label says so.
"""

from __future__ import annotations

import math
from typing import Any

from rich.console import Group
from rich.text import Text
from textual_plotext import PlotextPlot

from descent_tui.tui.run_style import run_style
from descent_tui.tui.safe_text import clean
from descent_tui.tui.widgets.axes import nice_ticks, short
from descent_tui.tui.widgets.safe import safe_render
from descent_tui.tui.widgets.status import abbreviate

#: on log scale the plot spans at most this many decades below its top
LOG_SPAN = 12
#: (history key, plotext marker) of the two curves of a run: train solid, validation dotted
CURVES = (("loss", "hd"), ("val_loss", "braille"))
#: the run's glyph is stamped this many times along its training curve
STAMPS = 5


def _rgb(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _thin(xs: Any, ys: Any, limit: int) -> tuple[list[float], list[float]]:
    """Keep finite points, at most ``limit`` of them (evenly spaced, the last one kept)."""
    import numpy as np

    xs = np.asarray(xs, dtype=float)
    ys = np.asarray(ys, dtype=float)
    n = min(len(xs), len(ys))
    xs, ys = xs[:n], ys[:n]
    keep = np.isfinite(ys)
    xs, ys = xs[keep], ys[keep]
    if len(xs) > limit:
        idx = np.linspace(0, len(xs) - 1, limit).astype(int)
        xs, ys = xs[idx], ys[idx]
    return xs.tolist(), ys.tolist()


def _cap(series: list[dict[str, Any]]) -> float | None:
    """1.5× the largest finite starting loss (None: no run has one)."""
    import numpy as np

    starts = []
    for s in series:
        ys = s.get("loss")
        if ys is not None and len(ys):
            fin = np.asarray(ys, dtype=float)
            fin = fin[np.isfinite(fin)]
            if len(fin):
                starts.append(float(fin[0]))
    return max(starts) * 1.5 if starts and max(starts) > 0 else None


def log_floor(cap: float | None) -> int:
    """The log scale's floor, as a power of ten: LOG_SPAN decades under the top."""
    top = math.log10(cap) if cap else 1.0
    return math.floor(top) - LOG_SPAN


def plotted(xs: list[float], ys: list[float], *, log_scale: bool, cap: float | None
            ) -> tuple[list[float], list[float], bool]:
    """The points as drawn: capped above; on log scale log₁₀ and clamped at the floor.

    Returns ``(xs, ys, clamped)``; ``clamped`` says a point was raised to the floor.
    """
    if not log_scale:
        top = cap or 1e12
        keep = [(x, y) for x, y in zip(xs, ys, strict=True) if y <= top]
        return [p[0] for p in keep], [p[1] for p in keep], False
    floor = log_floor(cap)
    top = math.log10(cap) + 0.5 if cap else 12.0
    out_x, out_y, clamped = [], [], False
    for x, y in zip(xs, ys, strict=True):
        v = math.log10(y) if y > 0 else -math.inf
        if v < floor:
            v, clamped = float(floor), True
        if v <= top:
            out_x.append(x)
            out_y.append(v)
    return out_x, out_y, clamped


def short_value(v: float) -> str:
    """A loss for the legend, 3 significant digits (e.g. 0.0123, 4.56e-07, nan)."""
    if not math.isfinite(v):
        return str(v)
    return f"{v:.3g}"


Entry = tuple[str, str, str, str]  # (glyph, label, colour, latest value)


def legend_lines(entries: list[Entry], width: int, rows: int) -> list[Text]:
    """Pack legend entries into at most ``rows`` lines of ``width``: ``━ label value``.

    Every run stays in the legend: labels are shortened (to 12, then 7, then 3
    characters, cut in the middle), then the values dropped, until all entries fit.
    """
    lines: list[Text] = []
    for limit, with_value in ((40, True), (12, True), (7, True), (7, False), (3, False)):
        lines = [Text()]
        for glyph, label, colour, value in entries:
            short = abbreviate(label, limit)
            piece = f"{glyph} {short}" + (f" {value}" if with_value else "")
            if lines[-1].cell_len and lines[-1].cell_len + 2 + len(piece) > width:
                lines.append(Text())
            if lines[-1].cell_len:
                lines[-1].append("  ")
            lines[-1].append(f"{glyph} ", style=f"bold {colour}")
            lines[-1].append(short, style=colour)
            if with_value:
                lines[-1].append(f" {value}", style="bold")
        if len(lines) <= rows and all(line.cell_len <= width for line in lines):
            return lines
    return lines[:rows]


class LossPlot(PlotextPlot):
    """Reads snapshots handed down by the mission screen; never touches the simulation."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.series: list[dict[str, Any]] = []
        self.log_scale = False
        self.total_steps = 1
        self.clamped = False  # a point was drawn at the log floor in the last render

    def show(self, series: list[dict[str, Any]], *, log_scale: bool, total_steps: int) -> None:
        self.series = series
        self.log_scale = log_scale
        self.total_steps = max(1, int(total_steps))
        self.refresh()

    def _plot_series(self, dark: bool) -> tuple[list[Entry], float, float]:
        """Hand every curve to plotext; return the legend entries and the y range drawn."""
        cap = _cap(self.series)
        entries: list[Entry] = []
        ymin, ymax = math.inf, -math.inf
        self.clamped = False
        width = self.size.width  # one point per column: plotext's cost grows with points
        for k, s in enumerate(self.series):
            style = run_style(s["index"], dark)
            values = []
            for key, marker in CURVES:
                ys = s.get(key)
                if ys is None or len(ys) == 0:
                    continue
                values.append(("val " if key == "val_loss" else "")
                              + short_value(float(ys[-1])))
                xs, yv = _thin(s["steps"], ys, max(10, width))
                xs, yv, clamped = plotted(xs, yv, log_scale=self.log_scale, cap=cap)
                self.clamped |= clamped
                if not xs:
                    continue
                ymin, ymax = min(ymin, min(yv)), max(ymax, max(yv))
                self.plt.plot(xs, yv, marker=marker, color=_rgb(style.color))
                if key == "loss":
                    self._stamp(xs, yv, style, k / max(1, len(self.series)))
            label = clean(s["label"], one_line=True)
            entries.append((style.glyph, label, style.color, " ".join(values)))
        return entries, ymin, ymax

    def _stamp(self, xs: list[float], ys: list[float], style: Any, phase: float) -> None:
        """The run's glyph on its curve at STAMPS fixed steps of the mission (those reached).

        The steps are ``(j + phase) / STAMPS`` of the way: ``phase`` differs per run,
        so two runs whose curves coincide do not stamp the same place.
        """
        import bisect

        if not xs:
            return
        targets = [(j + 0.5 * phase + 0.25) * self.total_steps / STAMPS for j in range(STAMPS)]
        idx = sorted({min(len(xs) - 1, bisect.bisect_left(xs, t)) for t in targets
                      if t <= xs[-1]})
        if idx:
            self.plt.scatter([xs[i] for i in idx], [ys[i] for i in idx], marker=style.glyph,
                             color=_rgb(style.color))

    def _ticks(self, ymin: float, ymax: float) -> None:
        """Round tick values on both axes (powers of ten on log scale)."""
        plt = self.plt
        yt = nice_ticks(ymin, ymax, max(2, self.size.height // 4))
        if self.log_scale:
            yt = [t for t in yt if t == int(t)] or yt
            labels = [f"1e{int(t)}" if t == int(t) else f"1e{t:g}" for t in yt]
        else:
            labels = [short(t) for t in yt]
        if yt:
            plt.yticks(yt, labels)
        xt = nice_ticks(0, self.total_steps, max(2, self.size.width // 12))
        if xt:
            plt.xticks(xt, [short(t) for t in xt])

    @safe_render
    def render(self):  # type: ignore[override]
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        dark = self.app.current_theme.dark
        entries, ymin, ymax = self._plot_series(dark)
        plt.xlim(0, self.total_steps)
        if ymin > ymax:
            ymin, ymax = 0.0, 1.0
        elif ymin == ymax:
            ymin, ymax = ymin - 1, ymax + 1
        elif not self.log_scale:
            ymin = min(0.0, ymin)
        plt.ylim(ymin, ymax)
        self._ticks(ymin, ymax)
        plt.title("")
        plt.xlabel("step")
        if self.log_scale:
            floor = log_floor(_cap(self.series))
            plt.ylabel(f"log₁₀ loss, floor 1e{floor}" if self.clamped else "log₁₀ loss")
        else:
            plt.ylabel("loss")
        width, height = self.size.width, self.size.height
        legend = legend_lines(entries, width, 2 if height >= 8 else 1) if height >= 6 else []
        self._plot.plotsize(width, height - len(legend))
        self._plot._set_size(width, height - len(legend))
        self._plot.theme(self._get_plotext_theme_name(self.app.theme))
        return Group(*legend, Text.from_ansi(self._plot.build()))
