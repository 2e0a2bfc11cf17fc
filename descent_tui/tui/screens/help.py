"""``?``: every key of the screen below, with what it does.

Three places show keys: the footer (the main ones, help first), this screen
(all of them: the screen's bindings, the keys inside its panels from
:data:`PANEL_KEYS`, and the app's) and the command palette (ctrl+p: every
binding of the screen as a command, and "Open mission: …" for every mission).
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from descent_tui.tui.theme import ENGINEER, OUTPOST


def _key_text(binding: Binding) -> str:
    if binding.key_display:
        return binding.key_display
    names = {"question_mark": "?", "plus": "+", "minus": "-", "equals_sign": "=",
             "underscore": "_", "space": "space", "escape": "esc", "enter": "enter"}
    return " / ".join(names.get(k.strip(), k.strip()) for k in binding.key.split(","))


#: keys that belong to a screen's panels and fields rather than to a binding
PANEL_KEYS: dict[str, list[tuple[str, str]]] = {
    "SelectScreen": [
        ("↑ / ↓", "Highlight a mission; its briefing shows on the right"),
        ("ctrl+p", "Type a mission's name to open it (\"Open mission: …\")"),
    ],
    "MissionScreen": [
        ("tab / shift+tab", "Move between the tabs and the fields of a panel"),
        ("← / →", "On the tab bar: the next or previous tab"),
        ("↑ / ↓, enter", "In a quiz question: choose an answer"),
        ("enter", "In the lr field: set the learning rate now, without a reset"),
        ("esc", "In a field: leave it (a second esc leaves the mission)"),
        ("a / s", "When asked to predict first: answer now / skip & run"),
    ],
    "LabScreen": [
        ("1 2 3 4 5", "Go to the controls: data, features, network, training, run"),
        ("tab / shift+tab", "The next or previous control, in the order they show"),
        ("enter", "On a menu: open it (↑ / ↓ walk, enter picks); on a button: press it"),
        ("← / →", "On a slider or a layer's units counter: one notch down or up"),
        ("space", "On a feature: switch it on or off"),
        ("esc", "In a control: leave it (the Lab's keys work again)"),
    ],
}


def bindings_table(screen: Screen, app_bindings: list) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    groups = [(screen.__class__.__name__.replace("Screen", "") or "Screen",
               getattr(screen, "BINDINGS", [])), ("Everywhere", app_bindings)]
    for title, bindings in groups:
        rows = [b for b in bindings if isinstance(b, Binding) and b.description]
        if not rows:
            continue
        table.add_row(Text(title, style="underline"), "")
        for b in rows:
            desc = b.description
            if b.tooltip and b.tooltip != b.description:
                desc = f"{b.description} — {b.tooltip}"
            table.add_row(Text(_key_text(b)), desc)
        table.add_row("", "")
    panel = PANEL_KEYS.get(screen.__class__.__name__, [])
    if panel:
        table.add_row(Text("In the panels", style="underline"), "")
        for keys, what in panel:
            table.add_row(Text(keys), what)
        table.add_row("", "")
    table.add_row(Text("ctrl+p"), "Command palette — search every command, open any mission")
    return table


class HelpScreen(ModalScreen[None]):
    """Key reference for the screen it was opened from."""

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close help"),
    ]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(f"[b]{OUTPOST} — console keys[/b]", id="help-title")
            yield Static(bindings_table(self.under, list(self.app.BINDINGS)), id="help-keys")
            yield Static(
                f"[i]“If it moves, it has a gradient. If it doesn't, check the gradient.”"
                f" — {ENGINEER}[/i]", id="help-quote")

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)
