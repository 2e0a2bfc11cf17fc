"""The backprop inspector's model and panels: the graph, one step of the walk, the check.

``GraphModel`` is plain Python (no Textual): a timeline over one step's graph,
first the forward pass node by node, then the backward walk step by step, then
"done" (every parameter holds its gradient). The widgets below only draw it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from descent_tui.sim.chain_check import ChainCheck
from descent_tui.sim.step_graph import StepGraph, layer_groups
from descent_tui.sim.trace import BackwardStep, Handoff, Trace, norm
from descent_tui.tui.widgets.safe import failure_text, guarded

__all__ = ["GraphModel", "GraphView", "StepDetail", "fmt_shape", "fmt_value", "render_check"]

PARAM = "★"


# ---------------------------------------------------------------------- formatting
def fmt_num(x: float) -> str:
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e5:
        return f"{x:.6g}"
    return f"{x:.3e}"


def fmt_shape(shape: tuple) -> str:
    return "scalar" if not shape or math.prod(shape) == 1 else "×".join(map(str, shape))


def fmt_value(a) -> str:
    """A scalar in full, an array by its norm."""
    if a is None:
        return "…"
    a = np.asarray(a)
    if a.size == 1:
        return fmt_num(a.reshape(-1)[0])
    return f"‖{norm(a):.3g}‖"


def _summary(a: np.ndarray) -> str:
    a = np.asarray(a, dtype=float)
    if a.size == 1:
        return fmt_num(a.reshape(-1)[0])
    return (f"‖·‖ {norm(a):.4g}   mean {a.mean():.3g}   "
            f"min {a.min():.3g}   max {a.max():.3g}")


def _short(label: str, width: int) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


# ---------------------------------------------------------------------- the model
@dataclass
class Position:
    phase: str            # "forward" | "backward" | "done"
    node: int | None      # the node highlighted
    step: int | None      # index into trace.steps (backward only)


class GraphModel:
    """Where we are in one step's forward + backward walk, and what is known there."""

    def __init__(self, graph: StepGraph) -> None:
        self.graph = graph
        self.trace: Trace = graph.trace()
        self.groups = layer_groups(self.trace, graph) if graph.kind == "network" else []
        self._group_of = {i: g for g in self.groups for i in g.nodes}
        self.pos = 0

    # ------------------------------------------------------------- timeline
    @property
    def n_forward(self) -> int:
        return len(self.trace.nodes)

    @property
    def n_backward(self) -> int:
        return len(self.trace.steps)

    @property
    def last(self) -> int:
        return self.n_forward + self.n_backward

    @property
    def backward_start(self) -> int:
        return self.n_forward

    def move(self, delta: int) -> None:
        self.pos = max(0, min(self.last, self.pos + int(delta)))

    def go(self, pos: int) -> None:
        self.pos = max(0, min(self.last, int(pos)))

    def at(self, pos: int | None = None) -> Position:
        p = self.pos if pos is None else pos
        if p < self.n_forward:
            return Position("forward", p, None)
        if p < self.last:
            k = p - self.n_forward
            return Position("backward", self.trace.steps[k].node, k)
        return Position("done", None, None)

    def position_of_node(self, index: int) -> int:
        """Where to jump for a node: its backward step, else the step that feeds it."""
        for k, s in enumerate(self.trace.steps):
            if s.node == index:
                return self.n_forward + k
        feeding = [k for k, s in enumerate(self.trace.steps)
                   if any(h.parent == index for h in s.handoffs)]
        if feeding:
            return self.n_forward + feeding[-1]
        return index

    # ------------------------------------------------------------- knowledge
    def current_step(self) -> BackwardStep | None:
        where = self.at()
        return None if where.step is None else self.trace.steps[where.step]

    def received(self) -> dict[int, np.ndarray]:
        """dL/dnode as far as the walk has got: what each node has been handed so far."""
        where = self.at()
        if where.phase == "forward":
            return {}
        if where.phase == "done":
            return dict(self.trace.grads)
        root = len(self.trace.nodes) - 1
        got: dict[int, np.ndarray] = {root: self.trace.grads[root]}
        for s in self.trace.steps[: where.step]:
            for h in s.handoffs:
                got[h.parent] = h.grad if h.parent not in got else got[h.parent] + h.grad
        return got

    def computed(self, index: int) -> bool:
        where = self.at()
        return where.phase != "forward" or index <= where.node

    def group_of(self, index: int):
        return self._group_of.get(index)


