"""Every prediction question is graded right under every knob setting a mission allows.

Fair grading must hold wherever the learner can take a mission, not only at its
defaults. For each shipped mission this module runs the mission at each knob's
extremes (numeric knobs at ``min`` and ``max``, choice knobs at every choice),
works out each prediction's true answers from the recorded numbers here (not
with the grader's code), and checks that :func:`descent_tui.quiz.accepted_choices`
accepts exactly the choices naming those answers.

Runs are capped (see :data:`STEP_CAP`) so the module stays in the suite's time
budget; a ``steps`` knob is tested at its min and at ``min(max, STEP_CAP)``.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest
from _lessons import losses_after_updates, updates_to_reach

from descent_tui.engine import no_grad
from descent_tui.quiz import accepted_choices
from descent_tui.scenario import load_scenario
from descent_tui.sim import Simulation

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
MISSIONS = tuple(sorted(p.stem for p in SCENARIOS.glob("*.toml")))

#: the most steps a run here takes (the longest knob ranges reach 1000)
STEP_CAP = 400
#: the readings that make a run's "final" value, as the quiz explains it
FINAL_WINDOW = 4


def _points(mission: str) -> list[tuple[str, object]]:
    """(knob, value) for each extreme of each knob of ``mission``."""
    spec = load_scenario(SCENARIOS / f"{mission}.toml").spec
    out: list[tuple[str, object]] = []
    for name, knob in spec.knobs.present().items():
        if knob.choices:
            out += [(name, c) for c in knob.choices]
        elif name in ("steps", "batch_size"):
            hi = min(int(knob.max), STEP_CAP) if name == "steps" else int(knob.max)
            out += [(name, int(knob.min)), (name, hi)]
        else:
            out += [(name, float(knob.min)), (name, float(knob.max))]
    return out


CASES = [(m, k, v) for m in MISSIONS for k, v in _points(m)]


@functools.cache
def _run(mission: str, knob: str, value: object) -> Simulation:
    changes = {knob: value}
    spec = load_scenario(SCENARIOS / f"{mission}.toml").spec
    if knob != "steps" and spec.steps > STEP_CAP:
        changes["steps"] = STEP_CAP
    sim = Simulation(load_scenario(SCENARIOS / f"{mission}.toml"), changes)
    sim.step(sim.total_steps)
    assert sim.done
    return sim


def _tail(rs) -> float:
    if rs.diverged:
        return math.inf
    loss = losses_after_updates(rs)[-FINAL_WINDOW:]
    return float(loss.mean()) if np.all(np.isfinite(loss)) else math.inf


def _close(a: float, b: float) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1e-300)


def _first_below(q, sim) -> set[str]:
    at = {rs.label: updates_to_reach(rs, q.threshold) for rs in sim.runs}
    hit = {k: v for k, v in at.items() if v is not None}
    return {k for k, v in hit.items() if v == min(hit.values())} if hit else {"none"}


def _finals(q, sim) -> set[str]:
    tails = {rs.label: _tail(rs) for rs in sim.runs}
    div = {rs.label: rs.diverged_at for rs in sim.runs if rs.diverged}
    if q.metric == "largest_final_loss":
        if div:
            return {k for k, v in div.items() if v == min(div.values())}
        top = max(tails.values())
        return {k for k, v in tails.items() if _close(v, top)}
    finite = {k: v for k, v in tails.items() if math.isfinite(v)}
    if not finite:
        return {k for k, v in div.items() if v == max(div.values())}
    low = min(finite.values())
    return {k for k, v in finite.items() if _close(v, low)}


def _diverges(sim) -> set[str]:
    div = {rs.label: rs.diverged_at for rs in sim.runs if rs.diverged}
    if div:
        return {k for k, v in div.items() if v == min(div.values())}
    grew = set()
    for rs in sim.runs:
        loss = losses_after_updates(rs)
        if len(loss) > FINAL_WINDOW and loss[-FINAL_WINDOW:].min() > loss[0] * (1 + 1e-9):
            grew.add(rs.label)
    return grew or {"none"}


def _smallest_grad_layer(q, mission: str, knob: str, value: object) -> set[str]:
    """Recomputed on a fresh copy of the run: one backward pass on its first batch."""
    changes = {knob: value}
    sim = Simulation(load_scenario(SCENARIOS / f"{mission}.toml"), changes)
    rs = sim.runs[0] if q.run is None else next(r for r in sim.runs if r.label.lower() == q.run.lower())
    (X, y), = rs.next_batch()
    for p in rs.params:
        p.grad = None
    rs.criterion(rs.forward(X), y).backward()
    norms = []
    for lin in rs.linears:
        sq = float(np.sum(lin.weight.grad ** 2))
        if lin.bias is not None and lin.bias.grad is not None:
            sq += float(np.sum(lin.bias.grad ** 2))
        norms.append(math.sqrt(sq))
    low = min(norms)
    with no_grad():
        return {f"layer {i + 1}" for i, n in enumerate(norms) if _close(n, low)}


def _truth(q, sim, mission, knob, value) -> set[str]:
    if q.metric == "first_below":
        return _first_below(q, sim)
    if q.metric in ("lowest_final_loss", "largest_final_loss"):
        return _finals(q, sim)
    if q.metric == "diverges":
        return _diverges(sim)
    if q.metric == "smallest_grad_layer":
        return _smallest_grad_layer(q, mission, knob, value)
    raise AssertionError(f"no independent check for metric {q.metric!r}")


def _naming(choices, answers: set[str]) -> frozenset[int]:
    want = {a.lower() for a in answers}
    none_words = {"none", "no run", "neither", "nobody", "none of them"}
    out = set()
    for i, c in enumerate(choices):
        c = " ".join(c.lower().split())
        if c in want or ("none" in want and c in none_words):
            out.add(i)
    return frozenset(out)


def test_every_mission_has_knob_cases():
    """Each shipped mission offers knobs, so each is tested away from its defaults."""
    assert {m for m, _, _ in CASES} == set(MISSIONS)


@pytest.mark.parametrize(("mission", "knob", "value"), CASES,
                         ids=[f"{m}-{k}={v}" for m, k, v in CASES])
def test_prediction_grade_matches_the_runs_at_the_knob_extremes(mission, knob, value):
    """Fair grading: "Test each prediction question under the knob ranges the
    mission allows, not only at the defaults." The grader accepts exactly the
    choices that name the runs the recorded numbers pick out."""
    sim = _run(mission, knob, value)
    for q in sim.spec.quiz.prediction:
        truth = _truth(q, sim, mission, knob, value)
        want = _naming(q.choices, truth)
        got = accepted_choices(q, sim)
        assert (got or frozenset()) == want, (q.question, sorted(truth))
