"""Live loss curves of every run (train solid, validation dotted), via plotext."""

from __future__ import annotations

import math
from typing import Any

from textual_plotext import PlotextPlot

from descent_tui.tui.theme import run_color
from descent_tui.tui.widgets.safe import safe_render


def _rgb(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _thin(xs: Any, ys: Any, limit: int) -> tuple[list[float], list[float]]:
    """Keep finite points (positive ones for log scale), at most ``limit`` of them."""
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


class LossPlot(PlotextPlot):
    """Reads snapshots handed down by the mission screen; never touches the simulation."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.series: list[dict[str, Any]] = []
        self.log_scale = False
        self.total_steps = 1

    def show(self, series: list[dict[str, Any]], *, log_scale: bool, total_steps: int) -> None:
        self.series = series
        self.log_scale = log_scale
        self.total_steps = max(1, int(total_steps))
        self.refresh()

    @safe_render
    def render(self):  # type: ignore[override]
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        dark = self.app.current_theme.dark
        width = max(10, self.size.width)
        any_data = False
        ymin, ymax = math.inf, -math.inf
        # y range: up to 1.5x the largest starting loss, so one exploding run cannot
        # flatten the others (it leaves through the top of the plot instead)
        starts = []
        for s in self.series:
            ys0 = s.get("loss")
            if ys0 is not None and len(ys0):
                import numpy as np

                fin = np.asarray(ys0, dtype=float)
                fin = fin[np.isfinite(fin)]
                if len(fin):
                    starts.append(float(fin[0]))
        cap = max(starts) * 1.5 if starts and max(starts) > 0 else None
        for s in self.series:
            color = _rgb(run_color(s["index"], dark))
            for key, marker, suffix in (("loss", "braille", ""), ("val_loss", "dot", " val")):
                ys = s.get(key)
                if ys is None or len(ys) == 0:
                    continue
                xs, yv = _thin(s["steps"], ys, width * 2)
                if self.log_scale:
                    pairs = [(x, y) for x, y in zip(xs, yv) if y > 0]
                    xs = [p[0] for p in pairs]
                    yv = [math.log10(p[1]) for p in pairs]
                    top = math.log10(cap) + 0.5 if cap else 12.0
                    keep = [(x, y) for x, y in zip(xs, yv) if y <= top]
                else:
                    top = cap or 1e12
                    keep = [(x, y) for x, y in zip(xs, yv) if y <= top]
                xs = [p[0] for p in keep]
                yv = [p[1] for p in keep]
                if not xs:
                    continue
                any_data = True
                ymin, ymax = min(ymin, min(yv)), max(ymax, max(yv))
                plt.plot(xs, yv, marker=marker, color=color,
                         label=(s["label"] + suffix) if self.size.width >= 50 else None)
        plt.xlim(0, self.total_steps)
        if not any_data:
            plt.ylim(0, 1)
        elif ymin == ymax:
            plt.ylim(ymin - 1, ymax + 1)
        elif not self.log_scale:
            plt.ylim(min(0.0, ymin), ymax)
        plt.title("")
        plt.xlabel("step")
        if self.log_scale:
            plt.ylabel("log₁₀ loss")
        else:
            plt.ylabel("loss")
        return super().render()
