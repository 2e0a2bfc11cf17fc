"""Scenario text made safe to print: no control characters reach a terminal.

A scenario file is written by a stranger, and TOML's ``\\u001b`` escapes let it
put any character in a title, a run label or a question: ESC starts the
terminal's control sequences (recolour, retitle the window, write the clipboard
with OSC 52), BEL rings, NUL and the C1 controls mean what the terminal likes,
and the bidirectional overrides make text read differently from what it says.

:func:`safe_text` shows every such character as its Python escape
(``\\x1b``, ``\\x07``, ``\\u202e``), so the text is printed as written and can
do nothing.  Line breaks and tabs are kept only when ``multiline`` is set (a
briefing); otherwise they too are escaped, so one-line texts stay one line.
:func:`clip` shortens a text to a length limit, saying how much was cut.
"""

from __future__ import annotations

import re

__all__ = ["MAX_LINE", "clip", "safe_text"]

#: the longest message or text line the CLI prints in one piece
MAX_LINE = 500

#: C0 and C1 controls, DEL, the line and paragraph separators, bidi overrides
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_BUT_LINES = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    return repr(match.group())[1:-1]  # '\\x1b', '\\n', '\\u202e'


def safe_text(text: object, *, multiline: bool = False) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``).

    ``multiline``: keep newlines and tabs (for briefings); else escape them too.
    Plain text comes back unchanged.
    """
    text = str(text)
    pattern = _UNSAFE_BUT_LINES if multiline else _UNSAFE
    return pattern.sub(_escape, text)


def clip(text: str, limit: int = MAX_LINE) -> str:
    """``text`` cut to about ``limit`` characters, ending ``… (N more characters)``."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"
