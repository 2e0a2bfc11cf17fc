"""``g``: the backprop inspector — watch the blame flow backwards, node by node.

It shows the graph of the step the mission is ABOUT to take for the selected
run (current weights, the batch the next step will draw; see
``descent_tui.sim.step_graph.step_graph``), first forwards, then the backward walk.
``c`` checks backprop against central differences; ``e`` swaps in the
briefing's worked example y = 2x, z = y².
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from descent_tui.sim.chain_check import check_chain_rule
from descent_tui.sim.step_graph import example_graph, run_step_graph
from descent_tui.tui.safe_text import escape
from descent_tui.tui.widgets.graph_view import (
    GraphModel,
    GraphView,
    StepDetail,
    fmt_shape,
    render_blame,
    render_check,
)
from descent_tui.tui.widgets.safe import guarded

__all__ = ["InspectorScreen", "JumpScreen"]


class JumpScreen(ModalScreen[int | None]):
    """Pick a node by its label."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, model: GraphModel) -> None:
        super().__init__()
        self.model = model

    def compose(self) -> ComposeResult:
        opts = [Option(f"{n.index:>2}  {n.label}  ({n.op or 'leaf'}, {fmt_shape(n.shape)})",
                       id=str(n.index)) for n in self.model.trace.nodes]
        with Vertical(id="jump-box"):
            yield Static("[b]Jump to node[/b]  (enter: go · esc: cancel)", id="jump-title")
            yield OptionList(*opts, id="jump-list")

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        where = self.model.at()
        ol.highlighted = where.node if where.node is not None else len(self.model.trace.nodes) - 1
        ol.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id))

    def action_cancel(self) -> None:
        self.dismiss(None)


