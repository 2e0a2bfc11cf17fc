"""The moments a lesson is about, read off a simulation's state.

:func:`events` is a pure function of a :class:`~descent_tui.sim.Simulation`:
every event its runs have shown so far, in step order. Each :class:`Event`
has a ``key`` that names it for good (``("diverged", 2)``, ``("target", 0.01)``,
``("watch", 3)``, ``("done",)``), so a caller that keeps the keys it has seen
reports each event once: :func:`new_events`. The events are

* ``diverged`` -- a run diverged (one per run);
* ``target``   -- the first run below a prediction's ``first_below`` threshold
  (one per threshold: the run the quiz will name);
* ``watch``    -- a watch-for note's trigger happened (``watch`` is the note's index;
  the triggers are :mod:`descent_tui.scenario.triggers`);
* ``done``     -- every run is finished (the last step, or every run diverged).

Steps count updates, as the records do (:mod:`descent_tui.sim.run`): "below
0.01 at step 5" means the loss after 5 updates.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from descent_tui.scenario.triggers import Trigger, parse_trigger

__all__ = ["NOTE_LENGTH", "Event", "clip", "events", "new_events"]

#: a note is at most this long (one line of a notification)
NOTE_LENGTH = 120

#: the order of events that happen at the same step
_ORDER = {"diverged": 0, "target": 1, "watch": 2, "done": 3}


@dataclass(frozen=True, slots=True)
class Event:
    """Something the run just showed: ``note`` says it in one line."""

    key: tuple[Any, ...]
    kind: str            # "diverged" | "target" | "watch" | "done"
    step: int
    note: str
    #: the watch-for note this event ticks off (its index in ``watch_for``)
    watch: int | None = None


def clip(text: str, limit: int = NOTE_LENGTH) -> str:
    """``text`` on one line (whitespace runs become one space), cut to ``limit`` with "…"."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit - 1].rstrip() + "…"


def _first_above(rs: Any, value: float) -> int | None:
    """First step whose training loss was above ``value`` (a diverged run's last reading too)."""
    loss = rs.history.series("loss")
    hits = np.nonzero(loss > value)[0]
    if hits.size:
        return int(rs.history.steps[hits[0]])
    last = rs.last.loss
    if last is not None and (last > value or (rs.diverged and math.isnan(last))):
        return rs.last.step
    return None


def _when(trigger: Trigger, sim: Any, runs: list[Any]) -> int | None:
    """The step at which ``trigger`` happened in ``runs`` (None: not yet)."""
    kind = trigger.kind
    if kind == "done":
        return sim.step_count if sim.done else None
    if kind == "step":
        return sim.step_count if sim.step_count >= int(trigger.value or 0) else None
    if kind == "diverged":
        steps = [rs.diverged_at for rs in runs if rs.diverged]
    elif kind == "below":
        steps = [rs.first_step_below(trigger.value) for rs in runs]
    else:
        steps = [_first_above(rs, float(trigger.value or 0.0)) for rs in runs]
    found = [s for s in steps if s is not None]
    return min(found) if found else None


def _runs_of(trigger: Trigger, sim: Any) -> list[Any]:
    """The runs a trigger watches: the one it names (by its label in the file), else all."""
    if trigger.run is None:
        return list(sim.runs)
    labels = sim.base_spec.run_labels
    if trigger.run in labels and labels.index(trigger.run) < len(sim.runs):
        return [sim.runs[labels.index(trigger.run)]]
    return [rs for rs in sim.runs if rs.label == trigger.run]


def _watch_events(sim: Any) -> Iterable[Event]:
    for i, item in enumerate(sim.spec.watch_items):
        if item.when is None:
            continue
        trigger = parse_trigger(item.when)
        at = _when(trigger, sim, _runs_of(trigger, sim))
        if at is not None:
            yield Event(("watch", i), "watch", at, clip(f"Watch for: {item.text}"), watch=i)


def _target_events(sim: Any) -> Iterable[Event]:
    thresholds = sorted({float(q.threshold) for q in sim.spec.quiz.prediction
                         if q.metric == "first_below" and q.threshold is not None})
    for th in thresholds:
        hits = [(at, rs.index) for rs in sim.runs
                if (at := rs.first_step_below(th)) is not None]
        if hits:
            at, index = min(hits)
            label = sim.runs[index].label
            yield Event(("target", th), "target", at,
                        clip(f"'{label}' is the first run below loss {th:g} (step {at})."))


def _done_event(sim: Any) -> Event:
    diverged = [rs for rs in sim.runs if rs.diverged]
    if len(diverged) == len(sim.runs):
        what = "every run diverged"
    elif diverged:
        what = f"{len(diverged)} of {len(sim.runs)} runs diverged"
    else:
        what = "every run finished"
    return Event(("done",), "done", sim.step_count,
                 clip(f"The end: step {sim.step_count} of {sim.total_steps}, {what}."))


def events(sim: Any) -> list[Event]:
    """Every event ``sim``'s state shows so far, by step (changes nothing)."""
    out = [Event(("diverged", rs.index), "diverged", int(rs.diverged_at or 0),
                 clip(f"'{rs.label}' diverged: {rs.reason or 'diverged'}"))
           for rs in sim.runs if rs.diverged]
    out += _target_events(sim)
    out += _watch_events(sim)
    if sim.done:
        out.append(_done_event(sim))
    out.sort(key=lambda e: (e.step, _ORDER[e.kind]))
    return out


def new_events(sim: Any, seen: set[tuple[Any, ...]]) -> list[Event]:
    """The events of ``sim`` whose keys are not in ``seen``; adds their keys to ``seen``."""
    fresh = [e for e in events(sim) if e.key not in seen]
    seen.update(e.key for e in fresh)
    return fresh
