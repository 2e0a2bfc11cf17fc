"""The timeline: any past step of any run, exactly, and forks that ask "what if?".

    timeline = Timeline(sim)              # before or after stepping: it checkpoints from now on
    sim.step(500)
    then = timeline.state_at(0, 120)      # run 0 after 120 updates: a detached copy
    fork = timeline.fork(0, 120, {"lr": 0.1})   # "SGD ⑂ step 120, lr 0.1", trained beside it
    timeline.rewind(120)                  # every run of sim back to step 120

A :class:`Timeline` listens to its simulation (``sim.on_step``, ``sim.on_set_lr``)
and keeps, per run, checkpoints of its full state at spaced steps
(:mod:`descent_tui.sim.checkpoints`: a memory budget per run, 64 MiB, and at
least 128 checkpoints; or a fixed count, ``budget``) and the log of
learning-rate changes made between steps. :meth:`Timeline.state_at` restores
the nearest checkpoint at or before ``k`` and replays forward with the same code
as the first pass (``Run.advance``), re-applying the logged changes at the steps
they were made, so the state it returns is, bit for bit, the one the run was in
after ``k`` updates (and the changes made at step ``k``).

A *fork* is a new run started from exactly the state of a run at step ``k``
with some settings changed (``lr``, ``optimizer``, ``momentum``, ``clip_norm``
...: :data:`FORK_SETTINGS`, checked like ``--set``). It keeps its parent's
optimizer buffers when the optimizer stays the same kind, starts a fresh one
otherwise, and its scheduler continues. Forks live in :attr:`Timeline.forks`,
never in ``sim.runs``: quizzes grade the runs as first trained. Every step of
the simulation also steps each fork that is behind it; forks can be forked and
dropped. With no setting changed a fork equals its parent, bitwise, from ``k`` on.
A fork does not exist before its birth step: rewound to before it, it waits at its
birth state, and :meth:`Timeline.born` (what the views show) leaves it out.

The checkpoints are flat (:mod:`descent_tui.sim.flat`: a byte buffer and a tuple of
numbers each, nothing the garbage collector walks), and :meth:`Timeline.rewind`
loads one into the live run object and replays from there, without copying runs.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
import numpy as np

from descent_tui.scenario.overrides import OverrideError, apply
from descent_tui.sim import build
from descent_tui.sim.checkpoints import (
    CHECKPOINT_BYTES,
    Checkpoint,
    HistoryArchive,
    SpacingPolicy,
    budget_for,
    copy_run,
)
from descent_tui.sim.run import Run

__all__ = ["FORK_SETTINGS", "ForkOrigin", "Timeline", "Track"]

#: the run settings a fork may change (the rest define the start it shares with its parent)
FORK_SETTINGS = frozenset({
    "optimizer", "lr", "momentum", "dampening", "nesterov", "weight_decay", "betas", "beta1",
    "beta2", "eps", "alpha", "centered", "amsgrad", "lr_decay", "damping", "clip_norm",
    "clip_value", "accumulate", "forget_zero_grad", "apply_twice", "bias_correction",
    "batch_size"})
#: settings the run reads at every step (changing them needs no new optimizer)
_STEP_SETTINGS = frozenset({"clip_norm", "clip_value", "accumulate", "forget_zero_grad",
                            "apply_twice", "batch_size"})
#: how many of a run's first checkpoints are measured to size its budget
_MEASURED = 3


@dataclass(frozen=True, slots=True)
class ForkOrigin:
    """Where a fork comes from: its parent's label, the step, and the settings changed."""

    parent: str
    step: int
    changes: tuple[tuple[str, Any], ...]


