"""The Tensor: an ndarray that remembers how it was made, so blame can flow back.

Every operation below is written the same way, micrograd-style but over whole
arrays: compute the forward value, and right beside it define ``grad_fn``, the
op's local derivative. ``grad_fn(g)`` receives the gradient of the loss with
respect to the op's output (``g`` = dL/dout) and hands each parent its share by
the chain rule::

    dL/d(parent) = dL/d(out) · d(out)/d(parent)

It returns one share per parent (``None`` where a parent needs none), each
summed back to that parent's shape when NumPy broadcast it (see
``unbroadcast``): either ``g`` itself or a new array for that parent alone.
A Python number on the other side of an op is a constant, not a node: it is
part of the op's name (``2 * x`` is "mul(2)").

``backward()`` walks the graph from the loss back to the leaves (the walk
itself lives in :mod:`.graph`, where the inspector reads it too). Gradients of
leaves *accumulate* across calls, exactly as in PyTorch, until ``zero_grad()``
clears them.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any, Literal, NamedTuple

import numpy as np

from .grad_array import GradArray
from .graph import run_backward

#: An op's local derivative: dL/d(out) -> one share of it per parent (None: no share).
GradFn = Callable[[Any], Sequence[Any]]

_grad_enabled = True
_NUMBER = (int, float)


def is_grad_enabled() -> bool:
    return _grad_enabled


class no_grad:
    """Context manager (and decorator): operations inside record no graph.

    Use it for updates and evaluation, as in PyTorch::

        with no_grad():
            w.data -= lr * w.grad
    """

    def __enter__(self) -> None:
        global _grad_enabled
        self._outer = _grad_enabled
        _grad_enabled = False

    def __exit__(self, *exc: object) -> Literal[False]:
        global _grad_enabled
        _grad_enabled = self._outer
        return False

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return fn(*args, **kwargs)

        wrapper.__name__ = getattr(fn, "__name__", "wrapper")
        wrapper.__doc__ = getattr(fn, "__doc__", None)
        return wrapper


def unbroadcast(grad: Any, shape: tuple) -> Any:
    """Sum ``grad`` back down to ``shape``, undoing NumPy broadcasting.

    If ``b`` of shape (3,) was added to every row of a (4, 3) array, each of its
    entries touched 4 outputs, so its gradient is the sum over those 4 rows.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _float_array(data: Any, dtype: Any = None) -> np.ndarray:
    """``data`` as a float array of the tensor's own (float64 unless told)."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=dtype)
    arr = np.asarray(data)
    if arr.dtype == np.float64 or arr.dtype == np.float32:
        return np.array(arr, copy=True) if arr is data else arr
    return arr.astype(np.float64)


class Tensor:
    """An n-dimensional array of numbers that can carry a gradient.

    ``Tensor(data, requires_grad=False, dtype=None)`` wraps ``data`` as a NumPy
    array (float64 by default; float32 allowed). Set ``requires_grad=True`` on a
    knob you want to turn: after ``loss.backward()`` its ``.grad`` holds
    dL/dknob, an array of the knob's own shape.

    A tensor made by an operation remembers the operation's name (``op``), its
    inputs (``parents``) and its local derivative (``grad_fn``), so the graph
    can be drawn, inspected and walked backwards. A leaf has ``op == ''``,
    no parents and ``grad_fn is None``.
    """

    __slots__ = ("__weakref__", "_data", "_grad", "grad_fn", "name", "op", "parents",
                 "requires_grad")
    __array_priority__ = 1000  # make `ndarray * Tensor` call Tensor.__rmul__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self._data: Any = _float_array(data, dtype)
        self._grad: Any = None
        self.requires_grad = requires_grad
        self.parents: tuple[Tensor, ...] = ()
        self.op = ""
        self.grad_fn: GradFn | None = None
        self.name: str | None = None

    # ----------------------------------------------------------------- basics
    def _set_data(self, value: Any) -> None:
        """``p.data = t``: p's numbers become t's, as in PyTorch.

        p keeps being the same tensor: the same leaf, with its ``requires_grad``
        and its ``.grad``. It takes t's array itself, not a copy, as PyTorch's
        p shares t's storage. A NumPy array is taken as it is.
        """
        if isinstance(value, Tensor):
            value = value._data
        elif not isinstance(value, (np.ndarray, np.generic)):
            raise TypeError(
                f"Tensor.data has to be a tensor (or a NumPy array), but got "
                f"{type(value).__name__}: as in PyTorch, write p.data = torch.tensor(...), "
                f"or change p's numbers in place under `with torch.no_grad():`")
        self._data = value

    # attrgetter("_data") reads self._data, as ``lambda self: self._data`` would
    data = property(attrgetter("_data"), _set_data,
                    doc="The numbers: a NumPy array (float64 unless asked for float32).")
    # the array's own attributes, read through
    shape = property(attrgetter("_data.shape"), doc="The length of each axis: () for a number.")
    dtype = property(attrgetter("_data.dtype"), doc="float64, or float32 if asked for.")
    ndim = property(attrgetter("_data.ndim"), doc="The number of axes.")

    @property
    def grad(self) -> Any:
        """dL/dself after ``backward()`` (None before): an array of this tensor's shape.

        The engine keeps the gradient in ``_grad``, a plain NumPy array, and
        works on it there (backward adds into it, the optimizers read it).
        What you read here is a view of that array, a :class:`GradArray`: the
        same numbers, answering PyTorch's in-place calls, so that
        ``p.grad.zero_()`` forgets the gradient as it does in PyTorch.
        """
        g = self._grad
        return None if g is None else np.asarray(g).view(GradArray)

    @grad.setter
    def grad(self, value: Any) -> None:
        """``p.grad = g``: an array (or Tensor) of p's shape, or None to forget it."""
        if value is not None:
            value = np.asarray(value.data if isinstance(value, Tensor) else value)
            if value.shape != self.shape:
                raise RuntimeError(f"assigned grad has shape {value.shape}, but the tensor "
                                   f"has shape {self.shape}")
        self._grad = value

    @property
    def is_leaf(self) -> bool:
        """True for an input or a knob: made by no op, so it has no parents."""
        return not self.parents

    def item(self) -> float:
        return self.data.item()

    def numpy(self) -> np.ndarray:
        return self.data

    def detach(self) -> Tensor:
        """The same numbers, cut off from the graph (no gradient flows through)."""
        return from_op(self.data, (), "", None)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        extra = f", op={self.op!r}" if self.op else ""
        rg = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(np.asarray(self.data), precision=4)}{rg}{extra})"

    # ------------------------------------------------------------ backward
    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Backpropagate: add dL/dleaf into ``.grad`` of every leaf this tensor depends on.

        The walk visits each node once, after every node that used it, and
        hands each parent its share: the steps of :func:`.graph.backward_steps`,
        run by :func:`.graph.run_backward` in one loop. Leaves accumulate
        (``grad += new``) across calls until zeroed; that is why training
        loops call ``optimizer.zero_grad()`` first. Each node's ``grad_fn`` is
        freed on the way; pass ``retain_graph=True`` to walk the graph again.
        Intermediate nodes keep their dL/dnode in ``.grad``.
        ``gradient`` is dL/dself for a non-scalar ``self``, as in PyTorch.
        """
        grad = self._seed(gradient)
        if self.is_leaf:  # backward() on a leaf: dL/dL = 1 lands in its own .grad
            _accumulate(self, grad, grad)
            return
        run_backward(self, grad, retain_graph, _accumulate)

    def _seed(self, grad: Any) -> np.ndarray:
        """The gradient backward() starts from: dL/dL = 1, or the caller's ``grad``."""
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: nothing in its "
                "graph has requires_grad=True"
            )
        d = self.data
        if grad is None:
            if d.size != 1:
                raise RuntimeError(
                    f"backward() needs a gradient argument for a non-scalar output "
                    f"(shape {self.shape}); call .sum() or .mean() first, or pass gradient="
                )
            # dL/dL = 1: for a 0-d loss a NumPy scalar, as NumPy's 0-d arithmetic returns
            return d.dtype.type(1.0) if d.ndim == 0 else np.ones(d.shape, d.dtype)
        grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
        if grad.shape != self.shape:
            raise RuntimeError(f"backward(): grad has shape {grad.shape}, expected {self.shape}")
        return grad

    # ----------------------------------------------------------- arithmetic
    # A Python number is made a Python float, a "weak" scalar: np.float64
    # would turn a float32 tensor into float64.

    def __add__(self, other: Any) -> Tensor:
        if isinstance(other, _NUMBER):
            c = float(other)  # d(a+c)/da = 1
            return from_op(self.data + c, (self,), f"add({c:g})", lambda g: (g,))
        a = self.data
        other = as_tensor(other, a.dtype)
        b = other.data

        def grad_fn(g):  # d(a+b)/da = 1, d(a+b)/db = 1
            return unbroadcast(g, a.shape), unbroadcast(g, b.shape)

        return from_op(a + b, (self, other), "add", grad_fn)

    __radd__ = __add__

    def __sub__(self, other: Any) -> Tensor:
        if isinstance(other, _NUMBER):
            return self + (-float(other))
        a = self.data
        other = as_tensor(other, a.dtype)
        b = other.data

        def grad_fn(g):  # d(a-b)/da = 1, d(a-b)/db = -1
            return unbroadcast(g, a.shape), unbroadcast(-g, b.shape)

        return from_op(a - b, (self, other), "sub", grad_fn)

    def __rsub__(self, other: Any) -> Tensor:
        if isinstance(other, _NUMBER):
            c = float(other)
            return from_op(c - self.data, (self,), f"rsub({c:g})", _negate)
        return as_tensor(other, self.dtype) - self

    def __neg__(self) -> Tensor:
        return from_op(-self.data, (self,), "neg", _negate)

    def __mul__(self, other: Any) -> Tensor:
        if isinstance(other, _NUMBER):
            c = float(other)  # d(c·a)/da = c
            return from_op(self.data * c, (self,), f"mul({c:g})", lambda g: (g * c,))
        a = self.data
        other = as_tensor(other, a.dtype)
        b = other.data

        def grad_fn(g):  # d(ab)/da = b, d(ab)/db = a
            ga = unbroadcast(g * b, a.shape) if self.requires_grad else None
            gb = unbroadcast(g * a, b.shape) if other.requires_grad else None
            return ga, gb

        return from_op(a * b, (self, other), "mul", grad_fn)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Tensor:
        if isinstance(other, _NUMBER):
            c = float(other)  # d(a/c)/da = 1/c
            return from_op(self.data / c, (self,), f"div({c:g})", lambda g: (g / c,))
        a = self.data
        other = as_tensor(other, a.dtype)
        b = other.data

        def grad_fn(g):  # d(a/b)/da = 1/b, d(a/b)/db = -a/b²
            ga = unbroadcast(g / b, a.shape) if self.requires_grad else None
            gb = unbroadcast(-g * a / (b * b), b.shape) if other.requires_grad else None
            return ga, gb

        return from_op(a / b, (self, other), "div", grad_fn)

    def __rtruediv__(self, other: Any) -> Tensor:
        if isinstance(other, _NUMBER):
            c = float(other)
            a = self.data

            def grad_fn(g):  # d(c/a)/da = -c/a²
                return (-g * c / (a * a),)

            return from_op(c / a, (self,), f"rdiv({c:g})", grad_fn)
        return as_tensor(other, self.dtype) / self

    def __pow__(self, other: Any) -> Tensor:
        if not isinstance(other, (int, float, np.number)):
            return self._pow_tensor(as_tensor(other, self.dtype))
        p = float(other)
        a = self.data
        if p == 2.0:  # the square, a·a, by far the commonest power: d(a²)/da = 2a
            return from_op(a * a, (self,), "pow2", lambda g: (g * 2.0 * a,))

        def grad_fn(g):  # d(a^p)/da = p·a^(p-1); for p = 0 it is 0, even at a = 0
            return (g * p * a ** (p - 1) if p != 0.0 else np.zeros_like(g * a),)

        return from_op(a ** p, (self,), f"pow{p:g}", grad_fn)

    def _pow_tensor(self, other: Tensor) -> Tensor:
        a, b = self.data, other.data
        val = a ** b

        def grad_fn(g):  # d(a^b)/da = b·a^(b-1) (0 where b = 0), d(a^b)/db = a^b·ln a
            ga = None
            if self.requires_grad:
                with np.errstate(divide="ignore", invalid="ignore"):
                    ga = unbroadcast(np.where(b == 0, 0.0, g * b * a ** (b - 1)), a.shape)
            gb = unbroadcast(g * val * np.log(a), b.shape) if other.requires_grad else None
            return ga, gb

        return from_op(val, (self, other), "pow", grad_fn)

    def __rpow__(self, other: Any) -> Tensor:
        return as_tensor(other, self.dtype)._pow_tensor(self)

    def __matmul__(self, other: Any) -> Tensor:
        other = as_tensor(other, self.dtype)
        A, B = self.data, other.data

        def grad_fn(g):  # d(AB)/dA = g Bᵀ, d(AB)/dB = Aᵀ g
            if A.ndim == 1 and B.ndim == 1:  # dot product: d(a·b)/da = b, d/db = a
                return g * B, g * A
            # as NumPy does: a 1-D left operand is a row, a 1-D right one a column
            A2 = A[None, :] if A.ndim == 1 else A
            B2 = B[:, None] if B.ndim == 1 else B
            G = np.expand_dims(g, -2) if A.ndim == 1 else g
            G = np.expand_dims(G, -1) if B.ndim == 1 else G
            ga = gb = None
            if self.requires_grad:
                ga = unbroadcast(G @ np.swapaxes(B2, -1, -2), A2.shape).reshape(A.shape)
            if other.requires_grad:
                gb = unbroadcast(np.swapaxes(A2, -1, -2) @ G, B2.shape).reshape(B.shape)
            return ga, gb

        return from_op(A @ B, (self, other), "matmul", grad_fn)

    def __rmatmul__(self, other: Any) -> Tensor:
        return as_tensor(other, self.dtype) @ self

    # --------------------------------------------------- elementwise funcs
    def exp(self) -> Tensor:
        val = np.exp(self.data)

        def grad_fn(g):  # d(e^a)/da = e^a
            return (g * val,)

        return from_op(val, (self,), "exp", grad_fn)

    def log(self) -> Tensor:
        a = self.data

        def grad_fn(g):  # d(ln a)/da = 1/a
            return (g / a,)

        return from_op(np.log(a), (self,), "log", grad_fn)

    def sqrt(self) -> Tensor:
        val = np.sqrt(self.data)

        def grad_fn(g):  # d√a/da = 1/(2√a)
            return (g * 0.5 / val,)

        return from_op(val, (self,), "sqrt", grad_fn)

    def abs(self) -> Tensor:
        a = self.data

        def grad_fn(g):  # d|a|/da = sign(a) (0 at 0, as PyTorch)
            return (g * np.sign(a),)

        return from_op(np.abs(a), (self,), "abs", grad_fn)

    __abs__ = abs

    def sin(self) -> Tensor:
        a = self.data

        def grad_fn(g):  # d sin a = cos a
            return (g * np.cos(a),)

        return from_op(np.sin(a), (self,), "sin", grad_fn)

    def cos(self) -> Tensor:
        a = self.data

        def grad_fn(g):  # d cos a = -sin a
            return (-g * np.sin(a),)

        return from_op(np.cos(a), (self,), "cos", grad_fn)

    def tanh(self) -> Tensor:
        val = np.tanh(self.data)

        def grad_fn(g):  # d tanh = 1 - tanh²
            return (g * (1.0 - val * val),)

        return from_op(val, (self,), "tanh", grad_fn)

    def sigmoid(self) -> Tensor:
        val = logistic(self.data)

        def grad_fn(g):  # dσ = σ(1-σ), at most 1/4
            return (g * val * (1.0 - val),)

        return from_op(val, (self,), "sigmoid", grad_fn)

    def relu(self) -> Tensor:
        a = self.data

        def grad_fn(g):  # 1 where a > 0, else 0 (a dead unit passes nothing back)
            return (np.where(a > 0, g, 0.0),)

        # max(a, 0), not `a * mask`: -inf * 0 would be nan (relu(-inf) is 0, relu(nan) nan)
        return from_op(np.maximum(a, 0.0), (self,), "relu", grad_fn)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        a = self.data
        slope = np.where(a > 0, 1.0, negative_slope).astype(a.dtype, copy=False)

        def grad_fn(g):  # the slope: 1 where a > 0, negative_slope elsewhere
            return (g * slope,)

        return from_op(a * slope, (self,), "leaky_relu", grad_fn)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Clamp into [min, max]; gradient is 1 inside the range, 0 where clipped."""
        a = self.data

        def grad_fn(g):  # 1 inside the range, 0 where clipped
            inside = np.ones_like(a, dtype=bool)
            if min is not None:
                inside &= a >= min
            if max is not None:
                inside &= a <= max
            return (g * inside,)

        return from_op(np.clip(a, min, max), (self,), "clip", grad_fn)

    def maximum(self, other: Any) -> Tensor:
        return maximum(self, other)

    # ------------------------------------------------------------ reductions
    def sum(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
            keepdim: bool | None = None) -> Tensor:
        """Sum over ``axis`` (PyTorch: ``dim``), or over everything."""
        axis, keepdims = _dims(self, axis, dim, keepdims, keepdim)
        shape = self.shape

        def grad_fn(g):  # every input element contributed once
            if axis is not None and not keepdims:
                g = np.expand_dims(g, _norm_axes(axis, len(shape)))
            return (np.broadcast_to(g, shape),)

        return from_op(np.asarray(self.data.sum(axis=axis, keepdims=keepdims)), (self,), "sum",
                       grad_fn)

    def mean(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
             keepdim: bool | None = None) -> Tensor:
        """Mean over ``axis`` (PyTorch: ``dim``), or over everything."""
        axis, keepdims = _dims(self, axis, dim, keepdims, keepdim)
        shape = self.shape
        n = self.data.size if axis is None else int(
            np.prod([shape[i] for i in _norm_axes(axis, self.ndim)]))

        def grad_fn(g):  # each input moves the mean by 1/n
            if axis is not None and not keepdims:
                g = np.expand_dims(g, _norm_axes(axis, len(shape)))
            return (np.broadcast_to(g / n, shape),)

        return from_op(np.asarray(self.data.mean(axis=axis, keepdims=keepdims)), (self,), "mean",
                       grad_fn)

    def max(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Any:
        """Maximum; the gradient goes to the max entries (split evenly on ties).

        As in PyTorch: ``x.max()`` is a number, ``x.max(dim)`` the pair
        ``(values, indices)`` along ``dim``, ``x.max(other)`` the elementwise
        maximum. NumPy's ``x.max(axis=...)`` gives just the values.
        """
        if isinstance(dim, Tensor):
            return maximum(self, dim)
        if dim is not None:
            return _values_indices(self.max(axis=dim, keepdims=keepdim), self, dim, keepdim,
                                   np.argmax)
        axis, keepdims = _dims(self, axis, None, keepdims, None)
        a = self.data
        m = a.max(axis=axis, keepdims=True)
        val = m if keepdims else (m.reshape(()) if axis is None else np.squeeze(m, axis))

        def grad_fn(g):  # to the max entries, split evenly on ties
            mask = a == m
            count = mask.sum(axis=axis, keepdims=True)
            if not keepdims:
                g = g.reshape(m.shape)
            return ((g * mask / count).astype(a.dtype, copy=False),)

        return from_op(np.asarray(val), (self,), "max", grad_fn)

    # ---------------------------------------------------------------- shape
    def reshape(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        old = self.shape

        def grad_fn(g):  # the same numbers, back in the old shape
            return (g.reshape(old),)

        return from_op(self.data.reshape(shape), (self,), "reshape", grad_fn)

    def transpose(self, *axes: Any) -> Tensor:
        """``x.transpose(d0, d1)`` swaps two dimensions, as PyTorch's; a full
        permutation (or none: reverse them all) is NumPy's, as ``permute``."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if len(axes) == 2:
            swapped = list(range(self.ndim))
            swapped[axes[0]], swapped[axes[1]] = swapped[axes[1]], swapped[axes[0]]
            axes = tuple(swapped)
        perm = axes or None
        ndim = self.ndim

        def grad_fn(g):  # undo the permutation
            inv = None if perm is None else tuple(np.argsort([ax % ndim for ax in perm]))
            return (np.transpose(g, inv),)

        return from_op(np.transpose(self.data, perm), (self,), "transpose", grad_fn)

    @property
    def T(self) -> Tensor:
        return self.transpose()

    def __getitem__(self, idx: Any) -> Tensor:
        idx = _index(idx)
        shape, dtype = self.shape, self.dtype

        def grad_fn(g):  # scatter back; np.add.at sums repeated indices
            full = np.zeros(shape, dtype=dtype)
            np.add.at(full, idx, g)
            return (full,)

        return from_op(np.asarray(self.data[idx]), (self,), "index", grad_fn)

    # ------------------------------------------------- PyTorch's other names
    # What beginners' PyTorch code calls, built from the ops above: each is a
    # composition, so its derivative is theirs and needs no grad_fn of its own.

    def size(self, dim: int | None = None) -> Any:
        """The shape (PyTorch's ``torch.Size``), or the length of dimension ``dim``."""
        return self.shape if dim is None else self.shape[dim]

    def numel(self) -> int:
        """The number of entries."""
        return self.data.size

    def dim(self) -> int:
        return self.ndim

    def pow(self, exponent: Any) -> Tensor:
        return self ** exponent

    def matmul(self, other: Any) -> Tensor:
        return self @ other

    def view(self, *shape: Any) -> Tensor:
        """The same numbers in another shape (one dimension may be -1)."""
        return self.reshape(*shape)

    def unsqueeze(self, dim: int) -> Tensor:
        """A new dimension of length 1 at ``dim``: (3,) -> (1, 3) for dim 0."""
        return self.reshape(np.expand_dims(self.data, dim).shape)

    def squeeze(self, dim: int | None = None) -> Tensor:
        """Drop dimensions of length 1 (only ``dim``, if given and of length 1)."""
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        if self.ndim == 0 or self.shape[dim] != 1:
            return self.reshape(self.shape)
        return self.reshape(self.shape[:dim % self.ndim] + self.shape[dim % self.ndim + 1:])

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dimensions ``start_dim`` .. ``end_dim`` (inclusive) into one."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = start_dim % self.ndim, end_dim % self.ndim
        return self.reshape(self.shape[:start] + (-1,) + self.shape[end + 1:])

    def permute(self, *dims: Any) -> Tensor:
        """Reorder all dimensions: ``x.permute(2, 0, 1)``."""
        return self.transpose(tuple(dims[0]) if len(dims) == 1 else dims)

    def t(self) -> Tensor:
        return self.transpose()

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Any:
        """Minimum, as :meth:`max`: ``min(x) = -max(-x)``."""
        if isinstance(dim, Tensor):
            return -maximum(-self, -dim)
        if dim is not None:
            return _values_indices(self.min(axis=dim, keepdims=keepdim), self, dim, keepdim,
                                   np.argmin)
        return -(-self).max(axis=axis, keepdims=keepdims)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Index of the largest entry (of the flattened tensor if no ``dim``); no gradient."""
        return _integers(np.argmax(self.data, axis=dim, keepdims=keepdim))

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return _integers(np.argmin(self.data, axis=dim, keepdims=keepdim))

    def var(self, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
            correction: int | None = None) -> Tensor:
        """Variance, Σ(x - mean)² / (n - 1): Bessel's correction, PyTorch's default."""
        if correction is None:
            correction = 1 if unbiased else 0
        axis, _ = _dims(self, None, dim, False, None)
        n = self.data.size if axis is None else int(
            np.prod([self.shape[i] for i in _norm_axes(axis, self.ndim)]))
        centred = self - self.mean(axis=axis, keepdims=True)
        return (centred * centred).sum(axis=axis, keepdims=keepdim) / float(n - correction)

    def std(self, dim: Any = None, unbiased: bool = True, keepdim: bool = False, *,
            correction: int | None = None) -> Tensor:
        """Standard deviation: the square root of :meth:`var`."""
        return self.var(dim, unbiased, keepdim, correction=correction).sqrt()

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        return self.clip(min, max)

    def tolist(self) -> Any:
        return self.data.tolist()

    def float(self) -> Tensor:
        """The same numbers as float32 (PyTorch's ``float``); gradients flow through."""
        return self._cast(np.float32)

    def double(self) -> Tensor:
        """The same numbers as float64; gradients flow through."""
        return self._cast(np.float64)

    def long(self) -> Tensor:
        return _integers(self.data.astype(np.int64))

    def _cast(self, dtype: Any) -> Tensor:
        if self.data.dtype == dtype:
            return self
        src = self.data.dtype if self.data.dtype.kind == "f" else np.float64

        def grad_fn(g):  # the identity, back in the source's precision
            return (g.astype(src),)

        return from_op(np.asarray(self.data, dtype=dtype), (self,), "cast", grad_fn)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``.to(device)`` is a no-op (one CPU); ``.to(dtype)`` casts."""
        for a in (*args, kwargs.get("dtype")):
            if isinstance(a, type) and issubclass(a, np.floating):
                return self._cast(a)
        return self

    def cpu(self) -> Tensor:
        return self

    def clone(self) -> Tensor:
        """A copy of the numbers that stays in the graph (gradient: the identity)."""
        return from_op(np.array(self.data, copy=True), (self,), "clone", lambda g: (g,))

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Turn gradient tracking on (or off) for this leaf, in place."""
        if self.parents:
            raise RuntimeError("requires_grad_() works on leaves only; use .detach() first")
        self.requires_grad = requires_grad
        return self

    def zero_(self) -> Tensor:
        """Set every entry to 0, in place (the gradient-free way to reset a tensor)."""
        return self._assign(np.zeros_like(self.data))

    # --------------------------------------------- numbers and comparisons
    def __float__(self) -> builtins.float:  # the builtin: the class defines float() above
        return builtins.float(self._one_value("float"))

    def __int__(self) -> int:
        return int(self._one_value("int"))

    def __bool__(self) -> bool:
        return bool(self._one_value("bool"))

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self._one_value("index"))

    def __format__(self, spec: str) -> str:
        """A 0-d (or one-entry) tensor formats as its number: ``f"{loss:.3f}"``."""
        if self.data.size == 1 and spec:
            return format(self.data.item(), spec)
        return format(str(self), spec)

    def _one_value(self, what: str) -> Any:
        if self.data.size != 1:
            raise RuntimeError(f"{what}() of a tensor with {self.data.size} values is "
                               "ambiguous: use .item() on a one-value tensor, or .any()/.all()")
        return self.data.item()

    def _compare(self, other: Any, ufunc: Any) -> Any:
        """An elementwise comparison: a boolean tensor, outside the graph."""
        if isinstance(other, Tensor):
            other = other.data
        elif not isinstance(other, (int, float, bool, np.ndarray, np.number, list, tuple)):
            return NotImplemented
        return from_op(np.asarray(ufunc(self.data, other)), (), "", None)

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return self._compare(other, np.not_equal)

    def __lt__(self, other: Any) -> Any:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Any:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Any:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Any:
        return self._compare(other, np.greater_equal)

    #: a tensor is a node: it hashes (and sits in sets and dicts) by identity, as in PyTorch
    __hash__ = object.__hash__

    def any(self) -> Tensor:
        return from_op(np.asarray(self.data.any()), (), "", None)

    def all(self) -> Tensor:
        return from_op(np.asarray(self.data.all()), (), "", None)

    # --------------------------------------------------- in-place updates
    # ``p -= lr * p.grad`` under no_grad changes p's own numbers, as in PyTorch,
    # so that the optimizer, the model and every other name for p see the step.

    def __iadd__(self, other: Any) -> Tensor:
        return self._in_place(other, np.add, Tensor.__add__, "+")

    def __isub__(self, other: Any) -> Tensor:
        return self._in_place(other, np.subtract, Tensor.__sub__, "-")

    def __imul__(self, other: Any) -> Tensor:
        return self._in_place(other, np.multiply, Tensor.__mul__, "*")

    def __itruediv__(self, other: Any) -> Tensor:
        return self._in_place(other, np.divide, Tensor.__truediv__, "/")

    def _in_place(self, other: Any, ufunc: Any, op: Any, sign: str) -> Tensor:
        """``self (sign)= other``.

        Recording nothing (under ``no_grad``, or where nothing needs a
        gradient) it writes into ``self``. Inside the graph, a leaf that
        requires grad refuses, as in PyTorch; any other tensor gets the result
        as a new node (``x = x + y``), so the chain rule still sees every step.
        """
        value = other.data if isinstance(other, Tensor) else other
        if _grad_enabled and (self.requires_grad or getattr(other, "requires_grad", False)):
            if self.requires_grad and not self.parents:
                raise RuntimeError(
                    f"a leaf tensor that requires grad is being used in an in-place operation "
                    f"({sign}=): update parameters under `with torch.no_grad():`, as in PyTorch")
            return op(self, other)
        return self._assign(ufunc(self.data, value))

    def _assign(self, values: Any) -> Tensor:
        """Write ``values`` into this tensor's own array (keeping its dtype and shape)."""
        values = np.asarray(values)
        if values.shape != self.shape:
            raise RuntimeError(f"in-place result has shape {values.shape}, but the tensor "
                               f"has shape {self.shape}")
        if isinstance(self.data, np.ndarray) and self.data.flags.writeable:
            np.copyto(self.data, values, casting="same_kind")
        else:  # a NumPy scalar or a read-only view: this tensor gets an array of its own
            self._data = np.array(values, dtype=self.data.dtype)
        return self


