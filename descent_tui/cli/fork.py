"""``descent run ID --fork-at STEP --set KEY=VALUE``: the runs and their forks, side by side.

With ``--fork-at`` the ``--set`` changes go to the forks, not to the scenario: a
bare key (``lr=0.1``) forks every run, ``runs.SGD.lr=0.1`` / ``runs[0].lr=0.1``
forks that run only, no ``--set`` forks every run unchanged. The forks are made
by :meth:`descent_tui.sim.timeline.Timeline.fork` (the app's path), so the
numbers are the app's. The runs are trained to ``STEP``, forked, rewound to step
0 and trained to the end with their forks: the printout is the usual one (same
columns) with each fork's rows from its step on, labelled ``"SGD ⑂ step 40, lr 0.1"``.
"""

from __future__ import annotations

import sys
from typing import Any

from descent_tui.cli.parser import EXIT_USAGE

__all__ = ["Race", "fork_runs", "race_rows"]


class Race:
    """The simulation as a report sees it, its forks listed after its runs."""

    def __init__(self, sim: Any, timeline: Any) -> None:
        self.sim = sim
        self.timeline = timeline

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sim, name)

    @property
    def runs(self) -> list[Any]:
        return list(self.sim.runs) + self.timeline.forks


def _targets(sim: Any, pairs: list[tuple[str, Any]]) -> dict[int, list[tuple[str, Any]]]:
    """Run index -> its fork's changes (bare keys: every fork; ``runs.X.key``: forks run X only)."""
    from descent_tui.scenario.overrides import OverrideError

    named: dict[int, list[tuple[str, Any]]] = {}
    bare: list[tuple[str, Any]] = []
    for key, value in pairs:
        if not key.startswith(("runs.", "runs[")):
            bare.append((key, value))
            continue
        i = _index_named(sim, key)
        if i is None or "." not in key[len("runs") + 1:]:
            raise OverrideError(key, "no such run (runs.<label>.<setting> or runs[<i>].<setting>)")
        named.setdefault(i, []).append((key.rsplit(".", 1)[-1], value))
    chosen = sorted(named) if named else range(len(sim.runs))
    return {i: bare + named.get(i, []) for i in chosen}


def _index_named(sim: Any, key: str) -> int | None:
    """The run a ``runs.<label>.x`` / ``runs[<i>].x`` key names (None: none)."""
    head = key[len("runs"):]
    if head.startswith("["):
        digits = head[1:head.find("]")]
        return int(digits) if digits.isdigit() and int(digits) < len(sim.runs) else None
    label = head[1:].rsplit(".", 1)[0]
    labels = sim.base_spec.run_labels
    return labels.index(label) if label in labels else None


def fork_runs(sim: Any, items: list[str], step: int, err: Any) -> Any:
    """Train to ``step``, fork as ``items`` ask, rewind to 0: the timeline, or exit status 2."""
    from descent_tui.scenario.overrides import OverrideError, parse_assignment
    from descent_tui.sim.timeline import Timeline

    if step > sim.total_steps:
        err(f"--fork-at: step {step} is past the last step ({sim.total_steps})")
        return EXIT_USAGE
    timeline = Timeline(sim)
    sim.step(step)
    try:
        pairs = [parse_assignment(item) for item in items]
        for i, changes in _targets(sim, pairs).items():
            run = sim.runs[i]
            if run.step < step:
                err(f"--fork-at: run '{run.label}' diverged at step {run.diverged_at},"
                    f" before step {step}")
                return EXIT_USAGE
            timeline.fork(i, step, changes)
    except OverrideError as e:
        err(f"--set {e.items[0][0]}: {e.items[0][1]}")
        return EXIT_USAGE
    timeline.rewind(0)
    return timeline


def race_rows(race: Any, every: int, reported: set[int], row: Any) -> list[dict[str, Any]]:
    """The rows to print now: each run (forks from their step on) at a printed step, divergences."""
    sim = race.sim
    now = sim.step_count
    at_print = now % every == 0 or now >= sim.total_steps
    batch = []
    for j, rs in enumerate(race.runs):
        born = getattr(rs, "fork", None)
        if born is not None and now < born.step:
            continue
        if rs.diverged:
            if j not in reported and rs.diverged_at <= now:
                reported.add(j)
                batch.append(row(rs.diverged_at, rs))
        elif at_print or (born is not None and now == born.step):
            batch.append(row(now, rs))
    batch.sort(key=lambda r: r["step"])
    return batch


def stderr_line(message: str) -> None:
    sys.stderr.write(message + "\n")