# ---------------------------------------------------------------------- the graph table
class GraphView(VerticalScroll):
    """Every node, inputs first: op, shape, value; dL/dnode as the walk reaches it."""

    DEFAULT_CSS = """
    GraphView { height: 1fr; }
    GraphView > #graph-lines { width: auto; min-width: 100%; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.model: GraphModel | None = None
        self.lines = Static("", id="graph-lines")
        self.text = ""

    def compose(self):
        yield self.lines

    def show(self, model: GraphModel) -> None:
        self.model = model
        try:
            text, line = render_graph(model)
        except Exception as error:
            text, line = failure_text(error), None
        self.text = text.plain
        self.lines.update(text)
        if line is not None:
            h = max(1, self.size.height)
            if not (self.scroll_y + 1 <= line < self.scroll_y + h - 1):
                self.scroll_to(y=max(0, line - h // 2), animate=False)


def render_graph(model: GraphModel) -> tuple[Text, int | None]:
    """The table as Text, and the line of the highlighted node (for scrolling)."""
    tr = model.trace
    where = model.at()
    got = model.received()
    step = model.current_step()
    feeding = {h.parent for h in step.handoffs} if step else set()
    net = bool(model.groups)
    labels = [table_label(model, n.index) for n in tr.nodes]
    label_w = min(20, max(6, *(len(lab) for lab in labels)))
    op_w = min(10, max(4, *(len(n.op or "param") for n in tr.nodes)))
    shape_w = max(6, *(len(fmt_shape(n.shape)) for n in tr.nodes))
    val_w = max(8, *(len(fmt_value(n.value)) for n in tr.nodes))
    head = f"   {'#':>2} " + ("    " if net else "") + f"{'node':<{label_w}} {'op':<{op_w}} " \
           f"{'shape':<{shape_w}} {'value':<{val_w}} dL/dnode"
    out = Text(head + "\n", style="bold")
    cur_line = None
    for n in tr.nodes:
        i = n.index
        row = Text()
        if i == where.node:
            mark, style = "▶ ", "reverse bold"
            cur_line = i + 1
        elif i in feeding:
            mark, style = "← ", "bold"
        else:
            mark, style = "  ", ""
        row.append(mark, style="bold")
        row.append(f"{i:>2} ", style="dim")
        if net:
            g = model.group_of(i)
            if g is None:
                row.append("    ")
            elif i == g.nodes[0]:
                row.append(f"L{g.layer:<2}┬", style="bold")
            else:
                row.append("   └" if i == g.nodes[-1] else "   │", style="dim")
        lab = _short(labels[i], label_w)
        lab_style = "bold" if n.is_param else ""
        row.append(f"{lab:<{label_w}} ", style=lab_style)
        row.append(f"{_short(n.op or ('param' if n.is_param else 'leaf'), op_w):<{op_w}} ",
                   style="dim" if not n.op else "")
        row.append(f"{fmt_shape(n.shape):<{shape_w}} ", style="dim")
        val = fmt_value(n.value) if model.computed(i) else "…"
        row.append(f"{val:<{val_w}} ")
        g = got.get(i)
        if g is not None:
            row.append(fmt_value(g) + (f" {PARAM}" if n.is_param else ""),
                       style="bold" if i in feeding or n.is_param else "")
        elif n.tensor.requires_grad and where.phase != "forward":
            row.append("…", style="dim")
        if style:
            row.stylize(style)
        out.append(row)
        out.append("\n")
    out.rstrip()
    return out, cur_line


def table_label(model: GraphModel, index: int) -> str:
    """A node's label in the table: inside a layer group, without the 'layer k · ' prefix."""
    label = model.trace.nodes[index].label
    if model.group_of(index) is not None and " · " in label:
        return label.split(" · ", 1)[1] if label.startswith("layer ") else label
    return label


def short_param(name: str) -> str:
    """'layer 3 · weight' -> 'L3 W' (for narrow tables)."""
    if name.startswith("layer ") and " · " in name:
        k, part = name[6:].split(" · ", 1)
        return f"L{k} {'W' if part == 'weight' else 'b' if part == 'bias' else part}"
    return name


# ---------------------------------------------------------------------- the detail panel
_MATRIX_HELP = {
    "linear": {1: "dL/dW = gᵀ · x", 2: "dL/db = Σ over the batch of g", 0: "dL/dx = g · W"},
    "matmul": {0: "dL/dA = g · Bᵀ", 1: "dL/dB = Aᵀ · g"},
    "bce_with_logits": {0: "dL/dz = (σ(z) − y) / n"},
    "mse_loss": {0: "dL/dŷ = 2 (ŷ − y) / n"},
    "cross_entropy": {0: "dL/dz = (softmax(z) − onehot(y)) / n"},
}