def from_op(data: Any, parents: tuple[Tensor, ...], op: str, grad_fn: GradFn | None) -> Tensor:
    """The tensor an op returns: its value ``data`` (used as it is, no copy).

    It joins the graph, remembering ``parents``, ``op`` and the op's local
    derivative ``grad_fn``, when grad mode is on and some parent requires
    grad; otherwise it is a plain leaf, as in PyTorch under ``no_grad``.
    """
    out = Tensor.__new__(Tensor)  # __init__ would copy data; an op's result is already its own
    out._data = data
    out._grad = out.name = None
    if _grad_enabled:
        for p in parents:
            if p.requires_grad:  # someone will ask for dL/dp: remember how out was made
                out.requires_grad = True
                out.parents = parents
                out.op = op
                out.grad_fn = grad_fn
                return out
    out.requires_grad, out.parents, out.op, out.grad_fn = False, (), "", None
    return out


def _negate(g: Any) -> tuple:  # d(-a)/da = -1, and so is d(c-a)/da
    return (-g,)


def _accumulate(leaf: Tensor, g: Any, passed: Any) -> None:
    """``leaf.grad += g``, as PyTorch does until zero_grad().

    Editing one ``.grad`` in place must never change another array, so the
    first gradient is kept as it is only when it is the leaf's alone: an
    array the op's ``grad_fn`` made for this parent. It is copied when it
    may also be someone else's: ``passed`` on unchanged (the node's own
    dL/dnode, as ``a + b`` hands it to both sides, or the caller's seed), or
    a view of another array (such as the read-only one ``sum``'s backward
    broadcasts). (A ``grad_fn`` returns either what it was given or a new
    array per parent; a new array is writeable.) ``.grad`` is always an array.
    """
    old = leaf._grad
    if old is not None:
        leaf._grad = np.asarray(old + g)
    elif type(g) is np.ndarray and g is not passed and g.base is None:
        leaf._grad = g
    else:
        leaf._grad = np.array(g)


