"""Record a backward pass step by step, for the backprop inspector.

``Tensor.backward()`` does its work in one go. A learner wants to watch it:
which node is being processed, the gradient arriving at it (dL/dnode), the
node's local derivative d(node)/d(parent), and the chain-rule product it hands
to each parent. ``trace_backward`` replays the very same walk using each
node's own backward function, and records every hand-off. It changes nothing:
no ``.grad`` is written and the graph stays usable for a real ``backward()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from descent_tui.engine import Tensor, backward_steps, list_graph
from descent_tui.engine import functional as F


@dataclass
class Handoff:
    """What one node passes back to one of its parents."""

    parent: int                   # index of the parent in Trace.nodes
    local: np.ndarray | None      # d(node)/d(parent), where it is elementwise
    grad: np.ndarray              # the chain-rule product: dL/dnode · d(node)/d(parent)


@dataclass
class BackwardStep:
    node: int                     # index of the node being processed
    incoming: np.ndarray          # dL/dnode, summed over every path that reached it
    handoffs: list[Handoff] = field(default_factory=list)


@dataclass
class TraceNode:
    index: int
    op: str                       # '' for a leaf
    label: str                    # a name for display: the tensor's name, or op
    shape: tuple
    value: np.ndarray
    parents: list[int]
    is_param: bool                # a leaf that requires grad: a knob
    tensor: Tensor

    @property
    def is_leaf(self) -> bool:
        return not self.op


@dataclass
class Trace:
    """The forward graph (inputs first) and the backward walk (loss first)."""

    nodes: list[TraceNode]
    steps: list[BackwardStep]
    grads: dict[int, np.ndarray]  # dL/dnode for every node that received gradient

    @property
    def root(self) -> TraceNode:
        return self.nodes[-1]

    def grad_of(self, index: int) -> np.ndarray | None:
        return self.grads.get(index)

    def params(self) -> list[TraceNode]:
        return [n for n in self.nodes if n.is_param]


def _label(t: Tensor) -> str:
    if t.name:
        return t.name
    if not t.op:
        return "const" if not t.requires_grad else "leaf"
    return t.op


def trace_backward(root: Tensor, grad: np.ndarray | None = None) -> Trace:
    """Record ``root.backward()`` step by step without writing any ``.grad``.

    The steps are the engine's own walk (``backward_steps``, the one
    ``backward()`` consumes), so the inspector shows exactly what backward
    does. The graph must still be intact (trace before calling ``backward``,
    or after ``backward(retain_graph=True)``).
    """
    listed = list_graph(root)
    index = {id(n.tensor): n.index for n in listed}
    nodes = [
        TraceNode(n.index, n.op, _label(n.tensor), n.shape, n.value, n.parents,
                  bool(n.tensor.requires_grad and not n.op), n.tensor)
        for n in listed
    ]
    if not root.requires_grad:
        return Trace(nodes, [], {})
    seed = np.ones_like(root.data) if grad is None else np.asarray(grad)
    grads: dict[int, np.ndarray] = {index[id(root)]: seed}
    steps: list[BackwardStep] = []
    for node, g, shares in backward_steps(root, seed):
        step = BackwardStep(index[id(node)], np.asarray(g))
        grads[step.node] = step.incoming
        for (parent, share), local in zip(shares, _local_derivatives(node), strict=True):
            if share is None:
                continue
            share = np.asarray(share)
            i = index[id(parent)]
            step.handoffs.append(Handoff(i, local, share))
            if parent.is_leaf:  # a leaf's total: every share it received, in walk order
                grads[i] = share if i not in grads else grads[i] + share
        steps.append(step)
    return Trace(nodes, steps, grads)


# same-shaped but coupled across entries: backward(ones) is not a derivative
_NOT_ELEMENTWISE = {"softmax", "log_softmax", "transpose", "reshape", "index", "linear",
                    "matmul"}


def _local_derivatives(t: Tensor) -> list:
    """d(t)/d(parent), one per parent, for elementwise ops (same shapes): ``grad_fn(1)``.

    For a scalar graph like y = 2x, z = y² this is exactly the number a learner
    computes by hand (dz/dy = 2y). Matrix ops and reductions have no single
    local derivative to show, so they get None.
    """
    out: list = [None] * len(t.parents)
    if t.grad_fn is None or t.op in _NOT_ELEMENTWISE or any(
            p.shape != t.shape for p in t.parents):
        return out
    try:
        ones = t.grad_fn(np.ones_like(t.data))
    except Exception:  # pragma: no cover - a display nicety, never fatal
        return out
    return [None if o is None else np.asarray(o) for o in ones]


def norm(a) -> float:
    """Euclidean norm of an array (0 for None)."""
    if a is None:
        return 0.0
    return float(np.sqrt(np.sum(np.square(np.asarray(a, dtype=np.float64)))))


# --------------------------------------------------------------------------
# The graph of one training step, built from a running Simulation
# --------------------------------------------------------------------------
#
# Which step? The inspector shows the step the simulation is ABOUT to take:
# the current weights (run.step updates done), on the batch the next
# ``sim.step()`` will draw (``Simulation.next_batch`` peeks at it without
# advancing the shuffle). Its graph is built on *copies* of the parameters, so
# tracing it, backward() on it or a gradient check never touches the sim.
# After ``sim.step()`` the history's step ``run.step + 1`` records the same
# gradients: "grad.<param>" (landscapes) and "layer k.grad_norm" =
# sqrt(‖dL/dW‖² + ‖dL/db‖²) (networks) -- tests/test_trace.py checks both.


@dataclass
class StepGraph:
    """One step's computation graph, ready to trace; nothing in it is shared with the sim."""

    root: Tensor
    kind: str                                 # "landscape" | "network" | "example"
    title: str                                # e.g. "loss = x**2" / "10-layer net, bce"
    run_label: str
    step: int                                 # the step this graph computes (1-based)
    params: list[tuple[str, Tensor]]          # the knobs (copies), in layer order
    layer_of: dict[int, int] = field(default_factory=dict)  # id(tensor) -> layer (1-based)
    layer_names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: rebuild the loss from replacement parameter tensors (same order as ``params``)
    rebuild: object = None

    def trace(self) -> Trace:
        return trace_backward(self.root)


