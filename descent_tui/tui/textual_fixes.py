"""Work-arounds for Textual bugs that hurt descent, each with what it fixes.

**A toast mounted after its notification expired froze the app** (Textual 8.2.8).
A :class:`~textual.widgets._toast.Toast` takes its timer from the notification's
``time_left`` when it is built, and a notification can expire between the toast
rack choosing it and the toast being built (a few milliseconds on a loaded
machine). ``set_timer`` with a negative delay never ends: the timer's loop
counts down for ever without once awaiting, so the event loop stops, the screen
freezes and a core runs at 100 %. Seen in ``benchmarks/classroom_load.py``: one
session of 30 spun for minutes after a 2-second "Taking N steps…" notice. The
toast now gets at least :data:`MIN_TOAST_SECONDS`, then goes as it should.
"""

from __future__ import annotations

from typing import Any

from textual.widgets._toast import Toast

__all__ = ["MIN_TOAST_SECONDS", "apply"]

#: the least time a toast is given (a zero delay divides by zero in Textual's timer)
MIN_TOAST_SECONDS = 0.1


def apply() -> None:
    """Install the work-arounds (once; later calls do nothing)."""
    if getattr(Toast._on_mount, "_descent_fix", False):
        return
    mount = Toast._on_mount

    def _on_mount(self: Toast, event: Any) -> None:
        self._timeout = max(MIN_TOAST_SECONDS, self._timeout)
        mount(self, event)

    _on_mount._descent_fix = True  # type: ignore[attr-defined]
    Toast._on_mount = _on_mount  # type: ignore[method-assign]
