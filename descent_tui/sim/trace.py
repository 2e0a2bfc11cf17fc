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
    """Euclidean norm of an array (0 for None; inf once the squares overflow, quietly)."""
    if a is None:
        return 0.0
    with np.errstate(all="ignore"):
        return float(np.sqrt(np.sum(np.square(np.asarray(a, dtype=np.float64)))))
