"""Errors raised while reading scenario files."""

from __future__ import annotations

import re

__all__ = ["ScenarioError"]


class ScenarioError(Exception):
    """A scenario file could not be used.

    ``problems`` is a list of one-line messages, each of the form
    ``file[:line]: key.path: what is wrong (got X, expected Y)``.
    ``str(error)`` joins them with newlines.
    """

    def __init__(self, problems: list[str] | str, path: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.problems: list[str] = [_one_line(str(p)) for p in problems] or ["unknown problem"]
        self.path = path
        super().__init__("\n".join(self.problems))


# everything str.splitlines() would split on, plus other control characters
_BREAKS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _one_line(text: str) -> str:
    """Escape line breaks and control characters so a problem stays on one line."""
    return _BREAKS.sub(lambda m: repr(m.group())[1:-1], text)
