"""Briefing and debrief text in the voice of the outpost's lead engineer."""

from __future__ import annotations

import re
from typing import Any

from rich.console import Group
from rich.markdown import Markdown
from rich.text import Text
from textual.widgets import Static

from descent_tui.tui.safe_text import clean, text
from descent_tui.tui.theme import ENGINEER, OUTPOST, markdown_options
from descent_tui.tui.widgets.kept_visual import KeptLines, KeptVisual


def watch_line(note: Any, ticked: bool) -> Text:
    """One watch-for note: ``▸`` a plain note, ``○`` one the run will tick off, ``✓`` ticked."""
    if note.when is None:
        return text(f" ▸ {note.text}")
    if ticked:
        return Text.assemble((" ✓ ", "bold green"), text(note.text, "dim"))
    return text(f" ○ {note.text}")


def briefing_markdown(spec: Any, *, dark: bool = True) -> Markdown:
    """The briefing's text (code styled for ``dark``)."""
    body = clean(spec.briefing or "No briefing on file. Trust the gradients.").strip()
    return Markdown(body, **markdown_options(dark))


def briefing_renderable(spec: Any, *, dark: bool = True,
                        ticked: frozenset[int] = frozenset(), body: Any = None) -> Group:
    """The mission briefing: header, text, "watch for" notes (code styled for ``dark``;
    ``ticked``: indices of the notes the run showed; ``body``: the text, if already made
    by :func:`briefing_markdown`)."""
    parts: list[Any] = []
    parts.append(Text.assemble(("◆ ", "bold"), (f"{ENGINEER.upper()}", "bold"),
                               (f" · {OUTPOST} · chapter {spec.chapter}", "dim")))
    parts.append(body if body is not None else briefing_markdown(spec, dark=dark))
    parts.append(Text(""))
    if spec.watch_for:
        parts.append(Text("WATCH FOR", style="bold"))
        for i, note in enumerate(spec.watch_items):
            parts.append(watch_line(note, i in ticked))
    parts.append(Text(""))
    parts.append(Text.assemble(
        ("BACKPROP INSPECTOR  ", "bold"), ("press ", "dim"), ("[g]", "bold"),
        (" to watch this step's blame flow backwards, node by node, and ", "dim"),
        ("[e]", "bold"), (" inside it for y = 2x, z = y² worked by hand.", "dim")))
    return Group(*parts)


class Briefing(Static):
    """The briefing panel of a mission."""

    def __init__(self, spec: Any, **kwargs: Any) -> None:
        self.spec = spec
        self.ticked: frozenset[int] = frozenset()
        self._body: tuple[bool, KeptLines] | None = None  # (dark, the text drawn for it)
        super().__init__(KeptVisual(self, briefing_renderable(spec)), **kwargs)

    def on_mount(self) -> None:
        self._restyle(None)
        self.app.theme_changed_signal.subscribe(self, self._restyle)

    def _restyle(self, _theme: Any) -> None:
        """Re-render for the current theme (code blocks follow light / dark). The text is
        drawn once per theme and width: a tick changes only the watch-for notes."""
        dark = self.app.current_theme.dark
        if self._body is None or self._body[0] != dark:
            self._body = (dark, KeptLines(briefing_markdown(self.spec, dark=dark)))
        self.update(KeptVisual(self, briefing_renderable(
            self.spec, dark=dark, ticked=self.ticked, body=self._body[1])))

    def tick(self, ticked: frozenset[int]) -> None:
        """Show the watch-for notes ``ticked`` (indices) as seen; redraw only on a change."""
        if ticked != self.ticked:
            self.ticked = ticked
            self._restyle(None)


_DEBRIEF_TITLE = re.compile(r"\A\s*#{1,6}[ \t]*debrief[ \t]*#*[ \t]*(\n|\Z)", re.IGNORECASE)


def debrief_body(debrief: str | None) -> str:
    """The debrief's Markdown without a leading "## Debrief" heading: the panel is
    already titled "<ENGINEER> — DEBRIEF", and the heading would say it twice."""
    body = (debrief or "Run complete. Log your observations.").strip()
    return _DEBRIEF_TITLE.sub("", body, count=1).strip() or body


class Debrief(Static):
    """Locked until the run ends; then the engineer's debrief and each run's outcome."""

    def __init__(self, spec: Any, **kwargs: Any) -> None:
        self.spec = spec
        super().__init__(self._locked(), **kwargs)

    def _locked(self) -> Text:
        return Text.assemble(("◆ DEBRIEF SEALED\n", "bold"),
                             ("The debrief unlocks when the run ends. Run it to the last step"
                              " (r), or step through it (space).", "dim"))

    def show_locked(self) -> None:
        self.update(self._locked())

    def show(self, summary_rows: list[tuple[str, Text]], note: str | None = None) -> None:
        """The debrief and one line per run: ``(run label, outcome)``; the label is
        scenario text (shown literally), the outcome the app's own styled text.
        ``note`` (e.g. "your knobs changed the runs") is said first, in yellow."""
        parts: list[Any] = [
            Text.assemble(("◆ ", "bold"), (f"{ENGINEER.upper()} — DEBRIEF", "bold")),
            *([text(note, "yellow")] if note else []),
            Markdown(clean(debrief_body(self.spec.debrief)),
                     **markdown_options(self.app.current_theme.dark)),
            Text(""),
        ]
        if self.spec.sources:
            parts.append(Text("SOURCES", style="bold"))
            parts += [text(f" - {src}", "dim", one_line=True) for src in self.spec.sources]
            parts.append(Text(""))
        parts.append(Text("RUN LOG", style="bold"))
        for label, line in summary_rows:
            parts.append(Text.assemble(text(f" {label}: ", "bold", one_line=True), line))
        self.update(KeptVisual(self, Group(*parts)))
