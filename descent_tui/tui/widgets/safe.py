"""A view that fails shows its error in place; it never takes the app down.

Textual ends the whole app on an exception raised while a widget renders. The
wrappers here catch it at the view's edge instead: the widget shows
``this view failed: <error>`` (and the traceback goes to Textual's log), while
every other view and every key keep working. Anything raised elsewhere is still
an uncaught error, and the app exits with a non-zero status
(:func:`descent_tui.tui.app.run_app`).

* :func:`safe_render` wraps a widget's ``render()``;
* :func:`safe_render_line` wraps a line-API widget's ``render_line(y)``;
* :func:`guarded` calls a function that builds content for ``Static.update``.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import log
from textual.strip import Strip

__all__ = ["failure_text", "guarded", "safe_render", "safe_render_line"]

FAILURE_STYLE = "bold #ffffff on #a01830"


def failure_text(error: BaseException) -> Text:
    """The one-line notice a failed view shows instead of its picture."""
    log.error("".join(traceback.format_exception(error)))
    return Text(f"⚠ this view failed: {type(error).__name__}: {error}", style=FAILURE_STYLE)


def safe_render(method: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate ``render(self)``: on an exception, return the failure notice."""

    @functools.wraps(method)
    def render(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as error:
            return failure_text(error)

    return render


def safe_render_line(method: Callable[..., Strip]) -> Callable[..., Strip]:
    """Decorate ``render_line(self, y)``: on an exception, line 0 shows the notice."""

    @functools.wraps(method)
    def render_line(self: Any, y: int) -> Strip:
        try:
            return method(self, y)
        except Exception as error:
            width = self.size.width
            if y != 0:
                return Strip.blank(width)
            text = failure_text(error).plain
            return Strip([Segment(text[:width], Style.parse(FAILURE_STYLE))], width)

    return render_line


def guarded(build: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``build(*args, **kwargs)``, or the failure notice if it raises."""
    try:
        return build(*args, **kwargs)
    except Exception as error:
        return failure_text(error)
