"""How fast the mission screen trains: the speed ladder and each mission's default pace.

A speed is a number of steps per second (None: as fast as the machine goes).
The trainer takes :func:`steps_per_round` steps at a time and then waits out
the rest of that round's share of a second, so 1 step/s is one step and a
one-second wait, 500 steps/s is 25 steps every 1/20 s.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["ROUND", "SPEEDS", "HandOverLock", "default_speed_index", "round_seconds",
           "speed_text", "steps_per_round"]

#: steps per second, slowest first; None = as fast as the machine goes
SPEEDS: tuple[int | None, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, None)
#: the shortest wait between two rounds of steps (seconds): 20 redraws a second at most
ROUND = 1 / 20
#: a mission's default pace lets its whole run take at least this long (seconds)
WATCHABLE_SECONDS = 10.0


class HandOverLock:
    """The lock the trainer holds while it steps, which the UI thread gets first.

    Made on the UI thread; while that thread waits to acquire it, :attr:`ui_waiting`
    is True: the trainer then ends its chunk of steps early (between slices) and
    lets it in before taking the next. Any other thread acquires it as a plain lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ui = threading.get_ident()
        self.ui_waiting = False

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if threading.get_ident() != self._ui:
            return self._lock.acquire(blocking, timeout)
        if self._lock.acquire(False):
            return True
        if not blocking:
            return False
        self.ui_waiting = True
        try:
            return self._lock.acquire(True, timeout)
        finally:
            self.ui_waiting = False

    def release(self) -> None:
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *_exc: object) -> None:
        self.release()


def speed_text(index: int) -> str:
    """The status line's word for speed ``index``: ``speed 5/s`` or ``speed MAX``."""
    s = SPEEDS[index]
    return "speed MAX" if s is None else f"speed {s}/s"


def steps_per_round(speed: int) -> int:
    """How many steps one round takes at ``speed`` steps per second (at least one)."""
    return max(1, int(speed * ROUND))


def round_seconds(speed: int) -> float:
    """How long a round lasts at ``speed``: its steps' share of a second."""
    return steps_per_round(speed) / speed


def default_speed_index(spec: Any) -> int:
    """The speed a mission opens at: ``spec.pace`` if set, else ``spec.steps`` in >= 10 s.

    Both are rounded down to the ladder (never below its slowest rung).
    """
    pace = getattr(spec, "pace", None)
    target = pace if pace is not None else spec.steps / WATCHABLE_SECONDS
    best = 0
    for i, s in enumerate(SPEEDS):
        if s is not None and s <= target:
            best = i
    return best
