"""Live loss curves of every run: training loss solid, validation loss dotted.

Drawn on the half-block canvas of :class:`~.step_chart.StepChart` (two pixels a
cell, one connected line per run through every column's lowest and highest loss).
Each run has its colour and glyph (:func:`~descent_tui.tui.run_style.run_style`);
the glyph is also stamped at a few steps along its training curve, so the curves
stay apart without colour. The legend is its own rows above the plot, so it never
covers a curve; it gives each run's latest training loss and, when the mission
holds out data, its validation loss (``▲ momentum 0.123 val 0.145``). A diverged
run's latest loss is the one that tripped the alarm (``✖ 1.16e+06``, as in the
status line), which the curve does not draw: the history keeps only healthy points.
A run that trains on mini-batches (``noisy``) sees a different batch each step, so
its training loss jumps; its line is a moving mean over its noise (the faint
band, see :mod:`~.step_chart`), and the step axis says so. Its legend gives the
mean of its last batch losses (``avg 0.412``), the level its line ends at: the
latest single batch can dip far below what the model does (one lucky example).

Scale: the y range stops at 1.5× the largest starting loss, so one exploding run
leaves through the top instead of flattening the others. On log scale the values
are log₁₀ of the loss; a loss at or below the floor (``LOG_SPAN`` decades under the
top, e.g. an underflow to 1e-198 or an exact 0) is drawn at the floor, and the
step axis says ``floor 1e-11``. A loss below 0 has no logarithm (a landscape's loss
may be negative): then the plot stays linear, and the step axis says so.

Fit (``y`` on the mission screen): the top of the y range is the highest loss of
the latest half of the steps, so the ends of runs that a large start squeezed into
one row come apart (local-minima-and-saddles: −0.28 and −0.93 under a start of 15);
the start leaves through the top, and the step axis says ``y fits steps ≥ N``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from descent_tui.tui.run_style import run_style
from descent_tui.tui.safe_text import clean
from descent_tui.tui.widgets.axes import nice_ticks, short
from descent_tui.tui.widgets.step_chart import Curve, Key, StepChart

__all__ = ["LOG_SPAN", "STAMPS", "LossPlot", "log_floor", "plotted", "short_value"]

#: on log scale the plot spans at most this many decades below its top
LOG_SPAN = 12
#: (history key, dotted) of the two curves of a run: train solid, validation dotted
CURVES = (("loss", False), ("val_loss", True))
#: the run's glyph is stamped this many times along its training curve
STAMPS = 5


def _cap(series: list[dict[str, Any]]) -> float | None:
    """1.5× the largest finite starting loss (None: no run has one)."""
    starts = []
    for s in series:
        ys = s.get("loss")
        if ys is not None and len(ys):
            fin = np.asarray(ys, dtype=float)
            fin = fin[np.isfinite(fin)]
            if len(fin):
                starts.append(float(fin[0]))
    return max(starts) * 1.5 if starts and max(starts) > 0 else None


def _any_negative(series: list[dict[str, Any]]) -> bool:
    """Whether any run's training or validation loss went below 0."""
    return any(np.any(np.asarray(s[key], dtype=float) < 0)
               for s in series for key, _ in CURVES if s.get(key) is not None and len(s[key]))


def log_floor(cap: float | None) -> int:
    """The log scale's floor, as a power of ten: LOG_SPAN decades under the top."""
    top = math.log10(cap) if cap else 1.0
    return math.floor(top) - LOG_SPAN


def plotted(xs: Any, ys: Any, *, log_scale: bool, cap: float | None
            ) -> tuple[np.ndarray, np.ndarray, bool]:
    """The points as drawn, and whether one was clamped at the log floor.

    Linear scale: the values as they are. Log scale: log₁₀ of each loss, raised to
    :func:`log_floor` where it lies below (an exact 0 included). NaNs are dropped;
    values above the top stay (the chart clips its lines at the top edge).
    """
    x = np.asarray(xs, dtype=float)
    y = np.asarray(ys, dtype=float)
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    keep = ~np.isnan(y)
    x, y = x[keep], y[keep]
    if not log_scale:
        return x, y, False
    floor = float(log_floor(cap))
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), -np.inf)
    low = v < floor
    v[low] = floor
    return x, v, bool(low.any())


def short_value(v: float) -> str:
    """A loss for the legend, 3 significant digits (e.g. 0.0123, 4.56e-07, nan)."""
    if not math.isfinite(v):
        return str(v)
    return f"{v:.3g}"


