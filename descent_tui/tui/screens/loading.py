"""Opening a mission: its simulation is built in a worker thread, behind a loading screen.

Building a heavy (but accepted) mission — generating its data, initialising
every run, the first evaluation — can take seconds.  The UI thread never does
it: :class:`LoadingScreen` shows a loading indicator while a thread worker
builds the :class:`~descent_tui.sim.Simulation`, then hands it back to the UI
thread, which replaces this screen with the mission.  Keys stay live meanwhile
(escape gives up; the finished build is then thrown away).
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle
from textual.screen import ModalScreen
from textual.widgets import LoadingIndicator, Static

from descent_tui.tui.safe_text import clean, content


class LoadingScreen(ModalScreen[None]):
    """"Building the simulation…" until the worker posts the built simulation back."""

    DEFAULT_CSS = """
    LoadingScreen { align: center middle; }
    LoadingScreen #loading-box { width: 60; height: 7; border: round $accent;
                                 background: $surface; }
    LoadingScreen LoadingIndicator { height: 1; }
    LoadingScreen #loading-text { width: 100%; content-align: center middle; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", tooltip="Stop opening this mission")]

    def __init__(self, loaded: Any) -> None:
        super().__init__()
        self.loaded = loaded
        self.cancelled = False

    def compose(self) -> ComposeResult:
        with Middle(id="loading-box"), Center():
            yield Static(content(f"Building {self.loaded.spec.title} …", one_line=True),
                         id="loading-text")
            yield LoadingIndicator()

    def on_mount(self) -> None:
        self._build()

    @work(thread=True, exclusive=True, group="build", exit_on_error=False)
    def _build(self) -> None:
        """In a thread: the simulation, or the error, posted back to the UI thread."""
        from descent_tui.sim import Simulation

        try:
            sim = Simulation(self.loaded)
        except Exception as e:  # MemoryError included: an error shown, never a crash
            self.app.call_from_thread(self._failed, e)
            return
        self.app.call_from_thread(self._built, sim)

    def _built(self, sim: Any) -> None:
        if self.cancelled or not self.is_attached:
            return
        from descent_tui.tui.screens.mission import MissionScreen

        self.app.switch_screen(MissionScreen(self.loaded, sim))

    def _failed(self, error: Exception) -> None:
        if self.cancelled or not self.is_attached:
            return
        self.app.pop_screen()
        self.app.notify(clean(f"{type(error).__name__}: {error}"), title="Cannot open mission",
                        severity="error", timeout=15, markup=False)

    def action_cancel(self) -> None:
        self.cancelled = True
        self.app.pop_screen()
