"""Quiz grading: concept questions have a fixed answer, predictions are graded by the runs.

    from descent_tui.quiz import accepted_choices, grading_rule, score
    ok = accepted_choices(question, sim)   # indices of every right choice, or None (not yet)
    score(question, chosen, sim)           # True / False (None: can't tell yet)
    grading_rule(question)                 # the rule, in one sentence, for the result text

A prediction is graded fairly: a correct prediction is never marked wrong.

* **Ties** accept every tied answer (two runs crossing a threshold on the same
  step, two runs ending with the same loss).
* **Final values** are read as the mean of the last :data:`FINAL_WINDOW`
  readings, so a run that bounces between two values scores the same whether
  the step count is odd or even.
* **Divergence** is judged on the run's growth, not only on the alarm: a run
  diverges if the alarm tripped, or if even the smallest of its last
  :data:`FINAL_WINDOW` readings is above its first reading (it ends higher up
  than it started, and not because of one bounce).

Prediction metrics (see :class:`descent_tui.scenario.schema.PredictionQuestion`):

``first_below``
    the run(s) whose training loss first drops below ``threshold``; "none" if no
    run ever does (decided once the sim is done).
``lowest_final_loss`` / ``largest_final_loss``
    the final training loss of each run once the sim is done; a diverged run
    counts as an infinite loss (largest; lowest only if every run diverged,
    then the one that diverged last).
``diverges``
    the run(s) whose alarm tripped first; if no alarm tripped, every run that
    grew; "none" if no run did either.
``smallest_grad_layer``
    the layer ("layer 1" = first Linear) with the smallest gradient norm at the
    first step of run ``run`` (default: the first run).

Choices are matched to run labels / layer names / "none" case-insensitively; if
no true answer is among the choices the result is None.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from descent_tui.scenario.schema import ConceptQuestion, PredictionQuestion

__all__ = ["FINAL_WINDOW", "accepted_choices", "correct_answer", "correct_answers",
           "final_loss", "grade_prediction", "grading_rule", "grew", "score",
           "score_concepts"]

NONE_WORDS = ("none", "no run", "neither", "nobody", "none of them")

#: how many of a run's last readings make its "final" value
FINAL_WINDOW = 4

#: two values this close (relative) count as a tie
TIE_RTOL = 1e-9


def _norm(text: str) -> str:
    return " ".join(str(text).strip().lower().split())


def _choice_indices(choices: Sequence[str], answers: Sequence[str]) -> frozenset[int]:
    out: set[int] = set()
    for answer in answers:
        want = _norm(answer)
        hits = [i for i, c in enumerate(choices) if _norm(c) == want]
        if not hits and want == "none":
            hits = [i for i, c in enumerate(choices) if _norm(c) in NONE_WORDS]
        out.update(hits)
    return frozenset(out)


def _tied(values: Sequence[tuple[float, int]], best: float) -> list[int]:
    """Indices whose value equals ``best`` up to :data:`TIE_RTOL`."""
    if math.isinf(best):
        return [i for v, i in values if v == best]
    return [i for v, i in values
            if math.isfinite(v) and abs(v - best) <= TIE_RTOL * max(abs(best), 1e-300)]


def _losses(rs: Any) -> np.ndarray:
    return np.asarray(rs.history.series("loss"), dtype=float)


def final_loss(rs: Any) -> float:
    """The mean of a run's last :data:`FINAL_WINDOW` loss readings (inf if diverged)."""
    if rs.diverged:
        return math.inf
    tail = _losses(rs)[-FINAL_WINDOW:]
    if tail.size == 0 or not np.all(np.isfinite(tail)):
        return math.inf
    return float(tail.mean())


def grew(rs: Any) -> bool:
    """Did the run end higher than it started: its alarm tripped, or even the
    smallest of its last :data:`FINAL_WINDOW` readings is above its first one?"""
    if rs.diverged:
        return True
    loss = _losses(rs)
    if loss.size <= FINAL_WINDOW:
        return False
    first, tail = loss[0], loss[-FINAL_WINDOW:]
    if not np.all(np.isfinite(tail)):
        return True
    return bool(tail.min() > first * (1 + TIE_RTOL))


def _first_below(q: PredictionQuestion, sim: Any) -> list[str] | None:
    if q.threshold is None:
        return None
    hits = [(at, rs.index) for rs in sim.runs
            if (at := rs.first_step_below(q.threshold)) is not None]
    if hits:
        best = min(at for at, _ in hits)
        # runs move in lockstep: once every live run has reached that step, no one can
        # still beat it
        if all(rs.finished or rs.step >= best for rs in sim.runs):
            return [sim.runs[i].label for at, i in hits if at == best]
        return None
    return ["none"] if sim.done else None


