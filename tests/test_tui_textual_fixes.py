"""The Textual work-arounds (descent_tui.tui.textual_fixes)."""

from __future__ import annotations

import time

from textual.notifications import Notification
from textual.widgets._toast import Toast

import descent_tui.tui.app  # noqa: F401  (installs the fixes, as the app does)
from descent_tui.tui.textual_fixes import MIN_TOAST_SECONDS


def test_a_toast_whose_notification_already_expired_gets_a_positive_timer():
    """Built a moment after its notification expired, a toast asked Textual for a
    negative timer, whose loop never awaits: the app froze at 100 % CPU. (Run for real,
    the unfixed case would hang this test, so the timer's delay is read instead.)"""
    note = Notification("Taking 10 steps…", timeout=0.001)
    time.sleep(0.01)
    toast = Toast(note)
    assert toast._timeout < 0  # what Textual computed: the notification is gone
    delays = []
    toast.set_timer = lambda delay, callback: delays.append(delay)  # type: ignore[method-assign]
    toast._on_mount(None)
    assert delays == [MIN_TOAST_SECONDS]
    fresh = Toast(Notification("Predictions locked.", timeout=3))
    fresh.set_timer = lambda delay, callback: delays.append(delay)  # type: ignore[method-assign]
    fresh._on_mount(None)
    assert 2.5 < delays[-1] <= 3  # a live notification keeps its own time
