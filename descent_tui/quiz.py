"""Quiz grading: concept questions have a fixed answer, predictions are graded by the runs.

    from descent_tui.quiz import grade_prediction, score
    idx = grade_prediction(question, sim)   # index of the correct choice, or None (not yet)
    score(question, chosen, sim)            # True / False (None: can't tell yet)

Prediction metrics (see :class:`descent_tui.scenario.schema.PredictionQuestion`):

``first_below``
    the run whose training loss first drops below ``threshold`` (ties: the run
    listed first); "none" if no run ever does (decided once the sim is done).
``lowest_final_loss`` / ``largest_final_loss``
    final training loss of each run once the sim is done; a diverged run counts as
    an infinite loss (largest; never lowest).
``diverges``
    the run that diverges first (ties: listed first); "none" if none does.
``smallest_grad_layer``
    the layer ("layer 1" = first Linear) with the smallest gradient norm at the
    first step of run ``run`` (default: the first run).

Choices are matched to run labels / layer names / "none" case-insensitively; if
the true answer is not among the choices the result is None.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from descent_tui.scenario.schema import ConceptQuestion, PredictionQuestion

__all__ = ["correct_answer", "grade_prediction", "score", "score_concepts"]

NONE_WORDS = ("none", "no run", "neither", "nobody", "none of them")


def _norm(text: str) -> str:
    return " ".join(str(text).strip().lower().split())


def _choice_index(choices: Sequence[str], answer: str) -> int | None:
    want = _norm(answer)
    for i, c in enumerate(choices):
        if _norm(c) == want:
            return i
    if want == "none":
        for i, c in enumerate(choices):
            if _norm(c) in NONE_WORDS:
                return i
    return None


def _first_below(q: PredictionQuestion, sim: Any) -> str | None:
    if q.threshold is None:
        return None
    best: tuple[int, int] | None = None
    for rs in sim.runs:
        at = rs.first_step_below(q.threshold)
        if at is not None and (best is None or (at, rs.index) < best):
            best = (at, rs.index)
    if best is not None:
        # runs move in lockstep: once every live run has reached that step, no one can
        # still beat it
        if all(rs.finished or rs.step >= best[0] for rs in sim.runs):
            return sim.runs[best[1]].label
        return None
    return "none" if sim.done else None


def _final_loss(rs: Any) -> float:
    if rs.diverged:
        return math.inf
    v = rs.last.loss
    if v is None or not math.isfinite(v):
        return math.inf
    return float(v)


def _diverges(sim: Any) -> str | None:
    div = [(rs.diverged_at, rs.index) for rs in sim.runs if rs.diverged]
    if div:
        at, idx = min(div)
        if all(rs.finished or rs.step >= at for rs in sim.runs):
            return sim.runs[idx].label
        return None
    return "none" if sim.done else None


def _smallest_grad_layer(q: PredictionQuestion, sim: Any) -> str | None:
    runs = sim.runs
    rs = runs[0]
    if q.run is not None:
        match = [r for r in runs if _norm(r.label) == _norm(q.run)]
        if not match:
            return None
        rs = match[0]
    layers = rs.first_layers
    if not layers:
        return None
    norms = [(lay.grad_norm, i) for i, lay in enumerate(layers)
             if lay.grad_norm is not None and not math.isnan(lay.grad_norm)]
    if not norms:
        return None
    return layers[min(norms)[1]].name


def correct_answer(question: PredictionQuestion, sim: Any) -> str | None:
    """The true answer as text (a run label, a layer name or "none"); None: not yet."""
    m = question.metric
    if m == "first_below":
        return _first_below(question, sim)
    if m == "diverges":
        return _diverges(sim)
    if m == "smallest_grad_layer":
        return _smallest_grad_layer(question, sim)
    if m in ("lowest_final_loss", "largest_final_loss"):
        if not sim.done:
            return None
        finals = [(_final_loss(rs), rs.index) for rs in sim.runs]
        if m == "lowest_final_loss":
            finite = [f for f in finals if math.isfinite(f[0])]
            if not finite:
                return "none"
            return sim.runs[min(finite)[1]].label
        # largest: diverged runs (inf) first, the earliest to diverge among them
        div = [(rs.diverged_at, rs.index) for rs in sim.runs if rs.diverged]
        if div:
            return sim.runs[min(div)[1]].label
        return sim.runs[max(finals, key=lambda f: (f[0], -f[1]))[1]].label
    return None


def grade_prediction(question: PredictionQuestion, sim: Any) -> int | None:
    """Index of the correct choice given what the runs did (None: can't tell yet)."""
    answer = correct_answer(question, sim)
    if answer is None:
        return None
    return _choice_index(question.choices, answer)


def score(question: ConceptQuestion | PredictionQuestion, chosen: int | None,
          sim: Any = None) -> bool | None:
    """Was ``chosen`` (a choice index) right? None when a prediction can't be graded yet."""
    if chosen is None:
        return False
    if isinstance(question, ConceptQuestion):
        return int(chosen) == question.answer
    if sim is None:
        return None
    right = grade_prediction(question, sim)
    if right is None:
        return None
    return int(chosen) == right


def score_concepts(questions: Sequence[ConceptQuestion], answers: Sequence[int | None]
                   ) -> tuple[int, int]:
    """(number right, number of questions) for a list of concept answers."""
    right = sum(1 for q, a in zip(questions, answers, strict=False) if score(q, a))
    return right, len(questions)
