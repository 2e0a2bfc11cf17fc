"""Before the first step: "you have not predicted yet — answer now, or run without?"

Predictions lock when training starts.  Rather than locking them silently, the
mission screen shows this prompt when a run or step would start with unanswered
predictions.  It dismisses with ``"answer"`` (go to the quiz, nothing runs),
``"skip"`` (run now; the unanswered ones are graded as unanswered) or
``"cancel"`` (escape: nothing happens).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

__all__ = ["PredictPrompt"]


class PredictPrompt(ModalScreen[str]):
    """Answer the unanswered predictions now, or skip them and run."""

    DEFAULT_CSS = """
    PredictPrompt #predict-box { width: 60; padding: 0 1; }
    PredictPrompt #predict-buttons { height: auto; align-horizontal: center; }
    PredictPrompt Button { margin: 0 1; }
    """

    BINDINGS = [
        Binding("a", "choose('answer')", "Answer now", tooltip="Go to the quiz; nothing runs"),
        Binding("s", "choose('skip')", "Skip & run",
                tooltip="Run now; unanswered predictions stay unanswered for this run"),
        Binding("escape", "choose('cancel')", "Cancel", tooltip="Do nothing"),
    ]

    def __init__(self, unanswered: int, total: int) -> None:
        super().__init__()
        self.unanswered = unanswered
        self.total = total

    def compose(self) -> ComposeResult:
        n = self.unanswered
        which = "prediction" if n == 1 else "predictions"
        with Vertical(id="predict-box", classes="dialog-box"):
            yield Static("Predict before you run?", id="predict-title", classes="dialog-title")
            yield Static(f"{n} of {self.total} {which} not answered yet. Predictions lock"
                         " when the run starts; a reset (x) opens them again.",
                         id="predict-text", classes="dialog-text")
            with Horizontal(id="predict-buttons"):
                yield Button("Answer now (a)", id="answer", variant="primary")
                yield Button("Skip & run (s)", id="skip")

    def on_mount(self) -> None:
        self.styles.background = "black 50%"  # the mission stays visible behind (inline wins)
        self.query_one("#answer", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)