def example_graph() -> StepGraph:
    """The briefing's worked example: y = 2x, z = y² at x = 1 (dz/dx = 8)."""

    def build(x: Tensor) -> Tensor:
        y = x * 2
        y.name = "y"
        z = y ** 2
        z.name = "z"
        return z

    x = Tensor(1.0, requires_grad=True)
    x.name = "x"
    return StepGraph(build(x), "example", "y = 2x,  z = y²  at x = 1", "briefing example", 0,
                     [("x", x)], rebuild=build,
                     notes=["The chain rule by hand: dz/dx = dz/dy · dy/dx = 2y · 2 = 8."])


def _walk_expr(node, env: dict):
    """Evaluate a scenario expression like ``Node.eval``, naming each Tensor by its text."""
    from descent_tui.scenario import expr as E

    if isinstance(node, E.Num):
        return node.value
    if isinstance(node, E.Name):
        return env[node.name]
    if isinstance(node, E.Unary):
        v = _walk_expr(node.operand, env)
        out = v if node.op == "+" else E._neg(v)
    elif isinstance(node, E.Binary):
        out = E._binop(node.op, _walk_expr(node.left, env), _walk_expr(node.right, env))
    elif isinstance(node, E.Call):
        out = E._call(node.func, _walk_expr(node.arg, env))
    else:  # pragma: no cover - a node type this walker does not know
        out = node.eval(env)
    if isinstance(out, Tensor) and out.name is None and out.op:
        out.name = node.to_string()
    return out


def step_graph(sim, run_index: int = 0) -> StepGraph:
    """The graph of run ``run_index``'s next step (see the note above); the sim is unchanged."""
    rs = sim.runs[run_index]
    if sim.kind == "landscape":
        return _landscape_graph(sim, rs)
    return _network_graph(sim, rs, run_index)


def _landscape_graph(sim, rs) -> StepGraph:
    names = list(rs.param_names)
    root_node = sim._root
    expr_text = root_node.to_string()

    def build(*leaves: Tensor) -> Tensor:
        out = _walk_expr(root_node, dict(zip(names, leaves, strict=True)))
        if not isinstance(out, Tensor):  # the loss does not depend on any knob
            out = Tensor(float(out))
        out.name = "loss"
        return out

    leaves = []
    for name, v in zip(names, rs.theta.data.tolist(), strict=True):
        t = Tensor(float(v), requires_grad=True)
        t.name = name
        leaves.append(t)
    notes = []
    if rs.config.forget_zero_grad:
        notes.append("This run skips zero_grad: the optimizer adds this gradient to the "
                     "leftover one.")
    return StepGraph(build(*leaves), "landscape", f"loss = {expr_text}", rs.label, rs.step + 1,
                     [(n, t) for n, t in zip(names, leaves, strict=True)], rebuild=build,
                     notes=notes)