@dataclass
class Track:
    """One run's checkpoints, learning-rate log and spacing (``origin``: set for a fork)."""

    run: Run
    policy: SpacingPolicy
    archive: HistoryArchive = field(default_factory=HistoryArchive)
    checkpoints: dict[int, Checkpoint] = field(default_factory=dict)
    #: the layouts of the checkpoints' flat states, one object per shape
    layouts: dict[Any, Any] = field(default_factory=dict)
    #: states a rewind passed through near the step it went to (taken like checkpoints,
    #: at most ``policy.spacing + 3``): ``[`` and ``]`` around that step load one
    #: instead of replaying up to ``spacing - 1`` steps
    recent: dict[int, Checkpoint] = field(default_factory=dict)
    #: step -> the learning rates set at that step, in order
    edits: dict[int, list[float]] = field(default_factory=dict)
    origin: ForkOrigin | None = None
    #: the memory budget (bytes) the count follows; None: ``policy.budget`` is fixed
    memory: int | None = None
    #: the step the run is meant to reach (its ``total_steps``; 0: not known): the
    #: thinning is planned for it once the budget is measured
    planned: int = 0
    #: the largest checkpoint measured so far (the first few are measured)
    checkpoint_bytes: int = 0
    _measured: int = 0
    #: the furthest step the run has been trained to (its recorded future ends there)
    reached: int = 0

    #: the step of the first checkpoint (0, or a fork's birth): kept outside the spacing
    born: int | None = None

    @property
    def first_step(self) -> int:
        if self.born is None:
            raise ValueError("the track has no checkpoint yet")
        return self.born

    def keep(self) -> None:
        """Checkpoint the run where it stands, if the spacing wants it there."""
        s = self.run.step
        self.reached = max(self.reached, s)
        if s in self.checkpoints or not (self.policy.wants(s) or not self.checkpoints):
            return
        self.checkpoints[s] = Checkpoint.take(self.run, self.archive, self.layouts)
        if self.born is None:
            self.born = s
        if self.memory is not None and self._measured < _MEASURED:
            self._measured += 1
            self.checkpoint_bytes = max(self.checkpoint_bytes, self.checkpoints[s].nbytes())
            # step 0 is kept outside the spacing
            self.policy.budget = min(self.policy.budget,
                                     budget_for(self.checkpoint_bytes, self.memory) - 1)
            if self.planned > s:
                self.policy.plan(self.planned - self.first_step)
        # thinning and pruning look at every checkpoint: only when the spacing is over budget
        # (a checkpoint at a stride already archived leaves nothing to prune)
        if len(self.checkpoints) - 1 <= self.policy.budget:
            return
        born = self.first_step
        for gone in self.policy.thin([k for k in self.checkpoints if k != born]):
            del self.checkpoints[gone]
        self.archive.prune(self._marks())

    def _marks(self) -> list[Any]:
        """Where the history stood at every state kept (the archive keeps what they use)."""
        return [c.history for c in (*self.checkpoints.values(), *self.recent.values())]

    def forget_after(self, step: int) -> None:
        """The run's future after ``step`` changed: drop the checkpoints and edits beyond it."""
        self.reached = step
        for k in [k for k in self.checkpoints if k > step]:
            del self.checkpoints[k]
        for k in [k for k in self.edits if k > step]:
            del self.edits[k]
        for k in [k for k in self.recent if k > step]:
            del self.recent[k]
        self.archive.cut(self._marks())

    def keeps(self, k: int) -> bool:
        """Whether the state after ``k`` updates is kept (a checkpoint or a recent one)."""
        return k in self.checkpoints or k in self.recent

    def _nearest(self, k: int) -> int:
        """The latest step at or before ``k`` with a kept state (a checkpoint or a recent one).

        Past the first checkpoint there is one at every multiple of the spacing (the
        thinning keeps those), so one of the ``spacing`` steps from ``k`` back is
        kept; the scan of every kept step is the fallback.
        """
        for s in range(k, max(self.first_step, k - self.policy.spacing + 1) - 1, -1):
            if self.keeps(s):
                return s
        return max(s for s in (*self.checkpoints, *self.recent) if s <= k)

    def replay(self, k: int, into: Run | None = None, keep_from: int | None = None) -> Run:
        """The run after ``k`` updates (see the module docstring): ``into`` (the track's
        run, rewound in place) put in that state, or by default a new copy.

        ``keep_from``: the states from that step to ``k`` that the replay passes
        through are kept in :attr:`recent` (before the lr changes made at their step,
        as a checkpoint is), and the recent states far from ``k`` are forgotten.
        """
        c = self._nearest(k)
        start = self.checkpoints.get(c) or self.recent[c]
        run = start.restore(self.archive, copy_run(self.run, None) if into is None else into)
        with np.errstate(all="ignore"):
            for s in range(c, k):
                for lr in self.edits.get(s, ()):
                    run.set_lr(lr)
                if run.finished:
                    break
                run.advance()
                if keep_from is not None and run.step >= keep_from:
                    self.recent[run.step] = Checkpoint.take(run, self.archive, self.layouts)
            if keep_from is not None:
                near = k - self.policy.spacing - 1
                for gone in [s for s in self.recent if not near <= s <= k + 1]:
                    del self.recent[gone]
            if run.step == k:
                for lr in self.edits.get(k, ()):
                    run.set_lr(lr)
        return run


