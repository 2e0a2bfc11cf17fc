"""Command palette (ctrl+p): "Open mission: …" for every mission, searchable by name."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from descent_tui.tui.safe_text import clean

__all__ = ["MissionCommands", "command_title"]


def command_title(spec: Any) -> str:
    """``Open mission: CH 1 · The Bowl: Choosing a Step Size``."""
    return clean(f"Open mission: CH {spec.chapter} · {spec.title}", one_line=True)


class MissionCommands(Provider):
    """One command per readable mission (shipped, user, command line)."""

    async def startup(self) -> None:
        self._entries: list[Any] = await asyncio.to_thread(self._read_archive)

    def _read_archive(self) -> list[Any]:
        from descent_tui.scenario.catalog import discover

        try:
            good, _broken = discover(getattr(self.app, "extra_paths", []))
        except Exception:  # an unreadable archive: the board says so, the palette is quiet
            return []
        return list(good)

    def _open(self, entry: Any) -> None:
        self.app.open_mission_from_palette(entry)  # type: ignore[attr-defined]

    async def discover(self) -> Hits:
        for entry in self._entries:
            yield DiscoveryHit(command_title(entry.spec), partial(self._open, entry),
                               help=clean(entry.spec.id))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for entry in self._entries:
            title = command_title(entry.spec)
            score = max(matcher.match(title), matcher.match(f"Open mission: {entry.spec.id}"))
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._open, entry),
                          help=clean(entry.spec.id))
