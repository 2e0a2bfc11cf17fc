"""The Vector Prime look: two registered Textual themes and the run colours.

``vector-prime`` is the night-shift console (deep navy, cyan primary, amber
accent); ``vector-prime-light`` is the same palette on a day-shift background.
Run colours are picked to stay distinct on both.
"""

from __future__ import annotations

from textual.theme import Theme

__all__ = [
    "DARK",
    "ENGINEER",
    "LIGHT",
    "OUTPOST",
    "RUN_COLORS",
    "RUN_COLORS_LIGHT",
    "THEMES",
    "console_theme",
    "markdown_options",
    "run_color",
]

OUTPOST = "Vector Prime"
#: the voice of every briefing and debrief
ENGINEER = "Chief Engineer Imani Osei"

def console_theme(name: str, *, dark: bool, selection: str | None = None, **colours: str) -> Theme:
    """A Vector Prime theme from its colours (Textual's roles: primary, accent, panel, ...).

    Both themes keep the same relations between roles: the footer's key hints take
    the accent colour and the block cursor the primary one. ``selection`` is the
    background of selected text in inputs (None: Textual's default).
    """
    variables = {
        "footer-key-foreground": colours["accent"],
        "block-cursor-background": colours["primary"],
    }
    if selection is not None:
        variables["input-selection-background"] = selection
    return Theme(name=name, dark=dark, variables=variables, **colours)


#: the night-shift console: deep navy, cyan primary, amber accent
DARK = console_theme(
    "vector-prime", dark=True, selection="#35c6e8 35%",
    primary="#35c6e8", secondary="#7a8cff", accent="#ffb347",
    warning="#ffcc4d", error="#ff4d5e", success="#4ee08a",
    foreground="#d7e3f4", background="#070b16", surface="#0d1424", panel="#131d33",
)

#: the same palette on a day-shift background
LIGHT = console_theme(
    "vector-prime-light", dark=False,
    primary="#0a6f8f", secondary="#4a57c9", accent="#b35c00",
    warning="#9a6700", error="#c8102e", success="#127a3e",
    foreground="#101826", background="#eef2f7", surface="#ffffff", panel="#dde5ef",
)

THEMES = (DARK, LIGHT)

RUN_COLORS = ("#35c6e8", "#ffb347", "#ff5fd2", "#7dff6a", "#b48cff", "#ff6b6b", "#f5f06b",
              "#ffffff")
RUN_COLORS_LIGHT = ("#0a6f8f", "#b35c00", "#a0127a", "#2a7a00", "#5b2bbf", "#c8102e",
                    "#7a6a00", "#000000")


def run_color(index: int, dark: bool = True) -> str:
    """The colour of run number ``index`` (cycling) on the dark or the light theme.

    Views draw a run with :func:`descent_tui.tui.run_style.run_style` (colour and glyph).
    """
    colors = RUN_COLORS if dark else RUN_COLORS_LIGHT
    return colors[index % len(colors)]


#: pygments styles for code in briefings: a dark block on the dark console, a pale one
#: on the light console (the rich default, monokai, is dark on both)
CODE_THEMES = {True: "monokai", False: "friendly"}


def markdown_options(dark: bool) -> dict[str, str]:
    """Keyword arguments for ``rich.markdown.Markdown`` so code reads on this background.

    Code blocks and inline code (``lr = 0.5``) both take the code theme's colours;
    rich's own inline style (cyan on black) would be a black patch on a light console.
    """
    return {"code_theme": CODE_THEMES[dark], "inline_code_lexer": "text",
            "inline_code_theme": CODE_THEMES[dark]}
