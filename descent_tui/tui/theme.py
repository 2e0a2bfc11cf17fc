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
    "run_color",
]

OUTPOST = "Vector Prime"
#: the voice of every briefing and debrief
ENGINEER = "Chief Engineer Imani Osei"

DARK = Theme(
    name="vector-prime",
    primary="#35c6e8",
    secondary="#7a8cff",
    accent="#ffb347",
    warning="#ffcc4d",
    error="#ff4d5e",
    success="#4ee08a",
    foreground="#d7e3f4",
    background="#070b16",
    surface="#0d1424",
    panel="#131d33",
    dark=True,
    variables={
        "footer-key-foreground": "#ffb347",
        "block-cursor-background": "#35c6e8",
        "input-selection-background": "#35c6e8 35%",
    },
)

LIGHT = Theme(
    name="vector-prime-light",
    primary="#0a6f8f",
    secondary="#4a57c9",
    accent="#b35c00",
    warning="#9a6700",
    error="#c8102e",
    success="#127a3e",
    foreground="#101826",
    background="#eef2f7",
    surface="#ffffff",
    panel="#dde5ef",
    dark=False,
    variables={
        "footer-key-foreground": "#b35c00",
        "block-cursor-background": "#0a6f8f",
    },
)

THEMES = (DARK, LIGHT)

RUN_COLORS = ("#35c6e8", "#ffb347", "#ff5fd2", "#7dff6a", "#b48cff", "#ff6b6b", "#f5f06b",
              "#ffffff")
RUN_COLORS_LIGHT = ("#0a6f8f", "#b35c00", "#a0127a", "#2a7a00", "#5b2bbf", "#c8102e",
                    "#7a6a00", "#000000")


def run_color(index: int, dark: bool = True) -> str:
    colors = RUN_COLORS if dark else RUN_COLORS_LIGHT
    return colors[index % len(colors)]
