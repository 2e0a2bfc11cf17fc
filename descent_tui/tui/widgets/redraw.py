"""Repaint only the rows of a drawn widget that changed.

A step moves a plot by a few cells: one more point on each loss curve, one more
segment of each path on the landscape.  A widget that rebuilt its whole picture
and called ``refresh()`` had Textual re-render and re-send every row of it (and,
in a browser, every byte of it: ``descent serve`` runs one app per student on one
machine, see ``benchmarks/classroom_load.py``).  :class:`RowRedraw` is mixed into
the canvas widgets (``_build()`` returns one Strip per row, ``render_line(y)``
returns ``self._lines[y]``): :meth:`RowRedraw.redraw` builds the new picture at
once, reusing the strip of every row whose cells did not change
(:meth:`~descent_tui.tui.widgets.canvas.Canvas.strips`), and refreshes only the
other rows.  A widget that is not laid out yet, whose size changed, or whose
build fails, is refreshed whole and rebuilt lazily as before (a failed build
then shows its error in place, from ``render_line``).
"""

from __future__ import annotations

from typing import Any

from textual.geometry import Region
from textual.strip import Strip

from descent_tui.tui.widgets.canvas import Canvas

__all__ = ["RowRedraw", "set_border"]


def set_border(widget: Any, *, title: Any = None, subtitle: Any = None) -> None:
    """Set ``widget``'s border title and/or subtitle, each only if it changed (setting
    one repaints the whole widget, even to the same text)."""
    for name, value in (("border_title", title), ("border_subtitle", subtitle)):
        if value is None:
            continue
        key = f"_{name}_set"
        if getattr(widget, key, None) != value:
            setattr(widget, key, value)
            setattr(widget, name, value)


class RowRedraw:
    """Mixin for a Widget with ``_build() -> list[Strip]`` and a ``_lines`` cache."""

    _lines: list[Strip] | None
    _drawn: tuple[Canvas, list[Strip]] | None = None

    def _strips(self, canvas: Canvas) -> list[Strip]:
        """``canvas.strips()``, reusing the rows that match the last canvas drawn."""
        strips = canvas.strips(self._drawn)
        self._drawn = (canvas, strips)
        return strips

    def redraw(self: Any) -> None:
        """Build the new picture now and repaint the rows that changed (or all of it)."""
        old = self._lines
        width, height = self.size
        if old is None or len(old) != height or not width or not self.is_mounted:
            self._lines = None
            self.refresh()
            return
        try:
            new = self._build()
        except Exception:  # render_line builds it again, and shows the error there
            self._lines = None
            self.refresh()
            return
        self._lines = new
        changed = [y for y, (a, b) in enumerate(zip(old, new)) if a is not b]
        if len(new) != height or len(changed) == height:
            self.refresh()
        elif changed:
            self.refresh(*(Region(0, y, width, 1) for y in changed))
