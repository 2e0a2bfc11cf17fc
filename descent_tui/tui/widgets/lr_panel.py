"""The learning-rate schedule panel: every run's learning rate over the steps.

A constant lr is a flat line, step decay a staircase, cosine a smooth slope to
``eta_min``, a warm-up a ramp before it; a live lr change (the knobs) shows as a
jump. The history records the lr each step used; the legend gives the lr the
next step will use.
"""

from __future__ import annotations

import math

import numpy as np

from descent_tui.tui.safe_text import clean
from descent_tui.tui.widgets.step_chart import Curve, Key, Series, StepChart

__all__ = ["LrPanel", "lr_text"]


def lr_text(v: float | None) -> str:
    """An lr in the legend: 3 significant digits."""
    if v is None or not math.isfinite(v):
        return "—"
    return f"{v:.3g}"


class LrPanel(StepChart):
    """``show(series, total)``: one :class:`Series` of lr values per run."""

    def show(self, series: list[Series], total: int) -> None:
        self.total = max(1, int(total))
        self.curves = [Curve(s.steps, s.values, s.index) for s in series]
        self.legend = [Key("━", clean(s.label, one_line=True), s.index, lr_text(s.now))
                       for s in series]
        top = 0.0
        for s in series:
            vals = np.asarray(s.values, dtype=float)
            vals = vals[np.isfinite(vals)]
            cands = [float(vals.max())] if vals.size else []
            if s.now is not None and math.isfinite(s.now):
                cands.append(float(s.now))
            top = max([top, *cands])
        self.y_range = (0.0, top * 1.08 if top > 0 else 1.0)
        self.refresh_chart()