class InspectorScreen(Screen[None]):
    """One training step's computation graph, forwards then backwards."""

    AUTO_FOCUS = None

    DEFAULT_CSS = """
    InspectorScreen #inspector-info {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $panel;
        color: $foreground;
    }
    InspectorScreen #inspector-body { height: 1fr; }
    InspectorScreen #graph-view {
        width: 1fr;
        border: round $primary;
        border-title-color: $accent;
        scrollbar-size: 1 1;
    }
    InspectorScreen #inspector-side {
        width: 54;
        border: round $secondary;
        padding: 0 1;
        scrollbar-size: 1 1;
    }
    InspectorScreen #step-detail { height: auto; margin-bottom: 1; }
    InspectorScreen #layer-blame { height: auto; margin-bottom: 1; color: $accent; }
    InspectorScreen #chain-check { height: auto; }
    InspectorScreen.-narrow #inspector-body { layout: vertical; }
    InspectorScreen.-narrow #graph-view { width: 100%; height: 1fr; }
    InspectorScreen.-narrow #inspector-side { width: 100%; height: 1fr; }
    JumpScreen { align: center middle; background: $background 60%; }
    JumpScreen #jump-box {
        width: 60;
        height: 80%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    JumpScreen #jump-title { color: $accent; margin-bottom: 1; }
    JumpScreen #jump-list { height: 1fr; }
    """

    BINDINGS = [
        Binding("n,right", "move(1)", "Next", key_display="n/→",
                tooltip="Next node of the forward pass / next backward step", priority=True),
        Binding("p,left", "move(-1)", "Previous", key_display="p/←",
                tooltip="Previous node / backward step", priority=True),
        Binding("b", "backward", "Backward pass", tooltip="Skip to the first backward step"),
        Binding("j", "jump", "Jump to node", tooltip="Pick a node by name and go to it"),
        Binding("c", "check", "Check chain rule",
                tooltip="Compare backprop with central differences (gradcheck)"),
        Binding("e", "example", "Worked example",
                tooltip="Switch between this step's graph and y = 2x, z = y² at x = 1"),
        Binding("s", "next_run", "Next run", tooltip="Inspect the next run's step"),
        Binding("home", "go('start')", "Start", show=False, tooltip="First forward node",
                priority=True),
        Binding("end", "go('end')", "End", show=False,
                tooltip="The end: every parameter holds its gradient", priority=True),
        Binding("escape", "back", "Back", tooltip="Back to the mission"),
    ]

    def __init__(self, sim: Any = None, run_index: int = 0, lock: Any = None,
                 example: bool = False, runs: list[Any] | None = None) -> None:
        """``runs``: the runs ``s`` walks and ``run_index`` counts in (the mission
        passes its runs and then the timeline's forks); by default ``sim.runs``."""
        super().__init__()
        self.sim = sim
        self.runs = runs
        self.run_index = run_index
        self.lock = lock if lock is not None else nullcontext()
        self.example = example or sim is None
        self.check = None
        self.model = self._build()

    # ------------------------------------------------------------------ model
    def _build(self) -> GraphModel:
        if self.example:
            return GraphModel(example_graph())
        with self.lock:
            return GraphModel(run_step_graph(self._runs()[self.run_index]))

    def _runs(self) -> list[Any]:
        return self.runs if self.runs is not None else self.sim.runs

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Static(id="inspector-info")
        with Horizontal(id="inspector-body"):
            graph = GraphView(id="graph-view")
            graph.border_title = "COMPUTATION GRAPH"
            yield graph
            with VerticalScroll(id="inspector-side"):
                yield StepDetail(id="step-detail")
                yield Static(id="layer-blame")
                yield Static(id="chain-check")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "BACKPROP INSPECTOR"
        self.sub_title = "Vector Prime"
        self._apply_size_class()
        self.refresh_view()

    def on_resize(self) -> None:
        self._apply_size_class()

    def _apply_size_class(self) -> None:
        w = self.app.size.width
        self.set_class(w < 110, "-narrow")

    # ------------------------------------------------------------------ drawing
    def info_text(self) -> str:
        g = self.model.graph
        if g.kind == "example":
            head = f"[b]Briefing example[/b] · {escape(g.title)} · e: back to the training step"
        else:
            head = (f"[b]run {escape(g.run_label, one_line=True)}[/b] · step {g.step} (the next"
                    f" update, at the current weights) · {escape(g.title)}")
        notes = escape("  ".join(g.notes))
        return head + (f"\n[i]{notes}[/i]" if notes else "")

    def refresh_view(self) -> None:
        m = self.model
        self.query_one("#inspector-info", Static).update(self.info_text())
        gv = self.query_one(GraphView)
        gv.show(m)
        where = m.at()
        phase = {"forward": f"forward {where.node + 1 if where.node is not None else 0}"
                            f"/{m.n_forward}",
                 "backward": f"backward {(where.step or 0) + 1}/{m.n_backward}",
                 "done": "done"}[where.phase]
        gv.border_subtitle = f"{phase} · {len(m.trace.nodes)} nodes"
        self.query_one(StepDetail).show(m)
        blame = self.query_one("#layer-blame", Static)
        blame.display = bool(m.groups)
        if m.groups:
            blame.update(guarded(render_blame, m))
        self.query_one("#chain-check", Static).update(guarded(render_check, self.check, m))

    # ------------------------------------------------------------------ actions
    def action_move(self, delta: int) -> None:
        self.model.move(delta)
        self.refresh_view()

    def action_go(self, where: str) -> None:
        self.model.go(0 if where == "start" else self.model.last)
        self.refresh_view()

    def action_backward(self) -> None:
        self.model.go(self.model.backward_start)
        self.refresh_view()

    def action_jump(self) -> None:
        def done(index: int | None) -> None:
            if index is not None:
                self.model.go(self.model.position_of_node(index))
                self.refresh_view()

        self.app.push_screen(JumpScreen(self.model), done)

    def action_check(self) -> None:
        self.check = check_chain_rule(self.model.graph)
        self.refresh_view()
        verdict = "backprop and central differences agree" if self.check.ok else \
            "some entries disagree: see the table"
        self.notify(f"Chain rule checked: {verdict}.", timeout=3)

    def action_example(self) -> None:
        if self.sim is None:
            return
        self.example = not self.example
        self._rebuild()

    def action_next_run(self) -> None:
        if self.sim is None or self.example:
            return
        self.run_index = (self.run_index + 1) % len(self._runs())
        self._rebuild()

    def _rebuild(self) -> None:
        self.model = self._build()
        self.check = None
        self.refresh_view()

    def action_back(self) -> None:
        self.app.pop_screen()
