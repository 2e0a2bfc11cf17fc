"""Checkpoints of one run: its full state at spaced steps, in bounded memory.

A *checkpoint* is a run's :meth:`~descent_tui.sim.run.Run.state_dict` after ``k``
updates (parameters and gradients, the optimizer's ``state`` and
``param_groups``, the scheduler, a network's shuffled order, position in it and
its random generator, the pending batch, the record, best loss, thresholds and
divergence flags) laid flat by :func:`~descent_tui.sim.flat.flatten`: one byte
buffer, one tuple of numbers and a layout shared by the run's checkpoints of that
shape. So a checkpoint is two objects the garbage collector tracks (itself and
its history mark), not the fifty or so of a copied run: thousands of them no
longer make every full collection walk thousands of object trees.
:meth:`Checkpoint.restore` loads it into a run (``Run.load_state_dict``): the
timeline's live run when it rewinds, or a copy (:func:`copy_run`) for a detached
state. What every run of a scenario shares (the problem, its data, the scenario
and the run's settings, all read-only) is never in a checkpoint.

The history is not copied into each checkpoint: between two decimations a
:class:`~descent_tui.sim.history.History` only appends rows, so one copy of its
kept rows per ``stride`` (:class:`HistoryArchive`) serves every checkpoint taken
at that stride; a checkpoint keeps only how many rows it had and which series.

A network run's pending batch carries the activations of its last forward pass
(what the next update's layer records read). A checkpoint leaves them out and
``load_state_dict`` recomputes them with the run's own ``forward`` on the same
micro-batch at the same weights: the same code on the same inputs, so the same
bits; a full batch is the problem's own arrays, named rather than copied.

Spacing (:class:`SpacingPolicy`): a checkpoint at every multiple of ``spacing``
steps; when there would be more than ``budget`` of them, every second one goes
and the spacing doubles. So a run of ``N`` steps keeps at most ``budget``
checkpoints (step 0 always among them) spaced ``spacing <= 2 N / budget`` apart,
and any step is reached by replaying at most ``spacing - 1`` steps forward. For
a run whose length is planned (a mission's ``steps``), the first thinning goes
straight to the spacing that fits them all in the budget (:meth:`SpacingPolicy.plan`,
``ceil(N / budget)``): every step is kept until the budget is full, then one every
``ceil(N / budget)``; past the planned steps, the doubling goes on.

The budget is a memory budget: :data:`CHECKPOINT_BYTES` (64 MiB) per run. The
count is that divided by the measured size of one checkpoint
(:meth:`Checkpoint.nbytes`, the largest of the run's first few), never below
:data:`MIN_CHECKPOINTS` (128) and never above :data:`MAX_CHECKPOINTS` (4096:
a landscape run, under 2 kB a checkpoint, replays microsecond steps and needs no
more). The 2-16-16-1 networks of the missions (13-16 kB a checkpoint) keep 4095,
so a 10,000-step run keeps every step up to 4,095, then one every 3 steps (3,334
checkpoints at the end, about 50 MiB) and replays at most 2 steps to reach any
step. A scrub-bar jump replays every run from its nearest checkpoint, so the
spacing sets what a jump costs (doubled from 1 it would be 4; with half this
budget, 8: up to 21 steps for three runs). Peak memory stays
bounded whatever the run's length: at most 64 MiB of checkpoints a run (or 128
checkpoints of a large network), plus each stride's copy of the history rows
(at most the history's capacity per stride kept).
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from descent_tui.sim.flat import Layout, flatten, unflatten
from descent_tui.sim.history import History
from descent_tui.sim.run import Run

__all__ = ["CHECKPOINT_BUDGET", "CHECKPOINT_BYTES", "MAX_CHECKPOINTS", "MIN_CHECKPOINTS", "Checkpoint",
           "HistoryArchive", "SpacingPolicy", "budget_for", "copy_run"]

#: the memory one run's checkpoints may take (bytes, as measured by :meth:`Checkpoint.nbytes`)
CHECKPOINT_BYTES = 64 * 2**20
#: checkpoints a run keeps at least, however large one is (step 0 included)
MIN_CHECKPOINTS = 128
#: checkpoints a run keeps at most, however small one is
MAX_CHECKPOINTS = 4096
#: the old fixed count (kept as the floor's name for callers)
CHECKPOINT_BUDGET = MIN_CHECKPOINTS


def budget_for(nbytes: int, memory: int = CHECKPOINT_BYTES) -> int:
    """How many checkpoints of ``nbytes`` each fit in ``memory`` (between the floor and the cap)."""
    return max(MIN_CHECKPOINTS, min(MAX_CHECKPOINTS, int(memory) // max(1, int(nbytes))))


class SpacingPolicy:
    """Which steps keep a checkpoint: multiples of ``spacing``, thinned past ``budget``
    (to the :meth:`plan`'s spacing the first time, else doubling)."""

    def __init__(self, budget: int = CHECKPOINT_BUDGET, spacing: int = 1) -> None:
        if budget < 2:
            raise ValueError("a checkpoint budget is at least 2 (step 0 and one more)")
        self.budget = int(budget)
        self.spacing = max(1, int(spacing))
        #: the spacing a run's planned length needs to fit the budget (0: none planned)
        self.planned = 0

    def plan(self, length: int) -> None:
        """Plan for a run of ``length`` steps: the smallest spacing that fits them all in
        the budget, ``ceil(length / budget)``, is where the first thinning goes.
        Doubling from 1 ends between one and two times it (4 for 10,000 steps in
        4,095, where 3 fits): up to twice the replay for the same memory."""
        self.planned = -(-int(length) // self.budget)

    def wants(self, step: int) -> bool:
        """True if a checkpoint belongs at ``step`` under the current spacing."""
        return step % self.spacing == 0

    def thin(self, steps: list[int]) -> list[int]:
        """The steps to drop so that at most ``budget`` remain: the spacing goes to the
        planned one if that is a multiple of it (so every multiple of the new spacing
        is among the kept), else doubles, as often as needed."""
        kept = sorted(steps)
        dropped: list[int] = []
        while len(kept) > self.budget:
            planned = self.planned
            self.spacing = planned if planned > self.spacing and planned % self.spacing == 0 \
                else 2 * self.spacing
            dropped += [s for s in kept if s % self.spacing]
            kept = [s for s in kept if s % self.spacing == 0]
        return dropped


def copy_run(run: Run, history: History | None) -> Run:
    """A deep copy of ``run`` with ``history`` as its history (what every run of the
    scenario shares, read-only, is shared: the spec, the settings, the problem and its data).

    The optimizer remembers each group's last lr by ``id(group)``; the copy's
    record is re-keyed to the copy's groups.
    """
    keep: list[Any] = [run.spec, run.config, getattr(run, "problem", None)]
    data = getattr(getattr(run, "problem", None), "data", None)
    if data:
        keep += list(data.values())
    memo: dict[int, Any] = {id(x): x for x in keep if x is not None}
    memo[id(run.history)] = None
    twin: Run = copy.deepcopy(run, memo)
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
    """A run after ``step`` updates: its :meth:`~descent_tui.sim.run.Run.state_dict`
    laid flat (:func:`~descent_tui.sim.flat.flatten`: a layout shared with the run's
    other checkpoints of that shape, one byte buffer, one tuple of scalars) and where
    its history stood."""

    step: int
    layout: Layout
    buffer: np.ndarray
    scalars: tuple[Any, ...]
    history: HistoryMark

    @classmethod
    def take(cls, run: Run, archive: HistoryArchive,
             layouts: dict[Layout, Layout] | None = None) -> Checkpoint:
        """Checkpoint ``run`` as it stands; ``layouts`` interns the layouts (one object
        per shape of state)."""
        layout, buffer, scalars = flatten(run.state_dict())
        if layouts is not None:
            layout = layouts.setdefault(layout, layout)
        return cls(run.step, layout, buffer, scalars, archive.mark(run.history))

    def nbytes(self) -> int:
        """The checkpoint's own memory: its buffer, scalars and history mark (the
        layout, shared, and the archived history rows are not counted)."""
        mark = self.history
        return (sys.getsizeof(self) + sys.getsizeof(self.buffer)  # (the array's bytes included)
                + sys.getsizeof(self.scalars) + sum(sys.getsizeof(x) for x in self.scalars)
                + sys.getsizeof(mark) + sys.getsizeof(mark.latest) + sys.getsizeof(mark.names)
                + sum(sys.getsizeof(v) for v in mark.latest.values()))

    def restore(self, archive: HistoryArchive, into: Run) -> Run:
        """Put ``into`` (this checkpoint's run, or a copy of it) in the checkpointed state,
        history included; the checkpoint is not touched. Returns ``into``."""
        into.load_state_dict(unflatten(self.layout, self.buffer, self.scalars))
        into.history = archive.history(self.history)
        return into
