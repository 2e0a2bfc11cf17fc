"""The views area of the mission screen: the extra panels that apply to a mission.

Which panels apply (decided from the mission's runs when the screen opens):

=========  ================================================  ==========================
key        panel                                             shown when
=========  ================================================  ==========================
``lr``     :class:`~.lr_panel.LrPanel`, lr over the steps    a run has a schedule, or
                                                             the runs' lr differ
``steps``  :class:`~.step_sizes.StepSizes`, |Δθᵢ| per        a landscape of 2+ params
           parameter of the last update
``grad``   :class:`~.gradient_value.GradientValue`,          a landscape of 1 param
           dL/dx at each ball
``acc``    :class:`~.accuracy.AccuracyPanel`, train / val    a classification network
           accuracy over the steps
``units``  :class:`~.units.UnitView`, each hidden unit       a network with hidden
                                                             layers
=========  ================================================  ==========================

The lr panel comes first when a run has a schedule (it is that mission's lesson),
last otherwise. Below :data:`ROOMY` (columns, rows) one panel shows at a time and the ``v`` key
cycles them (after the last the area folds away, giving its rows back); at that
size or larger every panel shows side by side. On a short screen (fewer than
:data:`SHORT_ROWS` rows, e.g. 80×24) the area starts folded, so the landscape and
the loss plot keep their rows until ``v`` asks for a panel. :meth:`ViewsArea.take` reads the
simulation (the caller holds its lock); :meth:`ViewsArea.show` draws what it took.
Only the panels on screen are read; the unit maps are recomputed when the
selected run changes or takes a step, at most once a second while training runs
(:data:`UNITS_PERIOD`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from textual.containers import Horizontal, Vertical
from textual.widget import Widget

from descent_tui.tui.safe_text import content
from descent_tui.tui.widgets.accuracy import AccuracyPanel
from descent_tui.tui.widgets.gradient_value import GradientValue, GradRow
from descent_tui.tui.widgets.lr_panel import LrPanel
from descent_tui.tui.widgets.redraw import set_border
from descent_tui.tui.widgets.safe import failure_text
from descent_tui.tui.widgets.step_chart import Series
from descent_tui.tui.widgets.step_sizes import StepRow, StepSizes
from descent_tui.tui.widgets.units import UnitView

__all__ = ["ROOMY", "UNITS_PERIOD", "ViewsArea", "ViewsSnapshot", "applicable_views"]

#: at this size (columns, rows) or larger every panel shows at once
ROOMY = (160, 45)
#: on a screen with fewer rows the area starts folded away (``v`` opens it)
SHORT_ROWS = 32
#: seconds between recomputations of the unit maps while training runs
UNITS_PERIOD = 1.0

#: short names of the panels, for the hint shown while the area is folded away
SHORT = {"lr": "lr", "steps": "step sizes", "grad": "gradient", "acc": "accuracy",
         "units": "units"}
#: the widget whose border carries that hint (the plot just above the area)
HINT_ON = "#loss-plot"

#: the panels drawn over the steps: stacked in one column when several show
CHARTS = ("lr", "acc")
PANELS: dict[str, type[Widget]] = {"lr": LrPanel, "steps": StepSizes, "grad": GradientValue,
                                   "acc": AccuracyPanel, "units": UnitView}
TITLES = {
    "lr": "LEARNING RATE per step",
    "steps": "STEP PER PARAMETER  |Δθᵢ|, −Δθᵢ/gᵢ: last update",
    "grad": "GRADIENT dL/d{p} AT EACH BALL",
    "acc": "ACCURACY ━ train ┄ val",
    "units": "UNITS  output of each hidden unit · weights in",
}


def applicable_views(sim: Any) -> list[str]:
    """The panel keys that apply to this simulation's mission (see the module docstring)."""
    configs = [rs.config for rs in sim.runs]
    keys = []
    if sim.kind == "landscape":
        keys.append("steps" if len(sim.spec.landscape.params) >= 2 else "grad")
    else:
        if getattr(sim.problem, "classification", False):
            keys.append("acc")
        if len(sim.spec.network.model.layers) > 2:
            keys.append("units")
    scheduled = any(c.schedule is not None for c in configs)
    if scheduled or len({c.lr for c in configs}) > 1:
        keys.insert(0 if scheduled else len(keys), "lr")  # first where a schedule is the lesson
    return keys