def _dims(t: Tensor, axis: Any, dim: Any, keepdims: Any, keepdim: Any) -> tuple[Any, bool]:
    """The axes and keep-flag of a reduction, from NumPy's names or PyTorch's.

    ``dim`` may be a list; dimension 0 (or -1) of a 0-d tensor is the tensor
    itself, as in PyTorch.
    """
    axis = dim if axis is None else axis
    if isinstance(axis, list):
        axis = tuple(axis)
    if t.ndim == 0 and axis is not None:
        if any(a not in (0, -1) for a in (axis if isinstance(axis, tuple) else (axis,))):
            raise IndexError(f"Dimension out of range (expected to be in [-1, 0], got {axis})")
        axis = None
    return axis, bool(keepdims if keepdim is None else keepdim)


def _integers(values: Any) -> Tensor:
    """A tensor of integers (indices, counts): outside the graph."""
    return from_op(np.asarray(values, dtype=np.int64), (), "", None)


def _values_indices(values: Tensor, t: Tensor, dim: int, keepdim: bool, arg: Any) -> Any:
    """PyTorch's ``(values, indices)`` pair of ``max(dim)`` / ``min(dim)``."""
    return MinMax(values, _integers(arg(t.data, axis=dim, keepdims=keepdim)))


class MinMax(NamedTuple):
    """What ``x.max(dim)`` returns: the values and where they are (``.indices``)."""

    values: Tensor
    indices: Tensor


