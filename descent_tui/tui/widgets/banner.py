"""The Vector Prime title banner (big when there is room, one line when not)."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

ART = (
    "██████╗ ███████╗███████╗ ██████╗███████╗███╗   ██╗████████╗",
    "██╔══██╗██╔════╝██╔════╝██╔════╝██╔════╝████╗  ██║╚══██╔══╝",
    "██║  ██║█████╗  ███████╗██║     █████╗  ██╔██╗ ██║   ██║   ",
    "██║  ██║██╔══╝  ╚════██║██║     ██╔══╝  ██║╚██╗██║   ██║   ",
    "██████╔╝███████╗███████║╚██████╗███████╗██║ ╚████║   ██║   ",
    "╚═════╝ ╚══════╝╚══════╝ ╚═════╝╚══════╝╚═╝  ╚═══╝   ╚═╝   ",
)
TAGLINE = "VECTOR PRIME · DEEP-SPACE OUTPOST · NEURAL TRAINING DECK"


class Banner(Widget):
    """Title art; collapses to one line on small terminals (CSS class ``-compact``)."""

    DEFAULT_CSS = """
    Banner { height: auto; }
    """

    def render(self) -> Text:
        accent = self.app.theme_variables.get("primary", "cyan")
        dim = self.app.theme_variables.get("accent", "yellow")
        if self.has_class("-compact") or self.size.width < len(ART[0]) + 2:
            text = Text.assemble(("▌DESCENT▐", f"bold {accent}"), "  ", (TAGLINE, dim))
            text.justify = "center"
            return text
        text = Text(justify="center")
        for _i, line in enumerate(ART):
            text.append(line + "\n", style=f"bold {accent}")
        text.append(TAGLINE, style=f"{dim}")
        return text
