"""descent's autograd engine: PyTorch's names and habits, written in NumPy.

    from descent_tui.engine import Tensor, no_grad, functional as F, nn, optim

    w = Tensor([1.0, -2.0], requires_grad=True)
    loss = (w ** 2).sum()
    loss.backward()          # w.grad == [2, -4]
"""

from . import functional, nn, optim
from .gradcheck import GradcheckResult, gradcheck, numerical_gradient
from .graph import GraphNode, backward_steps, list_graph, topological_order
from .hessian import hessian
from .tensor import (
    Tensor,
    as_tensor,
    concatenate,
    is_grad_enabled,
    maximum,
    no_grad,
    stack,
)

__all__ = [
    "GradcheckResult",
    "GraphNode",
    "Tensor",
    "as_tensor",
    "backward_steps",
    "concatenate",
    "functional",
    "gradcheck",
    "hessian",
    "is_grad_enabled",
    "list_graph",
    "maximum",
    "nn",
    "no_grad",
    "numerical_gradient",
    "optim",
    "stack",
    "topological_order",
]
