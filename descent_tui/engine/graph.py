"""The computation graph: its topological order, the backward walk, and a view for display.

A tensor made by an op remembers its ``parents``, its ``op`` name and its
local derivative ``grad_fn``. This module owns the one walk over that graph:

* :func:`topological_order` lists the tensors a result depends on, parents
  before children;
* :func:`backward_steps` is the backward pass itself, node by node, as a
  generator: the readable reference, which the backprop inspector consumes
  to show each step;
* :func:`run_backward` is the same walk done in one loop, writing as it goes:
  what ``Tensor.backward`` runs. It does the same arithmetic in the same
  order as :func:`backward_steps` (a test holds the two together), only
  without building a record of every step for a reader;
* :func:`list_graph` is the graph as numbered :class:`GraphNode` records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .tensor import Tensor

#: One parent and its share of dL/dnode (None: no gradient flows to that parent).
Share = tuple["Tensor", Any]

_FREED = ("Trying to backward through the graph a second time: its saved values "
          "were freed. Use backward(retain_graph=True) the first time.")


def topological_order(root: Tensor, keep_constants: bool = False,
                      leaves: bool = True) -> list[Tensor]:
    """Every tensor ``root`` depends on, parents before children, ``root`` last.

    Only tensors that require grad are listed, unless ``keep_constants`` (a
    learner wants to see the inputs and targets too), and only the nodes made
    by ops unless ``leaves`` (the backward walk hands a leaf its share as it
    goes, so it needs only those). An iterative depth-first search, so a
    20,000-op chain is fine: a node is appended once all its parents have
    been, first parent's ancestry first, as the recursive ``visit(node):
    visit each parent; append node`` would. (Tensors hash by identity, so a
    set of them is a set of nodes.)
    """
    if not (leaves or root.parents):  # the root is a leaf itself
        return []
    order: list[Tensor] = []
    seen = {root}
    # the path from the root down to the current node, each with the parents it has still to visit
    path = [(root, iter(root.parents))]
    while path:
        node, parents = path[-1]
        for p in parents:
            if not p.parents:  # a leaf has nothing to visit first: list it now (if asked for)
                if leaves and p not in seen and (keep_constants or p.requires_grad):
                    seen.add(p)
                    order.append(p)
            elif p not in seen and (keep_constants or p.requires_grad):
                seen.add(p)
                path.append((p, iter(p.parents)))  # go down into p first
                break
        else:  # every parent is listed: now the node itself
            path.pop()
            order.append(node)
    return order


def backward_steps(root: Tensor, grad: Any) -> Iterator[tuple[Tensor, Any, list[Share]]]:
    """The backward pass from ``root`` (with dL/droot = ``grad``), one node at a time.

    Yields ``(node, dL/dnode, [(parent, share), ...])`` for every non-leaf
    node that receives gradient, children before parents (the reverse of
    :func:`topological_order`), so a node's dL/dnode is complete -- summed
    over every path from the root -- before it is handed on. The shares are
    ``node.grad_fn(dL/dnode)``, one per parent in order, ``None`` where no
    gradient flows (the op gives none, or the parent does not require grad).

    Pure: nothing is written, not even ``.grad``. What to do with a leaf's
    shares (add them into ``leaf.grad``) is the consumer's business.
    """
    pending: dict[Tensor, Any] = {root: grad}  # dL/dnode, summed so far
    for node in reversed(topological_order(root, leaves=False)):
        g = pending.pop(node, None)
        if g is None:  # nothing reached it
            continue
        if node.grad_fn is None:
            raise RuntimeError(_FREED)
        shares = []
        for p, s in zip(node.parents, node.grad_fn(g)):
            if not p.requires_grad:
                s = None
            elif s is not None and p.parents:  # not a leaf: add up its shares from every path
                pending[p] = s if p not in pending else pending[p] + s
            shares.append((p, s))
        yield node, g, shares


def run_backward(root: Tensor, grad: Any, retain_graph: bool,
                 to_leaf: Callable[[Tensor, Any, Any], None]) -> None:
    """:func:`backward_steps` and its consumer in ``Tensor.backward``, as one loop.

    Same order, same sums: each non-leaf node, children first, keeps its
    complete dL/dnode in ``.grad`` and hands ``grad_fn(dL/dnode)`` on; a
    non-leaf parent's shares are summed in ``pending`` until its turn, a
    leaf's go to ``to_leaf(leaf, share, dL/dnode)`` at once (so it can tell
    a share passed on unchanged from a new array). ``grad_fn`` is freed after
    use unless ``retain_graph``.
    """
    pending: dict[Tensor, Any] = {root: grad}
    pop = pending.pop
    for node in reversed(topological_order(root, leaves=False)):
        g = pop(node, None)
        if g is None:  # nothing reached it
            continue
        grad_fn = node.grad_fn
        if grad_fn is None:
            raise RuntimeError(_FREED)
        shares = grad_fn(g)
        node._grad = g
        if not retain_graph:
            node.grad_fn = None  # free what the forward pass saved
        for p, s in zip(node.parents, shares):
            if s is None or not p.requires_grad:
                continue
            if p.parents:
                old = pending.get(p)
                pending[p] = s if old is None else old + s
            else:
                to_leaf(p, s, g)


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

    Constants are included. Each node carries its op name, shape, value,
    gradient (after ``backward``) and the indices of its parents, so a viewer
    can walk it either way.
    """
    order = topological_order(root, keep_constants=True)
    index = {id(t): i for i, t in enumerate(order)}
    return [
        GraphNode(i, t.op, t.name, t.shape, t.data, t.grad,
                  [index[id(p)] for p in t.parents if id(p) in index], t)
        for i, t in enumerate(order)
    ]


__all__ = ["GraphNode", "Share", "backward_steps", "list_graph", "run_backward",
           "topological_order"]
