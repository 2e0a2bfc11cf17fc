"""The Code view: the training loop of one run, as code, with the phase being executed lit.

The text is what ``descent export`` writes (:mod:`descent_tui.export`, the one
source of truth), at four levels: NumPy with the chain rule by hand, descent's
engine (PyTorch's names), PyTorch itself, and TensorFlow's GradientTape for
reading. Each script tags the five phases of a step (``# 1 zero_grad`` ..
``# 5 step``); :meth:`CodeView.next_phase` moves the highlight along them.
Rich's ``Syntax`` colours the text. A failure to build or draw the text is
shown in place: the view never takes the app down.
"""

from __future__ import annotations

from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import ScrollableContainer, Vertical
from textual.widgets import Static

from descent_tui.export import PHASES, export_script, phase_lines

__all__ = ["LEVELS", "CodeView"]

#: (export target, what the level is), in the order ``c`` cycles them
LEVELS = (
    ("numpy", "NumPy: the chain rule by hand"),
    ("engine", "descent's engine: PyTorch's names"),
    ("torch", "PyTorch"),
    ("tensorflow", "TensorFlow GradientTape (for reading)"),
)

#: how the line of the phase being executed is lit
LIT = "bold on #264f78"


class CodeView(Vertical):
    """One run's loop as code; ``cycle_level`` and ``next_phase`` change what it shows."""

    DEFAULT_CSS = """
    CodeView { height: 1fr; }
    CodeView > #code-title { height: auto; padding: 0 1; background: $boost; }
    CodeView > #code-scroll { height: 1fr; }
    CodeView #code-text { width: auto; }
    """

    def __init__(self, plan: Any = None, error: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan, self.error = plan, error
        self.level = 0
        self.phase = 0  # index into PHASES: the phase lit
        #: the mission's update count when it lit *step* itself (None: the learner walks)
        self.taken: int | None = None
        self._texts: dict[str, str] = {}
        self._coloured: dict[str, list[Text]] = {}  # per level: its lines, coloured

    def compose(self) -> ComposeResult:
        yield Static(id="code-title")
        with ScrollableContainer(id="code-scroll"):
            yield Static(id="code-text")

    def on_mount(self) -> None:
        self.refresh_code()

    # ------------------------------------------------------------ the learner's keys
    def set_plan(self, plan: Any, error: str | None = None) -> None:
        """Show ``plan`` (a :class:`~descent_tui.export.RunPlan`), or ``error`` in its place."""
        self.plan, self.error, self._texts, self._coloured = plan, error, {}, {}
        self.refresh_code()

    def cycle_level(self) -> str:
        """The next level (NumPy → engine → PyTorch → TensorFlow → NumPy); its target."""
        self.level = (self.level + 1) % len(LEVELS)
        self.refresh_code()
        return LEVELS[self.level][0]

    def next_phase(self, delta: int = 1) -> bool:
        """Light the next phase (or previous, ``delta=-1``); True when it wrapped past a
        *step* still to take (not one the mission has just taken, see :meth:`step_taken`)."""
        wrapped = self.phase + delta >= len(PHASES) and self.taken is None
        self.phase, self.taken = (self.phase + delta) % len(PHASES), None
        self.refresh_code()
        return wrapped

    def step_taken(self, steps: int) -> None:
        """The mission took update ``steps``: light *step*, the line it has just run.

        The next phase is then the next update's zero_grad, without stepping again.
        """
        self.phase, self.taken = len(PHASES) - 1, steps
        self.refresh_code()

    # ------------------------------------------------------------------ drawing
    def text(self) -> str:
        """The current level's script (built once per plan and level)."""
        target = LEVELS[self.level][0]
        if target not in self._texts:
            self._texts[target] = export_script(self.plan, target)
        return self._texts[target]

    def refresh_code(self) -> None:
        """Redraw the title and the code; any failure is shown in place of the code."""
        title, body = self.query_one("#code-title", Static), self.query_one("#code-text", Static)
        name = LEVELS[self.level][1]
        try:
            if self.plan is None:
                raise ValueError(self.error or "no run to show")
            text = self.text()
            lit = phase_lines(text).get(PHASES[self.phase])
            body.update(self._numbered(lit))
            title.update(self._title(name, lit))
            if lit is not None:
                self.call_after_refresh(self._scroll_to, lit)
        except Exception as e:  # the view shows its error, it never crashes
            title.update(Text(f"Code · {name}", style="bold"))
            body.update(Text(f"No code to show for this run at this level:\n{e}", style="red"))

    def _numbered(self, lit: int | None) -> Text:
        """The coloured script with line numbers; line ``lit`` (0-based) marked and lit."""
        target = LEVELS[self.level][0]
        if target not in self._coloured:
            code = self.text()
            lines = Syntax(code, "python", theme="ansi_dark").highlight(code).split("\n")
            width = len(str(len(lines)))
            self._coloured[target] = [Text(f"  {i + 1:>{width}} ", style="dim") + line
                                      for i, line in enumerate(lines)]
        out = Text()
        for i, line in enumerate(self._coloured[target]):
            if i == lit:
                line = Text("❯") + line[1:]
                line.stylize(LIT, 0, len(line))
            out.append_text(line)
            out.append("\n")
        return out

    def _title(self, name: str, lit: int | None) -> Text:
        run = f"run {self.plan.label!r}" if self.plan is not None else ""
        where = f"line {lit + 1}" if lit is not None else "not in this version"
        if self.taken is not None:
            where += f" · update {self.taken} just taken"
        out = Text.assemble(("Code · ", "bold"), (name, "bold cyan"), f" · {run}\n")
        phases = Text()
        for i, phase in enumerate(PHASES):
            phases.append(f" {i + 1} {phase} ", style="reverse bold" if i == self.phase else "dim")
        out.append_text(phases)
        out.append(f"  ({where})")
        return out

    def _scroll_to(self, line: int) -> None:
        scroll = self.query_one("#code-scroll", ScrollableContainer)
        scroll.scroll_to(y=max(0, line - scroll.size.height // 3), animate=False)
