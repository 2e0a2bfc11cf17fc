"""What goes wrong in a scenario, and how it is said.

Every problem a scenario can have ends up as one line
``file[:line]: key.path: what is wrong (got X, expected Y)``:

* :class:`ScenarioError` carries those lines (``problems``);
* :class:`Problems` is the list the rules fill with ``(key path, message)``
  pairs, turned into lines (with line numbers when the text is known) by
  :meth:`Problems.format`;
* :func:`did_you_mean` suggests the closest name, :func:`describe` and
  :func:`short` show a bad value, :func:`msgspec_message` rewords a msgspec
  validation error in the same voice.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from descent_tui.scenario.keylines import key_lines, lookup_line
from descent_tui.scenario.text import clip, safe_text

__all__ = ["MAX_COLLECTED", "MAX_PROBLEMS", "Problems", "ScenarioError", "describe", "did_you_mean",
           "follow", "more_line", "msgspec_message", "short"]


#: the most problem lines one error reports
MAX_PROBLEMS = 20
#: the most problems a check collects before it only counts them
MAX_COLLECTED = 200


class ScenarioError(Exception):
    """A scenario file could not be used.

    ``problems`` is a list of one-line messages, each of the form
    ``file[:line]: key.path: what is wrong (got X, expected Y)``.
    ``str(error)`` joins them with newlines.  However many problems are given,
    at most :data:`MAX_PROBLEMS` lines are kept (the last says how many more
    there were), each at most :data:`~descent_tui.scenario.text.MAX_LINE`
    characters long with its control characters escaped: an error message
    stays short and printable whatever the file holds.
    """

    def __init__(self, problems: list[str] | str, path: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [problems]
        lines = [_one_line(str(p)) for p in problems[:MAX_PROBLEMS]] or ["unknown problem"]
        if len(problems) > MAX_PROBLEMS:
            lines.append(more_line(path or lines[0].partition(":")[0],
                                   len(problems) - MAX_PROBLEMS, "problems"))
        self.problems: list[str] = lines
        self.path = path
        super().__init__("\n".join(self.problems))


def more_line(name: str, n: int, what: str) -> str:
    """``name: … and 329,992 more problems``: the line that ends a cut list."""
    return f"{safe_text(name)}: … and {n:,} more {what}"


def _one_line(text: str) -> str:
    """A problem on one short, printable line: control characters and line breaks
    escaped (:func:`~descent_tui.scenario.text.safe_text`), cut to ``MAX_LINE``."""
    return clip(safe_text(text))


class Problems:
    """The problems found so far, as ``(key path, message)`` pairs in the order found.

    Only the first :data:`MAX_COLLECTED` are kept; the rest are counted
    (``dropped``), so a file of a million mistakes costs no more than a few.
    """

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []
        self.dropped = 0

    def add(self, path: str, message: str) -> None:
        if self.full:
            self.dropped += 1
        else:
            self.items.append((path, message))

    @property
    def full(self) -> bool:
        """No more problems are kept, only counted (a check may skip its wording)."""
        return len(self.items) >= MAX_COLLECTED

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items) + self.dropped

    def format(self, name: str, text: str | None) -> list[str]:
        """One line per problem: ``name[:line]: path: message`` (line looked up in
        ``text``); past :data:`MAX_PROBLEMS`, one line saying how many more."""
        shown = self.items[:MAX_PROBLEMS]
        lines = key_lines(text, {path for path, _ in shown if path}) if text else {}
        out = []
        for path, message in shown:
            line = lookup_line(lines, path)
            where = f"{name}:{line}" if line else name
            out.append(f"{where}: {path}: {message}" if path else f"{where}: {message}")
        if len(self) > MAX_PROBLEMS:
            out.append(more_line(name, len(self) - MAX_PROBLEMS, "problems"))
        return out


#: did_you_mean compares at most this many names, and words up to this long
_MAX_OPTIONS, _MAX_WORD = 1000, 100


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` or ``""``."""
    options = [o for o in options if isinstance(o, str)][:_MAX_OPTIONS]
    if not isinstance(word, str) or not word or len(word) > _MAX_WORD:
        return ""
    # "lrate" -> "lr", "moment" -> "momentum": a shared prefix beats edit distance
    prefixed = [o for o in options if len(o) >= 2 and len(word) >= 2
                and (word.startswith(o) or o.startswith(word))]
    if prefixed:
        best = min(prefixed, key=lambda o: (abs(len(o) - len(word)), o))
        return f" (did you mean '{best}'?)"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(word.lower(), options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def short(value: Any, limit: int = 40) -> str:
    """``repr(value)``, cut to ``limit`` characters."""
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def describe(value: Any) -> str:
    """A bad value in words: ``integer 3``, ``string 'x'``, ``a table``."""
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string {short(value)}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {short(value)}"


_TYPE_WORDS = {
    "`array`": "a list",
    "`object`": "a table",
    "`str`": "a string",
    "`float`": "a number",
    "`int`": "an integer",
    "`bool`": "true or false",
    "`null`": "nothing",
}

_GOT_WORDS = {
    "array": "a list",
    "object": "a table",
    "str": "a string",
    "float": "a number",
    "int": "an integer",
    "bool": "a boolean",
    "null": "nothing",
}

_MSGSPEC_AT = re.compile(r"^(.*?)(?: - at `\$(.*)`)?$", re.DOTALL)


def follow(value: Any, sub: str) -> Any:
    """The part of ``value`` at the relative path ``sub`` (``[0].lr``), or None."""
    for m in re.finditer(r"\[(\d+)\]|\.([^.\[]+)", sub):
        try:
            value = value[int(m.group(1))] if m.group(1) is not None else value[m.group(2)]
        except (LookupError, TypeError):
            return None
    return value


def msgspec_message(err: str, value: Any, path: str) -> tuple[str, str]:
    """Turn ``Expected `int` >= 1 - at `$[0]``` into (path, readable message)."""
    m = _MSGSPEC_AT.match(err)
    msg, sub = (m.group(1), m.group(2) or "") if m else (err, "")
    got = follow(value, sub) if sub else value
    sub_path = path + sub
    msg = msg.replace("Expected", "expected", 1)
    # the value itself where it is one (", got string 'two'"), else its kind (", got a table")
    scalar = isinstance(got, (str, int, float))
    msg = re.sub(r", got `(\w+)`", lambda m: ", got " + (
        describe(got) if scalar else _GOT_WORDS.get(m.group(1), m.group(1))), msg)
    for k, v in _TYPE_WORDS.items():
        msg = msg.replace(k, v)
    msg = msg.replace("`", "")
    if ", got " not in msg:
        msg = f"{msg} (got {describe(got)})"
    return sub_path, msg
