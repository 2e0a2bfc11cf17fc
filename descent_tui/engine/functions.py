"""PyTorch's top-level functions (``torch.exp(x)``, ``torch.sum(x, dim=0)``...).

Each is the tensor method of the same name, so its derivative is the method's.
Arrays and numbers are made tensors first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .tensor import Tensor, as_tensor, concatenate, from_op, maximum, unbroadcast
from .tensor import stack as _stack

__all__ = [
    "abs",
    "argmax",
    "cat",
    "clamp",
    "cos",
    "exp",
    "flatten",
    "from_numpy",
    "is_tensor",
    "log",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "numel",
    "permute",
    "pow",
    "relu",
    "reshape",
    "sigmoid",
    "sin",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "sum",
    "tanh",
    "transpose",
    "unsqueeze",
    "var",
    "where",
]

maximum = maximum  # torch.maximum(a, b): the elementwise larger, from .tensor



def exp(x: Any) -> Tensor:
    return as_tensor(x).exp()


def log(x: Any) -> Tensor:
    return as_tensor(x).log()


def sin(x: Any) -> Tensor:
    return as_tensor(x).sin()


def cos(x: Any) -> Tensor:
    return as_tensor(x).cos()


def tanh(x: Any) -> Tensor:
    return as_tensor(x).tanh()


def sigmoid(x: Any) -> Tensor:
    return as_tensor(x).sigmoid()


def relu(x: Any) -> Tensor:
    return as_tensor(x).relu()


def sqrt(x: Any) -> Tensor:
    return as_tensor(x).sqrt()


def abs(x: Any) -> Tensor:
    return as_tensor(x).abs()


def pow(x: Any, exponent: Any) -> Tensor:
    return as_tensor(x) ** exponent


def matmul(a: Any, b: Any) -> Tensor:
    return as_tensor(a) @ b


def sum(x: Any, dim: Any = None, keepdim: bool = False) -> Tensor:
    return as_tensor(x).sum(dim=dim, keepdim=keepdim)


def mean(x: Any, dim: Any = None, keepdim: bool = False) -> Tensor:
    return as_tensor(x).mean(dim=dim, keepdim=keepdim)


def max(x: Any, dim: Any = None, keepdim: bool = False) -> Any:
    return as_tensor(x).max(dim, keepdim)


def min(x: Any, dim: Any = None, keepdim: bool = False) -> Any:
    return as_tensor(x).min(dim, keepdim)


def argmax(x: Any, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return as_tensor(x).argmax(dim, keepdim)


def var(x: Any, dim: Any = None, unbiased: bool = True, keepdim: bool = False) -> Tensor:
    return as_tensor(x).var(dim, unbiased, keepdim)


def std(x: Any, dim: Any = None, unbiased: bool = True, keepdim: bool = False) -> Tensor:
    return as_tensor(x).std(dim, unbiased, keepdim)


def clamp(x: Any, min: float | None = None, max: float | None = None) -> Tensor:
    return as_tensor(x).clip(min, max)


def reshape(x: Any, shape: Any) -> Tensor:
    return as_tensor(x).reshape(shape)


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return as_tensor(x).flatten(start_dim, end_dim)


def unsqueeze(x: Any, dim: int) -> Tensor:
    return as_tensor(x).unsqueeze(dim)


def squeeze(x: Any, dim: int | None = None) -> Tensor:
    return as_tensor(x).squeeze(dim)


def transpose(x: Any, dim0: int, dim1: int) -> Tensor:
    return as_tensor(x).transpose(dim0, dim1)


def permute(x: Any, dims: Any) -> Tensor:
    return as_tensor(x).permute(dims)


def numel(x: Tensor) -> int:
    return x.numel()


def cat(tensors: Sequence[Any], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing dimension (PyTorch's ``cat``)."""
    return concatenate(tensors, axis=dim if axis is None else axis)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """``x`` where ``condition`` holds, else ``y``; each gets gradient where it was chosen."""
    mask = np.asarray(condition.data if isinstance(condition, Tensor) else condition, bool)
    x = as_tensor(x)
    y = as_tensor(y, x.dtype)

    def grad_fn(g):  # the chosen side gets g, the other 0
        return (unbroadcast(np.where(mask, g, 0.0), x.shape),
                unbroadcast(np.where(mask, 0.0, g), y.shape))

    return from_op(np.where(mask, x.data, y.data), (x, y), "where", grad_fn)


def stack(tensors: Sequence[Any], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Stack tensors along a new dimension (``axis=``, NumPy's name, also works)."""
    return _stack(tensors, axis=dim if axis is None else axis)


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor of ``array``'s numbers (a copy here; PyTorch shares the memory)."""
    return Tensor(array, dtype=array.dtype if array.dtype.kind == "f" else None)
