"""The Code screen (key ``c`` on a mission): the selected run's training loop as code.

It holds a :class:`~descent_tui.tui.widgets.code_view.CodeView` built from the
mission's current settings (the knobs accepted so far), at four levels (``c``
cycles them). ``space`` lights the next phase of a step, zero_grad → forward →
loss → backward → step; pressing it on *step* takes the mission one real step
and starts again at zero_grad.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
                 on_step: Callable[[], None] | None = None, runs: int = 1) -> None:
        super().__init__()
        self.loaded, self.overrides = loaded, overrides
        self.run_index, self.runs = run_index, max(1, runs)
        self.on_step = on_step
        self.plan, self.error = plan_of(loaded, overrides, run_index)

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield CodeView(self.plan, self.error, id="code-view")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "SHIP'S CODE"
        self.sub_title = getattr(self.loaded.spec, "title", "")

    def action_phase(self, delta: int) -> None:
        view = self.query_one(CodeView)
        if view.next_phase(delta) and self.on_step is not None:
            self.on_step()  # past 'step': the update is taken for real
            self.notify("One step taken: the loop starts again at zero_grad", timeout=2)

    def action_level(self) -> None:
        self.query_one(CodeView).cycle_level()

    def action_next_run(self) -> None:
        self.run_index = (self.run_index + 1) % self.runs
        self.plan, self.error = plan_of(self.loaded, self.overrides, self.run_index)
        self.query_one(CodeView).set_plan(self.plan, self.error)

    def action_back(self) -> None:
        self.app.pop_screen()