class StepDetail(Static):
    """What happens at the highlighted node."""

    def show(self, model: GraphModel) -> None:
        self.update(guarded(render_detail, model))


def render_detail(model: GraphModel) -> Text:
    """The step panel: what happens at the highlighted point of the timeline."""
    where = model.at()
    if where.phase == "forward":
        return _forward_detail(model, where.node)
    if where.phase == "done":
        return _done_detail(model)
    return _backward_detail(model, where.step)


def _forward_detail(model: GraphModel, index: int) -> Text:
    """Forward pass, node ``index``: how it was computed, its shape and value."""
    nodes = model.trace.nodes
    n = nodes[index]
    t = Text()
    t.append(f"FORWARD PASS · node {index + 1} of {model.n_forward}\n", style="bold")
    if n.op:
        args = ", ".join(nodes[p].label for p in n.parents)
        t.append(f"{n.label} = {n.op}({args})\n")
    else:
        kind = "a parameter (a knob: it will get a gradient)" if n.is_param else \
            "an input (data: no gradient needed)"
        t.append(f"{n.label} is {kind}\n")
    t.append(f"shape {fmt_shape(n.shape)}\nvalue {_summary(n.value)}\n")
    if index == model.n_forward - 1:
        t.append("\nThe loss is computed. Next: the backward pass, from the loss "
                 "towards the knobs.\n", style="italic")
    return t


def _done_detail(model: GraphModel) -> Text:
    """After the walk: dL/dp for every parameter p (a number, or a norm for a tensor)."""
    tr = model.trace
    t = Text()
    t.append("DONE · every parameter holds its gradient\n", style="bold")
    for p in tr.params():
        g = tr.grad_of(p.index)
        t.append(f"  {PARAM} dL/d({p.label}) = ")
        t.append(fmt_num(np.asarray(g).reshape(-1)[0]) if g is not None and g.size == 1
                 else (f"‖·‖ {norm(g):.4g}" if g is not None else "none"), style="bold")
        t.append("\n")
    t.append("\nThe optimizer now moves each knob against its gradient.\n", style="italic")
    return t


def _backward_detail(model: GraphModel, step_index: int) -> Text:
    """Backward step ``step_index``: the node's incoming dL/dnode, then each parent's share."""
    nodes = model.trace.nodes
    step = model.current_step()
    n = nodes[step.node]
    scalar = step.incoming.size == 1
    t = Text()
    t.append(f"BACKWARD STEP {step_index + 1} of {model.n_backward}\n", style="bold")
    t.append("processing  ")
    t.append(n.label, style="bold reverse")
    t.append(f"\n            {n.op}, {fmt_shape(n.shape)}\n")
    inc = fmt_num(step.incoming.reshape(-1)[0]) if scalar else f"‖·‖ {norm(step.incoming):.4g}"
    note = "   (dL/dL = 1: where the walk starts)" if step.node == len(nodes) - 1 else ""
    t.append("incoming    dL/dnode = ")
    t.append(inc, style="bold")
    t.append(note + "\n")
    for k, h in enumerate(step.handoffs):
        par = nodes[h.parent]
        t.append(f"\n  → {par.label}{'  ' + PARAM if par.is_param else ''}\n", style="bold")
        if h.local is not None and h.local.size == 1 and scalar:
            _scalar_share(t, n.label, par.label, inc, h)
        elif h.local is not None:
            _elementwise_share(t, step, h)
        else:
            operand = n.parents.index(h.parent) if h.parent in n.parents else k
            _matrix_share(t, n.op, operand, h)
    return t


def _scalar_share(t: Text, node: str, parent: str, incoming: str, h: Handoff) -> None:
    """A scalar hand-off: dL/dparent = incoming × d(node)/d(parent), every number shown."""
    lv, gv = h.local.reshape(-1)[0], h.grad.reshape(-1)[0]
    t.append(f"    local  d({node})/d({parent}) = {fmt_num(lv)}\n")
    t.append(f"    chain  dL/d({parent}) = {incoming} × {fmt_num(lv)} = ")
    t.append(fmt_num(gv), style="bold")
    t.append("\n")