@dataclass
class ViewsSnapshot:
    """What the panels on screen draw, copied under the simulation's lock."""

    total: int
    lr: list[Series] = field(default_factory=list)
    steps: list[StepRow] = field(default_factory=list)
    grad: list[GradRow] = field(default_factory=list)
    acc: list[Series] = field(default_factory=list)
    val_acc: list[Series] = field(default_factory=list)
    units: list[Any] | None = None  # None: keep the maps drawn last
    units_label: str = ""
    error: str | None = None  # a read-out failed: what it said


def _series(index: int, rs: Any, name: str, now: float | None) -> Series:
    h = rs.history
    noisy = name == "accuracy" and getattr(rs, "batch_size", 0) > 0  # on the next batch
    return Series(index, rs.label, h.steps, h.series(name), now, noisy)


def _plain_sgd(config: Any) -> bool:
    return config.optimizer == "sgd" and config.effective_momentum == 0


class ViewsArea(Horizontal):
    """The applicable panels, one at a time (``v`` cycles) or all at once when roomy."""

    def __init__(self, sim: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.keys = applicable_views(sim)
        self.current = 0  # index into keys; len(keys) = folded away
        self.roomy = False
        self._units_at = -1e9
        self._units_run: Any = None  # the run whose maps are drawn (a reset makes new runs)
        self._units_step = -1  # and the step they were drawn at
        self._arranged: Any = None  # (size, current) of the last arrangement
        self.param_names = list(sim.spec.landscape.params) if sim.kind == "landscape" else []
        self.param = self.param_names[0] if self.param_names else "x"

    def _panel(self, key: str) -> Widget:
        panel = PANELS[key](id=f"view-{key}", classes="view")
        panel.border_title = content(TITLES[key].format(p=self.param), one_line=True)
        return panel

    def compose(self) -> Any:
        """The charts over the steps (lr, accuracy) in one column, then the other panels."""
        charts = [k for k in self.keys if k in CHARTS]
        if charts:
            with Vertical(id="views-charts"):
                for key in charts:
                    yield self._panel(key)
        for key in self.keys:
            if key not in CHARTS:
                yield self._panel(key)

    def on_mount(self) -> None:
        if self.app.size.height < SHORT_ROWS:  # the plots need every row: start folded
            self.current = len(self.keys)
        self._arrange()
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _theme: Any) -> None:
        """Repaint the canvas panels in the new theme's colours."""
        for panel in self.query(".view"):
            if hasattr(panel, "_lines"):
                panel._lines = None
            panel.refresh()

    # ------------------------------------------------------------------ which panels
    def visible(self) -> list[str]:
        """The keys of the panels on screen now."""
        if self.roomy:
            return list(self.keys)
        return [self.keys[self.current]] if self.current < len(self.keys) else []

    def cycle(self) -> str:
        """Show the next panel (after the last: none); returns what is shown, for a notice."""
        if self.roomy:
            return "all views are shown at this size"
        self.current = (self.current + 1) % (len(self.keys) + 1)
        self._arrange()
        shown = self.visible()
        return TITLES[shown[0]].split("  ")[0].format(p=self.param) if shown else "views hidden"

    def folded_hint(self) -> str:
        """What the plot above says while no panel shows: ``v: more views (lr, units)``.

        The footer of a narrow screen cuts the ``v`` key; this line keeps the panels
        discoverable there ("" when a panel shows or none applies).
        """
        if self.visible() or not self.keys:
            return ""
        return f"v: more views ({', '.join(SHORT[k] for k in self.keys)})"

    def _arrange(self) -> None:
        self._arranged = (self.app.size, self.current)
        w, h = self.app.size
        self.roomy = w >= ROOMY[0] and h >= ROOMY[1]
        shown = self.visible()
        self.display = bool(shown)
        for target in self.screen.query(HINT_ON):
            hint = self.folded_hint()
            if target.border_subtitle != hint:
                target.border_subtitle = hint
        for column in self.query("#views-charts"):
            column.display = any(k in shown for k in CHARTS)
        n = len(self.keys)
        for i, key in enumerate(self.keys):
            panel = self.query_one(f"#view-{key}")
            panel.display = key in shown
            hint = "" if self.roomy else f"v: next view ({i + 1}/{n})"
            if panel.border_subtitle != hint and key != "units":
                panel.border_subtitle = hint

    # ------------------------------------------------------------------ data
    def take(self, sim: Any, selected: int, running: bool,
             runs: list[tuple[int, Any]] | None = None) -> ViewsSnapshot:
        """Copy what the visible panels need (call with the simulation's lock held).

        ``runs``: ``(style index, run)`` of every run the panels draw (the screen adds
        the timeline's forks after the simulation's runs); by default ``sim.runs``.
        A read-out that raises does not take the screen down: the snapshot carries
        the error, and :meth:`show` writes it under the visible panels.
        """
        try:
            if runs is None:
                runs = [(rs.index, rs) for rs in sim.runs]
            return self._take(sim, selected, running, runs)
        except Exception as error:
            return ViewsSnapshot(total=sim.total_steps, error=failure_text(error).plain)

    def _take(self, sim: Any, selected: int, running: bool,
              runs: list[tuple[int, Any]]) -> ViewsSnapshot:
        from descent_tui.sim.steps import gradient_here, last_update
        from descent_tui.sim.units import unit_grids

        shown = self.visible()
        snap = ViewsSnapshot(total=sim.total_steps)
        for index, rs in runs:
            if "lr" in shown:
                snap.lr.append(_series(index, rs, "lr", rs.lr))
            if "acc" in shown:
                snap.acc.append(_series(index, rs, "accuracy", rs.last.accuracy))
                if "val_accuracy" in rs.history:
                    snap.val_acc.append(_series(index, rs, "val_accuracy",
                                                rs.last.val_accuracy))
            if "grad" in shown:
                here = gradient_here(rs)
                snap.grad.append(GradRow(index, rs.label, float(here.point[0]),
                                         float(here.grad[0]), here.lr,
                                         _plain_sgd(rs.config), rs.diverged))
            if "steps" in shown:
                up = last_update(rs)
                snap.steps.append(StepRow(index, rs.label, rs.config.optimizer,
                                          None if up is None else up.delta,
                                          None if up is None else up.effective,
                                          0 if up is None else up.step))
        now = time.monotonic()
        # the selected run or fork (``selected``: its style index), else the first
        run = next((rs for index, rs in runs if index == selected), runs[0][1])
        fresh = self._units_run is not run
        moved = self._units_step != run.step
        if "units" in shown and (fresh or (moved and (not running
                                                      or now - self._units_at >= UNITS_PERIOD))):
            self._units_at, self._units_run, self._units_step = now, run, run.step
            snap.units = unit_grids(run, self.query_one(UnitView).wanted_n())
            snap.units_label = run.label
        return snap

    def show(self, snap: ViewsSnapshot) -> None:
        """Hand the snapshot to the visible panels."""
        if self._arranged != (self.app.size, self.current):  # else as arranged: its
            self._arrange()  # queries walk the whole screen (3 ms a frame, 25 under load)
        shown = self.visible()
        if snap.error is not None:
            self._arranged = None  # the next arrangement puts the hints back
            error = content(snap.error, one_line=True)
            for key in shown:
                panel = self.query_one(f"#view-{key}")
                if key == "units":  # its subtitle is only ever set through set_border
                    set_border(panel, subtitle=error)
                else:
                    panel.border_subtitle = error
            return
        if "lr" in shown:
            self.query_one(LrPanel).show(snap.lr, snap.total)
        if "acc" in shown:
            self.query_one(AccuracyPanel).show(snap.acc, snap.val_acc, snap.total)
        if "grad" in shown:
            self.query_one(GradientValue).show(snap.grad, self.param)
        if "steps" in shown:
            self.query_one(StepSizes).show(snap.steps, self.param_names)
        if "units" in shown and snap.units is not None:
            view = self.query_one(UnitView)
            view.show(snap.units, snap.units_label)
            hint = "" if self.roomy else f"  v: next view ({self.keys.index('units') + 1}" \
                                         f"/{len(self.keys)})"
            # only when it changed: setting a subtitle repaints every row of the view
            set_border(view, subtitle=content(f"run: {snap.units_label}  (s: next run){hint}",
                                              one_line=True))
