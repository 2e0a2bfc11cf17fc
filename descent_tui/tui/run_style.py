"""One look per run: the colour and the glyph every view draws run ``index`` with.

The legend of the loss plot, the landscape's current points, the status line and
every panel that names a run call :func:`run_style`, so run 2 is the same magenta
triangle everywhere. The glyph keeps the runs apart without colour (a monochrome
terminal, a colour-blind reader, a printout): it is a different shape for each of
the first eight runs. Where a label must be shortened, :func:`abbreviate` cuts it
in the middle, so that "batch 32" and "batch 8" stay told apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from descent_tui.tui.theme import RUN_COLORS, RUN_COLORS_LIGHT

__all__ = ["RUN_GLYPHS", "RunStyle", "abbreviate", "run_style"]

#: one shape per run (cycling after eight), each one terminal cell wide
RUN_GLYPHS = ("●", "▲", "■", "◆", "▼", "★", "◇", "□")


@dataclass(frozen=True)
class RunStyle:
    """How run ``index`` is drawn: ``color`` (``#rrggbb`` on this theme) and ``glyph``."""

    index: int
    color: str
    glyph: str

    def tag(self, label: str) -> str:
        """The run's glyph before its label: ``"▲ momentum"``."""
        return f"{self.glyph} {label}"


def run_style(index: int, dark: bool = True) -> RunStyle:
    """The colour and glyph of run number ``index`` on a dark (or light) background."""
    colors = RUN_COLORS if dark else RUN_COLORS_LIGHT
    return RunStyle(index, colors[index % len(colors)], RUN_GLYPHS[index % len(RUN_GLYPHS)])


def abbreviate(label: str, limit: int) -> str:
    """``label`` in at most ``limit`` characters, cut in the middle so both ends stay.

    "constant 0.5" and "constant 0.02" at 7 become "con…0.5" and "con….02": the
    end of a label often holds what tells two runs apart. ``limit`` 0 drops it.
    """
    if len(label) <= limit:
        return label
    if limit <= 0:
        return ""
    if limit < 5:
        return label[: limit - 1] + "…"
    tail = (limit - 1) // 2
    return label[: limit - 1 - tail] + "…" + label[-tail:]
