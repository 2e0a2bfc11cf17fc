"""The Lab's "save as mission" prompt: a title, then the file is written and checked.

Dismisses with the title typed (enter) or None (escape). The Lab then calls
:func:`descent_tui.scenario.lab.save_mission`.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

__all__ = ["SaveMissionPrompt"]


class SaveMissionPrompt(ModalScreen[str | None]):
    """Ask for the new mission's title."""

    DEFAULT_CSS = """
    SaveMissionPrompt { align: center middle; }
    SaveMissionPrompt #save-box { width: 64; max-width: 95%; height: auto;
                                  border: round $accent; background: $surface; padding: 0 1; }
    SaveMissionPrompt #save-title { text-style: bold; color: $accent; }
    SaveMissionPrompt #save-where { color: $text-muted; margin-bottom: 1; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", tooltip="Do not save")]

    def __init__(self, where: str, title: str = "My Lab mission") -> None:
        super().__init__()
        self.where = where
        self.default_title = title

    def compose(self) -> ComposeResult:
        with Vertical(id="save-box"):
            yield Static("Save the Lab's setup as a mission", id="save-title")
            yield Static(f"into {self.where}  (enter: save · escape: cancel)", id="save-where",
                         markup=False)
            yield Input(self.default_title, id="save-name", placeholder="mission title")

    def on_mount(self) -> None:
        self.styles.background = "black 50%"
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        title = event.value.strip()
        self.dismiss(title or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
