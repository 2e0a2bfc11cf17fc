"""Errors raised while reading scenario files."""

from __future__ import annotations

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
        self.problems: list[str] = [str(p) for p in problems] or ["unknown problem"]
        self.path = path
        super().__init__("\n".join(self.problems))
