"""Look inside a computation graph: what the backprop inspector draws."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tensor import Tensor, topological_order


@dataclass
class GraphNode:
    """One tensor of a graph, for display: who made it, from what, and its numbers."""

    index: int
    op: str            # '' for a leaf (an input or a parameter)
    name: str | None
    shape: tuple
    value: np.ndarray
    grad: np.ndarray | None
    parents: list[int]  # indices of the nodes this one was computed from
    tensor: Tensor


def list_graph(root: Tensor) -> list[GraphNode]:
    """The graph behind ``root`` in topological order (inputs first, root last).

    Each node carries its op name, shape, value, gradient (after ``backward``)
    and the indices of its parents, so a viewer can walk it either way.
    """
    order = _all_nodes(root)
    index = {id(t): i for i, t in enumerate(order)}
    return [
        GraphNode(i, t.op, t.name, t.shape, t.data, t.grad,
                  [index[id(p)] for p in t._prev if id(p) in index], t)
        for i, t in enumerate(order)
    ]


def _all_nodes(root: Tensor) -> list:
    # like topological_order, but keeps constants too: a learner wants to see them
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for p in reversed(node._prev):
            if id(p) not in seen:
                stack.append((p, False))
    return order


__all__ = ["GraphNode", "list_graph", "topological_order"]