def _index(idx: Any) -> Any:
    """An index for the data: integer tensors as integers, a boolean tensor as a mask.

    A float tensor used as an index means integers (as in the engine's early
    days, when every tensor held floats); a tuple may hold tensors too.
    """
    if isinstance(idx, tuple):
        return tuple(_index(i) for i in idx)
    if not isinstance(idx, Tensor):
        return idx
    if idx.data.dtype == np.bool_:
        return idx.data
    return idx.data.astype(np.intp)


def _norm_axes(axis: Any, ndim: int) -> tuple:
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(sorted(a % ndim for a in axes))


def logistic(x: Any) -> Any:
    """σ(x) = 1 / (1 + e^-x) on plain arrays.

    For x << 0, e^-x overflows to inf and 1/(1+inf) = 0: still the right
    answer, so the overflow is expected and kept quiet.
    """
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def as_tensor(x: Any, dtype: Any = None) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x, dtype=dtype)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise max; on ties the gradient is split evenly, as in PyTorch."""
    a = as_tensor(a)
    b = as_tensor(b, a.dtype)
    ad, bd = a.data, b.data

    def grad_fn(g):  # to the larger of the two; a tie splits it evenly
        wa = ((ad > bd) + 0.5 * (ad == bd)).astype(g.dtype, copy=False)
        return unbroadcast(g * wa, ad.shape), unbroadcast(g * (1.0 - wa), bd.shape)

    return from_op(np.maximum(ad, bd), (a, b), "maximum", grad_fn)


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; each gets back its own slice of grad."""
    parts = tuple(as_tensor(t) for t in tensors)
    cuts = np.cumsum([t.shape[axis] for t in parts])[:-1]

    def grad_fn(g):  # each input gets back its own slice
        return tuple(np.split(g, cuts, axis=axis))

    return from_op(np.concatenate([t.data for t in parts], axis=axis), parts, "concat", grad_fn)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Stack tensors along a new axis; each gets back its own layer of grad."""
    parts = tuple(as_tensor(t) for t in tensors)

    def grad_fn(g):  # each input gets back its own layer
        return tuple(np.take(g, i, axis=axis) for i in range(len(parts)))

    return from_op(np.stack([t.data for t in parts], axis=axis), parts, "stack", grad_fn)
