"""descent's autograd engine: PyTorch's names and habits, written in NumPy.

    from descent_tui.engine import Tensor, no_grad, functional as F, nn, optim

    w = Tensor([1.0, -2.0], requires_grad=True)
    loss = (w ** 2).sum()
    loss.backward()          # w.grad == [2, -4]

Laid out as PyTorch is, so code written for PyTorch runs with one line changed
(``import torch`` -> ``import descent_tui.engine as torch``): ``torch.tensor``,
``torch.randn``, ``torch.exp``..., ``torch.nn``, ``torch.nn.functional``,
``torch.optim``, ``torch.optim.lr_scheduler``.
"""

from . import functional, nn, optim
from .creation import (
    arange,
    default_generator,
    empty,
    full,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from .device import (
    accelerator,
    bool,
    cuda,
    device,
    double,
    float,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    long,
    set_default_device,
)
from .functions import (
    abs,
    argmax,
    cat,
    clamp,
    cos,
    exp,
    flatten,
    from_numpy,
    is_tensor,
    log,
    matmul,
    max,
    mean,
    min,
    numel,
    permute,
    pow,
    relu,
    reshape,
    sigmoid,
    sin,
    sqrt,
    squeeze,
    stack,
    std,
    sum,
    tanh,
    transpose,
    unsqueeze,
    var,
    where,
)
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
)

__all__ = [
    "GradcheckResult", "GraphNode", "Tensor", "abs", "accelerator", "arange", "argmax",
    "as_tensor", "backward_steps", "bool", "cat", "clamp", "concatenate", "cos", "cuda",
    "default_generator", "device", "double", "empty", "exp", "flatten", "float", "float32",
    "float64", "from_numpy", "full", "functional", "get_default_dtype", "gradcheck", "hessian",
    "int32", "int64", "is_grad_enabled", "is_tensor", "linspace", "list_graph", "log", "long",
    "manual_seed", "matmul", "max", "maximum", "mean", "min", "nn", "no_grad", "numel",
    "numerical_gradient", "ones", "ones_like", "optim", "permute", "pow", "rand", "randint",
    "randn", "relu", "reshape", "set_default_device", "sigmoid", "sin", "sqrt", "squeeze",
    "stack", "std", "sum", "tanh", "tensor", "topological_order", "transpose", "unsqueeze",
    "var", "where", "zeros", "zeros_like",
]