class Timeline:
    """Checkpoints, replay and forks for every run of ``sim`` (see the module docstring)."""

    def __init__(self, sim: Any, budget: int | None = None,
                 memory: int = CHECKPOINT_BYTES) -> None:
        """``budget``: a fixed count of checkpoints per run; by default the count follows
        ``memory`` bytes per run (see :mod:`descent_tui.sim.checkpoints`)."""
        self.sim = sim
        self.budget = budget
        self.memory = int(memory)
        self._start()
        sim.on_step.append(self._after_step)
        sim.on_set_lr.append(self._after_set_lr)

    def detach(self) -> None:
        """Stop listening to the simulation."""
        self.sim.on_step.remove(self._after_step)
        self.sim.on_set_lr.remove(self._after_set_lr)

    def _start(self) -> None:
        self._runs = self.sim.runs
        self.tracks = [self._new_track(rs) for rs in self.sim.runs]
        self.fork_tracks: list[Track] = []

    def _new_track(self, run: Run, origin: ForkOrigin | None = None) -> Track:
        # the first checkpoint (step 0, a fork's birth) is kept outside the spacing
        if self.budget is not None:
            track = Track(run, SpacingPolicy(int(self.budget) - 1), origin=origin)
        else:
            track = Track(run, SpacingPolicy(1 << 30), origin=origin, memory=self.memory,
                          planned=run.total_steps)
        track.keep()
        return track

    def _sync(self) -> None:
        """After ``sim.reset`` (new runs): start over, forks dropped."""
        if self.sim.runs is not self._runs:
            self._start()

    @property
    def forks(self) -> list[Run]:
        """The live forks, in the order they were made."""
        self._sync()
        return [t.run for t in self.fork_tracks]

    # ------------------------------------------------------------- listening
    def born(self) -> list[Run]:
        """The forks that exist at the simulation's step: born at or before it (what the
        views show). A fork made at step 40 does not exist at step 30: after a rewind
        to 30 it waits at its birth state, hidden, and from step 40 on races again,
        retracing the steps it first took."""
        self._sync()
        now = self.sim.step_count
        return [t.run for t in self.fork_tracks if t.first_step <= now]

    def _after_step(self, sim: Any) -> None:
        self._sync()
        for i, track in enumerate(self.tracks):
            track.run = sim.runs[i]
            track.keep()
        for track in self.fork_tracks:
            if not track.run.finished and track.run.step < sim.step_count:
                track.run.advance()
            track.keep()

    def _after_set_lr(self, sim: Any, lr: float, run: int | None) -> None:
        self._sync()
        for i in range(len(self.tracks)) if run is None else [run]:
            track = self.tracks[i]
            at = track.run.step
            track.forget_after(at)
            track.edits.setdefault(at, []).append(float(lr))

    # ------------------------------------------------------------------ read
    def track_of(self, run: int | Run) -> Track:
        """The track of run index ``run`` of the simulation, or of a run / fork object."""
        self._sync()
        if isinstance(run, int):
            return self.tracks[run]
        for track in self.tracks + self.fork_tracks:
            if track.run is run:
                return track
        raise ValueError(f"run '{getattr(run, 'label', run)}' is not on this timeline")

    def state_at(self, run: int | Run, k: int) -> Run:
        """A detached copy of ``run`` after ``k`` updates; ValueError if ``k`` is out of reach."""
        track = self.track_of(run)
        k = int(k)
        live = track.run
        if not track.first_step <= k <= track.reached:
            raise ValueError(f"step {k} is outside run '{live.label}' (steps "
                             f"{track.first_step} to {track.reached})")
        return track.replay(k)

    @property
    def reached(self) -> int:
        """The furthest step the simulation has been trained to: :meth:`rewind` goes
        anywhere from 0 to here (forward too, after stepping back), until a change
        (a live lr) rewrites the future."""
        self._sync()
        return max([self.sim.step_count] + [t.reached for t in self.tracks])

    def quickest_step(self, k: int, spread: int = 0) -> int:
        """Of the steps within ``spread`` of ``k`` (and from 0 to :attr:`reached`), the
        nearest to ``k`` that :meth:`rewind` reaches with no step replayed (every run
        and fork has kept its state there, or the simulation stands there); else ``k``."""
        k, spread = int(k), max(0, int(spread))
        for d in range(spread + 1):
            for s in (k - d, k + d) if d else (k,):
                if 0 <= s <= self.reached and (s == self.sim.step_count or self._kept(s)):
                    return s
        return k

    def _kept(self, k: int) -> bool:
        """Whether :meth:`rewind` to ``k`` replays no step: each run's state there (at
        the step it finished, if before) and each fork's (its birth, if after) is kept."""
        runs = all(track.keeps(min(k, track.reached)) for track in self.tracks)
        return runs and all(  # (a fork born later waits at its birth, as in rewind)
            track.keeps(at) or at == track.run.step for track in self.fork_tracks
            for at in (min(max(k, track.first_step), track.reached),))

    def checkpoint_count(self) -> int:
        return sum(len(t.checkpoints) for t in self.tracks + self.fork_tracks)

    # ---------------------------------------------------------------- rewind
    def rewind(self, k: int) -> None:
        """Put every run of the simulation (and every fork born by ``k``) in its state at ``k``,
        in place (the run objects stay the same); a fork born after ``k`` goes back to
        its birth state, where it waits until the simulation reaches that step again.

        ``k`` is any step from 0 to :attr:`reached`. Stepping on from there retraces
        the same steps (or new ones, after a change).
        """
        reached = self.reached
        k = int(k)
        if not 0 <= k <= reached:
            raise ValueError(f"step {k} is outside 0 to {reached}")
        # the states near k are kept for the next [ and ]: one step back and k itself;
        # stepping back (k one before now), every state the replay passes through
        keep_from = 0 if k == self.sim.step_count - 1 else k - 1
        for i, track in enumerate(self.tracks):
            track.replay(min(k, track.reached), into=track.run, keep_from=keep_from)
            self.sim.runs[i] = track.run
        for track in self.fork_tracks:  # a fork made later waits at its birth (see below)
            at = min(max(k, track.first_step), track.reached)
            if at != track.run.step:
                track.replay(at, into=track.run, keep_from=keep_from)
        self.sim.step_count = k

    # ----------------------------------------------------------------- forks
    def fork(self, run: int | Run, step: int,
             changes: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> Run:
        """A new run from ``run``'s exact state at ``step`` with ``changes`` made (a fork).

        ``changes`` are bare run settings (:data:`FORK_SETTINGS`) with ``--set``
        values; a bad one raises :class:`OverrideError` naming it.
        """
        parent = self.track_of(run)
        pairs = list(changes.items() if isinstance(changes, Mapping) else changes)
        config = self._fork_config(parent.run, pairs)
        twin = self.state_at(run, step)
        _reconfigure(twin, config)
        if twin.last.lr is not None:  # the record names the lr the next update uses
            twin.last = dataclasses.replace(twin.last, lr=twin.lr)
        twin.label = fork_label(parent.run.label, twin.step, pairs)
        origin = ForkOrigin(parent.run.label, twin.step, tuple(pairs))
        twin.fork = origin  # type: ignore[attr-defined]
        self.fork_tracks.append(self._new_track(twin, origin))
        return twin

    def drop(self, fork: Run) -> None:
        """Forget a fork (and its checkpoints); ValueError if it is not one of :attr:`forks`."""
        track = self.track_of(fork)
        if track.origin is None:
            raise ValueError(f"run '{fork.label}' is not a fork")
        self.fork_tracks.remove(track)

    def catch_up(self, fork: Run) -> None:
        """Step ``fork`` until it is level with the simulation (or finished)."""
        track = self.track_of(fork)
        with np.errstate(all="ignore"):
            while not fork.finished and fork.step < self.sim.step_count:
                fork.advance()
                track.keep()

    def _fork_config(self, run: Run, pairs: list[tuple[str, Any]]) -> Any:
        """``run``'s settings with ``pairs`` made, checked by the loader's rules."""
        for key, _ in pairs:
            if key not in FORK_SETTINGS:
                raise OverrideError(key, "a fork changes a run's training settings only: "
                                         + ", ".join(sorted(FORK_SETTINGS - {"betas"})))
        if not pairs:
            return run.config
        sim = self.sim
        spec = sim.spec
        runs = list(spec.runs)
        i = min(run.index, len(runs) - 1)
        runs[i] = run.config
        base = type(sim.loaded)(spec=msgspec.structs.replace(spec, runs=runs),
                                path=sim.loaded.path, source=sim.loaded.source)
        for key, value in pairs:  # one at a time, so a refusal names the key as written
            try:
                base = apply(base, [(f"runs[{i}].{key}", value)])
            except OverrideError as e:
                raise OverrideError(key, e.items[0][1]) from None
        return base.spec.runs[i]


def fork_label(parent: str, step: int, pairs: list[tuple[str, Any]]) -> str:
    """``"momentum ⑂ step 40, lr 0.1"``: the parent, the step, the settings changed."""
    bits = [f"{key} {value:g}" if isinstance(value, float) else f"{key} {value}"
            for key, value in pairs]
    return ", ".join([f"{parent} ⑂ step {step}", *bits])


def _reconfigure(run: Run, config: Any) -> None:
    """Give ``run`` the settings ``config`` from its next step on (see the module docstring)."""
    old = run.config
    if config == old:
        return
    names = {f.name for f in msgspec.structs.fields(type(config))
             if getattr(config, f.name) != getattr(old, f.name)}
    run.config = config
    if "batch_size" in names and run.kind == "network":
        bs = config.batch_size if config.batch_size is not None else run.spec.network.batch_size
        run.batch_size = 0 if bs >= len(run.problem.data["X"]) else bs
    if names <= _STEP_SETTINGS | {"lr"}:
        if "lr" in names:
            run.set_lr(config.lr)
        return
    _new_optimizer(run, config, lr_changed="lr" in names)


def _new_optimizer(run: Run, config: Any, lr_changed: bool) -> None:
    """An optimizer built from ``config`` on the run's parameters, its schedule carried on."""
    old = run.optimizer
    new = build.build_optimizer(config, run.params)
    if type(new) is type(old):  # same method: its buffers carry on
        new.state = old.state
        new._last_lr = {id(g2): old._last_lr[id(g1)] for g1, g2
                        in zip(old.param_groups, new.param_groups, strict=True)
                        if id(g1) in old._last_lr}
    for g_old, g_new in zip(old.param_groups, new.param_groups, strict=True):
        g_new["lr"] = g_old["lr"]
        if "initial_lr" in g_old:
            g_new["initial_lr"] = g_old["initial_lr"]
    run.optimizer = new
    _retarget(run.scheduler, new)
    if lr_changed and math.isfinite(config.lr):
        run.set_lr(config.lr)


def _retarget(scheduler: Any, optimizer: Any) -> None:
    """Point ``scheduler`` (and the schedulers it chains) at ``optimizer``."""
    if scheduler is None:
        return
    scheduler.optimizer = optimizer
    for sub in getattr(scheduler, "_schedulers", ()):
        _retarget(sub, optimizer)
