"""The Code screen (key ``c`` on a mission): the selected run's training loop as code.

It holds a :class:`~descent_tui.tui.widgets.code_view.CodeView` built from the
mission's current settings (the knobs accepted so far, and the learning rate
the run uses now if it was changed live), at four levels (``c`` cycles them).
``space`` lights the next phase of a step, zero_grad → forward → loss →
backward → step; pressing it on *step* takes the mission one real step and
starts again at zero_grad. The screen follows the mission: four times a second
it asks ``now(run)`` for the run's update count and lr, so a step the mission
takes (running, or stepped before the screen opened) lights *step*, and a live
lr change rewrites the code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header

from descent_tui.tui.widgets.code_view import CodeView

__all__ = ["CodeScreen", "plan_of"]


def plan_of(loaded: Any, overrides: Any, run_index: int) -> tuple[Any, str | None]:
    """The export plan of run ``run_index`` under ``overrides``, or (None, the error)."""
    from descent_tui.export import run_plans

    try:
        changes = list(overrides.items()) if hasattr(overrides, "items") else list(overrides)
        plans = run_plans(loaded, changes)
        return plans[run_index % len(plans)], None
    except Exception as e:  # shown in the view, never raised into the app
        return None, f"{type(e).__name__}: {e}"


class CodeScreen(Screen[None]):
    """The Code view of one run, with keys to change language and walk a step's phases."""

    BINDINGS = [
        Binding("space,n", "phase(1)", "Next phase", key_display="space",
                tooltip="Light the next phase; after 'step' the mission takes one step"),
        Binding("p", "phase(-1)", "Previous phase", tooltip="Light the previous phase"),
        Binding("c", "level", "Next language",
                tooltip="NumPy (chain rule by hand) → engine → PyTorch → TensorFlow"),
        Binding("s", "next_run", "Next run", tooltip="The code of the mission's next run"),
        Binding("escape", "back", "Back", tooltip="Back to the mission"),
    ]

    def __init__(self, loaded: Any, overrides: Any = (), run_index: int = 0,
                 on_step: Callable[[], None] | None = None, runs: int = 1,
                 now: Callable[[int], tuple[int, float]] | None = None) -> None:
        super().__init__()
        self.loaded, self.overrides = loaded, overrides
        self.run_index, self.runs = run_index, max(1, runs)
        self.on_step, self.now = on_step, now
        #: the run's update count and lr as last seen (lr None: the accepted knobs)
        self._steps, self._lr = now(run_index) if now is not None else (0, None)
        self.live_lr: float | None = None
        self._build()

    def _build(self) -> None:
        """The plan of the shown run, with the lr it uses now where a live change moved it."""
        self.plan, self.error = plan_of(self.loaded, self.overrides, self.run_index)
        self.live_lr = None
        if self.plan is not None and self._lr is not None and self._lr != self.plan.config.lr:
            self.live_lr = self._lr
            self.plan.config = msgspec.structs.replace(self.plan.config, lr=self._lr)

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield CodeView(self.plan, self.error, id="code-view")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "SHIP'S CODE"
        self._subtitle()
        if self._steps:  # the mission has stepped: its last line run was the update
            self.query_one(CodeView).step_taken(self._steps)
        if self.now is not None:
            self.set_interval(0.25, self._follow)

    def _subtitle(self) -> None:
        title = getattr(self.loaded.spec, "title", "")
        live = "" if self.live_lr is None else \
            f" · lr {self.live_lr:g} set live"
        self.sub_title = title + live

    def _follow(self) -> None:
        """Catch up with the mission: a live lr rewrites the code, a step lights *step*."""
        if self.now is None:
            return
        steps, lr = self.now(self.run_index)
        view = self.query_one(CodeView)
        if lr != self._lr:
            self._lr = lr
            self._build()
            view.set_plan(self.plan, self.error)
            self._subtitle()
        if steps != self._steps:
            self._steps = steps
            view.step_taken(steps)

    def action_phase(self, delta: int) -> None:
        view = self.query_one(CodeView)
        if view.next_phase(delta) and self.on_step is not None:
            self.on_step()  # past 'step': the update is taken for real
            if self.now is not None:  # this screen's own step: zero_grad stays lit
                self._steps = self.now(self.run_index)[0]
            self.notify("One step taken: the loop starts again at zero_grad", timeout=2)

    def action_level(self) -> None:
        self.query_one(CodeView).cycle_level()

    def action_next_run(self) -> None:
        self.run_index = (self.run_index + 1) % self.runs
        if self.now is not None:
            self._steps, self._lr = self.now(self.run_index)
        self._build()
        self.query_one(CodeView).set_plan(self.plan, self.error)
        self._subtitle()

    def action_back(self) -> None:
        self.app.pop_screen()
