"""Bounded metric history: enough points to plot, never unbounded memory.

A :class:`History` stores at most ``capacity`` points (one row of named float
series per recorded step). It records every ``stride``-th offered point; when
the buffer is full it keeps every second point and doubles the stride, so a
million steps still fit in ``capacity`` rows spread evenly over the whole run.
Series that appear later are NaN-filled for earlier rows.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["History"]


class History:
    """Bounded, decimating store of per-step scalar series.

    ``append(step, values)`` offers one point; ``steps`` and ``series(name)`` read
    the kept points (copies, same length). ``latest`` is the last offered point,
    whether or not it was kept.
    """

    __slots__ = ("_cols", "_n", "_offered", "_steps", "capacity", "latest", "latest_step",
                 "stride")

    def __init__(self, capacity: int = 2000) -> None:
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        self.capacity = int(capacity) - int(capacity) % 2  # even, so halving is exact
        self.stride = 1
        self._n = 0
        self._offered = 0
        self._steps = np.zeros(self.capacity, dtype=np.int64)
        self._cols: dict[str, np.ndarray] = {}
        self.latest: dict[str, float] = {}
        self.latest_step: int | None = None

    # ----------------------------------------------------------------- write
    def append(self, step: int, values: Mapping[str, float]) -> bool:
        """Offer a point; return True if it was kept."""
        self.latest = values
        self.latest_step = int(step)
        offered = self._offered
        self._offered = offered + 1
        if offered % self.stride:
            return False
        if self._n == self.capacity:
            self._decimate()
            if offered % self.stride:
                return False
        i = self._n
        self._steps[i] = step
        cols = self._cols
        for name, v in values.items():
            col = cols.get(name)
            if col is None:
                col = cols[name] = np.full(self.capacity, np.nan)
            col[i] = v
        self._n = i + 1
        return True

    def _decimate(self) -> None:
        half = self.capacity // 2
        self._steps[:half] = self._steps[0:self.capacity:2]
        for col in self._cols.values():
            col[:half] = col[0:self.capacity:2]
            col[half:] = np.nan
        self._n = half
        self.stride *= 2

    def clear(self) -> None:
        self.stride = 1
        self._n = 0
        self._offered = 0
        self._cols = {}
        self.latest = {}
        self.latest_step = None

    # ------------------------------------------------------- snapshots
    def prefix(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The kept rows as views ``(steps, {name: column})`` (no copy: copy before keeping).

        Between two decimations rows are only appended, never rewritten, so a copy of
        today's prefix also holds every earlier prefix taken at the same ``stride``.
        """
        n = self._n
        return self._steps[:n], {name: col[:n] for name, col in self._cols.items()}

    @classmethod
    def from_prefix(cls, capacity: int, stride: int, offered: int, steps: np.ndarray,
                    cols: Mapping[str, np.ndarray], latest: Mapping[str, float],
                    latest_step: int | None) -> History:
        """A history holding ``steps`` / ``cols`` as its kept rows (the inverse of :meth:`prefix`)."""
        h = cls(capacity)
        n = len(steps)
        h.stride, h._n, h._offered = int(stride), n, int(offered)
        h._steps[:n] = steps
        for name, values in cols.items():
            col = h._cols[name] = np.full(h.capacity, np.nan)
            col[:n] = values[:n]
        h.latest, h.latest_step = dict(latest), latest_step
        return h

    # ------------------------------------------------------------------ read
    def __len__(self) -> int:
        return self._n

    @property
    def steps(self) -> np.ndarray:
        """Step numbers of the kept points (a copy)."""
        return self._steps[:self._n].copy()

    @property
    def names(self) -> list[str]:
        return list(self._cols)

    def series(self, name: str) -> np.ndarray:
        """The kept values of ``name`` (a copy; all NaN if never recorded)."""
        col = self._cols.get(name)
        if col is None:
            return np.full(self._n, np.nan)
        return col[:self._n].copy()

    def __contains__(self, name: object) -> bool:
        return name in self._cols

    def to_rows(self, names: list[str] | None = None) -> list[dict[str, float]]:
        """The kept points as dicts ``{"step": .., name: value, ...}``."""
        names = self.names if names is None else names
        cols = [(n, self.series(n)) for n in names]
        out = []
        for i, s in enumerate(self._steps[:self._n]):
            row: dict[str, float] = {"step": int(s)}
            for n, c in cols:
                row[n] = float(c[i])
            out.append(row)
        return out

    def __repr__(self) -> str:
        return (f"History({self._n} points, stride {self.stride}, "
                f"series {', '.join(self._cols) or '-'})")
