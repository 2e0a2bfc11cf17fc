"""How lesson tests read a run: counted in *updates*, whatever a record's row holds.

A lesson says "reaches 0.01 after 6 steps" meaning six optimizer updates. These
helpers turn a run's history into that count, so the tests state claims the way
the missions do and do not depend on which parameters a history row describes.

Row ``k`` of a run's history describes the state after ``k`` updates (row 0 is
the start: see :mod:`descent_tui.sim.run`), so a row's step *is* the number of
updates. If that convention changes, only this module changes.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np


def after_updates(rs, name: str) -> np.ndarray:
    """``a[k]`` = the recorded series ``name`` after ``k`` updates (e.g. "val_loss")."""
    return np.asarray(rs.history.series(name), dtype=float)


def losses_after_updates(rs) -> np.ndarray:
    """``a[k]`` = the training loss after ``k`` updates, for every ``k`` the history holds."""
    return after_updates(rs, "loss")


def updates_to_reach(rs, target: float) -> int | None:
    """How many updates the run takes until its training loss is below ``target``."""
    return rs.first_step_below(target)


@functools.cache
def run_to_end(path: Path, changes: tuple = ()):
    """The mission at ``path``, with knob ``changes`` (``(key, value)`` pairs), trained to
    its last step: built once per test process, whichever lesson test asks first."""
    from descent_tui.scenario import load_scenario
    from descent_tui.sim import Simulation

    sim = Simulation(load_scenario(path), dict(changes))
    sim.step(sim.total_steps)
    return sim


def run_named(sim, label: str):
    """The run of ``sim`` labelled ``label``."""
    return next(r for r in sim.runs if r.label == label)
