"""The scrub bar under the loss plot: where the runs are on their timeline.

One line, its width the run's whole length (``total`` steps)::

    step 120  ━━━━━━━━━●━━━━━━⑂━━━━━━━━────────────────  300 reached / 1000

The thick part is the stretch trained so far (steps 0 to ``reached``), ``●`` the
step every view shows now, ``⑂`` each fork's birth (in the fork's run colour),
the thin part what is still ahead. A click anywhere on the bar asks to jump
there (:class:`ScrubBar.Jump`, a step clamped to what was reached, and the
steps around it that the same cell shows: a cell of a long run covers dozens);
the screen rewinds every run to the one of those steps it reaches quickest
(:meth:`descent_tui.sim.timeline.Timeline.quickest_step`, a step every run has
kept where there is one, so nothing is replayed;
:meth:`descent_tui.sim.timeline.Timeline.rewind`).
The keys ``{`` / ``}``, Home and End are the screen's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget

from descent_tui.tui.run_style import run_style
from descent_tui.tui.widgets.safe import safe_render

__all__ = ["ForkMark", "ScrubBar", "bar_cells"]


@dataclass(frozen=True, slots=True)
class ForkMark:
    """A fork's birth on the bar: its step and its run-style index."""

    step: int
    index: int


def bar_cells(width: int, total: int, step: int, reached: int,
              forks: tuple[ForkMark, ...] = ()) -> list[tuple[str, str]]:
    """The bar's ``width`` cells as ``(glyph, role)``: role ``done`` / ``ahead`` / ``now``
    / ``fork:<index>``. Cell ``i`` covers the steps nearest ``i / (width - 1) * total``."""
    if width <= 0:
        return []
    scale = max(1, total) / max(1, width - 1)
    cells = [("━", "done") if i * scale <= reached + scale / 2 else ("─", "ahead")
             for i in range(width)]
    for mark in forks:
        cells[cell_of(mark.step, width, total)] = ("⑂", f"fork:{mark.index}")
    cells[cell_of(step, width, total)] = ("●", "now")
    return cells


def _runs(cells: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``cells`` as ``(role, glyphs)``: the glyphs of each run of one role joined."""
    runs: list[tuple[str, list[str]]] = []
    for glyph, role in cells:
        if runs and runs[-1][0] == role:
            runs[-1][1].append(glyph)
        else:
            runs.append((role, [glyph]))
    return [(role, "".join(glyphs)) for role, glyphs in runs]


def cell_of(step: int, width: int, total: int) -> int:
    """The cell that shows ``step`` on a bar of ``width`` cells."""
    return max(0, min(width - 1, round(step / max(1, total) * (width - 1))))


class ScrubBar(Widget):
    """``show(step, reached, total, forks)``; a click posts :class:`ScrubBar.Jump`."""

    DEFAULT_CSS = """
    ScrubBar { height: 1; width: 1fr; padding: 0 1; }
    """

    @dataclass
    class Jump(Message):
        """The learner asked for ``step`` (already within 0 to the step reached), or
        any step within ``spread`` of it: the ones the same cell of the bar shows."""

        step: int
        spread: int = 0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.step = 0
        self.reached = 0
        self.total = 1
        self.forks: tuple[ForkMark, ...] = ()

    def show(self, step: int, reached: int, total: int,
             forks: tuple[ForkMark, ...] = ()) -> None:
        shown = (int(step), int(reached), max(1, int(total)), tuple(forks))
        if shown != (self.step, self.reached, self.total, self.forks):
            self.step, self.reached, self.total, self.forks = shown
            self.refresh()

    def _ends(self) -> tuple[str, str]:
        return f"step {self.step}  ", f"  {self.reached} reached / {self.total}"

    def _bar_span(self) -> tuple[int, int]:
        """Where the bar starts in the content and how many cells it has."""
        left, right = self._ends()
        width = self.content_size.width
        if width - len(left) - len(right) < 10:  # narrow: the bar alone, the step before it
            left = f"{self.step} "
            return len(left), max(0, width - len(left))
        return len(left), width - len(left) - len(right)

    @safe_render
    def render(self) -> Any:
        dark = self.app.current_theme.dark
        left, right = self._ends()
        x0, width = self._bar_span()
        if x0 != len(left):
            left, right = f"{self.step} ", ""
        line = Text(left, style="bold", no_wrap=True, overflow="crop")
        # one span per run of cells of one role (a bar is a few runs, not 100 spans)
        for role, glyphs in _runs(bar_cells(width, self.total, self.step, self.reached,
                                            self.forks)):
            if role.startswith("fork:"):
                line.append(glyphs, style=f"bold {run_style(int(role[5:]), dark).color}")
            else:
                line.append(glyphs, style={"done": "#6a9fb5", "ahead": "dim",
                                           "now": "bold #ffd75f"}[role])
        line.append(right, style="dim")
        return line

    def step_at(self, x: int) -> int | None:
        """The step under content column ``x`` (clamped to what was reached), or None."""
        x0, width = self._bar_span()
        if width <= 0 or not 0 <= x - x0 < width:
            return None
        step = round((x - x0) / max(1, width - 1) * self.total)
        return max(0, min(self.reached, step))

    def jump_at(self, x: int) -> ScrubBar.Jump | None:
        """What a click on content column ``x`` asks for: the step under it, and the
        steps either side that its cell shows too (None: off the bar)."""
        step = self.step_at(x)
        if step is None:
            return None
        _, width = self._bar_span()
        return self.Jump(step, int(self.total / max(1, width - 1) / 2))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        jump = None if offset is None else self.jump_at(offset.x)
        if jump is not None:
            self.post_message(jump)
