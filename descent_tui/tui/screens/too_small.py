"""Shown instead of a broken layout when the terminal is below the minimum size."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Static


class TooSmallScreen(Screen[None]):
    """"Enlarge the terminal": replaces everything until the window is big enough."""

    BINDINGS = []

    def __init__(self, min_width: int, min_height: int) -> None:
        super().__init__()
        self.min_width = min_width
        self.min_height = min_height

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static(id="too-small-message")

    def on_mount(self) -> None:
        self._update()

    def on_resize(self) -> None:
        self._update()
        self.app.call_later(self.app._check_size)  # type: ignore[attr-defined]

    def _update(self) -> None:
        w, h = self.app.size
        self.query_one("#too-small-message", Static).update(
            "[b]Enlarge the terminal[/b]\n\n"
            f"Vector Prime needs at least {self.min_width}×{self.min_height}.\n"
            f"This window is {w}×{h}.\n\n"
            "[dim]ctrl+q quits[/dim]"
        )