def _elementwise_share(t: Text, step: BackwardStep, h: Handoff) -> None:
    """An elementwise hand-off: incoming ⊙ local, summarised by norms and their ratio."""
    loc = np.asarray(h.local, dtype=float)
    t.append(f"    local  elementwise, mean {loc.mean():.3g}, "
             f"max {np.abs(loc).max():.3g}\n")
    t.append("    chain  incoming ⊙ local, ‖·‖ = ")
    ratio = norm(h.grad) / norm(step.incoming) if norm(step.incoming) > 0 else 0.0
    t.append(f"{norm(h.grad):.4g}", style="bold")
    t.append(f"\n           blame × {ratio:.3g} on the way through\n")


def _matrix_share(t: Text, op: str, operand: int, h: Handoff) -> None:
    """A matrix op's hand-off: its rule for operand ``operand`` in words, and ‖dL/dparent‖."""
    rule = _MATRIX_HELP.get(op, {}).get(operand, "a matrix op: no single local number")
    t.append(f"    local  {rule}\n")
    t.append("    chain  ‖dL/dparent‖ = ")
    t.append(f"{norm(h.grad):.4g}" if h.grad.size > 1 else fmt_num(h.grad.item()),
             style="bold")
    t.append("\n")


def render_blame(model: GraphModel) -> Text:
    """Per layer: ‖dL/d(W,b)‖ (the sim's layer grad_norm) and the blame reaching its output.

    The bar is log-scaled against the largest finite norm; a NaN or infinite norm is
    printed as such with an alarm, and gets no bar.
    """
    t = Text("BLAME PER LAYER (so far)\n", style="bold")
    t.append("     ‖dL/dW,b‖  ‖dL/dout‖  log scale\n", style="dim")
    got = model.received()
    norms = [g.grad_norm(got) for g in model.groups]
    outs = [g.output_grad_norm(got) for g in model.groups]
    known = [v for v in norms if v is not None and math.isfinite(v) and v > 0]
    hi = math.log10(max(known)) if known else 0.0
    for g, v, o in zip(model.groups, norms, outs, strict=True):
        t.append(f"L{g.layer:<3}", style="bold")
        if v is None:
            t.append("        …  " + ("" if o is None else f"{o:9.2e}") + "\n", style="dim")
            continue
        t.append(f"{v:9.2e}  " + ("        …" if o is None else f"{o:9.2e}") + "  ")
        if not math.isfinite(v):
            t.append(f"⚠ {'NaN' if math.isnan(v) else 'inf'}: the numbers overflowed",
                     style="bold red")
        else:
            bar = 0 if v <= 0 else max(1, round(12 + 2 * (math.log10(v) - hi)))
            t.append("█" * max(0, min(12, bar)), style="bold")
        t.append("\n")
    return t


def render_check(check: ChainCheck | None, model: GraphModel) -> Text | Group:
    if check is None:
        return Text("Press c to check the chain rule against central differences.",
                    style="dim italic")
    head = Text(f"CHAIN-RULE CHECK · central differences, eps {check.eps:g} · ",
                style="bold")
    head.append("all agree ✓" if check.ok else "MISMATCH ✗",
                style="bold green" if check.ok else "bold red")
    tab = Table.grid(padding=(0, 1))
    scalar = all(r.size == 1 for r in check.rows)
    if scalar:
        for c in ("param", "backprop", "numerical", "|Δ|"):
            tab.add_column(c)
        tab.add_row(*(Text(c, style="bold") for c in ("param", "backprop", "numerical", "|Δ|")))
        for r in check.rows:
            tab.add_row(r.name, fmt_num(r.analytic[0]), fmt_num(r.numerical[0]),
                        f"{r.max_abs_diff:.1e}")
    else:
        cols = ("param", "entries", "‖backprop‖", "‖numeric‖", "max|Δ|", "")
        tab.add_row(*(Text(c, style="bold") for c in cols))
        for r in check.rows:
            tab.add_row(short_param(r.name), f"{len(r.indices)}/{r.size}",
                        f"{norm(r.analytic):.3e}", f"{norm(r.numerical):.3e}",
                        f"{r.max_abs_diff:.1e}", Text("✓" if r.ok else "✗",
                                                      style="green" if r.ok else "red"))
    parts = [head, tab]
    foot = f"{check.seconds:.2f} s, two forward passes per checked entry."
    if check.sampled:
        foot = (f"Big tensors: a sample of {check.per_tensor} entries each (the largest "
                f"|grad| + random ones). " + foot)
    if not check.ok and any(g.startswith("relu") or "relu" in n.label
                            for n in model.trace.nodes for g in [n.op]):
        foot += (" A ReLU unit within eps of its kink (z ≈ 0) makes the finite difference "
                 "straddle the corner: a mismatch there is the kink, not backprop.")
    parts.append(Text(foot, style="dim italic"))
    return Group(*parts)
