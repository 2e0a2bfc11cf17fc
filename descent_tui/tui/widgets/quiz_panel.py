"""Quiz: prediction questions before the run (locked once training starts, graded
from what the runs did), concept questions after the run, explanations, score.

Each question is compact: its text, every choice wrapped in full (never cut with
"…"), and, once answered or graded, the explanation right under it.  A reset
opens the predictions again for the new run.  Answers given in an earlier visit
come in through ``saved`` (see :meth:`descent_tui.progress.Progress.answers`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.widgets import RadioButton, RadioSet, Static

from descent_tui.quiz import grading_rule
from descent_tui.tui.safe_text import content
from descent_tui.tui.widgets.score import score_style

__all__ = ["QuizPanel", "WrappedChoice", "quiz_signature"]

OPEN_HEADING = "PREDICT — before you run"
CONCEPT_LOCKED = "CONCEPTS — open when the run ends"
CONCEPT_OPEN = "CONCEPTS — the run is over; answer these"


def quiz_signature(spec: Any) -> str:
    """A short fingerprint of a mission's questions and choices: saved answers are
    restored only onto the quiz they answered."""
    quiz = spec.quiz
    body = [[q.question, list(q.choices)] for q in [*quiz.prediction, *quiz.concept]]
    return hashlib.sha1(json.dumps(body).encode()).hexdigest()[:12]


class WrappedChoice(RadioButton):
    """A radio button whose label wraps onto further lines, indented under itself."""

    DEFAULT_CSS = """
    WrappedChoice { width: 1fr; height: auto; }
    """

    def _lines(self, width: int) -> list[Content]:
        # the button takes 3 cells and the label is padded by one cell on each side
        return self._label.wrap(max(4, width - 5)) or [Content("")]

    def render(self) -> Content:
        style = self.get_visual_style("toggle--label")
        lines = self._lines(self.content_size.width)
        out = [Content.assemble(self._button, lines[0].pad(1, 1).stylize_before(style))]
        out += [Content.assemble("   ", line.pad(1, 1).stylize_before(style))
                for line in lines[1:]]
        return Content("\n").join(out)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width))


class QuizPanel(VerticalScroll):
    """State comes down from the mission screen (lock / grade / reopen); answers and
    the score go up (:class:`Answered`, :class:`Scored`)."""

    DEFAULT_CSS = """
    QuizPanel .question { margin-top: 0; margin-bottom: 1; }
    QuizPanel .quiz-heading { margin-top: 0; }
    """

    class Scored(Message):
        def __init__(self, correct: int, total: int, answers: dict[str, int]) -> None:
            super().__init__()
            self.correct = correct
            self.total = total
            self.answers = answers

    class Answered(Message):
        """The learner answered a question (the answers so far; not graded yet)."""

        def __init__(self, answers: dict[str, int]) -> None:
            super().__init__()
            self.answers = answers

    def __init__(self, spec: Any, saved: dict[str, int] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.predictions = list(spec.quiz.prediction)
        self.concepts = list(spec.quiz.concept)
        self.signature = quiz_signature(spec)
        self.answers: dict[str, int] = self._valid(saved or {})
        self.truth: dict[str, frozenset[int] | None] = {}  # prediction key -> accepted indices
        self.notes: dict[str, str] = {}  # prediction key -> how it was graded (from the grader)
        self.locked = False
        self.run_over = False

    def _valid(self, saved: dict[str, int]) -> dict[str, int]:
        """The saved answers that still name a question and one of its choices."""
        out = {}
        for kind, questions in (("prediction", self.predictions), ("concept", self.concepts)):
            for i, q in enumerate(questions):
                a = saved.get(f"{kind}.{i}")
                if isinstance(a, int) and 0 <= a < len(q.choices):
                    out[f"{kind}.{i}"] = a
        return out

    @property
    def total(self) -> int:
        return len(self.predictions) + len(self.concepts)

    def compose(self) -> ComposeResult:
        if not self.total:
            yield Static("No quiz for this mission.", classes="dim")
            return
        yield Static(id="quiz-score")
        if self.predictions:
            yield Static(OPEN_HEADING, classes="quiz-heading", id="prediction-heading")
            for i, q in enumerate(self.predictions):
                yield self._question("prediction", f"P{i + 1}", i, q)
        if self.concepts:
            yield Static(CONCEPT_LOCKED, classes="quiz-heading", id="concept-heading")
            for i, q in enumerate(self.concepts):
                yield self._question("concept", f"C{i + 1}", i, q)

    def _question(self, kind: str, tag: str, i: int, q: Any) -> Vertical:
        chosen = self.answers.get(f"{kind}.{i}")
        buttons = [WrappedChoice(content(c, one_line=True), value=j == chosen)
                   for j, c in enumerate(q.choices)]
        choices = RadioSet(*buttons, id=f"{kind}-{i}", classes="quiz-choices")
        # a RadioSet is a VerticalScroll, which the side panel's stylesheet stretches
        # (``#side VerticalScroll``); a question is as tall as its choices (inline wins)
        choices.styles.height = "auto"
        explanation = Static("", classes="explanation")
        explanation.display = False  # until there is something to explain
        return Vertical(
            Static(content(f"{tag}. {q.question}"), classes="question-text"),
            choices,
            explanation,
            classes="question" + (" concept" if kind == "concept" else ""), id=f"q-{kind}-{i}")

    def on_mount(self) -> None:
        for i, q in enumerate(self.concepts):
            self.query_one(f"#concept-{i}", RadioSet).disabled = True
            if f"concept.{i}" in self.answers:  # answered in an earlier visit
                self._explain("concept", i, q, q.answer)
        self._update_score()

    # ------------------------------------------------------------------ state down
    def unanswered_predictions(self) -> list[int]:
        """Indexes of the predictions without an answer."""
        return [i for i in range(len(self.predictions)) if f"prediction.{i}" not in self.answers]

    def predictions_right(self) -> tuple[int, int]:
        """``(right, asked)`` of the prediction questions, as graded at the end of the run."""
        right = sum(1 for i in range(len(self.predictions))
                    if self.answers.get(f"prediction.{i}") in (self.truth.get(f"prediction.{i}")
                                                               or ()))
        return right, len(self.predictions)

    def focus_prediction(self, index: int) -> None:
        """Bring prediction ``index`` into view and give its choices the focus."""
        rs = self.query_one(f"#prediction-{index}", RadioSet)
        self.scroll_to_widget(self.query_one(f"#q-prediction-{index}"), top=True)
        rs.focus()

    def lock_predictions(self, announce: bool = True) -> None:
        """Training started: prediction answers are final (and the learner is told,
        unless ``announce`` is false)."""
        if self.locked:
            return
        self.locked = True
        for i in range(len(self.predictions)):
            self.query_one(f"#prediction-{i}", RadioSet).disabled = True
        if self.predictions and announce:
            n = len(self.predictions) - len(self.unanswered_predictions())
            self.notify(f"Predictions locked: {n}/{len(self.predictions)} answered;"
                        " graded when the run ends.", timeout=4)
        if self.predictions:
            self.query_one("#prediction-heading", Static).update(
                "PREDICT — locked for this run (reset to predict again)")
        self._update_score()

    def reopen_predictions(self) -> None:
        """A reset: the new run has not started, so predictions may change again."""
        self.locked = self.run_over = False
        self.truth.clear()
        self.notes.clear()
        for i in range(len(self.predictions)):
            self.query_one(f"#prediction-{i}", RadioSet).disabled = False
            box = self.query_one(f"#q-prediction-{i}")
            box.remove_class("-right", "-wrong")
            expl = box.query_one(".explanation", Static)
            expl.update("")
            expl.display = False
        for i in range(len(self.concepts)):
            if f"concept.{i}" not in self.answers:
                self.query_one(f"#concept-{i}", RadioSet).disabled = True
        for heading, words in (("#prediction-heading", OPEN_HEADING),
                               ("#concept-heading", CONCEPT_LOCKED)):
            for w in self.query(heading).results(Static):
                w.update(words)
        self._update_score()

    def grade(self, grader: Any) -> None:
        """The run is over: grade predictions, unlock concept questions.

        ``grader(question)`` returns the index of the correct choice or the set of
        every accepted index (tied runs), None (the runs did not settle it), or
        ``(answer, note)`` with a note on how it was graded, shown under the verdict."""
        self.lock_predictions()
        self.run_over = True
        for i, q in enumerate(self.predictions):
            key = f"prediction.{i}"
            try:
                result = grader(q)
            except Exception:
                result = None
            if isinstance(result, tuple):
                result, self.notes[key] = result[0], str(result[1])
            self.truth[key] = _accepted(result)
            self._explain("prediction", i, q, self.truth[key])
        for i in range(len(self.concepts)):
            if f"concept.{i}" not in self.answers:
                self.query_one(f"#concept-{i}", RadioSet).disabled = False
        for w in self.query("#concept-heading").results(Static):
            w.update(CONCEPT_OPEN)
        self._update_score()

    # ------------------------------------------------------------------ answers
    @on(RadioSet.Changed)
    def _answered(self, event: RadioSet.Changed) -> None:
        rid = event.radio_set.id or ""
        kind, _, idx = rid.partition("-")
        if kind not in ("prediction", "concept"):
            return
        i = int(idx)
        self.answers[f"{kind}.{i}"] = event.index
        if kind == "concept":
            event.radio_set.disabled = True
            q = self.concepts[i]
            self._explain("concept", i, q, q.answer)
        self.post_message(self.Answered(dict(self.answers)))
        self._update_score()

    def _explain(self, kind: str, i: int, q: Any, truth: int | frozenset[int] | None) -> None:
        box = self.query_one(f"#q-{kind}-{i}")
        expl = box.query_one(".explanation", Static)
        given = self.answers.get(f"{kind}.{i}")
        note = self.notes.get(f"{kind}.{i}")
        expl.display = True
        if truth is None:
            parts: list[Any] = [("The runs did not settle this one — no grade.", "dim")]
            expl.update(Content.assemble(*parts, *(["\n", content(note)] if note else [])))
            return
        accepted = _accepted(truth) or frozenset()
        right = " or ".join(q.choices[t] if 0 <= t < len(q.choices) else "?"
                            for t in sorted(accepted))
        is_right = given in accepted
        if is_right:
            verdict, style, lead = "✓ correct", "bold green", " — "
        elif given is None:
            verdict, style, lead = "– unanswered", "bold yellow", " — answer: "
        else:
            verdict, style, lead = "✗ not quite", "bold red", " — answer: "
        box.set_class(is_right, "-right")
        box.set_class(not is_right, "-wrong")
        # scenario text (choice, explanation) as literal content, never as markup
        parts = [(verdict, style), lead, content(right, one_line=True)]
        if note:
            parts += ["\n", content(note)]
        if q.explanation:
            parts += ["\n", content(q.explanation)]
        if kind == "prediction":
            parts += ["\n", (grading_rule(q), "dim")]
        expl.update(Content.assemble(*parts))

    def score(self) -> tuple[int, int]:
        correct = 0
        for i, q in enumerate(self.concepts):
            if self.answers.get(f"concept.{i}") == q.answer:
                correct += 1
        for i in range(len(self.predictions)):
            t = self.truth.get(f"prediction.{i}")
            if t is not None and self.answers.get(f"prediction.{i}") in t:
                correct += 1
        return correct, self.total

    def finished(self) -> bool:
        return self.run_over and all(f"concept.{i}" in self.answers
                                     for i in range(len(self.concepts)))

    def _update_score(self) -> None:
        if not self.total:
            return
        correct, total = self.score()
        label = self.query_one("#quiz-score", Static)
        if not self.run_over:
            n = len(self.predictions) - len(self.unanswered_predictions())
            state = "locked" if self.locked else "open"
            label.update(Content.assemble(("Predicted ", "bold"),
                                          f"{n}/{len(self.predictions)} ({state});"
                                          " graded after the run"))
        else:
            graded = len(self.truth) + sum(1 for k in self.answers if k.startswith("concept."))
            label.update(Content.assemble(("Score ", "bold"),
                                          (f"{correct}/{total}", score_style(correct, total)),
                                          f"  ({graded}/{total} graded)"))
            self.post_message(self.Scored(correct, total, dict(self.answers)))


def _accepted(answer: int | frozenset[int] | None) -> frozenset[int] | None:
    """A grader's answer as the set of accepted choice indices (None: not graded)."""
    if answer is None:
        return None
    if isinstance(answer, int):
        return frozenset((answer,))
    return frozenset(answer)
