"""The first screen of a class: "who is flying?" -- the student gives a call sign.

Shown when the app opens in a class (``descent play --class NAME``, which is what
``descent serve`` runs for each browser tab) without ``--call-sign``.  The call
sign is checked by :func:`descent_tui.classroom.validate_call_sign`; a refused one
gets its one-line reason under the field and the student tries again.  The screen
dismisses with the accepted call sign; the app then loads that student's progress.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from descent_tui.classroom import MAX_NAME, ClassroomError, validate_call_sign
from descent_tui.tui.safe_text import content

__all__ = ["CallSignScreen"]


class CallSignScreen(Screen[str]):
    """Ask for the student's call sign; dismiss with it once it is valid."""

    DEFAULT_CSS = """
    CallSignScreen #sign-box { width: 64; padding: 1 2; }
    CallSignScreen #sign-error { color: $text-error; height: auto; }
    """

    def __init__(self, class_name: str) -> None:
        super().__init__()
        self.class_name = class_name

    def compose(self) -> ComposeResult:
        with Vertical(id="sign-box", classes="dialog-box"):
            yield Static("VECTOR PRIME · CREW SIGN-IN", id="sign-title", classes="dialog-title")
            yield Static(content(f"Class {self.class_name}. Your call sign keeps your progress"
                                 f" apart from everyone else's: up to {MAX_NAME} letters,"
                                 " digits, '-', '_' or '.'. Use the same one next time."),
                         id="sign-text", classes="dialog-text")
            yield Input(placeholder="call sign, e.g. ada-7", max_length=MAX_NAME + 8,
                        id="call-sign")
            yield Static("", id="sign-error")

    def on_mount(self) -> None:
        self.query_one("#call-sign", Input).focus()

    @on(Input.Submitted, "#call-sign")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        try:
            validate_call_sign(text)
        except ClassroomError as e:
            self.query_one("#sign-error", Static).update(content(str(e)))
            return
        self.dismiss(text)
