"""Checkpoints of one run: its full state at spaced steps, in bounded memory.

A *checkpoint* is a deep copy of a :class:`~descent_tui.sim.run.Run` after ``k``
updates: parameters and gradients, the optimizer's ``state`` and
``param_groups``, the scheduler, a network's shuffled order, position in it and
its random generator, the pending batch, the record, best loss, thresholds and
divergence flags. What every run of a scenario shares (the problem, its data,
the scenario and the run's settings, all read-only) is shared, not copied.

The history is not copied into each checkpoint: between two decimations a
:class:`~descent_tui.sim.history.History` only appends rows, so one copy of its
kept rows per ``stride`` (:class:`HistoryArchive`) serves every checkpoint taken
at that stride; a checkpoint keeps only how many rows it had and which series.

Spacing (:class:`SpacingPolicy`): a checkpoint at every multiple of ``spacing``
steps; when there would be more than ``budget`` of them, every second one goes
and the spacing doubles. So a run of ``N`` steps keeps at most ``budget``
checkpoints (step 0 always among them) spaced ``spacing <= 2 N / budget`` apart,
and any step is reached by replaying at most ``spacing - 1`` steps forward.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from descent_tui.sim.history import History
from descent_tui.sim.run import Run

__all__ = ["CHECKPOINT_BUDGET", "Checkpoint", "HistoryArchive", "SpacingPolicy", "copy_run"]

#: checkpoints one run keeps at most (step 0 included)
CHECKPOINT_BUDGET = 128


class SpacingPolicy:
    """Which steps keep a checkpoint: multiples of ``spacing``, doubling past ``budget``."""

    def __init__(self, budget: int = CHECKPOINT_BUDGET, spacing: int = 1) -> None:
        if budget < 2:
            raise ValueError("a checkpoint budget is at least 2 (step 0 and one more)")
        self.budget = int(budget)
        self.spacing = max(1, int(spacing))

    def wants(self, step: int) -> bool:
        """True if a checkpoint belongs at ``step`` under the current spacing."""
        return step % self.spacing == 0

    def thin(self, steps: list[int]) -> list[int]:
        """The steps to drop so that at most ``budget`` remain (doubles the spacing as needed)."""
        kept = sorted(steps)
        dropped: list[int] = []
        while len(kept) > self.budget:
            self.spacing *= 2
            dropped += [s for s in kept if s % self.spacing]
            kept = [s for s in kept if s % self.spacing == 0]
        return dropped


def _shared(run: Run) -> dict[int, Any]:
    """A deepcopy memo that shares the read-only objects every copy of ``run`` can use."""
    keep: list[Any] = [run.spec, run.config, getattr(run, "problem", None)]
    data = getattr(getattr(run, "problem", None), "data", None)
    if data:
        keep += list(data.values())
    memo: dict[int, Any] = {id(x): x for x in keep if x is not None}
    memo[id(run.history)] = None  # the history travels through a HistoryArchive
    return memo


def copy_run(run: Run, history: History | None) -> Run:
    """A deep copy of ``run`` with ``history`` as its history (shared parts shared).

    The optimizer remembers each group's last lr by ``id(group)``; the copy's
    record is re-keyed to the copy's groups.
    """
    twin: Run = copy.deepcopy(run, _shared(run))
    twin.history = history  # type: ignore[assignment]
    old, new = run.optimizer, twin.optimizer
    if old is not None and hasattr(old, "_last_lr"):
        last = old._last_lr
        new._last_lr = {id(g2): last[id(g1)] for g1, g2
                        in zip(old.param_groups, new.param_groups, strict=True) if id(g1) in last}
    return twin


@dataclass(frozen=True, slots=True)
class HistoryMark:
    """Where a history stood at a checkpoint: its stride, rows, series and latest point."""

    capacity: int
    stride: int
    rows: int
    offered: int
    names: tuple[str, ...]
    latest: dict[str, float]
    latest_step: int | None


class HistoryArchive:
    """One copy of a run's kept history rows per stride, shared by that stride's checkpoints."""

    def __init__(self) -> None:
        self._by_stride: dict[int, tuple[np.ndarray, dict[str, np.ndarray]]] = {}

    def mark(self, history: History) -> HistoryMark:
        """Archive ``history``'s rows (if longer than what is kept) and say where it stands."""
        steps, cols = history.prefix()
        kept = self._by_stride.get(history.stride)
        if kept is None or len(kept[0]) < len(steps) or set(cols) - set(kept[1]):
            self._by_stride[history.stride] = (steps.copy(),
                                               {k: v.copy() for k, v in cols.items()})
        return HistoryMark(history.capacity, history.stride, len(steps),
                           history._offered, tuple(cols), dict(history.latest),
                           history.latest_step)

    def history(self, mark: HistoryMark) -> History:
        """The history as it stood at ``mark`` (a new object)."""
        steps, cols = self._by_stride[mark.stride]
        n = mark.rows
        return History.from_prefix(mark.capacity, mark.stride, mark.offered, steps[:n],
                                   {k: cols[k][:n] for k in mark.names}, mark.latest,
                                   mark.latest_step)

    def prune(self, marks: list[HistoryMark]) -> None:
        """Forget the strides no remaining checkpoint refers to."""
        live = {m.stride for m in marks}
        for stride in list(self._by_stride):
            if stride not in live:
                del self._by_stride[stride]

    def cut(self, marks: list[HistoryMark]) -> None:
        """Keep only the rows the remaining ``marks`` use (the future after them is rewritten)."""
        rows: dict[int, int] = {}
        for m in marks:
            rows[m.stride] = max(rows.get(m.stride, 0), m.rows)
        for stride, (steps, cols) in list(self._by_stride.items()):
            n = rows.get(stride)
            if n is None:
                del self._by_stride[stride]
            else:
                self._by_stride[stride] = (steps[:n], {k: v[:n] for k, v in cols.items()})

    def nbytes(self) -> int:
        return sum(s.nbytes + sum(c.nbytes for c in cols.values())
                   for s, cols in self._by_stride.values())


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A run after ``step`` updates: a detached copy and where its history stood."""

    step: int
    run: Run
    history: HistoryMark

    @classmethod
    def take(cls, run: Run, archive: HistoryArchive) -> Checkpoint:
        return cls(run.step, copy_run(run, None), archive.mark(run.history))

    def restore(self, archive: HistoryArchive) -> Run:
        """A fresh live copy of the run at this checkpoint (the checkpoint is not touched)."""
        return copy_run(self.run, archive.history(self.history))
