"""Quiz: prediction questions before the run (locked once training starts, graded
from what the runs did), concept questions after the run, explanations, score."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import RadioButton, RadioSet, Static

from descent_tui.quiz import grading_rule
from descent_tui.tui.safe_text import content


class QuizPanel(VerticalScroll):
    """State comes down from the mission screen (lock / grade); the score goes up."""

    class Scored(Message):
        def __init__(self, correct: int, total: int, answers: dict[str, int]) -> None:
            super().__init__()
            self.correct = correct
            self.total = total
            self.answers = answers

    def __init__(self, spec: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.predictions = list(spec.quiz.prediction)
        self.concepts = list(spec.quiz.concept)
        self.answers: dict[str, int] = {}
        self.truth: dict[str, int | None] = {}  # prediction key -> correct index once graded
        self.locked = False
        self.run_over = False

    @property
    def total(self) -> int:
        return len(self.predictions) + len(self.concepts)

    def compose(self) -> ComposeResult:
        if not self.total:
            yield Static("No quiz for this mission.", classes="dim")
            return
        yield Static(id="quiz-score")
        if self.predictions:
            yield Static("PREDICT — answer before you run; answers lock at the first step.",
                         classes="quiz-heading")
            for i, q in enumerate(self.predictions):
                with Vertical(classes="question", id=f"q-prediction-{i}"):
                    yield Static(content(f"P{i + 1}. {q.question}"), classes="question-text")
                    yield RadioSet(*[RadioButton(content(c, one_line=True)) for c in q.choices],
                                   id=f"prediction-{i}", classes="quiz-choices")
                    yield Static("", classes="explanation")
        if self.concepts:
            yield Static("CONCEPTS — unlock when the run ends.", classes="quiz-heading",
                         id="concept-heading")
            for i, q in enumerate(self.concepts):
                with Vertical(classes="question concept", id=f"q-concept-{i}"):
                    yield Static(content(f"C{i + 1}. {q.question}"), classes="question-text")
                    yield RadioSet(*[RadioButton(content(c, one_line=True)) for c in q.choices],
                                   id=f"concept-{i}", classes="quiz-choices")
                    yield Static("", classes="explanation")

    def on_mount(self) -> None:
        for i in range(len(self.concepts)):
            self.query_one(f"#concept-{i}", RadioSet).disabled = True
        self._update_score()

    # ------------------------------------------------------------------ state down
    def lock_predictions(self) -> None:
        """Training started: prediction answers are final."""
        if self.locked:
            return
        self.locked = True
        for i in range(len(self.predictions)):
            self.query_one(f"#prediction-{i}", RadioSet).disabled = True
        self._update_score()

    def grade(self, grader: Any) -> None:
        """The run is over: grade predictions with ``grader(question) -> index | None``,
        unlock concept questions."""
        self.lock_predictions()
        self.run_over = True
        for i, q in enumerate(self.predictions):
            key = f"prediction.{i}"
            try:
                self.truth[key] = grader(q)
            except Exception:
                self.truth[key] = None
            self._explain("prediction", i, q, self.truth[key])
        for i in range(len(self.concepts)):
            key = f"concept.{i}"
            if key not in self.answers:
                self.query_one(f"#concept-{i}", RadioSet).disabled = False
        heading = self.query("#concept-heading")
        if heading:
            heading.first(Static).update("CONCEPTS — the run is over; answer these.")
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
        self._update_score()

    def _explain(self, kind: str, i: int, q: Any, truth: int | None) -> None:
        box = self.query_one(f"#q-{kind}-{i}")
        expl = box.query_one(".explanation", Static)
        given = self.answers.get(f"{kind}.{i}")
        if truth is None:
            expl.update("[dim]The runs did not settle this one — no grade.[/dim]")
            return
        right = q.choices[truth] if 0 <= truth < len(q.choices) else "?"
        if given == truth:
            verdict, style, lead = "✓ correct", "bold green", " — "
        elif given is None:
            verdict, style, lead = "– unanswered", "bold yellow", " — answer: "
        else:
            verdict, style, lead = "✗ not quite", "bold red", " — answer: "
        box.set_class(given == truth, "-right")
        box.set_class(given != truth, "-wrong")
        # scenario text (choice, explanation) as literal content, never as markup
        parts: list[Any] = [(verdict, style), lead, content(right, one_line=True)]
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
            if t is not None and self.answers.get(f"prediction.{i}") == t:
                correct += 1
        return correct, self.total

    def finished(self) -> bool:
        return self.run_over and all(f"concept.{i}" in self.answers
                                     for i in range(len(self.concepts)))

    def _update_score(self) -> None:
        if not self.total:
            return
        correct, total = self.score()
        graded = len(self.truth) + sum(1 for k in self.answers if k.startswith("concept."))
        label = self.query_one("#quiz-score", Static)
        if not self.run_over:
            n = sum(1 for k in self.answers if k.startswith("prediction."))
            state = "locked" if self.locked else "open"
            label.update(f"[b]Score —[/b] predictions {n}/{len(self.predictions)} answered"
                         f" ({state}); grading after the run.")
        else:
            label.update(f"[b]Score {correct}/{total}[/b]  ({graded}/{total} graded)")
        if self.run_over:
            self.post_message(self.Scored(correct, total, dict(self.answers)))