def avg_window(total_steps: int) -> int:
    """How many of a noisy run's last batch losses its legend averages: a sixteenth
    of the run (at least 2), about the moving mean's window on a wide plot."""
    return max(2, int(total_steps) // 16)


def _latest(s: dict[str, Any], ys: Any, dotted: bool, window: int) -> str:
    """The legend's value of one curve: its last point, a diverged run's alarm loss,
    or a noisy run's mean of its last ``window`` finite batch losses (``avg …``)."""
    if not dotted and s.get("diverged") and s.get("loss_now") is not None:
        return "✖ " + short_value(float(s["loss_now"]))
    if not dotted and s.get("noisy"):
        tail = np.asarray(ys[-window:], dtype=float)
        tail = tail[np.isfinite(tail)]
        if tail.size:
            return "avg " + short_value(float(tail.mean()))
    return short_value(float(ys[-1]))


def log_label(t: float) -> str:
    """A tick on the log axis: the power of ten (``1e-3``, ``1e0``, ``1e12``)."""
    return f"1e{int(t)}" if t == int(t) else f"1e{t:g}"


class LossPlot(StepChart):
    """``show(series, log_scale=, total_steps=)``: one dict per run (index, label,
    steps, loss, val_loss); reads what the mission screen hands down, never trains."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.log_scale = False
        self.clamped = False  # a point was drawn at the log floor
        self.log_refused = False  # log scale asked for, but a loss is below 0
        self.fit_recent = False  # the y range fits the latest half of the steps

    def y_format(self, v: float) -> str:  # type: ignore[override]
        return log_label(v) if self.log_scale else short(v)

    def y_ticks(self, lo: float, hi: float, n: int) -> list[float]:
        ticks = nice_ticks(lo, hi, n)
        if self.log_scale:  # whole powers of ten only (at least the ends when none is)
            ticks = [t for t in ticks if t == int(t)] or [float(math.ceil(lo))]
        return ticks

    def show(self, series: list[dict[str, Any]], *, log_scale: bool, total_steps: int,
             fit_recent: bool = False) -> None:
        self.fit_recent = fit_recent
        # a loss below 0 (a landscape may go negative) has no logarithm: drawn at the
        # floor it would pass for a tiny loss, so the plot stays linear and says why
        self.log_refused = log_scale and _any_negative(series)
        self.log_scale = log_scale and not self.log_refused
        self.total = max(1, int(total_steps))
        self.curves, self.legend = self._curves(series)
        self.refresh_chart()

    def _curves(self, series: list[dict[str, Any]]) -> tuple[list[Curve], list[Key]]:
        """Every run's curves as drawn, its legend entry, and the y range and floor."""
        cap = _cap(series)
        top = (math.log10(cap) + 0.5 if self.log_scale else cap) if cap else None
        curves, keys = [], []
        ymin, ymax, ymax_recent = math.inf, -math.inf, -math.inf
        recent_from = 0.5 * max((float(s["steps"][-1]) for s in series if len(s["steps"])),
                                default=0.0)
        self.clamped = False
        for k, s in enumerate(series):
            style = run_style(s["index"], self.app.current_theme.dark)
            values = []
            for key, dotted in CURVES:
                ys = s.get(key)
                if ys is None or len(ys) == 0:
                    continue
                values.append(("val " if dotted else "")
                              + _latest(s, ys, dotted, avg_window(self.total)))
                xs, yv, clamped = plotted(s["steps"], ys, log_scale=self.log_scale, cap=cap)
                self.clamped |= clamped
                inside = np.isfinite(yv) & (yv <= (math.inf if top is None else top))
                if inside.any():
                    ymin = min(ymin, float(yv[inside].min()))
                    ymax = max(ymax, float(yv[inside].max()))
                    recent = inside & (xs >= recent_from)
                    if recent.any():
                        ymax_recent = max(ymax_recent, float(yv[recent].max()))
                phase = k / max(1, len(series))
                stamps = () if dotted else tuple(
                    (j + 0.5 * phase + 0.25) * self.total / STAMPS for j in range(STAMPS))
                curves.append(Curve(xs, yv, s["index"], dotted, style.glyph, stamps,
                                    smooth=bool(s.get("noisy")) and not dotted))
            keys.append(Key(style.glyph, clean(s["label"], one_line=True), s["index"],
                            " ".join(values)))
        fitted = self.fit_recent and recent_from > 0 and ymin < ymax_recent < ymax
        self.y_range = self._range(ymin, ymax_recent if fitted else ymax)
        floor = log_floor(cap)
        floor_note = f"floor 1e{floor}" if self.log_scale and self.clamped else ""
        fit_note = f"y fits steps ≥ {math.ceil(recent_from)}" if fitted else ""
        self.marks = [float(floor)] if floor_note else []
        smoothed = (f"batch losses: line = moving mean, avg = last {avg_window(self.total)}"
                    if any(c.smooth for c in curves) else "")
        refused = "losses < 0: no log scale" if self.log_refused else ""
        self.note = " · ".join(n for n in (smoothed, floor_note, refused, fit_note) if n)
        return curves, keys

    def _range(self, ymin: float, ymax: float) -> tuple[float, float]:
        """The y range drawn: the values' (from 0 on linear scale), 1 wide when flat."""
        if ymin > ymax:
            return (0.0, 1.0)
        if ymin == ymax:
            return (ymin - 1, ymax + 1)
        return (ymin if self.log_scale else min(0.0, ymin), ymax)
