"""Scenario text on screen: shown as text, never read as markup, never sent as control codes.

A mission file comes from a stranger.  Its titles, briefings, run labels and
quiz text may contain Rich/Textual markup (``[/b]``, ``[link=…]``,
``[@click=app.quit]``) or terminal control characters (ESC, BEL, NUL, written
in TOML as ``\\u001b``).  Every widget that shows such text receives it through
one of these functions:

* :func:`clean` -- the string with every control character replaced by a
  visible escape (``\\x1b``); newlines are kept (or turned into spaces for
  one-line places), a tab becomes a space;
* :func:`content` -- a Textual :class:`~textual.content.Content` of the cleaned
  text: literal text for ``Static``, ``RadioButton``, ``Select`` options and
  border titles (a plain ``str`` there would be parsed as markup);
* :func:`text` -- the same as a Rich :class:`~rich.text.Text`;
* :func:`escape` -- the cleaned text escaped for the app's *own* markup
  (notifications, strings the app composes with ``[b]…[/b]`` around them).
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.content import Content

__all__ = ["clean", "content", "escape", "text"]

#: C0 controls but newline, DEL, C1 controls, and the bidirectional overrides
#: (which reorder what is shown: a label could pretend to be another)
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    ch = match.group()
    if ch == "\t":
        return " "
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(value: object, *, one_line: bool = False) -> str:
    """``value`` as a string with control characters made visible (``\\x1b``)."""
    s = _CONTROL.sub(_visible, str(value))
    return s.replace("\n", " ") if one_line else s


def content(value: object, style: str = "", *, one_line: bool = False) -> Content:
    """Literal (never markup) Textual content of the cleaned text."""
    c = Content(clean(value, one_line=one_line))
    return c.stylize(style) if style else c


def text(value: object, style: str = "", *, one_line: bool = False) -> Text:
    """Literal Rich text of the cleaned text."""
    return Text(clean(value, one_line=one_line), style=style)


def escape(value: object, *, one_line: bool = False) -> str:
    """The cleaned text, escaped to sit inside the app's own markup.

    Every ``[`` is written ``\\[``, so no tag can open or close; the markup
    parser turns it back into a literal ``[``.
    """
    return clean(value, one_line=one_line).replace("[", "\\[")