def _network_graph(sim, rs, run_index: int) -> StepGraph:
    micro = sim.next_batch(run_index)
    acc_n = rs.config.accumulate
    n_layers = len(rs.linears)
    lnames = [f"layer {k + 1}" for k in range(n_layers)]
    params: list[tuple[str, Tensor]] = []
    layer_of: dict[int, int] = {}
    for k, lin in enumerate(rs.linears):
        for part in ("weight", "bias"):
            p = getattr(lin, part)
            if p is None:
                continue
            c = Tensor(p.data.copy(), requires_grad=True)
            c.name = f"{lnames[k]} · {part}"
            layer_of[id(c)] = k + 1
            params.append((c.name, c))
    has_bias = [lin.bias is not None for lin in rs.linears]

    def build(*ps: Tensor, _record: dict | None = None) -> Tensor:
        it = iter(ps)
        wb = [(next(it), next(it) if b else None) for b in has_bias]
        total = None
        for j, (xm, ym) in enumerate(micro):
            pre = f"μb {j + 1} · " if len(micro) > 1 else ""
            h = Tensor(xm)
            h.name = pre + "x (batch)"
            for k, ((w, b), act) in enumerate(zip(wb, rs.act_modules, strict=True)):
                z = F.linear(h, w, b)
                z.name = f"{pre}{lnames[k]} · linear"
                h = z
                if act is not None:
                    h = act(z)
                    h.name = f"{pre}{lnames[k]} · {rs.acts[k]}"
                if _record is not None:
                    _record[id(z)] = _record[id(h)] = k + 1
            target = Tensor(ym) if sim.spec.network.loss != "cross_entropy" else ym
            if isinstance(target, Tensor):
                target.name = pre + "y (labels)"
            loss = sim._loss(h, target)
            if acc_n > 1:
                loss.name = pre + "loss"
                loss = loss / acc_n
            total = loss if total is None else total + loss
            total.name = pre + ("loss" if len(micro) == 1 else "loss (sum so far)")
        total.name = "loss"
        return total

    with np.errstate(all="ignore"):
        root = build(*[t for _, t in params], _record=layer_of)
    spec = sim.spec.network
    sizes = spec.model.layers
    sizes = "→".join(str(s) for s in (sizes if len(sizes) <= 5 else
                                      [sizes[0], sizes[1], "…", sizes[-2], sizes[-1]]))
    notes = []
    if len(micro) > 1:
        notes.append(f"{len(micro)} micro-batches, each loss divided by {acc_n}: their "
                     f"gradients add up, as in the sim's accumulation.")
    if rs.config.forget_zero_grad:
        notes.append("This run skips zero_grad: the optimizer adds this gradient to the "
                     "leftover one.")
    rows = sum(len(m[0]) for m in micro)
    title = f"{n_layers} layers {sizes}, {spec.loss} loss, batch of {rows}"
    return StepGraph(root, "network", title, rs.label, rs.step + 1, params, layer_of, lnames,
                     notes, rebuild=build)



@dataclass
class LayerGroup:
    """The nodes of one layer, and the blame (gradient norms) it received."""

    layer: int                    # 1-based
    name: str
    nodes: list[int]              # every node of the layer, in forward order
    params: list[int]             # its weight / bias nodes
    outputs: list[int]            # the layer's output node (one per micro-batch)

    def grad_norm(self, grads: dict[int, np.ndarray]) -> float | None:
        """sqrt(‖dL/dW‖² + ‖dL/db‖²): the sim's ``layer k.grad_norm`` (None: not yet reached)."""
        if any(p not in grads for p in self.params):
            return None
        return float(np.sqrt(sum(norm(grads[p]) ** 2 for p in self.params)))

    def output_grad_norm(self, grads: dict[int, np.ndarray]) -> float | None:
        """‖dL/d(layer output)‖: the blame arriving at this layer from above."""
        if any(o not in grads for o in self.outputs):
            return None
        return float(np.sqrt(sum(norm(grads[o]) ** 2 for o in self.outputs)))


