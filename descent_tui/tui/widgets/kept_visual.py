"""Long Rich text (a briefing, a debrief) laid out once per width, not once per layout.

Textual forgets a Static's measured height whenever the widget is resized or
repainted, and then measures it again by rendering the whole renderable; each
repaint renders it once more. For a page of Markdown that is 5-30 ms a time,
and a run's start or end (a status line growing a row, the debrief opening)
lays the screen out two or three times in a row. :class:`KeptVisual` keeps
the height and the rendered lines of its renderable for the last few widths:
the text is only laid out again when it changes (a new ``KeptVisual``) or is
shown at a new width. :class:`KeptLines` does the same for one part of a group
of renderables: the briefing's Markdown, beside watch-for notes that a run ticks.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, RichVisual

#: widths remembered: a resize goes back and forth between a few
KEPT_WIDTHS = 4


class KeptVisual(RichVisual):
    """A Rich renderable whose height and lines are kept per width (the content is fixed)."""

    def __init__(self, widget: Any, renderable: RenderableType) -> None:
        super().__init__(widget, renderable)
        self._heights: dict[int, int] = {}
        self._strips: dict[tuple[int, int | None, Style], list[Strip]] = {}

    def get_height(self, rules: Any, width: int) -> int:
        if width not in self._heights:
            _forget_oldest(self._heights)
            self._heights[width] = super().get_height(rules, width)
        return self._heights[width]

    def render_strips(self, width: int, height: int | None, style: Style,
                      options: RenderOptions) -> list[Strip]:
        if options.selection is not None:  # a selection is drawn into the lines: no keeping
            return super().render_strips(width, height, style, options)
        key = (width, height, style)
        if key not in self._strips:
            _forget_oldest(self._strips)
            self._strips[key] = super().render_strips(width, height, style, options)
        return self._strips[key]


def _forget_oldest(kept: dict[Any, Any]) -> None:
    """Make room for one more entry: drop the oldest past :data:`KEPT_WIDTHS`."""
    while len(kept) >= KEPT_WIDTHS:
        del kept[next(iter(kept))]


class KeptLines:
    """A Rich renderable drawn once per width and then replayed: the briefing's Markdown,
    inside a group whose other lines (the watch-for notes) change during a run."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable
        self._lines: dict[int, list[list[Segment]]] = {}

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        if width not in self._lines:
            _forget_oldest(self._lines)
            self._lines[width] = console.render_lines(self.renderable, options.reset_height(),
                                                      pad=False)
        new_line = Segment.line()
        for line in self._lines[width]:
            yield from line
            yield new_line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.renderable)
