"""Train and validation accuracy of a classification network, per run, over the steps.

Train accuracy (solid) is measured on each step's batch before its update;
validation accuracy (dotted) on the held-out split. The y axis is 0–100 %, with
guide lines at 50 % (a coin flip on two classes) and 75 %. A run on mini-batches
scores another batch each step (one example: 0 % or 100 %), so its train line is
a moving mean over the faint band of its raw values, and the step axis says so.
"""

from __future__ import annotations

import math

from descent_tui.tui.safe_text import clean
from descent_tui.tui.widgets.step_chart import Curve, Key, Series, StepChart

__all__ = ["AccuracyPanel", "percent"]


def percent(v: float | None) -> str:
    """An accuracy as a whole percentage (— when unknown)."""
    if v is None or not math.isfinite(v):
        return "—"
    return f"{100 * v:.0f}%"


class AccuracyPanel(StepChart):
    """``show(train, val, total)``: a :class:`Series` per run (``val`` may be empty)."""

    @staticmethod
    def y_format(v: float) -> str:
        return f"{100 * v:.0f}%"

    def show(self, train: list[Series], val: list[Series], total: int) -> None:
        self.total = max(1, int(total))
        self.y_range = (0.0, 1.0)
        self.marks = [0.5, 0.75]
        self.curves = [Curve(s.steps, s.values, s.index, smooth=s.noisy) for s in train]
        self.curves += [Curve(s.steps, s.values, s.index, dotted=True) for s in val]
        by_index = {s.index: s for s in val}
        keys = []
        for s in train:
            v = by_index.get(s.index)
            value = percent(s.now) + (f" val {percent(v.now)}" if v is not None else "")
            keys.append(Key("━", clean(s.label, one_line=True), s.index, value))
        self.legend = keys
        self.note = "batch accuracy: line = moving mean" if any(s.noisy for s in train) else ""
        self.refresh_chart()
