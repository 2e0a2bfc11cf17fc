"""The graph of one training step, built from a running Simulation, for the backprop inspector.

Which step? The inspector shows the step the simulation is ABOUT to take: the
current weights (``run.step`` updates done), on the batch the next
``sim.step()`` will draw (``NetworkRun.next_batch`` peeks at it without
advancing the shuffle). Its graph is built on *copies* of the parameters, so
tracing it, ``backward()`` on it or a gradient check never touches the sim.
After ``sim.step()`` the history's step ``run.step + 1`` records the same
gradients: ``grad.<param>`` (landscapes) and ``layer k.grad_norm`` =
sqrt(‖dL/dW‖² + ‖dL/db‖²) (networks) -- tests/test_trace.py checks both.

:func:`layer_groups` groups a network trace's nodes per layer, with the blame
(gradient norms) each layer received.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from descent_tui.engine import Tensor
from descent_tui.engine import functional as F
from descent_tui.sim.trace import Trace, norm, trace_backward

__all__ = ["LayerGroup", "StepGraph", "example_graph", "layer_groups", "run_step_graph", "step_graph"]


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
        """The backward walk of this graph, recorded (no NumPy warnings for inf / NaN)."""
        with np.errstate(all="ignore"):
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


def step_graph(sim: Any, run_index: int = 0) -> StepGraph:
    """The graph of run ``run_index``'s next step (see the module docstring); the sim is unchanged."""
    return run_step_graph(sim.runs[run_index])


def run_step_graph(rs: Any) -> StepGraph:
    """The graph of ``rs``'s next step (a run of a simulation or a timeline's fork)."""
    return _GRAPH_OF_KIND[rs.kind](rs)


def _landscape_graph(rs: Any) -> StepGraph:
    names = list(rs.param_names)
    expr_text = rs.expression.to_string()
    loss_fn = rs.expression.compile(name_nodes=True)  # each Tensor named by its sub-expression

    def build(*leaves: Tensor) -> Tensor:
        out = loss_fn(dict(zip(names, leaves, strict=True)))
        if not isinstance(out, Tensor):  # the loss does not depend on any knob
            out = Tensor(float(out))
        out.name = "loss"
        return out

    leaves = []
    for name, v in zip(names, rs.point.tolist(), strict=True):
        t = Tensor(float(v), requires_grad=True)
        t.name = name
        leaves.append(t)
    with np.errstate(all="ignore"):
        root = build(*leaves)
    return StepGraph(root, "landscape", f"loss = {expr_text}", rs.label, rs.step + 1,
                     [(n, t) for n, t in zip(names, leaves, strict=True)], rebuild=build,
                     notes=_zero_grad_note(rs))


def _zero_grad_note(rs: Any) -> list[str]:
    if not rs.config.forget_zero_grad:
        return []
    return ["This run skips zero_grad: the optimizer adds this gradient to the leftover one."]


def _parameter_copies(rs: Any, lnames: list[str]) -> tuple[list[tuple[str, Tensor]],
                                                            dict[int, int]]:
    """Named copies of every weight and bias, in layer order, and their layer (1-based)."""
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
    return params, layer_of


def _network_builder(rs: Any, micro: list, lnames: list[str]) -> Any:
    """``build(*params)``: the step's loss over ``micro``, each node named for the inspector."""
    acc_n = rs.config.accumulate
    has_bias = [lin.bias is not None for lin in rs.linears]
    cross_entropy = rs.spec.network.loss == "cross_entropy"

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
            target = ym if cross_entropy else Tensor(ym)
            if isinstance(target, Tensor):
                target.name = pre + "y (labels)"
            loss = rs.criterion(h, target)
            if acc_n > 1:
                loss.name = pre + "loss"
                loss = loss / acc_n
            total = loss if total is None else total + loss
            total.name = pre + ("loss" if len(micro) == 1 else "loss (sum so far)")
        total.name = "loss"
        return total

    return build


def _network_graph(rs: Any) -> StepGraph:
    micro = rs.next_batch()
    acc_n = rs.config.accumulate
    n_layers = len(rs.linears)
    lnames = [f"layer {k + 1}" for k in range(n_layers)]
    params, layer_of = _parameter_copies(rs, lnames)
    build = _network_builder(rs, micro, lnames)
    with np.errstate(all="ignore"):
        root = build(*[t for _, t in params], _record=layer_of)
    spec = rs.spec.network
    sizes = spec.model.layers
    sizes = "→".join(str(s) for s in (sizes if len(sizes) <= 5 else
                                      [sizes[0], sizes[1], "…", sizes[-2], sizes[-1]]))
    notes = []
    if len(micro) > 1:
        notes.append(f"{len(micro)} micro-batches, each loss divided by {acc_n}: their "
                     f"gradients add up, as in the sim's accumulation.")
    notes += _zero_grad_note(rs)
    rows = sum(len(m[0]) for m in micro)
    title = f"{n_layers} layers {sizes}, {spec.loss} loss, batch of {rows}"
    return StepGraph(root, "network", title, rs.label, rs.step + 1, params, layer_of, lnames,
                     notes, rebuild=build)


#: how to build the step graph of a run, by the run's kind
_GRAPH_OF_KIND = {"landscape": _landscape_graph, "network": _network_graph}


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