def _diverges(sim: Any) -> list[str] | None:
    div = [(rs.diverged_at, rs.index) for rs in sim.runs if rs.diverged]
    if div:
        at = min(a for a, _ in div)
        if all(rs.finished or rs.step >= at for rs in sim.runs):
            return [sim.runs[i].label for a, i in div if a == at]
        return None
    if not sim.done:
        return None
    growing = [rs.label for rs in sim.runs if grew(rs)]
    return growing or ["none"]


def _smallest_grad_layer(q: PredictionQuestion, sim: Any) -> list[str] | None:
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
    norms = [(float(lay.grad_norm), i) for i, lay in enumerate(layers)
             if lay.grad_norm is not None and not math.isnan(lay.grad_norm)]
    if not norms:
        return None
    return [layers[i].name for i in _tied(norms, min(norms)[0])]


def _final(metric: str, sim: Any) -> list[str] | None:
    if not sim.done:
        return None
    finals = [(final_loss(rs), rs.index) for rs in sim.runs]
    if metric == "lowest_final_loss":
        finite = [f for f in finals if math.isfinite(f[0])]
        if not finite:  # every run diverged: the one that held out longest
            last = max(rs.diverged_at for rs in sim.runs)
            return [rs.label for rs in sim.runs if rs.diverged_at == last]
        return [sim.runs[i].label for i in _tied(finite, min(finite)[0])]
    # largest: diverged runs (inf) first, the earliest to diverge among them
    div = [(rs.diverged_at, rs.index) for rs in sim.runs if rs.diverged]
    if div:
        at = min(a for a, _ in div)
        return [sim.runs[i].label for a, i in div if a == at]
    return [sim.runs[i].label for i in _tied(finals, max(finals)[0])]


def correct_answers(question: PredictionQuestion, sim: Any) -> list[str] | None:
    """Every true answer as text (run labels, layer names or "none"); None: not yet."""
    m = question.metric
    if m == "first_below":
        return _first_below(question, sim)
    if m == "diverges":
        return _diverges(sim)
    if m == "smallest_grad_layer":
        return _smallest_grad_layer(question, sim)
    if m in ("lowest_final_loss", "largest_final_loss"):
        return _final(m, sim)
    return None


def correct_answer(question: PredictionQuestion, sim: Any) -> str | None:
    """The first true answer (in run order) as text; None: not yet."""
    answers = correct_answers(question, sim)
    return answers[0] if answers else None


def accepted_choices(question: PredictionQuestion, sim: Any) -> frozenset[int] | None:
    """Indices of every choice that is a true answer (None: not yet, or none listed)."""
    answers = correct_answers(question, sim)
    if not answers:
        return None
    hits = _choice_indices(question.choices, answers)
    return hits or None


def grade_prediction(question: PredictionQuestion, sim: Any) -> int | None:
    """Index of the first correct choice given what the runs did (None: can't tell yet)."""
    hits = accepted_choices(question, sim)
    return min(hits) if hits else None


def grading_rule(question: PredictionQuestion) -> str:
    """How ``question`` is graded, in one sentence (shown with its result)."""
    m = question.metric
    n = FINAL_WINDOW
    if m == "first_below":
        return (f"Graded on the first step at which a run's training loss is below "
                f"{question.threshold:g}; runs that cross on the same step all count.")
    if m == "diverges":
        return ("Graded on growth: the first run whose alarm trips, or, if none trips, "
                f"every run whose last {n} loss readings all sit above its first one; "
                "tied runs all count.")
    if m in ("lowest_final_loss", "largest_final_loss"):
        which = "lowest" if m == "lowest_final_loss" else "largest"
        extra = (" (if every run diverged, the last to diverge)" if which == "lowest"
                 else " (a diverged run counts as infinite)")
        return (f"Graded on the {which} final loss{extra}, a run's final loss being the "
                f"mean of its last {n} readings, so a bounce scores the same on odd and "
                "even step counts; ties all count.")
    if m == "smallest_grad_layer":
        who = question.run or "the first run"
        return (f"Graded on the gradient norm of each layer of {who} at the first step; "
                "tied layers all count.")
    return "Graded from the runs."


def score(question: ConceptQuestion | PredictionQuestion, chosen: int | None,
          sim: Any = None) -> bool | None:
    """Was ``chosen`` (a choice index) right? None when a prediction can't be graded yet."""
    if chosen is None:
        return False
    if isinstance(question, ConceptQuestion):
        return int(chosen) == question.answer
    if sim is None:
        return None
    right = accepted_choices(question, sim)
    if right is None:
        return None
    return int(chosen) in right


def score_concepts(questions: Sequence[ConceptQuestion], answers: Sequence[int | None]
                   ) -> tuple[int, int]:
    """(number right, number of questions) for a list of concept answers."""
    right = sum(1 for q, a in zip(questions, answers, strict=False) if score(q, a))
    return right, len(questions)