def layer_groups(trace: Trace, graph: StepGraph) -> list[LayerGroup]:
    """Group a network trace's nodes per layer (empty for scalar graphs)."""
    groups = [LayerGroup(k + 1, name, [], [], []) for k, name in enumerate(graph.layer_names)]
    for n in trace.nodes:
        k = graph.layer_of.get(id(n.tensor))
        if k is None:
            continue
        g = groups[k - 1]
        g.nodes.append(n.index)
        if n.is_param:
            g.params.append(n.index)
    for g in groups:
        ops = [i for i in g.nodes if not trace.nodes[i].is_param]
        # a layer's output: its op nodes that no other node of the same layer consumes
        used = {p for i in ops for p in trace.nodes[i].parents}
        g.outputs = [i for i in ops if i not in used]
    return groups


# --------------------------------------------------------------------------
# "Check the chain rule": backprop against central differences
# --------------------------------------------------------------------------

@dataclass
class CheckRow:
    name: str
    shape: tuple
    size: int
    indices: np.ndarray           # flat indices of the checked entries
    analytic: np.ndarray          # backprop's dL/dparam at those entries
    numerical: np.ndarray         # central differences at those entries
    max_abs_diff: float
    ok: bool

    @property
    def sampled(self) -> bool:
        return len(self.indices) < self.size


@dataclass
class ChainCheck:
    rows: list[CheckRow]
    eps: float
    per_tensor: int
    seconds: float

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def sampled(self) -> bool:
        return any(r.sampled for r in self.rows)


def _sample(g: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``k`` flat indices: the entry with the largest |gradient|, then random ones."""
    flat = np.abs(np.asarray(g, dtype=float).reshape(-1))
    if flat.size <= k:
        return np.arange(flat.size)
    top = int(np.argmax(flat))
    rest = rng.choice(np.delete(np.arange(flat.size), top), size=k - 1, replace=False)
    return np.sort(np.concatenate([[top], rest]))


def check_chain_rule(graph: StepGraph, per_tensor: int = 6, eps: float = 1e-6,
                     seed: int = 0) -> ChainCheck:
    """Run the engine's ``gradcheck`` on this step's loss, per parameter tensor.

    Tensors with more than ``per_tensor`` entries are checked on a sample of that
    many entries (the largest-|grad| entry plus random ones, fixed by ``seed``):
    each checked entry costs two forward passes. The check perturbs one-hot
    offsets ``δ`` added to copies of the parameters (``W + scatter(δ)`` at δ = 0),
    so the analytic gradient of δ is exactly dL/dW at the sampled entries.
    """
    import time

    from descent_tui.engine import gradcheck

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    base = [Tensor(t.data.copy()) for _, t in graph.params]
    # backprop once, on a fresh graph, to choose the entries (largest |grad| first)
    fresh = [Tensor(t.data.copy(), requires_grad=True) for _, t in graph.params]
    with np.errstate(all="ignore"):
        loss = graph.rebuild(*fresh)
        loss.backward()
    picks = [_sample(np.zeros(t.shape) if t.grad is None else t.grad, per_tensor, rng)
             for t in fresh]
    scatters = []
    deltas = []
    for b, idx in zip(base, picks, strict=True):
        s = np.zeros((len(idx), b.data.size))
        s[np.arange(len(idx)), idx] = 1.0
        scatters.append(Tensor(s))
        deltas.append(Tensor(np.zeros((1, len(idx))), requires_grad=True))

    def fn(*ds: Tensor) -> Tensor:
        ps = [b + (d @ s).reshape(b.shape) for b, d, s in zip(base, ds, scatters, strict=True)]
        return graph.rebuild(*ps)

    with np.errstate(all="ignore"):
        res = gradcheck(fn, deltas, eps=eps, atol=1e-7, rtol=1e-4)
    rows = []
    for (name, t), idx, a, n in zip(graph.params, picks, res.analytic, res.numerical,
                                    strict=True):
        a, n = np.asarray(a).reshape(-1), np.asarray(n).reshape(-1)
        diff = float(np.max(np.abs(a - n))) if a.size else 0.0
        ok = bool(np.all(np.abs(a - n) <= 1e-7 + 1e-4 * np.abs(n)))
        rows.append(CheckRow(name, t.shape, t.data.size, idx, a, n, diff, ok))
    return ChainCheck(rows, eps, per_tensor, time.perf_counter() - t0)
